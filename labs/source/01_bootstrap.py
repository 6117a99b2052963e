# %% [markdown]
# # Lab 01 — Bootstrap linear regression
#
# **Goal.** Quantify the uncertainty of a fitted line without any Bayesian machinery: refit
# ordinary least squares (OLS) on data resampled with replacement, and compare the spread of
# the refitted coefficients with the classical OLS standard errors.
#
# **Slide.** CS109B "Variational Auto-Encoders Part One": *Bootstrap* (before "Bayesian
# linear regression"): resample the data, refit, look at the distribution of beta.
#
# **Expected figure.** The TV-vs-sales scatter with a fan of 100 light bootstrap lines around
# the OLS line, and two histograms (beta0, beta1) with their 95% percentile intervals.
#
# The data are *synthetic*: 200 markets drawn from sales = 7.03 + 0.0475 TV + noise (the OLS
# fit of the ISLR Advertising data), so we also know the true coefficients.

# %%
import matplotlib.pyplot as plt
import numpy as np

import cs109b_bayes as cb

# %%
# Parameters. CS109B_FAST=1 (used by CI) shrinks the other labs; 100 OLS refits take
# milliseconds, so this lab runs the same in both modes.
FAST = cb.fast_mode()
NUM_RESAMPLES = 100
SEED = 109

# %%
ads = cb.data.advertising()
print(ads.description)
print(f"{len(ads.x)} markets; true beta0 = {ads.truth['beta0']}, beta1 = {ads.truth['beta1']}")

# %% [markdown]
# ## Question 1: ordinary least squares
#
# Write `fit_ols(x, y)` returning the intercept and slope `(beta0, beta1)` that minimise
# $\sum_i (y_i - \beta_0 - \beta_1 x_i)^2$.

# %%
def fit_ols(x, y):
    # BEGIN SOLUTION
    design = np.column_stack([np.ones_like(x), x])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    return beta
    # END SOLUTION


# %%
cb.check("lab01.ols", fit_ols=fit_ols)

# %% [markdown]
# ## Question 2: one bootstrap resample
#
# Write `resample(x, y, rng)` returning `(x_star, y_star)`: $n$ pairs drawn **with
# replacement** from the $n$ data pairs, using the numpy generator `rng`. Keep pairs
# together.

# %%
def resample(x, y, rng):
    # BEGIN SOLUTION
    idx = rng.integers(0, len(x), size=len(x))
    return x[idx], y[idx]
    # END SOLUTION


# %%
cb.check("lab01.resample", resample=resample)

# %% [markdown]
# Refit on `NUM_RESAMPLES` resamples. Your `resample` shows the mechanics; `cb.bootstrap`
# does the same loop with a seed, and returns one row of coefficients per resample.

# %%
rng = np.random.default_rng(SEED)
betas_by_hand = np.array([fit_ols(*resample(ads.x, ads.y, rng)) for _ in range(NUM_RESAMPLES)])
betas = cb.bootstrap(fit_ols, ads.x, ads.y, num_resamples=NUM_RESAMPLES, seed=SEED)
beta_ols = fit_ols(ads.x, ads.y)
print(f"OLS on all data: beta0 = {beta_ols[0]:.3f}, beta1 = {beta_ols[1]:.5f}")
print(f"bootstrap means: beta0 = {betas[:, 0].mean():.3f}, beta1 = {betas[:, 1].mean():.5f}")
print(f"by-hand loop sd of beta1 = {betas_by_hand[:, 1].std(ddof=1):.5f}, "
      f"cb.bootstrap sd of beta1 = {betas[:, 1].std(ddof=1):.5f}")

# %%
fig = cb.plotting.plot_bootstrap_lines(ads.x, ads.y, betas, ols=beta_ols,
                                       xlabel="TV budget (thousand $)", ylabel="sales (thousand units)")
plt.show()

# %% [markdown]
# ## Question 3: percentile intervals
#
# Write `percentile_interval(samples, level)` returning the central interval holding
# `level` of the samples, per column: an array `[[low0, low1], [high0, high1]]`.

# %%
def percentile_interval(samples, level):
    # BEGIN SOLUTION
    tail = 100 * (1 - level) / 2
    return np.percentile(samples, [tail, 100 - tail], axis=0)
    # END SOLUTION


# %%
cb.check("lab01.interval", percentile_interval=percentile_interval)

# %%
interval = percentile_interval(betas, 0.95)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for k, (ax, name) in enumerate(zip(axes, ["beta0 (intercept)", "beta1 (slope)"])):
    ax.hist(betas[:, k], bins=20, color="C1", alpha=0.7)
    ax.axvline(beta_ols[k], color="k", lw=2, label="OLS")
    for bound in interval[:, k]:
        ax.axvline(bound, color="C3", ls="--", label="95% percentile interval" if bound == interval[0, k] else None)
    ax.set_xlabel(name)
    ax.set_ylabel("resamples")
    ax.legend(fontsize=8)
fig.suptitle(f"{NUM_RESAMPLES} bootstrap refits")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Question 4: the classical standard errors
#
# OLS theory says $\mathrm{Var}(\hat\beta) = \hat\sigma^2 (X^\top X)^{-1}$ with $X = [1, x]$
# and $\hat\sigma^2 = \mathrm{RSS}/(n-2)$. Write `ols_standard_errors(x, y)` returning
# `(se_beta0, se_beta1)`.

# %%
def ols_standard_errors(x, y):
    # BEGIN SOLUTION
    design = np.column_stack([np.ones_like(x), x])
    beta, rss, *_ = np.linalg.lstsq(design, y, rcond=None)
    sigma2 = rss[0] / (len(x) - 2)
    return np.sqrt(np.diag(sigma2 * np.linalg.inv(design.T @ design)))
    # END SOLUTION


# %%
cb.check("lab01.ols_se", ols_standard_errors=ols_standard_errors)

# %% [markdown]
# ## Bootstrap vs theory
#
# The bootstrap sd of each coefficient estimates the same quantity as the OLS standard error.
# With $B$ resamples the bootstrap sd itself has a relative Monte Carlo error of about
# $1/\sqrt{2(B-1)}$ (7% for $B = 100$), so we expect agreement to within a few of those.

# %%
se = ols_standard_errors(ads.x, ads.y)
boot_sd = betas.std(axis=0, ddof=1)
relative_error = 1 / np.sqrt(2 * (NUM_RESAMPLES - 1))
normal_interval = np.array([beta_ols - 1.96 * se, beta_ols + 1.96 * se])
for k, name in enumerate(["beta0", "beta1"]):
    ratio = boot_sd[k] / se[k]
    print(f"{name}: bootstrap sd = {boot_sd[k]:.5f}, OLS se = {se[k]:.5f}, ratio = {ratio:.3f} "
          f"(expected 1 +- {3 * relative_error:.2f})")
    print(f"       95% percentile interval [{interval[0, k]:.5f}, {interval[1, k]:.5f}]  vs  "
          f"OLS +- 1.96 se [{normal_interval[0, k]:.5f}, {normal_interval[1, k]:.5f}]")
    assert abs(ratio - 1) < 4 * relative_error, "bootstrap sd and OLS se disagree beyond Monte Carlo error"

# %% [markdown]
# **Question 5 (written).** Both intervals cover the true slope 0.0475 here. What does the
# bootstrap assume about the data that the OLS standard error also assumes, and what does
# the OLS formula assume that the bootstrap does not?
#
# BEGIN SOLUTION
# Both treat the 200 markets as independent draws from one population (the bootstrap
# resamples them as exchangeable pairs). The OLS formula additionally assumes the noise has
# constant variance and that the linear model is correct; the pairs bootstrap needs neither,
# which is why it stays valid under heteroscedastic noise, where the formula is wrong.
# END SOLUTION

# %% [markdown]
# ## Summary
#
# * Refitting on resampled data turns one estimate into a distribution of estimates.
# * With 100 resamples the bootstrap sd matches the OLS standard error to within its Monte
#   Carlo error, and the percentile intervals match OLS $\pm 1.96$ se.
# * The bootstrap says how much the *estimate* would vary over new data sets. It is not a
#   posterior over the parameters: for that we need a prior and Bayes' rule (lab 02).
