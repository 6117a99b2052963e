"""Questions of lab 01: bootstrap linear regression."""

import numpy as np

from cs109b_bayes.grading import expect_answered, expect_close, expect_true, fresh_rng, question

__all__ = []


def _line_data(rng, n):
    x = rng.uniform(0.0, 100.0, size=n)
    y = rng.normal(3.0, 2.0) + rng.normal(0.0, 0.5) * x + rng.normal(0.0, 5.0, size=n)
    return x, y


@question("lab01.ols", hint="Solve the normal equations, or use np.polyfit(x, y, 1); "
          "return (intercept, slope) in that order.")
def _ols(*, fit_ols):
    """fit_ols(x, y) -> (beta0, beta1), the least-squares intercept and slope."""
    rng = fresh_rng()
    for n in (5, 50):
        x, y = _line_data(rng, n)
        got = fit_ols(x.copy(), y.copy())   # copies: writing into them changes nothing
        slope, intercept = np.polyfit(x, y, 1)
        expect_close(f"fit_ols(x, y) on {n} random points", got, [intercept, slope], rtol=1e-6, atol=1e-8)


@question("lab01.resample", hint="Draw n indices with rng.integers(0, n, size=n) (with replacement) "
          "and index x and y with the same indices.")
def _resample(*, resample):
    """resample(x, y, rng) -> (x*, y*): n pairs drawn with replacement."""
    rng = fresh_rng()
    n, repeats = 40, 300
    x = np.arange(n, dtype=float)
    y = 10.0 * x + 1.0
    unique_fractions = []
    for _ in range(repeats):
        got = expect_answered("resample(x, y, rng)", resample(x, y, rng))
        expect_true(isinstance(got, (tuple, list)) and len(got) == 2,
                    f"resample should return a pair (x_star, y_star), got {type(got).__name__}"
                    + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""))
        x_star, y_star = np.asarray(got[0]), np.asarray(got[1])
        expect_true(x_star.shape == (n,) and y_star.shape == (n,),
                    f"a resample must have the data's length {n}, got {x_star.shape} and {y_star.shape}")
        expect_true(np.all(np.isin(x_star, x)), "resampled x values must come from the data")
        expect_true(np.allclose(y_star, 10.0 * x_star + 1.0),
                    "resampled pairs must stay pairs: use the same indices for x and y")
        unique_fractions.append(np.unique(x_star).size / n)
    # With replacement, the expected fraction of distinct points is 1 - (1 - 1/n)^n (about 0.63).
    expected = 1.0 - (1.0 - 1.0 / n) ** n
    mean = np.mean(unique_fractions)
    mcse = np.std(unique_fractions, ddof=1) / np.sqrt(repeats)
    expect_true(abs(mean - expected) < 5 * mcse + 1e-3,
                f"on average {mean:.3f} of a resample's points are distinct, expected {expected:.3f} "
                "for sampling with replacement")
    first = np.asarray(resample(x, y, rng)[0])
    second = np.asarray(resample(x, y, rng)[0])
    expect_true(not np.array_equal(first, second), "two resamples with the same rng should differ")


@question("lab01.ols_se", hint="sigma^2 = RSS / (n - 2); Var(beta) = sigma^2 (X^T X)^{-1} with X = [1, x].")
def _ols_se(*, ols_standard_errors):
    """ols_standard_errors(x, y) -> (se_beta0, se_beta1), the classical OLS standard errors."""
    rng = fresh_rng()
    for n in (8, 60):
        x, y = _line_data(rng, n)
        got = ols_standard_errors(x.copy(), y.copy())   # copies: writing into them changes nothing
        design = np.column_stack([np.ones(n), x])
        beta, rss, *_ = np.linalg.lstsq(design, y, rcond=None)
        sigma2 = float(rss[0]) / (n - 2)
        expected = np.sqrt(np.diag(sigma2 * np.linalg.inv(design.T @ design)))
        expect_close(f"ols_standard_errors(x, y) on {n} random points", got, expected, rtol=1e-6)


@question("lab01.interval", hint="np.percentile(samples, [2.5, 97.5], axis=0) for level 0.95.")
def _interval(*, percentile_interval):
    """percentile_interval(samples, level) -> (low, high) per column of samples."""
    rng = fresh_rng()
    samples = rng.normal(size=(500, 2)) * [1.0, 3.0] + [2.0, -1.0]
    for level in (0.9, 0.95):
        got = expect_answered(f"percentile_interval(samples, {level})",
                              percentile_interval(samples.copy(), level))   # copies: writing into them changes nothing
        tail = 100 * (1 - level) / 2
        expected = np.percentile(samples, [tail, 100 - tail], axis=0)
        got_array = np.asarray(got, dtype=float)
        if got_array.shape == expected.shape:
            held = np.mean((samples >= got_array[0]) & (samples <= got_array[1]), axis=0)
            expect_true(np.allclose(held, level, atol=2.0 / len(samples)),
                        f"percentile_interval(samples, {level}) on {len(samples)} draws of 2 columns holds "
                        f"{held[0]:.1%} and {held[1]:.1%} of each column; a central {level:.0%} interval "
                        f"holds {level:.0%}, with equal tails on both sides")
        expect_close(f"percentile_interval(samples, {level})", got, expected, rtol=1e-6)
