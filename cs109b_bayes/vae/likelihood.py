"""The decoder likelihood p(x | z) shared by the `VAE` and `AE` models: Bernoulli or Gaussian.

#### Examples

```python
vae = cb.vae.build_vae(likelihood="gaussian")       # learned scale, starts at 1
log_px = vae.log_likelihood(x_test, vae(x_test))    # [n], in nats
```
"""

import tensorflow as tf

from cs109b_bayes.vae.checks import positive_scale
from cs109b_bayes.vae.losses import bernoulli_log_likelihood, gaussian_log_likelihood

__all__ = ["DecoderLikelihood", "MIN_SCALE"]

MIN_SCALE = 1e-3  # floor of a learned Gaussian decoder scale


class DecoderLikelihood:
    """Mixin of `VAE` and `AE`: the decoder's likelihood p(x | z), Bernoulli or Gaussian.

    A subclass (a `tf_keras.Model`) calls `self._init_likelihood(encoder, decoder,
    likelihood, decoder_scale)` in its `__init__`; this records the networks, their sizes
    (`input_dim`, `latent_dim`), `likelihood`, `decoder_scale` (a float or None),
    `epochs_trained` (0, counted by `cb.vae.train`) and `architecture` (None, set by the
    builders), and adds the weight `decoder_log_scale` for a learned Gaussian scale. The
    subclass provides `encode(x)`.

    #### Examples

    ```python
    vae = cb.vae.build_vae(likelihood="gaussian", decoder_scale=np.float32(0.1))
    vae.log_likelihood(x, vae(x))          # [n], sum_i log N(x_i; mean_i, 0.1^2)
    ```
    """

    def _init_likelihood(self, encoder, decoder, likelihood, decoder_scale):
        if likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', got {likelihood!r}")
        if decoder_scale is not None:
            if likelihood == "bernoulli":
                raise ValueError("decoder_scale only applies to likelihood='gaussian'")
            decoder_scale = positive_scale("decoder_scale", decoder_scale)
        self.encoder = encoder
        self.decoder = decoder
        self.input_dim = int(encoder.inputs[0].shape[-1])
        self.latent_dim = int(encoder.outputs[0].shape[-1])
        self.likelihood = likelihood
        self.decoder_scale = decoder_scale
        self.epochs_trained = 0  # counted by `cb.vae.train`, which continues the shuffling from it
        self.architecture = None  # set by build_vae / build_ae, used by save / load
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
            return tf.constant(self.decoder_scale, tf.float32)
        return tf.maximum(tf.exp(self.decoder_log_scale), MIN_SCALE)

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
            return bernoulli_log_likelihood(x, location)
        return gaussian_log_likelihood(x, location, self.scale())

    def decode_means(self, z):
        """The decoder's mean image for latent codes z: sigmoid(logits) once, or the Gaussian mean.

        #### Examples

        ```python
        images = vae.decode_means(np.zeros([16, 2], "float32"))   # [16, 784] in [0, 1]
        ```
        """
        location = self.decoder(tf.convert_to_tensor(z, tf.float32), training=False)
        return tf.sigmoid(location) if self.likelihood == "bernoulli" else location

    def reconstruct(self, x):
        """Mean reconstructions of x (pixel probabilities for a Bernoulli decoder), decoding the code of x.

        For a VAE the code is z_mean(x); for an AE, z(x).

        #### Examples

        ```python
        recon = vae.reconstruct(x_test[:10])     # [10, 784]
        ```
        """
        code = self.encode(tf.convert_to_tensor(x, tf.float32))
        return self.decode_means(code[0] if isinstance(code, (tuple, list)) else code)
