# %% [markdown]
# # Lab 06 — Variational approximation of the output
#
# **Goal.** The cheapest way to make a network say how unsure it is: let it output a mean
# $\mu(x)$ *and* a standard deviation $\sigma(x)$, and train it with the Gaussian negative
# log-likelihood. You will write that loss, fit the network to heteroscedastic data (noise that
# grows with $x$), and measure two things: the learned $\sigma(x)$ follows the true noise where
# there is data (aleatoric uncertainty), and the network stays just as confident where there is
# no data, which is wrong.
#
# **Slide.** CS109B "Bayesian Auto-Encoders Part Two": *Option #1 - Variational Approximation of
# the output* and *'Output only' issues*: "the epistemic variance away from the dataset should
# be much higher, but the model still confidently predicts those regions."
#
# **Expected figure.** The data (a gap around 0), the predicted mean and its $\mu \pm 2\sigma$
# band over $x \in [-1.5, 1.5]$, with the true noise band for comparison; beside it, the means
# of independently trained networks fanning out where there is no data while each one's band
# stays narrow.
#
# The data are *synthetic*: $y = \sin(3x) + 0.3x + N(0, s(x)^2)$, $s(x) = 0.1 + 0.1(x + 1)$,
# 300 points with $x \in [-1, -0.25] \cup [0.25, 1]$. The noise sd grows from 0.05 at $x = -1.5$
# to 0.35 at $x = 1.5$: positive over the whole plotted range, so "fresh data" exists everywhere.

# %%
import matplotlib.pyplot as plt
import numpy as np

import cs109b_bayes as cb

import tensorflow as tf  # after cs109b_bayes, which quiets TensorFlow's log lines

# %%
# Parameters: CS109B_FAST=1 trains fewer epochs.
FAST = cb.fast_mode()
EPOCHS = 250 if FAST else 600
NUM_NETWORKS = 3             # independently initialised networks, to see what they disagree on
HIDDEN_UNITS = (32, 32)
BATCH_SIZE = 32
SEED = 6

# %%
het = cb.data.heteroscedastic()
truth = het.truth
print(het.description)


def true_mean(x):
    return truth["amplitude"] * np.sin(truth["frequency"] * x) + truth["slope"] * x


def true_noise_sd(x):
    return truth["noise_base"] + truth["noise_slope"] * (x + 1)


assert true_noise_sd(-1.5) > 0, "the true noise sd must stay positive over the plotted range"
print(f"true noise sd: {true_noise_sd(-1.5):.2f} at x = -1.5, {true_noise_sd(-1.0):.2f} at x = -1, "
      f"{true_noise_sd(1.0):.2f} at x = 1, {true_noise_sd(1.5):.2f} at x = 1.5")


# %% [markdown]
# ## Question 1: the Gaussian negative log-likelihood
#
# Write `gaussian_nll(y, mu, sigma)`: the mean over examples of
# $-\log N(y \mid \mu, \sigma^2) = \log\sigma + \tfrac12\log 2\pi + \frac{(y-\mu)^2}{2\sigma^2}$,
# with TensorFlow ops. The $\log\sigma$ term stops the network from claiming infinite noise;
# the squared error divided by $\sigma^2$ stops it from claiming none.

# %%
def gaussian_nll(y, mu, sigma):
    # BEGIN SOLUTION
    return tf.reduce_mean(tf.math.log(sigma) + 0.5 * np.log(2 * np.pi) + 0.5 * tf.square((y - mu) / sigma))
    # END SOLUTION


# %%
cb.check("lab06.gaussian_nll", gaussian_nll=gaussian_nll)

# %% [markdown]
# ## Train the output-only network
#
# `cb.bnn.build_regressor("output_only", ...)` is $x \to 32 \to 32 \to (\mu, \sigma)$ with
# ReLU hidden layers and $\sigma = 10^{-3} + \mathrm{softplus}(\cdot)$; its output is a
# `tfd.Normal`, and `cb.bnn.fit` minimises the mean NLL. Your loss must give the same number.

# %%
models, histories = [], []
for k in cb.progress.iterate(range(NUM_NETWORKS), desc="networks"):
    model = cb.bnn.build_regressor("output_only", num_train=len(het.x), hidden_units=HIDDEN_UNITS, seed=SEED + k)
    histories.append(cb.bnn.fit(model, het.x, het.y, epochs=EPOCHS, batch_size=BATCH_SIZE, seed=SEED + k))
    models.append(model)
models[0].summary()
print(f"{EPOCHS} epochs per network in {histories[0].seconds_per_epoch.sum():.1f} s")

# %%
if cb.ready("lab06.gaussian_nll"):
    output = models[0](het.x[:, None].astype(np.float32))
    yours = float(gaussian_nll(het.y[:, None].astype(np.float32), output.loc, output.scale))
    library = float(tf.reduce_mean(cb.bnn.negative_log_likelihood(het.y[:, None].astype(np.float32), output)))
    print(f"training NLL: your gaussian_nll {yours:.4f}, library {library:.4f}")
    assert abs(yours - library) < 1e-3

# %%
grid = np.linspace(-1.5, 1.5, 301)
preds = [cb.bnn.predict(m, grid, seed=SEED) for m in models]
pred = preds[0]
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
cb.plotting.plot_predictive_band(grid, pred, "aleatoric", x=het.x, y=het.y, ax=axes[0],
                                 label="network mean", title="Output-only network: mu +- 2 sigma(x)")
axes[0].plot(grid, true_mean(grid) + 2 * true_noise_sd(grid), "k:", lw=1, label="true mean +- 2 s(x)")
axes[0].plot(grid, true_mean(grid) - 2 * true_noise_sd(grid), "k:", lw=1)
axes[0].legend(fontsize=8)
for k, p in enumerate(preds):
    axes[1].plot(grid, p.mean, f"C{k}-", lw=1.5, label=f"network {k} (seed {SEED + k})")
    axes[1].fill_between(grid, *p.band(2.0, component="aleatoric"), color=f"C{k}", alpha=0.12)
axes[1].scatter(het.x, het.y, s=6, color="k", alpha=0.4)
axes[1].set_title("Independently trained networks disagree off the data")
axes[1].set_xlabel("x")
axes[1].legend(fontsize=8)
axes[1].set_ylim(-3, 3)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Question 2: coverage
#
# Write `coverage(y, mean, sd, num_sd)`: the fraction of points with
# $|y - \text{mean}| \le \text{num\_sd}\cdot\text{sd}$. For a calibrated Gaussian, a 2-sd band
# covers about 95%.

# %%
def coverage(y, mean, sd, num_sd):
    # BEGIN SOLUTION
    return float(np.mean(np.abs(np.asarray(y) - mean) <= num_sd * np.asarray(sd)))
    # END SOLUTION


# %%
cb.check("lab06.coverage", coverage=coverage)

# %% [markdown]
# ## Measure: aleatoric where there is data, overconfident where there is none
#
# Regions: *data* ($0.25 \le |x| \le 1$), *gap* ($|x| < 0.15$), *outside* ($1.2 \le |x| \le
# 1.5$). In each we report the network's $\sigma(x)$, the true noise $s(x)$, the spread of the
# means of the independently trained networks (what the network *does not know*), and the
# coverage of the 2-sd band on fresh draws $y = f(x) + N(0, s(x)^2)$ from the true process.

# %%
if cb.ready("lab06.coverage"):
    regions = {
        "data": (np.abs(grid) >= 0.25) & (np.abs(grid) <= 1.0),
        "gap": np.abs(grid) < 0.15,
        "outside": (np.abs(grid) >= 1.2) & (np.abs(grid) <= 1.5),
    }
    rng = np.random.default_rng(SEED)
    fresh_y = true_mean(grid)[None, :] + true_noise_sd(grid)[None, :] * rng.normal(size=(200, grid.size))
    seed_spread = np.std([p.mean for p in preds], axis=0)
    stats = {}
    print(f"{'region':9s}{'net sigma':>10s}{'true s(x)':>10s}{'|mu - f|':>10s}{'seed spread':>12s}{'2-sd coverage':>15s}")
    for name, mask in regions.items():
        covered = np.mean([coverage(fresh_y[:, mask][:, j], pred.mean[mask][j], pred.aleatoric_sd[mask][j], 2.0)
                           for j in range(mask.sum())])
        stats[name] = dict(sigma=pred.aleatoric_sd[mask].mean(), spread=seed_spread[mask].mean(), coverage=covered,
                           error=np.abs(pred.mean[mask] - true_mean(grid[mask])).mean())
        print(f"{name:9s}{stats[name]['sigma']:10.3f}{true_noise_sd(grid[mask]).mean():10.3f}"
              f"{stats[name]['error']:10.3f}{stats[name]['spread']:12.3f}{covered:15.1%}")
    for x0 in (-0.75, 0.75):
        j = np.argmin(np.abs(grid - x0))
        print(f"at x = {x0:+.2f}: network sigma {pred.aleatoric_sd[j]:.3f}, true noise sd {true_noise_sd(grid[j]):.3f}")
        assert abs(pred.aleatoric_sd[j] / true_noise_sd(grid[j]) - 1) < 0.3, "sigma(x) should track s(x) at the data"
    at_train = cb.bnn.predict(models[0], het.x, seed=SEED)
    train_coverage = coverage(het.y, at_train.mean, at_train.aleatoric_sd, 2.0)
    print(f"2-sd coverage of the training points: {train_coverage:.1%}")
    print(f"epistemic sd of an output-only network: {np.max(pred.epistemic_sd):.1f} everywhere (no weight uncertainty)")
    off = "outside"
    print(f"outside the data: sigma is {stats[off]['sigma'] / stats['data']['sigma']:.2f}x its value at the data, "
          f"but the networks' means spread {stats[off]['spread'] / stats['data']['spread']:.1f}x more than at the data, "
          f"and the band covers {stats[off]['coverage']:.0%} of fresh data instead of ~95%")
    print(f"outside the data the first network's mean is off the true function by {stats[off]['error']:.3f} on "
          f"average, {stats[off]['error'] / stats['data']['error']:.0f}x its error at the data, with a sigma of "
          f"{stats[off]['sigma']:.3f} (true noise {true_noise_sd(grid[regions[off]]).mean():.3f})")
    assert 0.88 < train_coverage < 0.99
    assert stats["data"]["coverage"] > 0.85
    assert stats[off]["spread"] > 2 * stats["data"]["spread"]
    assert stats[off]["sigma"] < 1.5 * stats["data"]["sigma"], "sigma should not know where the data were"
    assert stats[off]["error"] > 5 * stats["data"]["error"]
    assert stats[off]["coverage"] < stats["data"]["coverage"] - 0.1

# %% [markdown]
# ## Summary
#
# * A network that outputs $(\mu, \sigma)$ and minimises the Gaussian NLL learns the
#   *aleatoric* noise: where there is data its $\sigma(x)$ tracks the true $s(x)$ and its
#   2-sd band covers about 95% of the points (numbers above).
# * It has no *epistemic* uncertainty: its weights are point estimates, so nothing in
#   $\sigma(x)$ knows where the data were. Off the data, the mean is many times further from the
#   truth than at the data and networks that differ only in their random initialisation
#   disagree a few times more (printed ratios), yet each keeps a band of about the same width,
#   and the band's coverage of fresh data drops well below 95%.
# * Labs 07-09 put the uncertainty on the weights or hidden units instead.
