"""The Kullback-Leibler divergence of Gaussians: closed form and Monte Carlo."""

import dataclasses

import numpy as np

from cs109b_bayes import seeds
from cs109b_bayes.variational.checks import check_count, positive

__all__ = ["MonteCarloEstimate", "kl_gaussian", "kl_monte_carlo"]


def kl_gaussian(q_mean, q_sd, p_mean, p_sd):
    """Closed-form `KL(N(q_mean, q_sd^2) || N(p_mean, p_sd^2))`, elementwise.

    `KL = log(p_sd / q_sd) + (q_sd^2 + (q_mean - p_mean)^2) / (2 p_sd^2) - 1/2`.
    It is zero only when the two Gaussians are equal, and it is not symmetric:
    `kl_gaussian(a, b, c, d) != kl_gaussian(c, d, a, b)` in general, so it is
    not a distance. Sum the result for a mean-field (diagonal) Gaussian.

    Args:
        q_mean, q_sd: mean and sd of q (broadcastable arrays).
        p_mean, p_sd: mean and sd of p.

    Returns:
        A numpy array (broadcast shape) of KL values in nats.

    Raises:
        ValueError: if a standard deviation is not positive and finite.

    #### Examples

    ```python
    import cs109b_bayes as cb
    cb.variational.kl_gaussian(0.0, 1.0, 1.0, 2.0)   # 0.4431...
    cb.variational.kl_gaussian(1.0, 2.0, 0.0, 1.0)   # 1.3069... (not symmetric)
    ```
    """
    q_sd, p_sd = positive("q_sd", q_sd), positive("p_sd", p_sd)
    q_mean, p_mean = np.asarray(q_mean, dtype=float), np.asarray(p_mean, dtype=float)
    return np.log(p_sd / q_sd) + (q_sd**2 + (q_mean - p_mean) ** 2) / (2 * p_sd**2) - 0.5


@dataclasses.dataclass(frozen=True)
class MonteCarloEstimate:
    """A Monte Carlo estimate with its standard error.

    Attributes:
        value: the estimate (sample mean).
        stderr: its Monte Carlo standard error, `sd / sqrt(num_samples)`.
        num_samples: draws used.
        seed: the seed of the draws.
    """

    value: float
    stderr: float
    num_samples: int
    seed: int


def kl_monte_carlo(q_mean, q_sd, p_mean, p_sd, *, num_samples, seed):
    """Monte Carlo `KL(q || p)` of two diagonal Gaussians: `mean_s [log q(w_s) - log p(w_s)]`, `w_s ~ q`.

    Estimates the sum over elements of `kl_gaussian(q_mean, q_sd, p_mean, p_sd)`;
    use it where no closed form exists, or to check one. The draws come from
    `cb.seeds.numpy_rng(seed, "kl_monte_carlo")` (no global random state).

    Args:
        q_mean, q_sd, p_mean, p_sd: as in `kl_gaussian` (broadcastable).
        num_samples: draws from q (>= 2).
        seed: int seed of the draws.

    Returns:
        A `MonteCarloEstimate`.

    Raises:
        ValueError: for a non-positive sd or `num_samples` < 2.
        TypeError: for a seed that is not an int.

    #### Examples

    ```python
    est = cb.variational.kl_monte_carlo(0.0, 1.0, 1.0, 2.0, num_samples=10_000, seed=0)
    est.value, est.stderr      # about 0.443 +- 0.006
    ```
    """
    num_samples = check_count("num_samples", num_samples, 2)
    seed = seeds.check_seed(seed)
    q_sd, p_sd = positive("q_sd", q_sd), positive("p_sd", p_sd)
    q_mean, p_mean = np.asarray(q_mean, dtype=float), np.asarray(p_mean, dtype=float)
    shape = np.broadcast_shapes(q_mean.shape, q_sd.shape, p_mean.shape, p_sd.shape)
    eps = seeds.numpy_rng(seed, "kl_monte_carlo").normal(size=(num_samples,) + shape)
    w = q_mean + q_sd * eps
    log_q = -0.5 * eps**2 - np.log(q_sd)
    log_p = -0.5 * ((w - p_mean) / p_sd) ** 2 - np.log(p_sd)
    terms = (log_q - log_p).reshape(num_samples, -1).sum(axis=1)
    return MonteCarloEstimate(float(terms.mean()), float(terms.std(ddof=1) / np.sqrt(num_samples)),
                              num_samples, seed)
