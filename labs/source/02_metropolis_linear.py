# %% [markdown]
# # Lab 02 — Metropolis from scratch: Bayesian linear regression
#
# **Goal.** Write a random-walk Metropolis sampler yourself (log-prior, Gaussian log-likelihood,
# log-posterior, one Metropolis step), run it on the TV-advertising data of lab 01, and check it
# against the *exact* posterior, which this model has in closed form.
#
# **Slide.** Lecture 27 ("Variational Auto-Encoders Part One"), *Exercise: Linear Regression MCMC
# from scratch*, after *Metropolis Hastings – Random Walk*: with a symmetric proposal
# $\alpha = p(\beta^* \mid D) / p(\beta^{(j-1)} \mid D)$, accept when a uniform draw is below $\alpha$.
#
# **Expected figure.** Two rows (beta0, beta1): a histogram of the kept draws with the exact
# posterior density drawn over it (they should coincide), and the trace of the chain after burn-in
# (a "hairy caterpillar" with no trend). Then a figure with the traces for three proposal scales.
#
# The model: $y_n \sim \mathcal N(\beta_0 + \beta_1 x_n, \sigma_D^2)$ with the noise sd
# $\sigma_D = 3.26$ treated as known, and independent priors $\beta_k \sim \mathcal N(0, 10^2)$.

# %%
import matplotlib.pyplot as plt
import numpy as np

import cs109b_bayes as cb

# %%
FAST = cb.fast_mode()                       # CS109B_FAST=1 shrinks the run
NUM_STEPS = 12_000 if FAST else 50_000      # Metropolis steps of the main run (burn-in included)
NUM_STEPS_SCALES = 6_000 if FAST else 20_000  # steps per run of the proposal-scale study
BURN_IN = 0.3                               # fraction of steps discarded
PRIOR_SD = 10.0                             # prior sd of beta0 and beta1
SEED = 2

ads = cb.data.advertising()
x, y = ads.x, ads.y
NOISE_SD = ads.truth["sigma"]               # the known noise sd, 3.26
print(ads, "| noise sd", NOISE_SD)

# %% [markdown]
# ## 1. The log-prior
#
# **Question 1.** Write `log_prior(beta0, beta1, prior_sd)`: the log-density of two independent
# $\mathcal N(0, \text{prior\_sd}^2)$ priors, normalising constants included,
# $\log p(\beta) = \sum_k \left[-\tfrac12 \beta_k^2/\sigma_0^2 - \log(\sqrt{2\pi}\,\sigma_0)\right]$.
# Work in logs: products of 200 densities underflow, sums of log-densities do not.

# %%
def log_prior(beta0, beta1, prior_sd):
    # BEGIN SOLUTION
    return -0.5 * (beta0**2 + beta1**2) / prior_sd**2 - 2.0 * np.log(np.sqrt(2.0 * np.pi) * prior_sd)
    # END SOLUTION


# %%
cb.check("lab02.log_prior", log_prior=log_prior)

# %% [markdown]
# ## 2. A proper Gaussian log-likelihood
#
# **Question 2.** Write `log_likelihood(beta0, beta1, x, y, noise_sd)`:
# $\log p(D \mid \beta) = \sum_n \left[-\tfrac12 (y_n - \beta_0 - \beta_1 x_n)^2/\sigma_D^2
# - \log(\sqrt{2\pi}\,\sigma_D)\right]$.
#
# Beware of the course scaffold's `-sum(log((y - yhat)**2))`: it is not the log of any Gaussian
# density (it rewards fitting one point exactly, where it goes to $+\infty$) and gives a wrong
# posterior. The check compares with `scipy.stats.norm.logpdf` on fresh random data.

# %%
def log_likelihood(beta0, beta1, x, y, noise_sd):
    # BEGIN SOLUTION
    residual = y - (beta0 + beta1 * x)
    return np.sum(-0.5 * residual**2 / noise_sd**2 - np.log(np.sqrt(2.0 * np.pi) * noise_sd))
    # END SOLUTION


# %%
cb.check("lab02.log_likelihood", log_likelihood=log_likelihood)

# %% [markdown]
# ## 3. The log-posterior
#
# **Question 3.** Write `log_posterior(beta0, beta1, x, y, noise_sd, prior_sd)`, the unnormalised
# log-posterior $\log p(D \mid \beta) + \log p(\beta)$ (the evidence is a constant: Metropolis
# only needs ratios).

# %%
def log_posterior(beta0, beta1, x, y, noise_sd, prior_sd):
    # BEGIN SOLUTION
    return log_prior(beta0, beta1, prior_sd) + log_likelihood(beta0, beta1, x, y, noise_sd)
    # END SOLUTION


# %%
cb.check("lab02.log_posterior", log_posterior=log_posterior)

# %% [markdown]
# ## 4. One Metropolis step
#
# **Question 4.** Write `metropolis_step(beta, log_posterior_fn, proposal_scale, rng)` where
# `beta` is the current state `[beta0, beta1]` and `log_posterior_fn(beta)` its log-posterior. It
#
# 1. proposes $\beta^* = \beta + \text{proposal\_scale} \cdot \mathcal N(0, I)$ (use `rng.normal`),
# 2. computes $\alpha = p(\beta^* \mid D)/p(\beta \mid D) = \exp(\log p(\beta^*\mid D) - \log p(\beta \mid D))$,
# 3. accepts when a uniform draw `rng.uniform()` is below $\alpha$,
#
# and returns `(new_beta, accepted)`. The check feeds it posteriors with a known ratio and counts
# how often it moves: the frequency must be $\min(1, \alpha)$.

# %%
def metropolis_step(beta, log_posterior_fn, proposal_scale, rng):
    # BEGIN SOLUTION
    proposal = beta + proposal_scale * rng.normal(size=np.shape(beta))
    log_ratio = log_posterior_fn(proposal) - log_posterior_fn(beta)
    alpha = np.exp(min(log_ratio, 0.0))     # min(1, ratio): the same rule, and exp cannot overflow
    if rng.uniform() < alpha:
        return proposal, True
    return beta, False
    # END SOLUTION


# %%
cb.check("lab02.metropolis_step", metropolis_step=metropolis_step)

# %% [markdown]
# ## 5. Run your sampler
#
# The loop below calls your step `NUM_STEPS` times, discards the first 30% as burn-in and wraps the
# kept draws in the package's `MCMCResult` (which computes ESS and R-hat for us). The proposal moves
# each coefficient on its own scale: `beta1` lives on a scale 170 times smaller than `beta0`. We take
# the scales from the OLS standard errors (lab 01), which we know before sampling.

# %%
def run_sampler(init, *, proposal_scale, num_steps, seed):
    rng = np.random.default_rng(seed)
    log_posterior_fn = lambda beta: log_posterior(beta[0], beta[1], x, y, NOISE_SD, PRIOR_SD)
    beta = np.asarray(init, dtype=float)
    chain, accepted = np.empty((num_steps, 2)), np.empty(num_steps, dtype=bool)
    for step in range(num_steps):
        beta, accepted[step] = metropolis_step(beta, log_posterior_fn, proposal_scale, rng)
        chain[step] = beta
    num_burnin = int(BURN_IN * num_steps)
    kept = chain[num_burnin:]
    return cb.MCMCResult.from_draws(
        {"beta0": kept[:, 0], "beta1": kept[:, 1]}, acceptance_rate=accepted[num_burnin:].mean(),
        step_size=proposal_scale, seed=seed, kernel="my metropolis", num_burnin_steps=num_burnin)


ols, ols_cov = np.polyfit(x, y, 1, cov="unscaled")
ols_se = NOISE_SD * np.sqrt(np.diag(ols_cov))[::-1]      # (se of beta0, se of beta1)
PROPOSAL_SCALE = 1.0 * ols_se
print("OLS standard errors (beta0, beta1):", ols_se.round(5))

# %% [markdown]
# **Question 5.** Run your sampler from $\beta = (0, 0)$ with `PROPOSAL_SCALE`, `NUM_STEPS` and `SEED`.

# %%
result = run_sampler([0.0, 0.0], proposal_scale=PROPOSAL_SCALE, num_steps=NUM_STEPS, seed=SEED)  # SOLUTION

# %%
print(f"{NUM_STEPS} steps, burn-in {BURN_IN:.0%} ({result.num_burnin_steps} steps), "
      f"acceptance rate {result.acceptance_rate:.3f}")
result.summary()

# %% [markdown]
# ## 6. Compare with the exact posterior
#
# With known noise and Gaussian priors the posterior is Gaussian in closed form
# (`cb.models.conjugate_linear_posterior`). A correct sampler matches its means and sds within the
# Monte Carlo standard error (MCSE = sd / sqrt(ESS)); the check allows 4 MCSE.

# %%
exact = cb.models.conjugate_linear_posterior(x, y, noise_sd=NOISE_SD, prior_sd=PRIOR_SD)
table = result.summary()
for k, name in enumerate(exact.names):
    draws = result.samples[name]
    mcse = float(cb.diagnostics.mcse_mean(draws))
    z = (draws.mean() - exact.mean[k]) / mcse
    print(f"{name}: sampled mean {draws.mean():.5f} (MCSE {mcse:.5f}), exact {exact.mean[k]:.5f}, "
          f"z = {z:+.2f} | sampled sd {draws.std(ddof=1):.5f}, exact sd {exact.sd[k]:.5f} "
          f"| ESS {table.loc[name, 'ess_bulk']:.0f}")
fig = cb.plotting.plot_trace(result, reference=exact.pdfs())
fig.axes[0].set_xlabel("beta0 (intercept, thousand units)")
fig.axes[2].set_xlabel("beta1 (sales per thousand dollars of TV)")
plt.show()

# %%
cb.check("lab02.posterior_summary", result=result)

# %% [markdown]
# ## 7. The proposal scale
#
# Only efficiency, not correctness, depends on the proposal. Run the sampler with three scales
# (0.2x, 1x and 5x the OLS standard errors) and compare acceptance rate and ESS.

# %%
SCALE_FACTORS = (0.2, 1.0, 5.0)
scale_runs = {f: run_sampler([0.0, 0.0], proposal_scale=f * ols_se, num_steps=NUM_STEPS_SCALES, seed=SEED + 1)
              for f in SCALE_FACTORS}
fig, axes = plt.subplots(len(SCALE_FACTORS), 1, figsize=(9, 6), sharex=True)
for ax, (factor, run) in zip(axes, scale_runs.items()):
    ess = min(float(v) for v in run.ess.values())
    print(f"scale {factor:>3} x OLS se: acceptance {run.acceptance_rate:.3f}, min bulk ESS {ess:6.0f} "
          f"of {run.num_draws} draws")
    ax.plot(run.samples["beta1"][0], lw=0.5)
    ax.set_ylabel("beta1")
    ax.set_title(f"proposal {factor} x OLS se: acceptance {run.acceptance_rate:.2f}, ESS {ess:.0f}", fontsize=9)
axes[-1].set_xlabel("draw (after burn-in)")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Question 6 (discussion).** Why is an acceptance rate of roughly 20-40% a good target for
# random-walk Metropolis? Use the three runs above.
#
# BEGIN SOLUTION
# *Tiny steps are almost always accepted (acceptance near 1) but the chain crawls: successive draws
# are nearly identical, the trace looks like a slow random walk and the ESS is small. Huge steps
# land in the tails and are almost always rejected: the chain sits still for many steps (flat runs
# in the trace), and the ESS is small again. ESS per step is largest in between, where steps are
# comparable to the posterior's width. For a Gaussian target the optimal scale gives about 44%
# acceptance in one dimension and 23% as the dimension grows (Roberts, Gelman & Gilks, 1997), so
# 20-40% is the usual target; the efficiency curve is flat near the optimum, so anything in that
# range is close to the best this sampler can do. The lecture's "5 x n likelihood evaluations" is
# the cost of a ~20% acceptance rate.*
# END SOLUTION

# %% [markdown]
# ## Summary
#
# * Metropolis needs only the log-posterior up to a constant: a proper Gaussian log-likelihood plus
#   the log-prior, and ratios (differences of logs) between the proposal and the current state.
# * The accept rule "move if a uniform draw is below $\alpha$" moves with probability $\min(1,\alpha)$,
#   which makes the posterior the chain's stationary distribution.
# * After a 30% burn-in the draws reproduce the exact conjugate posterior: the printed means agree
#   within a few Monte Carlo standard errors, and the exact density lies on the histograms.
# * The proposal scale sets efficiency, not correctness: acceptance near 1 or near 0 both give few
#   effective samples; 20-40% acceptance is the practical sweet spot.
