"""Held-out scores of a VAE: the ELBO, its two parts, and the importance-weighted bound on log p(x).

For each image, k draws z_j ~ q(z | x) give the log weights

    log w_j = log p(x | z_j) - [log q(z_j | x) - log p(z_j)].

Their mean is the ELBO estimate, split into reconstruction (-mean_j log p(x | z_j)) and KL
(mean_j [log q(z_j | x) - log p(z_j)], estimated from the same draws) so that
ELBO = -(reconstruction + KL) exactly; log (1/k) sum_j w_j is the importance-weighted
bound, above the ELBO (Jensen) and tightening towards log p(x) as k grows (Burda et al.).

#### Examples

```python
import cs109b_bayes as cb
score = cb.vae.evaluate(vae, x_test, num_samples=100, seed=0)
print(score)          # held-out -ELBO ... = reconstruction ... + KL ..., -log p(x) <= ...
```

#### References

[1]: Burda, Y., Grosse, R. and Salakhutdinov, R. Importance Weighted Autoencoders.
     https://arxiv.org/abs/1509.00519
"""

import dataclasses
import math

import numpy as np
import tensorflow as tf

from cs109b_bayes import noise, seeds
from cs109b_bayes.vae.checks import check_image_batch, positive_int
from cs109b_bayes.vae.losses import log_normal, log_standard_normal
from cs109b_bayes.vae.models import VAE
from cs109b_bayes.vae.networks import has_flipout

__all__ = ["HeldOutScore", "evaluate", "importance_log_weights", "log_mean_exp"]


@dataclasses.dataclass(frozen=True)
class HeldOutScore:
    """Held-out scores of a VAE, in nats per image (averages over the images).

    The parts add up: `elbo == -(reconstruction + kl)` (up to float rounding), all three
    estimated from the same k samples of z per image.

    Attributes:
        elbo: the ELBO, E_q[log p(x | z)] - KL(q(z | x) || p(z)).
        log_likelihood: the importance-weighted estimate of log p(x) with k samples,
            log (1/k) sum_j p(x, z_j) / q(z_j | x) (a tighter lower bound as k grows).
        reconstruction: the reconstruction loss -E_q[log p(x | z)] (positive, as in
            `TrainResult.history["reconstruction"]`).
        kl: KL(q(z | x) || p(z)), the Monte Carlo estimate mean_j [log q(z_j | x) - log p(z_j)]
            from the same k samples (unbiased for `analytic_kl`, which can differ from it by
            sampling error).
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
        """-ELBO = reconstruction + kl, the usual 'loss' number (lower is better)."""
        return -self.elbo

    def __str__(self):
        return (f"held-out -ELBO {-self.elbo:.2f} nats = reconstruction {self.reconstruction:.2f} + "
                f"KL {self.kl:.2f} (Monte Carlo KL from the same k={self.num_samples} samples of z); "
                f"-log p(x) <= {-self.log_likelihood:.2f} nats (importance-weighted, k={self.num_samples}); "
                f"{self.num_examples} images")


def log_mean_exp(log_weights, *, axis=0):
    """log (1/k) sum_j exp(log_weights_j) along `axis`, computed stably (shifted by the maximum).

    Args:
        log_weights: float array.
        axis: the axis of the k weights. Default value: 0.

    Returns:
        A float64 numpy array with `axis` removed.

    Raises:
        ValueError: for an empty axis.

    #### Examples

    ```python
    cb.vae.log_mean_exp(np.array([-1000.0, -1000.0]))      # -1000.0 (no underflow)
    ```
    """
    values = np.asarray(log_weights, dtype=np.float64)
    if values.shape[axis] == 0:
        raise ValueError("log_mean_exp needs at least one weight along the axis")
    return np.logaddexp.reduce(values, axis=axis) - math.log(values.shape[axis])


def importance_log_weights(model, x, seed, num_samples):
    """The two parts of the log importance weights of k samples z_j ~ q(z | x), per image.

    log w_j = log p(x | z_j) - log_ratio_j with log_ratio_j = log q(z_j | x) - log p(z_j).
    `seed` is split in two: one half seeds the latent samples, the other the weight
    draws of a Flipout encoder (inside `cs109b_bayes.noise.stateless_noise`; the images are
    tiled k times, so each sample j sees its own encoder weights).

    Args:
        model: a `VAE`.
        x: images, float32 tensor [n, input_dim].
        seed: stateless seed, int tensor of shape [2].
        num_samples: k, a positive Python int.

    Returns:
        `(log_px_z, log_ratio)`: two float32 tensors [k, n].

    #### Examples

    ```python
    log_px_z, log_ratio = cb.vae.evaluation.importance_log_weights(vae, x_test[:10], [0, 1], 50)
    elbo = tf.reduce_mean(log_px_z - log_ratio, axis=0)            # [10]
    ```
    """
    x = tf.convert_to_tensor(x, tf.float32)
    z_seed, weight_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    tiled = tf.tile(x, [num_samples, 1])
    with noise.stateless_noise(weight_seed):
        z_mean, z_log_var = model.encode(tiled)
    z = z_mean + tf.exp(0.5 * z_log_var) * tf.random.stateless_normal(tf.shape(z_mean), seed=z_seed)
    log_px_z = model.log_likelihood(tiled, model.decoder(z, training=False))
    log_ratio = log_normal(z, z_mean, z_log_var) - log_standard_normal(z)
    shape = tf.stack([num_samples, tf.shape(x)[0]])
    return tf.reshape(log_px_z, shape), tf.reshape(log_ratio, shape)


def evaluate(model, images, *, num_samples=100, batch_size=None, seed=0):
    """Held-out ELBO (with its parts) and importance-weighted log p(x) of a `VAE`, in nats per image.

    For each image, k = `num_samples` draws z_j ~ q(z | x) give log weights
    log w_j = log p(x | z_j) + log p(z_j) - log q(z_j | x). The ELBO estimate is their
    mean, reported with its parts `reconstruction` and `kl` from the same draws; the
    importance-weighted bound is log (1/k) sum_j w_j. By Jensen the ELBO is below it, and
    the bound tightens towards log p(x) as k grows (Burda et al.). The draws are stateless
    (batch b uses a seed folded from (`seed`, b)), Flipout encoder weights included.

    Args:
        model: a `VAE`.
        images: float array [n, input_dim] (see `prepare_images`).
        num_samples: k. Default value: 100.
        batch_size: images per compiled call. Default value: about 20,000 / k.
        seed: int seed of the samples. Default value: 0.

    Returns:
        A `HeldOutScore`.

    Raises:
        ValueError: for a non-positive `num_samples` or `batch_size`, images of the wrong shape.
        TypeError: for a model that is not a `VAE`, or a seed that is not an int.

    #### Examples

    ```python
    import cs109b_bayes as cb
    score = cb.vae.evaluate(vae, x_test, num_samples=100, seed=0)
    print(score)            # held-out -ELBO ... nats = reconstruction ... + KL ..., -log p(x) <= ...
    ```

    #### References

    [1]: Burda, Grosse and Salakhutdinov. https://arxiv.org/abs/1509.00519
    """
    if not isinstance(model, VAE):
        raise TypeError(f"evaluate needs a VAE (an AE has no q(z | x)), got {type(model).__name__}")
    k = positive_int("num_samples", num_samples)
    seed = seeds.check_seed(seed)
    x = check_image_batch(images, model.input_dim)
    batch_size = positive_int("batch_size", batch_size or max(1, 20_000 // k))
    step = tf.function(lambda xb, s: importance_log_weights(model, xb, s, k),
                       jit_compile=not has_flipout(model.encoder), reduce_retracing=True)
    base = tf.constant(seeds.stateless_seed(seed, "vae evaluation"))
    totals = np.zeros(3)  # sums over images of: mean log p(x | z), mean log ratio, importance-weighted bound
    for b, start in enumerate(range(0, len(x), batch_size)):
        batch_seed = tf.random.experimental.stateless_fold_in(base, b)
        log_px_z, log_ratio = (part.numpy().astype(np.float64) for part in step(x[start:start + batch_size],
                                                                                batch_seed))
        bound = log_mean_exp(log_px_z - log_ratio, axis=0)
        totals += [log_px_z.mean(axis=0).sum(), log_ratio.mean(axis=0).sum(), bound.sum()]
    log_px_z, kl, log_likelihood = totals / len(x)
    return HeldOutScore(elbo=float(log_px_z - kl), log_likelihood=float(log_likelihood),
                        reconstruction=float(-log_px_z), kl=float(kl), num_samples=k, num_examples=len(x),
                        seed=seed)
