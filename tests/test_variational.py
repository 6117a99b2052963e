"""cs109b_bayes.variational: KL, ELBO, mean-field VI and the gradient-variance tool, against closed forms."""

import cs109b_bayes as cb  # noqa: I001  (first: sets up Keras 2)
import ast
import pathlib

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras
from scipy import stats

tfd = tfp.distributions
SEED = 20261121


# ---- KL ----
def test_kl_gaussian_matches_tfp_and_is_asymmetric():
    rng = np.random.default_rng(SEED)
    qm, pm = rng.normal(size=10), rng.normal(size=10)
    qs, ps = rng.uniform(0.1, 3, size=10), rng.uniform(0.1, 3, size=10)
    expected = tfd.kl_divergence(tfd.Normal(qm, qs), tfd.Normal(pm, ps)).numpy()
    np.testing.assert_allclose(cb.variational.kl_gaussian(qm, qs, pm, ps), expected, rtol=1e-10)
    np.testing.assert_allclose(cb.variational.kl_gaussian(qm, qs, qm, qs), 0.0, atol=1e-12)
    assert cb.variational.kl_gaussian(0.0, 1.0, 1.0, 2.0) == pytest.approx(np.log(2) + 2 / 8 - 0.5)
    assert abs(cb.variational.kl_gaussian(0.0, 1.0, 1.0, 2.0) - cb.variational.kl_gaussian(1.0, 2.0, 0.0, 1.0)) > 0.5


def test_kl_monte_carlo_within_its_standard_error():
    qm, qs, pm, ps = np.array([0.0, 1.0, -2.0]), np.array([1.0, 0.5, 2.0]), np.array([1.0, 0.0, 0.0]), 1.5
    closed = np.sum(cb.variational.kl_gaussian(qm, qs, pm, ps))
    est = cb.variational.kl_monte_carlo(qm, qs, pm, ps, num_samples=20_000, seed=SEED)
    assert est.num_samples == 20_000 and est.seed == SEED
    assert abs(est.value - closed) < 5 * est.stderr
    again = cb.variational.kl_monte_carlo(qm, qs, pm, ps, num_samples=20_000, seed=SEED)
    assert again.value == est.value


@pytest.mark.parametrize("bad", [dict(q_sd=0.0), dict(p_sd=-1.0), dict(q_sd=np.nan)])
def test_kl_rejects_bad_sds(bad):
    args = dict(q_mean=0.0, q_sd=1.0, p_mean=0.0, p_sd=1.0) | bad
    with pytest.raises(ValueError, match="sd"):
        cb.variational.kl_gaussian(**args)
    with pytest.raises(ValueError, match="sd"):
        cb.variational.kl_monte_carlo(**args, num_samples=10, seed=0)


def test_kl_monte_carlo_rejects_bad_counts_and_seeds():
    with pytest.raises(ValueError, match="num_samples"):
        cb.variational.kl_monte_carlo(0.0, 1.0, 0.0, 1.0, num_samples=1, seed=0)
    with pytest.raises(TypeError, match="seed"):
        cb.variational.kl_monte_carlo(0.0, 1.0, 0.0, 1.0, num_samples=10, seed=1.5)


# ---- ELBO on a conjugate model: y_i ~ N(mu, noise^2), mu ~ N(0, prior^2) ----
NOISE, PRIOR = 1.0, 3.0
Y = np.random.default_rng(1).normal(1.5, NOISE, size=20)


def _log_lik(mu):
    return tf.reduce_sum(tfd.Normal(mu[:, None], NOISE).log_prob(tf.constant(Y, tf.float32)), axis=-1)


def _posterior():
    precision = len(Y) / NOISE**2 + 1 / PRIOR**2
    return Y.sum() / NOISE**2 / precision, 1 / np.sqrt(precision)


def _log_evidence():
    cov = NOISE**2 * np.eye(len(Y)) + PRIOR**2
    return stats.multivariate_normal(np.zeros(len(Y)), cov).logpdf(Y)


def test_elbo_equals_log_evidence_at_the_exact_posterior():
    mean, sd = _posterior()
    est = cb.variational.elbo(_log_lik, {"mu": mean}, {"mu": sd}, prior_sd=PRIOR, num_samples=20_000, seed=SEED)
    assert abs(est.value - _log_evidence()) < 5 * est.stderr + 1e-3


def test_elbo_gap_is_the_kl_to_the_posterior():
    mean, sd = _posterior()
    q_mean, q_sd = mean + 0.3, sd * 2.0
    est = cb.variational.elbo(_log_lik, {"mu": q_mean}, {"mu": q_sd}, prior_sd=PRIOR, num_samples=20_000, seed=SEED)
    gap = cb.variational.kl_gaussian(q_mean, q_sd, mean, sd)
    assert abs(est.value - (_log_evidence() - gap)) < 5 * est.stderr + 1e-3


def test_elbo_rejects_wrong_shape():
    with pytest.raises(ValueError, match="one value per sample"):
        cb.variational.elbo(lambda mu: tf.reduce_sum(mu), {"mu": 0.0}, {"mu": 1.0}, prior_sd=1.0,
                            num_samples=10, seed=0)
    with pytest.raises(ValueError, match="names"):
        cb.variational.elbo(_log_lik, {"mu": 0.0}, {"nu": 1.0}, prior_sd=1.0, num_samples=10, seed=0)


# ---- mean-field fit ----
def test_fit_mean_field_recovers_conjugate_posterior():
    mean, sd = _posterior()
    vi = cb.variational.fit_mean_field(_log_lik, {"mu": 0.0}, prior_sd=PRIOR, num_steps=600, seed=SEED,
                                       learning_rate=0.1)
    assert abs(vi.mean["mu"] - mean) < 0.05 * sd
    assert abs(vi.sd["mu"] / sd - 1) < 0.1
    assert vi.elbo.shape == (600,) and vi.elbo[-50:].mean() > vi.elbo[:10].mean()
    assert vi.seed == SEED and vi.sample("mu", 5, seed=0).shape == (5,)


def test_fit_mean_field_is_reproducible_and_takes_an_elbo_fn():
    first = cb.variational.fit_mean_field(_log_lik, {"mu": 0.0}, prior_sd=PRIOR, num_steps=20, seed=3)
    second = cb.variational.fit_mean_field(_log_lik, {"mu": 0.0}, prior_sd=PRIOR, num_steps=20, seed=3)
    assert first.mean["mu"] == second.mean["mu"] and np.array_equal(first.elbo, second.elbo)

    def elbo_fn(mean, sd, eps):
        w = mean["mu"] + sd["mu"] * eps["mu"]
        kl = tf.math.log(PRIOR / sd["mu"]) + (sd["mu"] ** 2 + mean["mu"] ** 2) / (2 * PRIOR**2) - 0.5
        return tf.reduce_mean(_log_lik(w)) - kl

    third = cb.variational.fit_mean_field(None, {"mu": 0.0}, prior_sd=PRIOR, num_steps=20, seed=3, elbo_fn=elbo_fn)
    np.testing.assert_allclose(third.elbo, first.elbo, rtol=1e-4)


@pytest.mark.slow
def test_fit_mean_field_linear_regression_matches_exact_posterior():
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=100)
    y = 1.0 - 2.0 * x + rng.normal(size=100)
    x_tf, y_tf = tf.constant(x, tf.float32), tf.constant(y, tf.float32)

    def log_lik(beta):
        return tf.reduce_sum(tfd.Normal(beta[:, :1] + beta[:, 1:] * x_tf, 1.0).log_prob(y_tf), axis=-1)

    design = np.column_stack([np.ones_like(x), x])
    cov = np.linalg.inv(design.T @ design + np.eye(2) / 25)
    mean = cov @ design.T @ y
    vi = cb.variational.fit_mean_field(log_lik, {"beta": [0.0, 0.0]}, prior_sd=5.0, num_steps=1500, seed=SEED,
                                       learning_rate=0.1)
    # mean field recovers the conditional sds 1/sqrt(Lambda_jj) (equal to the marginals when uncorrelated)
    mf_sd = 1 / np.sqrt(np.diag(np.linalg.inv(cov)))
    assert np.all(np.abs(vi.mean["beta"] - mean) < 0.05 * np.sqrt(np.diag(cov)))
    assert np.all(np.abs(vi.sd["beta"] / mf_sd - 1) < 0.1)


@pytest.mark.parametrize("kwargs, match", [
    (dict(init={}), "init"),
    (dict(init={"mu": np.nan}), "finite"),
    (dict(prior_sd=-1.0), "prior_sd"),
    (dict(num_steps=0), "num_steps"),
    (dict(num_samples=0), "num_samples"),
    (dict(log_likelihood_fn=None), "elbo_fn"),
    (dict(log_likelihood_fn=lambda mu: tf.reduce_sum(mu)), "one value per sample"),
])
def test_fit_mean_field_rejects_bad_input(kwargs, match):
    args = dict(log_likelihood_fn=_log_lik, init={"mu": 0.0}, prior_sd=1.0, num_steps=10, seed=0) | kwargs
    log_likelihood_fn = args.pop("log_likelihood_fn")
    init = args.pop("init")
    with pytest.raises(ValueError, match=match):
        cb.variational.fit_mean_field(log_likelihood_fn, init, **args)


# ---- gradient variance against closed forms ----
X = np.array([0.5, -1.0, 1.5, 2.0, -0.3, 0.8], dtype=np.float32)
TARGET = np.array([0.1, -0.4, 0.9, 1.0, 0.0, 0.2], dtype=np.float32)
MU, SIGMA = 0.7, 0.4


def _one_weight_model(layer_cls):
    tf_keras.utils.set_random_seed(0)
    model = tf_keras.Sequential([layer_cls(1, bias_posterior_fn=None, input_shape=(1,))])
    model(X[:, None])
    model.set_weights([np.array([[MU]], np.float32), np.array([[np.log(np.expm1(SIGMA))]], np.float32)])
    return model


def _mse(model, x, y):
    return tf.reduce_mean(tf.square(model(x) - y))


def _rademacher_sum_kurtosis(a):
    """Kurtosis E[T^4] / E[T^2]^2 of T = sum_i t_i a_i with independent random signs t_i."""
    return (3 * np.sum(a**2) ** 2 - 2 * np.sum(a**4)) / np.sum(a**2) ** 2


@pytest.mark.parametrize("layer_cls, per_example", [
    (tfp.layers.DenseReparameterization, False),
    (tfp.layers.DenseFlipout, True),
    (tfp.layers.DenseLocalReparameterization, True),
])
def test_gradient_variance_matches_closed_form(layer_cls, per_example):
    # loss = mean_i (w_i x_i - y_i)^2, w_i = MU + SIGMA * noise_i; d loss / d MU = (2/n) sum_i (w_i x_i - y_i) x_i.
    # Shared noise (one eps): Var = (2/n)^2 SIGMA^2 (sum x^2)^2.
    # Flipout (eps * t_i, random signs) and local reparameterization (eps_i * |x_i| on x_i w):
    # Var = (2/n)^2 SIGMA^2 sum x^4.
    n = len(X)
    if per_example:
        expected = (2 / n) ** 2 * SIGMA**2 * np.sum(X.astype(float) ** 4)
    else:
        expected = (2 / n) ** 2 * SIGMA**2 * np.sum(X.astype(float) ** 2) ** 2
    model = _one_weight_model(layer_cls)
    num_draws = 1500
    result = cb.variational.gradient_variance(model, X, TARGET, num_draws=num_draws, seed=SEED,
                                              variables=model.trainable_variables[:1], loss_fn=_mse)
    got = float(next(iter(result.variance.values())).squeeze())
    # relative sd of a sample variance: sqrt((kurtosis - 1) / num_draws); Gaussian kurtosis is 3, and the
    # Flipout gradient noise is eps * (a Rademacher sum), whose kurtosis is 3 * that of the sum.
    kurtosis = 3.0 * (_rademacher_sum_kurtosis(X.astype(float) ** 2) if layer_cls is tfp.layers.DenseFlipout else 1.0)
    tolerance = 5 * np.sqrt((kurtosis - 1) / num_draws)
    assert abs(got / expected - 1) < tolerance, (got, expected, tolerance)
    assert result.num_draws == num_draws and result.batch_size == n
    assert result.mean_variance == pytest.approx(got)
    # the mean gradient is the noise-free gradient (2/n) sum (MU x - y) x, within its standard error
    mean_grad = float(next(iter(result.mean_gradient.values())).squeeze())
    noise_free = 2 / n * np.sum((MU * X - TARGET) * X)
    assert abs(mean_grad - noise_free) < 5 * np.sqrt(expected / num_draws)


def test_gradient_variance_is_zero_without_noise():
    tf_keras.utils.set_random_seed(0)
    model = tf_keras.Sequential([tf_keras.layers.Dense(3, input_shape=(2,)), tf_keras.layers.Dense(1)])
    result = cb.variational.gradient_variance(model, np.ones((5, 2)), np.zeros(5), num_draws=5, seed=0,
                                              loss_fn=_mse)
    assert result.mean_variance == 0.0


def test_gradient_variance_rejects_bad_input():
    model = _one_weight_model(tfp.layers.DenseFlipout)
    with pytest.raises(ValueError, match="num_draws"):
        cb.variational.gradient_variance(model, X, TARGET, num_draws=1, seed=0)
    with pytest.raises(ValueError, match="same B"):
        cb.variational.gradient_variance(model, X, TARGET[:3], seed=0)
    with pytest.raises(ValueError, match="finite"):
        cb.variational.gradient_variance(model, np.full(6, np.nan), TARGET, seed=0)


# ---- seeds, global state, structure ----
@pytest.mark.parametrize("call", [
    lambda seed: cb.variational.kl_monte_carlo(0.0, 1.0, 0.0, 1.0, num_samples=10, seed=seed),
    lambda seed: cb.variational.elbo(_log_lik, {"mu": 0.0}, {"mu": 1.0}, prior_sd=1.0, num_samples=10, seed=seed),
    lambda seed: cb.variational.fit_mean_field(_log_lik, {"mu": 0.0}, prior_sd=1.0, num_steps=4, seed=seed),
    lambda seed: cb.variational.VIResult({"mu": 0.0}, {"mu": 1.0}, np.zeros(4), 0.0, 0, 4).sample("mu", 3, seed=seed),
    lambda seed: cb.variational.gradient_variance(_one_weight_model(tfp.layers.DenseFlipout), X, TARGET,
                                                  num_draws=2, seed=seed),
])
def test_seeds_must_be_ints(call):
    for seed in ("zero", 1.5, None, True):
        with pytest.raises(TypeError, match="seed"):
            call(seed)


def test_no_global_random_state_is_read_or_written(untouched):
    model = cb.bnn.build_regressor("flipout", num_train=8, hidden_units=(4,), seed=0)
    results = untouched(lambda: [
        cb.variational.kl_monte_carlo(0.0, 1.0, 0.0, 1.0, num_samples=10, seed=1).value,
        cb.variational.elbo(_log_lik, {"mu": 0.0}, {"mu": 1.0}, prior_sd=1.0, num_samples=10, seed=1).value,
        cb.variational.fit_mean_field(_log_lik, {"mu": 0.0}, prior_sd=1.0, num_steps=4, seed=1).elbo[-1],
        cb.variational.gradient_variance(model, X, TARGET, num_draws=3, seed=1).mean_variance,
    ])
    np.random.seed(7)                      # another global state: the same numbers
    again = [
        cb.variational.kl_monte_carlo(0.0, 1.0, 0.0, 1.0, num_samples=10, seed=1).value,
        cb.variational.elbo(_log_lik, {"mu": 0.0}, {"mu": 1.0}, prior_sd=1.0, num_samples=10, seed=1).value,
        cb.variational.fit_mean_field(_log_lik, {"mu": 0.0}, prior_sd=1.0, num_steps=4, seed=1).elbo[-1],
        cb.variational.gradient_variance(model, X, TARGET, num_draws=3, seed=1).mean_variance,
    ]
    assert again == results


def test_variational_does_not_import_bnn():
    package = pathlib.Path(cb.__file__).parent / "variational"
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("cs109b_bayes.bnn"), f"{path.name} imports {node.module}"


def test_gradient_variance_reuses_its_compiled_function_and_frees_the_model():
    import gc
    import weakref

    from cs109b_bayes.variational import gradient_noise

    het = cb.data.heteroscedastic()
    model = cb.bnn.build_regressor("flipout", num_train=64, seed=0, hidden_units=(8,))
    first = cb.variational.gradient_variance(model, het.x[:16], het.y[:16], num_draws=4, seed=1)
    (compiled,) = gradient_noise._COMPILED[model].values()
    traces = compiled.experimental_get_tracing_count()
    again = cb.variational.gradient_variance(model, het.x[:16], het.y[:16], num_draws=6, seed=2)
    same = cb.variational.gradient_variance(model, het.x[:16], het.y[:16], num_draws=4, seed=1)
    assert compiled.experimental_get_tracing_count() == traces     # new seed and draw count: no retrace
    assert again.num_draws == 6 and same.mean_variance == first.mean_variance
    ref = weakref.ref(model)
    del model, compiled
    gc.collect()
    assert ref() is None
