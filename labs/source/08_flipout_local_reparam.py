# %% [markdown]
# # Lab 08 — Flipout and the local reparameterization trick
#
# **Goal.** Bayes by Backprop draws *one* weight sample per minibatch and shares it across the
# examples, so their gradient noise is correlated and does not average out as the batch grows.
# Flipout (Wen et al. 2018) decorrelates the examples with random sign flips of one shared
# perturbation; the local reparameterization trick (Kingma et al. 2015) samples the
# pre-activations independently per example. You will write both forward passes, then
# *measure* the variance of the minibatch gradient over the layers' noise, at identical
# variational parameters, for batch sizes 1 to 256, and compare training curves and time.
#
# **Slide.** CS109B "Bayesian Auto-Encoders Part Two": *'Bayes by Backprop' issues* ("the
# implementation uses the same sample for all weights ... This causes the gradients to be
# correlated, thereby preventing variance reduction during training"), *Flipout*, and the bonus
# *Local reparametrization trick*.
#
# **Expected figure.** Gradient variance against batch size on log-log axes for the three
# layers, with a $1/B$ reference line: per the Flipout paper (its figure 2), Flipout's variance
# falls like $1/B$ while shared-noise Bayes by Backprop levels off. Then the training loss of the
# three networks per epoch (NLL and KL parts), and the time per training step. This lab prints
# what *it* measured, with confidence intervals, even where it differs from the paper.

# %%
import cs109b_bayes as cb  # noqa: I001  (first: quiets TensorFlow's log lines)

import time

import matplotlib.pyplot as plt
import numpy as np

# %%
# Parameters: CS109B_FAST=1 uses fewer batch sizes and epochs (still >= 100 noise draws).
FAST = cb.fast_mode()
BATCH_SIZES = [1, 16, 256] if FAST else [1, 4, 16, 64, 256]
NUM_BLOCKS = 4 if FAST else 5         # independent blocks of draws per measurement (for the bootstrap)
DRAWS_PER_BLOCK = 25 if FAST else 40  # noise draws per block: 100 (fast) or 200 (full) per measurement
NUM_BOOTSTRAP = 2_000                 # bootstrap resamples of the blocks, for confidence intervals
PRETRAIN_EPOCHS = 40 if FAST else 150  # to reach typical (not initial) variational parameters
EPOCHS = 200 if FAST else 500
LEARNING_RATE = 0.01                  # as in lab 07
TIMING_WIDTH, TIMING_BATCH = 256, 256  # a wider network for the time per step
HIDDEN_UNITS = (32, 32)
KINDS = ["reparameterization", "flipout", "local_reparameterization"]
SEED = 8

# %%
het = cb.data.heteroscedastic()
N = len(het.x)

# %% [markdown]
# ## Question 1: a Flipout dense layer
#
# With mean kernel $M$ and one shared perturbation $\widehat{\Delta W}$, Flipout gives example
# $n$ the perturbation $\widehat{\Delta W} \circ r_n s_n^T$ for random sign vectors $s_n$ (inputs)
# and $r_n$ (outputs). Vectorised over the batch:
# $Y = XM + \big((X \circ S)\,\widehat{\Delta W}\big) \circ R$. Write
# `flipout_dense(x, kernel_loc, kernel_delta, sign_in, sign_out)` (numpy; `x` [B, d_in],
# `sign_in` [B, d_in], `sign_out` [B, d_out]).

# %%
def flipout_dense(x, kernel_loc, kernel_delta, sign_in, sign_out):
    # BEGIN SOLUTION
    return x @ kernel_loc + ((x * sign_in) @ kernel_delta) * sign_out
    # END SOLUTION


# %%
cb.check("lab08.flipout_dense", flipout_dense=flipout_dense)

# %% [markdown]
# ## Question 2: a local-reparameterization dense layer
#
# If every weight is independent $N(\mu_{ij}, \sigma_{ij}^2)$, the pre-activation $b = xW$ is
# Gaussian with mean $x\mu$ and variance $x^2\sigma^2$ (elementwise squares), so we can sample
# $b$ directly, one $\epsilon$ per example and unit. Write
# `local_reparam_dense(x, kernel_loc, kernel_sd, eps)` (numpy; `eps` [B, d_out]).

# %%
def local_reparam_dense(x, kernel_loc, kernel_sd, eps):
    # BEGIN SOLUTION
    return x @ kernel_loc + np.sqrt((x**2) @ (kernel_sd**2)) * eps
    # END SOLUTION


# %%
cb.check("lab08.local_reparam_dense", local_reparam_dense=local_reparam_dense)

# %% [markdown]
# Why it matters: for one example, all three give the same distribution of outputs. Across
# examples they differ. We draw 20,000 outputs of a 3 -> 1 layer for two examples and measure
# the correlation of their noise.

# %%
if cb.ready("lab08.flipout_dense", "lab08.local_reparam_dense"):
    rng = np.random.default_rng(SEED)
    x_two = rng.normal(size=(2, 3))
    loc, sd = rng.normal(size=(3, 1)), np.full((3, 1), 0.5)
    draws = {"shared (Bayes by Backprop)": [], "Flipout": [], "local reparameterization": []}
    for _ in range(20_000):
        delta = sd * rng.normal(size=(3, 1))
        draws["shared (Bayes by Backprop)"].append((x_two @ (loc + delta))[:, 0])
        signs_in, signs_out = rng.choice([-1.0, 1.0], size=(2, 3)), rng.choice([-1.0, 1.0], size=(2, 1))
        draws["Flipout"].append(flipout_dense(x_two, loc, delta, signs_in, signs_out)[:, 0])
        draws["local reparameterization"].append(local_reparam_dense(x_two, loc, sd, rng.normal(size=(2, 1)))[:, 0])
    correlation, sds = {}, {}
    for name, values in draws.items():
        values = np.array(values)
        sds[name], correlation[name] = values.std(axis=0), np.corrcoef(values.T)[0, 1]
        print(f"{name:28s} sd of example 1 {sds[name][0]:.3f}, example 2 {sds[name][1]:.3f}; "
              f"correlation between the examples {correlation[name]:+.3f}")
    exact_sd = np.sqrt((x_two**2) @ sd**2)[:, 0]
    print(f"exact sd of each example's output: {exact_sd[0]:.3f}, {exact_sd[1]:.3f} "
          f"(a correlation from 20,000 draws is off by about {1 / np.sqrt(20_000):.3f})")
    assert all(np.allclose(v, exact_sd, rtol=0.03) for v in sds.values()), "same per-example distribution"
    assert abs(correlation["Flipout"]) < 0.05 and abs(correlation["local reparameterization"]) < 0.05
    assert correlation["shared (Bayes by Backprop)"] > 0.3

# %% [markdown]
# ## Measure the gradient variance at the same variational parameters
#
# We pretrain a Bayes-by-Backprop network briefly, copy its variational parameters (kernel
# means and scales, and the biases; the three layer types store the same variables) into a Flipout
# and a local-reparameterization network, and check that they agree. For each batch size $B$
# (the first $B$ points of one fixed shuffle) `cb.variational.gradient_variance` recomputes the
# gradient of the training loss (mean NLL + KL/N) for `NUM_BLOCKS` independent blocks of
# `DRAWS_PER_BLOCK` draws (different seeds); only the layers' noise changes between draws. We
# report the variance per element of the gradient with respect to the posterior *means*,
# averaged over all elements and over the blocks. The blocks give the uncertainty of the
# measurement: resampling them (a bootstrap over blocks of draws) gives confidence intervals
# for every slope below.

# %%
base = cb.bnn.build_regressor("reparameterization", num_train=N, hidden_units=HIDDEN_UNITS, seed=SEED)
cb.bnn.fit(base, het.x, het.y, epochs=PRETRAIN_EPOCHS, seed=SEED)
networks = {}
for kind in KINDS:
    network = cb.bnn.build_regressor(kind, num_train=N, hidden_units=HIDDEN_UNITS, seed=SEED)
    network.set_weights(base.get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(network.get_weights(), base.get_weights()))
    networks[kind] = network
print("same variational parameters in all three networks:", [n.count_params() for n in networks.values()])

order = np.random.default_rng(SEED).permutation(N)
blocks = {kind: np.zeros((len(BATCH_SIZES), NUM_BLOCKS)) for kind in KINDS}   # [batch size, block]
start = time.perf_counter()
for kind in cb.progress.iterate(KINDS, desc="gradient variance"):
    network = networks[kind]
    means = [v for v in network.trainable_variables if "loc" in v.name]
    for j, batch in enumerate(BATCH_SIZES):
        idx = order[:batch]
        for block in range(NUM_BLOCKS):
            measured = cb.variational.gradient_variance(network, het.x[idx], het.y[idx], num_draws=DRAWS_PER_BLOCK,
                                                        seed=SEED * 1_000 + block, variables=means)
            blocks[kind][j, block] = measured.mean_variance
variance = {kind: blocks[kind].mean(axis=1) for kind in KINDS}
print(f"{len(KINDS) * len(BATCH_SIZES)} measurements x {NUM_BLOCKS} blocks x {DRAWS_PER_BLOCK} draws "
      f"in {time.perf_counter() - start:.1f} s ({'fast' if FAST else 'full'} mode)")
print(f"{'batch':>6s}" + "".join(f"{k:>26s}" for k in KINDS))
for j, batch in enumerate(BATCH_SIZES):
    print(f"{batch:6d}" + "".join(f"{variance[k][j]:26.3e}" for k in KINDS))

# %%
log_batch = np.log(BATCH_SIZES)


def log_log_slope(values):
    return np.polyfit(log_batch, np.log(values), 1)[0]


slopes = {kind: log_log_slope(variance[kind]) for kind in KINDS}
# Bootstrap over blocks: for every batch size, resample its blocks with replacement.
boot_rng = np.random.default_rng(SEED)
boot = {kind: np.empty(NUM_BOOTSTRAP) for kind in KINDS}
for b in range(NUM_BOOTSTRAP):
    pick = boot_rng.integers(0, NUM_BLOCKS, size=(len(BATCH_SIZES), NUM_BLOCKS))
    for kind in KINDS:
        boot[kind][b] = log_log_slope(np.take_along_axis(blocks[kind], pick, axis=1).mean(axis=1))
interval = {kind: np.percentile(boot[kind], [2.5, 97.5]) for kind in KINDS}
change = {kind: variance[kind][-1] / variance[kind][0] for kind in KINDS}
for kind in KINDS:
    print(f"{kind:26s} log-log slope {slopes[kind]:+.2f} (95% CI {interval[kind][0]:+.2f} to {interval[kind][1]:+.2f}); "
          f"variance at B = 256 is {change[kind]:.3g}x that at B = 1 (1/B would be {1 / 256:.3g}x)")
print("paper (Wen et al. 2018, fig. 2): Flipout about -1 (variance ~ 1/B); shared-noise Bayes by Backprop levels off.")
shared = "reparameterization"
print(f"Bayes by Backprop: the variance goes from {variance[shared][0]:.3g} at B = 1 to {variance[shared][-1]:.3g} at "
      f"B = 256: it {'rises' if change[shared] > 1 else 'falls'} ({change[shared]:.2f}x), it does not fall like 1/B.")
difference = boot["local_reparameterization"] - boot["flipout"]
low, high = np.percentile(difference, [2.5, 97.5])
if high < 0:
    verdict = "the local reparameterization's variance falls faster than Flipout's"
elif low > 0:
    verdict = "Flipout's variance falls faster than the local reparameterization's"
else:
    verdict = "these draws cannot tell which of Flipout and the local reparameterization falls faster"
print(f"slope difference local reparameterization - Flipout {slopes['local_reparameterization'] - slopes['flipout']:+.2f} "
      f"(95% CI {low:+.2f} to {high:+.2f}): {verdict}.")
flipout_vs_paper = "includes" if interval["flipout"][0] <= -1 <= interval["flipout"][1] else "excludes"
print(f"Flipout's confidence interval {flipout_vs_paper} the paper's -1. (With {NUM_BLOCKS} blocks per batch size "
      f"the bootstrap intervals are rough: {'fast' if FAST else 'full'} mode.)")
assert change[shared] > 0.5, "Bayes by Backprop's gradient variance should not fall with the batch size"
for kind in ("flipout", "local_reparameterization"):
    assert interval[kind][1] < interval[shared][0], f"{kind}'s variance should fall faster than Bayes by Backprop's"

fig, ax = plt.subplots(figsize=(7, 4.5))
for k, kind in enumerate(KINDS):
    low_high = np.percentile(blocks[kind], [0, 100], axis=1)
    ax.fill_between(BATCH_SIZES, low_high[0], low_high[1], color=f"C{k}", alpha=0.2)
    ax.loglog(BATCH_SIZES, variance[kind], "o-", color=f"C{k}",
              label=f"{kind} (slope {slopes[kind]:+.2f}, CI {interval[kind][0]:+.2f} to {interval[kind][1]:+.2f})")
reference = variance["local_reparameterization"][0] / np.array(BATCH_SIZES)
ax.loglog(BATCH_SIZES, reference, "k:", label="1 / B reference")
ax.set_xlabel("batch size B")
ax.set_ylabel("gradient variance (mean per element)")
ax.set_title(f"Gradient variance over {NUM_BLOCKS * DRAWS_PER_BLOCK} noise draws, same variational parameters")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# (Shaded: the range over the blocks of draws at each batch size.)
#
# ## Training curves and time per step
#
# The same initial network trained with each layer type, batch size 32, learning rate 0.01
# (as in lab 07). The loss is the sum of two parts, plotted separately: the NLL (the fit) and
# KL/N (the price of the weight posterior). Early on KL/N dominates: the initial posteriors
# are narrow (sd 0.05), far from the $N(0, 1)$ prior.

# %%
histories = {}
for kind in cb.progress.iterate(KINDS, desc="training"):
    network = cb.bnn.build_regressor(kind, num_train=N, hidden_units=HIDDEN_UNITS, seed=SEED,
                                     learning_rate=LEARNING_RATE)
    histories[kind] = cb.bnn.fit(network, het.x, het.y, epochs=EPOCHS, batch_size=32, seed=SEED)
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for k, kind in enumerate(KINDS):
    axes[0].plot(histories[kind].nll, color=f"C{k}", lw=1, label=kind)
    axes[1].plot(histories[kind].kl, color=f"C{k}", lw=1, label=kind)
axes[0].set_ylim(None, np.percentile(np.concatenate([h.nll for h in histories.values()]), 98))
for ax, part in zip(axes, ("NLL (mean per example)", "KL / N")):
    ax.set_xlabel("epoch")
    ax.set_ylabel(part)
    ax.legend(fontsize=8)
axes[0].set_title(f"Training curves, {'fast' if FAST else 'full'} mode ({EPOCHS} epochs): the fit")
axes[1].set_title("... and the KL part")
plt.show()

# %% [markdown]
# Over the last 50 epochs we separate the *trend* (a straight line fitted to the loss: how
# much it still falls, i.e. whether training has converged) from the *noise* (the sd of the
# epoch-to-epoch differences divided by $\sqrt 2$, which a trend barely affects): the sd of
# the raw values would mix the two.

# %%
last = np.arange(50)
print(f"{'layer':26s}{'final NLL':>10s}{'final KL/N':>11s}{'change, last 50':>16s}{'noise sd':>10s}")
trend, noise_sd = {}, {}
for kind, h in histories.items():
    tail = h.loss[-50:]
    trend[kind] = np.polyfit(last, tail, 1)[0] * 50            # fitted change over the last 50 epochs
    noise_sd[kind] = np.std(np.diff(tail)) / np.sqrt(2)
    print(f"{kind:26s}{h.nll[-20:].mean():10.3f}{h.kl[-20:].mean():11.3f}{trend[kind]:16.3f}{noise_sd[kind]:10.3f}")
for kind in KINDS:
    settled = abs(trend[kind]) < 2 * noise_sd[kind]
    print(f"{kind}: the loss {'has settled' if settled else 'has not settled'} (change over the last 50 epochs "
          f"{trend[kind]:+.3f} vs epoch-to-epoch noise {noise_sd[kind]:.3f}); at the end KL/N is "
          f"{histories[kind].kl[-20:].mean():.3f} and the NLL {histories[kind].nll[-20:].mean():.3f}")
first_kl, first_nll = histories["reparameterization"].kl[0], histories["reparameterization"].nll[0]
print(f"first epoch (Bayes by Backprop): KL/N {first_kl:.2f}, NLL {first_nll:.2f}: the KL part "
      f"{'dominates' if first_kl > abs(first_nll) else 'does not dominate'} the early loss")
noisiest = max(noise_sd, key=noise_sd.get)
print(f"noisiest loss: {noisiest} ({noise_sd[noisiest]:.3f}); quietest: {min(noise_sd, key=noise_sd.get)} "
      f"({min(noise_sd.values()):.3f})")

# %% [markdown]
# **Time per step.** Per layer, Bayes by Backprop does one matrix product with a sampled
# kernel; Flipout does two (the mean and the sign-flipped perturbation) plus two sign draws
# per example; the local reparameterization two (means and variances) plus one draw per
# output. On the small network above Python and TensorFlow overhead hides the difference, so
# we time training steps of a wider network ($1 \to 256 \to 256 \to 2$) at batch 256 (the
# fastest of 7 epochs of 8 steps: other work on the machine only ever adds time).

# %%
x_big = np.resize(het.x, 8 * TIMING_BATCH)
y_big = np.resize(het.y, 8 * TIMING_BATCH)
step_seconds = {}
for kind in cb.progress.iterate(KINDS, desc="timing"):
    wide = cb.bnn.build_regressor(kind, num_train=len(x_big), hidden_units=(TIMING_WIDTH, TIMING_WIDTH), seed=SEED)
    timing = cb.bnn.fit(wide, x_big, y_big, epochs=8, batch_size=TIMING_BATCH, seed=SEED)
    step_seconds[kind] = np.min(timing.seconds_per_epoch[1:]) / 8   # fastest epoch (the least disturbed by other
                                                                    # work on the machine); epoch 0 includes tracing
for kind in KINDS:
    print(f"{kind:26s} {1000 * step_seconds[kind]:7.2f} ms per step "
          f"({step_seconds[kind] / step_seconds['reparameterization']:.2f}x Bayes by Backprop)")
flipout_cost = step_seconds["flipout"] / step_seconds["reparameterization"]
if flipout_cost > 1.1:
    print(f"Flipout's extra matrix product is visible: {flipout_cost:.2f}x the time of a Bayes by Backprop step.")
else:
    print(f"Flipout's extra matrix product is not visible at this size ({flipout_cost:.2f}x a Bayes by Backprop step): "
          f"the matrix products do not dominate the time of a step here.")

# %% [markdown]
# ## Summary
#
# * For one example the three estimators give the same output distribution; across examples
#   only the shared sample (Bayes by Backprop) is correlated, Flipout and the local
#   reparameterization are decorrelated (measured and asserted above).
# * At identical variational parameters, the gradient variance of Bayes by Backprop does not
#   fall with the batch size (its change from $B = 1$ to 256 is printed and asserted above):
#   the shared weight sample is noise that averaging over examples cannot remove. Flipout's
#   and the local reparameterization's variances fall (slopes with 95% bootstrap intervals
#   above, both intervals below Bayes by Backprop's, asserted). Whether one of the two falls
#   faster, and whether Flipout's interval contains the paper's $-1$, is printed from the
#   intervals, not assumed.
# * The training curves show the NLL and KL/N parts separately, with whether each loss has
#   settled (trend against noise) in the mode shown (fast mode trains fewer epochs).
# * Flipout and the local reparameterization do two matrix products per layer instead of
#   one; whether that shows in the measured time per step of a wider network is printed
#   above (timings on a shared machine vary from run to run).
