"""Tests of cs109b_bayes.models (and plotting.networks) against scipy, closed forms and brute force."""

import inspect

import numpy as np
import pytest
from scipy import stats

import cs109b_bayes as cb
from cs109b_bayes import models

SEED = 20261121


@pytest.fixture
def rng():
    return np.random.default_rng(SEED)


@pytest.fixture(scope="module")
def gap():
    return cb.data.sin_gap()


# ---------------------------------------------------------------- linear regression


def test_conjugate_posterior_matches_brute_force_grid(rng):
    x = rng.uniform(-2, 2, size=15)
    y = 0.5 - 1.2 * x + rng.normal(size=15) * 0.7
    post = models.conjugate_linear_posterior(x, y, noise_sd=0.7, prior_sd=2.0, prior_mean=0.3)
    log_prob = models.linear_log_prob(x, y, noise_sd=0.7, prior_sd=2.0, prior_mean=0.3)
    b0, b1 = np.meshgrid(np.linspace(post.mean[0] - 6 * post.sd[0], post.mean[0] + 6 * post.sd[0], 301),
                         np.linspace(post.mean[1] - 6 * post.sd[1], post.mean[1] + 6 * post.sd[1], 301))
    weights = np.exp(log_prob(b0.ravel(), b1.ravel()) - log_prob(b0.ravel(), b1.ravel()).max())
    weights /= weights.sum()
    mean = np.array([weights @ b0.ravel(), weights @ b1.ravel()])
    centred = np.stack([b0.ravel() - mean[0], b1.ravel() - mean[1]])
    cov = (centred * weights) @ centred.T
    np.testing.assert_allclose(post.mean, mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(post.cov, cov, rtol=1e-3, atol=1e-8)


def test_conjugate_posterior_marginals_and_pdfs():
    ads = cb.data.advertising()
    post = models.conjugate_linear_posterior(ads.x, ads.y, noise_sd=3.26)
    assert post.names == ("beta0", "beta1")
    assert post.marginal("beta1").mean() == pytest.approx(post.mean[1])
    assert post.marginal("beta0").std() == pytest.approx(post.sd[0])
    pdfs = post.pdfs()
    assert set(pdfs) == {"beta0", "beta1"}
    assert pdfs["beta1"](post.mean[1]) == pytest.approx(stats.norm.pdf(0, 0, post.sd[1]))
    # Wide prior: data-dominated, close to OLS.
    np.testing.assert_allclose(post.mean, np.polyfit(ads.x, ads.y, 1)[::-1], rtol=0.01)


def test_conjugate_posterior_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        models.conjugate_linear_posterior([1, 2, 3], [1, 2], noise_sd=1.0)
    with pytest.raises(ValueError, match="finite"):
        models.conjugate_linear_posterior([1, np.nan], [1, 2], noise_sd=1.0)
    with pytest.raises(ValueError, match="noise_sd"):
        models.conjugate_linear_posterior([1, 2], [1, 2], noise_sd=0.0)
    with pytest.raises(ValueError, match="prior_sd"):
        models.conjugate_linear_posterior([1, 2], [1, 2], noise_sd=1.0, prior_sd=-1.0)


def test_linear_log_prob_matches_scipy_with_chain_axis(rng):
    x, y = rng.normal(size=12), rng.normal(size=12)
    log_prob = models.linear_log_prob(x, y, noise_sd=0.8, prior_sd=3.0)
    beta0, beta1 = rng.normal(size=(2, 5))
    expected = [stats.norm.logpdf([b0, b1], 0, 3.0).sum() + stats.norm.logpdf(y, b0 + b1 * x, 0.8).sum()
                for b0, b1 in zip(beta0, beta1)]
    np.testing.assert_allclose(log_prob(beta0, beta1), expected, rtol=1e-10)
    assert np.ndim(log_prob(0.1, 0.2)) == 0


def test_linear_log_prob_tensorflow_matches_numpy(rng):
    tf = pytest.importorskip("tensorflow")
    x, y = rng.normal(size=12), rng.normal(size=12)
    beta0, beta1 = rng.normal(size=(2, 3))
    numpy_fn = models.linear_log_prob(x, y, noise_sd=0.8)
    tf_fn = models.linear_log_prob(x, y, noise_sd=0.8, backend="tensorflow")
    got = tf_fn(tf.constant(beta0, tf.float64), tf.constant(beta1, tf.float64)).numpy()
    np.testing.assert_allclose(got, numpy_fn(beta0, beta1), rtol=1e-10)


def test_unknown_backend_is_rejected(rng):
    with pytest.raises(ValueError, match="backend"):
        models.linear_log_prob([1.0, 2.0], [1.0, 2.0], noise_sd=1.0, backend="torch")(0.0, 0.0)


def test_jax_backend_matches_numpy(gap):
    jnp = pytest.importorskip("jax.numpy")
    weights = {n: jnp.asarray([0.5, -1.0]) for n in models.GAP5_NAMES}
    got = models.gap5_log_prob(gap.x, gap.y, backend="jax")(**weights)
    expected = models.gap5_log_prob(gap.x, gap.y)(**{n: np.asarray(v) for n, v in weights.items()})
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5)


@pytest.mark.slow
def test_metropolis_on_linear_log_prob_matches_conjugate_posterior():
    ads = cb.data.advertising()
    post = models.conjugate_linear_posterior(ads.x, ads.y, noise_sd=3.26)
    result = cb.metropolis(models.linear_log_prob(ads.x, ads.y, noise_sd=3.26), {"beta0": 6.5, "beta1": 0.048},
                           proposal_scale={"beta0": 0.45, "beta1": 0.0027}, num_steps=20_000, num_chains=4,
                           seed=SEED)
    for k, name in enumerate(post.names):
        mcse = cb.diagnostics.mcse_mean(result.samples[name])
        assert abs(result.flat(name).mean() - post.mean[k]) <= 4 * mcse


@pytest.mark.slow
def test_hmc_on_tensorflow_linear_log_prob_matches_conjugate_posterior(rng):
    x = rng.uniform(-1, 1, size=30)
    y = 1.0 + 2.0 * x + rng.normal(size=30) * 0.5
    post = models.conjugate_linear_posterior(x, y, noise_sd=0.5)
    result = cb.sample_hmc(models.linear_log_prob(x, y, noise_sd=0.5, backend="tensorflow"),
                           {"beta0": 1.0, "beta1": 2.0}, num_results=1000, num_burnin_steps=500, seed=SEED)
    for k, name in enumerate(post.names):
        mcse = cb.diagnostics.mcse_mean(result.samples[name])
        assert abs(result.flat(name).mean() - post.mean[k]) <= 4 * mcse
        assert result.flat(name).std() == pytest.approx(post.sd[k], rel=0.15)


# ---------------------------------------------------------------- sin network


def test_gap5_forward_matches_formula_and_broadcasts(rng):
    x = rng.uniform(-1, 1, size=7)
    w = rng.normal(size=(5, 3))
    got = models.gap5_forward(x, *w)
    assert got.shape == (3, 7)
    expected = w[2][:, None] * np.sin(w[0][:, None] * x) + w[3][:, None] * np.sin(w[1][:, None] * x) + w[4][:, None]
    np.testing.assert_allclose(got, expected)
    assert models.gap5_forward(x, 2.0, 6.0, 1.0, 0.4, 0.2).shape == (7,)


def test_sin_network_with_two_units_is_gap5(rng):
    x = rng.uniform(-1, 1, size=9)
    w11, w12, w21, w22, b1 = rng.normal(size=(5, 4))
    got = models.sin_network(x, np.stack([w11, w12], -1), np.stack([w21, w22], -1), b1)
    np.testing.assert_allclose(got, models.gap5_forward(x, w11, w12, w21, w22, b1))


def test_gap5_log_prob_matches_scipy(gap, rng):
    log_prob = models.gap5_log_prob(gap.x, gap.y)
    assert list(inspect.signature(log_prob).parameters) == list(models.GAP5_NAMES)
    w = rng.normal(size=(5, 3))
    expected = [stats.norm.logpdf(w[:, c], 0, models.GAP5_PRIOR_SD).sum()
                + stats.norm.logpdf(gap.y, models.gap5_forward(gap.x, *w[:, c]), models.GAP5_NOISE_SD).sum()
                for c in range(3)]
    np.testing.assert_allclose(log_prob(**dict(zip(models.GAP5_NAMES, w))), expected, rtol=1e-10)
    np.testing.assert_allclose(log_prob(*w), expected, rtol=1e-10)     # positional, too


def test_gap5_log_prob_tensorflow_matches_numpy_and_has_gradients(gap, rng):
    tf = pytest.importorskip("tensorflow")
    w = rng.normal(size=(5, 4)).astype(np.float32)
    tf_fn = models.gap5_log_prob(gap.x, gap.y, backend="tensorflow")
    variables = [tf.constant(v) for v in w]
    with tf.GradientTape() as tape:
        tape.watch(variables)
        value = tf_fn(*variables)
    assert value.dtype == tf.float32 and value.shape == (4,)
    np.testing.assert_allclose(value.numpy(), models.gap5_log_prob(gap.x, gap.y)(*w.astype(float)), rtol=1e-4)
    assert all(g is not None for g in tape.gradient(value, variables))


def test_gap5_fixed_weights_and_no_prior(gap, rng):
    w = dict(zip(models.GAP5_NAMES, rng.normal(size=5)))
    fixed = {"w11": w["w11"], "w12": w["w12"]}
    hack = models.gap5_log_prob(gap.x, gap.y, fixed=fixed)
    assert list(inspect.signature(hack).parameters) == ["w21", "w22", "b1"]
    full = models.gap5_log_prob(gap.x, gap.y)(**w)
    prior_of_fixed = stats.norm.logpdf([w["w11"], w["w12"]], 0, models.GAP5_PRIOR_SD).sum()
    got = hack(**{n: np.array([w[n]]) for n in ("w21", "w22", "b1")})
    np.testing.assert_allclose(got, [full - prior_of_fixed], rtol=1e-10)
    likelihood = models.gap5_log_prob(gap.x, gap.y, prior_sd=None)(**w)
    expected = stats.norm.logpdf(gap.y, models.gap5_forward(gap.x, **w), models.GAP5_NOISE_SD).sum()
    assert likelihood == pytest.approx(expected, rel=1e-10)


def test_gap5_log_prob_rejects_bad_input(gap):
    with pytest.raises(ValueError, match="not gap5 weights"):
        models.gap5_log_prob(gap.x, gap.y, fixed={"w99": 1.0})
    with pytest.raises(ValueError, match="at least one free"):
        models.gap5_log_prob(gap.x, gap.y, fixed={n: 0.0 for n in models.GAP5_NAMES})
    with pytest.raises(ValueError, match="noise_sd"):
        models.gap5_log_prob(gap.x, gap.y, noise_sd=-0.1)
    with pytest.raises(TypeError, match="takes the weights"):
        models.gap5_log_prob(gap.x, gap.y)(w11=1.0)


def test_sin_network_log_prob_matches_gap5_for_two_units(gap, rng):
    w = rng.normal(size=(5, 3))
    got = models.sin_network_log_prob(gap.x, gap.y, num_hidden=2)(w[:2].T, w[2:4].T, w[4])
    np.testing.assert_allclose(got, models.gap5_log_prob(gap.x, gap.y)(*w), rtol=1e-10)
    with pytest.raises(ValueError, match="num_hidden"):
        models.sin_network_log_prob(gap.x, gap.y, num_hidden=0)


def test_sin_network_log_prob_tensorflow_matches_numpy(gap, rng):
    tf = pytest.importorskip("tensorflow")
    w1, w2, b = rng.normal(size=(2, 8)), rng.normal(size=(2, 8)), rng.normal(size=2)
    tf_fn = models.sin_network_log_prob(gap.x, gap.y, num_hidden=8, backend="tensorflow")
    got = tf_fn(tf.constant(w1, tf.float64), tf.constant(w2, tf.float64), tf.constant(b, tf.float64)).numpy()
    np.testing.assert_allclose(got, models.sin_network_log_prob(gap.x, gap.y, num_hidden=8)(w1, w2, b), rtol=1e-10)


# ---------------------------------------------------------------- modes and predictions


def test_find_mode_finds_a_gaussian_mean():
    def log_prob_fn(a, v):
        return -0.5 * (a - 1.5) ** 2 - 0.5 * np.sum((v - np.array([-1.0, 2.0])) ** 2, axis=-1) / 0.25

    mode = models.find_mode(log_prob_fn, {"a": 0.0, "v": np.zeros(2)}, num_restarts=2, seed=0)
    assert mode.params["a"] == pytest.approx(1.5, abs=1e-4)
    np.testing.assert_allclose(mode.params["v"], [-1.0, 2.0], atol=1e-4)
    assert mode.log_prob == pytest.approx(0.0, abs=1e-8)


def test_find_mode_on_gap5_is_a_maximum(gap):
    log_prob = models.gap5_log_prob(gap.x, gap.y)
    mode = models.find_mode(log_prob, models.GAP5_START, num_restarts=5, seed=0)
    point = {n: np.array([v]) for n, v in mode.params.items()}
    assert log_prob(**point)[0] == pytest.approx(mode.log_prob)
    for name in models.GAP5_NAMES:       # no coordinate step improves it
        for step in (-1e-3, 1e-3):
            moved = dict(point, **{name: point[name] + step})
            assert log_prob(**moved)[0] <= mode.log_prob + 1e-9


def test_find_mode_restarts_are_seeded():
    calls = []

    def log_prob_fn(a):
        calls.append(float(np.ravel(a)[0]))
        return -np.cos(3 * a) - 0.1 * a**2          # many local maxima: the restarts matter

    first = models.find_mode(log_prob_fn, {"a": 0.3}, num_restarts=3, seed=5)
    starts, calls[:] = list(calls), []
    second = models.find_mode(log_prob_fn, {"a": 0.3}, num_restarts=3, seed=5)
    assert calls == starts and first == second
    calls[:] = []
    models.find_mode(log_prob_fn, {"a": 0.3}, num_restarts=3, seed=6)
    assert calls != starts


def test_find_mode_and_posterior_predictive_leave_global_random_state_alone(rng, untouched):
    untouched(lambda: models.find_mode(lambda a: -(a - 1.0) ** 2, {"a": 0.0}, num_restarts=3, seed=0))
    draws = {n: rng.normal(size=(2, 5)) for n in models.GAP5_NAMES}
    untouched(lambda: models.posterior_predictive(draws, np.zeros(3)))


def test_find_mode_rejects_bad_init():
    with pytest.raises(TypeError, match="seed"):
        models.find_mode(lambda a: -a**2, {"a": 0.0}, seed=0.5)
    with pytest.raises(ValueError, match="non-empty"):
        models.find_mode(lambda a: -a**2, {})
    with pytest.raises(ValueError, match="not finite"):
        models.find_mode(lambda a: np.where(a > 0, 0.0, -np.inf), {"a": -1.0})


def test_posterior_predictive_matches_manual_computation(rng):
    draws = {n: rng.normal(size=(3, 40)) for n in models.GAP5_NAMES}
    x = np.linspace(-1, 1, 11)
    band = models.posterior_predictive(draws, x, noise_sd=0.2)
    outputs = models.gap5_forward(x, **draws).reshape(-1, 11)
    assert band.draws.shape == (3, 40, 11)
    np.testing.assert_allclose(band.mean, outputs.mean(0))
    np.testing.assert_allclose(band.epistemic_sd, outputs.std(0))
    np.testing.assert_allclose(band.total_sd, np.sqrt(outputs.var(0) + 0.04))
    np.testing.assert_allclose(band.aleatoric_sd, np.full(11, 0.2))
    np.testing.assert_array_equal(band.x, x)
    assert isinstance(band, cb.models.Predictive) and band.num_samples == 120 and band.seed is None
    result = cb.MCMCResult.from_draws(draws)
    np.testing.assert_allclose(models.posterior_predictive(result, x, noise_sd=0.2).total_sd, band.total_sd)


def test_posterior_predictive_with_fixed_weights_and_custom_forward(rng):
    draws = {n: rng.normal(size=(2, 30)) for n in ("w21", "w22", "b1")}
    x = np.linspace(-1, 1, 5)
    band = models.posterior_predictive(draws, x, noise_sd=0.0, fixed={"w11": 2.0, "w12": -1.0})
    expected = models.gap5_forward(x, 2.0, -1.0, draws["w21"], draws["w22"], draws["b1"])
    np.testing.assert_allclose(band.draws, expected)
    w1, w2, b = rng.normal(size=(2, 30, 4)), rng.normal(size=(2, 30, 4)), rng.normal(size=(2, 30))
    band = models.posterior_predictive({"w1": w1, "w2": w2, "b": b}, x, forward=models.sin_network)
    np.testing.assert_allclose(band.draws, models.sin_network(x, w1, w2, b))


def test_posterior_predictive_rejects_bad_input(rng):
    with pytest.raises(ValueError, match="noise_sd"):
        models.posterior_predictive({"w11": np.zeros((1, 5))}, [0.0], noise_sd=-1.0)
    with pytest.raises(ValueError, match="MCMCResult or a dict"):
        models.posterior_predictive({}, [0.0])
    draws = {n: rng.normal(size=(2, 5)) for n in models.GAP5_NAMES}
    with pytest.raises(ValueError, match=r"shape \[m\]"):
        models.posterior_predictive(draws, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="forward returned"):
        models.posterior_predictive(draws, np.zeros(3), forward=lambda x, **w: np.zeros(4))


def test_plot_chain_predictions_draws_one_mean_per_chain(rng):
    import matplotlib

    matplotlib.use("Agg")
    draws = {n: rng.normal(size=(3, 20)) for n in models.GAP5_NAMES}
    band = models.posterior_predictive(draws, np.linspace(-1, 1, 9))
    fig = cb.plotting.plot_chain_predictions(band, x=np.zeros(2), y=np.zeros(2), num_draws=2, title="t")
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert sum(label.startswith("chain") for label in labels) == 3
    assert len(fig.axes[0].get_lines()) == 3 * (1 + 2)
