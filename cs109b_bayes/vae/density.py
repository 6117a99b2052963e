"""A VAE as a density model: per-example importance-weighted bounds on log p(x) for several k.

For one image x, K draws z_j ~ q(z | x) give the log importance weights

    log w_j = log p(x | z_j) + log p(z_j) - log q(z_j | x),

and L_k(x) = E[log (1/k) sum_{j <= k} w_j] is a lower bound on log p(x) that rises with k and
reaches log p(x) as k -> infinity (Burda et al.); L_1 is the ELBO. `log_likelihood_bounds`
draws K = max(k) weights per image once and estimates every L_k from them: the K draws are cut
into K // k disjoint groups of k, and the estimate is the average over the groups of
log (1/k) sum_{j in group} w_j (an unbiased estimate of L_k that uses every draw). The encoder
runs once per image (a Flipout encoder once per draw), the decoder once per draw, in compiled
chunks of at most `max_rows` draws, so k = 1000 on 1000 digits fits in memory.

#### Examples

```python
import cs109b_bayes as cb
density = cb.vae.log_likelihood_bounds(vae, x_test, num_samples=(1, 10, 100), seed=0)
print(density)                       # mean bound per k, with its standard error
scores = density.bound(100)          # [n], per-image log p(x) >= ... (k = 100)
```

#### References

[1]: Burda, Y., Grosse, R. and Salakhutdinov, R. Importance Weighted Autoencoders.
     https://arxiv.org/abs/1509.00519
"""

import dataclasses
import math

import numpy as np
import tensorflow as tf

from cs109b_bayes import seeds
from cs109b_bayes.vae.checks import check_image_batch, positive_int
from cs109b_bayes.vae.evaluation import importance_log_weights, log_mean_exp
from cs109b_bayes.vae.losses import log_normal, log_standard_normal
from cs109b_bayes.vae.models import VAE
from cs109b_bayes.vae.networks import has_flipout

__all__ = ["DensityEstimate", "log_importance_weights", "log_likelihood_bounds"]


@dataclasses.dataclass(frozen=True)
class DensityEstimate:
    """Per-example importance-weighted lower bounds on log p(x), in nats, for several k.

    Attributes:
        num_samples: the k values, increasing, a tuple of ints.
        bounds: float64 array [len(num_samples), n]: row i estimates L_k(x) for k =
            num_samples[i], per image (the average over the K // k disjoint groups of k draws).
        elbo: float64 array [n], the per-image ELBO estimate mean_j log w_j over all K draws
            (the same quantity as the k = 1 row when k = 1 is requested).
        max_num_samples: K, the draws per image.
        seed: the seed of the draws.

    #### Examples

    ```python
    density = cb.vae.log_likelihood_bounds(vae, x_test, num_samples=(1, 10, 100), seed=0)
    density.bound(100).shape          # (n,)
    print(density)                    # the table of mean bounds per k
    ```
    """

    num_samples: tuple
    bounds: np.ndarray
    elbo: np.ndarray
    max_num_samples: int
    seed: int

    @classmethod
    def from_log_weights(cls, log_weights, *, num_samples, seed):
        """The bounds for each k in `num_samples` from log weights [K, n] (see `log_importance_weights`).

        Args:
            log_weights: float array [K, n], K draws per image.
            num_samples: the k values, positive ints up to K.
            seed: the int seed the weights were drawn with (recorded).

        Returns:
            A `DensityEstimate` (K = log_weights.shape[0]).

        Raises:
            ValueError: for log weights that are not [K, n] with K, n >= 1, non-finite values
                (NaN), or a k that is not in [1, K].

        #### Examples

        ```python
        log_w = cb.vae.log_importance_weights(vae, x_test, num_samples=1_000, seed=0)
        density = cb.vae.DensityEstimate.from_log_weights(log_w, num_samples=(1, 10, 100, 1000), seed=0)
        ```
        """
        log_weights = np.asarray(log_weights, dtype=np.float64)
        if log_weights.ndim != 2 or 0 in log_weights.shape:
            raise ValueError(f"log_weights must be [K, n] with K, n >= 1, got shape {log_weights.shape}")
        if np.any(np.isnan(log_weights)):
            raise ValueError("log_weights contain NaN")
        if isinstance(num_samples, (int, np.integer)):
            num_samples = (num_samples,)
        ks = tuple(sorted({positive_int("each k in num_samples", k) for k in num_samples}))
        if not ks or ks[-1] > log_weights.shape[0]:
            raise ValueError(f"num_samples must hold at least one k, each at most K = {log_weights.shape[0]}; "
                             f"got {list(ks)}")
        bounds = np.stack([_group_bounds(log_weights, k) for k in ks])
        return cls(num_samples=ks, bounds=bounds, elbo=log_weights.mean(axis=0), max_num_samples=log_weights.shape[0],
                   seed=seeds.check_seed(seed))

    @property
    def num_examples(self):
        """n, the images scored."""
        return int(self.bounds.shape[1])

    def bound(self, k=None):
        """The per-image bound for k draws (the largest k by default), a float64 array [n].

        Args:
            k: one of `num_samples`, or None for the largest. Default value: None.

        Returns:
            A float64 array [n].

        Raises:
            ValueError: for a k that was not computed.

        #### Examples

        ```python
        scores = density.bound(100)          # per-image log p(x) >= scores
        ```
        """
        k = self.num_samples[-1] if k is None else k
        if k not in self.num_samples:
            raise ValueError(f"k={k!r} was not computed; available: {list(self.num_samples)}")
        return self.bounds[self.num_samples.index(k)]

    def mean(self, k=None):
        """The bound averaged over the images (largest k by default), a float.

        #### Examples

        ```python
        density.mean(1), density.mean(1000)     # the ELBO and the k = 1000 bound, nats per image
        ```
        """
        return float(np.mean(self.bound(k)))

    def standard_error(self, k=None):
        """Standard error of `mean(k)` over the images (sd / sqrt(n)), a float (NaN for one image).

        #### Examples

        ```python
        print(f"{density.mean(100):.1f} +- {density.standard_error(100):.1f}")
        ```
        """
        values = self.bound(k)
        return float(np.std(values, ddof=1) / math.sqrt(values.size)) if values.size > 1 else float("nan")

    def __str__(self):
        rows = [f"{'k':>6s} {'mean bound on log p(x)':>24s} {'gain over k=' + str(self.num_samples[0]):>16s}"]
        first = self.mean(self.num_samples[0])
        for k in self.num_samples:
            rows.append(f"{k:6d} {self.mean(k):14.2f} +- {self.standard_error(k):5.2f} {self.mean(k) - first:16.2f}")
        rows.append(f"({self.num_examples} images, K = {self.max_num_samples} draws each, seed {self.seed})")
        return "\n".join(rows)


def _chunk_log_weights(model, x, seed, num_draws):
    """log w [num_draws, n] for images x with the encoder run once (a deterministic encoder)."""
    z_mean, z_log_var = model.encode(x)
    eps = tf.random.stateless_normal(tf.concat([[num_draws], tf.shape(z_mean)], 0), seed=seed)
    z = z_mean + tf.exp(0.5 * z_log_var) * eps                     # [k, n, latent]
    location = model.decoder(tf.reshape(z, [-1, model.latent_dim]), training=False)
    location = tf.reshape(location, tf.concat([[num_draws], tf.shape(x)], 0))
    return model.log_likelihood(x, location) + log_standard_normal(z) - log_normal(z, z_mean, z_log_var)


def _flipout_log_weights(model, x, seed, num_draws):
    log_px_z, log_ratio = importance_log_weights(model, x, seed, num_draws)
    return log_px_z - log_ratio


def _group_bounds(log_weights, k):
    """Average over the K // k disjoint groups of k draws of log-mean-exp within the group: [n]."""
    groups = log_weights.shape[0] // k
    grouped = log_weights[:groups * k].reshape(groups, k, -1)
    return log_mean_exp(grouped, axis=1).mean(axis=0)


def log_likelihood_bounds(model, images, *, num_samples=(1, 10, 100, 1000), max_rows=16_384, seed=0):
    """Per-image importance-weighted lower bounds L_k(x) <= log p(x) of a `VAE`, for each k.

    K = max(num_samples) draws z_j ~ q(z | x) per image give log weights
    log w_j = log p(x | z_j) + log p(z_j) - log q(z_j | x); L_k is estimated by averaging
    log (1/k) sum w over the K // k disjoint groups of k draws (so every k uses all K draws).
    L_1 is the ELBO, L_k rises with k towards log p(x) (Burda et al.). The draws are
    stateless: chunk c of the draws of image batch b uses a seed folded from (`seed`, b, c),
    so the same seed and `max_rows` give the same numbers. Works for Bernoulli and Gaussian
    decoders (any `input_dim`).

    Args:
        model: a `VAE`.
        images: float array [n, input_dim] (see `prepare_images`).
        num_samples: the k values, positive ints. Default value: (1, 10, 100, 1000).
        max_rows: draws decoded per compiled call (memory): images per call are
            max(1, max_rows // K), draws per call min(K, max_rows). Default value: 16,384.
        seed: int seed of the draws. Default value: 0.

    Returns:
        A `DensityEstimate`.

    Raises:
        TypeError: for a model that is not a `VAE`, or a seed that is not an int.
        ValueError: for an empty or non-positive `num_samples`, a bad `max_rows`, or images of
            the wrong shape.

    #### Examples

    ```python
    import cs109b_bayes as cb
    density = cb.vae.log_likelihood_bounds(vae, x_test[:200], num_samples=(1, 10, 100), seed=0)
    density.mean(100) >= density.mean(1)           # True up to Monte Carlo error
    ```

    #### References

    [1]: Burda, Grosse and Salakhutdinov. https://arxiv.org/abs/1509.00519
    """
    if isinstance(num_samples, (int, np.integer)):
        num_samples = (num_samples,)
    ks = tuple(sorted({positive_int("each k in num_samples", k) for k in num_samples}))
    if not ks:
        raise ValueError("num_samples must hold at least one k")
    log_weights = log_importance_weights(model, images, num_samples=ks[-1], max_rows=max_rows, seed=seed)
    return DensityEstimate.from_log_weights(log_weights, num_samples=ks, seed=seed)


def log_importance_weights(model, images, *, num_samples, max_rows=16_384, seed=0):
    """The log importance weights log w_j = log p(x, z_j) - log q(z_j | x) of k draws per image, [k, n].

    The draws are the ones `log_likelihood_bounds` uses (same seed and `max_rows`, k = max(num_samples)):
    chunk c of the draws of image batch b is seeded by (`seed`, b, c), stateless.

    Args:
        model: a `VAE`.
        images: float array [n, input_dim] (see `prepare_images`).
        num_samples: k, draws per image.
        max_rows: draws decoded per compiled call. Default value: 16,384.
        seed: int seed of the draws. Default value: 0.

    Returns:
        A float64 numpy array [k, n].

    Raises:
        TypeError: for a model that is not a `VAE`, or a seed that is not an int.
        ValueError: for a non-positive `num_samples` or `max_rows`, or images of the wrong shape.

    #### Examples

    ```python
    log_w = cb.vae.log_importance_weights(vae, x_test[:100], num_samples=1_000, seed=0)   # [1000, 100]
    bound = cb.vae.log_mean_exp(log_w)                    # [100], the k = 1000 bound per image
    ```
    """
    if not isinstance(model, VAE):
        raise TypeError(f"a density estimate needs a VAE (with q(z | x)), got {type(model).__name__}")
    total = positive_int("num_samples", num_samples)
    max_rows = positive_int("max_rows", max_rows)
    seed = seeds.check_seed(seed)
    x = check_image_batch(images, model.input_dim)
    if len(x) == 0:
        raise ValueError("images must hold at least one image")
    draws_per_call = min(total, max_rows)
    images_per_call = max(1, max_rows // total)
    body = _flipout_log_weights if has_flipout(model.encoder) else _chunk_log_weights
    step = tf.function(lambda xb, s, k: body(model, xb, s, k), jit_compile=body is _chunk_log_weights,
                       reduce_retracing=True)
    base = tf.constant(seeds.stateless_seed(seed, "vae density"))
    log_weights = np.empty((total, len(x)))
    for b, start in enumerate(range(0, len(x), images_per_call)):
        batch = tf.constant(x[start:start + images_per_call])
        batch_seed = tf.random.experimental.stateless_fold_in(base, b)
        for c, first in enumerate(range(0, total, draws_per_call)):
            count = min(draws_per_call, total - first)
            chunk_seed = tf.random.experimental.stateless_fold_in(batch_seed, c)
            log_weights[first:first + count, start:start + len(batch)] = step(batch, chunk_seed, count).numpy()
    return log_weights
