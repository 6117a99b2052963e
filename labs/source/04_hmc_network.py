# %% [markdown]
# # Lab 04 — A full Bayesian neural network with HMC (TensorFlow Probability)
#
# **Goal.** Sample the same 5-weight sin network as lab 03 with Hamiltonian Monte Carlo (NUTS) from
# TensorFlow Probability, through `cb.sample_hmc`: several chains, R-hat, ESS, divergences; the
# posterior predictive $\mu \pm 2\sigma$; the lecture's "hack" of fixing the first layer; and
# measurements of how much faster HMC is than lab 03's Metropolis, and why MCMC still stops
# scaling as the network grows. First, plain HMC made visible: the momentum and leapfrog
# trajectories on a correlated 2-D posterior, against random-walk Metropolis.
#
# **Slide.** Lecture 27, *Bayesian Neural Network: Full MCMC with HMC* ("Activation: sin(), Burn
# rate: 30%", *Full Bayesian NN prediction (mu +- 2 sigma)*), *Bayesian Neural Network: Hacks*
# ("W11 & W12 ML estimate") and *Full MCMC issues*.
#
# **Expected figure.** First, four frames of plain HMC on a correlated 2-D Gaussian (momentum arrow,
# leapfrog path, accepted end point) beside a random walk with as many log-density evaluations; then
# per-chain histograms and traces of the 5 weights; then the predictive band
# over x in [-1.5, 1.5]: narrow through the 20 points, several times wider beyond |x| = 1; then the
# hack's band next to the full one (narrower away from the data).

# %%
import matplotlib.pyplot as plt
import numpy as np

import cs109b_bayes as cb

import tensorflow as tf  # after cs109b_bayes, which quiets TensorFlow's log lines

# %%
FAST = cb.fast_mode()                          # CS109B_FAST=1 shrinks the run
NUM_CHAINS = 4
NUM_TOTAL = 1_000 if FAST else 5_000           # NUTS steps per chain, burn-in included
BURN_IN = 0.3                                  # the lecture's "burn rate"
NUM_BURNIN = int(BURN_IN * NUM_TOTAL)
NUM_RESULTS = NUM_TOTAL - NUM_BURNIN
METROPOLIS_STEPS = 12_000 if FAST else 60_000  # lab 03's sampler, for the ESS/s comparison
SCALING_UNITS = (2, 8, 32)                     # hidden units in the scaling experiment
SCALING_TOTAL = 400 if FAST else 1_000         # NUTS steps per chain there (half burn-in): see section 7
SCALING_CHAINS = 2 if FAST else 4
CORRELATION = 0.95                             # the 2-D Gaussian of section 1
FRAME_STEP, FRAME_LEAPFROG = 0.15, 20          # leapfrog step size and steps drawn in the frames
PLAIN_STEPS = 1_000 if FAST else 4_000         # plain HMC / Metropolis iterations per chain on the 2-D target
TARGET_ACCEPT = 0.95                           # NUTS step-size adaptation target (TFP's default is 0.8)
PRIOR_SD = cb.models.GAP5_PRIOR_SD             # 1.0
SEED = 4

gap = cb.data.sin_gap()
x, y = gap.x, gap.y
NOISE_SD = gap.truth["sigma"]                  # 0.1, treated as known
GRID = np.linspace(-1.5, 1.5, 301)
X_ESS = np.array([-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5])   # where function-level ESS is measured
x_tf, y_tf = tf.constant(x, tf.float32), tf.constant(y, tf.float32)
print(gap, "| noise sd", NOISE_SD, f"| NUTS: {NUM_CHAINS} chains x {NUM_TOTAL} steps, burn-in {NUM_BURNIN}")

# %% [markdown]
# ## 1. Plain HMC made visible
#
# A random walk proposes a small blind step and accepts it or not; on a posterior whose
# coordinates are strongly correlated it must keep its steps as small as the *narrowest* direction
# and so crawls along the long one. Hamiltonian Monte Carlo instead treats $-\log p(\theta)$ as the
# height of a surface: it draws a random **momentum** $p \sim N(0, I)$ (the arrow), lets a particle
# slide for `FRAME_LEAPFROG` **leapfrog** steps of size `FRAME_STEP` (the path: half a momentum
# step along the gradient, a full position step, half a momentum step), and accepts the end point
# with probability $\min(1, e^{-\Delta H})$, $H = -\log p(\theta) + |p|^2/2$. Leapfrog almost
# conserves $H$, so the far-away end point is almost always accepted. Below: four successive plain
# HMC transitions on a 2-D Gaussian with correlation 0.95 (`cs109b_bayes.inference.hmc.leapfrog`,
# a 60-line numpy integrator), and random-walk Metropolis given the same number of log-density
# evaluations (each leapfrog step costs one gradient).

# %%
target = cb.inference.hmc.leapfrog.correlated_gaussian(correlation=CORRELATION)
frame_rng = cb.seeds.numpy_rng(SEED, "hmc_frames")
state, frames = np.array([-1.5, -1.2]), []
for _ in range(4):
    state, path, accepted = cb.inference.hmc.leapfrog.hmc_step(target, state, step_size=FRAME_STEP, num_steps=FRAME_LEAPFROG,
                                              rng=frame_rng)
    frames.append((path, accepted))
walk_rng = cb.seeds.numpy_rng(SEED, "walk_frames")
walk, walk_accepted = [np.array([-1.5, -1.2])], 0
for _ in range(4 * FRAME_LEAPFROG):      # as many log-density evaluations as the 4 HMC transitions
    proposal = walk[-1] + 0.25 * walk_rng.normal(size=2)
    take = np.log(walk_rng.uniform()) < target.log_prob(proposal) - target.log_prob(walk[-1])
    walk.append(proposal if take else walk[-1])
    walk_accepted += int(take)
walk = np.array(walk)
hmc_moved = np.linalg.norm(frames[-1][0].positions[-1] - frames[0][0].positions[0])
energy_errors = [float(np.ptp(cb.inference.hmc.leapfrog.hamiltonian(target.log_prob, p.positions, p.momenta))) for p, _ in frames]

fig, axes = plt.subplots(1, 5, figsize=(18, 3.9))
for k, (ax, (path, accepted)) in enumerate(zip(axes, frames)):
    cb.widgets.hmc.plot_target(ax, target)
    for previous, _ in frames[:k]:
        ax.plot(*previous.positions.T, "-", color="0.8", lw=0.8)
    cb.widgets.hmc.plot_leapfrog_path(ax, path, accepted=accepted)
    ax.set_title(f"HMC step {k + 1}: {'accepted' if accepted else 'rejected'}, "
                 f"max |dH| {energy_errors[k]:.3f}", fontsize=9)
cb.widgets.hmc.plot_target(axes[4], target)
axes[4].plot(*walk.T, ".-", color="C3", lw=0.8, ms=3)
axes[4].set_title(f"Metropolis: {len(walk) - 1} steps (scale 0.25),\n{walk_accepted} accepted", fontsize=9)
fig.tight_layout()
plt.show()
print(f"4 HMC transitions ({4 * FRAME_LEAPFROG} gradient evaluations): {sum(a for _, a in frames)} accepted, "
      f"largest energy error along a path {max(energy_errors):.3f}")
print(f"the chain's end is {hmc_moved:.2f} from where it started (posterior sd along the long axis: "
      f"{np.sqrt(1 + CORRELATION):.2f}); Metropolis with {4 * FRAME_LEAPFROG} evaluations: "
      f"{np.linalg.norm(walk[-1] - walk[0]):.2f}, {walk_accepted} of {len(walk) - 1} proposals accepted")

# %% [markdown]
# **Explore.** Move the step size and the number of leapfrog steps: short paths barely move; a step
# size beyond the stability limit (about twice the narrowest posterior sd, here
# $2\sqrt{1 - 0.95} \approx 0.45$) makes the energy blow up, and the proposal is rejected — this
# is what NUTS reports as a *divergence* below. (Headless runs show the default setting.)

# %%
panel = cb.widgets.hmc.explore_leapfrog(correlation=CORRELATION, seed=SEED, step_size=FRAME_STEP, num_steps=FRAME_LEAPFROG)
panel

# %% [markdown]
# The sampling itself is `cb.sample_hmc(kernel="hmc")`: plain HMC with a fixed number of
# leapfrog steps (jittered), the step size adapted during burn-in, and **no mass matrix**
# (`mass_matrix="unit"`), so it sees the correlation exactly as drawn above. We compare it with
# `cb.metropolis` on the same posterior: effective sample size (ESS, the smaller of the two
# coordinates) per iteration and per log-density (or gradient) evaluation.

# %%
precision_tf = tf.constant(np.linalg.inv(target.cov), tf.float32)


def gaussian_log_prob(theta):
    return -0.5 * tf.einsum("ci,ij,cj->c", theta, precision_tf, theta)


plain = cb.sample_hmc(gaussian_log_prob, {"theta": np.zeros(2)}, kernel="hmc", mass_matrix="unit",
                      num_leapfrog_steps=FRAME_LEAPFROG, num_results=PLAIN_STEPS, num_burnin_steps=PLAIN_STEPS // 2,
                      num_chains=4, seed=SEED)
random_walk = cb.metropolis(lambda theta: target.log_prob(theta), {"theta": np.zeros(2)}, proposal_scale=0.25,
                            num_steps=PLAIN_STEPS * 3 // 2, burn_in=1 / 3, num_chains=4, seed=SEED)
plain_ess, walk_ess = float(np.min(plain.ess["theta"])), float(np.min(random_walk.ess["theta"]))
plain_draws = 4 * plain.num_draws
per_iteration = {"HMC": plain_ess / plain_draws, "Metropolis": walk_ess / (4 * random_walk.num_draws)}
per_evaluation = {"HMC": per_iteration["HMC"] / FRAME_LEAPFROG, "Metropolis": per_iteration["Metropolis"]}
print(f"plain HMC: step size {plain.step_size:.3f} x {FRAME_LEAPFROG} leapfrog steps, acceptance "
      f"{plain.acceptance_rate:.2f}, min ESS {plain_ess:.0f} of {plain_draws} draws")
print(f"Metropolis: acceptance {random_walk.acceptance_rate:.2f}, min ESS {walk_ess:.0f} of "
      f"{4 * random_walk.num_draws} draws")
print(f"ESS per iteration: HMC {per_iteration['HMC']:.3f}, Metropolis {per_iteration['Metropolis']:.4f} "
      f"({per_iteration['HMC'] / per_iteration['Metropolis']:.0f}x)")
print(f"ESS per log-density evaluation: HMC {per_evaluation['HMC']:.4f}, Metropolis "
      f"{per_evaluation['Metropolis']:.4f} ({per_evaluation['HMC'] / per_evaluation['Metropolis']:.1f}x)")
assert per_iteration["HMC"] > 10 * per_iteration["Metropolis"], "HMC's draws should be far less correlated"
assert per_evaluation["HMC"] > per_evaluation["Metropolis"], "even per gradient, HMC should win here"

# %% [markdown]
# ## 2. The log-posterior in TensorFlow
#
# HMC follows the gradient of the log-posterior, so it must be written with TensorFlow ops
# (`tf.sin`, `tf.reduce_sum`), which TensorFlow can differentiate. Numpy calls would cut the gradient.
#
# **Question 1.** Write `log_posterior_tf(w11, w12, w21, w22, b1)`: each weight a float32 tensor of
# shape `[num_chains]`, returning `[num_chains]`; Gaussian likelihood with sd `NOISE_SD` on
# `x_tf, y_tf`, $\mathcal N(0, 1)$ priors. The check compares values and gradients with the package's
# reference on random weights.

# %%
def log_posterior_tf(w11, w12, w21, w22, b1):
    # BEGIN SOLUTION
    prediction = (w21[..., None] * tf.sin(w11[..., None] * x_tf)
                  + w22[..., None] * tf.sin(w12[..., None] * x_tf) + b1[..., None])
    log_likelihood = -0.5 * tf.reduce_sum((y_tf - prediction) ** 2, axis=-1) / NOISE_SD**2
    log_prior = -0.5 * (w11**2 + w12**2 + w21**2 + w22**2 + b1**2) / PRIOR_SD**2
    return log_likelihood + log_prior
    # END SOLUTION


# %%
cb.check("lab04.log_posterior_tf", log_posterior_tf=log_posterior_tf)

# %% [markdown]
# ## 3. NUTS with 4 chains
#
# Like lab 03 we start near the posterior mode (found with `cb.models.find_mode`); `cb.sample_hmc`
# jitters the start per chain and, during burn-in (30% of the steps), adapts a dense mass matrix
# (Stan-style windows: it estimates the posterior covariance of each chain and samples in
# *whitened* coordinates, where that covariance is the identity) and then the leapfrog step size
# in those whitened coordinates. It runs the 4 chains as 2 compiled batches of 2 chains, one per
# CPU core at the same time, each batch with its own warm-up (so the printed step size is the
# mean of the two), and reports divergences (trajectories whose energy blew up: a sign that the
# sampler could not follow the posterior's curvature). This posterior has curved ridges (lab 03)
# that no single covariance straightens out, so we adapt the step size for an acceptance of `TARGET_ACCEPT = 0.95` rather
# than TFP's default 0.8: smaller steps, longer trajectories, fewer divergences. The printed step
# size is in the whitened coordinates, so it does not measure the posterior's scale (the mass
# matrix absorbed that): it is of order 1 for a Gaussian posterior, whose whitened form is a
# standard normal, and smaller when the curvature changes from place to place, as along the ridges.

# %%
numpy_log_posterior = cb.models.gap5_log_prob(x, y, noise_sd=NOISE_SD, prior_sd=PRIOR_SD)
mode = cb.models.find_mode(numpy_log_posterior, cb.models.GAP5_START, num_restarts=20, seed=SEED)
print("start (posterior mode):", {n: round(v, 3) for n, v in mode.params.items()})

# %%
if cb.ready("lab04.log_posterior_tf"):
    hmc = cb.sample_hmc(log_posterior_tf, mode.params, num_results=NUM_RESULTS, num_burnin_steps=NUM_BURNIN,
                        num_chains=NUM_CHAINS, target_accept_prob=TARGET_ACCEPT, seed=SEED)
    print(f"NUTS: {hmc.num_chains} chains x {hmc.num_draws} kept draws (burn-in {hmc.num_burnin_steps}), "
          f"acceptance {hmc.acceptance_rate:.3f}, step size {hmc.step_size:.4f}, divergences {hmc.divergences}, "
          f"sampling {hmc.seconds:.1f} s (+ {hmc.compile_seconds:.1f} s compiling)")
    print(hmc.summary())
    print(f"Reproduce this band (lab 07 compares VI with it): cb.sample_hmc(cb.models.gap5_log_prob(x, y, "
          f"noise_sd={NOISE_SD}, prior_sd={PRIOR_SD}, backend='tensorflow'), <mode from find_mode(..., "
          f"num_restarts=20, seed={SEED})>, num_results={NUM_RESULTS}, num_burnin_steps={NUM_BURNIN}, "
          f"num_chains={NUM_CHAINS}, target_accept_prob={TARGET_ACCEPT}, seed={SEED})")

# %%
if cb.ready("lab04.log_posterior_tf"):
    fig = cb.plotting.plot_trace(hmc)
    plt.show()

# %% [markdown]
# Divergences (printed above) are transitions where the leapfrog integrator's energy blew up: the
# posterior bends more sharply somewhere than the adapted step size (and mass matrix) can follow.
# They are not harmless: the sampler under-visits the region where they happen, and a chain can
# get stuck there. **Try it:** set `TARGET_ACCEPT = 0.8` in the parameters cell, rerun, and compare the
# divergence count, the step size and the R-hat of the predictions below.

# %% [markdown]
# The weights are not identifiable (lab 03: swapping the two units or flipping the signs of a unit's
# weights gives the same network), so a weight-level R-hat can be large whenever chains wander
# between or along such copies; `b1`, which no symmetry moves, and the predictions are the
# identifiable quantities. Their R-hat (printed, with the largest weight R-hat):

# %%
if cb.ready("lab04.log_posterior_tf"):
    hmc_f = cb.models.posterior_predictive(hmc, X_ESS, noise_sd=0.0).draws
    print("R-hat of f(x) at x =", X_ESS, ":", cb.diagnostics.potential_scale_reduction(hmc_f).round(3))
    print("R-hat of b1:", round(float(hmc.rhat["b1"]), 3), "| max weight R-hat:",
          round(max(float(v) for v in hmc.rhat.values()), 3))

# %% [markdown]
# ## 4. The posterior predictive, $\mu \pm 2\sigma$
#
# **Question 2.** Write `predictive_mean_sd(samples, x, noise_sd)`: `samples` maps each weight name to
# draws `[chain, draw]`; evaluate the network for every draw at inputs `x` and return the predictive
# mean and sd, where the predictive variance is the variance of the network outputs over the draws
# (epistemic) plus `noise_sd**2` (aleatoric).

# %%
def predictive_mean_sd(samples, x, noise_sd):
    # BEGIN SOLUTION
    w = {n: np.asarray(v).reshape(-1)[:, None] for n, v in samples.items()}
    outputs = w["w21"] * np.sin(w["w11"] * x) + w["w22"] * np.sin(w["w12"] * x) + w["b1"]
    return outputs.mean(axis=0), np.sqrt(outputs.var(axis=0) + noise_sd**2)
    # END SOLUTION


# %%
cb.check("lab04.predictive", predictive_mean_sd=predictive_mean_sd)

# %% [markdown]
# The band should be tight at the data and wide in the gap and beyond. We measure it: the mean
# predictive sd for |x| > 1 against the mean predictive sd at the 20 data points.

# %%
if cb.ready("lab04.log_posterior_tf", "lab04.predictive"):
    mean, sd = predictive_mean_sd(hmc.samples, GRID, NOISE_SD)
    _, sd_at_data = predictive_mean_sd(hmc.samples, x, NOISE_SD)
    away = np.abs(GRID) > 1
    in_gap = np.abs(GRID) < 0.2
    sd_away, sd_data = sd[away].mean(), sd_at_data.mean()
    print(f"mean predictive sd at the data points: {sd_data:.3f} (noise sd {NOISE_SD})")
    print(f"mean predictive sd in the gap |x| < 0.2: {sd[in_gap].mean():.3f}")
    print(f"mean predictive sd away from the data |x| > 1: {sd_away:.3f}")
    print(f"ratio away / at data: {sd_away / sd_data:.1f} (the lab claims at least 3)")
    assert sd_away >= 3 * sd_data, "the predictive band should be at least 3x wider away from the data"
    fig = cb.plotting.plot_predictive_band(GRID, mean, sd, x=x, y=y, label="NUTS predictive mean",
                                           title="Full Bayesian NN prediction (mu +- 2 sigma), NUTS")
    plt.show()

# %% [markdown]
# The band narrows again at x = 0: every hidden unit outputs sin(0) = 0 there, so f(0) = b1 for
# every draw, whatever the weights. That pinch is the architecture's prior belief, not something
# the data taught the model; the gap is only 0.4 wide, so the band stays narrow across it.
#
# ## 5. The lecture's hack: fix the first layer at its maximum-likelihood estimate
#
# Fix $w_{11}, w_{12}$ at their maximum-likelihood values and sample only $(w_{21}, w_{22}, b_1)$. The
# remaining model is linear in the sampled weights, so its posterior is Gaussian and easy to sample.
# (We maximise the likelihood from the posterior mode: a global search finds overfitting
# high-frequency sines.)
#
# **Question 3.** Write `make_hack_log_posterior(w11, w12)` returning a TensorFlow
# `log_prob(w21, w22, b1)` with the first layer held at the given values, $\mathcal N(0,1)$ priors
# on the three sampled weights.

# %%
def make_hack_log_posterior(w11, w12):
    # BEGIN SOLUTION
    def log_prob(w21, w22, b1):
        prediction = w21[..., None] * tf.sin(w11 * x_tf) + w22[..., None] * tf.sin(w12 * x_tf) + b1[..., None]
        log_likelihood = -0.5 * tf.reduce_sum((y_tf - prediction) ** 2, axis=-1) / NOISE_SD**2
        return log_likelihood - 0.5 * (w21**2 + w22**2 + b1**2) / PRIOR_SD**2
    return log_prob
    # END SOLUTION


# %%
cb.check("lab04.hack", make_hack_log_posterior=make_hack_log_posterior)

# %%
if cb.ready("lab04.hack"):
    log_likelihood = cb.models.gap5_log_prob(x, y, noise_sd=NOISE_SD, prior_sd=None)
    ml = cb.models.find_mode(log_likelihood, mode.params).params
    first_layer = {"w11": ml["w11"], "w12": ml["w12"]}
    print("maximum-likelihood first layer:", {n: round(v, 3) for n, v in first_layer.items()})
    hack = cb.sample_hmc(make_hack_log_posterior(ml["w11"], ml["w12"]), {n: ml[n] for n in ("w21", "w22", "b1")},
                         num_results=NUM_RESULTS, num_burnin_steps=NUM_BURNIN, num_chains=NUM_CHAINS,
                         target_accept_prob=TARGET_ACCEPT, seed=SEED)
    print(f"hack NUTS: acceptance {hack.acceptance_rate:.3f}, divergences {hack.divergences}, {hack.seconds:.1f} s")
    print(hack.summary())

# %%
if cb.ready("lab04.log_posterior_tf", "lab04.predictive", "lab04.hack"):
    hack_band = cb.models.posterior_predictive(hack, GRID, noise_sd=NOISE_SD, fixed=first_layer)
    hack_at_data = cb.models.posterior_predictive(hack, x, noise_sd=NOISE_SD, fixed=first_layer)
    hack_f = cb.models.posterior_predictive(hack, X_ESS, noise_sd=0.0, fixed=first_layer).draws
    ess_full = float(cb.diagnostics.effective_sample_size(hmc_f).min())
    ess_hack = float(cb.diagnostics.effective_sample_size(hack_f).min())
    print(f"{'':<22}{'sd at data':>11}{'sd |x|>1':>10}{'min ESS f(x)':>14}{'min ESS weights':>17}{'seconds':>9}"
          f"{'ESS f(x)/s':>12}")
    for label, band_sd, data_sd, run, ess_f in (("full (5 weights)", sd, sd_at_data, hmc, ess_full),
                                                ("hack (3 weights)", hack_band.total_sd, hack_at_data.total_sd, hack,
                                                 ess_hack)):
        ess_w = min(float(np.min(v)) for v in run.ess.values())
        print(f"{label:<22}{data_sd.mean():>11.3f}{band_sd[away].mean():>10.3f}{ess_f:>14.0f}{ess_w:>17.0f}"
              f"{run.seconds:>9.2f}{ess_f / run.seconds:>12.0f}")
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
    cb.plotting.plot_predictive_band(GRID, mean, sd, x=x, y=y, ax=axes[0], title="full HMC: all 5 weights sampled")
    cb.plotting.plot_predictive_band(GRID, hack_band, x=x, y=y, ax=axes[1],
                                     title="hack: w11, w12 fixed at ML, 3 weights sampled")
    plt.show()
    narrower = sd[away].mean() / hack_band.total_sd[away].mean()
    print(f"away from the data the full band is {narrower:.1f}x wider than the hack's; the hack's ESS of f(x) per "
          f"second is {(ess_hack / hack.seconds) / (ess_full / hmc.seconds):.1f}x the full model's")
    assert narrower > 1.5, "fixing the first layer should narrow the band away from the data"
    assert ess_hack / hack.seconds > ess_full / hmc.seconds, "the 3-weight hack should sample faster"

# %% [markdown]
# The hack samples easily (a Gaussian posterior in 3 dimensions: higher ESS in less time) but its
# band away from the data is much narrower: fixing the first layer throws away the uncertainty about
# the frequencies, which is exactly what makes the extrapolation uncertain. It is an approximation
# that is overconfident where it matters.
#
# ## 6. ESS per second: HMC vs lab 03's Metropolis
#
# The same posterior, lab 03's sampler and settings (`cb.metropolis`, 4 chains, proposal scale 0.05,
# burn-in 20%). Because the weights are not identifiable, we compare the effective sample size of
# the *predictions* f(x) at 7 points (the smallest of the 7), per second of sampling (NUTS
# compilation excluded, and shown apart).

# %%
if cb.ready("lab04.log_posterior_tf"):
    ess_full = float(cb.diagnostics.effective_sample_size(hmc_f).min())
    metropolis = cb.metropolis(numpy_log_posterior, mode.params, proposal_scale=0.05, num_steps=METROPOLIS_STEPS,
                               num_chains=NUM_CHAINS, burn_in=0.2, init_jitter=0.05, seed=SEED)
    metropolis_f = cb.models.posterior_predictive(metropolis, X_ESS, noise_sd=0.0).draws
    ess_metropolis = float(cb.diagnostics.effective_sample_size(metropolis_f).min())
    rate_hmc, rate_metropolis = ess_full / hmc.seconds, ess_metropolis / metropolis.seconds
    print(f"Metropolis: {metropolis.num_chains} x {METROPOLIS_STEPS} steps, acceptance {metropolis.acceptance_rate:.3f}, "
          f"min ESS of f(x) {ess_metropolis:.0f} in {metropolis.seconds:.1f} s -> {rate_metropolis:.1f} ESS/s")
    print(f"NUTS:       {hmc.num_chains} x {NUM_TOTAL} steps, min ESS of f(x) {ess_full:.0f} in {hmc.seconds:.1f} s "
          f"-> {rate_hmc:.1f} ESS/s ({ess_full / (hmc.seconds + hmc.compile_seconds):.1f} ESS/s counting the "
          f"{hmc.compile_seconds:.1f} s of compilation)")
    print(f"ESS/s ratio NUTS / Metropolis: {rate_hmc / rate_metropolis:.1f}")
    assert rate_hmc > 2 * rate_metropolis, "NUTS should give several times more ESS per second"

# %% [markdown]
# ## 7. Why MCMC stops scaling
#
# The lecture: "MCMC will not work for NNs with more than a few dozens of parameters". A short
# measured experiment: the same data and priors with 2, 8 and 32 sin hidden units
# (`cb.models.sin_network_log_prob`; 5, 17 and 65 parameters), sampled with NUTS and with Metropolis
# (proposal scale shrunk as 1/sqrt(dimension)), each started at the 2-unit posterior mode padded with
# extra units whose output weights are 0 (the same function, so no long approach to the posterior).
# To fit the time budget the chains are short (`SCALING_TOTAL` NUTS steps, half of them burn-in,
# `SCALING_CHAINS` chains), so read the ESS values as orders of magnitude. With 17 or 65 weights
# the symmetric modes multiply and no single weight is identifiable, so we measure quantities that
# no symmetry changes: the log-posterior of the draws and the network's output f(x) at the 7
# points `X_ESS`, and report the smallest of these 8 ESS values, per second of sampling and per
# 1,000 draws (the second does not depend on how fast one step is computed).

# %%
def sin_network_outputs(run, num_hidden, inputs):
    """f(x) for every draw of a sin network with `num_hidden` units: [chain, draw, len(inputs)]."""
    w1, w2, b = run.samples["w1"], run.samples["w2"], run.samples["b"]
    return np.einsum("cdh,cdhx->cdx", w2, np.sin(w1[..., None] * inputs)) + b[..., None]


def min_ess(run, num_hidden):
    outputs = sin_network_outputs(run, num_hidden, X_ESS)
    return min(float(cb.diagnostics.effective_sample_size(run.log_prob)),
               float(np.min(cb.diagnostics.effective_sample_size(outputs))))


scaling = []
for num_hidden in cb.progress.iterate(SCALING_UNITS, desc="network sizes"):
    rng = cb.seeds.numpy_rng(SEED + num_hidden, "scaling_start")
    numpy_fn = cb.models.sin_network_log_prob(x, y, num_hidden=num_hidden, noise_sd=NOISE_SD, prior_sd=PRIOR_SD)
    tf_fn = cb.models.sin_network_log_prob(x, y, num_hidden=num_hidden, noise_sd=NOISE_SD, prior_sd=PRIOR_SD,
                                           backend="tensorflow")
    # Start at lab 03's fit: the two units of the mode plus extra units with zero output weight.
    start = {"w1": np.concatenate([[mode.params["w11"], mode.params["w12"]], rng.normal(size=num_hidden - 2)]),
             "w2": np.concatenate([[mode.params["w21"], mode.params["w22"]], np.zeros(num_hidden - 2)]),
             "b": mode.params["b1"]}
    num_params = 2 * num_hidden + 1
    nuts = cb.sample_hmc(tf_fn, start, num_results=SCALING_TOTAL // 2, num_burnin_steps=SCALING_TOTAL // 2,
                         num_chains=SCALING_CHAINS, target_accept_prob=TARGET_ACCEPT, seed=SEED)
    walk = cb.metropolis(numpy_fn, start, proposal_scale=0.05 * np.sqrt(5 / num_params),
                         num_steps=METROPOLIS_STEPS, num_chains=SCALING_CHAINS, burn_in=0.2,
                         init_jitter=0.01, seed=SEED)
    row = {"hidden": num_hidden, "params": num_params}
    for label, run in (("nuts", nuts), ("metropolis", walk)):
        ess = min_ess(run, num_hidden)
        row[label] = ess / run.seconds
        row[label + "_per_1000"] = 1000 * ess / (run.num_chains * run.num_draws)
        row[label + "_ess"] = ess
        row[label + "_seconds"] = run.seconds
    row["nuts_step"], row["metropolis_accept"] = nuts.step_size, walk.acceptance_rate
    scaling.append(row)
    print(f"H={num_hidden:>2} ({num_params:>2} params): NUTS {row['nuts']:7.1f} ESS/s, "
          f"{row['nuts_per_1000']:6.1f} per 1000 draws (step size {nuts.step_size:.4f}, {nuts.seconds:.1f} s) | "
          f"Metropolis {row['metropolis']:6.2f} ESS/s, {row['metropolis_per_1000']:5.2f} per 1000 draws "
          f"(acceptance {walk.acceptance_rate:.2f}, {walk.seconds:.1f} s)")

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
params = [r["params"] for r in scaling]
for ax, suffix, ylabel in ((axes[0], "", "min ESS per second"), (axes[1], "_per_1000", "min ESS per 1000 draws")):
    ax.loglog(params, [r["nuts" + suffix] for r in scaling], "o-", label="NUTS (TFP)")
    ax.loglog(params, [r["metropolis" + suffix] for r in scaling], "s-", label="random-walk Metropolis")
    ax.set_xticks(params, [f"{r['params']}\n(H={r['hidden']})" for r in scaling])
    ax.set_xticks([], minor=True)
    ax.set_xlabel("parameters (hidden units)")
    ax.set_ylabel(ylabel)
    ax.legend()
axes[0].set_title("ESS per second as the network grows (short chains)", fontsize=10)
axes[1].set_title("ESS per draw: the sampler's efficiency, whatever a step costs", fontsize=10)
fig.tight_layout()
plt.show()
first, last = scaling[0], scaling[-1]
change = {k: first[k] / last[k] for k in ("nuts", "metropolis", "nuts_per_1000", "metropolis_per_1000")}


def trend(ratio):
    return f"falls {ratio:.1f}x" if ratio >= 1 else f"rises {1 / ratio:.1f}x"


print(f"from {first['params']} to {last['params']} parameters: NUTS's ESS per second {trend(change['nuts'])} while "
      f"its ESS per 1000 draws {trend(change['nuts_per_1000'])}: each draw stays nearly independent, but the "
      f"step size shrinks ({first['nuts_step']:.4f} -> {last['nuts_step']:.4f}) so a draw costs more leapfrog "
      f"steps ({first['nuts_seconds']:.1f} s -> {last['nuts_seconds']:.1f} s)")
print(f"Metropolis: ESS per second {trend(change['metropolis'])}, but its min ESS is "
      f"{', '.join(format(r['metropolis_ess'], '.0f') for r in scaling)} draws out of "
      f"{SCALING_CHAINS * int(0.8 * METROPOLIS_STEPS)}: it barely mixes even with 5 weights, and ESS values this "
      f"small are rough; per draw NUTS is {min(r['nuts_per_1000'] / r['metropolis_per_1000'] for r in scaling):.0f}x "
      f"or more as efficient at every size")
assert change["nuts"] > 3, "NUTS's ESS per second should fall several-fold as the network grows"
assert all(r["nuts_per_1000"] > 20 * r["metropolis_per_1000"] for r in scaling)

# %% [markdown]
# Why it stops scaling: each log-density and gradient evaluation costs more (every weight touches
# every data point); the adapted mass matrix whitens the posterior with one global covariance, but
# the curvature that varies from place to place (ridges that bend) is left over and grows with the
# network, so the step size in whitened coordinates (printed above) shrinks and each independent
# draw needs longer trajectories; and the number of symmetric copies of each mode grows as
# $2^H H!$, so no chain can visit more than a few of them.
# A modern network has millions of weights: sampling its posterior this way is out of reach, which
# is why the next labs approximate it instead (variational inference).

# %% [markdown]
# ## Summary
#
# * Plain HMC (drawn above) follows the posterior's shape with momentum and leapfrog steps, so on a
#   correlated 2-D Gaussian its draws are many times less correlated than a random walk's, per
#   iteration and even per gradient evaluation (printed ratios).
# * With TensorFlow Probability's NUTS (`cb.sample_hmc`) the 5-weight network samples in seconds;
#   the summary reports R-hat and ESS per weight and the number of divergences.
# * Weight-level R-hat is unreliable (symmetric modes); the R-hat of the predictions and of b1 is the
#   honest convergence check.
# * The posterior predictive $\mu \pm 2\sigma$ is tight at the data and, as printed, several times
#   wider away from it (|x| > 1) — the epistemic uncertainty a point estimate cannot express.
# * The hack (first layer fixed at its ML estimate) samples faster but is overconfident away from
#   the data.
# * NUTS gives many times more effective samples per second than random-walk Metropolis here (the
#   printed ratio), yet its ESS per second falls several-fold from 5 to 65 parameters (printed):
#   its draws stay nearly independent, but the step size shrinks and each draw costs more leapfrog
#   steps. Random-walk Metropolis barely mixes at any of these sizes (a handful of effective draws,
#   printed). Full MCMC does not scale to real networks.
