"""Acquisition scores of pool-based active learning, and the acquisition step itself (numpy).

A classifier with Monte Carlo uncertainty (MC dropout passes, ensemble members) gives class
probabilities `probs[T, n, C]`: T draws, n pool points, C classes. From them:

    predictive entropy  H[mean_t p_t]                         (total uncertainty)
    BALD                H[mean_t p_t] - mean_t H[p_t]         (mutual information between the
                                                               label and the weights: epistemic)

with natural logarithms (nats). BALD is high where the draws are each confident but disagree,
and low where every draw is unsure in the same way (noise that more labels will not remove).
For regression, the score is a variance of a `cb.predictive.Predictive`.
"""

import numbers

import numpy as np

from cs109b_bayes import seeds
from cs109b_bayes.predictive import COMPONENTS, Predictive

__all__ = ["acquire", "bald", "entropy", "predictive_entropy", "predictive_variance", "random_scores"]

_TINY = 1e-12   # probabilities are clipped below here before the log: 0 log 0 counts as 0


def _check_probs(probs):
    probs = np.asarray(probs, dtype=float)
    if probs.ndim != 3 or min(probs.shape) < 1:
        raise ValueError(f"probs must have shape [T, n, C] (draws, points, classes), got {probs.shape}")
    if not np.all(np.isfinite(probs)) or np.any(probs < 0) or np.any(probs > 1):
        raise ValueError("probs must be finite probabilities in [0, 1]")
    if not np.allclose(probs.sum(axis=-1), 1.0, atol=1e-4):
        raise ValueError("probs must sum to 1 over the last (class) axis")
    return probs


def entropy(probs):
    """Entropy `-sum_c p_c log p_c` (nats) over the last axis, with `0 log 0 = 0`.

    Args:
        probs: probabilities, any shape [..., C], each row summing to 1.

    Returns:
        Array of shape [...], in [0, log C].

    Raises:
        ValueError: if `probs` is not finite or not in [0, 1].

    #### Examples

    ```python
    cb.active.entropy([0.5, 0.5])      # log 2 = 0.693...
    cb.active.entropy([1.0, 0.0])      # 0.0
    ```
    """
    probs = np.asarray(probs, dtype=float)
    if not np.all(np.isfinite(probs)) or np.any(probs < 0) or np.any(probs > 1):
        raise ValueError("probs must be finite probabilities in [0, 1]")
    return np.maximum(-np.sum(probs * np.log(np.clip(probs, _TINY, 1.0)), axis=-1), 0.0)


def predictive_entropy(probs):
    """Entropy of the mean predictive `H[mean_t p_t(y | x)]`, one score per pool point.

    The total uncertainty about the label: high both where the model's draws disagree and
    where each draw is itself unsure.

    Args:
        probs: Monte Carlo class probabilities, shape [T, n, C].

    Returns:
        Array [n] of scores in [0, log C] (nats).

    Raises:
        ValueError: if `probs` is not [T, n, C] probabilities summing to 1 over classes.

    #### Examples

    ```python
    probs = classifier.predict_probs(pool_x, num_samples=20, seed=0)   # [20, n, 10]
    scores = cb.active.predictive_entropy(probs)
    ```
    """
    return entropy(_check_probs(probs).mean(axis=0))


def bald(probs):
    """BALD: the mutual information `I(y; w | x) = H[mean_t p_t] - mean_t H[p_t]`, per pool point.

    Bayesian Active Learning by Disagreement (Houlsby et al. 2011; Gal et al. 2017): the
    expected information a label brings about the weights. Identical draws give 0 however
    unsure they are; confident draws that disagree give up to log C. Never negative (up to
    rounding, which is clipped).

    Args:
        probs: Monte Carlo class probabilities, shape [T, n, C].

    Returns:
        Array [n] of scores in [0, log C] (nats).

    Raises:
        ValueError: if `probs` is not [T, n, C] probabilities summing to 1 over classes.

    #### Examples

    ```python
    cb.active.bald([[[1.0, 0.0]], [[0.0, 1.0]]])     # [log 2]: two sure draws that disagree
    ```

    #### References

    [1] Houlsby, Huszar, Ghahramani, Lengyel. Bayesian active learning for classification and
        preference learning. https://arxiv.org/abs/1112.5745
    [2] Gal, Islam, Ghahramani. Deep Bayesian active learning with image data. ICML 2017.
        https://arxiv.org/abs/1703.02910
    """
    probs = _check_probs(probs)
    return np.maximum(entropy(probs.mean(axis=0)) - entropy(probs).mean(axis=0), 0.0)


def random_scores(num_points, *, seed):
    """Uniform random scores: acquiring their top b is sampling b pool points without replacement.

    Args:
        num_points: n, the pool size.
        seed: int seed (`cb.seeds.numpy_rng(seed, "active/random")`); no global state is used.

    Returns:
        Array [n] of independent U(0, 1) scores.

    Raises:
        ValueError: for a negative `num_points`.
        TypeError: for a non-int `num_points` or `seed`.

    #### Examples

    ```python
    cb.active.random_scores(5, seed=0)    # the same five numbers on every call
    ```
    """
    if isinstance(num_points, bool) or not isinstance(num_points, numbers.Integral):
        raise TypeError(f"num_points must be an int, got {num_points!r}")
    if num_points < 0:
        raise ValueError(f"num_points must be >= 0, got {num_points}")
    return seeds.numpy_rng(seeds.check_seed(seed), "active/random").uniform(size=int(num_points))


def predictive_variance(predictive, *, component="epistemic"):
    """The regression acquisition score: a predictive variance per pool point.

    `"epistemic"` (`var_t mu_t(x)`, the spread of the mean function over draws) is the
    default: it is the part a new label at x can shrink. The aleatoric part is the noise
    the model expects in y itself; acquiring by `"total"` also chases noisy regions, where a
    label teaches the model little.

    Args:
        predictive: a `cb.predictive.Predictive` (from `cb.bnn.predict`) on the pool points.
        component: `"epistemic"`, `"total"` or `"aleatoric"`. Default value: `"epistemic"`.

    Returns:
        Array [n] of variances.

    Raises:
        TypeError: if `predictive` is not a `Predictive`.
        ValueError: for an unknown component.

    #### Examples

    ```python
    pred = cb.bnn.predict(model, pool_x, num_samples=50, seed=0)
    scores = cb.active.predictive_variance(pred)          # epistemic variance
    ```
    """
    if not isinstance(predictive, Predictive):
        raise TypeError(f"predictive must be a cb.predictive.Predictive, got {type(predictive).__name__}")
    if component not in COMPONENTS:
        raise ValueError(f"component must be one of {COMPONENTS}, got {component!r}")
    return np.square(predictive.sd_of(component))


def acquire(scores, labelled, *, batch_size):
    """The acquisition step: indices of the `batch_size` highest scores among unlabelled points.

    Ties are broken by the lower index (a stable sort), so the choice is deterministic.

    Args:
        scores: array [n] of scores of every pool point (higher = more wanted).
        labelled: boolean mask [n] of points already labelled, or an iterable of their indices.
        batch_size: b, how many to acquire.

    Returns:
        int array [b] of pool indices, highest score first, none of them labelled.

    Raises:
        ValueError: if `scores` is not a finite [n] array, a labelled index is out of range,
            or fewer than `batch_size` points are unlabelled.
        TypeError: if `batch_size` is not an int.

    #### Examples

    ```python
    cb.active.acquire([0.1, 0.9, 0.5, 0.7], [1], batch_size=2)    # array([3, 2])
    ```
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 1 or not np.all(np.isfinite(scores)):
        raise ValueError(f"scores must be a finite array of shape [n], got shape {scores.shape}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"batch_size must be an int, got {batch_size!r}")
    mask = np.asarray(labelled)
    if mask.dtype != bool or mask.shape != scores.shape:
        indices = np.asarray(list(labelled) if not isinstance(labelled, np.ndarray) else labelled, dtype=int)
        if np.any((indices < 0) | (indices >= scores.size)):
            raise ValueError(f"labelled indices must be in [0, {scores.size}), got {indices.tolist()}")
        mask = np.zeros(scores.size, dtype=bool)
        mask[indices] = True
    available = np.flatnonzero(~mask)
    if not 1 <= batch_size <= available.size:
        raise ValueError(f"batch_size must be in [1, {available.size}] (the unlabelled points), got {batch_size}")
    order = np.argsort(-scores[available], kind="stable")
    return available[order[:batch_size]]
