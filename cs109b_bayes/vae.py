"""Variational auto-encoders (VAE) and plain auto-encoders (AE) on images, in `tf_keras`.

Kingma & Welling's model: a prior p(z) = N(0, I) on a small latent vector z, a
decoder p(x | z) (Bernoulli on binarised pixels, or Gaussian with a learned or
fixed scale), and an encoder q(z | x) = N(z_mean(x), diag(exp(z_log_var(x)))).
Training maximises the evidence lower bound, per example

    ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z)) <= log p(x),

with z = z_mean + exp(z_log_var / 2) * eps, eps ~ N(0, I) (the reparameterisation
trick) and the KL either analytic or estimated from the same L samples of z.

The pieces: `build_encoder` / `build_decoder` (dense networks, latent size a
parameter, optional Flipout encoder), `VAE` and `AE` (tf_keras Models whose
`train_step` is compiled, with XLA where it helps, and seeded), `train` (seeded
shuffling, Adam, examples per second), `evaluate` (held-out ELBO and the importance-weighted
estimate of log p(x) with k samples), `decode_manifold`, `save` / `load`.

#### References

[1]: Kingma, D. P. and Welling, M. Auto-Encoding Variational Bayes. ICLR 2014.
     https://arxiv.org/abs/1312.6114
[2]: Burda, Y., Grosse, R. and Salakhutdinov, R. Importance Weighted Autoencoders.
     https://arxiv.org/abs/1509.00519
[3]: Wen, Y. et al. Flipout: Efficient Pseudo-Independent Weight Perturbations on
     Mini-Batches. https://arxiv.org/abs/1803.04386
"""

import dataclasses
import json
import math
import pathlib
import time
import warnings

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

__all__ = [
    "AE",
    "HeldOutScore",
    "TrainResult",
    "VAE",
    "analytic_kl",
    "build_ae",
    "build_decoder",
    "build_encoder",
    "build_vae",
    "decode_manifold",
    "evaluate",
    "latent_grid",
    "load",
    "prepare_images",
    "sampled_kl",
    "save",
    "train",
]

_LOG_2PI = math.log(2.0 * math.pi)
_MIN_SCALE = 1e-3  # floor of a learned Gaussian decoder scale


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _units(name, units):
    units = tuple(units)
    for u in units:
        _positive_int(f"each entry of {name}", u)
    return units


def prepare_images(images, *, binarize=True, threshold=0.5, image_shape=(28, 28)):
    """Flatten images to float32 [n, height * width] in [0, 1], optionally binarised.

    Accepts uint8 pixels in [0, 255] (as `load_mnist` returns them) or floats in
    [0, 1], shaped [n, height, width], [n, height, width, 1] or [n, height * width].
    Binarising thresholds the [0, 1] intensities (`pixel > threshold`), which is the
    data a Bernoulli decoder models.

    Args:
        images: array of images.
        binarize: threshold to {0, 1}. Default value: True.
        threshold: intensity above which a pixel is 1. Default value: 0.5.
        image_shape: (height, width). Default value: (28, 28).

    Returns:
        A float32 numpy array [n, height * width].

    Raises:
        ValueError: for a shape that is not a batch of `image_shape` images, NaN or
            inf values, or pixels outside [0, 255] (integers) / [0, 1] (floats).

    #### Examples

    ```python
    import cs109b_bayes as cb
    mnist = cb.data.load_mnist()
    x_train = cb.vae.prepare_images(mnist.x)           # [4000, 784] of 0.0 / 1.0
    x_grey = cb.vae.prepare_images(mnist.x, binarize=False)
    ```
    """
    array = np.asarray(images)
    height, width = image_shape
    pixels = height * width
    shape = array.shape
    ok = (
        (array.ndim == 2 and shape[1] == pixels)
        or (array.ndim == 3 and shape[1:] == (height, width))
        or (array.ndim == 4 and shape[1:] == (height, width, 1))
    )
    if not ok or shape[0] == 0:
        raise ValueError(
            f"images must be a non-empty batch shaped [n, {height}, {width}], [n, {height}, {width}, 1] "
            f"or [n, {pixels}], got shape {shape}"
        )
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"images must be numeric, got dtype {array.dtype}")
    flat = array.reshape(shape[0], pixels)
    if np.issubdtype(array.dtype, np.integer):
        if flat.min() < 0 or flat.max() > 255:
            raise ValueError("integer images must have pixels in [0, 255]")
        flat = flat.astype(np.float32) / 255.0
    else:
        flat = flat.astype(np.float32)
        if not np.all(np.isfinite(flat)):
            raise ValueError("images contain NaN or inf")
        if flat.min() < 0.0 or flat.max() > 1.0:
            raise ValueError("float images must have pixels in [0, 1] (divide uint8 pixels by 255)")
    if binarize:
        flat = (flat > threshold).astype(np.float32)
    return flat


def _check_batch(x, input_dim, name="images"):
    shape = tuple(x.shape)
    if len(shape) != 2 or shape[1] != input_dim:
        raise ValueError(
            f"{name} must be flattened [n, {input_dim}] (use cb.vae.prepare_images), got shape {shape}"
        )


def analytic_kl(z_mean, z_log_var):
    """KL(N(z_mean, diag(exp(z_log_var))) || N(0, I)) per example, in closed form.

    KL = 1/2 sum_j (exp(z_log_var_j) + z_mean_j^2 - 1 - z_log_var_j)  (Kingma &
    Welling, appendix B), summed over the latent dimensions.

    Args:
        z_mean: tensor [..., latent_dim].
        z_log_var: tensor [..., latent_dim], the log-variances.

    Returns:
        A tensor [...] of KL divergences in nats.

    #### Examples

    ```python
    import numpy as np, cs109b_bayes as cb
    cb.vae.analytic_kl(np.zeros((3, 2), "float32"), np.zeros((3, 2), "float32"))  # [0, 0, 0]
    ```

    #### References

    [1]: Kingma and Welling. https://arxiv.org/abs/1312.6114 (appendix B)
    """
    z_mean = tf.convert_to_tensor(z_mean, tf.float32)
    z_log_var = tf.convert_to_tensor(z_log_var, tf.float32)
    return 0.5 * tf.reduce_sum(tf.exp(z_log_var) + tf.square(z_mean) - 1.0 - z_log_var, axis=-1)


def _log_normal(z, mean, log_var):
    return -0.5 * tf.reduce_sum(_LOG_2PI + log_var + tf.square(z - mean) * tf.exp(-log_var), axis=-1)


def _log_standard_normal(z):
    return -0.5 * tf.reduce_sum(_LOG_2PI + tf.square(z), axis=-1)


def sampled_kl(z, z_mean, z_log_var):
    """Monte Carlo estimate of KL(q || N(0, I)) from samples `z` of q, per example.

    KL ~= 1/L sum_l [log q(z_l | x) - log p(z_l)], averaged over the leading sample axis.

    Args:
        z: samples [L, ..., latent_dim] of q = N(z_mean, diag(exp(z_log_var))).
        z_mean: tensor [..., latent_dim].
        z_log_var: tensor [..., latent_dim].

    Returns:
        A tensor [...]: the L-sample estimate, unbiased for `analytic_kl`.

    #### Examples

    ```python
    import tensorflow as tf, cs109b_bayes as cb
    mean, log_var = tf.zeros([4, 2]), tf.zeros([4, 2])
    eps = tf.random.stateless_normal([100, 4, 2], seed=[1, 2])
    cb.vae.sampled_kl(mean + tf.exp(log_var / 2) * eps, mean, log_var)   # near 0
    ```
    """
    z = tf.convert_to_tensor(z, tf.float32)
    log_q = _log_normal(z, z_mean, z_log_var)
    return tf.reduce_mean(log_q - _log_standard_normal(z), axis=0)


def _dense_init(seed):
    return tf_keras.initializers.GlorotUniform(seed=seed)


def build_encoder(*, input_dim=784, hidden_units=(128, 32), latent_dim=2, activation="relu",
                  variational=True, flipout=False, kl_weight=1.0, seed=0):
    """Dense encoder x -> (z_mean, z_log_var) (or x -> z for a plain auto-encoder).

    The default is the lecture's encoder: 784 -> 128 -> 32 -> (mu, log var) with a
    two-dimensional latent space. With `flipout=True` every layer is a TFP
    `DenseFlipout` layer: the weights have a mean-field Gaussian posterior, each
    call samples them (pseudo-independently per example), and each layer adds
    `kl_weight * KL(q(w) || N(0, 1))` to the model's `losses`.

    Args:
        input_dim: pixels per image. Default value: 784.
        hidden_units: sizes of the hidden layers. Default value: (128, 32).
        latent_dim: size of z. Default value: 2.
        activation: hidden activation. Default value: "relu".
        variational: two heads (z_mean, z_log_var) for a VAE; False gives one head z
            for an `AE`. Default value: True.
        flipout: use `tfp.layers.DenseFlipout` layers (a Bayesian encoder). Default
            value: False.
        kl_weight: factor on the weight KL of the Flipout layers; use 1 / (number of
            training examples) so the per-example loss stays an ELBO. Default value: 1.0.
        seed: seed of the initial weights and of the Flipout sign flips. Default value: 0.

    Returns:
        A `tf_keras.Model` with outputs `[z_mean, z_log_var]` (variational) or `z`.

    Raises:
        ValueError: for a non-positive `input_dim`, `latent_dim` or hidden size, or
            a negative `kl_weight`.

    #### Examples

    ```python
    import cs109b_bayes as cb
    encoder = cb.vae.build_encoder(latent_dim=2, seed=1)
    z_mean, z_log_var = encoder(x_batch)            # x_batch: [n, 784]
    bayes_encoder = cb.vae.build_encoder(flipout=True, kl_weight=1 / 4000, seed=1)
    ```
    """
    input_dim = _positive_int("input_dim", input_dim)
    latent_dim = _positive_int("latent_dim", latent_dim)
    hidden_units = _units("hidden_units", hidden_units)
    if not kl_weight >= 0:
        raise ValueError(f"kl_weight must be >= 0, got {kl_weight!r}")
    seeds = iter(range(seed * 1000 + 1, seed * 1000 + 1000))

    def layer(units, act, name):
        if not flipout:
            return tf_keras.layers.Dense(units, activation=act, kernel_initializer=_dense_init(next(seeds)), name=name)
        posterior = tfp.layers.default_mean_field_normal_fn(
            loc_initializer=_dense_init(next(seeds)),
            untransformed_scale_initializer=tf_keras.initializers.RandomNormal(mean=-3.0, stddev=0.1, seed=next(seeds)),
        )
        return tfp.layers.DenseFlipout(
            units, activation=act, kernel_posterior_fn=posterior,
            kernel_posterior_tensor_fn=lambda q, op_seed=next(seeds): q.sample(seed=op_seed),
            kernel_divergence_fn=lambda q, p, _: tfp.distributions.kl_divergence(q, p) * kl_weight,
            bias_posterior_fn=tfp.layers.default_mean_field_normal_fn(
                is_singular=True, loc_initializer=tf_keras.initializers.Zeros()),
            seed=next(seeds), name=name,
        )

    inputs = tf_keras.Input(shape=(input_dim,), name="x")
    hidden = inputs
    with warnings.catch_warnings():  # TFP's layers still call the deprecated `add_variable`
        warnings.filterwarnings("ignore", message=".*add_variable.* is deprecated")
        for k, units in enumerate(hidden_units):
            hidden = layer(units, activation, f"hidden_{k}")(hidden)
        if variational:
            outputs = [layer(latent_dim, None, "z_mean")(hidden), layer(latent_dim, None, "z_log_var")(hidden)]
        else:
            outputs = layer(latent_dim, None, "z")(hidden)
    return tf_keras.Model(inputs, outputs, name="flipout_encoder" if flipout else "encoder")


def build_decoder(*, latent_dim=2, hidden_units=(32, 128), output_dim=784, activation="relu", seed=1):
    """Dense decoder z -> one location per pixel (Bernoulli logits or Gaussian means).

    The default is the lecture's decoder 2 -> 32 -> 128 -> 784. The output layer is
    linear: for a Bernoulli decoder its outputs are logits, and the pixel
    probabilities are `sigmoid(logits)`, applied exactly once (see `VAE.decode_means`).

    Args:
        latent_dim: size of z. Default value: 2.
        hidden_units: sizes of the hidden layers. Default value: (32, 128).
        output_dim: pixels per image. Default value: 784.
        activation: hidden activation. Default value: "relu".
        seed: seed of the initial weights. Default value: 1.

    Returns:
        A `tf_keras.Model` mapping [n, latent_dim] to [n, output_dim].

    Raises:
        ValueError: for a non-positive `latent_dim`, `output_dim` or hidden size.

    #### Examples

    ```python
    import cs109b_bayes as cb
    decoder = cb.vae.build_decoder(latent_dim=2)
    logits = decoder(tf.zeros([1, 2]))             # [1, 784]
    ```
    """
    latent_dim = _positive_int("latent_dim", latent_dim)
    output_dim = _positive_int("output_dim", output_dim)
    hidden_units = _units("hidden_units", hidden_units)
    inputs = tf_keras.Input(shape=(latent_dim,), name="z")
    hidden = inputs
    for k, units in enumerate(hidden_units):
        hidden = tf_keras.layers.Dense(units, activation=activation, kernel_initializer=_dense_init(seed * 1000 + k),
                                       name=f"hidden_{k}")(hidden)
    outputs = tf_keras.layers.Dense(output_dim, kernel_initializer=_dense_init(seed * 1000 + 999), name="location")(hidden)
    return tf_keras.Model(inputs, outputs, name="decoder")


class _Likelihood:
    """log p(x | z) of a Bernoulli or Gaussian decoder, shared by `VAE` and `AE`."""

    def _init_likelihood(self, likelihood, decoder_scale):
        if likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', got {likelihood!r}")
        if decoder_scale is not None:
            if likelihood == "bernoulli":
                raise ValueError("decoder_scale only applies to likelihood='gaussian'")
            if not (isinstance(decoder_scale, (int, float)) and decoder_scale > 0):
                raise ValueError(f"decoder_scale must be a positive number or None (learned), got {decoder_scale!r}")
        self.likelihood = likelihood
        self.decoder_scale = decoder_scale
        if likelihood == "gaussian" and decoder_scale is None:
            self.decoder_log_scale = self.add_weight(name="decoder_log_scale", shape=(), initializer="zeros")

    def scale(self):
        """The Gaussian decoder's standard deviation (learned or fixed); None for Bernoulli.

        #### Examples

        ```python
        vae = cb.vae.build_vae(likelihood="gaussian")      # learned scale, starts at 1
        float(vae.scale())
        ```
        """
        if self.likelihood == "bernoulli":
            return None
        if self.decoder_scale is not None:
            return tf.constant(float(self.decoder_scale))
        return tf.maximum(tf.exp(self.decoder_log_scale), _MIN_SCALE)

    def log_likelihood(self, x, location):
        """log p(x | z) summed over pixels, given the decoder output `location`.

        Bernoulli: sum_i x_i * logit_i - softplus(logit_i) (minus the binary cross-
        entropy); Gaussian: sum_i log N(x_i; mean_i, scale^2).

        #### Examples

        ```python
        log_px = vae.log_likelihood(x_test, vae(x_test))   # [n], at z = z_mean
        ```
        """
        if self.likelihood == "bernoulli":
            return tf.reduce_sum(x * location - tf.nn.softplus(location), axis=-1)
        scale = self.scale()
        z = (x - location) / scale
        return tf.reduce_sum(-0.5 * tf.square(z) - tf.math.log(scale) - 0.5 * _LOG_2PI, axis=-1)

    def decode_means(self, z):
        """The decoder's mean image for latent codes z: sigmoid(logits) once, or the Gaussian mean.

        #### Examples

        ```python
        images = vae.decode_means(tf.random.normal([16, 2]))   # [16, 784] in [0, 1]
        ```
        """
        location = self.decoder(tf.convert_to_tensor(z, tf.float32), training=False)
        return tf.sigmoid(location) if self.likelihood == "bernoulli" else location


class VAE(_Likelihood, tf_keras.Model):
    """A variational auto-encoder: encoder q(z | x), prior N(0, I), decoder p(x | z).

    `fit` (or `cb.vae.train`) minimises the per-example negative ELBO, averaged over
    the batch: reconstruction = -E_q[log p(x | z)] estimated with `num_samples`
    reparameterised samples of z, plus KL(q(z | x) || p(z)), analytic or estimated
    from the same samples, plus the encoder's own `losses` (the weight KL of a
    Flipout encoder). `train_step` tracks `loss`, `reconstruction` and `kl`. The
    noise is drawn with stateless seeds (seed, step): same seed, same run.

    Args:
        encoder: a model x -> [z_mean, z_log_var] (see `build_encoder`).
        decoder: a model z -> location (see `build_decoder`).
        likelihood: "bernoulli" (binarised pixels, decoder logits) or "gaussian".
            Default value: "bernoulli".
        decoder_scale: the Gaussian decoder's standard deviation; None learns one
            shared scale. Default value: None.
        kl: "analytic" or "sampled". Default value: "analytic".
        num_samples: L, samples of z per example in the training loss. Default value: 1.
        seed: seed of the training noise. Default value: 0.

    Raises:
        ValueError: for an unknown likelihood or kl, a non-positive `num_samples`
            or `decoder_scale`, or an encoder without two outputs.

    #### Examples

    ```python
    import cs109b_bayes as cb
    vae = cb.vae.VAE(cb.vae.build_encoder(), cb.vae.build_decoder(), seed=3)
    vae.compile(optimizer=tf_keras.optimizers.Adam(1e-3), jit_compile=True)
    vae.fit(x_train, epochs=5, batch_size=128)
    ```

    #### References

    [1]: Kingma and Welling. https://arxiv.org/abs/1312.6114
    """

    def __init__(self, encoder, decoder, *, likelihood="bernoulli", decoder_scale=None, kl="analytic",
                 num_samples=1, seed=0, **kwargs):
        super().__init__(**kwargs)
        if len(encoder.outputs) != 2:
            raise ValueError("the VAE's encoder must output [z_mean, z_log_var] (build_encoder(variational=True))")
        if kl not in ("analytic", "sampled"):
            raise ValueError(f"kl must be 'analytic' or 'sampled', got {kl!r}")
        self.encoder = encoder
        self.decoder = decoder
        self.kl = kl
        self.num_samples = _positive_int("num_samples", num_samples)
        self.seed = int(seed)
        self.input_dim = int(encoder.inputs[0].shape[-1])
        self.latent_dim = int(encoder.outputs[0].shape[-1])
        self._init_likelihood(likelihood, decoder_scale)
        self._step = tf.Variable(0, dtype=tf.int64, trainable=False, name="noise_step")
        self.loss_tracker = tf_keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = tf_keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = tf_keras.metrics.Mean(name="kl")
        self.architecture = None  # set by build_vae, used by save / load

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def encode(self, x, *, training=False):
        """(z_mean, z_log_var) for images x [n, input_dim].

        #### Examples

        ```python
        z_mean, z_log_var = vae.encode(x_test)
        ```
        """
        z_mean, z_log_var = self.encoder(x, training=training)
        return z_mean, z_log_var

    def call(self, x, training=False):
        """The decoder output (logits or means) at z = z_mean(x): a deterministic reconstruction."""
        z_mean, _ = self.encode(x, training=training)
        return self.decoder(z_mean, training=training)

    def reconstruct(self, x):
        """Mean reconstructions of x (pixel probabilities for a Bernoulli decoder), decoding z_mean.

        #### Examples

        ```python
        recon = vae.reconstruct(x_test[:10])     # [10, 784]
        ```
        """
        z_mean, _ = self.encode(tf.convert_to_tensor(x, tf.float32))
        return self.decode_means(z_mean)

    def loss_terms(self, x, seed, *, training=False):
        """Per-example (reconstruction, kl): -E_q[log p(x|z)] with L samples, and the KL.

        Args:
            x: images [n, input_dim].
            seed: a stateless seed, int tensor of shape [2].
            training: passed to the encoder and decoder. Default value: False.

        Returns:
            Two tensors [n], in nats.

        #### Examples

        ```python
        reconstruction, kl = vae.loss_terms(x_test[:8], tf.constant([0, 1], tf.int64))
        ```
        """
        z_mean, z_log_var = self.encode(x, training=training)
        eps = tf.random.stateless_normal(tf.concat([[self.num_samples], tf.shape(z_mean)], 0), seed=seed)
        z = z_mean + tf.exp(0.5 * z_log_var) * eps
        location = self.decoder(tf.reshape(z, [-1, self.latent_dim]), training=training)
        location = tf.reshape(location, [self.num_samples, -1, self.input_dim])
        reconstruction = -tf.reduce_mean(self.log_likelihood(x, location), axis=0)
        kl = analytic_kl(z_mean, z_log_var) if self.kl == "analytic" else sampled_kl(z, z_mean, z_log_var)
        return reconstruction, kl

    def _next_seed(self):
        seed = tf.stack([tf.constant(self.seed, tf.int64), self._step])
        self._step.assign_add(1)
        return seed

    def _update(self, loss, reconstruction, kl):
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(tf.reduce_mean(reconstruction))
        self.kl_tracker.update_state(tf.reduce_mean(kl))
        return {m.name: m.result() for m in self.metrics}

    def _loss(self, reconstruction, kl):
        loss = tf.reduce_mean(reconstruction + kl)
        if self.losses:
            loss += tf.add_n(self.losses)
        return loss

    def train_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        seed = self._next_seed()
        with tf.GradientTape() as tape:
            reconstruction, kl = self.loss_terms(x, seed, training=True)
            loss = self._loss(reconstruction, kl)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return self._update(loss, reconstruction, kl)

    def test_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        seed = tf.stack([tf.constant(self.seed + 1, tf.int64), self._step])
        reconstruction, kl = self.loss_terms(x, seed)
        return self._update(self._loss(reconstruction, kl), reconstruction, kl)


class AE(_Likelihood, tf_keras.Model):
    """A plain auto-encoder with the VAE's architecture: z = encoder(x), no prior, no noise.

    The loss is the reconstruction term alone, -log p(x | z) (the binary cross-
    entropy summed over pixels for a Bernoulli decoder), averaged over the batch.
    `train_step` tracks `loss` and `reconstruction`.

    Args:
        encoder: a model x -> z (see `build_encoder(variational=False)`).
        decoder: a model z -> location (see `build_decoder`).
        likelihood: "bernoulli" or "gaussian". Default value: "bernoulli".
        decoder_scale: the Gaussian decoder's standard deviation; None learns it.
            Default value: None.

    Raises:
        ValueError: for an encoder with more than one output or an unknown likelihood.

    #### Examples

    ```python
    import cs109b_bayes as cb
    ae = cb.vae.AE(cb.vae.build_encoder(variational=False), cb.vae.build_decoder())
    ```
    """

    def __init__(self, encoder, decoder, *, likelihood="bernoulli", decoder_scale=None, **kwargs):
        super().__init__(**kwargs)
        if len(encoder.outputs) != 1:
            raise ValueError("the AE's encoder must output one code z (build_encoder(variational=False))")
        self.encoder = encoder
        self.decoder = decoder
        self.input_dim = int(encoder.inputs[0].shape[-1])
        self.latent_dim = int(encoder.outputs[0].shape[-1])
        self._init_likelihood(likelihood, decoder_scale)
        self.loss_tracker = tf_keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = tf_keras.metrics.Mean(name="reconstruction")
        self.architecture = None

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker]

    def encode(self, x, *, training=False):
        """The code z for images x [n, input_dim].

        #### Examples

        ```python
        codes = ae.encode(x_test)                  # [n, latent_dim]
        ```
        """
        return self.encoder(x, training=training)

    def call(self, x, training=False):
        return self.decoder(self.encode(x, training=training), training=training)

    def reconstruct(self, x):
        """Mean reconstructions of x (pixel probabilities for a Bernoulli decoder).

        #### Examples

        ```python
        recon = ae.reconstruct(x_test[:10])        # [10, 784]
        ```
        """
        return self.decode_means(self.encode(tf.convert_to_tensor(x, tf.float32)))

    def _step_losses(self, x, training):
        reconstruction = -self.log_likelihood(x, self(x, training=training))
        loss = tf.reduce_mean(reconstruction)
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(loss)
        return loss

    def train_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            loss = self._step_losses(x, True)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        self._step_losses(x, False)
        return {m.name: m.result() for m in self.metrics}


def build_vae(*, input_dim=784, latent_dim=2, encoder_units=(128, 32), decoder_units=(32, 128),
              likelihood="bernoulli", decoder_scale=None, kl="analytic", num_samples=1,
              flipout_encoder=False, num_train_examples=None, seed=0):
    """Build a `VAE` from dense encoder and decoder (the lecture's architecture by default).

    Args:
        input_dim: pixels per image. Default value: 784.
        latent_dim: size of z. Default value: 2.
        encoder_units: encoder hidden sizes. Default value: (128, 32).
        decoder_units: decoder hidden sizes. Default value: (32, 128).
        likelihood: "bernoulli" or "gaussian". Default value: "bernoulli".
        decoder_scale: fixed Gaussian scale, or None to learn it. Default value: None.
        kl: "analytic" or "sampled" (from the L samples). Default value: "analytic".
        num_samples: L. Default value: 1.
        flipout_encoder: a Bayesian (Flipout) encoder, deterministic decoder. Default
            value: False.
        num_train_examples: N, needed with a Flipout encoder: its weight KL is scaled
            by 1 / N so the batch loss is the per-example negative ELBO. Default value: None.
        seed: seeds the weights (encoder `seed`, decoder `seed + 1`) and the training
            noise. Default value: 0.

    Returns:
        A `VAE`, built (its weights exist), with `architecture` recorded for `save`.

    Raises:
        ValueError: for bad sizes or options, or a Flipout encoder without a
            positive `num_train_examples`.

    #### Examples

    ```python
    import cs109b_bayes as cb
    vae = cb.vae.build_vae(latent_dim=2, seed=0)
    bvae = cb.vae.build_vae(flipout_encoder=True, num_train_examples=len(x_train), seed=0)
    ```
    """
    architecture = dict(kind="vae", input_dim=input_dim, latent_dim=latent_dim, encoder_units=list(encoder_units),
                        decoder_units=list(decoder_units), likelihood=likelihood, decoder_scale=decoder_scale,
                        kl=kl, num_samples=num_samples, flipout_encoder=bool(flipout_encoder),
                        num_train_examples=num_train_examples, seed=int(seed))
    kl_weight = 1.0
    if flipout_encoder:
        kl_weight = 1.0 / _positive_int("num_train_examples", num_train_examples)
    encoder = build_encoder(input_dim=input_dim, hidden_units=encoder_units, latent_dim=latent_dim,
                            flipout=flipout_encoder, kl_weight=kl_weight, seed=seed)
    decoder = build_decoder(latent_dim=latent_dim, hidden_units=decoder_units, output_dim=input_dim, seed=seed + 1)
    model = VAE(encoder, decoder, likelihood=likelihood, decoder_scale=decoder_scale, kl=kl,
                num_samples=num_samples, seed=seed)
    model(tf.zeros([1, input_dim]))
    model.architecture = architecture
    return model


def build_ae(*, input_dim=784, latent_dim=2, encoder_units=(128, 32), decoder_units=(32, 128),
             likelihood="bernoulli", decoder_scale=None, seed=0):
    """Build an `AE` with the same dense architecture as `build_vae` (one code head).

    Args:
        input_dim: pixels per image. Default value: 784.
        latent_dim: size of z. Default value: 2.
        encoder_units: encoder hidden sizes. Default value: (128, 32).
        decoder_units: decoder hidden sizes. Default value: (32, 128).
        likelihood: "bernoulli" or "gaussian". Default value: "bernoulli".
        decoder_scale: fixed Gaussian scale, or None to learn it. Default value: None.
        seed: seeds the weights. Default value: 0.

    Returns:
        An `AE`, built, with `architecture` recorded for `save`.

    Raises:
        ValueError: for bad sizes or options.

    #### Examples

    ```python
    import cs109b_bayes as cb
    ae = cb.vae.build_ae(latent_dim=2, seed=0)
    ```
    """
    architecture = dict(kind="ae", input_dim=input_dim, latent_dim=latent_dim, encoder_units=list(encoder_units),
                        decoder_units=list(decoder_units), likelihood=likelihood, decoder_scale=decoder_scale,
                        seed=int(seed))
    encoder = build_encoder(input_dim=input_dim, hidden_units=encoder_units, latent_dim=latent_dim,
                            variational=False, seed=seed)
    decoder = build_decoder(latent_dim=latent_dim, hidden_units=decoder_units, output_dim=input_dim, seed=seed + 1)
    model = AE(encoder, decoder, likelihood=likelihood, decoder_scale=decoder_scale)
    model(tf.zeros([1, input_dim]))
    model.architecture = architecture
    return model


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What `train` did.

    Attributes:
        history: dict metric name -> list of per-epoch values (`loss`, `reconstruction`,
            `kl` for a VAE; `val_...` with validation images).
        epochs: epochs run.
        num_examples: training examples per epoch.
        seconds: wall time of `fit`, the first epoch's compilation included.
        examples_per_second: training examples per second after the first epoch
            (compilation excluded); the overall rate if only one epoch ran.
        seed: the seed of the shuffling and noise.
    """

    history: dict
    epochs: int
    num_examples: int
    seconds: float
    examples_per_second: float
    seed: int


class _EpochTimer(tf_keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.starts, self.ends = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.starts.append(time.perf_counter())

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter())


def _has_flipout(model):
    return any(isinstance(layer, tfp.layers.DenseFlipout) for layer in model.encoder.layers)


def train(model, images, *, epochs, batch_size=128, learning_rate=1e-3, validation_images=None,
          seed=0, jit_compile="auto", steps_per_execution=16, verbose=0):
    """Fit a `VAE` or `AE` with Adam on flattened images, seeded and compiled (XLA where it helps).

    Batches are reshuffled every epoch with a seeded `tf.data` shuffle; the training
    noise comes from the model's own stateless seeds. On 2 shared CPU cores the
    lecture's 784-128-32-2 VAE trains at about 17,000 examples per second (batch 64).

    Args:
        model: a `VAE` or `AE`.
        images: float array [n, input_dim] (see `prepare_images`).
        epochs: passes over the data.
        batch_size: examples per step. Default value: 128.
        learning_rate: Adam's step size. Default value: 1e-3.
        validation_images: held-out images evaluated each epoch, or None. Default value: None.
        seed: seed of the shuffling. Default value: 0.
        jit_compile: compile the train step with XLA: True, False, or "auto", which
            uses XLA unless the encoder has Flipout layers (their random sign matrices
            run about 3x slower under XLA on CPU). Default value: "auto".
        steps_per_execution: optimizer steps per compiled call; batching steps cuts
            Python overhead (about 1.7x faster for the lecture's VAE on 2 cores) and
            does not change the result. Default value: 16.
        verbose: Keras verbosity. Default value: 0.

    Returns:
        A `TrainResult`.

    Raises:
        ValueError: for images of the wrong shape or non-positive `epochs` / `batch_size`.

    #### Examples

    ```python
    import cs109b_bayes as cb
    vae = cb.vae.build_vae(seed=0)
    result = cb.vae.train(vae, x_train, epochs=20, seed=0)
    print(result.history["loss"][-1], result.examples_per_second)
    ```
    """
    epochs = _positive_int("epochs", epochs)
    batch_size = _positive_int("batch_size", batch_size)
    x = np.asarray(images, dtype=np.float32)
    _check_batch(x, model.input_dim)
    data = tf.data.Dataset.from_tensor_slices(x).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size).prefetch(2)
    validation = None
    if validation_images is not None:
        x_val = np.asarray(validation_images, dtype=np.float32)
        _check_batch(x_val, model.input_dim, "validation_images")
        validation = tf.data.Dataset.from_tensor_slices(x_val).batch(1024)
    if jit_compile == "auto":
        jit_compile = not _has_flipout(model)
    steps_per_execution = _positive_int("steps_per_execution", steps_per_execution)
    model.compile(optimizer=tf_keras.optimizers.Adam(learning_rate), jit_compile=bool(jit_compile),
                  steps_per_execution=steps_per_execution)
    timer = _EpochTimer()
    start = time.perf_counter()
    history = model.fit(data, epochs=epochs, validation_data=validation, verbose=verbose, callbacks=[timer])
    seconds = time.perf_counter() - start
    if epochs > 1:
        rate = (epochs - 1) * len(x) / max(timer.ends[-1] - timer.ends[0], 1e-9)
    else:
        rate = len(x) / max(seconds, 1e-9)
    return TrainResult({k: [float(v) for v in vals] for k, vals in history.history.items()},
                       epochs, len(x), seconds, rate, int(seed))


@dataclasses.dataclass(frozen=True)
class HeldOutScore:
    """Held-out scores of a VAE, in nats per example (averages over the images).

    Attributes:
        elbo: the ELBO, E_q[log p(x, z) - log q(z | x)], estimated with k samples of z.
        log_likelihood: the importance-weighted estimate of log p(x) with k samples,
            log (1/k) sum_j p(x, z_j) / q(z_j | x) (a tighter lower bound as k grows).
        reconstruction: E_q[log p(x | z)] (same samples).
        kl: KL(q(z | x) || p(z)), analytic.
        num_samples: k.
        num_examples: images evaluated.
        seed: seed of the samples.
    """

    elbo: float
    log_likelihood: float
    reconstruction: float
    kl: float
    num_samples: int
    num_examples: int
    seed: int

    @property
    def negative_elbo(self):
        """-ELBO, the usual 'loss' number (lower is better)."""
        return -self.elbo

    def __str__(self):
        return (f"held-out -ELBO {-self.elbo:.2f} nats (reconstruction {-self.reconstruction:.2f} + "
                f"KL {self.kl:.2f}), -log p(x) <= {-self.log_likelihood:.2f} nats "
                f"(importance-weighted, k={self.num_samples}), {self.num_examples} images")


def _log_weights(model, x, seed, k):
    """log w_j = log p(x|z_j) + log p(z_j) - log q(z_j|x) for k samples: tensors [k, n]."""
    n = tf.shape(x)[0]
    tiled = tf.tile(x, [k, 1])  # a Flipout encoder then draws its own weights per sample
    z_mean, z_log_var = model.encode(tiled)
    eps = tf.random.stateless_normal(tf.shape(z_mean), seed=seed)
    z = z_mean + tf.exp(0.5 * z_log_var) * eps
    log_px_z = model.log_likelihood(tiled, model.decoder(z, training=False))
    log_w = log_px_z + _log_standard_normal(z) - _log_normal(z, z_mean, z_log_var)
    kl = analytic_kl(z_mean, z_log_var)
    shape = tf.stack([k, n])
    return tf.reshape(log_w, shape), tf.reshape(log_px_z, shape), tf.reshape(kl, shape)


def evaluate(model, images, *, num_samples=100, batch_size=None, seed=0):
    """Held-out ELBO and importance-weighted log p(x) of a `VAE`, in nats per image.

    For each image, k = `num_samples` draws z_j ~ q(z | x) give log weights
    log w_j = log p(x | z_j) + log p(z_j) - log q(z_j | x). The ELBO estimate is their
    mean, the importance-weighted bound is log (1/k) sum_j w_j; by Jensen the ELBO
    is below it, and the bound tightens towards log p(x) as k grows (Burda et al.).

    Args:
        model: a `VAE`.
        images: float array [n, input_dim] (see `prepare_images`).
        num_samples: k. Default value: 100.
        batch_size: images per compiled call. Default value: about 20,000 / k.
        seed: seed of the samples. Default value: 0.

    Returns:
        A `HeldOutScore`.

    Raises:
        ValueError: for a non-positive `num_samples`, images of the wrong shape.
        TypeError: for a model that is not a `VAE`.

    #### Examples

    ```python
    import cs109b_bayes as cb
    score = cb.vae.evaluate(vae, x_test, num_samples=100, seed=0)
    print(score)            # held-out -ELBO ... nats, -log p(x) <= ... nats
    ```

    #### References

    [1]: Burda, Grosse and Salakhutdinov. https://arxiv.org/abs/1509.00519
    """
    if not isinstance(model, VAE):
        raise TypeError(f"evaluate needs a VAE (an AE has no q(z | x)), got {type(model).__name__}")
    k = _positive_int("num_samples", num_samples)
    x = np.asarray(images, dtype=np.float32)
    _check_batch(x, model.input_dim)
    batch_size = _positive_int("batch_size", batch_size or max(1, 20_000 // k))
    step = tf.function(lambda xb, s: _log_weights(model, xb, s, k), jit_compile=not _has_flipout(model),
                       reduce_retracing=True)
    sums = np.zeros(4)
    for b, start in enumerate(range(0, len(x), batch_size)):
        log_w, log_px_z, kl = step(tf.constant(x[start:start + batch_size]), tf.constant([seed, b], tf.int64))
        log_w = log_w.numpy().astype(np.float64)
        iw = np.logaddexp.reduce(log_w, axis=0) - math.log(k)
        sums += [log_w.mean(0).sum(), iw.sum(), log_px_z.numpy().mean(0).sum(), kl.numpy().mean(0).sum()]
    elbo, log_lik, recon, kl = sums / len(x)
    return HeldOutScore(float(elbo), float(log_lik), float(recon), float(kl), k, len(x), int(seed))


def latent_grid(num_points=15, *, low=0.01, high=0.99):
    """Grid values z = norm.ppf(linspace(low, high, num_points)): evenly spaced prior quantiles.

    Args:
        num_points: points per axis. Default value: 15.
        low: lowest quantile. Default value: 0.01.
        high: highest quantile. Default value: 0.99.

    Returns:
        A float32 numpy array [num_points].

    Raises:
        ValueError: unless 0 < low < high < 1 and num_points is positive.

    #### Examples

    ```python
    import cs109b_bayes as cb
    cb.vae.latent_grid(15)      # from -2.33 to 2.33
    ```
    """
    num_points = _positive_int("num_points", num_points)
    if not 0.0 < low < high < 1.0:
        raise ValueError(f"need 0 < low < high < 1, got low={low}, high={high}")
    quantiles = np.linspace(low, high, num_points)
    return (np.sqrt(2.0) * _erfinv(2.0 * quantiles - 1.0)).astype(np.float32)


def _erfinv(y):
    return tf.math.erfinv(tf.constant(y, tf.float64)).numpy()


def decode_manifold(model, *, num_points=15, low=0.01, high=0.99, image_shape=(28, 28)):
    """Decode a num_points x num_points grid of a 2-D latent space into one canvas of mean images.

    Column j decodes z1 = grid[j] (left to right, increasing); row i decodes
    z2 = grid[num_points - 1 - i] (top to bottom, decreasing), so the canvas has the
    orientation of a latent scatter plot. The images are the decoder's means
    (`decode_means`: sigmoid of the logits, applied once).

    Args:
        model: a `VAE` or `AE` with a 2-D latent space.
        num_points: grid points per axis. Default value: 15.
        low: lowest prior quantile. Default value: 0.01.
        high: highest prior quantile. Default value: 0.99.
        image_shape: (height, width) of one image. Default value: (28, 28).

    Returns:
        `(canvas, grid)`: a float array [num_points * height, num_points * width] and
        the grid values [num_points].

    Raises:
        ValueError: if the latent space is not two-dimensional.

    #### Examples

    ```python
    import cs109b_bayes as cb
    canvas, grid = cb.vae.decode_manifold(vae, num_points=15)
    cb.plotting.plot_manifold(canvas, grid)
    ```
    """
    if model.latent_dim != 2:
        raise ValueError(f"decode_manifold needs a 2-D latent space, got latent_dim={model.latent_dim}")
    grid = latent_grid(num_points, low=low, high=high)
    z1, z2 = np.meshgrid(grid, grid[::-1])
    z = np.stack([z1.ravel(), z2.ravel()], axis=1)
    height, width = image_shape
    means = model.decode_means(z).numpy().reshape(num_points, num_points, height, width)
    canvas = means.transpose(0, 2, 1, 3).reshape(num_points * height, num_points * width)
    return canvas, grid


def save(model, path):
    """Save a model made by `build_vae` / `build_ae`: `path/architecture.json` + weights.

    Args:
        model: a `VAE` or `AE` from `build_vae` or `build_ae`.
        path: a folder (created if needed).

    Returns:
        The folder as a `pathlib.Path`.

    Raises:
        ValueError: for a model not made by a builder (its architecture is unknown).

    #### Examples

    ```python
    import cs109b_bayes as cb
    cb.vae.save(vae, "build/vae_lab10")
    same = cb.vae.load("build/vae_lab10")
    ```
    """
    if getattr(model, "architecture", None) is None:
        raise ValueError("save needs a model made by cb.vae.build_vae or cb.vae.build_ae")
    folder = pathlib.Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "architecture.json").write_text(json.dumps(model.architecture, indent=1), encoding="utf-8")
    model.save_weights(str(folder / "weights.h5"))
    return folder


def load(path):
    """Rebuild a model saved by `save` and restore its weights.

    Args:
        path: the folder given to `save`.

    Returns:
        The `VAE` or `AE`.

    Raises:
        FileNotFoundError: if the folder lacks `architecture.json` or `weights.h5`.

    #### Examples

    ```python
    import cs109b_bayes as cb
    vae = cb.vae.load("build/vae_lab10")
    ```
    """
    folder = pathlib.Path(path)
    for name in ("architecture.json", "weights.h5"):
        if not (folder / name).exists():
            raise FileNotFoundError(f"{folder / name} is missing; was the model saved with cb.vae.save?")
    architecture = json.loads((folder / "architecture.json").read_text(encoding="utf-8"))
    kind = architecture.pop("kind")
    model = build_vae(**architecture) if kind == "vae" else build_ae(**architecture)
    model.load_weights(str(folder / "weights.h5"))
    return model
