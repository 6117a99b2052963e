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
# the OLS line, and two histograms (beta0, beta1) of 2,000 refits with their 95% percentile
# intervals.
#
# The data are *synthetic*: 200 markets drawn from sales = 7.03 + 0.0475 TV + noise (the OLS
# fit of the ISLR Advertising data), so we also know the true coefficients.

# %%
import matplotlib.pyplot as plt
import numpy as np

import cs109b_bayes as cb

# %%
# Parameters. CS109B_FAST=1 (used by CI) shrinks the other labs; 2,000 OLS refits take a
# fraction of a second, so this lab runs the same in both modes.
FAST = cb.fast_mode()
NUM_RESAMPLES = 2_000       # a 2.5% tail then holds 50 refits: enough to place a percentile
NUM_LINES = 100             # refits drawn in the fan of lines
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
# does the same loop with a seed, and returns one row of coefficients per resample. (This cell
# and the ones below run once the checks of Questions 1 and 2 pass.)

# %%
if cb.ready("lab01.ols", "lab01.resample"):
    rng = np.random.default_rng(SEED)
    betas_by_hand = np.array([fit_ols(*resample(ads.x, ads.y, rng)) for _ in range(NUM_RESAMPLES)])
    betas = cb.bootstrap(fit_ols, ads.x, ads.y, num_resamples=NUM_RESAMPLES, seed=SEED)
    beta_ols = fit_ols(ads.x, ads.y)
    print(f"OLS on all data: beta0 = {beta_ols[0]:.3f}, beta1 = {beta_ols[1]:.5f}")
    print(f"bootstrap means: beta0 = {betas[:, 0].mean():.3f}, beta1 = {betas[:, 1].mean():.5f}")
    print(f"by-hand loop sd of beta1 = {betas_by_hand[:, 1].std(ddof=1):.5f}, "
          f"cb.bootstrap sd of beta1 = {betas[:, 1].std(ddof=1):.5f}")

# %%
if cb.ready("lab01.ols", "lab01.resample"):
    fig = cb.plotting.plot_bootstrap_lines(ads.x, ads.y, betas[:NUM_LINES], ols=beta_ols,
                                           xlabel="TV budget (thousand $)", ylabel="sales (thousand units)")
    fig.axes[0].set_title(f"the first {NUM_LINES} of {NUM_RESAMPLES} bootstrap refits")
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
if cb.ready("lab01.ols", "lab01.resample", "lab01.interval"):
    interval = percentile_interval(betas, 0.95)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for k, (ax, name) in enumerate(zip(axes, ["beta0 (intercept)", "beta1 (slope)"])):
        ax.hist(betas[:, k], bins=40, color="C1", alpha=0.7)
        ax.axvline(beta_ols[k], color="k", lw=2, label="OLS")
        for bound in interval[:, k]:
            ax.axvline(bound, color="C3", ls="--",
                       label="95% percentile interval" if bound == interval[0, k] else None)
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
# The bootstrap sd of each coefficient estimates the same quantity as the OLS standard error,
# from the same 200 points, by a different route. Two errors separate them:
#
# * the Monte Carlo error of the bootstrap: with $B$ resamples the sd has a relative error of
#   about $1/\sqrt{2(B-1)}$, and a 2.5% percentile one of about
#   $\sqrt{0.025 \cdot 0.975 / B}\,/\,\varphi(1.96) \approx 2.7/\sqrt{B}$ standard errors;
# * the two estimators' own difference on one data set: the OLS formula's $\hat\sigma$ has a
#   relative error of about $1/\sqrt{2(n-2)}$ (5% for $n = 200$), and the pairs bootstrap does
#   not assume constant noise, so the two need not coincide even with $B \to \infty$.
#
# The cell prints both errors and the differences, in units of the OLS standard error.

# %%
if cb.ready("lab01.ols", "lab01.resample", "lab01.interval", "lab01.ols_se"):
    se = ols_standard_errors(ads.x, ads.y)
    boot_sd = betas.std(axis=0, ddof=1)
    mc_sd_error = 1 / np.sqrt(2 * (NUM_RESAMPLES - 1))             # relative
    estimator_error = 1 / np.sqrt(2 * (len(ads.x) - 2))            # relative
    sd_tolerance = 4 * np.hypot(mc_sd_error, estimator_error)
    mc_endpoint_error = np.sqrt(0.025 * 0.975 / NUM_RESAMPLES) / 0.0584   # in sds (phi(1.96) = 0.0584)
    normal_interval = np.array([beta_ols - 1.96 * se, beta_ols + 1.96 * se])
    print(f"Monte Carlo error with B = {NUM_RESAMPLES}: {mc_sd_error:.1%} on an sd, "
          f"{mc_endpoint_error:.3f} se on a 2.5% percentile; estimator difference ~ {estimator_error:.1%}")
    for k, name in enumerate(["beta0", "beta1"]):
        ratio = boot_sd[k] / se[k]
        shift = np.abs(interval[:, k] - normal_interval[:, k]) / se[k]
        print(f"{name}: bootstrap sd = {boot_sd[k]:.5f}, OLS se = {se[k]:.5f}, ratio = {ratio:.3f} "
              f"(1 +- {sd_tolerance:.2f} expected)")
        print(f"       95% percentile interval [{interval[0, k]:.5f}, {interval[1, k]:.5f}]  vs  "
              f"OLS +- 1.96 se [{normal_interval[0, k]:.5f}, {normal_interval[1, k]:.5f}]: endpoints differ by "
              f"{shift[0]:.2f} and {shift[1]:.2f} se")
        assert abs(ratio - 1) < sd_tolerance, "bootstrap sd and OLS se disagree beyond the expected errors"
        assert shift.max() < 0.35, "percentile and OLS intervals differ by more than a third of a standard error"
    truth = ads.truth["beta1"]
    covers = [low <= truth <= high for low, high in (interval[:, 1], normal_interval[:, 1])]
    print(f"true slope {truth}: inside the percentile interval: {covers[0]}, inside OLS +- 1.96 se: {covers[1]}")
    assert all(covers), "the written question below says both intervals cover the true slope"

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
# * With 2,000 resamples the bootstrap sd agrees with the OLS standard error within the printed
#   errors (Monte Carlo plus the two estimators' difference on one data set), and the endpoints
#   of the 95% percentile intervals lie within a third of a standard error of OLS
#   $\pm 1.96$ se (the printed shifts). With 100 resamples a 2.5% tail holds only 2-3 refits,
#   and a percentile endpoint has a Monte Carlo error of about 0.27 se: too few to compare
#   intervals.
# * The bootstrap says how much the *estimate* would vary over new data sets. It is not a
#   posterior over the parameters: for that we need a prior and Bayes' rule (lab 02).
