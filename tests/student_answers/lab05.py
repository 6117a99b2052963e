"""Typical wrong answers for lab 05's student copy (tests/test_labs.py)."""

WRONG = {
    "def kl_gaussian(": '''def kl_gaussian(q_mean, q_sd, p_mean, p_sd):
    # the sds swapped: the denominator should be the prior's (p's) variance
    return np.log(p_sd / q_sd) + (q_sd**2 + (q_mean - p_mean) ** 2) / (2 * q_sd**2) - 0.5
''',
    "def elbo_estimate(": '''def elbo_estimate(q_mean, q_sd, eps, x, y, noise_sd, prior_sd):
    # forgot to subtract the KL from the prior
    w = q_mean[None, :] + q_sd[None, :] * eps
    mu = w[:, 0:1] + w[:, 1:2] * x[None, :]
    log_lik = -0.5 * tf.square((y[None, :] - mu) / noise_sd) - np.log(noise_sd * np.sqrt(2 * np.pi))
    return tf.reduce_mean(tf.reduce_sum(log_lik, axis=1))
''',
    "def exact_posterior(": '''def exact_posterior(x, y, noise_sd, prior_sd):
    # forgot the prior's precision: this is the least-squares answer
    design = np.column_stack([np.ones_like(x), x])
    precision = design.T @ design / noise_sd**2
    cov = np.linalg.inv(precision)
    return cov @ design.T @ y / noise_sd**2, cov
''',
}
