"""Score-function and reparameterization gradient estimators against closed forms."""

import numpy as np
import pytest

from cs109b_bayes import variational as vi

MU, LOG_SIGMA, TARGET = 0.3, -0.2, 1.7
NUM = 40_000
Z_LIMIT = 4.5


def f(z):
    return -0.5 * (z - TARGET) ** 2


def grad_f(z):
    return TARGET - z


def _z_scores(per_sample, exact):
    stderr = per_sample.std(axis=0, ddof=1) / np.sqrt(per_sample.shape[0])
    return np.abs(per_sample.mean(axis=0) - exact) / stderr


def test_quadratic_gradient_matches_finite_differences():
    def expectation(mu, log_sigma):
        return -0.5 * ((mu - TARGET) ** 2 + np.exp(2 * log_sigma))
    h = 1e-6
    numeric = [(expectation(MU + h, LOG_SIGMA) - expectation(MU - h, LOG_SIGMA)) / (2 * h),
               (expectation(MU, LOG_SIGMA + h) - expectation(MU, LOG_SIGMA - h)) / (2 * h)]
    np.testing.assert_allclose(vi.quadratic_gradient(MU, LOG_SIGMA, target=TARGET), numeric, rtol=1e-6)


@pytest.mark.parametrize("baseline", [None, 2.0, "leave-one-out", lambda v: np.full_like(v, -1.0)])
def test_score_function_is_unbiased(baseline):
    per = vi.score_function_gradient(f, MU, LOG_SIGMA, num_samples=NUM, seed=1, baseline=baseline, per_sample=True)
    assert per.shape == (NUM, 2)
    assert np.all(_z_scores(per, vi.quadratic_gradient(MU, LOG_SIGMA, target=TARGET)) < Z_LIMIT)


def test_reparameterization_is_unbiased():
    per = vi.reparameterization_gradient(grad_f, MU, LOG_SIGMA, num_samples=NUM, seed=2, per_sample=True)
    assert np.all(_z_scores(per, vi.quadratic_gradient(MU, LOG_SIGMA, target=TARGET)) < Z_LIMIT)


def test_a_biased_estimator_fails_the_same_test():
    """The z-score test has power: the score function with its log-sigma score taken w.r.t. sigma fails."""
    per = vi.score_function_gradient(f, MU, LOG_SIGMA, num_samples=NUM, seed=1, per_sample=True)
    per[:, 1] /= np.exp(LOG_SIGMA)
    assert _z_scores(per, vi.quadratic_gradient(MU, LOG_SIGMA, target=TARGET))[1] > Z_LIMIT


def test_mean_is_average_of_per_sample_and_seeds_reproduce():
    per = vi.score_function_gradient(f, MU, LOG_SIGMA, num_samples=50, seed=3, per_sample=True)
    mean = vi.score_function_gradient(f, MU, LOG_SIGMA, num_samples=50, seed=3)
    np.testing.assert_allclose(mean, per.mean(axis=0))
    assert not np.allclose(mean, vi.score_function_gradient(f, MU, LOG_SIGMA, num_samples=50, seed=4))


def test_score_function_variance_exceeds_reparameterization():
    score = vi.score_function_gradient(f, MU, LOG_SIGMA, num_samples=NUM, seed=5, per_sample=True)
    path = vi.reparameterization_gradient(grad_f, MU, LOG_SIGMA, num_samples=NUM, seed=6, per_sample=True)
    assert np.all(score.var(axis=0) > 3 * path.var(axis=0))


def test_baseline_reduces_variance():
    plain = vi.score_function_gradient(f, MU, LOG_SIGMA, num_samples=NUM, seed=7, per_sample=True)
    loo = vi.score_function_gradient(f, MU, LOG_SIGMA, num_samples=NUM, seed=7, per_sample=True,
                                     baseline="leave-one-out")
    assert np.all(loo.var(axis=0) < 0.8 * plain.var(axis=0))


def test_variance_falls_as_one_over_num_samples():
    run = lambda s, seed: vi.reparameterization_gradient(grad_f, MU, LOG_SIGMA, num_samples=s, seed=seed)  # noqa
    curve = vi.variance_by_num_samples(run, [1, 8, 64], num_repeats=400, seed=0)
    assert curve.variance.shape == (3, 2) and curve.mean.shape == (3, 2)
    assert np.all(np.abs(curve.slope + 1) < 0.2)


def test_bernoulli_score_gradient_matches_enumeration():
    target, theta = 0.45, 0.3
    fb = lambda b: (b - target) ** 2   # noqa: E731
    exact = vi.bernoulli_exact_gradient((fb(0.0), fb(1.0)), theta)
    p = 1 / (1 + np.exp(-theta))
    assert exact == pytest.approx(p * (1 - p) * (fb(1.0) - fb(0.0)))
    plain = vi.bernoulli_score_gradient(fb, theta, num_samples=NUM, seed=8, per_sample=True)
    loo = vi.bernoulli_score_gradient(fb, theta, num_samples=NUM, seed=8, per_sample=True, baseline="leave-one-out")
    for per in (plain, loo):
        assert abs(per.mean() - exact) / (per.std(ddof=1) / np.sqrt(NUM)) < Z_LIMIT
    assert loo.var() < 0.1 * plain.var()
    assert isinstance(vi.bernoulli_score_gradient(fb, theta, num_samples=10, seed=0), float)


@pytest.mark.parametrize("kwargs, error", [
    ({"num_samples": 0}, ValueError),
    ({"num_samples": 2.5}, ValueError),
    ({"seed": 0.5}, TypeError),
    ({"baseline": "mean"}, ValueError),
    ({"baseline": [1.0, 2.0]}, ValueError),
    ({"baseline": lambda v: v[:2]}, ValueError),
    ({"num_samples": 1, "baseline": "leave-one-out"}, ValueError),
    ({"log_sigma": np.nan}, ValueError),
    ({"mu": [0.0, 1.0]}, ValueError),
])
def test_score_function_bad_inputs_raise(kwargs, error):
    args = {"mu": MU, "log_sigma": LOG_SIGMA, "num_samples": 10, "seed": 0} | kwargs
    with pytest.raises(error):
        vi.score_function_gradient(f, args.pop("mu"), args.pop("log_sigma"), **args)


def test_other_bad_inputs_raise():
    with pytest.raises(ValueError, match="one value per draw"):
        vi.reparameterization_gradient(lambda z: 1.0, MU, LOG_SIGMA, num_samples=5, seed=0)
    with pytest.raises(ValueError, match="one value per draw"):
        vi.bernoulli_score_gradient(lambda b: b[:1], 0.0, num_samples=5, seed=0)
    with pytest.raises(ValueError):
        vi.bernoulli_exact_gradient((1.0, 2.0, 3.0), 0.0)
    with pytest.raises(ValueError):
        vi.bernoulli_exact_gradient((1.0, 2.0), np.inf)
    with pytest.raises(ValueError):
        vi.quadratic_gradient(0.0, 0.0, target=np.nan)
    run = lambda s, seed: np.zeros(2)   # noqa: E731
    with pytest.raises(ValueError, match="two different"):
        vi.variance_by_num_samples(run, [4], num_repeats=10, seed=0)
    with pytest.raises(ValueError):
        vi.variance_by_num_samples(run, [1, 4], num_repeats=1, seed=0)
    with pytest.raises(TypeError):
        vi.variance_by_num_samples(run, [1, 4], num_repeats=10, seed="0")
