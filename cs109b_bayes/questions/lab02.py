"""Lab 02 questions: Metropolis from scratch for Bayesian linear regression.

Each check calls the student's code on fresh random inputs and compares with
`scipy.stats` or the exact conjugate posterior (`cs109b_bayes.models`).
"""

import numpy as np
from scipy import stats

from cs109b_bayes import data, models
from cs109b_bayes.inference.diagnostics import MCMCResult, effective_sample_size, mcse_mean
from cs109b_bayes.grading import (CheckFailed, expect_answered, expect_close, expect_true, fresh_rng, question,
                                  using_references)

__all__ = []

PRIOR_SD = 10.0
"""Prior sd of beta0 and beta1 in lab 02."""


def _random_regression(rng, n=None):
    n = n or int(rng.integers(5, 40))
    x = rng.uniform(-3.0, 3.0, size=n)
    beta0, beta1 = rng.normal(size=2) * 2.0
    noise_sd = float(rng.uniform(0.3, 3.0))
    y = beta0 + beta1 * x + rng.normal(size=n) * noise_sd
    return x, y, noise_sd


def _call(what, fn, *args):
    return expect_answered(what, fn(*args))


def _reference_log_prior(beta0, beta1, prior_sd):
    return float(stats.norm.logpdf([beta0, beta1], 0.0, prior_sd).sum())


def _reference_log_likelihood(beta0, beta1, x, y, noise_sd):
    return float(stats.norm.logpdf(y, beta0 + beta1 * np.asarray(x), noise_sd).sum())


def _expect_log_density(what, got, expected, constant_hint):
    """Like expect_close over several inputs, saying when the values are right up to a constant."""
    got = np.array([float(np.asarray(expect_answered(what, g), dtype=float)) for g in got])
    expected = np.asarray(expected, dtype=float)
    if np.allclose(got, expected, rtol=1e-6, atol=1e-8):
        return
    offset = got - expected
    if np.allclose(offset, offset[0], rtol=1e-6, atol=1e-6):
        raise CheckFailed(f"{what}: your values differ from the exact log-density by the same constant "
                          f"{offset[0]:.4f} at every beta: {constant_hint}")
    bad = int(np.argmax(np.abs(offset)))
    raise CheckFailed(f"{what} at input {bad + 1} of {len(got)}: expected {expected[bad]:.6g}, got {got[bad]:.6g}")


@question("lab02.log_prior", hint="Independent Gaussians: norm.logpdf(beta0, 0, prior_sd) + "
          "norm.logpdf(beta1, 0, prior_sd), with the -log(sqrt(2 pi) prior_sd) constants.")
def _log_prior(*, log_prior):
    rng = fresh_rng()
    prior_sd = float(rng.uniform(0.5, 20.0))
    betas = rng.normal(size=(5, 2)) * 5.0
    got = [_call("log_prior", log_prior, b0, b1, prior_sd) for b0, b1 in betas]
    expected = [_reference_log_prior(b0, b1, prior_sd) for b0, b1 in betas]
    _expect_log_density(f"log_prior(beta0, beta1, prior_sd={prior_sd:.3f}) at 5 random (beta0, beta1)", got,
                        expected, "the normalising constants are missing or wrong (this matters when the prior "
                        "sd changes, e.g. when comparing models)")
    sd_beta = rng.normal(size=2) * 5.0
    for other_sd in (0.7, 12.0):
        expect_close(f"log_prior({sd_beta[0]:.3f}, {sd_beta[1]:.3f}, prior_sd={other_sd})",
                     _call("log_prior", log_prior, sd_beta[0], sd_beta[1], other_sd),
                     _reference_log_prior(sd_beta[0], sd_beta[1], other_sd), rtol=1e-6)


@question("lab02.log_likelihood", hint="A Gaussian log-density per point, summed: "
          "-0.5 * sum((y - yhat)**2) / noise_sd**2 - n * log(sqrt(2 pi) noise_sd). "
          "The scaffold's -sum(log((y - yhat)**2)) is not a log-likelihood.")
def _log_likelihood(*, log_likelihood):
    rng = fresh_rng()
    x, y, noise_sd = _random_regression(rng)
    betas = rng.normal(size=(5, 2)) * 2.0
    got = [_call("log_likelihood", log_likelihood, b0, b1, x, y, noise_sd) for b0, b1 in betas]
    expected = [_reference_log_likelihood(b0, b1, x, y, noise_sd) for b0, b1 in betas]
    _expect_log_density(f"log_likelihood(beta0, beta1, x, y, noise_sd={noise_sd:.3f}) on {len(x)} points "
                        f"at 5 random (beta0, beta1)", got, expected,
                        "the normalising constant of the Gaussian (one per data point) is missing or wrong")
    for _ in range(3):
        x, y, noise_sd = _random_regression(rng)
        beta0, beta1 = rng.normal(size=2) * 2.0
        expect_close(f"log_likelihood({beta0:.3f}, {beta1:.3f}, x, y, noise_sd={noise_sd:.3f}) on {len(x)} points",
                     _call("log_likelihood", log_likelihood, beta0, beta1, x, y, noise_sd),
                     _reference_log_likelihood(beta0, beta1, x, y, noise_sd), rtol=1e-6)


@question("lab02.log_posterior", hint="log posterior = log prior + log likelihood (up to the evidence, "
          "a constant we drop).")
def _log_posterior(*, log_posterior):
    rng = fresh_rng()
    # Your log_posterior is run with reference log_prior and log_likelihood, so this check judges
    # only how it combines them (Questions 1 and 2 are checked on their own).
    with using_references(log_posterior, log_prior=_reference_log_prior,
                          log_likelihood=_reference_log_likelihood):
        for _ in range(5):
            x, y, noise_sd = _random_regression(rng)
            prior_sd = float(rng.uniform(0.5, 20.0))
            beta0, beta1 = rng.normal(size=2) * 2.0
            got = _call("log_posterior", log_posterior, beta0, beta1, x.copy(), y.copy(), noise_sd, prior_sd)
            expected = models.linear_log_prob(x, y, noise_sd=noise_sd, prior_sd=prior_sd)(beta0, beta1)
            prior = _reference_log_prior(beta0, beta1, prior_sd)
            likelihood = _reference_log_likelihood(beta0, beta1, x, y, noise_sd)
            if np.isclose(float(np.asarray(got)), prior * likelihood, rtol=1e-6) and not np.isclose(
                    prior * likelihood, expected, rtol=1e-6):
                raise CheckFailed(f"log_posterior(...) = {float(np.asarray(got)):.6g} is the product of the "
                                  f"log-prior ({prior:.6g}) and the log-likelihood ({likelihood:.6g}); "
                                  "the prior and the likelihood multiply, and the log of a product is not the product of the logs")
            expect_close(f"log_posterior({beta0:.3f}, {beta1:.3f}, x, y, noise_sd={noise_sd:.3f}, "
                         f"prior_sd={prior_sd:.3f}) with correct log_prior and log_likelihood "
                         f"(log-prior {prior:.6g}, log-likelihood {likelihood:.6g})", got, expected, rtol=1e-6)


def _frequency_bound(p, n):
    return 4.0 * np.sqrt(max(p * (1.0 - p), 1.0 / n) / n)


@question("lab02.metropolis_step", hint="Propose beta + proposal_scale * rng.normal(size=2); "
          "alpha = exp(log_posterior(proposal) - log_posterior(beta)); move if rng.uniform() < alpha.")
def _metropolis_step(*, metropolis_step):
    rng = fresh_rng()
    num_trials = 2000
    scale = np.array([rng.uniform(0.2, 2.0), rng.uniform(0.001, 0.05)])
    # A log-posterior whose ratio p(proposal) / p(current) is `ratio` wherever the
    # proposal lands, so the frequency of moves must be min(1, ratio).
    for ratio in (0.05, 0.3, 0.7, 3.0):
        current = rng.normal(size=2)

        def log_posterior(beta, current=current, ratio=ratio):
            beta = np.asarray(beta, dtype=float)
            return 0.0 if np.array_equal(beta, current) else float(np.log(ratio))

        moved, steps = 0, []
        for _ in range(num_trials):
            out = metropolis_step(current.copy(), log_posterior, scale, rng)
            expect_answered("metropolis_step", out)
            if not (isinstance(out, tuple) and len(out) == 2):
                raise CheckFailed(f"metropolis_step should return (new_beta, accepted), got {out!r}")
            new_beta, accepted = np.asarray(out[0], dtype=float), bool(out[1])
            if new_beta.shape != (2,):
                raise CheckFailed(f"new_beta should have shape (2,), got {new_beta.shape}")
            stayed = np.array_equal(new_beta, current)
            if accepted == stayed:
                raise CheckFailed(f"accepted={accepted} but the state {'did not move' if stayed else 'moved'}")
            moved += not stayed
            if not stayed:
                steps.append(new_beta - current)
        frequency, target = moved / num_trials, min(1.0, ratio)
        expect_true(abs(frequency - target) <= _frequency_bound(target, num_trials),
                    f"with posterior ratio {ratio} the proposal was accepted in {frequency:.3f} of "
                    f"{num_trials} steps; Metropolis accepts with probability min(1, ratio) = {target:.3f}")
    steps = np.array(steps)  # ratio 3: every proposal accepted, so these are the proposal moves
    sd = steps.std(axis=0)
    expect_true(np.all(np.abs(steps.mean(axis=0)) <= 4.0 * scale / np.sqrt(len(steps))),
                f"the proposal should be centred on the current beta; mean move {steps.mean(axis=0)}")
    expect_true(np.all(np.abs(sd / scale - 1.0) <= 4.0 / np.sqrt(2.0 * len(steps))),
                f"with proposal_scale={scale} the moves had sd {sd}; a Gaussian random-walk "
                f"proposal moves each coordinate with sd proposal_scale")


def _mcse_sd(draws):
    centred = draws - draws.mean()
    sd = draws.std(ddof=1)
    return mcse_mean(centred**2) / (2.0 * sd)


@question("lab02.posterior_summary", hint="Use your correct log_posterior with NOISE_SD = 3.26 and "
          "PRIOR_SD = 10, discard 30% burn-in, and run long enough for ESS >= 200.")
def _posterior_summary(*, result):
    expect_answered("result", result)
    if not isinstance(result, MCMCResult):
        raise CheckFailed(f"result should be an MCMCResult (cb.MCMCResult.from_draws), got {type(result).__name__}")
    missing = {"beta0", "beta1"} - set(result.samples)
    if missing:
        raise CheckFailed(f"result.samples lacks {sorted(missing)}; name the draws 'beta0' and 'beta1'")
    ads = data.advertising()
    exact = models.conjugate_linear_posterior(ads.x, ads.y, noise_sd=ads.truth["sigma"], prior_sd=PRIOR_SD)
    for k, name in enumerate(exact.names):
        draws = result.samples[name]
        ess = float(np.min(effective_sample_size(draws)))
        expect_true(np.isfinite(ess), f"the draws of {name} give no ESS (all equal, or not finite): the chain "
                    "did not move; Questions 3 and 4 must pass first")
        expect_true(ess >= 200,
                    f"{name} has a bulk ESS of {ess:.0f}; the comparison needs ESS >= 200 "
                    f"(run longer, or check that the chain moves; Questions 3 and 4 must pass first)")
        mean, sd = draws.mean(), draws.std(ddof=1)
        mcse = float(mcse_mean(draws))
        expect_true(abs(mean - exact.mean[k]) <= 4.0 * mcse,
                    f"posterior mean of {name}: sampled {mean:.5g}, exact {exact.mean[k]:.5g}; "
                    f"the difference is more than 4 Monte Carlo standard errors ({4 * mcse:.3g}); if Questions "
                    f"1-4 pass, check the arguments of run_sampler")
        mcse_sd = float(_mcse_sd(draws))
        expect_true(abs(sd - exact.sd[k]) <= 4.0 * mcse_sd,
                    f"posterior sd of {name}: sampled {sd:.5g}, exact {exact.sd[k]:.5g}; "
                    f"the difference is more than 4 Monte Carlo standard errors ({4 * mcse_sd:.3g})")
