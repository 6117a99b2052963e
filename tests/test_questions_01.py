"""Lab 01 checks: correct answers pass, wrong answers fail (the checks have power)."""

import numpy as np
import pytest

import cs109b_bayes as cb


def test_ols(lenient):
    assert cb.check("lab01.ols", fit_ols=lambda x, y: np.polyfit(x, y, 1)[::-1]).passed
    assert not cb.check("lab01.ols", fit_ols=lambda x, y: np.polyfit(x, y, 1)).passed
    # through the origin: a plausible mistake
    assert not cb.check("lab01.ols", fit_ols=lambda x, y: (0.0, x @ y / (x @ x))).passed


def _good_resample(x, y, rng):
    idx = rng.integers(0, len(x), size=len(x))
    return x[idx], y[idx]


def test_resample(lenient):
    assert cb.check("lab01.resample", resample=_good_resample).passed
    as_list = lambda x, y, rng: list(_good_resample(x, y, rng))  # noqa: E731  a list of two arrays is a pair
    assert cb.check("lab01.resample", resample=as_list).passed
    three = lambda x, y, rng: (*_good_resample(x, y, rng), None)  # noqa: E731
    result = cb.check("lab01.resample", resample=three)
    assert not result.passed and "length 3" in result.message
    without_replacement = lambda x, y, rng: (lambda i: (x[i], y[i]))(rng.permutation(len(x)))  # noqa: E731
    assert not cb.check("lab01.resample", resample=without_replacement).passed
    unpaired = lambda x, y, rng: (x[rng.integers(0, len(x), len(x))], y[rng.integers(0, len(x), len(x))])  # noqa: E731
    assert not cb.check("lab01.resample", resample=unpaired).passed
    fixed = np.random.default_rng(0).integers(0, 40, size=40)
    same_every_time = lambda x, y, rng: (x[fixed], y[fixed])  # noqa: E731
    assert not cb.check("lab01.resample", resample=same_every_time).passed
    half = lambda x, y, rng: _good_resample(x[: len(x) // 2], y[: len(y) // 2], rng)  # noqa: E731
    assert not cb.check("lab01.resample", resample=half).passed


def _good_se(x, y):
    design = np.column_stack([np.ones_like(x), x])
    beta, rss, *_ = np.linalg.lstsq(design, y, rcond=None)
    return np.sqrt(np.diag(rss[0] / (len(x) - 2) * np.linalg.inv(design.T @ design)))


def test_ols_se(lenient):
    assert cb.check("lab01.ols_se", ols_standard_errors=_good_se).passed
    wrong_dof = lambda x, y: _good_se(x, y) * np.sqrt((len(x) - 2) / len(x))  # noqa: E731  RSS / n
    assert not cb.check("lab01.ols_se", ols_standard_errors=wrong_dof).passed
    variances = lambda x, y: _good_se(x, y) ** 2  # noqa: E731
    assert not cb.check("lab01.ols_se", ols_standard_errors=variances).passed


@pytest.mark.parametrize("wrong", [
    lambda s, level: np.percentile(s, [100 * (1 - level), 100 * level], axis=0),      # one tail each side too wide
    lambda s, level: np.percentile(s, [2.5, 97.5], axis=0),                            # ignores level
    lambda s, level: np.percentile(s.ravel(), [50 * (1 - level), 100 - 50 * (1 - level)]),  # pools columns
])
def test_interval(lenient, wrong):
    good = lambda s, level: np.percentile(s, [50 * (1 - level), 100 - 50 * (1 - level)], axis=0)  # noqa: E731
    assert cb.check("lab01.interval", percentile_interval=good).passed
    as_list = lambda s, level: good(s, level).tolist()  # noqa: E731
    assert cb.check("lab01.interval", percentile_interval=as_list).passed
    result = cb.check("lab01.interval", percentile_interval=wrong)
    assert not result.passed
    assert "np.percentile" not in result.message, "the first failure must not give the formula away"


def test_interval_message_names_the_coverage(lenient):
    too_wide = lambda s, level: np.percentile(s, [100 * (1 - level), 100 * level], axis=0)  # noqa: E731
    result = cb.check("lab01.interval", percentile_interval=too_wide)
    assert not result.passed and "holds" in result.message and "equal tails" in result.message
