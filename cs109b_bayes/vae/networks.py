"""Dense encoder and decoder networks of a VAE (or AE), optionally with a Bayesian (Flipout) encoder.

Every initial weight is seeded from the builder's `seed` through `cs109b_bayes.seeds`
(one sub-seed per initialiser, purposes "encoder ..." and "decoder ..."), so the same seed
builds the same network whatever ran before, and the encoder and decoder of one seed are
independent.

A Flipout encoder (`flipout=True`) uses `cs109b_bayes.tfp_internals.StatelessDenseFlipout`:
inside `cs109b_bayes.noise.stateless_noise(seed)` (as `VAE.loss_terms` and `evaluate` run
it) its weight draws and random signs are stateless, a function of that seed alone. A plain
call `encoder(x)` outside such a block draws with TensorFlow's stateful ops from per-layer
op seeds (new weights on every call, as a Bayesian encoder should; the sequence depends on
TensorFlow's global seed).

#### Examples

```python
import cs109b_bayes as cb
encoder = cb.vae.build_encoder(latent_dim=2, seed=1)
decoder = cb.vae.build_decoder(latent_dim=2, seed=1)
```

#### References

[1]: Wen, Y. et al. Flipout: Efficient Pseudo-Independent Weight Perturbations on
     Mini-Batches. https://arxiv.org/abs/1803.04386
"""

import warnings

import tensorflow_probability as tfp
import tf_keras

from cs109b_bayes import noise, seeds
from cs109b_bayes.tfp_internals import StatelessDenseFlipout
from cs109b_bayes.vae.checks import positive_int, positive_units

__all__ = ["build_decoder", "build_encoder", "has_flipout"]


def _glorot(seed):
    return tf_keras.initializers.GlorotUniform(seed=seed)


def _posterior_draw(op_seed):
    """A weight draw: stateless inside `noise.stateless_noise`, else stateful from the op seed `op_seed`."""

    def draw(distribution):
        seed = noise.next_noise_seed()
        return distribution.sample(seed=op_seed if seed is None else seed)

    return draw


def _weight_kl(kl_weight):
    def divergence(posterior, prior, _):
        return tfp.distributions.kl_divergence(posterior, prior) * kl_weight

    return divergence


def _flipout_layer(units, activation, name, layer_seeds, kl_weight):
    loc_seed, scale_seed, draw_seed, sign_seed = layer_seeds
    posterior = tfp.layers.default_mean_field_normal_fn(
        loc_initializer=_glorot(loc_seed),
        untransformed_scale_initializer=tf_keras.initializers.RandomNormal(mean=-3.0, stddev=0.1, seed=scale_seed),
    )
    return StatelessDenseFlipout(
        units, activation=activation, kernel_posterior_fn=posterior,
        kernel_posterior_tensor_fn=_posterior_draw(draw_seed), kernel_divergence_fn=_weight_kl(kl_weight),
        bias_posterior_fn=tfp.layers.default_mean_field_normal_fn(
            is_singular=True, loc_initializer=tf_keras.initializers.Zeros()),
        seed=sign_seed, name=name,
    )


def build_encoder(*, input_dim=784, hidden_units=(128, 32), latent_dim=2, activation="relu",
                  variational=True, flipout=False, kl_weight=1.0, seed=0):
    """Dense encoder x -> (z_mean, z_log_var) (or x -> z for a plain auto-encoder).

    The default is the lecture's encoder: 784 -> 128 -> 32 -> (mu, log var) with a
    two-dimensional latent space. With `flipout=True` every layer is a Flipout layer
    (`tfp_internals.StatelessDenseFlipout`): the weights have a mean-field Gaussian
    posterior, each call samples them (pseudo-independently per example), and each
    layer adds `kl_weight * KL(q(w) || N(0, 1))` to the model's `losses`.

    Args:
        input_dim: pixels per image. Default value: 784.
        hidden_units: sizes of the hidden layers. Default value: (128, 32).
        latent_dim: size of z. Default value: 2.
        activation: hidden activation. Default value: "relu".
        variational: two heads (z_mean, z_log_var) for a VAE; False gives one head z
            for an `AE`. Default value: True.
        flipout: Flipout layers (a Bayesian encoder). Default value: False.
        kl_weight: factor on the weight KL of the Flipout layers; use 1 / (number of
            training examples) so the per-example loss stays an ELBO. Default value: 1.0.
        seed: int seed of the initial weights (and of the stateful fallback draws of
            a Flipout encoder called outside `noise.stateless_noise`). Default value: 0.

    Returns:
        A `tf_keras.Model` with outputs `[z_mean, z_log_var]` (variational) or `z`.

    Raises:
        ValueError: for a non-positive `input_dim`, `latent_dim` or hidden size, or
            a negative `kl_weight`.
        TypeError: for a seed that is not an int.

    #### Examples

    ```python
    import cs109b_bayes as cb
    encoder = cb.vae.build_encoder(latent_dim=2, seed=1)
    z_mean, z_log_var = encoder(x_batch)            # x_batch: [n, 784]
    bayes_encoder = cb.vae.build_encoder(flipout=True, kl_weight=1 / 4000, seed=1)
    ```
    """
    input_dim = positive_int("input_dim", input_dim)
    latent_dim = positive_int("latent_dim", latent_dim)
    hidden_units = positive_units("hidden_units", hidden_units)
    seed = seeds.check_seed(seed)
    if not kl_weight >= 0:
        raise ValueError(f"kl_weight must be >= 0, got {kl_weight!r}")
    heads = (("z_mean", "z_log_var") if variational else ("z",))
    layers = [(units, activation, f"hidden_{k}") for k, units in enumerate(hidden_units)]
    layers += [(latent_dim, None, head) for head in heads]
    per_layer = 4 if flipout else 1
    layer_seeds = seeds.sub_seeds(seed, "encoder initializers", per_layer * len(layers))

    def layer(k):
        units, act, name = layers[k]
        own = layer_seeds[per_layer * k:per_layer * (k + 1)]
        if flipout:
            return _flipout_layer(units, act, name, own, kl_weight)
        return tf_keras.layers.Dense(units, activation=act, kernel_initializer=_glorot(own[0]), name=name)

    inputs = tf_keras.Input(shape=(input_dim,), name="x")
    hidden = inputs
    with warnings.catch_warnings():  # TFP's layers still call the deprecated `add_variable`
        warnings.filterwarnings("ignore", message=".*add_variable.* is deprecated")
        for k in range(len(hidden_units)):
            hidden = layer(k)(hidden)
        outputs = [layer(len(hidden_units) + j)(hidden) for j in range(len(heads))]
    return tf_keras.Model(inputs, outputs if variational else outputs[0],
                          name="flipout_encoder" if flipout else "encoder")


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
        seed: int seed of the initial weights. Default value: 1.

    Returns:
        A `tf_keras.Model` mapping [n, latent_dim] to [n, output_dim].

    Raises:
        ValueError: for a non-positive `latent_dim`, `output_dim` or hidden size.
        TypeError: for a seed that is not an int.

    #### Examples

    ```python
    import cs109b_bayes as cb
    decoder = cb.vae.build_decoder(latent_dim=2)
    logits = decoder(tf.zeros([1, 2]))             # [1, 784]
    ```
    """
    latent_dim = positive_int("latent_dim", latent_dim)
    output_dim = positive_int("output_dim", output_dim)
    hidden_units = positive_units("hidden_units", hidden_units)
    layer_seeds = seeds.sub_seeds(seeds.check_seed(seed), "decoder initializers", len(hidden_units) + 1)
    inputs = tf_keras.Input(shape=(latent_dim,), name="z")
    hidden = inputs
    for k, units in enumerate(hidden_units):
        hidden = tf_keras.layers.Dense(units, activation=activation, kernel_initializer=_glorot(layer_seeds[k]),
                                       name=f"hidden_{k}")(hidden)
    outputs = tf_keras.layers.Dense(output_dim, kernel_initializer=_glorot(layer_seeds[-1]), name="location")(hidden)
    return tf_keras.Model(inputs, outputs, name="decoder")


def has_flipout(encoder):
    """True if any layer of `encoder` is a TFP `DenseFlipout` layer (a Bayesian encoder).

    Args:
        encoder: a `tf_keras.Model`.

    Returns:
        A bool.

    #### Examples

    ```python
    cb.vae.networks.has_flipout(cb.vae.build_encoder(flipout=True))   # True
    ```
    """
    return any(isinstance(layer, tfp.layers.DenseFlipout) for layer in encoder.layers)
