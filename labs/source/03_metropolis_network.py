# %% [markdown]
# # Lab 03 — Metropolis from scratch: a tiny Bayesian neural network
#
# **Goal.** Sample the posterior of the 5 weights of a tiny network with random-walk Metropolis:
# write the forward pass and the log-posterior, start near a mode, run 4 chains, and look at what
# the draws say about the weights and about the predictions. Then see the lecture's warning come
# true (far starts, wide priors), explain the posterior's symmetries, and tell chains that have not
# mixed from chains in mirror-image copies.
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
if cb.ready("lab03.forward", "lab03.log_posterior"):
    mode = cb.models.find_mode(log_posterior, cb.models.GAP5_START, num_restarts=20, seed=SEED)
    print("posterior mode:", {n: round(v, 3) for n, v in mode.params.items()}, f"log-posterior {mode.log_prob:.2f}")

    near = cb.metropolis(log_posterior, mode.params, proposal_scale=PROPOSAL_SCALE, num_steps=NUM_STEPS,
                         num_chains=NUM_CHAINS, burn_in=BURN_IN, init_jitter=0.05, seed=SEED)
    print(f"{NUM_CHAINS} chains x {NUM_STEPS} steps, burn-in {BURN_IN:.0%}: acceptance rate "
          f"{near.acceptance_rate:.3f}, {near.seconds:.1f} s")
    display(near.summary())

# %%
if cb.ready("lab03.forward", "lab03.log_posterior"):
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
if cb.ready("lab03.forward", "lab03.log_posterior"):
    near_band = cb.models.posterior_predictive(near, GRID, noise_sd=NOISE_SD)
    at_data = cb.models.posterior_predictive(near, x, noise_sd=NOISE_SD)
    far = np.abs(GRID) > 1
    band_rhat = cb.diagnostics.potential_scale_reduction(near_band.draws)     # R-hat of f at each grid point
    print(f"predictive sd: {at_data.total_sd.mean():.3f} at the data points, "
          f"{near_band.total_sd[far].mean():.3f} for |x| > 1")
    print(f"R-hat of f(x): max {band_rhat[~far].max():.2f} for |x| <= 1, max {band_rhat[far].max():.2f} for |x| > 1 "
          f"({'fast' if FAST else 'full'} mode, {NUM_STEPS} steps per chain)")
    converged = band_rhat.max() < 1.01
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    cb.plotting.plot_predictive_band(
        GRID, near_band, x=x, y=y, ax=axes[0],
        label="posterior predictive mean" if converged else "mean of the Metropolis draws",
        title=("Metropolis posterior predictive, mean +- 2 sd" if converged else
               f"Metropolis draws, mean +- 2 sd: NOT converged (R-hat of f up to {band_rhat.max():.2f})"))
    cb.plotting.plot_chain_predictions(near_band, x=x, y=y, ax=axes[1], num_draws=10, title="each chain's mean")
    axes[1].set_ylim(axes[0].get_ylim())
    plt.show()
    assert at_data.total_sd.mean() < near_band.total_sd[far].mean(), "the band is tighter at the data than away"
    assert at_data.total_sd.mean() < 1.5 * NOISE_SD, "at the data the predictive sd is close to the noise sd"

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
if cb.ready("lab03.forward", "lab03.log_posterior"):
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
    table = {}
    for label, run in runs.items():
        weight_rhat = max(float(v) for v in run.rhat.values())
        data_rhat = rhat(cb.models.posterior_predictive(run, x).draws).max()
        away_rhat = rhat(cb.models.posterior_predictive(run, X_AWAY).draws).max()
        table[label] = (weight_rhat, data_rhat, away_rhat)
        print(f"{label:<28}{run.acceptance_rate:>8.3f}{weight_rhat:>13.2f}{data_rhat:>19.3f}{away_rhat:>21.2f}   "
              f"{np.ptp(run.log_prob.mean(axis=1)):>14.2f}")
    wide_label = list(runs)[2]
    assert min(row[2] for row in table.values()) > 1.01, "away from the data no run has converged"
    assert table[wide_label][0] > table["near the mode"][0], "the wide prior with far starts has the larger R-hat"
    assert table[wide_label][1] == max(row[1] for row in table.values()), "R-hat of f at the data: largest when wide"

# %%
if cb.ready("lab03.forward", "lab03.log_posterior"):
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
# posterior density and the same predictions. Do the chains sit in different copies? Label a chain
# by its "fast" unit (the one with the larger mean $|w_{1k}|$) and that unit's sign. Then test
# non-mixing directly on quantities that no sign flip changes: the products $w_{1k} w_{2k}$ (a flip
# of unit k negates both factors). If chains only sat in mirror-image copies, the R-hat of these
# products would be about 1; if it is large too, the chains have not mixed *within* one copy.

# %%
def mode_label(run, chain):
    w1 = np.array([run.samples["w11"][chain].mean(), run.samples["w12"][chain].mean()])
    fast = int(np.argmax(np.abs(w1)))
    return f"fast unit {fast + 1}, sign {'+' if w1[fast] > 0 else '-'}"


if cb.ready("lab03.forward", "lab03.log_posterior"):
    labels, product_rhat = {}, {}
    for label, run in runs.items():
        labels[label] = [mode_label(run, c) for c in range(run.num_chains)]
        product_rhat[label] = [float(rhat(run.samples[f"w1{k}"] * run.samples[f"w2{k}"])) for k in (1, 2)]
        print(f"{label}: {len(set(labels[label]))} distinct cop{'y' if len(set(labels[label])) == 1 else 'ies'} "
              f"({'; '.join(f'chain {c}: {text}' for c, text in enumerate(labels[label]))})")
        print(f"    R-hat of w11*w21 {product_rhat[label][0]:.2f}, of w12*w22 {product_rhat[label][1]:.2f}, "
              f"largest weight R-hat {max(float(v) for v in run.rhat.values()):.2f}, "
              f"smallest weight ESS {min(float(v) for v in run.ess.values()):.0f}")
    near_label = "near the mode"
    assert len(set(labels[near_label])) == 1, "the near-mode chains share one copy (they start at one mode)"
    assert max(product_rhat[near_label]) > 1.01, "R-hat of the flip-invariant products shows non-mixing"
    print(f"near the mode: every chain in the same copy, yet the flip-invariant products have R-hat up to "
          f"{max(product_rhat[near_label]):.2f}: the chains have not mixed within that copy "
          f"({'fast' if FAST else 'full'} mode, {NUM_STEPS} steps per chain)")

# %% [markdown]
# **Question 4 (discussion).** Using the numbers above, explain (a) why the weight R-hat of the
# near-mode run is large although its chains sit in the same copy, (b) why the weights are still a
# poor place to judge convergence for this network, and (c) why the predictions agree at the data
# but not away from it.
#
# BEGIN SOLUTION
# *(a) Non-mixing, not symmetry. The printed labels put every near-mode chain in the same copy,
# and the R-hat of the products $w_{1k} w_{2k}$, which no sign flip changes, is well above 1.01
# too. The traces show why: the chains drift slowly along a long curved ridge. The data in
# $\pm[0.2, 0.5]$ pin down only combinations of the slow unit's weights (for small $w_{11} x$,
# $w_{21}\sin(w_{11} x) \approx w_{21} w_{11} x$), and how much of the function the slow unit carries
# can trade off against the fast unit; a random walk with steps of 0.05 explores such a ridge by
# diffusion, so each chain has covered a different stretch of it (ESS of a few tens or less).*
#
# *(b) The weights are not identifiable: every mode has 8 copies with the same predictions. Here
# the chains happen to share one copy, but chains started elsewhere can land in mirror-image copies
# (with a wider prior, more such regions open up), and then weight R-hat is large even for chains
# that each sample their copy well. R-hat is best computed on identifiable quantities: the
# predictions f(x), the log-posterior, flip-invariant products, or $b_1$ (no symmetry moves it;
# its R-hat is 1.00).*
#
# *(c) At the data points f(x) is pinned by the likelihood: every part of the ridge gives nearly
# the same f there, so the R-hat of f at the data is close to 1 (largest with the wide prior, which
# admits genuinely different higher-frequency fits). Away from the data (|x| >= 1) the prediction
# depends on where on the ridge a chain is, so the chains disagree: the printed R-hat of f there is
# above 1.01. This random-walk Metropolis has not converged away from the data in this many steps,
# which is why the band of section 4 is not labelled a posterior predictive; lab 04's HMC moves
# along such ridges much faster.*
# END SOLUTION

# %% [markdown]
# ## Summary
#
# * A Bayesian network is "forward pass only": the log-posterior is the Gaussian log-likelihood of
#   the network's outputs plus the log-prior of the weights; Metropolis needs nothing else.
# * Started near a mode, 4 chains of random-walk Metropolis agree at the 20 data points (R-hat of f
#   near 1, predictive sd close to the noise sd) and spread away from them (the printed sds).
# * But they have not converged: the weight R-hat is large, and not because of the symmetries.
#   The near-mode chains sit in one copy (the printed labels) and the flip-invariant products have
#   a large R-hat too: the chains drift along a ridge the random walk crosses only slowly. Away from
#   the data even the predictions disagree (the printed R-hat of f for |x| >= 1), so the band drawn
#   from these draws is not a posterior predictive yet.
# * The weights are not identifiable anyway (sign flips and unit swaps map the posterior onto
#   itself), so judge convergence on f(x), the log-posterior or invariant quantities. Far starts and
#   wide priors make everything worse (larger R-hat in the table). Lab 04 replaces the random walk
#   by HMC.
