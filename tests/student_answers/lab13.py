"""Typical wrong answers for lab 13's student copy (tests/test_labs.py)."""

WRONG = {
    "def sgld_step(": '''def sgld_step(theta, grad_log_prior, grad_log_lik, num_data, step_size, noise):
    # the minibatch gradient averaged, not scaled up to the whole data set (N / n times the sum)
    drift = grad_log_prior + grad_log_lik.mean(axis=0)
    return theta + 0.5 * step_size * drift + np.sqrt(step_size) * noise
''',
    "def mixture_predictive(": '''def mixture_predictive(locs, scales):
    # only the members' own noise: their disagreement is left out
    return locs.mean(axis=0), np.mean(scales**2, axis=0)
''',
}
