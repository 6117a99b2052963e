"""The terms of the VAE objective: KL to the prior, Gaussian log-densities, decoder log-likelihoods.

Per example, in nats,

    ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z)),   p(z) = N(0, I),
    q(z | x) = N(z_mean, diag(exp(z_log_var))),

with the KL either in closed form (`analytic_kl`) or estimated from samples of q
(`sampled_kl`). Every function sums over its last axis (latent dimensions or pixels)
and keeps the leading ones.

#### Examples

```python
import numpy as np, cs109b_bayes as cb
cb.vae.analytic_kl(np.zeros((3, 2), "float32"), np.zeros((3, 2), "float32"))  # [0, 0, 0]
```

#### References

[1]: Kingma, D. P. and Welling, M. Auto-Encoding Variational Bayes. ICLR 2014.
     https://arxiv.org/abs/1312.6114
"""

import math

import tensorflow as tf

__all__ = [
    "LOG_2PI",
    "analytic_kl",
    "bernoulli_log_likelihood",
    "gaussian_log_likelihood",
    "log_normal",
    "log_standard_normal",
    "sampled_kl",
]

LOG_2PI = math.log(2.0 * math.pi)


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


def log_normal(z, mean, log_var):
    """log N(z; mean, diag(exp(log_var))), summed over the last axis.

    Args:
        z: tensor [..., d].
        mean: tensor broadcastable to `z`.
        log_var: tensor broadcastable to `z`, the log-variances.

    Returns:
        A tensor [...].

    #### Examples

    ```python
    log_q = cb.vae.losses.log_normal(z, z_mean, z_log_var)     # log q(z | x)
    ```
    """
    return -0.5 * tf.reduce_sum(LOG_2PI + log_var + tf.square(z - mean) * tf.exp(-log_var), axis=-1)


def log_standard_normal(z):
    """log N(z; 0, I), summed over the last axis: the prior's log-density.

    Args:
        z: tensor [..., d].

    Returns:
        A tensor [...].

    #### Examples

    ```python
    log_p = cb.vae.losses.log_standard_normal(z)               # log p(z)
    ```
    """
    return -0.5 * tf.reduce_sum(LOG_2PI + tf.square(z), axis=-1)


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
    return tf.reduce_mean(log_normal(z, z_mean, z_log_var) - log_standard_normal(z), axis=0)


def bernoulli_log_likelihood(x, logits):
    """log Bernoulli(x; sigmoid(logits)) summed over pixels: minus the summed binary cross-entropy.

    Computed stably as sum_i x_i * logit_i - softplus(logit_i); the sigmoid is applied
    once, inside.

    Args:
        x: pixels in {0, 1} (or [0, 1]), tensor [..., pixels].
        logits: decoder outputs, broadcastable to `x`.

    Returns:
        A tensor [...] in nats.

    #### Examples

    ```python
    log_px = cb.vae.losses.bernoulli_log_likelihood(x_test, vae.decoder(z))
    ```
    """
    return tf.reduce_sum(x * logits - tf.nn.softplus(logits), axis=-1)


def gaussian_log_likelihood(x, mean, scale):
    """sum_i log N(x_i; mean_i, scale^2): a Gaussian decoder with one shared standard deviation.

    Args:
        x: pixels, tensor [..., pixels].
        mean: decoder outputs, broadcastable to `x`.
        scale: positive scalar tensor, the standard deviation.

    Returns:
        A tensor [...] in nats.

    #### Examples

    ```python
    log_px = cb.vae.losses.gaussian_log_likelihood(x_grey, vae.decoder(z), vae.scale())
    ```
    """
    standardized = (x - mean) / scale
    return tf.reduce_sum(-0.5 * tf.square(standardized) - tf.math.log(scale) - 0.5 * LOG_2PI, axis=-1)
