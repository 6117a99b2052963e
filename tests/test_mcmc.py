"""Samplers: closed-form posteriors (with power), reproducibility, bad input."""

import numpy as np
import pytest
import tensorflow as tf

import cs109b_bayes as cb
from conftest import Z_LIMIT, gaussian_mismatch

# ---------------------------------------------------------------------------
# Conjugate Bayesian linear regression with known noise: the exact posterior.
# y = b0 + b1 x + N(0, SIGMA^2), b ~ N(0, TAU^2 I)  =>  b | y ~ N(m, S),
# S = (X^T X / SIGMA^2 + I / TAU^2)^-1,  m = S X^T y / SIGMA^2.
# ---------------------------------------------------------------------------
SIGMA, TAU = 0.5, 2.0
_rng = np.random.default_rng(7)
X_DATA = _rng.uniform(-1, 1, size=30)
Y_DATA = 0.7 - 1.3 * X_DATA + _rng.normal(0, SIGMA, size=30)
_design = np.column_stack([np.ones_like(X_DATA), X_DATA])
POST_COV = np.linalg.inv(_design.T @ _design / SIGMA**2 + np.eye(2) / TAU**2)
POST_MEAN = POST_COV @ _design.T @ Y_DATA / SIGMA**2
POST_SD = np.sqrt(np.diag(POST_COV))


def linreg_numpy(noise_sd=SIGMA):
    def log_prob_fn(beta0, beta1):
        resid = Y_DATA[None, :] - beta0[:, None] - beta1[:, None] * X_DATA[None, :]
        return (-0.5 * np.sum(resid**2, axis=1) / noise_sd**2
                - 0.5 * (beta0**2 + beta1**2) / TAU**2)
    return log_prob_fn


def linreg_tf(noise_sd=SIGMA):
    x = tf.constant(X_DATA, tf.float32)
    y = tf.constant(Y_DATA, tf.float32)

    def log_prob_fn(beta0, beta1):
        resid = y[None, :] - beta0[:, None] - beta1[:, None] * x[None, :]
        return (-0.5 * tf.reduce_sum(resid**2, axis=1) / noise_sd**2
                - 0.5 * (beta0**2 + beta1**2) / TAU**2)
    return log_prob_fn


def _mismatch(result):
    return max(gaussian_mismatch(result.samples[name], POST_MEAN[k], POST_SD[k])
               for k, name in enumerate(["beta0", "beta1"]))


INIT = {"beta0": 0.0, "beta1": 0.0}


@pytest.mark.slow
def test_metropolis_matches_conjugate_posterior(seed):
    result = cb.metropolis(linreg_numpy(), INIT, proposal_scale=0.15, num_steps=20_000,
                           num_chains=4, seed=seed)
    assert 0.15 < result.acceptance_rate < 0.7
    assert _mismatch(result) < Z_LIMIT
    assert max(np.max(r) for r in result.rhat.values()) < 1.01


@pytest.mark.slow
def test_metropolis_fails_against_wrong_target(seed):
    """Power: draws from a tempered posterior (noise sd x 1.3) must fail the same test."""
    result = cb.metropolis(linreg_numpy(noise_sd=1.3 * SIGMA), INIT, proposal_scale=0.15,
                           num_steps=20_000, num_chains=4, seed=seed)
    assert _mismatch(result) > Z_LIMIT


@pytest.mark.slow
@pytest.mark.parametrize("kernel, chain_groups", [("nuts", None), ("hmc", None), ("nuts", 1), ("nuts", 4)])
def test_hmc_matches_conjugate_posterior(seed, kernel, chain_groups):
    result = cb.sample_hmc(linreg_tf(), INIT, num_results=1000, num_burnin_steps=500,
                           kernel=kernel, seed=seed, chain_groups=chain_groups)
    assert _mismatch(result) < Z_LIMIT
    assert max(np.max(r) for r in result.rhat.values()) < 1.01
    assert result.divergences == 0


@pytest.mark.slow
def test_hmc_fails_against_wrong_target(seed):
    result = cb.sample_hmc(linreg_tf(noise_sd=1.3 * SIGMA), INIT, num_results=1000,
                           num_burnin_steps=500, seed=seed)
    assert _mismatch(result) > Z_LIMIT


# A strongly correlated 2-D Gaussian: means (1, -2), sds (1, 2), correlation 0.9.
CORR_MEAN = np.array([1.0, -2.0])
CORR_SD = np.array([1.0, 2.0])
CORR_COV = np.outer(CORR_SD, CORR_SD) * np.array([[1.0, 0.9], [0.9, 1.0]])
CORR_PREC = np.linalg.inv(CORR_COV)


def _correlated_tf(shift=0.0):
    prec = tf.constant(CORR_PREC, tf.float32)
    mean = tf.constant(CORR_MEAN + shift, tf.float32)

    def log_prob_fn(theta):
        centred = theta - mean
        return -0.5 * tf.einsum("ci,ij,cj->c", centred, prec, centred)
    return log_prob_fn


def _correlated_mismatch(result):
    draws = result.samples["theta"]
    z = max(gaussian_mismatch(draws[..., k], CORR_MEAN[k], CORR_SD[k]) for k in range(2))
    flat = result.flat("theta")
    corr = np.corrcoef(flat.T)[0, 1]
    ess = np.min(result.ess["theta"])
    z_corr = abs(corr - 0.9) / ((1 - 0.9**2) / np.sqrt(ess))  # sd of a sample correlation
    return max(z, z_corr)


@pytest.mark.slow
def test_nuts_correlated_gaussian(seed):
    result = cb.sample_hmc(_correlated_tf(), {"theta": np.zeros(2)}, num_results=1500,
                           num_burnin_steps=700, seed=seed)
    assert _correlated_mismatch(result) < Z_LIMIT


@pytest.mark.slow
def test_nuts_correlated_gaussian_has_power(seed):
    result = cb.sample_hmc(_correlated_tf(shift=0.3), {"theta": np.zeros(2)}, num_results=1500,
                           num_burnin_steps=700, seed=seed)
    assert _correlated_mismatch(result) > Z_LIMIT


def test_metropolis_correlated_gaussian_numpy(seed):
    def log_prob_fn(theta):
        centred = theta - CORR_MEAN
        return -0.5 * np.einsum("ci,ij,cj->c", centred, CORR_PREC, centred)

    result = cb.metropolis(log_prob_fn, {"theta": np.zeros(2)}, proposal_scale={"theta": [0.6, 1.2]},
                           num_steps=20_000, num_chains=4, seed=seed)
    z = max(gaussian_mismatch(result.samples["theta"][..., k], CORR_MEAN[k], CORR_SD[k]) for k in range(2))
    assert z < Z_LIMIT


# ---------------------------------------------------------------------------
# Result type and reproducibility.
# ---------------------------------------------------------------------------

def test_metropolis_result_fields_and_burn_in(seed):
    result = cb.metropolis(linreg_numpy(), INIT, proposal_scale=0.2, num_steps=1000, burn_in=0.3,
                           num_chains=3, seed=seed)
    assert isinstance(result, cb.MCMCResult)
    assert result.samples["beta0"].shape == (3, 700)
    assert result.log_prob.shape == (3, 700)
    assert result.num_burnin_steps == 300
    assert result.kernel == "metropolis" and result.seed == seed
    assert result.step_size == 0.2
    assert set(result.ess) == set(result.rhat) == {"beta0", "beta1"}
    table = result.summary()
    assert list(table.index) == ["beta0", "beta1"]
    assert {"mean", "sd", "3%", "97%", "ess_bulk", "r_hat"} <= set(table.columns)
    with pytest.raises(Exception):
        result.seed = 3  # frozen


def test_metropolis_same_seed_same_samples(seed):
    run = lambda s: cb.metropolis(linreg_numpy(), INIT, proposal_scale=0.2, num_steps=500,  # noqa: E731
                                  num_chains=2, seed=s)
    a, b, c = run(seed), run(seed), run(seed + 1)
    assert np.array_equal(a.samples["beta1"], b.samples["beta1"])
    assert not np.array_equal(a.samples["beta1"], c.samples["beta1"])


@pytest.fixture(scope="module")
def small_hmc_runs():
    """Three short NUTS runs (two with one seed, one with another), shared by the fast tests."""
    def run(s):
        return cb.sample_hmc(linreg_tf(), INIT, num_results=50, num_burnin_steps=20, num_chains=2,
                             seed=s, chunk_size=40)
    return run(11), run(11), run(12)


def test_hmc_same_seed_same_samples(small_hmc_runs):
    a, b, c = small_hmc_runs
    assert np.array_equal(a.samples["beta0"], b.samples["beta0"])
    assert not np.array_equal(a.samples["beta0"], c.samples["beta0"])


def test_hmc_result_fields(small_hmc_runs):
    result = small_hmc_runs[0]
    assert result.samples["beta0"].shape == (2, 50)
    assert result.log_prob.shape == (2, 50)
    assert np.all(np.isfinite(result.log_prob))
    assert 0.0 <= result.acceptance_rate <= 1.0
    assert result.step_size > 0 and result.compile_seconds > 0 and result.seconds > 0
    assert result.kernel == "nuts" and result.num_burnin_steps == 20
    assert isinstance(result.divergences, int)
    # every NUTS draw takes 1 to 2^10 - 1 leapfrog steps (one gradient each), per chain
    assert 2 * 50 <= result.num_gradient_evals <= 2 * 50 * 1023
    assert cb.MCMCResult.from_draws({"a": np.zeros((2, 10))}).num_gradient_evals == 0


def test_chain_groups_do_not_depend_on_the_number_of_cores(monkeypatch):
    """Two groups give the same draws whether they run in one thread or two at once."""
    from cs109b_bayes.inference.hmc import sampler

    def run():
        return cb.sample_hmc(linreg_tf(), INIT, num_results=40, num_burnin_steps=20, num_chains=4,
                             chain_groups=2, seed=5, chunk_size=40)

    monkeypatch.setattr(sampler.os, "cpu_count", lambda: 2)
    both_cores = run()
    monkeypatch.setattr(sampler.os, "cpu_count", lambda: 1)
    one_core = run()
    for name in INIT:
        assert both_cores.samples[name].shape == (4, 40)
        assert np.array_equal(both_cores.samples[name], one_core.samples[name])
    assert both_cores.num_gradient_evals == one_core.num_gradient_evals
    assert sampler.default_chain_groups(4) == 2 and sampler.default_chain_groups(3) == 1


def test_chain_groups_adapt_and_draw_independently():
    """Each group has its own seed stream and step size: no group repeats another's draws."""
    result = cb.sample_hmc(linreg_tf(), INIT, num_results=40, num_burnin_steps=20, num_chains=4,
                           chain_groups=2, seed=5, chunk_size=40)
    draws = result.samples["beta0"]
    assert not np.array_equal(draws[:2], draws[2:])
    assert len({tuple(chain) for chain in draws}) == 4


def test_a_failing_group_stops_the_others_at_their_next_chunk():
    """One group raises: its error comes out, and the other group gives up instead of sampling on."""
    import threading
    import time

    from cs109b_bayes.inference.hmc import sampler

    stop, chunks_done, updates = threading.Event(), [], []
    on_chunk = sampler._chunk_callback(updates.append, stop)

    def long_group():                       # would run 10 s without the stop
        for _ in range(1000):
            time.sleep(0.01)
            on_chunk(1)
            chunks_done.append(1)
        return "finished"

    def failing_group():
        time.sleep(0.05)
        raise RuntimeError("the chains produced non-finite values")

    started = time.perf_counter()
    with pytest.raises(RuntimeError, match="non-finite"):
        sampler._run_groups([long_group, failing_group], stop)
    assert stop.is_set() and len(chunks_done) < 500 and time.perf_counter() - started < 5
    assert len(updates) == len(chunks_done)
    assert sampler._run_groups([lambda: 1, lambda: 2], threading.Event()) == [1, 2]


def test_chain_groups_name_the_assumption_a_log_prob_fn_breaks():
    """A log_prob_fn that hard-codes num_chains fails with a message that says why and what to do."""
    def four_chains_only(beta0, beta1):
        return tf.reshape(linreg_tf()(beta0, beta1), [-1])[:1] + tf.zeros([4])

    with pytest.raises(ValueError, match="chain_groups=1"):
        cb.sample_hmc(four_chains_only, INIT, num_results=10, num_burnin_steps=5, num_chains=4, seed=0)


def test_hmc_counts_divergences(seed):
    """A funnel-like target with a huge step size diverges, and the count says so."""
    def log_prob_fn(x):
        return -0.5 * tf.reduce_sum(x**2 * tf.constant([1.0, 1e4]), axis=-1)

    result = cb.sample_hmc(log_prob_fn, {"x": np.zeros(2)}, num_results=30, num_burnin_steps=0,
                           kernel="hmc", step_size=1.0, num_leapfrog_steps=5, num_chains=2, seed=seed)
    assert result.divergences > 0
    assert np.all(np.isfinite(result.samples["x"]))


def test_bootstrap_is_seeded_and_shaped(seed):
    x = np.arange(20.0)
    y = 2 * x + 1
    fit = lambda x, y: np.polyfit(x, y, 1)[::-1]  # noqa: E731
    a = cb.bootstrap(fit, x, y, num_resamples=7, seed=seed)
    b = cb.bootstrap(fit, x, y, num_resamples=7, seed=seed)
    assert a.shape == (7, 2) and np.array_equal(a, b)
    np.testing.assert_allclose(a, [[1.0, 2.0]] * 7, atol=1e-8)  # noiseless line: every refit exact
    d = cb.bootstrap(lambda x, y: {"mean": y.mean()}, x, y, num_resamples=5, seed=seed)
    assert d["mean"].shape == (5,)


def test_bootstrap_sd_of_mean_matches_theory(seed):
    """The bootstrap sd of a sample mean is sd(y) / sqrt(n) (plug-in), up to MC error."""
    y = np.random.default_rng(seed).normal(size=200)
    means = cb.bootstrap(lambda x, y: y.mean(), y, y, num_resamples=2000, seed=seed)
    expected = y.std() / np.sqrt(len(y))
    assert abs(means.std(ddof=1) / expected - 1) < 4.5 / np.sqrt(2 * 1999)


# ---------------------------------------------------------------------------
# Bad input: every case gets a ValueError naming the argument.
# ---------------------------------------------------------------------------

def _lp(beta0, beta1):
    return -0.5 * (beta0**2 + beta1**2)


@pytest.mark.parametrize("kwargs, match", [
    (dict(init={"beta0": np.nan, "beta1": 0.0}), "init"),
    (dict(init={"beta0": np.inf, "beta1": 0.0}), "init"),
    (dict(init={}), "init"),
    (dict(init={"beta0": 0.0, "gamma": 0.0}), "do not match"),
    (dict(init={"beta0": 0.0}), "missing from init"),
    (dict(proposal_scale=0.0), "proposal_scale"),
    (dict(proposal_scale=-1.0), "proposal_scale"),
    (dict(proposal_scale={"beta0": 0.1}), "proposal_scale"),
    (dict(num_steps=0), "num_steps"),
    (dict(num_steps=2.5), "num_steps"),
    (dict(burn_in=1.0), "burn_in"),
    (dict(burn_in=-0.1), "burn_in"),
    (dict(num_chains=0), "num_chains"),
    (dict(num_steps=5, burn_in=0.5), "keeps"),
    (dict(init_jitter=-1.0), "init_jitter"),
])
def test_metropolis_bad_input(kwargs, match):
    args = dict(init={"beta0": 0.0, "beta1": 0.0}, proposal_scale=0.1, num_steps=100, seed=0)
    args.update(kwargs)
    init = args.pop("init")
    with pytest.raises(ValueError, match=match):
        cb.metropolis(_lp, init, **args)


def test_metropolis_log_prob_not_finite_at_start():
    with pytest.raises(ValueError, match="not finite"):
        cb.metropolis(lambda beta0: np.log(beta0), {"beta0": -1.0}, proposal_scale=0.1,
                      num_steps=100, seed=0)


def test_metropolis_log_prob_wrong_shape():
    with pytest.raises(ValueError, match="one log-density per chain"):
        cb.metropolis(lambda beta0: np.sum(beta0), {"beta0": 0.0}, proposal_scale=0.1,
                      num_steps=100, num_chains=3, seed=0)


def _tf_lp(beta0, beta1):
    return -0.5 * (beta0**2 + beta1**2)


@pytest.mark.parametrize("kwargs, match", [
    (dict(init={"beta0": np.nan, "beta1": 0.0}), "init"),
    (dict(init={"beta0": 0.0, "gamma": 0.0}), "do not match"),
    (dict(step_size=0.0), "step_size"),
    (dict(step_size=-0.1), "step_size"),
    (dict(num_results=0), "num_results"),
    (dict(num_burnin_steps=-1), "num_burnin_steps"),
    (dict(kernel="gibbs"), "kernel"),
    (dict(target_accept_prob=1.5), "target_accept_prob"),
    (dict(target_accept_prob=0.0), "target_accept_prob"),
    (dict(mass_matrix="full"), "mass_matrix"),
    (dict(dtype="int32"), "dtype"),
    (dict(dtype="float16"), "dtype"),
    (dict(num_chains=0), "num_chains"),
    (dict(chain_groups=0), "chain_groups"),
    (dict(chain_groups=3), "chain_groups must divide num_chains"),
    (dict(chunk_size=0), "chunk_size"),
    (dict(max_tree_depth=0), "max_tree_depth"),
    (dict(num_leapfrog_steps=0), "num_leapfrog_steps"),
    (dict(init_jitter=-0.1), "init_jitter"),
    (dict(init_jitter=np.inf), "init_jitter"),
    (dict(step_size=[0.1, 0.2]), "step_size"),
])
def test_sample_hmc_bad_input(kwargs, match):
    args = dict(init={"beta0": 0.0, "beta1": 0.0}, num_results=10, num_burnin_steps=5, seed=0)
    args.update(kwargs)
    init = args.pop("init")
    with pytest.raises(ValueError, match=match):
        cb.sample_hmc(_tf_lp, init, **args)


@pytest.mark.parametrize("kwargs, match", [
    (dict(seed=1.5), "seed"),
    (dict(seed="0"), "seed"),
    (dict(jit_compile="yes"), "jit_compile"),
    (dict(progress=1), "progress"),
])
def test_sample_hmc_bad_type(kwargs, match):
    args = dict(num_results=10, num_burnin_steps=5, seed=0)
    args.update(kwargs)
    with pytest.raises(TypeError, match=match):
        cb.sample_hmc(_tf_lp, {"beta0": 0.0, "beta1": 0.0}, **args)


def _must_not_be_called(beta0, beta1):
    raise AssertionError("log_prob_fn was called before the options were checked")


@pytest.mark.parametrize("kwargs", [
    dict(mass_matrix="full"), dict(dtype="int32"), dict(kernel="gibbs"), dict(step_size=0.0),
    dict(target_accept_prob=1.0), dict(max_tree_depth=0), dict(num_leapfrog_steps=0), dict(chunk_size=0),
    dict(num_chains=0), dict(num_results=1), dict(num_burnin_steps=-1), dict(init_jitter=-1.0),
    dict(chain_groups=3), dict(chain_groups=1.5), dict(jit_compile=None), dict(progress="no"), dict(seed=None),
])
def test_sample_hmc_checks_every_option_before_calling_log_prob_fn(kwargs):
    args = dict(num_results=10, num_burnin_steps=5, seed=0)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError)) as error:
        cb.sample_hmc(_must_not_be_called, {"beta0": 0.0, "beta1": 0.0}, **args)
    assert error.type is not AssertionError and str(next(iter(kwargs))) in str(error.value)


@pytest.mark.parametrize("kwargs", [
    dict(proposal_scale=-1.0), dict(num_steps=0), dict(burn_in=1.0), dict(num_chains=0),
    dict(init_jitter=-1.0), dict(seed=0.5), dict(num_steps=5, burn_in=0.5),
])
def test_metropolis_checks_every_option_before_calling_log_prob_fn(kwargs):
    args = dict(proposal_scale=0.1, num_steps=100, seed=0)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError)):
        cb.metropolis(_must_not_be_called, {"beta0": 0.0, "beta1": 0.0}, **args)


def test_sample_hmc_accepts_float64_and_tensor_init(seed):
    result = cb.sample_hmc(linreg_tf_float64(), {"beta0": tf.constant(0.0), "beta1": 0.0}, num_results=10,
                           num_burnin_steps=0, num_chains=2, dtype=tf.float64, seed=seed, jit_compile=False)
    assert result.samples["beta0"].shape == (2, 10) and np.all(np.isfinite(result.log_prob))


def linreg_tf_float64():
    x = tf.constant(X_DATA, tf.float64)
    y = tf.constant(Y_DATA, tf.float64)

    def log_prob_fn(beta0, beta1):
        resid = y[None, :] - beta0[:, None] - beta1[:, None] * x[None, :]
        return -0.5 * tf.reduce_sum(resid**2, axis=1) / SIGMA**2 - 0.5 * (beta0**2 + beta1**2) / TAU**2
    return log_prob_fn


def test_sample_hmc_log_prob_not_finite_at_start():
    with pytest.raises(ValueError, match="not finite"):
        cb.sample_hmc(lambda beta0: tf.math.log(beta0), {"beta0": -1.0}, num_results=10,
                      num_burnin_steps=5, seed=0, init_jitter=0.0)


def test_sample_hmc_log_prob_wrong_shape():
    with pytest.raises(ValueError, match="one log-density per chain"):
        cb.sample_hmc(lambda beta0: tf.reduce_sum(beta0), {"beta0": 0.0}, num_results=10,
                      num_burnin_steps=5, seed=0)


def test_bootstrap_bad_input():
    fit = lambda x, y: y.mean()  # noqa: E731
    with pytest.raises(ValueError, match="same length"):
        cb.bootstrap(fit, np.zeros(3), np.zeros(4), seed=0)
    with pytest.raises(ValueError, match="NaN"):
        cb.bootstrap(fit, np.array([1.0, np.nan]), np.zeros(2), seed=0)
    with pytest.raises(ValueError, match="num_resamples"):
        cb.bootstrap(fit, np.zeros(3), np.zeros(3), num_resamples=0, seed=0)
