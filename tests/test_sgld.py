"""SGLD (`cb.sample_sgld`) against the conjugate linear-regression posterior, its schedule and errors."""

import numpy as np
import pytest

import cs109b_bayes as cb
from cs109b_bayes.inference.sgld import sgld_step_sizes
from conftest import Z_LIMIT

NOISE_SD, PRIOR_SD = 0.5, 10.0


def _problem(seed, num_examples=200):
    rng = cb.seeds.numpy_rng(seed, "sgld_test_data")
    x = rng.normal(size=num_examples)
    y = 0.5 + 2.0 * x + NOISE_SD * rng.normal(size=num_examples)
    return x, y


def _log_likelihood(xb, yb, beta0, beta1):
    mean = beta0[:, None] + beta1[:, None] * xb[None, :]
    return -0.5 * ((yb[None, :] - mean) / NOISE_SD) ** 2


def _log_prior(beta0, beta1):
    return -0.5 * (beta0**2 + beta1**2) / PRIOR_SD**2


def _run(x, y, seed, **options):
    settings = dict(data=(x, y), log_prior_fn=_log_prior, num_results=200, num_burnin_steps=100,
                    step_size=1e-4, batch_size=20, seed=seed, num_chains=2, dtype="float64", jit_compile=False)
    settings.update(options)
    return cb.sample_sgld(_log_likelihood, {"beta0": 0.5, "beta1": 2.0}, **settings)


def test_step_size_schedule():
    assert np.allclose(sgld_step_sizes(3, step_size=0.1, decay_power=1.0, decay_steps=1), [0.1, 0.05, 0.1 / 3])
    assert np.allclose(sgld_step_sizes(4, step_size=0.2), 0.2)
    decayed = sgld_step_sizes(100, step_size=1.0, decay_power=0.55, decay_steps=10)
    assert np.all(np.diff(decayed) < 0) and np.isclose(decayed[-1], (1 + 99 / 10) ** -0.55)
    for bad in (dict(step_size=0.0), dict(step_size=-1.0), dict(step_size=0.1, decay_power=-0.5),
                dict(step_size=0.1, decay_steps=0), dict(step_size=[0.1, 0.2])):
        with pytest.raises(ValueError):
            sgld_step_sizes(10, **bad)
    with pytest.raises(ValueError, match="num_steps"):
        sgld_step_sizes(0, step_size=0.1)


@pytest.mark.slow
@pytest.mark.parametrize("preconditioned", [False, True])
def test_matches_conjugate_posterior(seed, preconditioned):
    """Means within Z_LIMIT Monte Carlo standard errors (ESS-based); sds within the O(eps) bias + MC error."""
    x, y = _problem(seed)
    exact = cb.models.conjugate_linear_posterior(x, y, noise_sd=NOISE_SD, prior_sd=PRIOR_SD)
    step = 1e-2 if preconditioned else 1e-4   # pSGLD multiplies the step by 1 / sqrt(V), about 1 / 90 here
    result = _run(x, y, seed, num_results=10_000, num_burnin_steps=1_000, num_chains=4, step_size=step,
                  preconditioned=preconditioned)
    assert result.kernel == ("psgld" if preconditioned else "sgld")
    assert result.num_chains == 4 and result.num_draws == 10_000
    for k, name in enumerate(exact.names):
        draws = result.samples[name]
        z_mean = abs(draws.mean() - exact.mean[k]) / cb.diagnostics.mcse_mean(draws)
        assert z_mean < Z_LIMIT, (name, draws.mean(), exact.mean[k], z_mean)
        ess = cb.diagnostics.effective_sample_size(draws)
        assert ess > 200, (name, ess)
        # Langevin with step eps inflates a Gaussian's variance by about eps / (4 s^2) (relative); minibatch
        # gradient noise adds to it. Allow 15% on the sd plus Z_LIMIT standard errors of a sample sd.
        sd_error = exact.sd[k] / np.sqrt(2 * ess)
        assert abs(draws.std() - exact.sd[k]) < 0.15 * exact.sd[k] + Z_LIMIT * sd_error, (name, draws.std(),
                                                                                          exact.sd[k])


@pytest.mark.slow
def test_large_step_inflates_variance(seed):
    """Power: a step of the order of the posterior variance gives a clearly too-wide sample (the O(eps) bias)."""
    x, y = _problem(seed)
    exact = cb.models.conjugate_linear_posterior(x, y, noise_sd=NOISE_SD, prior_sd=PRIOR_SD)
    result = _run(x, y, seed, num_results=4_000, num_burnin_steps=500, num_chains=4, step_size=1.5e-3)
    ratio = result.flat("beta1").std() / exact.sd[1]
    assert ratio > 1.2, ratio


def test_reproducible_and_seed_dependent(seed, untouched):
    x, y = _problem(seed, num_examples=50)
    first = untouched(lambda: _run(x, y, seed))
    again = _run(x, y, seed)
    other = _run(x, y, seed + 1)
    assert np.array_equal(first.samples["beta1"], again.samples["beta1"])
    assert not np.array_equal(first.samples["beta1"], other.samples["beta1"])
    assert first.samples["beta0"].shape == (2, 200) and first.log_prob.shape == (2, 200)
    assert first.acceptance_rate == 1.0 and first.num_burnin_steps == 100 and first.seed == seed


def test_thinning_keeps_every_kth_state(seed):
    x, y = _problem(seed, num_examples=50)
    every = _run(x, y, seed, num_results=60, num_burnin_steps=7)
    thinned = _run(x, y, seed, num_results=20, num_burnin_steps=7, thinning=3)
    assert np.allclose(thinned.samples["beta1"], every.samples["beta1"][:, ::3])


def test_float32_compiled_and_decaying(seed):
    x, y = _problem(seed, num_examples=50)
    result = _run(x, y, seed, dtype="float32", jit_compile=True, decay_power=0.6, decay_steps=50)
    assert result.step_size == pytest.approx(1e-4 * (1 + 299 / 50) ** -0.6)
    assert np.all(np.isfinite(result.samples["beta0"]))


def test_errors(seed):
    x, y = _problem(seed, num_examples=50)
    with pytest.raises(ValueError, match="batch_size"):
        _run(x, y, seed, batch_size=51)
    with pytest.raises(ValueError, match="first axis"):
        _run(x, y, seed, data=(x, y[:10]))
    with pytest.raises(ValueError, match="first axis"):
        _run(x, y, seed, data=x)
    with pytest.raises(ValueError, match="finite"):
        _run(x, y, seed, data=(x, np.where(y > 0, np.nan, y)))
    with pytest.raises(ValueError, match="num_results"):
        _run(x, y, seed, num_results=3)
    with pytest.raises(ValueError, match="thinning"):
        _run(x, y, seed, thinning=0)
    with pytest.raises(ValueError, match="step_size"):
        _run(x, y, seed, step_size=0.0)
    with pytest.raises(ValueError, match="rmsprop_decay"):
        _run(x, y, seed, rmsprop_decay=1.0)
    with pytest.raises(ValueError, match="dtype"):
        _run(x, y, seed, dtype="float16")
    with pytest.raises(TypeError, match="preconditioned"):
        _run(x, y, seed, preconditioned="yes")
    with pytest.raises(TypeError):
        _run(x, y, seed=1.5)
    with pytest.raises(ValueError, match="init"):
        cb.sample_sgld(_log_likelihood, {"beta0": np.nan, "beta1": 0.0}, data=(x, y), num_results=10, seed=seed)
    with pytest.raises(ValueError, match=r"\[num_chains, n\]"):
        cb.sample_sgld(
            lambda xb, yb, beta0, beta1: _log_likelihood(xb, yb, beta0, beta1)[0], {"beta0": 0.0, "beta1": 0.0},
            data=(x, y), num_results=10, seed=seed, num_chains=2, jit_compile=False)
    with pytest.raises(ValueError, match="log_prior_fn"):
        _run(x, y, seed, log_prior_fn=lambda beta0, beta1: beta0[None])
    with pytest.raises(RuntimeError, match="too large"):
        _run(x, y, seed, step_size=100.0, num_results=100, num_burnin_steps=200)
