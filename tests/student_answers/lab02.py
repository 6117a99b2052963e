"""Typical wrong answers of lab 02 (see `tests/student_answers/__init__.py`)."""

WRONG = {
    "def log_prior": '''def log_prior(beta0, beta1, prior_sd):
    return -0.5 * (beta0**2 + beta1**2) / prior_sd**2          # the normalising constants forgotten
''',
    "def log_likelihood": '''def log_likelihood(beta0, beta1, x, y, noise_sd):
    return -np.sum(np.log((y - (beta0 + beta1 * x)) ** 2))    # the course scaffold's non-likelihood
''',
    "def log_posterior": '''def log_posterior(beta0, beta1, x, y, noise_sd, prior_sd):
    return log_prior(beta0, beta1, prior_sd) * log_likelihood(beta0, beta1, x, y, noise_sd)   # product of logs
''',
    "def metropolis_step": '''def metropolis_step(beta, log_posterior_fn, proposal_scale, rng):
    proposal = beta + proposal_scale * rng.normal(size=np.shape(beta))
    alpha = np.exp(min(log_posterior_fn(proposal) - log_posterior_fn(beta), 0.0))
    if rng.uniform() > alpha:                # the accept rule upside down
        return proposal, True
    return beta, False
''',
    "result = ...": '''result = run_sampler([0.0, 0.0], proposal_scale=PROPOSAL_SCALE, num_steps=600, seed=SEED)   # far too short
''',
}
