"""No public builder, trainer or sampler reads or writes global random state.

Each case goes through `untouched` (tests/conftest.py): seed Python's and NumPy's global generators,
call the library, and check both generators' states are unchanged and TensorFlow's global seed was
not set (the library seeds everything itself, statelessly).
"""

import random

import numpy as np
import pytest

import cs109b_bayes as cb


def _linreg_numpy(beta0, beta1):
    return -0.5 * (beta0**2 + beta1**2)


def test_metropolis_and_bootstrap_leave_global_state_alone(untouched):
    untouched(lambda: cb.metropolis(_linreg_numpy, {"beta0": 0.0, "beta1": 0.0},
                                    proposal_scale=0.5, num_steps=200, seed=1))
    x = np.linspace(0, 1, 20)
    y = 2 * x + 1
    untouched(lambda: cb.bootstrap(lambda xs, ys: np.polyfit(xs, ys, 1), x, y,
                                   num_resamples=20, seed=2))


@pytest.mark.slow
def test_sample_hmc_leaves_global_state_alone(untouched):
    import tensorflow as tf  # noqa: PLC0415

    def log_prob_fn(a):
        return -0.5 * a**2

    untouched(lambda: cb.sample_hmc(log_prob_fn, {"a": tf.constant(0.0)}, num_results=20,
                                    num_burnin_steps=20, num_chains=2, seed=3))


@pytest.mark.slow
def test_bnn_and_variational_leave_global_state_alone(untouched):
    het = cb.data.heteroscedastic()
    x, y = het.x[:64], het.y[:64]
    for kind in ("flipout", "mc_dropout", "stochastic_hidden"):
        model = untouched(lambda: cb.bnn.build_regressor(kind, num_train=64, seed=0, hidden_units=(8,)))
        untouched(lambda: cb.bnn.fit(model, x, y, epochs=1, seed=1))
        untouched(lambda: cb.bnn.predict(model, x, num_samples=4, seed=2))
        untouched(lambda: cb.variational.gradient_variance(model, x, y, num_draws=3, seed=3))
    untouched(lambda: cb.variational.kl_monte_carlo(0.0, 1.0, 1.0, 2.0, num_samples=100, seed=4))


@pytest.mark.slow
def test_vae_leaves_global_state_alone(untouched):
    images = (cb.seeds.numpy_rng(0, "images").random((64, 784)) > 0.5).astype("float32")
    for flipout in (False, True):
        model = untouched(lambda: cb.vae.build_vae(
            encoder_units=(16,), decoder_units=(16,), flipout_encoder=flipout,
            num_train_examples=64 if flipout else None, seed=0))
        untouched(lambda: cb.vae.train(model, images, epochs=1, batch_size=32, seed=1))
        untouched(lambda: cb.vae.evaluate(model, images[:8], num_samples=4, seed=2))
    untouched(lambda: cb.vae.build_ae(encoder_units=(16,), decoder_units=(16,), seed=0))


def test_the_check_above_can_fail(untouched):
    with pytest.raises(AssertionError, match="global NumPy"):
        untouched(lambda: np.random.normal())
    with pytest.raises(AssertionError, match="global Python"):
        untouched(lambda: random.random())
    import tensorflow as tf  # noqa: PLC0415

    try:
        with pytest.raises(AssertionError, match="TensorFlow's global seed"):
            untouched(lambda: tf.random.set_seed(5))
    finally:
        from tensorflow.python.eager import context  # noqa: PLC0415

        context.context()._set_global_seed(None)  # undo, for the tests that run after this one
