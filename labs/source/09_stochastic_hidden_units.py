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
# **Expected figure.** Five predictive bands ($\pm 2$ total sd and $\pm 2$ aleatoric sd) on the
# heteroscedastic data: stochastic hidden units trained on the ELBO and on a $\beta$-weighted
# objective, beside the three weight-noise networks; then the spread of the predictive mean
# against $x$ for all five.

# %%
import cs109b_bayes as cb  # noqa: I001  (first: quiets TensorFlow's log lines)

import time

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

# %%
# Parameters: CS109B_FAST=1 trains fewer epochs.
FAST = cb.fast_mode()
EPOCHS = 150 if FAST else 800
NUM_PASSES = 100 if FAST else 300
HIDDEN_UNITS = (32, 32)
LEARNING_RATE = 0.01                # as in lab 07
# name -> (kind, extra build_regressor arguments). "hidden (beta = 1/N)" is what this lab trained
# before: the hidden units' KL divided by N, a beta-weighted objective, NOT the ELBO (see below).
NETWORKS = {"hidden units (ELBO)": ("stochastic_hidden", {}),
            "hidden units (beta = 1/N)": ("stochastic_hidden", {"hidden_kl_weight": 1 / 300}),
            "reparameterization": ("reparameterization", {}),
            "flipout": ("flipout", {}),
            "local_reparameterization": ("local_reparameterization", {})}
HIDDEN = ["hidden units (ELBO)", "hidden units (beta = 1/N)"]
WEIGHT_NOISE = ["reparameterization", "flipout", "local_reparameterization"]
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
# `cb.bnn.GaussianHiddenUnits` is the layer built from these two pieces: a dense map to
# $2\times$units, softplus for $s$, the sample, and the KL added to the layer's losses with
# weight 1.
#
# **Why weight 1, and not $1/N$ as in lab 07.** Each example has its *own* latent $h$, so the
# ELBO of the data set is a sum over examples of $E_{q(h|x_i)}[\log p(y_i|h)] - KL(q(h|x_i)\|p(h))$.
# Divided by $N$ it is a mean over examples: the mean NLL plus the *per-example* KL averaged
# over the batch, which is what `hidden_kl` computes. Lab 07's weight KL is different: one
# global term for the whole data set, which is why it was divided by $N$. Dividing the
# hidden-unit KL by $N$ as well would train a $\beta$-weighted objective with $\beta = 1/N$
# (here $1/300$), not the ELBO. Your functions reproduce the layer's loss from its own $m$ and $s$:

# %%
if cb.ready("lab09.sample_hidden", "lab09.hidden_kl"):
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
# ## Train the networks
#
# Same architecture ($x \to 32 \to 32 \to (\mu, \sigma)$), same data, epochs and seed. The
# hidden-unit network trains on mean NLL + the hidden units' KL per example with weight 1
# (the negative ELBO per example). For comparison a second one trains with that KL divided by
# $N = 300$ ($\beta = 1/N$): a $\beta$-weighted objective that is *not* the ELBO. The
# weight-noise networks train on mean NLL + KL(weights)/N (lab 07), their ELBO.

# %%
assert N == 300, "the beta = 1/N network above is written for the 300 training points"
grid = np.linspace(-1.5, 1.5, 301)
models, histories, preds, predict_seconds = {}, {}, {}, {}
for name in cb.progress.iterate(NETWORKS, desc="training"):
    kind, extra = NETWORKS[name]
    models[name] = cb.bnn.build_regressor(kind, num_train=N, hidden_units=HIDDEN_UNITS, seed=SEED,
                                          learning_rate=LEARNING_RATE, **extra)
    histories[name] = cb.bnn.fit(models[name], het.x, het.y, epochs=EPOCHS, seed=SEED)
    cb.bnn.predict(models[name], grid[:2], num_samples=2, seed=SEED)   # trace once, then time
    start = time.perf_counter()
    preds[name] = cb.bnn.predict(models[name], grid, num_samples=NUM_PASSES, seed=SEED)
    predict_seconds[name] = time.perf_counter() - start
print(f"{'fast' if FAST else 'full'} mode ({EPOCHS} epochs). Loss terms, mean of the last 20 epochs:")
hidden_kl_per_example = {}
for name in NETWORKS:
    h = histories[name]
    if name in HIDDEN:
        weight = models[name].get_layer("hidden_0").kl_weight
        hidden_kl_per_example[name] = h.kl[-20:].mean() / weight
        terms = (f"weighted KL {h.kl[-20:].mean():7.3f} (weight {weight:.4f}; "
                 f"KL per example {hidden_kl_per_example[name]:.2f} nats)")
    else:
        terms = f"KL(weights) / N {h.kl[-20:].mean():7.3f}"
    print(f"{name:26s} NLL {h.nll[-20:].mean():7.3f}   {terms}")

fig, axes = plt.subplots(2, 3, figsize=(15, 8), sharex=True, sharey=True)
for ax, name in zip(axes.ravel(), NETWORKS):
    cb.plotting.plot_predictive_band(grid, preds[name], ("total", "aleatoric"), x=het.x, y=het.y, ax=ax,
                                     label="mean", title=name)
    ax.set_ylim(-3, 3)
axes.ravel()[-1].axis("off")
plt.tight_layout()
plt.show()

fig, ax = plt.subplots(figsize=(8, 3.5))
for k, name in enumerate(NETWORKS):
    label = f"{name} (latent noise)" if name in HIDDEN else f"{name} (epistemic)"
    ax.plot(grid, preds[name].epistemic_sd, color=f"C{k}", label=label)
for edge in (-1.0, -0.25, 0.25, 1.0):
    ax.axvline(edge, color="gray", ls=":", lw=1)
ax.set_xlabel("x")
ax.set_ylabel("sd of the mean over passes")
ax.legend(fontsize=8)
ax.set_title("Spread of the predictive mean: hidden-unit noise vs weight noise")
plt.show()
roughness = {name: np.mean(np.abs(np.diff(preds[name].epistemic_sd))) / np.mean(preds[name].epistemic_sd)
             for name in NETWORKS}
print("roughness of each curve (mean |step between grid points| / mean):",
      ", ".join(f"{name} {r:.3f}" for name, r in roughness.items()))
per_example = ["hidden units (beta = 1/N)", "flipout", "local_reparameterization"]
assert all(roughness["reparameterization"] < roughness[n] / 2 for n in per_example)

# %% [markdown]
# **What the ELBO does to the hidden units.** The KL per example (printed above) is the price,
# in nats, of the information the hidden units carry about $x$: an informative unit needs a
# mean far from 0 or a small $s$, and each of the 64 units pays for it with every example.
# The data term can gain at most the NLL difference between a flat predictive and a good fit
# (printed below), so under the ELBO the optimum may send little or no information through the noisy
# units: the network then collapses towards the prior, its predictive mean goes flat and its
# KL per example goes to 0 (the *posterior collapse* of variational auto-encoders, labs 10-12).
# Whether it did here is printed below. The $\beta = 1/N$ network pays 300 times less for
# that information, so it fits, but it optimises a different objective, not the ELBO of the
# model.
#
# **What the hidden-unit spread is.** For the weight-noise networks the spread of the mean over
# passes, $\mathrm{sd}_t\,\mu_t(x)$, is *epistemic*: it comes from $q(w)$, the posterior over
# the weights, which narrows as $N$ grows. The hidden-unit networks' weights are point
# estimates; their spread comes from $q(h|x)$, one latent per example, fitted against the
# $N(0, 1)$ prior with a KL per example whatever $N$ is. Nothing in that objective makes it
# shrink with more data: it is latent (per-example) noise, part of the model of $p(y|x)$, not
# uncertainty about the model. `cb.bnn.predict` still stores it in `epistemic_sd` (the field
# is the law-of-total-variance split over passes); we call it the "spread of the mean".
#
# The Flipout, local-reparameterization and $\beta = 1/N$ hidden-unit curves are jagged
# (roughness printed above; asserted at least twice Bayes by Backprop's): their noise is drawn
# per example, so every grid point gets its own draws in each pass. Bayes by Backprop's curves
# are smooth because one weight sample is shared by the whole grid in a pass.
#
# ## Compare: fit, uncertainty and cost
#
# For each network: the spread of the mean at the data, in the gap and outside; the ratio
# outside / data; the NLL (of the moment-matched Gaussian predictive) of 3,000 fresh points
# from the true process at the data's $x$ range (how well it fits), the root mean squared error
# of the predictive mean against the true function on each cluster, and costs: parameters,
# noise draws per forward pass, seconds per epoch, seconds for the predictive.

# %%
truth = het.truth
rng = np.random.default_rng(SEED)
x_fresh = np.concatenate([rng.uniform(-1.0, -0.25, 1500), rng.uniform(0.25, 1.0, 1500)])
true_fn = lambda x: truth["amplitude"] * np.sin(truth["frequency"] * x) + truth["slope"] * x  # noqa: E731
y_fresh = (true_fn(x_fresh)
           + (truth["noise_base"] + truth["noise_slope"] * (x_fresh + 1)) * rng.normal(size=x_fresh.size))
regions = {
    "data": (np.abs(grid) >= 0.25) & (np.abs(grid) <= 1.0),
    "gap": np.abs(grid) < 0.15,
    "outside": (np.abs(grid) >= 1.2) & (np.abs(grid) <= 1.5),
}
clusters = {"left": (grid >= -1.0) & (grid <= -0.25), "right": (grid >= 0.25) & (grid <= 1.0)}
noise_draws = {"stochastic_hidden": f"{sum(HIDDEN_UNITS)} per example",
               "reparameterization": "every weight, once per batch",
               "flipout": "every weight once + signs per example",
               "local_reparameterization": f"{sum(HIDDEN_UNITS) + 2} per example"}
rows = {}
for name, (kind, _) in NETWORKS.items():
    p = cb.bnn.predict(models[name], x_fresh, num_samples=NUM_PASSES, seed=SEED + 1)
    # NLL of the moment-matched Gaussian predictive N(mean, total_sd^2)
    nll = np.mean(np.log(p.total_sd) + 0.5 * np.log(2 * np.pi) + 0.5 * ((y_fresh - p.mean) / p.total_sd) ** 2)
    spread = {region: preds[name].epistemic_sd[mask].mean() for region, mask in regions.items()}
    rmse = {side: np.sqrt(np.mean((preds[name].mean[mask] - true_fn(grid[mask])) ** 2))
            for side, mask in clusters.items()}
    rows[name] = dict(spread=spread, ratio=spread["outside"] / spread["data"], nll=nll, rmse=rmse,
                      params=models[name].count_params(), epoch=np.median(histories[name].seconds_per_epoch[1:]),
                      predict=predict_seconds[name], draws=noise_draws[kind])
print("spread = sd of the predictive mean over passes (epistemic for weight noise, latent noise for hidden units)")
print(f"{'network':26s}{'spr data':>9s}{'spr gap':>9s}{'spr out':>9s}{'out/data':>9s}{'test NLL':>9s}"
      f"{'RMSE L':>8s}{'RMSE R':>8s}{'params':>8s}{'s/epoch':>9s}{'predict s':>10s}  noise draws")
for name, r in rows.items():
    print(f"{name:26s}{r['spread']['data']:9.3f}{r['spread']['gap']:9.3f}{r['spread']['outside']:9.3f}"
          f"{r['ratio']:9.2f}{r['nll']:9.3f}{r['rmse']['left']:8.3f}{r['rmse']['right']:8.3f}{r['params']:8d}"
          f"{r['epoch']:9.4f}{r['predict']:10.3f}  {r['draws']}")
assert all(np.isfinite(r["nll"]) for r in rows.values())

# %%
elbo_name = "hidden units (ELBO)"
collapsed = hidden_kl_per_example[elbo_name] < 0.5 and max(rows[elbo_name]["rmse"].values()) > 0.5
print(f"hidden units under the ELBO: KL per example {hidden_kl_per_example[elbo_name]:.2f} nats, RMSE of the mean "
      f"{rows[elbo_name]['rmse']['left']:.2f} (left) and {rows[elbo_name]['rmse']['right']:.2f} (right): "
      + ("collapsed to the prior, the mean ignores x." if collapsed else "the units carry information about x."))
print(f"hidden units with beta = 1/N: KL per example {hidden_kl_per_example['hidden units (beta = 1/N)']:.2f} nats, "
      f"test NLL {rows['hidden units (beta = 1/N)']['nll']:.3f} vs {rows[elbo_name]['nll']:.3f} under the ELBO")
negative_elbo = {name: histories[name].nll[-20:].mean() + hidden_kl_per_example[name] for name in HIDDEN}
print(f"negative ELBO per example (training NLL + KL per example): ELBO network {negative_elbo[elbo_name]:.2f}, "
      f"beta = 1/N network {negative_elbo['hidden units (beta = 1/N)']:.2f} nats: the beta network fits better "
      f"but is {'worse' if negative_elbo['hidden units (beta = 1/N)'] > negative_elbo[elbo_name] else 'better'} "
      f"by the ELBO")
best_nll = min(rows[n]["nll"] for n in NETWORKS)
print(f"a good fit's test NLL is {rows[elbo_name]['nll'] - best_nll:.2f} nats per example below the ELBO network's; "
      f"the ELBO network pays {hidden_kl_per_example[elbo_name]:.2f} nats of KL per example")
for side in clusters:
    best = min(rows[n]["rmse"][side] for n in NETWORKS)
    poor = [f"{n} ({rows[n]['rmse'][side]:.3f})" for n in NETWORKS if rows[n]["rmse"][side] > 1.5 * best]
    print(f"{side} cluster: best RMSE {best:.3f}; more than 1.5x worse: {', '.join(poor) or 'none'}")
weight_ratios = [rows[n]["ratio"] for n in WEIGHT_NOISE]
left, right, data = grid <= -1.2, grid >= 1.2, regions["data"]
side_ratios = {}
for name in NETWORKS:
    e = preds[name].epistemic_sd
    side_ratios[name] = (e[left].mean() / e[data].mean(), e[right].mean() / e[data].mean())
    print(f"{name:26s} spread left of the data (x <= -1.2) {side_ratios[name][0]:4.1f}x, "
          f"right (x >= 1.2) {side_ratios[name][1]:4.1f}x its value at the data")
weight_min = min(min(side_ratios[n]) for n in WEIGHT_NOISE)
for name in HIDDEN:
    low, high = min(side_ratios[name]), max(side_ratios[name])
    print(f"{name}: the spread grows {low:.1f}x to {high:.1f}x off the data; weight noise at least {weight_min:.1f}x "
          f"on both sides ({'less' if high < weight_min else 'not less'} than every weight-noise network)")
assert weight_min > 1.5, "weight noise should make the spread of the mean grow off the data on both sides"
for label, key, best in (("fastest epoch", "epoch", min), ("fastest predictive", "predict", min),
                         ("best test NLL", "nll", min)):
    winner = best(rows, key=lambda n: rows[n][key])
    print(f"{label}: {winner} ({rows[winner][key]:.4g})")

# %% [markdown]
# ## Summary
#
# * Gaussian hidden units are sampled per unit and per example (64 draws per example here),
#   with no doubled weight matrix: the network has the same number of weights as a
#   deterministic one with twice the hidden outputs, and one KL term per unit. Their KL is
#   per example, so its weight in the per-example loss is 1 (the ELBO), not $1/N$; $1/N$
#   gives a $\beta$-weighted objective.
# * Under the ELBO with a $N(0, 1)$ prior on every unit, the information the units carry
#   about $x$ is expensive (KL per example, printed above, with whether the network collapsed
#   in this mode); the $\beta = 1/N$ network fits because it pays 300 times less, not because
#   it is the Bayesian answer: its negative ELBO per example is printed beside the ELBO
#   network's.
# * Their noise is latent noise, not epistemic uncertainty (the weights are point estimates,
#   and nothing makes it shrink with $N$). Weight noise makes the spread of the mean grow off
#   the data on both sides (asserted: more than 1.5x), because every weight's perturbation is
#   multiplied by the inputs; the hidden-unit spread is whatever the learned $s(x)$
#   extrapolates to (ratios printed above).
# * The fit per cluster is printed above, with the networks that fit a cluster more than 1.5x
#   worse than the best: one test NLL over both clusters hides that.
# * Costs per epoch and per predictive are printed above.
