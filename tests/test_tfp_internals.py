"""The TFP internals we rely on still behave as cs109b_bayes.tfp_internals expects.

If one of these fails after a TFP upgrade, read cs109b_bayes/tfp_internals.py first.
"""

import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from cs109b_bayes import tfp_internals


def _nuts_results():
    kernel = tfp.mcmc.DualAveragingStepSizeAdaptation(
        tfp.mcmc.HamiltonianMonteCarlo(lambda x: -0.5 * tf.reduce_sum(x**2, -1), step_size=0.1,
                                       num_leapfrog_steps=3, store_parameters_in_results=True),
        num_adaptation_steps=10)
    return kernel.bootstrap_results(tf.zeros([2, 3]))


def test_replace_innermost_reaches_the_nested_hmc_parameter():
    results = _nuts_results()
    replaced = tfp_internals.replace_innermost(results, num_leapfrog_steps=tf.constant(7))
    assert int(replaced.inner_results.accepted_results.num_leapfrog_steps) == 7
    assert int(results.inner_results.accepted_results.num_leapfrog_steps) == 3


def test_replace_innermost_fails_loudly_on_an_unknown_field():
    with pytest.raises(RuntimeError, match="tfp_internals"):
        tfp_internals.replace_innermost(_nuts_results(), no_such_field=1)


def test_replace_fields_restarts_the_adaptation_window():
    results = _nuts_results()
    replaced = tfp_internals.replace_fields(results, num_adaptation_steps=tf.constant(99))
    assert int(replaced.num_adaptation_steps) == 99


def test_replace_fields_names_the_missing_field():
    with pytest.raises(RuntimeError, match="no_such_field"):
        tfp_internals.replace_fields(_nuts_results(), no_such_field=1)


# ---------------------------------------------------------------- dense variational layers
import numpy as np  # noqa: E402
from unittest import mock  # noqa: E402

from cs109b_bayes import noise  # noqa: E402

_AFFINE_ATTRIBUTES = {"kernel_posterior_affine", "kernel_posterior_affine_tensor", "kernel_posterior_tensor"}
_X = tf.constant(np.random.default_rng(0).normal(size=(5, 3)), tf.float32)
_LAYER_PAIRS = [(tfp_internals.StatelessDenseFlipout, tfp.layers.DenseFlipout),
                (tfp_internals.StableDenseLocalReparameterization, tfp.layers.DenseLocalReparameterization)]


def _built(layer_cls, units=4, **kwargs):
    layer = layer_cls(units, **kwargs)
    layer.build(_X.shape)
    return layer


def _attributes_set_by(apply_kernel, layer):
    for name in _AFFINE_ATTRIBUTES:
        layer.__dict__.pop(name, None)
    before = set(vars(layer))
    apply_kernel(layer, _X)
    return set(vars(layer)) - before


@pytest.mark.parametrize("ours, parent", _LAYER_PAIRS)
def test_overridden_layers_set_the_attributes_tfp_sets(ours, parent):
    # TFP's `call` reads what `_apply_variational_kernel` leaves behind (`kernel_posterior_tensor` for the KL).
    assert "_apply_variational_kernel" in vars(parent), "TFP renamed the method we override"
    layer = _built(ours)
    with noise.stateless_noise(0):
        set_by_ours = _attributes_set_by(ours._apply_variational_kernel, layer)
    set_by_tfp = _attributes_set_by(parent._apply_variational_kernel, layer)
    assert set_by_tfp == _AFFINE_ATTRIBUTES, f"TFP's {parent.__name__} now sets {set_by_tfp}"
    assert set_by_ours == set_by_tfp


@pytest.mark.parametrize("ours, _", _LAYER_PAIRS)
def test_layer_call_runs_our_kernel_and_the_kl(ours, _):
    layer = _built(ours, kernel_divergence_fn=lambda q, p, sample: tf.constant(2.5))
    with mock.patch.object(ours, "_apply_variational_kernel", autospec=True,
                           side_effect=ours._apply_variational_kernel) as spy:
        layer(_X)
    assert spy.call_count == 1, "TFP's call no longer goes through _apply_variational_kernel"
    assert [float(loss) for loss in layer.losses] == [2.5]


@pytest.mark.parametrize("ours, _", _LAYER_PAIRS)
def test_layers_are_stateless_inside_a_noise_block(ours, _):
    layer = _built(ours)
    draws = {}
    for seed in (0, 0, 1):
        with noise.stateless_noise(seed):
            draws.setdefault(seed, []).append(layer(_X).numpy())
    tf.random.normal([3])                               # stateful ops in between change nothing
    with noise.stateless_noise(0):
        again = layer(_X).numpy()
    np.testing.assert_array_equal(draws[0][0], draws[0][1])
    np.testing.assert_array_equal(draws[0][0], again)
    assert not np.allclose(draws[0][0], draws[1][0])

    @tf.function
    def traced(seed):
        with noise.stateless_noise(seed):
            return layer(_X)

    np.testing.assert_array_equal(traced(tf.constant([3, 4])).numpy(), traced(tf.constant([3, 4])).numpy())
    assert not np.allclose(traced(tf.constant([3, 4])).numpy(), traced(tf.constant([3, 5])).numpy())


def test_flipout_outside_a_block_is_tfps_layer():
    layer = _built(tfp_internals.StatelessDenseFlipout)
    with mock.patch.object(tfp.layers.DenseFlipout, "_apply_variational_kernel", autospec=True,
                           side_effect=tfp.layers.DenseFlipout._apply_variational_kernel) as parent:
        layer(_X)
        assert parent.call_count == 1
        with noise.stateless_noise(0):
            layer(_X)
        assert parent.call_count == 1


def _set_posterior(layer, loc, untransformed_scale, bias):
    kernel_loc, kernel_scale, bias_loc = layer.trainable_weights
    kernel_loc.assign(loc)
    kernel_scale.assign(untransformed_scale)
    bias_loc.assign(bias)


def test_flipout_mean_path_matches_tfp_exactly():
    # With a negligible posterior sd (1e-5 + softplus(-30)) both layers output x W_mean + b.
    rng = np.random.default_rng(1)
    loc, bias = rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=4).astype(np.float32)
    outputs = []
    for cls in (tfp_internals.StatelessDenseFlipout, tfp.layers.DenseFlipout):
        layer = _built(cls)
        _set_posterior(layer, loc, np.full((3, 4), -30.0, np.float32), bias)
        with noise.stateless_noise(2):
            outputs.append(layer(_X).numpy())
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-4)
    np.testing.assert_allclose(outputs[0], _X.numpy() @ loc + bias, atol=1e-4)


def test_flipout_moments_match_tfp_flipout():
    # Flipout's output per example: mean x W_mean + b, variance (x^2) sigma^2, uncorrelated across the
    # examples of a batch (so the z-score below uses all 8000 draws; with shared signs it would be ~4x larger).
    # One weight draw per call: the variance estimate has ~1.9 chi-square dof per call (x0's weights), so its
    # relative sd over 400 calls is ~ sqrt(2 / 1.9 / 400) ~ 0.05, and rtol 0.25 is ~5 of those.
    rng = np.random.default_rng(2)
    loc, bias = rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=4).astype(np.float32)
    raw = rng.normal(-0.5, 0.3, size=(3, 4)).astype(np.float32)
    sd = 1e-5 + np.log1p(np.exp(raw))
    x0 = np.array([0.7, -1.2, 0.4], np.float32)
    batch = tf.constant(np.tile(x0, (20, 1)))
    mean, variance = x0 @ loc + bias, (x0**2) @ sd**2
    for cls in (tfp_internals.StatelessDenseFlipout, tfp.layers.DenseFlipout):
        layer = _built(cls, seed=5)
        _set_posterior(layer, loc, raw, bias)

        @tf.function
        def one_call(seed, layer=layer):
            with noise.stateless_noise(seed):
                return layer(batch)

        draws = np.stack([one_call(tf.constant([call, 0])).numpy() for call in range(400)]).reshape(-1, 4)
        z = (draws.mean(axis=0) - mean) / np.sqrt(variance / len(draws))
        assert np.all(np.abs(z) < 4.5), (cls.__name__, z)
        np.testing.assert_allclose(draws.var(axis=0), variance, rtol=0.25, err_msg=cls.__name__)
        # rows of one call are uncorrelated: the variance of a call's row mean is variance / 20 (not variance)
        call_means = draws.reshape(400, 20, 4).mean(axis=1)
        np.testing.assert_allclose(20 * ((call_means - mean) ** 2).mean(axis=0), variance, rtol=0.5,
                                   err_msg=cls.__name__)


def test_local_reparameterization_matches_tfp_with_the_same_noise():
    layers = []
    for cls in (tfp_internals.StableDenseLocalReparameterization, tfp.layers.DenseLocalReparameterization):
        layer = _built(cls, kernel_posterior_tensor_fn=noise.sample, bias_posterior_tensor_fn=noise.sample)
        layers.append(layer)
    layers[1].set_weights(layers[0].get_weights())
    outputs = []
    for layer in layers:
        with noise.stateless_noise(7):
            outputs.append(layer(_X).numpy())
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-5, atol=1e-5)


def test_local_reparameterization_gradient_is_finite_at_a_zero_row():
    inputs = tf.constant([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])
    finite = {}
    for cls in (tfp_internals.StableDenseLocalReparameterization, tfp.layers.DenseLocalReparameterization):
        layer = _built(cls, kernel_posterior_tensor_fn=noise.sample)
        with tf.GradientTape() as tape, noise.stateless_noise(0):
            loss = tf.reduce_sum(layer(inputs))
        grads = tape.gradient(loss, layer.trainable_variables)
        finite[cls] = all(np.all(np.isfinite(g.numpy())) for g in grads)
    assert finite[tfp_internals.StableDenseLocalReparameterization]
    assert not finite[tfp.layers.DenseLocalReparameterization], (
        "TFP's DenseLocalReparameterization now has a finite gradient at an all-zero input row: "
        "StableDenseLocalReparameterization may no longer be needed")


@pytest.mark.parametrize("ours, _", _LAYER_PAIRS)
def test_layers_reject_a_non_normal_kernel_posterior(ours, _):
    def laplace_posterior(dtype, shape, name, trainable, add_variable_fn):
        del name, trainable, add_variable_fn
        return tfp.distributions.Independent(tfp.distributions.Laplace(tf.zeros(shape, dtype), 1.0), 2)

    layer = ours(4, kernel_posterior_fn=laplace_posterior)
    with pytest.raises(TypeError, match="Independent"), noise.stateless_noise(0):
        layer(_X)
