# %% [markdown]
# # Lab 10 — A variational auto-encoder from scratch on MNIST
#
# **Goal.** Build the pieces of a VAE yourself: the reparameterised sample of the latent code,
# the reconstruction loss of a Bernoulli decoder, the analytic KL to the prior, and one
# `tf.GradientTape` training step. Train it on binarised MNIST digits with a two-dimensional
# latent space, measure the held-out negative ELBO, and look at what the latent space learned.
#
# **Slide.** CS109B "Bayesian Auto-Encoders Part Two": *Variational AutoEncoder* (the loss
# KL(q(z|x) || p(z)) - E_q[log p(x|z)], the forward pass with z = mu + sigma * eps) and
# *Exercise: Variational Auto-Encoder from scratch*; Kingma & Welling's formulation from
# CS 461 class 23 and STA 4273 lecture 6 (Bernoulli decoder).
#
# **Expected figure.** The 15 x 15 "blended digits" manifold: decoded images at an evenly
# spaced grid of prior quantiles, one digit class flowing into the next; beside it, the
# encoder means of the test digits, one colour per digit, in class regions around the origin
# (some regions overlap: with two latent numbers, similar digits share space).
#
# The model, per digit x with 784 binary pixels:
#
# * prior $p(z) = \mathcal N(0, I)$ with $z \in \mathbb R^2$;
# * decoder $p_\theta(x \mid z) = \prod_i \mathrm{Bernoulli}(x_i; \sigma(\ell_i(z)))$, where the
#   network 2 -> 32 -> 128 -> 784 outputs the **logits** $\ell(z)$;
# * encoder $q_\phi(z \mid x) = \mathcal N(\mu(x), \mathrm{diag}\, e^{v(x)})$, network
#   784 -> 128 -> 32 -> $(\mu, v)$ with $v$ the log-variance;
# * loss per digit: $-\mathrm{ELBO}(x) = -E_q[\log p_\theta(x \mid z)] + KL(q_\phi(z\mid x)\,\|\,p(z))$.

# %%
import time

import cs109b_bayes as cb

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

# %%
# Parameters. CS109B_FAST=1 (used by CI) shrinks the training run. The budget is counted in
# optimizer steps, so the same cell works for the 5,000-digit offline set and the full MNIST.
# Fast mode trains fewer steps with a larger Adam step, so its manifold still shows the digits
# and most reconstructions keep their class (both measured below, in each mode).
FAST = cb.fast_mode()
SEED = 109
LATENT_DIM = 2
BATCH_SIZE = 64
NUM_STEPS = 5_000 if FAST else 8_000
LEARNING_RATE = 2e-3
IW_SAMPLES = 50 if FAST else 100          # k of the importance-weighted estimate of log p(x)
TARGET_NEG_ELBO = 170.0 if FAST else 165.0  # nats per digit, held out
print(f"{'FAST' if FAST else 'FULL'} mode: {NUM_STEPS:,} optimizer steps of {BATCH_SIZE} digits, "
      f"Adam step {LEARNING_RATE:g}; the numbers and figures below are this mode's")

# %%
mnist = cb.data.load_mnist()
print(f"MNIST source: {mnist.source} ({mnist.description})")
x_train = cb.vae.prepare_images(mnist.x)       # [n, 784] of 0.0 / 1.0: pixel > 0.5
x_test = cb.vae.prepare_images(mnist.x_test)
print(f"split: {len(x_train)} train / {len(x_test)} test digits, binarised at 0.5; "
      f"{x_train.mean():.1%} of training pixels are on")

# %% [markdown]
# ## Question 1: the reparameterised sample
#
# Sampling $z \sim \mathcal N(\mu, \sigma^2)$ directly blocks the gradient. Write it as a
# deterministic function of the encoder outputs and outside noise $\epsilon \sim \mathcal N(0, I)$:
# $z = \mu + \sigma \odot \epsilon$ with $\sigma = \exp(v / 2)$.
# Write `reparameterize(z_mean, z_log_var, epsilon)` with TensorFlow ops.

# %%
def reparameterize(z_mean, z_log_var, epsilon):
    # BEGIN SOLUTION
    return z_mean + tf.exp(0.5 * z_log_var) * epsilon
    # END SOLUTION

# %%
cb.check("lab10.reparameterize", reparameterize=reparameterize)

# %% [markdown]
# ## Question 2: the reconstruction loss
#
# With a Bernoulli decoder, $-\log p_\theta(x \mid z)$ is the binary cross-entropy summed over
# the 784 pixels: $-\sum_i [x_i \log p_i + (1 - x_i) \log(1 - p_i)]$ with $p_i = \sigma(\ell_i)$.
# Write `reconstruction_loss(x, logits)` returning one value per digit (shape `[n]`). The
# decoder outputs logits: apply the sigmoid **once** (or let
# `tf.nn.sigmoid_cross_entropy_with_logits` do it, stably). Sum over pixels, do not average.

# %%
def reconstruction_loss(x, logits):
    # BEGIN SOLUTION
    return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=-1)
    # END SOLUTION

# %%
cb.check("lab10.reconstruction_loss", reconstruction_loss=reconstruction_loss)

# %% [markdown]
# ## Question 3: the analytic KL
#
# For a diagonal Gaussian $q$ and the standard normal prior (Kingma & Welling, appendix B),
# $KL(q \,\|\, p) = \tfrac12 \sum_j \left(\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j^2\right)$.
# Write `kl_divergence(z_mean, z_log_var)`, one value per digit.

# %%
def kl_divergence(z_mean, z_log_var):
    # BEGIN SOLUTION
    return 0.5 * tf.reduce_sum(tf.exp(z_log_var) + tf.square(z_mean) - 1.0 - z_log_var, axis=-1)
    # END SOLUTION

# %%
cb.check("lab10.kl_divergence", kl_divergence=kl_divergence)

# %% [markdown]
# ## The encoder and the decoder
#
# The networks are plain dense layers; `cb.vae` builds them (the lecture's sizes). The
# decoder's last layer is linear: it returns logits.

# %%
encoder = cb.vae.build_encoder(hidden_units=(128, 32), latent_dim=LATENT_DIM, seed=SEED)
decoder = cb.vae.build_decoder(hidden_units=(32, 128), latent_dim=LATENT_DIM, seed=SEED + 1)
print(f"encoder 784 -> 128 -> 32 -> (mu, log var): {encoder.count_params():,} weights; "
      f"decoder 2 -> 32 -> 128 -> 784: {decoder.count_params():,} weights")

# %% [markdown]
# ## Question 4: one training step
#
# Write `train_step(x, epsilon, encoder, decoder, optimizer)`: inside a `tf.GradientTape`,
# encode `x` to `(z_mean, z_log_var)` (the encoder returns both), reparameterise with the given
# `epsilon`, decode to logits, and form the loss: the **batch mean** of
# `reconstruction_loss + kl_divergence`. Then apply the gradients of the loss with respect
# to the encoder's and the decoder's trainable variables. Return
# `(loss, mean reconstruction loss, mean KL)`.

# %%
def train_step(x, epsilon, encoder, decoder, optimizer):
    # BEGIN SOLUTION
    with tf.GradientTape() as tape:
        z_mean, z_log_var = encoder(x, training=True)
        z = reparameterize(z_mean, z_log_var, epsilon)
        logits = decoder(z, training=True)
        reconstruction = reconstruction_loss(x, logits)
        kl = kl_divergence(z_mean, z_log_var)
        loss = tf.reduce_mean(reconstruction + kl)
    variables = encoder.trainable_variables + decoder.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss, tf.reduce_mean(reconstruction), tf.reduce_mean(kl)
    # END SOLUTION

# %%
cb.check("lab10.train_step", train_step=train_step)

# %% [markdown]
# ## Training
#
# Your step runs inside one XLA-compiled function per epoch (`tf.function(..., jit_compile=True)`
# around a loop over the epoch's batches): Python hands over the shuffled batches and the noise
# $\epsilon$ (from a seeded generator) once per epoch, and the compiled loop takes every
# optimizer step without returning to Python in between. `cb.vae.train` also runs one compiled
# call per epoch (with XLA for runs of 2,000 steps or more, where it pays for its compile time).

# %%
ANSWERS = ("lab10.reparameterize", "lab10.reconstruction_loss", "lab10.kl_divergence", "lab10.train_step")
trained = cb.ready(*ANSWERS)   # every cell below needs the trained model
if trained:
    optimizer = tf.keras.optimizers.Adam(LEARNING_RATE)
    optimizer.build(encoder.trainable_variables + decoder.trainable_variables)   # Adam's moments exist up front

    @tf.function(jit_compile=True)
    def train_epoch(batches, epsilons):
        """Your `train_step` on every batch of one epoch, in one compiled call; the epoch's mean losses."""
        totals = tf.zeros(3)
        for b in tf.range(tf.shape(batches)[0]):
            totals += tf.stack(train_step(batches[b], epsilons[b], encoder, decoder, optimizer))
        return totals / tf.cast(tf.shape(batches)[0], tf.float32)

    rng = np.random.default_rng(SEED)
    steps_per_epoch = len(x_train) // BATCH_SIZE
    num_epochs = max(1, NUM_STEPS // steps_per_epoch)
    history = {"loss": [], "reconstruction": [], "kl": []}
    start = time.perf_counter()
    for epoch in cb.progress.iterate(range(num_epochs), desc="epochs"):
        order = rng.permutation(len(x_train))[:steps_per_epoch * BATCH_SIZE]
        batches = x_train[order].reshape(steps_per_epoch, BATCH_SIZE, -1)
        epsilons = rng.normal(size=(steps_per_epoch, BATCH_SIZE, LATENT_DIM)).astype(np.float32)
        for key, value in zip(history, train_epoch(batches, epsilons).numpy()):
            history[key].append(float(value))
        if epoch == 0:
            first_epoch_done = time.perf_counter()
    seconds = time.perf_counter() - start
    examples = (num_epochs - 1) * steps_per_epoch * BATCH_SIZE
    rate = examples / (time.perf_counter() - first_epoch_done) if num_epochs > 1 else float("nan")
    print(f"{num_epochs} epochs x {steps_per_epoch} steps of {BATCH_SIZE} in {seconds:.1f} s "
          f"({rate:,.0f} examples/s after the first, compiling, epoch)")
    print(f"last epoch: loss {history['loss'][-1]:.2f} = reconstruction {history['reconstruction'][-1]:.2f} "
          f"+ KL {history['kl'][-1]:.2f} nats per digit")

# %%
if trained:
    fig = cb.plotting.plot_loss_curves(history, title="training: negative ELBO = reconstruction + KL")
    plt.show()

# %% [markdown]
# ## Held-out negative ELBO
#
# `cb.vae.VAE` wraps your trained encoder and decoder. `cb.vae.evaluate` draws k samples of z
# per test digit: the mean of $\log p(x, z) - \log q(z \mid x)$ estimates the ELBO, and
# $\log \frac1k \sum_j p(x, z_j) / q(z_j \mid x)$ is the tighter importance-weighted bound on
# $\log p(x)$.

# %%
if trained:
    vae = cb.vae.VAE(encoder, decoder, seed=SEED)
    score = cb.vae.evaluate(vae, x_test, num_samples=IW_SAMPLES, seed=SEED)
    print(f"MNIST source {mnist.source}, {len(x_train)} train / {len(x_test)} test digits")
    print(score)
    print(f"held-out negative ELBO = {score.negative_elbo:.1f} nats per digit (target <= {TARGET_NEG_ELBO:.0f})")
    assert score.negative_elbo <= TARGET_NEG_ELBO, "the VAE did not reach the target held-out negative ELBO"
    assert score.log_likelihood >= score.elbo, "the importance-weighted bound must be at least the ELBO"

# %% [markdown]
# ## The analytic KL next to its L-sample estimate
#
# The KL term has a closed form for Gaussians (your Question 3). The general recipe, which
# works for any $q$ and $p$, estimates it from $L$ samples of the reparameterised code:
# $\widehat{KL}_L = \frac1L \sum_l [\log q(z_l \mid x) - \log p(z_l)]$, $z_l = \mu + \sigma \epsilon_l$
# (`cb.vae.sampled_kl`; `cb.vae.analytic_kl` is the closed form). The estimate is unbiased,
# and its noise shrinks like $1/\sqrt{L}$: the closed form is the $L \to \infty$ limit, free.

# %%
if trained:
    z_mean_t, z_log_var_t = vae.encode(x_test)
    exact = cb.vae.analytic_kl(z_mean_t, z_log_var_t).numpy()
    print(f"analytic KL, mean over the test digits: {exact.mean():.3f} nats")
    noise_rng = np.random.default_rng(SEED + 2)
    for num_samples in (1, 10, 100):
        eps = noise_rng.normal(size=(num_samples, *z_mean_t.shape)).astype(np.float32)
        z_samples = z_mean_t[None] + tf.exp(0.5 * z_log_var_t)[None] * eps
        estimate = cb.vae.sampled_kl(z_samples, z_mean_t, z_log_var_t).numpy()
        error = estimate - exact
        standard_error = error.std() / np.sqrt(len(error))
        print(f"L = {num_samples:3d} samples: mean estimate {estimate.mean():.3f} nats (bias "
              f"{error.mean():+.3f} +- {standard_error:.3f}); per-digit error sd {error.std():.3f} nats")
        assert abs(error.mean()) < 4 * standard_error + 1e-3, "the sampled KL should be unbiased"

# %% [markdown]
# ## A digit classifier to read the figures
#
# To check what the figures below show, we name each decoded image with a classifier trained
# on the labelled training digits (logistic regression on the pixels,
# `cs109b_bayes.vae.digits`). The VAE itself never sees a label.

# %%
classifier = cb.vae.digit_classifier(x_train, mnist.y, seed=SEED)
test_accuracy = np.mean(cb.vae.classify_digits(x_test, classifier) == mnist.y_test)
print(f"digit classifier: {test_accuracy:.1%} of the test digits named correctly")

# %% [markdown]
# ## Reconstructions of test digits
#
# Each test digit is encoded to its mean $\mu(x)$ and decoded to pixel probabilities
# $\sigma(\ell(\mu(x)))$. With two latent numbers per digit, expect blurry digits; the
# classifier counts how many keep their class.

# %%
if trained:
    reconstructions = vae.reconstruct(x_test).numpy()
    read_input = cb.vae.classify_digits(x_test, classifier)
    read_reconstruction = cb.vae.classify_digits(reconstructions, classifier)
    readable = read_input == mnist.y_test      # digits the classifier itself gets right
    kept = np.mean(read_reconstruction[readable] == mnist.y_test[readable])
    per_class = [np.mean(read_reconstruction[readable & (mnist.y_test == d)] == d) for d in range(10)]
    worst = np.argsort(per_class)[:3]
    print(f"reconstructions that keep their class: {kept:.1%} (of the {readable.sum()} test digits "
          f"the classifier reads correctly; {'FAST' if FAST else 'FULL'} mode)")
    print("hardest classes to keep: " + ", ".join(f"{d} ({per_class[d]:.0%})" for d in worst))
    print(f"(a 2-D code cannot keep every class apart: chance is 10%, the classifier on the inputs "
          f"{test_accuracy:.0%})")
    assert kept >= 0.6, "most reconstructions should keep their digit class"
    fig = cb.plotting.plot_reconstructions(x_test[:12], reconstructions[:12], num_images=12,
                                           title="test digits (top) and their VAE reconstructions (bottom)")
    plt.show()
    print("classifier reads the bottom row as: " + " ".join(str(d) for d in read_reconstruction[:12])
          + f"  (labels: {' '.join(str(d) for d in mnist.y_test[:12])})")

# %% [markdown]
# ## Decoding the mean vs sampling the decoder
#
# The decoder defines a distribution $p(x \mid z)$: 784 independent Bernoulli pixels. The
# images above are its means $\sigma(\ell(z))$; a *sample* $x \sim p(x \mid z)$ flips each pixel
# with its own probability. Samples are speckled wherever the decoder is unsure (grey pixels):
# the blur of the mean is uncertainty about pixels, and this is why VAE figures show means.

# %%
if trained:
    means = vae.decode_means(z_mean_t[:6]).numpy()
    pixel_rng = np.random.default_rng(SEED + 3)
    samples = [(pixel_rng.random(means.shape) < means).astype(np.float32) for _ in range(3)]
    fig = cb.plotting.plot_image_rows([x_test[:6], means] + samples,
                                      row_labels=["input", "mean of p(x|z)", "x ~ p(x|z)", "x ~ p(x|z)", "x ~ p(x|z)"],
                                      title="decoding the mean vs sampling the Bernoulli decoder at z = mu(x)")
    plt.show()
    unsure = np.mean((means > 0.1) & (means < 0.9))
    flips = np.mean(samples[0] != samples[1])
    print(f"{unsure:.1%} of the mean pixels are grey (between 0.1 and 0.9); two samples differ in "
          f"{flips:.1%} of their pixels")

# %% [markdown]
# ## The decoded manifold
#
# Decode a 15 x 15 grid $z = (\Phi^{-1}(u_1), \Phi^{-1}(u_2))$, $u$ in `linspace(0.01, 0.99, 15)`:
# evenly spaced quantiles of the prior, so each cell covers the same prior mass. The images
# are the decoder's Bernoulli means, $\sigma(\ell(z))$, with the sigmoid applied once. (Applying
# it twice squeezes every pixel into $[\sigma(0), \sigma(1)] = [0.5, 0.73]$: a grey, washed-out
# manifold.) The classifier counts the digit classes the manifold shows.

# %%
if trained:
    canvas, grid = cb.vae.decode_manifold(vae, num_points=15, low=0.01, high=0.99)
    print(f"grid values from {grid[0]:.2f} to {grid[-1]:.2f}; decoded pixel means span "
          f"[{canvas.min():.3f}, {canvas.max():.3f}]")
    shown_classes = cb.vae.manifold_classes(canvas, classifier)
    print(f"the manifold shows {len(shown_classes)} of the 10 digit classes "
          f"({'FAST' if FAST else 'FULL'} mode); cells per class: {shown_classes}")
    assert len(shown_classes) >= 9, "the manifold should show at least 9 of the 10 digit classes"
    fig = cb.plotting.plot_manifold(canvas, grid, title="decoded 15 x 15 latent manifold (Bernoulli means)")
    plt.show()

# %% [markdown]
# ## The latent space of the test digits
#
# Encoder means $\mu(x)$ of the test digits, coloured by their label (the VAE never saw the
# labels). Compare with the manifold: each region decodes to the digits that land there.
# How well do the classes separate? For each test digit, the share of its 10 nearest
# neighbours in the latent space that have its label.

# %%
if trained:
    z_mean = z_mean_t.numpy()
    print(f"test z_mean: mean {np.round(z_mean.mean(axis=0), 2)}, sd {np.round(z_mean.std(axis=0), 2)}; "
          f"average encoder sd {np.exp(0.5 * z_log_var_t.numpy()).mean():.3f}")
    sq_dist = ((z_mean[:, None, :] - z_mean[None, :, :]) ** 2).sum(axis=-1)
    np.fill_diagonal(sq_dist, np.inf)
    neighbours = np.argsort(sq_dist, axis=1)[:, :10]
    same = (mnist.y_test[neighbours] == mnist.y_test[:, None]).mean(axis=1)
    by_class = np.array([same[mnist.y_test == d].mean() for d in range(10)])
    order = np.argsort(by_class)
    print(f"same-label share of the 10 nearest codes: {same.mean():.0%} overall; best separated "
          + ", ".join(f"{d} ({by_class[d]:.0%})" for d in order[::-1][:3]) + "; most overlapping "
          + ", ".join(f"{d} ({by_class[d]:.0%})" for d in order[:3]))
    assert same.mean() > 0.35, "codes of the same digit should lie together far more often than chance (10%)"
    fig = cb.plotting.plot_latent_scatter(z_mean, mnist.y_test, title="VAE: z_mean of the test digits")
    plt.show()

# %% [markdown]
# ## Explore: a point in the latent space and its digit
#
# Move the sliders to pick a code $z = (z_1, z_2)$; the right panel shows the decoder's mean
# image there and the classifier's reading. Walk from one class region to another and watch
# the digit morph. (Run headless, the cell draws one static figure at the origin.)

# %%
if trained:
    panel = cb.widgets.vae.latent_explorer(vae, codes=z_mean, labels=mnist.y_test, classifier=classifier)

# %% [markdown]
# ## Summary
#
# * The reparameterisation $z = \mu + e^{v/2}\epsilon$ turns sampling into a differentiable
#   function of the encoder's outputs, so one `GradientTape` trains encoder and decoder together.
# * The loss per digit is the binary cross-entropy summed over pixels plus the analytic KL to
#   $\mathcal N(0, I)$; the lab printed its held-out value (the negative ELBO, in nats) and the
#   tighter importance-weighted bound on $-\log p(x)$. The $L$-sample KL estimate agreed with
#   the closed form on average, with noise that shrinks as $L$ grows.
# * The decoder outputs logits; pixel probabilities are one sigmoid away. Its mean image is
#   what we show; a sample $x \sim p(x \mid z)$ is a speckled version of it.
# * With only two latent numbers the VAE places the digits in class regions around the origin;
#   the lab printed which classes separate best and which overlap (similar digits share space),
#   how many of the 10 classes the decoded manifold shows, and how many reconstructions keep
#   their class, as read by a classifier.
# * Lab 11 compares this latent space with a plain auto-encoder's; `cb.vae.build_vae` and
#   `cb.vae.train` package everything you wrote here.
