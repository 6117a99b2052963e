"""Typical wrong answers of lab 01 (see `tests/student_answers/__init__.py`)."""

WRONG = {
    "def fit_ols": '''def fit_ols(x, y):
    return np.polyfit(x, y, 1)          # (slope, intercept): the order is reversed
''',
    "def resample": '''def resample(x, y, rng):
    idx = rng.permutation(len(x))       # without replacement: every resample is the data again
    return x[idx], y[idx]
''',
    "def percentile_interval": '''def percentile_interval(samples, level):
    return np.percentile(samples, [100 * (1 - level), 100 * level], axis=0)   # both tails doubled
''',
    "def ols_standard_errors": '''def ols_standard_errors(x, y):
    design = np.column_stack([np.ones_like(x), x])
    beta, rss, *_ = np.linalg.lstsq(design, y, rcond=None)
    sigma2 = rss[0] / len(x)            # RSS / n instead of RSS / (n - 2)
    return np.sqrt(np.diag(sigma2 * np.linalg.inv(design.T @ design)))
''',
}
