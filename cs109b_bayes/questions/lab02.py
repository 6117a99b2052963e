"""Lab 02 questions: Metropolis from scratch for Bayesian linear regression.

Each check calls the student's code on fresh random inputs and compares with
`scipy.stats` or the exact conjugate posterior (`cs109b_bayes.models`).
"""

import numpy as np
from scipy import stats

from cs109b_bayes import data, models
from cs109b_bayes.inference.diagnostics import MCMCResult, effective_sample_size, mcse_mean
from cs109b_bayes.grading import CheckFailed, expect_answered, expect_close, expect_true, fresh_rng, question

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


@question("lab02.log_prior", hint="Independent Gaussians: norm.logpdf(beta0, 0, prior_sd) + "
          "norm.logpdf(beta1, 0, prior_sd), with the -log(sqrt(2 pi) prior_sd) constants.")
def _log_prior(*, log_prior):
    rng = fresh_rng()
    for _ in range(5):
        beta0, beta1 = rng.normal(size=2) * 5.0
        prior_sd = float(rng.uniform(0.5, 20.0))
        expected = stats.norm.logpdf([beta0, beta1], 0.0, prior_sd).sum()
        got = _call("log_prior", log_prior, beta0, beta1, prior_sd)
        expect_close(f"log_prior({beta0:.3f}, {beta1:.3f}, prior_sd={prior_sd:.3f})", got, expected, rtol=1e-6)


@question("lab02.log_likelihood", hint="A Gaussian log-density per point, summed: "
          "-0.5 * sum((y - yhat)**2) / noise_sd**2 - n * log(sqrt(2 pi) noise_sd). "
          "The scaffold's -sum(log((y - yhat)**2)) is not a log-likelihood.")
def _log_likelihood(*, log_likelihood):
    rng = fresh_rng()
    for _ in range(5):
        x, y, noise_sd = _random_regression(rng)
        beta0, beta1 = rng.normal(size=2) * 2.0
        expected = stats.norm.logpdf(y, beta0 + beta1 * x, noise_sd).sum()
        got = _call("log_likelihood", log_likelihood, beta0, beta1, x, y, noise_sd)
        expect_close(f"log_likelihood({beta0:.3f}, {beta1:.3f}, x, y, noise_sd={noise_sd:.3f}) on {len(x)} points",
                     got, expected, rtol=1e-6)


@question("lab02.log_posterior", hint="log posterior = log prior + log likelihood (up to the evidence, "
          "a constant we drop).")
def _log_posterior(*, log_posterior):
    rng = fresh_rng()
    for _ in range(5):
        x, y, noise_sd = _random_regression(rng)
        prior_sd = float(rng.uniform(0.5, 20.0))
        beta0, beta1 = rng.normal(size=2) * 2.0
        expected = models.linear_log_prob(x, y, noise_sd=noise_sd, prior_sd=prior_sd)(beta0, beta1)
        got = _call("log_posterior", log_posterior, beta0, beta1, x, y, noise_sd, prior_sd)
        expect_close(f"log_posterior({beta0:.3f}, {beta1:.3f}, x, y, noise_sd={noise_sd:.3f}, "
                     f"prior_sd={prior_sd:.3f})", got, expected, rtol=1e-6)


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
        expect_true(np.isfinite(ess) and ess >= 200,
                    f"{name} has a bulk ESS of {ess:.0f}; the comparison needs ESS >= 200 "
                    f"(run longer, or check that the chain moves)")
        mean, sd = draws.mean(), draws.std(ddof=1)
        mcse = float(mcse_mean(draws))
        expect_true(abs(mean - exact.mean[k]) <= 4.0 * mcse,
                    f"posterior mean of {name}: sampled {mean:.5g}, exact {exact.mean[k]:.5g}; "
                    f"the difference is more than 4 Monte Carlo standard errors ({4 * mcse:.3g})")
        mcse_sd = float(_mcse_sd(draws))
        expect_true(abs(sd - exact.sd[k]) <= 4.0 * mcse_sd,
                    f"posterior sd of {name}: sampled {sd:.5g}, exact {exact.sd[k]:.5g}; "
                    f"the difference is more than 4 Monte Carlo standard errors ({4 * mcse_sd:.3g})")
