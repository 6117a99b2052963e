"""Typical wrong answers for lab 14's student copy (tests/test_labs.py)."""

WRONG = {
    "def score_function(": '''def score_function(f, mu, log_sigma, eps):
    # forgot the 1 / sigma^2 in the score of mu, and took the score of sigma instead of log sigma
    sigma = np.exp(log_sigma)
    z = mu + sigma * eps
    return np.stack([f(z) * (z - mu), f(z) * ((z - mu) ** 2 / sigma**3 - 1 / sigma)], axis=1)
''',
    "def reparameterization(": '''def reparameterization(grad_f, mu, log_sigma, eps):
    # dz/dlog_sigma taken as eps: the sigma factor of the chain rule is missing
    sigma = np.exp(log_sigma)
    slope = grad_f(mu + sigma * eps)
    return np.stack([slope, slope * eps], axis=1)
''',
    "def leave_one_out_baseline(": '''def leave_one_out_baseline(f_values):
    # the mean of ALL draws, including the draw itself
    return np.full_like(f_values, np.mean(f_values))
''',
}
