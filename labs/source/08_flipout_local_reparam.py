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
# three networks per epoch. This lab prints what *it* measured, even where it differs from the
# paper.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import cs109b_bayes as cb

# %%
# Parameters: CS109B_FAST=1 uses fewer batch sizes and epochs (still >= 100 noise draws).
FAST = cb.fast_mode()
BATCH_SIZES = [1, 4, 16, 64, 256] if FAST else [1, 2, 4, 8, 16, 32, 64, 128, 256]
NUM_DRAWS = 100 if FAST else 200      # noise draws per gradient-variance measurement
PRETRAIN_EPOCHS = 40 if FAST else 150  # to reach typical (not initial) variational parameters
EPOCHS = 100 if FAST else 500
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
for name, values in draws.items():
    values = np.array(values)
    print(f"{name:28s} sd of example 1 {values[:, 0].std():.3f}, example 2 {values[:, 1].std():.3f}; "
          f"correlation between the examples {np.corrcoef(values.T)[0, 1]:+.3f}")

# %% [markdown]
# ## Measure the gradient variance at the same variational parameters
#
# We pretrain a Bayes-by-Backprop network briefly, copy its variational parameters (kernel
# means and scales, and the biases; the three layer types store the same variables) into a Flipout
# and a local-reparameterization network, and check that they agree. For each batch size $B$
# (the first $B$ points of one fixed shuffle) `cb.variational.gradient_variance` recomputes the
# gradient of the training loss (mean NLL + KL/N) `NUM_DRAWS` times; only the layers' noise
# changes between draws. We report the variance per element of the gradient with respect to
# the posterior *means*, averaged over all elements.

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
variance = {kind: [] for kind in KINDS}
start = time.perf_counter()
for kind, network in networks.items():
    means = [v for v in network.trainable_variables if "loc" in v.name]
    for batch in BATCH_SIZES:
        idx = order[:batch]
        measured = cb.variational.gradient_variance(network, het.x[idx], het.y[idx], num_draws=NUM_DRAWS,
                                                    seed=SEED, variables=means)
        variance[kind].append(measured.mean_variance)
print(f"{len(KINDS) * len(BATCH_SIZES)} measurements x {NUM_DRAWS} draws in {time.perf_counter() - start:.1f} s")
print(f"{'batch':>6s}" + "".join(f"{k:>26s}" for k in KINDS))
for j, batch in enumerate(BATCH_SIZES):
    print(f"{batch:6d}" + "".join(f"{variance[k][j]:26.3e}" for k in KINDS))

# %%
log_batch = np.log(BATCH_SIZES)
slopes = {kind: np.polyfit(log_batch, np.log(variance[kind]), 1)[0] for kind in KINDS}
late = np.array(BATCH_SIZES) >= 16
late_slopes = {kind: np.polyfit(log_batch[late], np.log(np.array(variance[kind])[late]), 1)[0] for kind in KINDS}
drop = {kind: variance[kind][0] / variance[kind][-1] for kind in KINDS}
for kind in KINDS:
    print(f"{kind:26s} log-log slope {slopes[kind]:+.2f} over B = 1..256, {late_slopes[kind]:+.2f} over B >= 16; "
          f"variance falls {drop[kind]:.1f}x from B = 1 to 256 (1/B would be 256x)")
print("paper (Wen et al. 2018, fig. 2): Flipout about -1 (variance ~ 1/B); shared-noise Bayes by Backprop levels off.")
print(f"measured here: Bayes by Backprop {slopes['reparameterization']:+.2f}, Flipout {slopes['flipout']:+.2f}, "
      f"local reparameterization {slopes['local_reparameterization']:+.2f}.")
verdict_flipout = "close to" if slopes["flipout"] < -0.7 else "shallower than"
verdict_shared = "levels off, as in the paper" if slopes["reparameterization"] > -0.3 else "does not level off"
print(f"Flipout's slope is {verdict_flipout} the paper's -1; shared-noise Bayes by Backprop {verdict_shared}.")
assert slopes["flipout"] < slopes["reparameterization"] and slopes["local_reparameterization"] < slopes["reparameterization"]

fig, ax = plt.subplots(figsize=(7, 4.5))
for k, kind in enumerate(KINDS):
    ax.loglog(BATCH_SIZES, variance[kind], "o-", color=f"C{k}", label=f"{kind} (slope {slopes[kind]:+.2f})")
reference = variance["local_reparameterization"][0] / np.array(BATCH_SIZES)
ax.loglog(BATCH_SIZES, reference, "k:", label="1 / B reference")
ax.set_xlabel("batch size B")
ax.set_ylabel("gradient variance (mean per element)")
ax.set_title(f"Gradient variance over {NUM_DRAWS} noise draws, same variational parameters")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Training curves and time per epoch
#
# The same initial network trained with each layer type, batch size 32.

# %%
histories = {}
for kind in KINDS:
    network = cb.bnn.build_regressor(kind, num_train=N, hidden_units=HIDDEN_UNITS, seed=SEED)
    histories[kind] = cb.bnn.fit(network, het.x, het.y, epochs=EPOCHS, batch_size=32, seed=SEED)
fig, ax = plt.subplots(figsize=(7, 4))
for k, kind in enumerate(KINDS):
    ax.plot(histories[kind].loss, color=f"C{k}", lw=1, label=kind)
ax.set_xlabel("epoch")
ax.set_ylabel("loss = NLL + KL/N")
ax.set_ylim(None, np.percentile(np.concatenate([h.loss for h in histories.values()]), 98))
ax.legend()
ax.set_title("Training curves")
plt.show()
print(f"{'layer':26s}{'s/epoch':>9s}{'final loss':>12s}{'loss sd (last 50)':>19s}")
for kind, h in histories.items():
    print(f"{kind:26s}{np.median(h.seconds_per_epoch[1:]):9.4f}{h.loss[-50:].mean():12.3f}{h.loss[-50:].std():19.3f}")

# %% [markdown]
# ## Summary
#
# * For one example the three estimators give the same output distribution; across examples
#   only the shared sample (Bayes by Backprop) is correlated, Flipout and the local
#   reparameterization are decorrelated (measured correlations above).
# * At identical variational parameters, the gradient variance of Bayes by Backprop barely
#   falls with the batch size; that of the local reparameterization trick falls fastest, and
#   Flipout's in between (slopes printed above, against the paper's $-1$ for Flipout).
# * Flipout costs about two matrix products per layer instead of one, and the local
#   reparameterization two as well (means and variances); the time per epoch is printed above.
