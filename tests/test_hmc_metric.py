"""The mass matrix: the regularised estimate against numpy, its layouts, and what the sampler adapts."""

import numpy as np
import pytest

import cs109b_bayes as cb
from cs109b_bayes.inference.hmc import metric
from cs109b_bayes.inference.hmc.coordinates import ParameterLayout

COV = np.array([[1.0, 1.8], [1.8, 4.0]])          # sds (1, 2), correlation 0.9


def window_draws(rng, n, num_chains=3, cov=COV):
    """n draws per chain [draw, chain, D] from N(0, cov)."""
    return rng.multivariate_normal(np.zeros(len(cov)), cov, size=(n, num_chains))


def direct_intensity(draws, chain):
    """Schaefer-Strimmer's intensity for one chain from np.corrcoef and the median mean-ESS."""
    r = np.corrcoef(draws[:, chain, :], rowvar=False)[~np.eye(draws.shape[-1], dtype=bool)]
    n_eff = np.clip(np.median(cb.diagnostics.effective_sample_size(draws[None, :, chain, :], method="mean")),
                    2, len(draws))
    return min(1.0, np.sum((1 - r**2) ** 2) / n_eff / np.sum(r**2))


def direct_regularised(draws, *, dense):
    """The regulariser computed chain by chain with np.cov / np.var (the module's formulas)."""
    n, num_chains, num_dims = draws.shape
    w, eps = n / (n + 5.0), 1e-3 * 5.0 / (n + 5.0)
    out = []
    for c in range(num_chains):
        cov = np.atleast_2d(np.cov(draws[:, c, :], rowvar=False))
        var = np.diag(cov)
        if dense:
            lam = direct_intensity(draws, c)
            out.append((1 - lam) * cov + lam * np.diag(var) + eps * np.eye(num_dims))
        else:
            out.append(w * var + eps)                 # Stan's diagonal regulariser, exactly
    return np.array(out)


@pytest.mark.parametrize("n", [12, 25, 500])
@pytest.mark.parametrize("dense", [True, False])
def test_regularised_covariance_matches_numpy(seed, n, dense):
    draws = window_draws(np.random.default_rng(seed), n)
    np.testing.assert_allclose(metric.regularised_covariance(draws, dense=dense),
                               direct_regularised(draws, dense=dense), rtol=1e-12, atol=1e-15)


def test_diagonal_is_stans_shrinkage_and_dense_keeps_the_variances(seed):
    """Stan: (n/(n+5)) var + 1e-3 (5/(n+5)). Ours (dense): off-diagonal shrunk by 1 - lam, variances kept."""
    draws = window_draws(np.random.default_rng(seed), 25)
    var = draws.var(axis=0, ddof=1)
    np.testing.assert_allclose(metric.regularised_covariance(draws, dense=False),
                               (25 / 30) * var + 1e-3 * (5 / 30), rtol=1e-12)
    dense = metric.regularised_covariance(draws, dense=True)
    np.testing.assert_allclose(np.diagonal(dense, axis1=1, axis2=2), var + 1e-3 * (5 / 30), rtol=1e-12)
    sample_cov = np.array([np.cov(draws[:, c, :], rowvar=False) for c in range(3)])
    lam = metric.shrinkage_intensity(draws)
    assert np.all(lam < 0.1)                           # correlation 0.9 is far above its noise at n = 25
    np.testing.assert_allclose(dense[:, 0, 1], (1 - lam) * sample_cov[:, 0, 1], rtol=1e-12)


def test_shrinkage_keeps_real_correlations_and_drops_noise(seed):
    """Independent elements: lam near 1 (diagonal); correlation 0.9: lam near 0 (dense); power both ways."""
    rng = np.random.default_rng(seed)
    independent = metric.shrinkage_intensity(rng.normal(size=(150, 4, 31)))
    assert np.all(independent > 0.8)                   # measured 5th percentile 0.93 over 80 chains
    correlated = metric.shrinkage_intensity(window_draws(rng, 150, num_chains=4))
    assert np.all(correlated < 0.01)
    weak = np.array([[1.0, 0.3], [0.3, 1.0]])          # a real, weak correlation: shrunk, mostly kept
    middle = np.median(metric.shrinkage_intensity(window_draws(rng, 150, num_chains=16, cov=weak)))
    assert 0.01 < middle < 0.4                         # expected (1 - 0.09)^2 / 150 / 0.09 = 0.06
    assert np.array_equal(metric.shrinkage_intensity(rng.normal(size=(50, 2, 1))), np.ones(2))


def test_shrinkage_counts_autocorrelated_draws_as_fewer(seed):
    """AR(1) chains (rho 0.95) of independent elements: their noise correlations are large for n = 400
    draws but not for the ~10 effective ones; counted as independent (shuffled) they would be kept."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=(400, 4, 10))
    ar = np.zeros_like(noise)
    for t in range(1, len(ar)):
        ar[t] = 0.95 * ar[t - 1] + noise[t]
    ordered = metric.shrinkage_intensity(ar)
    shuffled = metric.shrinkage_intensity(ar[rng.permutation(len(ar))])    # same correlations, ESS ~ n
    assert np.all(ordered > 0.8) and np.all(shuffled < ordered)
    for c in range(4):
        assert ordered[c] == pytest.approx(direct_intensity(ar, c), rel=1e-9)


def test_cholesky_factor_reproduces_the_regularised_covariance(seed):
    draws = window_draws(np.random.default_rng(seed), 200)
    chol = metric.regularised_cholesky(draws, dense=True)
    assert chol.shape == (3, 2, 2) and np.allclose(np.triu(chol, 1), 0.0)
    np.testing.assert_allclose(chol @ np.swapaxes(chol, 1, 2), metric.regularised_covariance(draws, dense=True),
                               rtol=1e-12)
    sd = metric.regularised_cholesky(draws, dense=False)
    np.testing.assert_allclose(sd**2, metric.regularised_covariance(draws, dense=False), rtol=1e-12)


def test_short_windows_and_singular_draws_fall_back_to_diagonal(seed):
    rng = np.random.default_rng(seed)
    short = window_draws(rng, 5)                         # 5 < 2 (D + 1) = 6 draws: no dense estimate
    chol = metric.regularised_cholesky(short, dense=True)
    np.testing.assert_allclose(chol, np.einsum("ci,ij->cij", metric.regularised_cholesky(short, dense=False),
                                               np.eye(2)))
    constant = np.ones((50, 2, 3))                       # zero variance: only the jitter remains
    chol = metric.regularised_cholesky(constant, dense=True)
    assert np.all(np.isfinite(chol)) and np.all(np.diagonal(chol, axis1=1, axis2=2) > 0)


def test_layout_choice_and_identity_factor():
    assert metric.uses_dense_factor("dense", metric.MAX_DENSE_DIMS)
    assert not metric.uses_dense_factor("dense", metric.MAX_DENSE_DIMS + 1)
    assert not metric.uses_dense_factor("diagonal", 3) and not metric.uses_dense_factor("unit", 3)
    np.testing.assert_array_equal(metric.identity_factor(2, 3, dense=True), np.stack([np.eye(3)] * 2))
    np.testing.assert_array_equal(metric.identity_factor(2, 3, dense=False), np.ones((2, 3)))


def test_regularised_covariance_bad_input():
    with pytest.raises(ValueError, match="draw, chain, D"):
        metric.regularised_covariance(np.zeros((10, 3)), dense=True)
    with pytest.raises(ValueError, match="at least one draw"):
        metric.regularised_cholesky(np.zeros((0, 2, 3)), dense=False)


def test_layout_round_trip_and_change_of_variables(seed):
    import tensorflow as tf

    from cs109b_bayes.inference.hmc.coordinates import to_theta, to_z

    layout = ParameterLayout.from_values({"mu": np.zeros(()), "w": np.zeros((2, 3))})
    assert layout.sizes == (1, 6) and layout.num_dims == 7
    rng = np.random.default_rng(seed)
    parts = {"mu": rng.normal(size=4), "w": rng.normal(size=(4, 2, 3))}
    flat = layout.flatten([tf.constant(parts["mu"]), tf.constant(parts["w"])])
    assert flat.shape == (4, 7)
    back = layout.unflatten(flat)
    np.testing.assert_allclose(back[0].numpy(), parts["mu"])
    np.testing.assert_allclose(back[1].numpy(), parts["w"])
    split = layout.split_draws(np.stack([flat.numpy()] * 5, axis=1))        # [chain, draw, D]
    assert split["w"].shape == (4, 5, 2, 3)
    np.testing.assert_allclose(split["w"][:, 2], parts["w"])
    chol = np.linalg.cholesky(np.stack([COV] * 4))
    z = tf.constant(rng.normal(size=(4, 2)))
    theta = to_theta(z, tf.constant(chol), dense=True)
    np.testing.assert_allclose(theta.numpy(), np.einsum("cij,cj->ci", chol, z.numpy()))
    np.testing.assert_allclose(to_z(theta, tf.constant(chol), dense=True).numpy(), z.numpy(), rtol=1e-10)
    sd = tf.constant([[1.0, 2.0]] * 4, tf.float64)
    np.testing.assert_allclose(to_z(to_theta(z, sd, dense=False), sd, dense=False).numpy(), z.numpy())


# ---------------------------------------------------------------------------
# What the sampler adapts, on a correlated 2-D Gaussian (spying on the estimate).
# ---------------------------------------------------------------------------

def _gaussian_log_prob():
    import tensorflow as tf

    precision = tf.constant(np.linalg.inv(COV), tf.float32)

    def log_prob_fn(theta):
        return -0.5 * tf.einsum("ci,ij,cj->c", theta, precision, theta)
    return log_prob_fn


@pytest.fixture
def spy(monkeypatch):
    """Records every (window draws, factor) the sampler's metric estimate sees and returns."""
    calls = []
    real = metric.regularised_cholesky

    def recording(draws, *, dense):
        factor = real(draws, dense=dense)
        calls.append((np.array(draws), factor, dense))
        return factor

    monkeypatch.setattr(metric, "regularised_cholesky", recording)
    return calls


def _run(mass_matrix, seed):
    return cb.sample_hmc(_gaussian_log_prob(), {"theta": np.zeros(2)}, num_results=500, num_burnin_steps=1000,
                         num_chains=2, chain_groups=1, seed=seed, mass_matrix=mass_matrix)


@pytest.mark.slow
def test_dense_metric_recovers_the_covariance(spy, seed):
    result = _run("dense", seed)
    assert [len(draws) for draws, _, _ in spy] == [25, 50, 100, 200, 500]     # Stan's slow windows
    draws, factor, dense = spy[-1]
    assert dense and factor.shape == (2, 2, 2)
    n = len(draws)
    lam = metric.shrinkage_intensity(draws)
    assert np.all(lam < 0.01)                          # the correlation 0.9 is kept
    for c in range(2):
        expected = (1 - lam[c]) * COV + lam[c] * np.diag(np.diag(COV)) + 1e-3 * 5 / (n + 5) * np.eye(2)
        estimate = factor[c] @ factor[c].T
        ess = float(np.min(cb.diagnostics.effective_sample_size(draws[None, :, c, :], method="mean")))
        sd, expected_sd = np.sqrt(np.diag(estimate)), np.sqrt(np.diag(expected))
        assert np.all(np.abs(sd / expected_sd - 1) < 4.5 / np.sqrt(2 * ess))     # sd of a sample sd
        corr = estimate[0, 1] / np.prod(sd)
        expected_corr = expected[0, 1] / np.prod(expected_sd)
        assert abs(corr - expected_corr) < 4.5 * (1 - expected_corr**2) / np.sqrt(ess)
    # In whitened coordinates the target is about N(0, I): NUTS takes long steps.
    assert result.step_size > 0.7


@pytest.mark.slow
def test_diagonal_metric_recovers_the_variances_and_unit_adapts_none(spy, seed):
    diagonal = _run("diagonal", seed)
    draws, factor, dense = spy[-1]
    assert not dense and factor.shape == (2, 2)
    for c in range(2):
        ess = cb.diagnostics.effective_sample_size(draws[None, :, c, :], method="mean")
        assert np.all(np.abs(factor[c] / np.sqrt(np.diag(COV)) - 1) < 4.5 / np.sqrt(2 * ess))
    spy.clear()
    unit = _run("unit", seed)
    assert spy == []                                   # identity metric: never estimated
    # theta = z: the step size must fit the narrowest direction (sd 0.4 across the ridge), where the
    # dense metric whitens the target to N(0, I) (measured: unit 0.57-0.59, dense 0.95-1.08, seeds 0-3).
    dense = cb.sample_hmc(_gaussian_log_prob(), {"theta": np.zeros(2)}, num_results=100, num_burnin_steps=1000,
                          num_chains=2, seed=seed)
    assert unit.step_size < 0.8 * dense.step_size
    for result in (diagonal, unit):                    # every metric samples the same target
        flat = result.flat("theta")
        ess = np.min(result.ess["theta"])
        assert np.all(np.abs(flat.mean(axis=0)) < 4.5 * np.sqrt(np.diag(COV) / ess))
