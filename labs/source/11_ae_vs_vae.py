# %% [markdown]
# # Lab 11 — Auto-encoder vs variational auto-encoder: the latent space
#
# **Goal.** Train a plain auto-encoder (AE) and a VAE with the *same* architecture on the same
# digits, and measure how their two-dimensional latent spaces differ: where the codes sit, how
# spread out they are, what lies between two digits, and what the decoder makes of random
# codes drawn from $\mathcal N(0, I)$.
#
# **Slide.** CS109B "Bayesian Auto-Encoders Part Two": *Latent space of VAE* ("more separable
# than AE; because of the prior N(0,1) everything is centred at (0,0) with spread of about one;
# blending is more continuous") and *Variational AE as a generative model*; CS 461 class 23,
# *Autoencoder as a special case of VAE*.
#
# **Expected figure.** Two scatters side by side: the VAE's test codes form a round cloud of
# radius about 2 around the origin, coloured in class regions; the AE's codes sit wherever
# training put them, on another scale and off-centre. Below, decoded prior samples: digits of
# most classes for the VAE, fewer (and blurrier) look-alikes for the AE; the lab prints the counts.
#
# Both models use the lecture's networks, encoder 784 -> 128 -> 32 -> code, decoder
# 2 -> 32 -> 128 -> 784 (Bernoulli logits). The AE's encoder has one head, the code $z$; its
# loss is the reconstruction term alone. The VAE's encoder has two heads $(\mu, \log\sigma^2)$
# and its loss adds $KL(q(z \mid x) \,\|\, \mathcal N(0, I))$: that term is the only difference.

# %%
import cs109b_bayes as cb

import matplotlib.pyplot as plt
import numpy as np

# %%
# Parameters. CS109B_FAST=1 (used by CI) shrinks the training run; the budget is in optimizer
# steps, so the epochs follow from the data set's size.
FAST = cb.fast_mode()
SEED = 111
BATCH_SIZE = 64
NUM_STEPS = 1_500 if FAST else 6_000
NUM_PRIOR_SAMPLES = 12
NUM_INTERPOLATION_POINTS = 10
print(f"{'FAST' if FAST else 'FULL'} mode: {NUM_STEPS:,} optimizer steps per model; the numbers below are this mode's")

# %%
mnist = cb.data.load_mnist()
print(f"MNIST source: {mnist.source} ({mnist.description})")
x_train = cb.vae.prepare_images(mnist.x)
x_test = cb.vae.prepare_images(mnist.x_test)
epochs = max(1, NUM_STEPS * BATCH_SIZE // len(x_train))
print(f"split: {len(x_train)} train / {len(x_test)} test digits (binarised); {epochs} epochs of {BATCH_SIZE}")

# %%
vae = cb.vae.build_vae(latent_dim=2, seed=SEED)
ae = cb.vae.build_ae(latent_dim=2, seed=SEED)
def trainable_weights(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_variables)


head = vae.encoder.get_layer("z_log_var")
head_weights = sum(int(np.prod(v.shape)) for v in head.trainable_variables)
extra = trainable_weights(vae) - trainable_weights(ae)
print(f"trainable weights: VAE {trainable_weights(vae):,}, AE {trainable_weights(ae):,}; the difference, "
      f"{extra}, is the VAE's log-variance head ({head.input.shape[-1]} inputs x 2 + 2 biases = {head_weights})")
assert extra == head_weights, "the only extra weights of the VAE are its log-variance head"
vae_run = cb.vae.train(vae, x_train, epochs=epochs, batch_size=BATCH_SIZE, seed=SEED)
ae_run = cb.vae.train(ae, x_train, epochs=epochs, batch_size=BATCH_SIZE, seed=SEED)
for name, run in (("VAE", vae_run), ("AE", ae_run)):
    print(f"{name}: {run.epochs} epochs in {run.seconds:.1f} s, {run.examples_per_second:,.0f} examples/s; "
          f"final training loss {run.history['loss'][-1]:.1f} nats per digit")
score = cb.vae.evaluate(vae, x_test, num_samples=50, seed=SEED)
ae_test_bce = -np.mean(ae.log_likelihood(x_test, ae(x_test)).numpy())
vae_test_bce = -np.mean(vae.log_likelihood(x_test, vae(x_test)).numpy())
print(f"VAE {score}")
print(f"test reconstruction BCE decoding the code itself: AE {ae_test_bce:.1f}, VAE (at z_mean) {vae_test_bce:.1f} "
      f"nats per digit")

# %% [markdown]
# ## Question 1: how far is a cloud of codes from the prior?
#
# Summarise a cloud of codes by the Gaussian fitted to it, $\mathcal N(m, S)$ with $m$ the
# mean and $S$ the covariance (divisor $n$), and measure its distance to the prior:
# $KL(\mathcal N(m, S)\,\|\,\mathcal N(0, I)) = \tfrac12(\mathrm{tr}\,S + m^\top m - d - \log\det S)$.
# Zero means "centred at 0 with unit spread". Write `gaussian_fit_kl(codes)` for codes `[n, d]`.

# %%
def gaussian_fit_kl(codes):
    # BEGIN SOLUTION
    codes = np.asarray(codes, dtype=float)
    mean = codes.mean(axis=0)
    cov = np.cov(codes.T, bias=True)
    _, log_det = np.linalg.slogdet(cov)
    return 0.5 * (np.trace(cov) + mean @ mean - codes.shape[1] - log_det)
    # END SOLUTION

# %%
cb.check("lab11.gaussian_fit_kl", gaussian_fit_kl=gaussian_fit_kl)

# %%
vae_codes = vae.encode(x_test)[0].numpy()   # z_mean
ae_codes = ae.encode(x_test).numpy()
if cb.ready("lab11.gaussian_fit_kl"):
    stats = {}
    for name, codes in (("VAE", vae_codes), ("AE", ae_codes)):
        stats[name] = dict(mean=codes.mean(axis=0), sd=codes.std(axis=0), kl=gaussian_fit_kl(codes))
        print(f"{name}: code mean {np.round(stats[name]['mean'], 2)}, sd {np.round(stats[name]['sd'], 2)}, "
              f"KL(fitted Gaussian || N(0, I)) = {stats[name]['kl']:.2f} nats")
    assert np.all(np.abs(stats["VAE"]["mean"]) < 0.5) and np.all(np.abs(stats["VAE"]["sd"] - 1) < 0.6), \
        "the VAE's codes should be centred near 0 with a spread near 1"
    assert stats["AE"]["kl"] > 3 * stats["VAE"]["kl"], "the AE's codes should be much further from N(0, I)"

# %% [markdown]
# ## Which latent space separates the digits better?
#
# The lecture says the VAE's latent space is "more separable" than the AE's. Measure it: fit a
# 10-nearest-neighbour classifier on the *training* codes and their labels, and score it on
# the test codes (chance: 10%). The labels are used only here, never in training.

# %%
separability = {}
for name, model in (("VAE", vae), ("AE", ae)):
    train_codes = model.encode(x_train)
    train_codes = (train_codes[0] if isinstance(train_codes, (list, tuple)) else train_codes).numpy()
    test_codes = vae_codes if name == "VAE" else ae_codes
    separability[name] = cb.vae.latent_knn_accuracy(train_codes, mnist.y, test_codes, mnist.y_test, num_neighbors=10)
better = "VAE" if separability["VAE"] > separability["AE"] else "AE"
print(f"10-NN accuracy on the test codes: VAE {separability['VAE']:.1%}, AE {separability['AE']:.1%} "
      f"(chance 10%): the {better}'s 2-D codes separate the classes better "
      f"({'FAST' if FAST else 'FULL'} mode)")

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 5))
for ax, name, codes in ((axes[0], "VAE z_mean", vae_codes), (axes[1], "AE code z", ae_codes)):
    cb.plotting.plot_latent_scatter(codes, mnist.y_test, ax=ax,
                                    title=f"{name} (sd {np.round(codes.std(axis=0), 2)}, "
                                          f"10-NN accuracy {separability[name[:3].strip()]:.0%})")
    ax.add_patch(plt.Circle((0, 0), 2.0, fill=False, ls="--", color="k"))
fig.suptitle("test digits in the two latent spaces (dashed: radius 2, where N(0, I) puts 86% of its mass)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Question 2: interpolation
#
# Write `interpolate(z_start, z_end, num_points)` returning `num_points` codes on the straight
# line from `z_start` to `z_end`, both included (shape `[num_points, d]`). We decode the line
# between a test "1" and a test "0" in both models.

# %%
def interpolate(z_start, z_end, num_points):
    # BEGIN SOLUTION
    t = np.linspace(0.0, 1.0, num_points)[:, None]
    return np.asarray(z_start)[None, :] + t * (np.asarray(z_end) - np.asarray(z_start))[None, :]
    # END SOLUTION

# %%
cb.check("lab11.interpolate", interpolate=interpolate)

# %% [markdown]
# Two measurements along each line: the classifier's reading of every decoded image (does the
# line pass through other digits?), and how far each point of the line is from the nearest
# test code, in units of the typical distance between neighbouring test codes (a point far
# from every code is in an empty region the decoder was never trained on).

# %%
classifier = cb.vae.digit_classifier(x_train, mnist.y, seed=SEED)
if cb.ready("lab11.interpolate"):
    first = {d: int(np.flatnonzero(mnist.y_test == d)[0]) for d in (1, 0)}
    rows, labels = [], []
    for name, model, codes in (("VAE", vae, vae_codes), ("AE", ae, ae_codes)):
        line = interpolate(codes[first[1]], codes[first[0]], NUM_INTERPOLATION_POINTS).astype(np.float32)
        decoded = model.decode_means(line).numpy()
        rows.append(decoded)
        labels.append(f"{name}: 1 -> 0")
        to_codes = np.sqrt(((line[:, None, :] - codes[None, :, :]) ** 2).sum(-1)).min(axis=1)
        pairwise = np.sqrt(((codes[:300, None, :] - codes[None, :300, :]) ** 2).sum(-1))
        np.fill_diagonal(pairwise, np.inf)
        typical = np.median(pairwise.min(axis=1))
        reading = " ".join(str(d) for d in cb.vae.classify_digits(decoded, classifier))
        print(f"{name}: classifier reads the line as {reading}; farthest point from any test code "
              f"{to_codes.max() / typical:.1f} x the typical neighbour distance")
    fig = cb.plotting.plot_image_rows(rows, row_labels=labels,
                                      title="decoding the straight line between two test codes")
    plt.show()

# %% [markdown]
# ## Decoding samples from the prior
#
# A generative model turns $z \sim \mathcal N(0, I)$ into digits, so the prior must reach the
# codes of the digits. Two measurements, with the same prior draws for both models:
#
# * **coverage**: the share of test codes inside the prior's 99% region
#   ($\|z\|^2 \le 9.21$, the $\chi^2_2$ quantile);
# * **variety**: decode 1,000 prior draws and name each decoded image with the digit
#   classifier; count the digit classes that get at least 3% of the draws.

# %%
rng = np.random.default_rng(SEED)
prior_z = rng.normal(size=(1000, 2)).astype(np.float32)
chi2_99 = -2.0 * np.log(0.01)  # 99% quantile of a chi-square with 2 degrees of freedom
measured = {}
for name, model, codes in (("VAE", vae, vae_codes), ("AE", ae, ae_codes)):
    coverage = float(np.mean((codes**2).sum(axis=1) <= chi2_99))
    decoded = model.decode_means(prior_z).numpy()
    shares = np.bincount(cb.vae.classify_digits(decoded, classifier), minlength=10) / len(decoded)
    measured[name] = dict(coverage=coverage, classes=int(np.sum(shares >= 0.03)), shares=shares)
    missing = [d for d in range(10) if shares[d] < 0.03]
    print(f"{name}: prior covers {coverage:.1%} of the test codes; decoded prior draws show "
          f"{measured[name]['classes']} of 10 digit classes at >= 3% (shares by class: {np.round(shares, 2)}; "
          f"rare or missing: {missing})")
assert measured["VAE"]["coverage"] > 0.8 and measured["AE"]["coverage"] < measured["VAE"]["coverage"] - 0.3, \
    "N(0, I) should cover the VAE's codes and miss most of the AE's"
assert measured["VAE"]["classes"] >= 7, "the VAE's prior draws should decode to most digit classes"
fig = cb.plotting.plot_image_rows([model.decode_means(prior_z[:NUM_PRIOR_SAMPLES]).numpy() for model in (vae, ae)],
                                  row_labels=["VAE", "AE"],
                                  title=f"the same {NUM_PRIOR_SAMPLES} draws z ~ N(0, I), decoded")
plt.show()

# %% [markdown]
# ## Summary
#
# * Same networks, one extra term: the KL to $\mathcal N(0, I)$ pulls the VAE's codes into a
#   cloud centred at the origin with a spread near one (the lab measured the fitted-Gaussian KL
#   to the prior for both models); the AE's codes have no such anchor. The only extra weights
#   are the log-variance head (printed and asserted).
# * Separability: the lab printed the 10-nearest-neighbour accuracy of both code spaces; read
#   the printed line for which separates the classes better in this run.
# * Between two digits, the printed readings show which digits each line passes through, and
#   how far the line strays from the codes of real digits in each model.
# * Decoding prior samples: N(0, I) covers the VAE's codes (asserted: over 80% of them inside
#   its 99% region, at least 30 points more than the AE's), so its draws decode to digits of
#   most classes (the lab printed which are rare); it reaches only part of the AE's code space,
#   and the AE's codes outside it are never generated. That is why the VAE, not the AE, is a
#   generative model.
