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
import matplotlib.pyplot as plt
import numpy as np
import tensorflow_probability as tfp

import cs109b_bayes as cb

tfd = tfp.distributions

# %%
# Parameters: CS109B_FAST=1 trains fewer epochs and uses fewer predictive passes.
FAST = cb.fast_mode()
EPOCHS = 400 if FAST else 1_000
NUM_PASSES = 100 if FAST else 300    # T stochastic forward passes for the predictive
HIDDEN_UNITS = (32, 32)
BATCH_SIZE = 32
LEARNING_RATE = 0.01
SEED = 7

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
model(het.x[:5, None].astype(np.float32))
divergence = make_divergence_fn(N)
bayes_layers = [layer for layer in model.layers if hasattr(layer, "kernel_posterior")]
yours = sum(float(divergence(layer.kernel_posterior, layer.kernel_prior, None)) for layer in bayes_layers)
library = float(sum(model.losses))
print(f"{len(model.losses)} KL terms (one per layer); "
      f"sum: yours {yours:.5f}, the model's {library:.5f} (= KL / {N})")
assert abs(yours - library) < 1e-4 * max(1.0, abs(library))

# %% [markdown]
# ## Train
#
# `cb.bnn.fit` minimises mean NLL + KL/N with Adam and records both parts per epoch.

# %%
history = cb.bnn.fit(model, het.x, het.y, epochs=EPOCHS, batch_size=BATCH_SIZE, seed=SEED)
print(f"{EPOCHS} epochs in {history.seconds_per_epoch.sum():.1f} s; final NLL {history.nll[-20:].mean():.3f}, "
      f"KL/N {history.kl[-20:].mean():.3f} (KL {history.kl[-1] * N:.0f} nats over {N} examples)")
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

# %%
grid = np.linspace(-1.5, 1.5, 301)
grid_input = grid[:, None].astype(np.float32)
passes = [model(grid_input) for _ in range(NUM_PASSES)]
locs = np.stack([p.loc.numpy()[:, 0] for p in passes])
scales = np.stack([p.scale.numpy()[:, 0] for p in passes])
mean, aleatoric_sd, epistemic_sd, total_sd = predictive_split(locs, scales)
library = cb.bnn.predict(model, grid, num_samples=NUM_PASSES, seed=SEED)
relative_gap = np.mean(np.abs(library.epistemic_sd - epistemic_sd) / epistemic_sd)
print(f"cb.bnn.predict (independent draws) agrees with your split: epistemic sd differs by {relative_gap:.1%} on "
      f"average (Monte Carlo noise: an sd from {NUM_PASSES} Gaussian draws is off by about "
      f"{1 / np.sqrt(2 * NUM_PASSES):.0%}, more here: mu_t is heavy-tailed off the data and one weight "
      f"draw moves the whole curve, so the errors at different x are correlated)")

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
print(f"epistemic sd off the data (1.2 <= |x| <= 1.5) is {off_ratio:.1f}x that at the data; "
      f"in the gap {epistemic['gap'] / epistemic['data']:.1f}x")
assert off_ratio >= 2.0, "the epistemic sd should be at least twice as large off the data"

# %% [markdown]
# ## Summary
#
# * Bayes by Backprop doubles the kernel parameters (printed above): a mean and a scale per
#   weight; the biases stay point estimates.
# * The KL term is divided by N so that the minibatch loss estimates $-\mathrm{ELBO}/N$; the
#   loss curve splits into a falling NLL and a KL that first drops (the initial posteriors are
#   narrow, far from the prior) and then settles.
# * $T$ stochastic passes give a predictive whose variance splits into aleatoric
#   ($E_t \sigma_t^2$) and epistemic ($\mathrm{Var}_t \mu_t$) parts. The epistemic sd grows off
#   the data (at least 2x, measured above), unlike the output-only network of lab 06.
# * One weight sample per minibatch is shared by all its examples: lab 08 measures what that
#   does to the gradient noise.
