"""The `VAE` and `AE` tf_keras models: seeded, stateless training noise, shared decoder likelihoods.

Both models decode with a Bernoulli likelihood (binarised pixels, decoder logits) or a
Gaussian one (a fixed or learned shared scale). The VAE's noise (the latent samples, and the
weight draws of a Flipout encoder) is stateless: training step t draws from
`fold_in(stateless_seed(seed, "vae training noise"), t)`, validation batch b of a pass from
`fold_in(stateless_seed(seed, "vae validation noise"), b)`, so the same seed gives the same run
whatever ran before in the process, and no global random state is read or written.

#### Examples

```python
import cs109b_bayes as cb
vae = cb.vae.VAE(cb.vae.build_encoder(), cb.vae.build_decoder(), seed=3)
ae = cb.vae.AE(cb.vae.build_encoder(variational=False), cb.vae.build_decoder())
```

#### References

[1]: Kingma, D. P. and Welling, M. Auto-Encoding Variational Bayes. ICLR 2014.
     https://arxiv.org/abs/1312.6114
"""

import tensorflow as tf
import tf_keras

from cs109b_bayes import noise, seeds
from cs109b_bayes.vae.checks import positive_int
from cs109b_bayes.vae.likelihood import DecoderLikelihood
from cs109b_bayes.vae.losses import analytic_kl, sampled_kl

__all__ = ["AE", "VAE"]


class VAE(DecoderLikelihood, tf_keras.Model):
    """A variational auto-encoder: encoder q(z | x), prior N(0, I), decoder p(x | z).

    `fit` (or `cb.vae.train`) minimises the per-example negative ELBO, averaged over
    the batch: reconstruction = -E_q[log p(x | z)] estimated with `num_samples`
    reparameterised samples of z, plus KL(q(z | x) || p(z)), analytic or estimated
    from the same samples, plus the encoder's own `losses` (the weight KL of a
    Flipout encoder). `train_step` and `test_step` track `loss`, `reconstruction` and
    `kl`. The noise is stateless: training step t uses a seed folded from (`seed`, t);
    validation batch b of each validation pass uses its own seed folded from (`seed`, b),
    the same batches getting the same noise in every pass.

    Args:
        encoder: a model x -> [z_mean, z_log_var] (see `build_encoder`).
        decoder: a model z -> location (see `build_decoder`).
        likelihood: "bernoulli" (binarised pixels, decoder logits) or "gaussian".
            Default value: "bernoulli".
        decoder_scale: the Gaussian decoder's standard deviation, any real number > 0;
            None learns one shared scale. Default value: None.
        kl: "analytic" or "sampled". Default value: "analytic".
        num_samples: L, samples of z per example in the training loss. Default value: 1.
        seed: int seed of the training and validation noise. Default value: 0.

    Raises:
        ValueError: for an unknown likelihood or kl, a non-positive `num_samples`
            or `decoder_scale`, or an encoder without two outputs.
        TypeError: for a `decoder_scale` that is not a real number, or a seed that is not an int.

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
        self.kl = kl
        self.num_samples = positive_int("num_samples", num_samples)
        self.seed = seeds.check_seed(seed)
        self._init_likelihood(encoder, decoder, likelihood, decoder_scale)
        self._training_seed = tf.constant(seeds.stateless_seed(self.seed, "vae training noise"))
        self._validation_seed = tf.constant(seeds.stateless_seed(self.seed, "vae validation noise"))
        self._step = tf.Variable(0, dtype=tf.int32, trainable=False, name="noise_step")
        self._validation_batch = tf.Variable(0, dtype=tf.int32, trainable=False, name="validation_batch")
        self.loss_tracker = tf_keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = tf_keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = tf_keras.metrics.Mean(name="kl")

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

    def loss_terms(self, x, seed, *, training=False):
        """Per-example (reconstruction, kl): -E_q[log p(x|z)] with L samples, and the KL.

        `seed` is split in two: one half seeds the L samples of z, the other the weight
        draws of a Flipout encoder (run inside `cs109b_bayes.noise.stateless_noise`), so
        the result is a function of `x`, the weights and `seed` only.

        Args:
            x: images [n, input_dim].
            seed: a stateless seed, int tensor of shape [2].
            training: passed to the encoder and decoder. Default value: False.

        Returns:
            Two tensors [n], in nats.

        #### Examples

        ```python
        reconstruction, kl = vae.loss_terms(x_test[:8], tf.constant([0, 1], tf.int32))
        ```
        """
        z_seed, weight_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        with noise.stateless_noise(weight_seed):
            z_mean, z_log_var = self.encode(x, training=training)
        eps = tf.random.stateless_normal(tf.concat([[self.num_samples], tf.shape(z_mean)], 0), seed=z_seed)
        z = z_mean + tf.exp(0.5 * z_log_var) * eps
        location = self.decoder(tf.reshape(z, [-1, self.latent_dim]), training=training)
        location = tf.reshape(location, [self.num_samples, -1, self.input_dim])
        reconstruction = -tf.reduce_mean(self.log_likelihood(x, location), axis=0)
        kl = analytic_kl(z_mean, z_log_var) if self.kl == "analytic" else sampled_kl(z, z_mean, z_log_var)
        return reconstruction, kl

    def _update(self, reconstruction, kl):
        loss = tf.reduce_mean(reconstruction + kl)
        if self.losses:
            loss += tf.add_n(self.losses)
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(tf.reduce_mean(reconstruction))
        self.kl_tracker.update_state(tf.reduce_mean(kl))
        return loss

    def train_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        seed = tf.random.experimental.stateless_fold_in(self._training_seed, self._step)
        self._step.assign_add(1)
        with tf.GradientTape() as tape:
            reconstruction, kl = self.loss_terms(x, seed, training=True)
            loss = self._update(reconstruction, kl)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        seed = tf.random.experimental.stateless_fold_in(self._validation_seed, self._validation_batch)
        self._validation_batch.assign_add(1)
        self._update(*self.loss_terms(x, seed))
        return {m.name: m.result() for m in self.metrics}

    def reset_metrics(self):
        """Resets the metrics and restarts the validation noise at batch 0 (Keras calls this per pass)."""
        super().reset_metrics()
        self._validation_batch.assign(0)


class AE(DecoderLikelihood, tf_keras.Model):
    """A plain auto-encoder with the VAE's architecture: z = encoder(x), no prior, no noise.

    The loss is the reconstruction term alone, -log p(x | z) (the binary cross-
    entropy summed over pixels for a Bernoulli decoder), averaged over the batch.
    `train_step` tracks `loss` and `reconstruction`.

    Args:
        encoder: a model x -> z (see `build_encoder(variational=False)`).
        decoder: a model z -> location (see `build_decoder`).
        likelihood: "bernoulli" or "gaussian". Default value: "bernoulli".
        decoder_scale: the Gaussian decoder's standard deviation, any real number > 0;
            None learns it. Default value: None.

    Raises:
        ValueError: for an encoder with more than one output, an unknown likelihood or
            a non-positive `decoder_scale`.
        TypeError: for a `decoder_scale` that is not a real number.

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
        self._init_likelihood(encoder, decoder, likelihood, decoder_scale)
        self.loss_tracker = tf_keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = tf_keras.metrics.Mean(name="reconstruction")

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
        """The decoder output (logits or means) at the code z(x)."""
        return self.decoder(self.encode(x, training=training), training=training)

    def _step_loss(self, x, training):
        loss = -tf.reduce_mean(self.log_likelihood(x, self(x, training=training)))
        self.loss_tracker.update_state(loss)
        self.reconstruction_tracker.update_state(loss)
        return loss

    def train_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            loss = self._step_loss(x, True)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        self._step_loss(x, False)
        return {m.name: m.result() for m in self.metrics}
