# %% [markdown]
# # Lab 07 — Bayes by Backprop
#
# **Goal.** Put the uncertainty on the *weights*: every weight gets a Gaussian
# $q(w_i) = N(\mu_i, \sigma_i^2)$, a forward pass samples $w = \mu + \sigma \odot \epsilon$, and
# training maximises the ELBO, whose KL term is spread over the $N$ training examples. The
# predictive distribution comes from $T$ stochastic forward passes, and its epistemic part
# widens away from the data, which the output-only network of lab 06 could not do.
#
# **Slide.** CS109B "Bayesian Auto-Encoders Part Two": *Option #2 - Variational Approximation of
# the weights*, *Variational BNN - Bayes by Backprop*: "This will double our trainable
# parameters, as we optimize for the μ & σ for each weight distribution."
#
# **Expected figure.** The predictive mean with two bands over $x \in [-1.5, 1.5]$: aleatoric
# ($\pm 2$ mean $\sigma$) and total ($\pm 2$ sd, aleatoric + epistemic), the total band
# flaring outside the data; below, the epistemic sd against $x$; and the training loss split
# into its NLL and KL parts.
#
# Data: the synthetic heteroscedastic set of lab 06 ($y = \sin 3x + 0.3x + $ noise growing
# with $x$; gap around 0).

# %%
import cs109b_bayes as cb  # noqa: I001  (first: quiets TensorFlow's log lines)

import matplotlib.pyplot as plt
import numpy as np
import tensorflow_probability as tfp

tfd = tfp.distributions

# %%
# Parameters: CS109B_FAST=1 trains fewer epochs and uses fewer predictive passes.
FAST = cb.fast_mode()
EPOCHS = 400 if FAST else 1_000
NUM_PASSES = 100 if FAST else 300    # T stochastic forward passes for the predictive
HIDDEN_UNITS = (32, 32)
BATCH_SIZE = 32
LEARNING_RATE = 0.01 if FAST else 0.005   # full mode: smaller steps over more epochs (0.01 spikes late in training)
SEED = 7
# Section "Mean-field VI against HMC on lab 04's gap data" (a shortened NUTS run of lab 04)
HMC_STEPS = 600 if FAST else 2_000     # NUTS steps per chain, half of them burn-in
VI_STEPS = 1_500 if FAST else 4_000    # mean-field VI steps on the same 5-weight posterior

# %%
het = cb.data.heteroscedastic()
N = len(het.x)
print(het.description)

# %% [markdown]
# ## Question 1: the KL term, scaled by 1/N
#
# The ELBO of the whole data set is $\sum_{i=1}^N E_q[\log p(y_i|x_i,w)] - KL(q\|p)$. Keras
# averages the loss over a minibatch, so each example must carry $KL/N$: then the minibatch
# loss is an unbiased estimate of $-\mathrm{ELBO}/N$. TFP layers take a
# `kernel_divergence_fn(q, p, ignore)`. Write `make_divergence_fn(num_train)` returning that
# function: $KL(q\|p)/N$ (use `tfd.kl_divergence`).

# %%
def make_divergence_fn(num_train):
    # BEGIN SOLUTION
    return lambda q, p, _: tfd.kl_divergence(q, p) / num_train
    # END SOLUTION


# %%
cb.check("lab07.scaled_kl", make_divergence_fn=make_divergence_fn)

# %% [markdown]
# ## The network and its parameter count
#
# `cb.bnn.build_regressor("reparameterization", num_train=N)` is the network of lab 06 with
# every `Dense` replaced by `tfp.layers.DenseReparameterization`: each kernel weight has a
# mean-field Gaussian posterior and a $N(0, 1)$ prior, the KL is divided by `num_train`, and
# the biases stay point estimates (TFP's default). Its summary shows the kernel parameters
# doubled: a mean and a (softplus-transformed) scale per weight.

# %%
deterministic = cb.bnn.build_regressor("output_only", num_train=N, hidden_units=HIDDEN_UNITS, seed=SEED)
model = cb.bnn.build_regressor("reparameterization", num_train=N, hidden_units=HIDDEN_UNITS, seed=SEED,
                               learning_rate=LEARNING_RATE)
model.summary()
kernel_weights = sum(int(np.prod(layer.kernel.shape)) for layer in deterministic.layers if hasattr(layer, "kernel"))
bias_weights = deterministic.count_params() - kernel_weights
print(f"output-only network: {kernel_weights} kernel weights + {bias_weights} biases = {deterministic.count_params()}")
print(f"Bayes by Backprop:   2 x {kernel_weights} kernel (mean, scale) + {bias_weights} biases = {model.count_params()} "
      f"({model.count_params() / deterministic.count_params():.2f}x)")
assert model.count_params() == 2 * kernel_weights + bias_weights

# %% [markdown]
# Your divergence function reproduces the layers' KL losses: after a forward pass every layer
# holds its posterior and prior, and `model.losses` holds one KL per layer.

# %%
if cb.ready("lab07.scaled_kl"):
    model(het.x[:5, None].astype(np.float32))
    divergence = make_divergence_fn(N)
    bayes_layers = [layer for layer in model.layers if hasattr(layer, "kernel_posterior")]
    yours = sum(float(divergence(layer.kernel_posterior, layer.kernel_prior, None)) for layer in bayes_layers)
    library_kl = float(sum(model.losses))
    print(f"{len(model.losses)} KL terms (one per layer); "
          f"sum: yours {yours:.5f}, the model's {library_kl:.5f} (= KL / {N})")
    assert abs(yours - library_kl) < 1e-4 * max(1.0, abs(library_kl))

# %% [markdown]
# ## Train
#
# `cb.bnn.fit` minimises mean NLL + KL/N with Adam and records both parts per epoch.

# %%
history = cb.bnn.fit(model, het.x, het.y, epochs=EPOCHS, batch_size=BATCH_SIZE, seed=SEED)
print(f"{EPOCHS} epochs in {history.seconds_per_epoch.sum():.1f} s; final NLL {history.nll[-20:].mean():.3f}, "
      f"KL/N {history.kl[-20:].mean():.3f} (KL {history.kl[-1] * N:.0f} nats over {N} examples)")
kl_start, kl_end = history.kl[0], history.kl[-20:].mean()
kl_last_change = history.kl[-50:-40].mean() - history.kl[-10:].mean()
print(f"KL/N: {kl_start:.2f} in the first epoch, {kl_end:.2f} at the end, changing by {kl_last_change:+.3f} over "
      f"the last 50 epochs; NLL: {history.nll[:5].mean():.2f} in the first 5 epochs, {history.nll[-20:].mean():.2f} at the end")
assert kl_start > 3 * kl_end and abs(kl_last_change) < 0.1 * kl_start, "the KL first drops, then settles"
assert history.nll[-20:].mean() < history.nll[:5].mean() - 0.3, "the NLL falls"
assert history.nll[-20:].mean() < 0.3, "training should end with a good fit (no late blow-up)"
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(history.loss, label="loss = NLL + KL/N (-ELBO/N)")
ax.plot(history.nll, label="NLL (data term)")
ax.plot(history.kl, label="KL / N")
ax.set_xlabel("epoch")
ax.set_ylabel("per example")
ax.set_ylim(min(history.nll.min(), 0) - 0.2, np.percentile(history.loss, 99))
ax.legend()
ax.set_title("Bayes by Backprop: the loss split into NLL and KL")
plt.show()

# %% [markdown]
# ## Question 2: the predictive from T passes
#
# Each pass $t$ samples new weights and gives $N(\mu_t(x), \sigma_t(x)^2)$. The predictive is
# their mixture; by the law of total variance its variance is $E_t[\sigma_t^2]$ (aleatoric)
# plus $\mathrm{Var}_t[\mu_t]$ (epistemic). Write `predictive_split(locs, scales)` for arrays
# of shape [T, n] returning `(mean, aleatoric_sd, epistemic_sd, total_sd)`, each of shape [n].

# %%
def predictive_split(locs, scales):
    # BEGIN SOLUTION
    aleatoric_sd = np.sqrt(np.mean(scales**2, axis=0))
    epistemic_sd = np.std(locs, axis=0)
    return locs.mean(axis=0), aleatoric_sd, epistemic_sd, np.sqrt(aleatoric_sd**2 + epistemic_sd**2)
    # END SOLUTION


# %%
cb.check("lab07.predictive_split", predictive_split=predictive_split)

# %% [markdown]
# Two comparisons: your split of the *same* passes that `cb.bnn.predict` made (its `draws` hold
# the passes' means $\mu_t(x)$; it does not keep the $\sigma_t$, so we pass zeros for them and
# compare the mean and the epistemic sd), which must agree to rounding; and your split of your
# *own* $T$ passes (`model(x)` calls, independent draws), which differs by Monte Carlo noise.

# %%
grid = np.linspace(-1.5, 1.5, 301)
library = cb.bnn.predict(model, grid, num_samples=NUM_PASSES, seed=SEED)

# %%
if cb.ready("lab07.predictive_split"):
    same_locs = library.draws[0]                        # [T, n]: the library's passes
    same_mean, _, same_epistemic, _ = predictive_split(same_locs, np.zeros_like(same_locs))
    same_error = max(np.max(np.abs(same_mean - library.mean)), np.max(np.abs(same_epistemic - library.epistemic_sd)))
    print(f"same passes: your split and cb.bnn.predict agree to {same_error:.1e} (mean and epistemic sd)")
    assert same_error < 1e-4
    passes = [model(grid[:, None].astype(np.float32)) for _ in range(NUM_PASSES)]
    locs = np.stack([p.loc.numpy()[:, 0] for p in passes])
    scales = np.stack([p.scale.numpy()[:, 0] for p in passes])
    mean, aleatoric_sd, epistemic_sd, total_sd = predictive_split(locs, scales)
    relative_gap = np.mean(np.abs(library.epistemic_sd - epistemic_sd) / epistemic_sd)
    other_seed = cb.bnn.predict(model, grid, num_samples=NUM_PASSES, seed=SEED + 1)
    library_gap = np.mean(np.abs(library.epistemic_sd - other_seed.epistemic_sd) / other_seed.epistemic_sd)
    print(f"independent passes: the epistemic sd differs by {relative_gap:.1%} on average between your "
          f"{NUM_PASSES} passes and the library's; two library runs with different seeds differ by "
          f"{library_gap:.1%} (an sd from {NUM_PASSES} Gaussian draws is off by about {1 / np.sqrt(2 * NUM_PASSES):.0%})")
    verdict = "the same size as" if relative_gap < 2 * library_gap else "larger than"
    print(f"your difference is {verdict} the seed-to-seed difference"
          + (": Monte Carlo noise, not a disagreement." if relative_gap < 2 * library_gap else "."))

# %%
# From here on we use the library's (seeded, reproducible) `Predictive`: `library.mean`,
# `library.aleatoric_sd`, `library.epistemic_sd`, `library.total_sd`, one value per grid point.
fig, axes = plt.subplots(2, 1, figsize=(8, 7), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
cb.plotting.plot_predictive_band(grid, library, ("total", "aleatoric"), x=het.x, y=het.y, ax=axes[0],
                                 label="predictive mean", title=f"Bayes by Backprop, {NUM_PASSES} passes: mean +- 2 sd")
axes[0].set_ylim(-3, 3)
axes[1].plot(grid, library.epistemic_sd, "C3-", label="epistemic sd")
axes[1].plot(grid, library.aleatoric_sd, "C2--", label="aleatoric sd")
for edge in (-1.0, -0.25, 0.25, 1.0):
    axes[1].axvline(edge, color="gray", ls=":", lw=1)
axes[1].set_xlabel("x")
axes[1].set_ylabel("sd")
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Measure: epistemic uncertainty off the data

# %%
regions = {
    "data": (np.abs(grid) >= 0.25) & (np.abs(grid) <= 1.0),
    "gap": np.abs(grid) < 0.15,
    "outside": (np.abs(grid) >= 1.2) & (np.abs(grid) <= 1.5),
}
epistemic = {name: library.epistemic_sd[mask].mean() for name, mask in regions.items()}
for name, mask in regions.items():
    print(f"{name:8s} epistemic sd {epistemic[name]:.3f}   aleatoric sd {library.aleatoric_sd[mask].mean():.3f}")
off_ratio = epistemic["outside"] / epistemic["data"]
gap_ratio = epistemic["gap"] / epistemic["data"]
print(f"epistemic sd off the data (1.2 <= |x| <= 1.5) is {off_ratio:.1f}x that at the data; "
      f"in the gap (|x| < 0.15, 0.5 wide) only {gap_ratio:.1f}x")
assert off_ratio >= 2.0, "the epistemic sd should be at least twice as large off the data"
assert gap_ratio < off_ratio / 1.5, "the gap gets much less extra uncertainty than the outside"

# %% [markdown]
# **Why so little in the gap?** This is a known failure of *mean-field* variational inference
# in neural networks, not of Bayesian networks: Foong et al. (2019, "'In-between' uncertainty
# in Bayesian neural networks", https://arxiv.org/abs/1906.11537) show that factorised
# Gaussian $q$ gives almost no extra uncertainty *between* clusters of data while exact
# inference (HMC) and full-covariance approximations do; for one hidden layer they prove that
# the variance of $f$ at a point between two inputs is bounded by the variances at the two
# inputs (https://arxiv.org/abs/1909.00719). Outside the data the perturbations of the weights
# are multiplied by a growing $|x|$, so the spread grows there anyway. HMC on this 2,306-weight
# network is out of reach of a lab; the next section compares mean-field VI with HMC where
# both can run: lab 04's 5-weight network on its gap data.
#
# ## Mean-field VI against HMC on lab 04's gap data
#
# Lab 04 sampled the 5-weight network $f(x) = w_{21}\sin(w_{11}x) + w_{22}\sin(w_{12}x) + b_1$
# on the 20 points of `cb.data.sin_gap()` with NUTS. Here the same posterior is fitted twice:
# by NUTS (a shortened run of lab 04: 4 chains, `HMC_STEPS` steps each) and by mean-field
# Gaussian VI (`cb.variational.fit_mean_field`, the method of lab 05, which is what Bayes by
# Backprop does for every weight). Same model, same prior, same data: any difference between
# the bands is the approximation's. Two things to know before reading the numbers: lab 04's gap
# is narrow (0.48 wide) and this architecture pins $f(0) = b_1$ for every draw (all hidden
# units output $\sin 0 = 0$), so even the exact posterior has little extra uncertainty in this
# gap; the place where the methods can differ most is outside the data.

# %%
gap = cb.data.sin_gap()
GAP_NOISE_SD = gap.truth["sigma"]
gap_grid = np.linspace(-1.5, 1.5, 301)
mode = cb.models.find_mode(cb.models.gap5_log_prob(gap.x, gap.y, noise_sd=GAP_NOISE_SD), cb.models.GAP5_START,
                           num_restarts=20, seed=SEED)
hmc = cb.sample_hmc(cb.models.gap5_log_prob(gap.x, gap.y, noise_sd=GAP_NOISE_SD, backend="tensorflow"),
                    mode.params, num_results=HMC_STEPS // 2, num_burnin_steps=HMC_STEPS // 2, num_chains=4,
                    target_accept_prob=0.95, seed=SEED)
vi = cb.variational.fit_mean_field(
    cb.models.gap5_log_prob(gap.x, gap.y, noise_sd=GAP_NOISE_SD, prior_sd=None, backend="tensorflow"),
    mode.params, prior_sd=cb.models.GAP5_PRIOR_SD, num_steps=VI_STEPS, seed=SEED)
vi_draws = {name: vi.sample(name, 2_000, seed=SEED) for name in mode.params}
bands = {"HMC (NUTS)": cb.models.posterior_predictive(hmc, gap_grid, noise_sd=GAP_NOISE_SD),
         "mean-field VI": cb.models.posterior_predictive(vi_draws, gap_grid, noise_sd=GAP_NOISE_SD)}
print(f"NUTS: {hmc.num_chains} chains x {hmc.num_draws} draws, {hmc.divergences} divergences, "
      f"R-hat of b1 {float(hmc.rhat['b1']):.2f}, {hmc.seconds:.1f} s; mean-field VI: {VI_STEPS} steps, "
      f"{vi.seconds:.1f} s ({'fast' if FAST else 'full'} mode)")
gap_regions = {"at the data": (np.abs(gap_grid) >= 0.21) & (np.abs(gap_grid) <= 0.45),
               "in the gap (0.05 < |x| < 0.2)": (np.abs(gap_grid) > 0.05) & (np.abs(gap_grid) < 0.2),
               "outside (|x| > 1)": np.abs(gap_grid) > 1.0}
widths = {method: {name: 4 * band.epistemic_sd[mask].mean() for name, mask in gap_regions.items()}
          for method, band in bands.items()}
print(f"width of the +-2 sd band of f (epistemic) {'':10s}" + "".join(f"{name:>32s}" for name in gap_regions))
for method, row in widths.items():
    print(f"{method:52s}" + "".join(f"{row[name]:32.3f}" for name in gap_regions))
gap_name = "in the gap (0.05 < |x| < 0.2)"
vi_over_hmc = {name: widths["mean-field VI"][name] / widths["HMC (NUTS)"][name] for name in gap_regions}
print("mean-field VI / HMC width: " + ", ".join(f"{name} {r:.2f}" for name, r in vi_over_hmc.items()))
outside_name = "outside (|x| > 1)"
gap_to_data = {method: row[gap_name] / row["at the data"] for method, row in widths.items()}
print(f"gap / data width: HMC {gap_to_data['HMC (NUTS)']:.2f}, mean-field VI {gap_to_data['mean-field VI']:.2f} "
      f"({'neither band widens' if max(gap_to_data.values()) < 1.2 else 'a band widens'} in this narrow, pinned gap); "
      f"outside the data the mean-field band is "
      f"{vi_over_hmc[outside_name]:.2f}x as wide as HMC's")
assert vi_over_hmc[outside_name] < 0.7, "mean-field VI should under-state the uncertainty away from the data"

fig, ax = plt.subplots(figsize=(8, 4.5))
for k, (method, band) in enumerate(bands.items()):
    low, high = band.mean - 2 * band.total_sd, band.mean + 2 * band.total_sd
    ax.fill_between(gap_grid, low, high, color=f"C{k}", alpha=0.3, label=f"{method}: mean +- 2 sd")
    ax.plot(gap_grid, band.mean, color=f"C{k}", lw=1)
ax.plot(gap.x, gap.y, "k.", label="sin_gap data")
ax.set_ylim(-3, 3)
ax.set_xlabel("x")
ax.legend(fontsize=8)
ax.set_title("Same 5-weight model and data: HMC vs mean-field VI")
plt.show()

# %% [markdown]
# ## Summary
#
# * Bayes by Backprop doubles the kernel parameters (printed above): a mean and a scale per
#   weight; the biases stay point estimates.
# * The KL term is divided by N so that the minibatch loss estimates $-\mathrm{ELBO}/N$; the
#   loss curve splits into a falling NLL and a KL that first drops (the initial posteriors are
#   narrow, far from the prior) and then settles (both asserted, numbers printed above).
# * $T$ stochastic passes give a predictive whose variance splits into aleatoric
#   ($E_t \sigma_t^2$) and epistemic ($\mathrm{Var}_t \mu_t$) parts. The epistemic sd grows off
#   the data (at least 2x, asserted above), unlike the output-only network of lab 06, but in
#   the gap between the clusters it barely grows (ratio printed above): mean-field VI's
#   known in-between failure (Foong et al. 2019).
# * On lab 04's gap data, with the same 5-weight model, mean-field VI's band away from the
#   data is much narrower than HMC's (asserted: below 0.7x; ratios printed above). In that
#   narrow gap, where the architecture pins $f(0)$, neither method widens (printed above).
# * One weight sample per minibatch is shared by all its examples: lab 08 measures what that
#   does to the gradient noise.
