"""The evidence lower bound (ELBO) of a mean-field Gaussian q, by Monte Carlo."""

import numpy as np
import tensorflow as tf

from cs109b_bayes import seeds
from cs109b_bayes.variational.checks import check_count, check_params, per_param, positive
from cs109b_bayes.variational.kl import MonteCarloEstimate, kl_gaussian

__all__ = ["checked_log_likelihood", "elbo"]


def checked_log_likelihood(log_likelihood_fn, samples, num_samples):
    """`log_likelihood_fn(**samples)` as a float32 tensor, checked to have shape [num_samples].

    Args:
        log_likelihood_fn: `log_likelihood_fn(**params) -> [S]`.
        samples: dict name -> tensor [S, ...].
        num_samples: S.

    Returns:
        A float32 tensor [S].

    Raises:
        ValueError: the function does not return one value per sample.

    #### Examples

    ```python
    log_lik = checked_log_likelihood(log_likelihood_fn, {"mu": draws}, 100)
    ```
    """
    value = tf.convert_to_tensor(log_likelihood_fn(**samples), dtype=tf.float32)
    if value.shape.rank != 1 or (value.shape[0] is not None and value.shape[0] != num_samples):
        raise ValueError(f"log_likelihood_fn must return one value per sample, shape [{num_samples}], "
                         f"got shape {value.shape}; sum over data points, keep the sample axis")
    return value


def elbo(log_likelihood_fn, mean, sd, *, prior_sd, num_samples, seed, prior_mean=0.0):
    """The ELBO of a mean-field Gaussian q: Monte Carlo `E_q[log p(D | w)]` minus closed-form KL.

    The draws `w = mean + sd * eps` come from `cb.seeds.numpy_rng(seed, "elbo")` (no
    global random state).

    Args:
        log_likelihood_fn: `log_likelihood_fn(**params) -> [S]`, each parameter with a
            leading sample axis (TensorFlow).
        mean: dict name -> mean of q.
        sd: dict name -> sd of q (positive).
        prior_sd: prior sd, a number or dict name -> array.
        num_samples: Monte Carlo draws S (>= 2).
        seed: int seed.
        prior_mean: prior mean, a number or dict. Default value: 0.

    Returns:
        A `MonteCarloEstimate` of the ELBO (its stderr is that of the expected log-likelihood).

    Raises:
        ValueError: for mismatched names, non-positive sds, bad counts or a log-likelihood
            of the wrong shape.
        TypeError: for a seed that is not an int.

    #### Examples

    ```python
    def log_likelihood_fn(mu):             # mu: [S]
        return tf.reduce_sum(tfd.Normal(mu[:, None], 1.0).log_prob(y), axis=-1)
    cb.variational.elbo(log_likelihood_fn, {"mu": 0.1}, {"mu": 0.2}, prior_sd=10.0,
                        num_samples=1000, seed=0)
    ```
    """
    num_samples = check_count("num_samples", num_samples, 2)
    seed = seeds.check_seed(seed)
    mean = check_params("mean", mean)
    sd = per_param("sd", sd, list(mean))
    prior_sd = per_param("prior_sd", prior_sd, list(mean))
    prior_mean = per_param("prior_mean", prior_mean, list(mean))
    rng = seeds.numpy_rng(seed, "elbo")
    samples = {}
    for n in mean:
        draws = mean[n] + positive(f"sd[{n!r}]", sd[n]) * rng.normal(size=(num_samples,) + mean[n].shape)
        samples[n] = tf.constant(draws, tf.float32)
    log_lik = checked_log_likelihood(log_likelihood_fn, samples, num_samples).numpy().astype(float)
    kl = sum(float(np.sum(kl_gaussian(mean[n], sd[n], prior_mean[n], prior_sd[n]))) for n in mean)
    return MonteCarloEstimate(float(log_lik.mean() - kl), float(log_lik.std(ddof=1) / np.sqrt(num_samples)),
                              num_samples, seed)
