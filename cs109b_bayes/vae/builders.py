"""`build_vae` and `build_ae`: the lecture's dense VAE and AE in one call, recorded for `save` / `load`.

#### Examples

```python
import cs109b_bayes as cb
vae = cb.vae.build_vae(latent_dim=2, seed=0)
ae = cb.vae.build_ae(latent_dim=2, seed=0)
bvae = cb.vae.build_vae(flipout_encoder=True, num_train_examples=4000, seed=0)
```
"""

import tensorflow as tf

from cs109b_bayes import seeds
from cs109b_bayes.vae.checks import positive_int
from cs109b_bayes.vae.models import AE, VAE
from cs109b_bayes.vae.networks import build_decoder, build_encoder

__all__ = ["build_ae", "build_vae"]


def build_vae(*, input_dim=784, latent_dim=2, encoder_units=(128, 32), decoder_units=(32, 128),
              likelihood="bernoulli", decoder_scale=None, kl="analytic", num_samples=1,
              flipout_encoder=False, num_train_examples=None, seed=0):
    """Build a `VAE` from a dense encoder and decoder (the lecture's architecture by default).

    Args:
        input_dim: pixels per image. Default value: 784.
        latent_dim: size of z. Default value: 2.
        encoder_units: encoder hidden sizes. Default value: (128, 32).
        decoder_units: decoder hidden sizes. Default value: (32, 128).
        likelihood: "bernoulli" or "gaussian". Default value: "bernoulli".
        decoder_scale: fixed Gaussian scale (any real number > 0, e.g. `np.float32(0.1)`),
            or None to learn it. Default value: None.
        kl: "analytic" or "sampled" (from the L samples). Default value: "analytic".
        num_samples: L. Default value: 1.
        flipout_encoder: a Bayesian (Flipout) encoder, deterministic decoder. Default
            value: False.
        num_train_examples: N, needed with a Flipout encoder: its weight KL is scaled
            by 1 / N so the batch loss is the per-example negative ELBO. Default value: None.
        seed: int; seeds the encoder's and the decoder's weights (independent sub-seeds)
            and the training noise. Default value: 0.

    Returns:
        A `VAE`, built (its weights exist), with `architecture` recorded for `save`.

    Raises:
        ValueError: for bad sizes or options, or a Flipout encoder without a
            positive `num_train_examples`.
        TypeError: for a `decoder_scale` that is not a real number, or a seed that is not an int.

    #### Examples

    ```python
    import cs109b_bayes as cb
    vae = cb.vae.build_vae(latent_dim=2, seed=0)
    bvae = cb.vae.build_vae(flipout_encoder=True, num_train_examples=len(x_train), seed=0)
    ```
    """
    seed = seeds.check_seed(seed)
    kl_weight = 1.0
    if flipout_encoder:
        num_train_examples = positive_int("num_train_examples", num_train_examples)
        kl_weight = 1.0 / num_train_examples
    encoder = build_encoder(input_dim=input_dim, hidden_units=encoder_units, latent_dim=latent_dim,
                            flipout=flipout_encoder, kl_weight=kl_weight, seed=seed)
    decoder = build_decoder(latent_dim=latent_dim, hidden_units=decoder_units, output_dim=input_dim, seed=seed)
    model = VAE(encoder, decoder, likelihood=likelihood, decoder_scale=decoder_scale, kl=kl,
                num_samples=num_samples, seed=seed)
    model(tf.zeros([1, input_dim]))
    model.architecture = dict(kind="vae", input_dim=model.input_dim, latent_dim=model.latent_dim,
                              encoder_units=[int(u) for u in encoder_units],
                              decoder_units=[int(u) for u in decoder_units],
                              likelihood=likelihood, decoder_scale=model.decoder_scale, kl=kl,
                              num_samples=model.num_samples, flipout_encoder=bool(flipout_encoder),
                              num_train_examples=num_train_examples if flipout_encoder else None, seed=seed)
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
        decoder_scale: fixed Gaussian scale (any real number > 0), or None to learn it.
            Default value: None.
        seed: int; seeds the weights. Default value: 0.

    Returns:
        An `AE`, built, with `architecture` recorded for `save`.

    Raises:
        ValueError: for bad sizes or options.
        TypeError: for a `decoder_scale` that is not a real number, or a seed that is not an int.

    #### Examples

    ```python
    import cs109b_bayes as cb
    ae = cb.vae.build_ae(latent_dim=2, seed=0)
    ```
    """
    seed = seeds.check_seed(seed)
    encoder = build_encoder(input_dim=input_dim, hidden_units=encoder_units, latent_dim=latent_dim,
                            variational=False, seed=seed)
    decoder = build_decoder(latent_dim=latent_dim, hidden_units=decoder_units, output_dim=input_dim, seed=seed)
    model = AE(encoder, decoder, likelihood=likelihood, decoder_scale=decoder_scale)
    model(tf.zeros([1, input_dim]))
    model.architecture = dict(kind="ae", input_dim=model.input_dim, latent_dim=model.latent_dim,
                              encoder_units=[int(u) for u in encoder_units],
                              decoder_units=[int(u) for u in decoder_units],
                              likelihood=likelihood, decoder_scale=model.decoder_scale, seed=seed)
    return model
