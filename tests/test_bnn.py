"""cs109b_bayes.bnn: wiring (losses, shapes, parameter counts), KL scaling, predict, fit, bad input."""

import cs109b_bayes as cb  # noqa: I001  (first: sets up Keras 2)
import gc
import weakref

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from cs109b_bayes import bnn, noise

N = 64
HIDDEN = (8, 6)
X = np.linspace(-1, 1, N).astype(np.float32)
Y = np.sin(3 * X) + 0.1 * np.random.default_rng(0).normal(size=N)


@pytest.fixture(scope="module")
def models():
    return {kind: bnn.build_regressor(kind, num_train=N, hidden_units=HIDDEN, seed=1, num_members=3)
            for kind in bnn.KINDS}


def _dense_params(sizes):
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


# ---- wiring ----
def test_every_kind_builds_and_outputs_the_right_shape(models):
    for kind, model in models.items():
        out = model(X[:10, None])
        if kind == "deterministic":
            assert out.shape == (10, 1)
        elif kind == "ensemble":
            assert out.loc.shape == (10, 3) and out.scale.shape == (10, 3)
        else:
            assert out.loc.shape == (10, 1) and np.all(out.scale.numpy() > 0), kind
        assert model.bnn_kind == kind and model.bnn_seed == 1 and model.bnn_num_train == N


def test_layer_losses_are_counted(models):
    for kind, model in models.items():
        model(X[:10, None])
        expected = {"stochastic_hidden": len(HIDDEN)}.get(kind, 0)
        if kind in bnn.WEIGHT_NOISE_KINDS:
            expected = len(HIDDEN) + 1             # one kernel KL per dense layer (biases are point estimates)
        assert len(model.losses) == expected, kind


def test_parameter_counts(models):
    point = _dense_params((1,) + HIDDEN + (2,))
    assert models["output_only"].count_params() == point
    assert models["deterministic"].count_params() == _dense_params((1,) + HIDDEN + (1,))
    assert models["mc_dropout"].count_params() == point
    assert models["ensemble"].count_params() == 3 * point
    kernels = sum(a * b for a, b in zip((1,) + HIDDEN, HIDDEN + (2,)))
    for kind in bnn.WEIGHT_NOISE_KINDS:
        assert models[kind].count_params() == point + kernels, kind   # a mean and a scale per kernel weight
    hidden = _dense_params((1, 2 * HIDDEN[0])) + _dense_params((HIDDEN[0], 2 * HIDDEN[1])) + _dense_params((HIDDEN[1], 2))
    assert models["stochastic_hidden"].count_params() == hidden


def _closed_form_kl(model, prior_sd=1.0):
    total = 0.0
    for layer in model.layers:
        if hasattr(layer, "kernel_posterior"):
            kernel_loc, kernel_raw, _ = [w.numpy() for w in layer.trainable_weights]
            scale = np.log1p(np.exp(kernel_raw))
            total += np.sum(cb.variational.kl_gaussian(kernel_loc, scale, 0.0, prior_sd))
    return total


@pytest.mark.parametrize("kind", bnn.WEIGHT_NOISE_KINDS)
def test_kl_is_scaled_by_one_over_num_train(models, kind):
    model = models[kind]
    model(X[:4, None])
    np.testing.assert_allclose(float(tf.add_n(model.losses)), _closed_form_kl(model) / N, rtol=1e-4)
    double = bnn.build_regressor(kind, num_train=2 * N, hidden_units=HIDDEN, seed=1, prior_sd=2.0)
    double(X[:4, None])
    np.testing.assert_allclose(float(tf.add_n(double.losses)), _closed_form_kl(double, 2.0) / (2 * N), rtol=1e-4)


def test_hidden_unit_kl_uses_its_weight():
    layer = bnn.GaussianHiddenUnits(4, kl_weight=0.5, initializer_seed=0)
    inputs = tf.constant(X[:8, None])
    layer(inputs)
    params = layer.moments(inputs).numpy()
    loc, scale = params[:, :4], 1e-3 + np.log1p(np.exp(params[:, 4:] - 2.0))
    expected = 0.5 * np.mean(np.sum(cb.variational.kl_gaussian(loc, scale, 0.0, 1.0), axis=1))
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-4)


def _hidden_unit_kls(model, inputs):
    """Per-example KL of each Gaussian hidden layer, averaged over the batch (unweighted), from its moments."""
    kls, h = [], inputs
    with noise.stateless_noise(0):
        for layer in model.layers:
            if isinstance(layer, bnn.GaussianHiddenUnits):
                params = layer.moments(h).numpy()
                loc = params[:, :layer.units]
                scale = 1e-3 + np.log1p(np.exp(params[:, layer.units:] - 2.0))
                kls.append(np.mean(np.sum(cb.variational.kl_gaussian(loc, scale, 0.0, 1.0), axis=1)))
            if layer.name != "x":
                h = layer(h)
    return kls


@pytest.mark.parametrize("num_train", [N, 10 * N])
def test_stochastic_hidden_loss_is_the_negative_elbo_per_example(num_train):
    # The hidden-unit KL is per example (one latent h per example) and already a batch mean, like
    # the NLL: its weight is 1 whatever num_train (not 1/N, which would be a beta = 1/N objective).
    model = bnn.build_regressor("stochastic_hidden", num_train=num_train, hidden_units=HIDDEN, seed=1)
    inputs = tf.constant(X[:16, None])
    with noise.stateless_noise(0):
        model(inputs)
        losses = [float(loss) for loss in model.losses]
    expected = _hidden_unit_kls(model, inputs)
    assert len(losses) == len(HIDDEN) and min(expected) > 0.01
    np.testing.assert_allclose(losses, expected, rtol=1e-4)
    half = bnn.build_regressor("stochastic_hidden", num_train=num_train, hidden_units=HIDDEN, seed=1,
                               hidden_kl_weight=0.5)
    with noise.stateless_noise(0):
        half(inputs)
        np.testing.assert_allclose([float(loss) for loss in half.losses], 0.5 * np.array(expected), rtol=1e-4)


# ---- seeds ----
def test_same_seed_same_weights_and_predictions():
    first = bnn.build_regressor("flipout", num_train=N, hidden_units=HIDDEN, seed=5)
    second = bnn.build_regressor("flipout", num_train=N, hidden_units=HIDDEN, seed=5)
    other = bnn.build_regressor("flipout", num_train=N, hidden_units=HIDDEN, seed=6)
    assert all(np.array_equal(a, b) for a, b in zip(first.get_weights(), second.get_weights()))
    assert not all(np.array_equal(a, b) for a, b in zip(first.get_weights(), other.get_weights()))
    p1 = bnn.predict(first, X, num_samples=10, seed=3)
    p2 = bnn.predict(second, X, num_samples=10, seed=3)
    np.testing.assert_array_equal(p1.epistemic_sd, p2.epistemic_sd)
    np.testing.assert_array_equal(p1.epistemic_sd, bnn.predict(first, X, num_samples=10, seed=3).epistemic_sd)
    assert not np.array_equal(p1.epistemic_sd, bnn.predict(first, X, num_samples=10, seed=4).epistemic_sd)
    # different layers of the same shape get different initial values (seeded initialisers, not one shared)
    hidden_1 = bnn.build_regressor("reparameterization", num_train=N, hidden_units=(4, 4, 4), seed=0)
    w = hidden_1.get_weights()
    assert not np.array_equal(w[4], w[8])


NOISY_KINDS = ("reparameterization", "flipout", "local_reparameterization", "stochastic_hidden", "mc_dropout")


def _fresh(kind):
    return bnn.build_regressor(kind, num_train=N, hidden_units=HIDDEN, seed=7)


def _fit_and_gradient_variance(model):
    history = bnn.fit(model, X, Y, epochs=1, batch_size=32, seed=1)
    return history.loss, cb.variational.gradient_variance(model, X[:16], Y[:16], num_draws=4, seed=2).mean_variance


def _unrelated_randomness():
    """Stateful TF randomness, global-seed changes and other models: none of it may shift a seeded run."""
    tf.random.set_seed(99)
    tf.random.normal([3])
    tf.function(lambda: tf.random.uniform([2]))()
    tf_keras.utils.set_random_seed(123)
    other = bnn.build_regressor("flipout", num_train=N, hidden_units=HIDDEN, seed=8)
    bnn.fit(other, X, Y, epochs=1, batch_size=N, seed=5)
    bnn.predict(other, X, num_samples=4, seed=3)
    other(X[:, None])


def test_seeded_predict_fit_and_gradient_variance_do_not_depend_on_what_ran_before():
    reference = {kind: bnn.predict(_fresh(kind), X, num_samples=5, seed=3) for kind in NOISY_KINDS}
    reference_training = _fit_and_gradient_variance(_fresh("flipout"))
    _unrelated_randomness()
    for kind in reversed(NOISY_KINDS):      # another order, new traces, another global seed
        model = _fresh(kind)
        pred = bnn.predict(model, X, num_samples=5, seed=3)
        np.testing.assert_array_equal(pred.mean, reference[kind].mean, err_msg=kind)
        np.testing.assert_array_equal(pred.epistemic_sd, reference[kind].epistemic_sd, err_msg=kind)
        for _ in range(3):                  # passes run in parallel loop iterations: no race for the draws
            np.testing.assert_array_equal(bnn.predict(model, X, num_samples=5, seed=3).mean, pred.mean, err_msg=kind)
        other_seed = bnn.predict(model, X, num_samples=5, seed=4)
        assert not np.array_equal(other_seed.epistemic_sd, pred.epistemic_sd), kind
    loss, variance = _fit_and_gradient_variance(_fresh("flipout"))
    np.testing.assert_array_equal(loss, reference_training[0])
    assert variance == reference_training[1]


# ---- predict ----
def test_predict_decomposition(models):
    for kind, model in models.items():
        pred = bnn.predict(model, X, num_samples=20, seed=0)
        assert pred.mean.shape == (N,) and pred.total_sd.shape == (N,)
        np.testing.assert_allclose(pred.total_sd**2, pred.aleatoric_sd**2 + pred.epistemic_sd**2, rtol=1e-5)
        if kind == "deterministic":
            assert np.all(pred.total_sd == 0)
        elif kind == "output_only":
            assert np.all(pred.epistemic_sd == 0) and np.all(pred.aleatoric_sd > 0)
        else:
            assert np.all(pred.epistemic_sd > 0), kind


def test_predict_matches_the_model_output(models):
    out = models["output_only"](X[:, None])
    pred = bnn.predict(models["output_only"], X, seed=0)
    np.testing.assert_allclose(pred.mean, out.loc.numpy()[:, 0], rtol=1e-5)
    np.testing.assert_allclose(pred.aleatoric_sd, out.scale.numpy()[:, 0], rtol=1e-5)
    members = models["ensemble"](X[:, None])
    pred = bnn.predict(models["ensemble"], X, seed=0)
    np.testing.assert_allclose(pred.mean, members.loc.numpy().mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(pred.epistemic_sd, members.loc.numpy().std(axis=1), rtol=1e-4)
    np.testing.assert_allclose(pred.aleatoric_sd, np.sqrt(np.mean(members.scale.numpy() ** 2, axis=1)), rtol=1e-4)


def test_predict_epistemic_sd_matches_a_manual_monte_carlo(models):
    model = models["reparameterization"]
    one_pass = tf.function(lambda: model(tf.constant(X[:, None])).loc[:, 0])   # a separate, plain loop
    locs = np.stack([one_pass().numpy() for _ in range(400)])
    pred = bnn.predict(model, X, num_samples=400, seed=2)
    # two independent estimates of the same sd from 400 draws: relative sd about 1/sqrt(2 * 400) each
    np.testing.assert_allclose(pred.epistemic_sd, locs.std(axis=0), rtol=5 * np.sqrt(2 / 800))


# ---- fit ----
def test_fit_records_nll_and_kl_and_reduces_the_loss():
    model = bnn.build_regressor("flipout", num_train=N, hidden_units=HIDDEN, seed=2, learning_rate=0.01)
    history = bnn.fit(model, X, Y, epochs=40, batch_size=16, seed=0)
    assert history.loss.shape == history.nll.shape == history.kl.shape == (40,)
    np.testing.assert_allclose(history.loss, history.nll + history.kl)
    assert np.all(history.kl > 0) and history.loss[-5:].mean() < history.loss[:5].mean()
    assert history.seconds_per_epoch.shape == (40,) and history.seed == 0
    deterministic = bnn.build_regressor("deterministic", num_train=N, hidden_units=HIDDEN, seed=2)
    mse = bnn.fit(deterministic, X, Y, epochs=40, seed=0)
    assert np.all(mse.kl == 0) and mse.nll[-1] < mse.nll[0]


@pytest.mark.slow
def test_output_only_learns_the_noise_level():
    het = cb.data.heteroscedastic()
    model = bnn.build_regressor("output_only", num_train=len(het.x), seed=0)
    bnn.fit(model, het.x, het.y, epochs=300, seed=0)
    for x0 in (-0.75, 0.75):
        truth = het.truth["noise_base"] + het.truth["noise_slope"] * (x0 + 1)
        sigma = bnn.predict(model, [x0]).aleatoric_sd[0]
        assert abs(sigma / truth - 1) < 0.4, (x0, sigma, truth)


@pytest.mark.slow
def test_local_reparameterization_gradient_variance_falls_with_batch_size():
    het = cb.data.heteroscedastic()
    variance = {}
    for kind in ("reparameterization", "local_reparameterization"):
        model = bnn.build_regressor(kind, num_train=300, hidden_units=(16,), seed=0)
        means = [v for v in model.trainable_variables if "loc" in v.name]
        variance[kind] = [cb.variational.gradient_variance(model, het.x[:b], het.y[:b], num_draws=100, seed=0,
                                                           variables=means).mean_variance for b in (4, 256)]
    assert variance["local_reparameterization"][0] / variance["local_reparameterization"][1] > 10
    assert (variance["reparameterization"][0] / variance["reparameterization"][1]
            < variance["local_reparameterization"][0] / variance["local_reparameterization"][1])


# ---- bad input ----
@pytest.mark.parametrize("kwargs, match", [
    (dict(kind="bayesian"), "unknown kind"),
    (dict(num_train=0), "num_train"),
    (dict(hidden_units=()), "hidden_units"),
    (dict(hidden_units=(4, 0)), "width"),
    (dict(prior_sd=0.0), "prior_sd"),
    (dict(dropout_rate=1.0), "dropout_rate"),
    (dict(num_members=0), "num_members"),
    (dict(input_dim=0), "input_dim"),
    (dict(kind="stochastic_hidden", hidden_kl_weight=-0.5), "hidden_kl_weight"),
    (dict(kind="stochastic_hidden", hidden_kl_weight=np.nan), "hidden_kl_weight"),
])
def test_build_regressor_rejects_bad_input(kwargs, match):
    args = dict(kind="flipout", num_train=10, seed=0) | kwargs
    kind = args.pop("kind")
    with pytest.raises(ValueError, match=match):
        bnn.build_regressor(kind, **args)


@pytest.mark.parametrize("seed", [None, 1.5, True, "0"])
def test_seeds_must_be_ints(models, seed):
    with pytest.raises(TypeError, match="seed"):
        bnn.build_regressor("flipout", num_train=10, seed=seed)
    with pytest.raises(TypeError, match="seed"):
        bnn.predict(models["flipout"], X, seed=seed)
    with pytest.raises(TypeError, match="seed"):
        bnn.fit(models["flipout"], X, Y, epochs=1, seed=seed)


@pytest.mark.parametrize("num_samples", [0, -3, 1.5, True])
def test_predict_rejects_bad_num_samples(models, num_samples):
    with pytest.raises(ValueError, match="num_samples"):
        bnn.predict(models["flipout"], X, num_samples=num_samples)


def test_predict_and_fit_reject_bad_shapes(models):
    with pytest.raises(ValueError, match="shape"):
        bnn.predict(models["flipout"], np.ones((5, 2)))
    with pytest.raises(ValueError, match="NaN"):
        bnn.predict(models["flipout"], np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="one target per input"):
        bnn.fit(models["flipout"], X, Y[:10], epochs=1, seed=0)
    with pytest.raises(ValueError, match="epochs"):
        bnn.fit(models["flipout"], X, Y, epochs=0, seed=0)
    with pytest.raises(ValueError, match="batch_size"):
        bnn.fit(models["flipout"], X, Y, epochs=1, batch_size=0, seed=0)
    with pytest.raises(ValueError, match="finite"):
        bnn.fit(models["flipout"], X, np.full(N, np.nan), epochs=1, seed=0)
    plain = tf_keras.Sequential([tf_keras.layers.Dense(1, input_shape=(1,))])
    with pytest.raises(ValueError, match="build_regressor"):
        bnn.predict(plain, X)


# ---- layers ----
def test_gaussian_hidden_units_config_round_trip():
    layer = bnn.GaussianHiddenUnits(5, activation="tanh", kl_weight=0.25, seed=3, initializer_seed=11, name="h")
    config = layer.get_config()
    assert config["initializer_seed"] == 11 and config["seed"] == 3 and config["kl_weight"] == 0.25
    clone = bnn.GaussianHiddenUnits.from_config(config)
    assert (clone.units, clone.kl_weight, clone.seed, clone.initializer_seed) == (5, 0.25, 3, 11)
    inputs = tf.constant(X[:6, None])
    layer(inputs)
    clone(inputs)
    np.testing.assert_array_equal(layer.moments.kernel.numpy(), clone.moments.kernel.numpy())   # same seeded init
    with noise.stateless_noise(4):
        first = layer(inputs).numpy()
    with noise.stateless_noise(4):
        np.testing.assert_array_equal(clone(inputs).numpy(), first)


@pytest.mark.parametrize("kwargs, match", [(dict(units=0), "units"), (dict(units=3, kl_weight=-1.0), "kl_weight"),
                                           (dict(units=3, kl_weight=np.inf), "kl_weight")])
def test_gaussian_hidden_units_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bnn.GaussianHiddenUnits(**kwargs)


def test_always_dropout_is_on_at_prediction_and_round_trips():
    from cs109b_bayes.bnn.layers import AlwaysDropout

    layer = AlwaysDropout(0.5)
    out = layer(tf.ones([200, 4]), training=False).numpy()
    assert set(np.unique(out)) == {0.0, 2.0}
    assert AlwaysDropout.from_config(layer.get_config()).rate == 0.5
    for rate in (0.0, 1.0, True):
        with pytest.raises(ValueError, match="rate"):
            AlwaysDropout(rate)


# ---- the predictive type, the cache, global state ----
def test_predict_returns_the_shared_predictive_with_draws(models):
    assert bnn.Predictive is cb.models.Predictive
    pred = bnn.predict(models["flipout"], X, num_samples=7, seed=1)
    assert isinstance(pred, cb.models.Predictive)
    assert pred.draws.shape == (1, 7, N) and pred.num_samples == 7 and pred.seed == 1
    np.testing.assert_array_equal(pred.x, X)
    np.testing.assert_allclose(pred.mean, pred.draws[0].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(pred.epistemic_sd, pred.draws[0].std(axis=0), rtol=1e-5)
    members = bnn.predict(models["ensemble"], X, seed=0)
    assert members.draws.shape == (1, 3, N) and members.num_samples == 3


def test_predict_cache_does_not_keep_models_alive():
    model = bnn.build_regressor("flipout", num_train=N, hidden_units=(4,), seed=0)
    bnn.predict(model, X, num_samples=2, seed=0)
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None, "predict's cache of compiled passes keeps the model alive"


def test_build_fit_and_predict_leave_global_random_state_alone(untouched):
    def build_fit_predict():
        for kind in bnn.KINDS:
            model = bnn.build_regressor(kind, num_train=N, hidden_units=(4,), seed=0, num_members=2)
            bnn.fit(model, X, Y, epochs=1, batch_size=N, seed=0)
            bnn.predict(model, X, num_samples=2, seed=0)

    untouched(build_fit_predict)


def test_fit_epoch_matches_a_step_by_step_reference():
    """The compiled epoch (a tf.range loop over minibatches) equals a plain eager loop of Adam steps
    with the same minibatches (the last one partial) and the same per-step noise seeds."""
    from cs109b_bayes import noise, seeds
    n, batch_size = 23, 8                                   # 3 minibatches: 8, 8, 7
    x, y = X[:n], Y[:n]
    fitted = bnn.build_regressor("flipout", num_train=n, hidden_units=HIDDEN, seed=4)
    reference = bnn.build_regressor("flipout", num_train=n, hidden_units=HIDDEN, seed=4)
    history = bnn.fit(fitted, x, y, epochs=2, batch_size=batch_size, seed=3)
    rng = seeds.numpy_rng(3, "fit/shuffle")
    base = tf.constant(seeds.stateless_seed(3, "fit"))
    reference.optimizer.build(reference.trainable_variables)
    @tf.function
    def reference_step(xb, yb, step):                       # one Adam step, compiled on its own
        with tf.GradientTape() as tape, noise.stateless_noise(tf.random.experimental.stateless_fold_in(base, step)):
            out = reference(xb, training=True)
            nll = tf.reduce_mean(-out.log_prob(yb))
            kl = tf.add_n(reference.losses)
            loss = nll + kl
        grads = tape.gradient(loss, reference.trainable_variables)
        reference.optimizer.apply_gradients(zip(grads, reference.trainable_variables))
        return nll, kl

    step = 0
    for epoch in range(2):
        order = rng.permutation(n)
        nll_sum = kl_sum = 0.0
        for begin in range(0, n, batch_size):
            idx = order[begin:begin + batch_size]
            nll, kl = reference_step(tf.constant(x[idx, None], tf.float32), tf.constant(y[idx, None], tf.float32),
                                     tf.constant(step, tf.int32))
            nll_sum += float(nll) * len(idx)
            kl_sum += float(kl) * len(idx)
            step += 1
        np.testing.assert_allclose(history.nll[epoch], nll_sum / n, rtol=1e-5)
        np.testing.assert_allclose(history.kl[epoch], kl_sum / n, rtol=1e-5)
    for a, b in zip(fitted.trainable_variables, reference.trainable_variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_fit_traces_its_epoch_once_per_model():
    model = bnn.build_regressor("reparameterization", num_train=N, hidden_units=HIDDEN, seed=0)
    bnn.fit(model, X, Y, epochs=2, batch_size=16, seed=0)
    bnn.fit(model, X, Y, epochs=3, batch_size=32, seed=1)            # other seed and batch size: no new trace
    assert model._cb_epoch_function[1].experimental_get_tracing_count() == 1
