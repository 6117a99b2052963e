# %% [markdown]
# # Lab 03 — Metropolis from scratch: a tiny Bayesian neural network
#
# **Goal.** Sample the posterior of the 5 weights of a tiny network with random-walk Metropolis:
# write the forward pass and the log-posterior, start near a mode, run 4 chains, and look at what
# the draws say about the weights and about the predictions. Then see the lecture's warning come
# true (far starts, wide priors), and explain the posterior's symmetries.
#
# **Slide.** Lecture 27, *Exercise: MCMC from Scratch for Neural Networks* ("This is not going to
# converge unless we start very near the mode of the distribution!") and *Full MCMC issues*.
#
# **Expected figure.** A 5 x 2 grid, one row per weight (w11, w12, w21, w22, b1): histogram (left)
# and trace (right), coloured by chain; then the prediction over x in [-1.5, 1.5]: tight through
# the 20 data points, fanning out beyond them.
#
# The network: $x \to$ two hidden units $\sin(w_{11}x)$, $\sin(w_{12}x)$ $\to$ linear output
# $f(x) = w_{21}\sin(w_{11}x) + w_{22}\sin(w_{12}x) + b_1$. Data: 20 points with
# $x \in \pm[0.2, 0.5]$ (`cb.data.sin_gap()`), noise sd $\sigma = 0.1$ known, priors
# $w \sim \mathcal N(0, 1)$.

# %%
import matplotlib.pyplot as plt
import numpy as np

import cs109b_bayes as cb

# %%
FAST = cb.fast_mode()                     # CS109B_FAST=1 shrinks the run
NUM_STEPS = 12_000 if FAST else 60_000    # Metropolis steps per chain (>= 10,000), burn-in included
NUM_CHAINS = 4
BURN_IN = 0.2                             # fraction discarded
PROPOSAL_SCALE = 0.05                     # random-walk step, tuned for ~25% acceptance
PRIOR_SD = cb.models.GAP5_PRIOR_SD        # 1.0
WIDE_PRIOR_SD = 10.0                      # the "wide prior" experiment
SEED = 3

gap = cb.data.sin_gap()
x, y = gap.x, gap.y
NOISE_SD = gap.truth["sigma"]             # 0.1, treated as known
GRID = np.linspace(-1.5, 1.5, 301)
print(gap, "| noise sd", NOISE_SD, "| x in", x.min(), x.max())

# %% [markdown]
# ## 1. Forward pass
#
# **Question 1.** Write `sin_network(x, w11, w12, w21, w22, b1)`. The sampler runs several chains at
# once, so each weight arrives with shape `[num_chains]`; with `x` of shape `[n]` return
# `[num_chains, n]` (hint: `w11[..., None] * x`).

# %%
def sin_network(x, w11, w12, w21, w22, b1):
    # BEGIN SOLUTION
    w11, w12, w21, w22, b1 = (np.asarray(w)[..., None] for w in (w11, w12, w21, w22, b1))
    return w21 * np.sin(w11 * x) + w22 * np.sin(w12 * x) + b1
    # END SOLUTION


# %%
cb.check("lab03.forward", sin_network=sin_network)

# %% [markdown]
# ## 2. Log-posterior
#
# **Question 2.** Write `log_posterior(w11, w12, w21, w22, b1)` for the data above: the Gaussian
# log-likelihood with sd `NOISE_SD` summed over the 20 points, plus a $\mathcal N(0, \text{PRIOR\_SD}^2)$
# log-prior per weight. One value per chain: shape `[num_chains]`. Constants may be dropped
# (the check compares differences, which is all Metropolis uses).

# %%
def log_posterior(w11, w12, w21, w22, b1):
    # BEGIN SOLUTION
    residual = y - sin_network(x, w11, w12, w21, w22, b1)
    log_likelihood = -0.5 * np.sum(residual**2, axis=-1) / NOISE_SD**2
    log_prior = -0.5 * (w11**2 + w12**2 + w21**2 + w22**2 + b1**2) / PRIOR_SD**2
    return log_likelihood + log_prior
    # END SOLUTION


# %%
cb.check("lab03.log_posterior", log_posterior=log_posterior)

# %% [markdown]
# ## 3. Start near a mode, run 4 chains
#
# `cb.models.find_mode` maximises the log-posterior with BFGS from 20 random starts. The chains start
# there (with a little jitter), run `NUM_STEPS` Metropolis steps each with `cb.metropolis` (the
# vectorised version of the step you wrote in lab 02) and drop the first 20%.

# %%
mode = cb.models.find_mode(log_posterior, cb.models.GAP5_START, num_restarts=20, seed=SEED)
print("posterior mode:", {n: round(v, 3) for n, v in mode.params.items()}, f"log-posterior {mode.log_prob:.2f}")

near = cb.metropolis(log_posterior, mode.params, proposal_scale=PROPOSAL_SCALE, num_steps=NUM_STEPS,
                     num_chains=NUM_CHAINS, burn_in=BURN_IN, init_jitter=0.05, seed=SEED)
print(f"{NUM_CHAINS} chains x {NUM_STEPS} steps, burn-in {BURN_IN:.0%}: acceptance rate "
      f"{near.acceptance_rate:.3f}, {near.seconds:.1f} s")
near.summary()

# %%
fig = cb.plotting.plot_trace(near, truth=None)
plt.show()

# %% [markdown]
# ## 4. Predictions from the posterior draws
#
# Each kept draw is a network; `cb.models.posterior_predictive` evaluates all of them on a grid and
# returns a `Predictive`: the mean, the predictive sd `total_sd` (spread of the networks,
# `epistemic_sd`, combined with the noise sd, `aleatoric_sd`) and the networks' outputs `draws`
# [chain, draw, point]. The second panel shows each chain's own mean prediction.

# %%
near_band = cb.models.posterior_predictive(near, GRID, noise_sd=NOISE_SD)
at_data = cb.models.posterior_predictive(near, x, noise_sd=NOISE_SD)
far = np.abs(GRID) > 1
print(f"predictive sd: {at_data.total_sd.mean():.3f} at the data points, "
      f"{near_band.total_sd[far].mean():.3f} for |x| > 1")
fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
cb.plotting.plot_predictive_band(GRID, near_band, x=x, y=y, ax=axes[0],
                                 title="Metropolis posterior predictive, mean +- 2 sd")
cb.plotting.plot_chain_predictions(near_band, x=x, y=y, ax=axes[1], num_draws=10, title="each chain's mean")
axes[1].set_ylim(axes[0].get_ylim())
plt.show()

# %% [markdown]
# ## 5. What goes wrong: far starts and wide priors
#
# The lecture warns that this sampler "is not going to converge unless we start very near the mode".
# Two experiments, each with 4 chains, the same number of steps and proposal scale:
#
# * **far start**: each chain starts at a random point $w \sim \mathcal N(0, 3^2)$, like a random
#   network initialisation, instead of at the mode;
# * **wide prior + far start**: the same, with priors $\mathcal N(0, 10^2)$ (`cb.models.gap5_log_prob`),
#   which let high-frequency weights fit the 20 points too.
#
# We measure with R-hat (values above 1.01 say the chains disagree), on the weights and on the
# predictions f(x), at the data points and away from them (|x| >= 1), and the spread (max - min)
# of the chains' mean log-posterior (chains in equivalent modes have the same level).

# %%
far_start = cb.metropolis(log_posterior, {n: 0.0 for n in cb.models.GAP5_NAMES}, proposal_scale=PROPOSAL_SCALE,
                          num_steps=NUM_STEPS, num_chains=NUM_CHAINS, burn_in=BURN_IN, init_jitter=3.0, seed=SEED)
wide_log_posterior = cb.models.gap5_log_prob(x, y, noise_sd=NOISE_SD, prior_sd=WIDE_PRIOR_SD)
wide = cb.metropolis(wide_log_posterior, {n: 0.0 for n in cb.models.GAP5_NAMES}, proposal_scale=PROPOSAL_SCALE,
                     num_steps=NUM_STEPS, num_chains=NUM_CHAINS, burn_in=BURN_IN, init_jitter=3.0, seed=SEED)

X_AWAY = np.array([-1.5, -1.0, 1.0, 1.5])
runs = {"near the mode": near, "far start": far_start, f"far start, prior sd {WIDE_PRIOR_SD:g}": wide}
rhat = cb.diagnostics.potential_scale_reduction
print(f"{'run':<28}{'accept':>8}{'max R-hat w':>13}{'max R-hat f(data)':>19}{'max R-hat f(|x|>=1)':>21}"
      f"{'log-post spread':>17}")
for label, run in runs.items():
    weight_rhat = max(float(v) for v in run.rhat.values())
    data_rhat = rhat(cb.models.posterior_predictive(run, x).draws).max()
    away_rhat = rhat(cb.models.posterior_predictive(run, X_AWAY).draws).max()
    print(f"{label:<28}{run.acceptance_rate:>8.3f}{weight_rhat:>13.2f}{data_rhat:>19.3f}{away_rhat:>21.2f}   "
          f"{np.ptp(run.log_prob.mean(axis=1)):>14.2f}")

# %%
fig = cb.plotting.plot_trace(far_start, names=["w11", "w12"])
fig.suptitle(f"far start (a random start per chain): w11 and w12, acceptance {far_start.acceptance_rate:.2f}")
plt.show()
fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
for ax, (label, run) in zip(axes, list(runs.items())[1:]):
    cb.plotting.plot_chain_predictions(cb.models.posterior_predictive(run, GRID), x=x, y=y, ax=ax, title=label)
axes[0].set_ylim(-4, 4)
plt.show()

# %% [markdown]
# ## 6. Symmetries of this posterior
#
# **Question 3.** Two maps leave the network's output, and hence the likelihood and (with the
# symmetric prior) the posterior, unchanged. Write them for a dict of weights, returning a new dict:
#
# * `flip_sign(w, k)`: flip the signs of unit k's weights, $(w_{1k}, w_{2k}) \to (-w_{1k}, -w_{2k})$;
# * `swap_units(w)`: swap the two hidden units, $(w_{11}, w_{21}) \leftrightarrow (w_{12}, w_{22})$.

# %%
def flip_sign(w, k):
    # BEGIN SOLUTION
    flipped = dict(w)
    flipped[f"w1{k}"], flipped[f"w2{k}"] = -w[f"w1{k}"], -w[f"w2{k}"]
    return flipped
    # END SOLUTION


def swap_units(w):
    # BEGIN SOLUTION
    swapped = dict(w)
    swapped["w11"], swapped["w12"], swapped["w21"], swapped["w22"] = w["w12"], w["w11"], w["w22"], w["w21"]
    return swapped
    # END SOLUTION


# %%
cb.check("lab03.symmetries", flip_sign=flip_sign, swap_units=swap_units)

# %% [markdown]
# So every mode comes in $2 \times 2 \times 2 = 8$ copies (two sign flips, one swap) with the same
# posterior density and the same predictions. Which copy does each chain of the near-mode and the
# far-start runs sit in? Label a chain by its "fast" unit (the one with the larger mean $|w_{1k}|$)
# and that unit's sign.

# %%
def mode_label(run, chain):
    w1 = np.array([run.samples["w11"][chain].mean(), run.samples["w12"][chain].mean()])
    fast = int(np.argmax(np.abs(w1)))
    return f"fast unit {fast + 1}, sign {'+' if w1[fast] > 0 else '-'}"


for label, run in list(runs.items())[:2]:
    print(f"{label}: " + "; ".join(f"chain {c}: {mode_label(run, c)}" for c in range(run.num_chains)))

# %% [markdown]
# **Question 4 (discussion).** Using the numbers above, explain (a) why chains land in different
# modes, (b) why R-hat computed on the weights misleads here, and (c) why the predictions still agree
# at the data.
#
# BEGIN SOLUTION
# *(a) The posterior has 8 symmetric copies of each mode (sign flips of $(w_{1k}, w_{2k})$ and the
# swap of the hidden units) separated by regions of low density: moving from one copy to another
# means passing through networks that fit the data badly, which a small random-walk step almost
# never does. A chain therefore stays in the copy nearest its start; chains started far away or at
# random settle in whichever copy they fall into first (the far-start chains above are in different
# copies). Along some directions the posterior is also a long curved ridge (the data in
# $\pm[0.2, 0.5]$ pin down only combinations such as $w_{2k} w_{1k}$ of a slow unit), which a
# random walk explores slowly.*
#
# *(b) R-hat compares the chains' means and variances. Two chains in mirror-image copies have
# opposite weight means although both sample the posterior correctly (locally), so weight-level
# R-hat is far above 1.01 and flags "no convergence" for what is, function-wise, the same answer.
# The weights are not identifiable; R-hat should be computed on identifiable quantities: the
# predictions f(x), the log-posterior, or $b_1$ (which no symmetry moves: its R-hat is 1.00).*
#
# *(c) The predictions are invariant under the symmetries, so every copy gives the same
# distribution of f(x). At the data points f(x) is pinned by the likelihood and the R-hat of f at
# the data is close to 1 in every run (largest with the wide prior). Away from the data (|x| >= 1)
# the prediction depends on the poorly identified weights: there the chains agree only as well as
# they mix along the ridges, and the R-hat of f stays above 1.01 in all three runs: random-walk
# Metropolis has not converged there in this many steps (lab 04's HMC does). The wide prior makes
# it worse: it admits genuinely different fits (higher-frequency sines) that no symmetry relates,
# so the chains have more, and more distinct, regions to cover (the largest weight R-hat).*
# END SOLUTION

# %% [markdown]
# ## Summary
#
# * A Bayesian network is "forward pass only": the log-posterior is the Gaussian log-likelihood of
#   the network's outputs plus the log-prior of the weights; Metropolis needs nothing else.
# * Started near a mode, 4 chains of random-walk Metropolis give a predictive band that is tight at
#   the 20 data points and widens away from them (the printed sds).
# * The weights themselves are not identifiable: sign flips and unit swaps map the posterior onto
#   itself, chains sit in different copies, and weight-level R-hat is large while the R-hat of the
#   predictions at the data is about 1.
# * Far starts and wide priors are where the lecture's warning bites: chains end in different
#   modes (largest weight R-hat), and away from the data even the predictions of the chains
#   disagree (R-hat of f above 1.01 in every run). Lab 04 replaces the random walk by HMC.
