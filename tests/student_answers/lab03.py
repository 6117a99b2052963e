"""Typical wrong answers of lab 03 (see `tests/student_answers/__init__.py`)."""

WRONG = {
    "def sin_network": '''def sin_network(x, w11, w12, w21, w22, b1):
    return w21 * np.sin(w11 * x) + w22 * np.sin(w12 * x) + b1      # no chain axis: [4] * [20] fails
''',
    "def log_posterior": '''def log_posterior(w11, w12, w21, w22, b1):
    residual = y - sin_network(x, w11, w12, w21, w22, b1)
    log_likelihood = -0.5 * np.sum(residual**2) / NOISE_SD**2         # sums over the chains too
    log_prior = -0.5 * (w11**2 + w12**2 + w21**2 + w22**2 + b1**2) / PRIOR_SD**2
    return log_likelihood + log_prior
''',
    "def flip_sign": '''def flip_sign(w, k):
    flipped = dict(w)
    flipped[f"w1{k}"] = -w[f"w1{k}"]                                   # flips only the input weight
    return flipped


def swap_units(w):
    swapped = dict(w)
    swapped["w11"], swapped["w12"] = w["w12"], w["w11"]                  # swaps only the input weights
    return swapped
''',
}
