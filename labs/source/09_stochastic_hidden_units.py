# %% [markdown]
# # Lab 09 — Stochastic hidden units
#
# **Goal.** Option 3 of the lecture: instead of distributions over the weights, put a Gaussian
# on each *hidden unit*, $h = m(x) + s(x)\,\epsilon$, sampled per unit and per example with the
# reparameterization trick. You will write the sampler and the hidden units' KL term, then train
# the network and compare its predictive uncertainty and its cost with the weight-noise networks
# of labs 07-08 (Bayes by Backprop, Flipout, local reparameterization).
#
# **Slide.** CS109B "Bayesian Auto-Encoders Part Two": *Option #3 - Variational Approximation on
# hidden units*: "Since number of hidden units are an order of two lesser than the weights in a
# network, we can easier sample for each hidden unit in the forward pass"; and the bonus
# question "How does it compare to stochastic hidden units?"
#
# **Expected figure.** Four predictive bands ($\pm 2$ total sd and $\pm 2$ aleatoric sd) on the
# heteroscedastic data: stochastic hidden units beside the three weight-noise networks, then
# the epistemic sd against $x$ for all four.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

import cs109b_bayes as cb

# %%
# Parameters: CS109B_FAST=1 trains fewer epochs.
FAST = cb.fast_mode()
EPOCHS = 150 if FAST else 800
NUM_PASSES = 100 if FAST else 300
HIDDEN_UNITS = (32, 32)
LEARNING_RATE = 0.01                # as in lab 07
KINDS = ["stochastic_hidden", "reparameterization", "flipout", "local_reparameterization"]
SEED = 9

# %%
het = cb.data.heteroscedastic()
N = len(het.x)

# %% [markdown]
# ## Question 1: sampling Gaussian hidden units
#
# A layer computes $m(x)$ and $s(x) > 0$ for every hidden unit of every example (arrays
# [B, units]). Write `sample_hidden(loc, scale, seed)` returning $m + s \odot \epsilon$ with one
# independent $\epsilon \sim N(0, 1)$ per unit *and per example*, drawn with
# `tf.random.stateless_normal(..., seed=seed)` (same seed, same sample), so that gradients reach
# `loc` and `scale`.

# %%
def sample_hidden(loc, scale, seed):
    # BEGIN SOLUTION
    eps = tf.random.stateless_normal(tf.shape(loc), seed=seed, dtype=loc.dtype)
    return loc + scale * eps
    # END SOLUTION


# %%
cb.check("lab09.sample_hidden", sample_hidden=sample_hidden)

# %% [markdown]
# ## Question 2: the hidden units' KL term
#
# With prior $N(0, 1)$ on each unit, the per-example KL is
# $\sum_{units}\big[\tfrac12(m^2 + s^2 - 1) - \log s\big]$. Write `hidden_kl(loc, scale)`: that
# sum, averaged over the examples of the batch (TensorFlow ops).

# %%
def hidden_kl(loc, scale):
    # BEGIN SOLUTION
    return tf.reduce_mean(tf.reduce_sum(0.5 * (loc**2 + scale**2 - 1.0) - tf.math.log(scale), axis=-1))
    # END SOLUTION


# %%
cb.check("lab09.hidden_kl", hidden_kl=hidden_kl)

# %% [markdown]
# `cb.bnn.GaussianHiddenUnits` is the layer built from these two pieces (a dense map to
# $2\times$units, softplus for $s$, the sample, and the KL added to the layer's losses, here
# weighted by $1/N$ like the weight KL of lab 07). Your functions reproduce the layer's loss
# from its own $m$ and $s$:

# %%
layer = cb.bnn.GaussianHiddenUnits(8, kl_weight=1.0, initializer_seed=SEED)
inputs = tf.constant(het.x[:16, None], tf.float32)
layer(inputs)
params = layer.moments(inputs)
loc, scale = params[:, :8], 1e-3 + tf.math.softplus(params[:, 8:] - 2.0)
print(f"layer KL loss {float(layer.losses[0]):.5f}, your hidden_kl {float(hidden_kl(loc, scale)):.5f}")
assert abs(float(layer.losses[0]) - float(hidden_kl(loc, scale))) < 1e-4
sample = sample_hidden(loc, scale, [SEED, 0])
print(f"one draw of 16 examples x 8 units: shape {tuple(sample.shape)}; "
      f"standardised noise mean {float(tf.reduce_mean((sample - loc) / scale)):+.3f}")

# %% [markdown]
# ## Train the four networks
#
# Same architecture ($x \to 32 \to 32 \to (\mu, \sigma)$), same data, epochs and seed.

# %%
grid = np.linspace(-1.5, 1.5, 301)
models, histories, preds, predict_seconds = {}, {}, {}, {}
for kind in KINDS:
    models[kind] = cb.bnn.build_regressor(kind, num_train=N, hidden_units=HIDDEN_UNITS, seed=SEED,
                                          learning_rate=LEARNING_RATE)
    histories[kind] = cb.bnn.fit(models[kind], het.x, het.y, epochs=EPOCHS, seed=SEED)
    cb.bnn.predict(models[kind], grid[:2], num_samples=2, seed=SEED)   # trace once, then time
    start = time.perf_counter()
    preds[kind] = cb.bnn.predict(models[kind], grid, num_samples=NUM_PASSES, seed=SEED)
    predict_seconds[kind] = time.perf_counter() - start

fig, axes = plt.subplots(2, 2, figsize=(12, 8), sharex=True, sharey=True)
for ax, kind in zip(axes.ravel(), KINDS):
    cb.plotting.plot_predictive_band(grid, preds[kind], ("total", "aleatoric"), x=het.x, y=het.y, ax=ax,
                                     label="mean", title=kind)
    ax.set_ylim(-3, 3)
plt.tight_layout()
plt.show()

fig, ax = plt.subplots(figsize=(8, 3.5))
for k, kind in enumerate(KINDS):
    ax.plot(grid, preds[kind].epistemic_sd, color=f"C{k}", label=kind)
for edge in (-1.0, -0.25, 0.25, 1.0):
    ax.axvline(edge, color="gray", ls=":", lw=1)
ax.set_xlabel("x")
ax.set_ylabel("epistemic sd")
ax.legend(fontsize=8)
ax.set_title("Epistemic sd: hidden-unit noise vs weight noise")
plt.show()

# %% [markdown]
# The Flipout, local-reparameterization and hidden-unit curves are jagged: their noise is drawn
# per example, so every grid point gets its own draws in each pass. Bayes by Backprop's curves
# are smooth because one weight sample is shared by the whole grid in a pass.
#
# ## Compare: uncertainty and cost
#
# For each network: the epistemic sd at the data, in the gap and outside; the ratio outside /
# data; the NLL (of the moment-matched Gaussian predictive) of 3,000 fresh points from the true process at the data's $x$ range (how well
# it fits), and costs: parameters, noise draws per forward pass, seconds per epoch, seconds for
# the predictive.

# %%
truth = het.truth
rng = np.random.default_rng(SEED)
x_fresh = np.concatenate([rng.uniform(-1.0, -0.25, 1500), rng.uniform(0.25, 1.0, 1500)])
y_fresh = (truth["amplitude"] * np.sin(truth["frequency"] * x_fresh) + truth["slope"] * x_fresh
           + (truth["noise_base"] + truth["noise_slope"] * (x_fresh + 1)) * rng.normal(size=x_fresh.size))
regions = {
    "data": (np.abs(grid) >= 0.25) & (np.abs(grid) <= 1.0),
    "gap": np.abs(grid) < 0.15,
    "outside": (np.abs(grid) >= 1.2) & (np.abs(grid) <= 1.5),
}
noise_draws = {"stochastic_hidden": f"{sum(HIDDEN_UNITS)} per example",
               "reparameterization": "every weight, once per batch",
               "flipout": "every weight once + signs per example",
               "local_reparameterization": f"{sum(HIDDEN_UNITS) + 2} per example"}
rows = {}
for kind in KINDS:
    p = cb.bnn.predict(models[kind], x_fresh, num_samples=NUM_PASSES, seed=SEED + 1)
    # NLL of the moment-matched Gaussian predictive N(mean, total_sd^2)
    nll = np.mean(np.log(p.total_sd) + 0.5 * np.log(2 * np.pi) + 0.5 * ((y_fresh - p.mean) / p.total_sd) ** 2)
    epi = {name: preds[kind].epistemic_sd[mask].mean() for name, mask in regions.items()}
    rows[kind] = dict(epi=epi, ratio=epi["outside"] / epi["data"], nll=nll,
                      params=models[kind].count_params(), epoch=np.median(histories[kind].seconds_per_epoch[1:]),
                      predict=predict_seconds[kind])
print(f"{'network':26s}{'epi data':>9s}{'epi gap':>9s}{'epi out':>9s}{'out/data':>9s}{'test NLL':>9s}"
      f"{'params':>8s}{'s/epoch':>9s}{'predict s':>10s}  noise draws")
for kind, r in rows.items():
    print(f"{kind:26s}{r['epi']['data']:9.3f}{r['epi']['gap']:9.3f}{r['epi']['outside']:9.3f}{r['ratio']:9.2f}"
          f"{r['nll']:9.3f}{r['params']:8d}{r['epoch']:9.4f}{r['predict']:10.3f}  {noise_draws[kind]}")
weight_ratios = [rows[k]["ratio"] for k in KINDS[1:]]
print(f"off-data / at-data epistemic ratio: stochastic hidden units {rows['stochastic_hidden']['ratio']:.2f}, "
      f"weight noise {min(weight_ratios):.2f} to {max(weight_ratios):.2f}")
left, right, data = grid <= -1.2, grid >= 1.2, regions["data"]
for kind in KINDS:
    e = preds[kind].epistemic_sd
    print(f"{kind:26s} epistemic sd left of the data (x <= -1.2) {e[left].mean() / e[data].mean():4.1f}x, "
          f"right (x >= 1.2) {e[right].mean() / e[data].mean():4.1f}x its value at the data")
for label, key, best in (("fastest epoch", "epoch", min), ("fastest predictive", "predict", min),
                         ("best test NLL", "nll", min), ("largest off/at-data epistemic ratio", "ratio", max)):
    winner = best(rows, key=lambda k: rows[k][key])
    print(f"{label}: {winner} ({rows[winner][key]:.4g})")
assert all(np.isfinite(r["nll"]) for r in rows.values())

# %% [markdown]
# ## Summary
#
# * Gaussian hidden units are sampled per unit and per example (64 draws per example here),
#   with no doubled weight matrix: the network has the same number of weights as a
#   deterministic one with twice the hidden outputs, and one KL term per unit.
# * Their noise is input-dependent and learned from the data, and the network fits the data
#   (test NLL above). Off the data the two kinds of noise behave differently (left/right
#   ratios printed above): weight noise makes the spread of the mean grow on both sides,
#   because every weight's perturbation is multiplied by the inputs, while hidden-unit noise
#   is whatever the learned $s(x)$ extrapolates to, which need not grow at all on one side.
# * Costs per epoch and per predictive are printed above.
