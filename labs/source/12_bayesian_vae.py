# %% [markdown]
# # Lab 12 — A Bayesian VAE: weight distributions in the encoder
#
# **Goal.** Replace the encoder's weights by distributions (Flipout layers), keep the decoder
# deterministic, and use the encoder's weight uncertainty: encode the same digit many times
# and see the latent code and its reconstruction vary, then measure that variability on test
# digits and on inputs unlike anything in training (noise, inverted digits, shifted digits).
#
# **Slide.** CS109B "Bayesian Auto-Encoders Part Two": *Variational AutoEncoder - Weight
# distributions* ("how about we use Flipout layers instead?"; probabilistic encoder,
# deterministic decoder, repeated reconstructions of one test input) and *Flipout*.
#
# **Expected figure.** A grid of reconstructions of the same test digits, each decoded from
# T passes through the Bayesian encoder (variations that mostly, not always, keep the digit;
# larger ones for a shifted digit), a map of where the encoder's weights stayed uncertain, then histograms of
# the per-input spread of the latent code: test digits at the left, noise and inverted
# digits far to the right.
#
# Each encoder layer is a `tfp.layers.DenseFlipout` layer: every weight has a Gaussian
# posterior $q(w) = \mathcal N(\mu_w, \sigma_w^2)$, every call draws new weights (with
# pseudo-independent perturbations per example, the Flipout trick), and the training loss adds
# $KL(q(w)\,\|\,p(w))/N$ to the per-digit negative ELBO ($N$ training digits).

# %%
import cs109b_bayes as cb

import matplotlib.pyplot as plt
import numpy as np

# %%
# Parameters. CS109B_FAST=1 (used by CI) shrinks the training run; the budget is in optimizer
# steps, so the epochs follow from the data set's size. `cb.vae.train` compiles each epoch with
# XLA, so even fast mode trains long enough for most decoded passes to keep their class.
FAST = cb.fast_mode()
SEED = 112
BATCH_SIZE = 64
NUM_STEPS = 3_000 if FAST else 6_000
LEARNING_RATE = 2e-3     # the weight scales grow by Adam steps: a larger step lets them reach the prior sooner
NUM_PASSES = 20 if FAST else 30     # T: passes through the Bayesian encoder per input
NUM_EVAL = 300 if FAST else 500     # inputs per set for the uncertainty measurements
IW_SAMPLES = 20 if FAST else 50     # k of the held-out importance-weighted bound
SET_COLOURS = {"test digits": "0.55", "noise": "C1", "inverted": "C2", "shifted": "C3"}   # one colour per set
print(f"{'FAST' if FAST else 'FULL'} mode: {NUM_STEPS:,} optimizer steps, T = {NUM_PASSES} passes; "
      f"the numbers below are this mode's")

# %%
mnist = cb.data.load_mnist()
print(f"MNIST source: {mnist.source} ({mnist.description})")
x_train = cb.vae.prepare_images(mnist.x)
x_test = cb.vae.prepare_images(mnist.x_test)
epochs = max(1, NUM_STEPS * BATCH_SIZE // len(x_train))
print(f"split: {len(x_train)} train / {len(x_test)} test digits (binarised); {epochs} epochs of {BATCH_SIZE}")

# %%
bvae = cb.vae.build_vae(latent_dim=2, flipout_encoder=True, num_train_examples=len(x_train), seed=SEED)
run = cb.vae.train(bvae, x_train, epochs=epochs, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, seed=SEED)
print(f"Flipout encoder: {bvae.encoder.count_params():,} variational parameters (a mean and a scale per "
      f"weight); decoder {bvae.decoder.count_params():,} weights")
print(f"{run.epochs} epochs in {run.seconds:.1f} s, {run.examples_per_second:,.0f} examples/s; final loss "
      f"{run.history['loss'][-1]:.1f} = reconstruction {run.history['reconstruction'][-1]:.1f} + "
      f"KL(z) {run.history['kl'][-1]:.1f} + KL(w)/N {run.history['loss'][-1] - run.history['reconstruction'][-1] - run.history['kl'][-1]:.1f}")
score = cb.vae.evaluate(bvae, x_test, num_samples=IW_SAMPLES, seed=SEED)
print(f"Bayesian-encoder VAE {score}")

# %% [markdown]
# Where did training make the encoder certain? The posterior standard deviation of the first
# layer's weights, averaged over the 128 units, per input pixel: weights from pixels that
# digits use are pinned down by the data; weights from pixels that are always dark receive no
# signal, so the KL term moves them back towards the prior N(0, 1).

# %%
first_layer_sd = bvae.encoder.get_layer("hidden_0").kernel_posterior.distribution.stddev().numpy()
pixel_sd = first_layer_sd.mean(axis=1).reshape(28, 28)
used = x_train.mean(axis=0).reshape(28, 28) > 0.05
print(f"first-layer weight posterior sd: {pixel_sd[used].mean():.3f} from pixels the digits use (on in > 5% "
      f"of the training digits), {pixel_sd[~used].mean():.3f} from the other pixels (prior sd 1)")
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
axes[0].imshow(x_train.mean(axis=0).reshape(28, 28), cmap="Greys_r")
axes[0].set_title("mean training digit")
shown = axes[1].imshow(pixel_sd, cmap="viridis")
axes[1].set_title("posterior sd of first-layer weights")
fig.colorbar(shown, ax=axes[1])
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Question 1: encode the same inputs T times
#
# Write `encode_repeatedly(encoder, x, num_passes)`: call the encoder `num_passes` separate
# times on the same batch `x` (each call draws new weights), keep the mean head `z_mean` (the
# encoder returns `[z_mean, z_log_var]`) and stack: shape `[num_passes, n, latent_dim]`.

# %%
def encode_repeatedly(encoder, x, num_passes):
    # BEGIN SOLUTION
    return np.stack([np.asarray(encoder(x)[0]) for _ in range(num_passes)])
    # END SOLUTION

# %%
cb.check("lab12.encode_repeatedly", encode_repeatedly=encode_repeatedly)

# %% [markdown]
# Decode each pass and let a digit classifier (trained on the labelled training digits,
# `cs109b_bayes.vae.digits`) read the result: how often does a pass keep the input's digit?
# The classifier reads blurry means generously (a blob between 2 and 8 may count as a 2):
# compare its readings with the figure.

# %%
classifier = cb.vae.digit_classifier(x_train, mnist.y, seed=SEED)
if cb.ready("lab12.encode_repeatedly"):
    digits = [int(np.flatnonzero(mnist.y_test == d)[0]) for d in (2, 4, 7)]
    inputs = np.concatenate([x_test[digits],
                             np.roll(x_test[digits[:1]].reshape(1, 28, 28), (8, 8), (1, 2)).reshape(1, 784)])
    names = [f"digit {mnist.y_test[i]}" for i in digits] + [f"shifted {mnist.y_test[digits[0]]}"]
    passes = encode_repeatedly(bvae.encoder, inputs, 10)          # [10, 4, 2]
    rows = [inputs] + [bvae.decode_means(passes[:, k]).numpy() for k in range(len(inputs))]
    fig = cb.plotting.plot_image_rows(rows, row_labels=["inputs"] + [f"10 passes, {n}" for n in names],
                                      title="the same input through the Flipout encoder 10 times, decoded")
    plt.show()
    true_labels = [mnist.y_test[i] for i in digits] + [mnist.y_test[digits[0]]]
    for name, sd, label, decoded in zip(names, passes.std(axis=0), true_labels, rows[1:]):
        read = cb.vae.classify_digits(decoded, classifier)
        print(f"{name}: sd of z_mean over the 10 passes = ({sd[0]:.3f}, {sd[1]:.3f}); the classifier reads "
              f"the decoded passes as {' '.join(str(d) for d in read)} ({np.mean(read == label):.0%} {label}s)")
    many = encode_repeatedly(bvae.encoder, x_test[:NUM_EVAL], NUM_PASSES)     # [T, n, 2]
    read_passes = np.stack([cb.vae.classify_digits(bvae.decode_means(z).numpy(), classifier) for z in many])
    read_inputs = cb.vae.classify_digits(x_test[:NUM_EVAL], classifier)
    readable = read_inputs == mnist.y_test[:NUM_EVAL]
    keep = np.mean(read_passes[:, readable] == mnist.y_test[:NUM_EVAL][readable][None])
    print(f"over {NUM_EVAL} test digits x {NUM_PASSES} passes: {keep:.0%} of the decoded passes keep the digit "
          f"class (of the digits the classifier reads correctly; {'FAST' if FAST else 'FULL'} mode; chance 10%)")
    assert keep > 0.55, "most decoded passes should keep the digit class"
    wrong = read_passes[:, readable] != mnist.y_test[:NUM_EVAL][readable][None]
    pairs, counts = np.unique(np.stack([np.broadcast_to(mnist.y_test[:NUM_EVAL][readable], wrong.shape)[wrong],
                                        read_passes[:, readable][wrong]]), axis=1, return_counts=True)
    top = np.argsort(counts)[::-1][:3]
    print("most frequent confusions (digit -> read as, share of all passes): " + ", ".join(
        f"{pairs[0, k]} -> {pairs[1, k]} ({counts[k] / wrong.size:.1%})" for k in top))
    shifted_sd, digit_sd = passes.std(axis=0)[-1].mean(), passes.std(axis=0)[:-1].mean(axis=1).max()
    assert shifted_sd > 3 * digit_sd, "the shifted digit's code should vary far more than the digits' codes"

# %% [markdown]
# ## Question 2: the spread of the code
#
# Summarise the encoder's uncertainty about one input by `epistemic_spread(z_means)`: for
# `z_means` of shape `[T, n, d]`, the standard deviation over the T passes (numpy's default,
# divisor T), averaged over the latent dimensions: one number per input, shape `[n]`.

# %%
def epistemic_spread(z_means):
    # BEGIN SOLUTION
    return np.asarray(z_means).std(axis=0).mean(axis=-1)
    # END SOLUTION

# %%
cb.check("lab12.epistemic_spread", epistemic_spread=epistemic_spread)

# %% [markdown]
# ## Inputs unlike the training digits
#
# Three sets of `NUM_EVAL` inputs the encoder never saw anything like, against `NUM_EVAL`
# test digits: binary **noise** with the digits' share of bright pixels, **inverted** test
# digits (1 - x), and test digits **shifted** 8 pixels right and down (rolled, so part of
# the stroke wraps around). For each input: the spread of its code over `NUM_PASSES` passes.

# %%
rng = np.random.default_rng(SEED)
test_digits = x_test[:NUM_EVAL]
images = test_digits.reshape(-1, 28, 28)
sets = {
    "test digits": test_digits,
    "noise": (rng.random(test_digits.shape) < x_train.mean()).astype(np.float32),
    "inverted": 1.0 - test_digits,
    "shifted": np.roll(images, shift=(8, 8), axis=(1, 2)).reshape(-1, 784),
}

# %%
if cb.ready("lab12.encode_repeatedly", "lab12.epistemic_spread"):
    spread = {name: epistemic_spread(encode_repeatedly(bvae.encoder, x, NUM_PASSES)) for name, x in sets.items()}
    base = spread["test digits"]
    for name, values in spread.items():
        auc = np.mean(values[:, None] > base[None, :]) + 0.5 * np.mean(values[:, None] == base[None, :])
        print(f"{name:12s} median spread {np.median(values):.3f}, mean {values.mean():.3f} "
              f"({np.median(values) / np.median(base):.1f} x the test digits'); "
              f"P(spread > a random test digit's) = {auc:.2f}")
    for name in ("noise", "inverted", "shifted"):
        assert np.median(spread[name]) > 2 * np.median(base), f"{name} should be far more uncertain than test digits"

# %%
if cb.ready("lab12.encode_repeatedly", "lab12.epistemic_spread"):
    fig, ax = plt.subplots(figsize=(8, 4))
    bins = np.geomspace(min(v.min() for v in spread.values()) * 0.9, max(v.max() for v in spread.values()) * 1.1, 50)
    for name, values in spread.items():
        ax.hist(values, bins=bins, alpha=0.5, label=name, color=SET_COLOURS[name])
    ax.set_xscale("log")
    ax.set_xlabel(f"spread of z_mean over {NUM_PASSES} Flipout passes (sd, averaged over the 2 latent dims)")
    ax.set_ylabel("inputs")
    ax.legend()
    ax.set_title("the Bayesian encoder's uncertainty: test digits vs inputs unlike the training data")
    fig.tight_layout()
    plt.show()

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 5))
z_test = bvae.encode(x_test)[0].numpy()
cb.plotting.plot_latent_scatter(z_test, mnist.y_test, ax=axes[0], title="one pass: z_mean of the test digits")
axes[1].scatter(*z_test[:NUM_EVAL].T, s=4, c=SET_COLOURS["test digits"], label="test digits (one pass)")
for name in ("noise", "inverted", "shifted"):
    z = bvae.encode(sets[name][:100])[0].numpy()
    axes[1].scatter(*z.T, s=6, label=name, color=SET_COLOURS[name])
axes[1].set_xlabel("z1")
axes[1].set_ylabel("z2")
axes[1].legend(fontsize=8)
axes[1].set_title("where the unfamiliar inputs land (one pass; colours as in the histogram)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
#
# * A Flipout encoder turns the encoder into a distribution over networks: the same digit
#   encodes to a different code on every pass; the deterministic decoder renders them. The
#   passes do not always keep the digit: the lab printed the classifier's reading of each pass,
#   the share that keep the input's class (most of them, asserted in both modes) and the most
#   frequent confusions (a 2-D code and a noisy encoder blur similar digits into each other).
#   The code of the shifted digit varies several times more between passes than the digits'
#   codes (asserted).
# * The spread of the code over passes measures the encoder's *epistemic* uncertainty. It is
#   small on test digits and, as the lab measured, several times larger on noise and inverted
#   digits, whose bright pixels hit weights that training never pinned down (their posteriors
#   stay wide).
# * Shifted digits are flagged too, but for the same reason: shifted 8 pixels, their strokes
#   reach the border pixels. Weight uncertainty flags inputs that use unfamiliar input
#   *features* (here, pixels); a digit that is odd only in meaning, drawn inside the usual
#   area, would not stand out this way.
