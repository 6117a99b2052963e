"""Keras layers of the bnn regressors: Gaussian hidden units and always-on dropout.

Both draw their noise from `cs109b_bayes.noise`: stateless inside a
`noise.stateless_noise` block (as in `cb.bnn.predict` and `cb.bnn.fit`), TF's stateful
random ops outside one (a plain `layer(x)` call, which then depends on TF's global seed
and on what ran before).
"""

import numpy as np
import tensorflow as tf
import tf_keras

from cs109b_bayes import noise
from cs109b_bayes.bnn.inputs import check_count

__all__ = ["MIN_SCALE", "AlwaysDropout", "GaussianHiddenUnits"]

MIN_SCALE = 1e-3
"""Smallest sd of the regressors' Normal outputs and of the Gaussian hidden units."""


class GaussianHiddenUnits(tf_keras.layers.Layer):
    """A layer of Gaussian hidden units: `h = act(m(x) + s(x) * eps)`, eps ~ N(0, 1) per unit per example.

    The layer computes `2 * units` pre-activations with a deterministic dense
    map, reads them as the mean `m(x)` and the softplus-transformed sd `s(x)`
    of `q(h | x)`, samples one `eps` per unit and example (the
    reparameterization trick, so gradients reach `m` and `s`), and adds
    `kl_weight * mean_batch sum_units KL(N(m, s^2) || N(0, 1))` to `self.losses`.
    It samples at training and at prediction time.

    Args:
        units: number of hidden units.
        activation: applied after sampling. Default value: `"relu"`.
        kl_weight: weight of the KL term. The KL is per example and averaged over the
            batch, like a Keras loss, so 1.0 gives the negative ELBO per example of the
            latent-variable model `p(y | x) = int p(y | h) q(h | x) dh`; do not divide it by
            the number of training examples (that is for a global weight KL). Default
            value: 1.0.
        seed: int op seed of the stateful noise of plain calls outside a
            `cs109b_bayes.noise.stateless_noise` block (TF's global seed still applies);
            inside one (as in `cb.bnn.predict` / `fit`) the noise is stateless, seeded by
            the block. Default value: None.
        initializer_seed: int seed of the Glorot initialiser of the dense map. Default value: None.
        **kwargs: `tf_keras.layers.Layer` arguments (`name`, ...).

    Raises:
        ValueError: for `units` < 1 or a negative or non-finite `kl_weight`.

    #### Examples

    ```python
    import cs109b_bayes as cb, tensorflow as tf
    layer = cb.bnn.GaussianHiddenUnits(16, kl_weight=0.01, initializer_seed=0)
    h = layer(tf.zeros([4, 3]))     # shape [4, 16], different every call
    ```

    #### References

    [1] Kingma, Welling. Auto-encoding variational Bayes. https://arxiv.org/abs/1312.6114
    """

    def __init__(self, units, *, activation="relu", kl_weight=1.0, seed=None, initializer_seed=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_count("units", units)
        if isinstance(kl_weight, bool) or not np.isfinite(kl_weight) or kl_weight < 0:
            raise ValueError(f"kl_weight must be a finite number >= 0, got {kl_weight!r}")
        self.kl_weight = float(kl_weight)
        self.activation = tf_keras.activations.get(activation)
        self.seed = seed
        self.initializer_seed = initializer_seed
        self.moments = tf_keras.layers.Dense(
            2 * self.units, kernel_initializer=tf_keras.initializers.GlorotUniform(seed=initializer_seed))

    def call(self, inputs):
        params = self.moments(inputs)
        loc = params[..., : self.units]
        scale = MIN_SCALE + tf.math.softplus(params[..., self.units:] - 2.0)
        noise_seed = noise.next_noise_seed()
        if noise_seed is None:
            eps = tf.random.normal(tf.shape(loc), dtype=loc.dtype, seed=self.seed)
        else:
            eps = tf.random.stateless_normal(tf.shape(loc), seed=noise_seed, dtype=loc.dtype)
        kl = 0.5 * (tf.square(loc) + tf.square(scale) - 1.0) - tf.math.log(scale)
        self.add_loss(self.kl_weight * tf.reduce_mean(tf.reduce_sum(kl, axis=-1)))
        return self.activation(loc + scale * eps)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, kl_weight=self.kl_weight, seed=self.seed,
                      initializer_seed=self.initializer_seed,
                      activation=tf_keras.activations.serialize(self.activation))
        return config


class AlwaysDropout(tf_keras.layers.Layer):
    """Dropout that stays on at prediction time (MC dropout).

    Each call zeroes every input with probability `rate` and scales the rest by
    `1 / (1 - rate)`, in training and at prediction time alike.

    Args:
        rate: the drop probability, in (0, 1).
        **kwargs: `tf_keras.layers.Layer` arguments (`name`, ...).

    Raises:
        ValueError: `rate` is not in (0, 1).

    #### Examples

    ```python
    layer = AlwaysDropout(0.1)
    h = layer(tf.ones([2, 8]))     # a new mask on every call
    ```

    #### References

    [1] Gal, Ghahramani. Dropout as a Bayesian approximation. ICML 2016.
        https://arxiv.org/abs/1506.02142
    """

    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not 0.0 < rate < 1.0:
            raise ValueError(f"rate must be in (0, 1), got {rate!r}")
        self.rate = float(rate)

    def call(self, inputs):
        seed = noise.next_noise_seed()
        if seed is None:
            return tf.nn.dropout(inputs, rate=self.rate)
        return tf.nn.experimental.stateless_dropout(inputs, rate=self.rate, seed=seed)

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate)
        return config
