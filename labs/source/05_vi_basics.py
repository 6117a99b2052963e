# %% [markdown]
# # Lab 05 — Variational inference basics
#
# **Goal.** Replace sampling from the posterior by *optimisation*: pick a Gaussian $q_\phi(w)$
# and move $\phi = (\mu, \sigma)$ to maximise the evidence lower bound (ELBO). You will write the
# KL divergence between Gaussians (and see that it is not a distance), the reparameterised
# ELBO estimate, and the exact conjugate posterior of Bayesian linear regression; then fit $q$
# on the TV-advertising data and compare it with the exact posterior and with Metropolis
# (lab 02's sampler, run here). The model's evidence $\log p(D)$ has a closed form, so we can
# also see the bound $\mathrm{ELBO} \le \log p(D)$ in numbers.
#
# **Slide.** CS109B "Bayesian Auto-Encoders Part Two": *Variational methods*: "we define the
# meaning of 'similar' to be some form of distance between $q(w)$ and $p(w|D)$ ... KL
# divergence", and the loss $\mathcal{L} = KL(q_\phi(w)\|p(w)) - E_{q_\phi}[\log p(D|w)]$.
#
# **Expected figure.** The $(\beta_0, \beta_1)$ plane with the exact posterior's 1- and
# 2-sd ellipses, the fitted $q$'s ellipses on top of them, and the Metropolis draws as dots;
# beside it, the ELBO rising over the optimisation steps.
#
# $$\mathrm{ELBO}(\phi) = E_{q_\phi}[\log p(D\mid w)] - KL(q_\phi(w)\,\|\,p(w)) \le \log p(D)$$
#
# The data are *synthetic* (200 markets, sales = 7.03 + 0.0475 TV + N(0, 3.26²)).

# %%
import matplotlib.pyplot as plt
import numpy as np

import cs109b_bayes as cb

import tensorflow as tf  # after cs109b_bayes, which quiets TensorFlow's log lines

# %%
# Parameters: CS109B_FAST=1 shrinks the optimisation and the chains.
FAST = cb.fast_mode()
NUM_VI_STEPS = 800 if FAST else 2_000
VI_LEARNING_RATE = 0.2 if FAST else 0.1
NUM_MC_SAMPLES = 16          # draws of eps per ELBO estimate
NUM_MCMC_STEPS = 6_000 if FAST else 20_000
PRIOR_SD = 10.0              # N(0, 10^2) prior on both coefficients
SEED = 5

# %% [markdown]
# ## Part 1: the KL divergence
#
# **Question 1.** Write `kl_gaussian(q_mean, q_sd, p_mean, p_sd)`, the closed form of
# $KL\big(N(\mu_q, \sigma_q^2)\,\|\,N(\mu_p, \sigma_p^2)\big) = \log\frac{\sigma_p}{\sigma_q}
# + \frac{\sigma_q^2 + (\mu_q - \mu_p)^2}{2\sigma_p^2} - \frac12$, elementwise on numpy arrays.

# %%
def kl_gaussian(q_mean, q_sd, p_mean, p_sd):
    # BEGIN SOLUTION
    return np.log(p_sd / q_sd) + (q_sd**2 + (q_mean - p_mean) ** 2) / (2 * p_sd**2) - 0.5
    # END SOLUTION


# %%
cb.check("lab05.kl_gaussian", kl_gaussian=kl_gaussian)

# %% [markdown]
# KL is not a distance: it is not symmetric (and it breaks the triangle inequality). We compute
# both directions for $q = N(0, 1)$ and $p = N(1, 2^2)$, check the closed form against a Monte
# Carlo estimate $\frac1S\sum_s[\log q(w_s) - \log p(w_s)]$, $w_s \sim q$, and trace both
# directions as $q$'s sd varies.

# %%
kl_qp = cb.variational.kl_gaussian(0.0, 1.0, 1.0, 2.0)
kl_pq = cb.variational.kl_gaussian(1.0, 2.0, 0.0, 1.0)
mc = cb.variational.kl_monte_carlo(0.0, 1.0, 1.0, 2.0, num_samples=20_000, seed=SEED)
print(f"KL(q || p) = {kl_qp:.4f}   KL(p || q) = {kl_pq:.4f}   (ratio {kl_pq / kl_qp:.2f}: not symmetric)")
print(f"Monte Carlo KL(q || p) = {mc.value:.4f} +- {mc.stderr:.4f} (closed form {kl_qp:.4f})")
assert abs(mc.value - kl_qp) < 4 * mc.stderr
assert abs(kl_pq - kl_qp) > 0.5

sds = np.linspace(0.2, 4.0, 100)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(sds, cb.variational.kl_gaussian(0.0, sds, 1.0, 2.0), label="KL(q || p)")
ax.plot(sds, cb.variational.kl_gaussian(1.0, 2.0, 0.0, sds), label="KL(p || q)")
ax.axvline(2.0, color="gray", ls=":", label="sd of p")
ax.set_xlabel("sd of q = N(0, sd^2)   (p = N(1, 2^2))")
ax.set_ylabel("nats")
ax.legend()
ax.set_title("The two directions of KL disagree")
plt.show()

# %% [markdown]
# ## Part 2: the ELBO for Bayesian linear regression
#
# Model (lab 02's): $y_i = \beta_0 + \beta_1 x_i + N(0, \sigma^2)$ with the known $\sigma = 3.26$
# and prior $\beta_j \sim N(0, 10^2)$, except that TV is standardised to mean 0, sd 1 (so the
# two coefficients are nearly uncorrelated; we return to raw TV at the end). The variational
# family is mean field: $q(\beta) = N(m_0, s_0^2)\,N(m_1, s_1^2)$.
#
# **Question 2.** Write the reparameterised ELBO estimate
# `elbo_estimate(q_mean, q_sd, eps, x, y, noise_sd, prior_sd)`: `q_mean` and `q_sd` have shape
# [2], `eps` has shape [S, 2] (standard normal draws). Set $w = m + s \odot \epsilon$ (shape
# [S, 2]), average $\sum_i \log N(y_i \mid w_0 + w_1 x_i, \sigma^2)$ over the S draws and
# subtract $\sum_j KL(N(m_j, s_j^2)\,\|\,N(0, \text{prior\_sd}^2))$. Use TensorFlow ops only, so
# that the gradient reaches $m$ and $s$ through $w$ (that is the reparameterization trick).

# %%
def elbo_estimate(q_mean, q_sd, eps, x, y, noise_sd, prior_sd):
    # BEGIN SOLUTION
    w = q_mean[None, :] + q_sd[None, :] * eps
    mu = w[:, 0:1] + w[:, 1:2] * x[None, :]
    log_lik = -0.5 * tf.square((y[None, :] - mu) / noise_sd) - np.log(noise_sd * np.sqrt(2 * np.pi))
    expected_log_lik = tf.reduce_mean(tf.reduce_sum(log_lik, axis=1))
    kl = tf.reduce_sum(tf.math.log(prior_sd / q_sd) + (q_sd**2 + q_mean**2) / (2 * prior_sd**2) - 0.5)
    return expected_log_lik - kl
    # END SOLUTION


# %%
cb.check("lab05.elbo_estimate", elbo_estimate=elbo_estimate)

# %% [markdown]
# **Question 3.** The model is conjugate, so the exact posterior is Gaussian. Write
# `exact_posterior(x, y, noise_sd, prior_sd)` returning `(mean, cov)` of $(\beta_0, \beta_1)$:
# with $X = [1, x]$, $\Lambda = X^T X/\sigma^2 + I/\sigma_0^2$, $\Sigma = \Lambda^{-1}$ and
# mean $\Sigma X^T y / \sigma^2$.

# %%
def exact_posterior(x, y, noise_sd, prior_sd):
    # BEGIN SOLUTION
    design = np.column_stack([np.ones_like(x), x])
    precision = design.T @ design / noise_sd**2 + np.eye(2) / prior_sd**2
    cov = np.linalg.inv(precision)
    return cov @ design.T @ y / noise_sd**2, cov
    # END SOLUTION


# %%
cb.check("lab05.exact_posterior", exact_posterior=exact_posterior)

# %% [markdown]
# ## Part 3: fit q and compare
#
# `cb.variational.fit_mean_field` runs Adam on $(m, \log s)$ and accepts your ELBO as
# `elbo_fn`; it returns the average of the last quarter of the iterates.

# %%
ads = cb.data.advertising()
tv = (ads.x - ads.x.mean()) / ads.x.std()
design = np.column_stack([np.ones_like(tv), tv])
ols = np.linalg.lstsq(design, ads.y, rcond=None)[0]
NOISE_SD = ads.truth["sigma"]      # the known noise sd, as in lab 02
x_tf, y_tf = tf.constant(tv, tf.float32), tf.constant(ads.y, tf.float32)
print(f"noise sd (known, as in lab 02) = {NOISE_SD:.3f}; OLS on standardised TV: {np.round(ols, 3)}")


# %%
def student_elbo(mean, sd, eps):
    return elbo_estimate(mean["beta"], sd["beta"], eps["beta"], x_tf, y_tf, NOISE_SD, PRIOR_SD)


if cb.ready("lab05.elbo_estimate", "lab05.exact_posterior"):
    vi = cb.variational.fit_mean_field(None, {"beta": np.zeros(2)}, prior_sd=PRIOR_SD, num_steps=NUM_VI_STEPS,
                                       learning_rate=VI_LEARNING_RATE, num_samples=NUM_MC_SAMPLES, seed=SEED,
                                       elbo_fn=student_elbo)
    exact_mean, exact_cov = exact_posterior(tv, ads.y, NOISE_SD, PRIOR_SD)
    exact_sd = np.sqrt(np.diag(exact_cov))
    print(f"VI fit: {NUM_VI_STEPS} steps in {vi.seconds:.1f} s, final ELBO {vi.elbo[-200:].mean():.2f}")
    print(f"{'':8s}{'exact mean':>12s}{'VI mean':>10s}{'exact sd':>10s}{'VI sd':>8s}"
          f"{'|dmean|/sd':>12s}{'sd ratio':>10s}")
    for j, name in enumerate(["beta0", "beta1"]):
        print(f"{name:8s}{exact_mean[j]:12.4f}{vi.mean['beta'][j]:10.4f}{exact_sd[j]:10.4f}{vi.sd['beta'][j]:8.4f}"
              f"{abs(vi.mean['beta'][j] - exact_mean[j]) / exact_sd[j]:12.3f}{vi.sd['beta'][j] / exact_sd[j]:10.3f}")
    mean_error = np.abs(vi.mean["beta"] - exact_mean) / exact_sd
    sd_ratio = vi.sd["beta"] / exact_sd
    assert np.all(mean_error < 0.05), "VI means should be within 5% of a posterior sd of the exact means"
    assert np.all(np.abs(sd_ratio - 1) < 0.15), "VI sds should be within 15% of the exact sds"
    print("VI means are within 5% of a posterior sd, and VI sds within 15%, of the exact posterior.")

# %% [markdown]
# Now lab 02's approach on the same posterior: random-walk Metropolis (`cb.metropolis`), 4
# chains, 30% burn-in. The Monte Carlo error of its means is $sd/\sqrt{ESS}$. Which is cheaper?
# Count both the steps and the seconds: a VI step is a TensorFlow gradient step on
# `NUM_MC_SAMPLES` draws, a Metropolis step one numpy log-density evaluation per chain.

# %%
def log_posterior(beta0, beta1):
    mu = beta0[:, None] + beta1[:, None] * tv[None, :]
    log_lik = -0.5 * np.sum(((ads.y[None, :] - mu) / NOISE_SD) ** 2, axis=1)
    return log_lik - 0.5 * (beta0**2 + beta1**2) / PRIOR_SD**2


if cb.ready("lab05.elbo_estimate", "lab05.exact_posterior"):
    mcmc = cb.metropolis(log_posterior, {"beta0": ols[0], "beta1": ols[1]}, proposal_scale=0.3,
                         num_steps=NUM_MCMC_STEPS, num_chains=4, seed=SEED)
    print(mcmc.summary())
    print(f"acceptance rate {mcmc.acceptance_rate:.2f}, {mcmc.seconds:.1f} s")
    print(f"{'':8s}{'exact':>10s}{'VI':>10s}{'MCMC':>10s}{'MCMC mcse':>11s}   (means; then sds)")
    for j, name in enumerate(["beta0", "beta1"]):
        draws = mcmc.flat(name)
        mcse = draws.std() / np.sqrt(np.min(mcmc.ess[name]))
        print(f"{name:8s}{exact_mean[j]:10.4f}{vi.mean['beta'][j]:10.4f}{draws.mean():10.4f}{mcse:11.4f}")
        print(f"{'  sd':8s}{exact_sd[j]:10.4f}{vi.sd['beta'][j]:10.4f}{draws.std():10.4f}")
        assert abs(draws.mean() - exact_mean[j]) < 5 * mcse
        assert abs(draws.std() / exact_sd[j] - 1) < 0.15
    print(f"Metropolis agrees with the exact posterior: means within 5 Monte Carlo standard errors, sds within 15%")
    time_ratio = vi.seconds / mcmc.seconds
    print(f"cost: VI {NUM_VI_STEPS} gradient steps (each on {NUM_MC_SAMPLES} draws) in {vi.seconds:.1f} s; Metropolis "
          f"{4 * NUM_MCMC_STEPS} steps in {mcmc.seconds:.1f} s (min ESS {min(np.min(v) for v in mcmc.ess.values()):.0f}): "
          f"VI used {4 * NUM_MCMC_STEPS / NUM_VI_STEPS:.0f}x fewer steps but "
          + (f"{time_ratio:.1f}x the wall-clock time" if time_ratio > 1 else f"{1 / time_ratio:.1f}x less time"))

# %%
def ellipse(mean, cov, num_sd):
    angles = np.linspace(0, 2 * np.pi, 200)
    return mean[:, None] + num_sd * np.linalg.cholesky(cov) @ np.stack([np.cos(angles), np.sin(angles)])


if cb.ready("lab05.elbo_estimate", "lab05.exact_posterior"):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    ax = axes[0]
    ax.scatter(mcmc.flat("beta0")[::10], mcmc.flat("beta1")[::10], s=3, alpha=0.3, color="gray", label="Metropolis draws")
    for k in (1, 2):
        ex = ellipse(exact_mean, exact_cov, k)
        qe = ellipse(vi.mean["beta"], np.diag(vi.sd["beta"] ** 2), k)
        ax.plot(*ex, "k-", lw=2, label="exact posterior (1, 2 sd)" if k == 1 else None)
        ax.plot(*qe, "C1--", lw=2, label="VI q (1, 2 sd)" if k == 1 else None)
    ax.set_xlabel("beta0 (intercept)")
    ax.set_ylabel("beta1 (per sd of TV)")
    ax.legend(fontsize=8)
    ax.set_title("Posterior of (beta0, beta1), standardised TV")
    axes[1].plot(vi.elbo, lw=0.7)
    axes[1].set_ylim(np.percentile(vi.elbo, 5), vi.elbo.max() + 5)
    axes[1].set_xlabel("optimisation step")
    axes[1].set_ylabel("ELBO estimate")
    axes[1].set_title("ELBO during the fit")
    plt.tight_layout()
    plt.show()

# %% [markdown]
# ## The bound: ELBO $\le \log p(D)$
#
# For this conjugate model the evidence is a Gaussian density in closed form,
# $y \sim N(0, \sigma^2 I + \sigma_0^2 X X^T)$ (`cb.models.linear_log_evidence`), and for a
# Gaussian $q$ the ELBO has a closed form too (the expected log-likelihood of a linear model
# under a Gaussian needs only its mean and covariance). The identity
# $\log p(D) = \mathrm{ELBO}(q) + KL(q \,\|\, p(w \mid D))$ says the gap is exactly the KL from $q$
# to the posterior: zero only when $q$ *is* the posterior. We check it for the starting $q$ of the
# optimisation, the fitted $q$, and the exact posterior.

# %%
def gaussian_elbo(mean, cov, x, y):
    """The exact ELBO of q = N(mean, cov) over (beta0, beta1) in lab 02's model."""
    design = np.column_stack([np.ones_like(x), x])
    squared = (y - design @ mean) ** 2 + np.einsum("ni,ij,nj->n", design, cov, design)
    expected_log_lik = np.sum(-0.5 * np.log(2 * np.pi * NOISE_SD**2) - squared / (2 * NOISE_SD**2))
    kl_prior = 0.5 * (np.trace(cov) / PRIOR_SD**2 + mean @ mean / PRIOR_SD**2 - 2
                      + 2 * np.log(PRIOR_SD**2) - np.linalg.slogdet(cov)[1])
    return expected_log_lik - kl_prior


def gaussian_kl(mean_q, cov_q, mean_p, cov_p):
    """KL(N(mean_q, cov_q) || N(mean_p, cov_p)) in closed form."""
    precision_p = np.linalg.inv(cov_p)
    diff = mean_p - mean_q
    return 0.5 * (np.trace(precision_p @ cov_q) + diff @ precision_p @ diff - len(mean_q)
                  + np.linalg.slogdet(cov_p)[1] - np.linalg.slogdet(cov_q)[1])


if cb.ready("lab05.elbo_estimate", "lab05.exact_posterior"):
    log_evidence = cb.models.linear_log_evidence(tv, ads.y, noise_sd=NOISE_SD, prior_sd=PRIOR_SD)
    candidates = {"start of the fit (mean 0, sd 1)": (np.zeros(2), np.eye(2)),
                  "fitted mean-field q": (vi.mean["beta"], np.diag(vi.sd["beta"] ** 2)),
                  "exact posterior": (exact_mean, exact_cov)}
    print(f"log p(D) = {log_evidence:.3f} nats (closed form)")
    print(f"{'q':34s}{'ELBO':>12s}{'log p(D) - ELBO':>17s}{'KL(q || posterior)':>20s}")
    for label, (q_mean, q_cov) in candidates.items():
        value = gaussian_elbo(q_mean, q_cov, tv, ads.y)
        gap = gaussian_kl(q_mean, q_cov, exact_mean, exact_cov)
        print(f"{label:34s}{value:12.3f}{max(log_evidence - value, 0.0):17.4f}{gap:20.4f}")
        assert value <= log_evidence + 1e-8, "the ELBO can never exceed the evidence"
        assert abs((log_evidence - value) - gap) < 1e-6 * max(1.0, gap), "the gap is KL(q || posterior)"
    final_estimate = float(vi.elbo[-200:].mean())
    print(f"your Monte Carlo ELBO estimate, averaged over the last 200 steps: {final_estimate:.3f} (the fitted "
          f"q's exact ELBO: {gaussian_elbo(*candidates['fitted mean-field q'], tv, ads.y):.3f}; an estimate "
          f"from random draws can land above log p(D) by its Monte Carlo noise, the exact ELBO cannot)")

# %% [markdown]
# ## Part 4: when mean field falls short
#
# With TV *not* standardised, $\beta_0$ and $\beta_1$ are strongly correlated in the
# posterior. The best mean-field Gaussian (the one minimising $KL(q\|p)$) for a Gaussian
# posterior with precision $\Lambda$ has sds $1/\sqrt{\Lambda_{jj}}$: the *conditional* sds,
# smaller than the marginal ones by $\sqrt{1-\rho^2}$. $KL(q\|p)$ punishes $q$ for putting mass
# where $p$ has little, so $q$ stays inside $p$ and underestimates its spread.

# %%
if cb.ready("lab05.exact_posterior"):
    raw_mean, raw_cov = exact_posterior(ads.x, ads.y, NOISE_SD, PRIOR_SD)
    raw_sd = np.sqrt(np.diag(raw_cov))
    mean_field_sd = 1.0 / np.sqrt(np.diag(np.linalg.inv(raw_cov)))
    rho = raw_cov[0, 1] / (raw_sd[0] * raw_sd[1])
    print(f"raw TV: posterior correlation of (beta0, beta1) = {rho:.3f}")
    print(f"marginal sds {np.round(raw_sd, 5)}; best mean-field sds {np.round(mean_field_sd, 5)}; "
          f"ratio {np.round(mean_field_sd / raw_sd, 3)} (= sqrt(1 - rho^2) = {np.sqrt(1 - rho**2):.3f})")
    best_mean_field = (raw_mean, np.diag(mean_field_sd**2))
    raw_gap = gaussian_kl(*best_mean_field, raw_mean, raw_cov)
    print(f"raw TV: the best mean-field q's ELBO is {raw_gap:.2f} nats below log p(D) (standardised TV: "
          f"{gaussian_kl(exact_mean, np.diag(1 / np.diag(np.linalg.inv(exact_cov))), exact_mean, exact_cov):.4f})")
    assert np.all(mean_field_sd < raw_sd) and raw_gap > 0.5

# %% [markdown]
# ## Summary
#
# * $KL(q\|p)$ is zero only for $q = p$ and is not symmetric: for $q = N(0,1)$, $p = N(1, 2^2)$
#   the two directions differ (printed above); a Monte Carlo estimate matches the closed form.
# * Maximising the reparameterised ELBO $E_q[\log p(D|w)] - KL(q\|p(w))$ with Adam fits a
#   Gaussian $q$ whose means and sds match the exact conjugate posterior (within 5% of a
#   posterior sd, and 15%, printed above) and agree with Metropolis. VI needs far fewer steps
#   than Metropolis, but each is a TensorFlow gradient step on several draws: on this 2-parameter
#   model the printed wall-clock times, not the step counts, say which is cheaper.
# * The ELBO is a lower bound: for the starting $q$, the fitted $q$ and the exact posterior the
#   printed ELBOs sit below the closed-form $\log p(D)$, and each gap equals $KL(q\,\|\,p(w|D))$,
#   zero only for the exact posterior.
# * Mean field is exact here only because standardising TV made the posterior nearly
#   uncorrelated; with raw TV the best mean-field $q$ underestimates the marginal sds by
#   $\sqrt{1-\rho^2}$ and its ELBO stays below $\log p(D)$ by the printed gap.
