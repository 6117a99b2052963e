"""How the variance of a gradient estimator falls with the number of samples, measured."""

import typing

import numpy as np

from cs109b_bayes import seeds
from cs109b_bayes.checks import check_count

__all__ = ["VarianceCurve", "variance_by_num_samples"]


class VarianceCurve(typing.NamedTuple):
    """Variance of a gradient estimator against the number of samples.

    Fields: `num_samples` [K]; `mean` and `variance` [K, D] of the estimate over repeats; `slope` [D],
    of log(variance) on log(num_samples) (-1 for independent draws).
    """

    num_samples: np.ndarray
    mean: np.ndarray
    variance: np.ndarray
    slope: np.ndarray


def variance_by_num_samples(estimator, num_samples, *, num_repeats, seed):
    """Measures how the variance of `estimator(S, seed)` falls with the number of samples S.

    For each S, the estimator runs `num_repeats` times with independent seeds derived from `seed`.

    Args:
        estimator: callable `(num_samples, seed) -> array [D]` (or a number).
        num_samples: increasing sample sizes, at least two (ints >= 1).
        num_repeats, seed: repeats per sample size (int >= 2); int seed (`cs109b_bayes.seeds`).

    Returns:
        A `VarianceCurve`.

    Raises:
        ValueError: fewer than two sizes, a bad size, or `num_repeats < 2` (TypeError: bad seed).

    #### Examples

    ```python
    grad_f = lambda z: 2.0 - z
    run = lambda s, seed: cb.variational.reparameterization_gradient(grad_f, 0.0, 0.0, num_samples=s, seed=seed)
    cb.variational.variance_by_num_samples(run, [1, 10, 100], num_repeats=200, seed=0).slope  # ~ [-1, -1]
    ```
    """
    sizes = [check_count("num_samples", int(s) if isinstance(s, np.integer) else s) for s in num_samples]
    if len(sizes) < 2 or len(set(sizes)) != len(sizes):
        raise ValueError(f"num_samples needs at least two different sizes, got {list(num_samples)!r}")
    num_repeats = check_count("num_repeats", num_repeats, 2)
    means, variances = [], []
    for size in sizes:
        repeat_seeds = seeds.sub_seeds(seeds.check_seed(seed), f"variance/{size}", num_repeats)
        runs = np.array([np.atleast_1d(np.asarray(estimator(size, int(s)), dtype=float)) for s in repeat_seeds])
        means.append(runs.mean(axis=0))
        variances.append(runs.var(axis=0, ddof=1))
    variances = np.array(variances)
    slope = np.polyfit(np.log(sizes), np.log(variances), 1)[0]
    return VarianceCurve(np.array(sizes), np.array(means), variances, np.atleast_1d(slope))
