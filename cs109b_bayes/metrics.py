"""Held-out scores of a predictive distribution: NLL, RMSE, interval coverage and width, calibration.

Every function takes a `Predictive` (`cb.predictive.Predictive`: a mean and a total sd
per point) and the held-out targets `y`, and treats the predictive at each point as the
Gaussian `N(mean, total_sd^2)` (for a mixture over draws or ensemble members this is the
moment-matched Gaussian; `mixture_nll` scores the mixture itself). `score` puts one
method's numbers in a `PredictiveScore` row and `format_table` prints the rows.

    NLL      = mean_i -log N(y_i | mean_i, total_sd_i^2)         (lower is better)
    RMSE     = sqrt(mean_i (y_i - mean_i)^2)
    coverage = share of y_i inside mean_i -+ z total_sd_i, z = Phi^-1((1 + level) / 2)
    width    = mean_i 2 z total_sd_i

A calibrated predictive covers a share `level` of the points at every level: its
calibration curve (observed coverage against the nominal level) is the diagonal.

#### Examples

```python
import cs109b_bayes as cb
pred = cb.bnn.predict(model, data.x_test, num_samples=100, seed=1)
row = cb.metrics.score("flipout", pred, data.y_test, seconds=12.3)
print(cb.metrics.format_table([row]))
levels, observed = cb.metrics.calibration_curve(pred, data.y_test)
```
"""

import dataclasses

import numpy as np
from scipy import special, stats

from cs109b_bayes.predictive import Predictive

__all__ = ["PredictiveScore", "calibration_curve", "format_table", "gaussian_nll", "interval_coverage",
           "mixture_nll", "rmse", "score"]

_LEVELS = tuple(np.round(np.arange(0.05, 0.96, 0.05), 2))


def _checked(predictive, y):
    if not isinstance(predictive, Predictive):
        raise TypeError(f"predictive must be a cb.predictive.Predictive, got {type(predictive).__name__}")
    y = np.asarray(y, dtype=float)
    if y.shape != predictive.mean.shape:
        raise ValueError(f"y must have the shape of the predictive mean {predictive.mean.shape}, got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y must be finite")
    return y


def _checked_level(level):
    if isinstance(level, bool) or not np.isscalar(level) or not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    return float(level)


def gaussian_nll(predictive, y):
    """Mean negative log-density of `y` under `N(mean, total_sd^2)`, point by point.

    Args:
        predictive: a `Predictive` with `total_sd > 0` everywhere.
        y: held-out targets, shape [m].

    Returns:
        A float (nats per point).

    Raises:
        TypeError: if `predictive` is not a `Predictive`.
        ValueError: for `y` of another shape or not finite, or a zero `total_sd`.

    #### Examples

    ```python
    cb.metrics.gaussian_nll(pred, data.y_test)      # e.g. -0.42
    ```
    """
    y = _checked(predictive, y)
    if np.any(predictive.total_sd <= 0):
        raise ValueError("gaussian_nll needs total_sd > 0 at every point (a point prediction has no density)")
    return float(-np.mean(stats.norm.logpdf(y, predictive.mean, predictive.total_sd)))


def mixture_nll(locs, scales, y):
    """Mean negative log-density of `y` under the equal-weight mixture `mean_t N(locs_t, scales_t^2)`.

    Args:
        locs: component means, shape [draw, m] or [chain, draw, m] (as `Predictive.draws`).
        scales: component sds (> 0), broadcastable to `locs` (a number for a known noise sd).
        y: held-out targets, shape [m].

    Returns:
        A float (nats per point); never above the NLL of any single component, on average.

    Raises:
        ValueError: for `locs` of another rank, `y` that does not match, or non-positive scales.

    #### Examples

    ```python
    cb.metrics.mixture_nll(pred.draws, 0.1, data.y_test)      # MCMC draws with a known noise sd
    ```
    """
    locs = np.asarray(locs, dtype=float)
    if locs.ndim == 3:
        locs = locs.reshape(-1, locs.shape[-1])
    if locs.ndim != 2 or locs.shape[0] == 0:
        raise ValueError(f"locs must have shape [draw, m] or [chain, draw, m], got {np.shape(locs)}")
    scales = np.asarray(scales, dtype=float)
    if scales.ndim == 3:
        scales = scales.reshape(-1, scales.shape[-1])
    scales = np.broadcast_to(scales, locs.shape)
    if np.any(scales <= 0):
        raise ValueError("scales must be > 0")
    y = np.asarray(y, dtype=float)
    if y.shape != locs.shape[1:]:
        raise ValueError(f"y must have shape {locs.shape[1:]}, got {y.shape}")
    log_densities = stats.norm.logpdf(y[None, :], locs, scales)
    return float(-np.mean(special.logsumexp(log_densities, axis=0) - np.log(locs.shape[0])))


def rmse(predictive, y):
    """Root mean squared error of the predictive mean.

    Args:
        predictive: a `Predictive`.
        y: held-out targets, shape [m].

    Returns:
        A float.

    Raises:
        TypeError: if `predictive` is not a `Predictive`.
        ValueError: for `y` of another shape or not finite.

    #### Examples

    ```python
    cb.metrics.rmse(pred, data.y_test)
    ```
    """
    y = _checked(predictive, y)
    return float(np.sqrt(np.mean((y - predictive.mean) ** 2)))


def interval_coverage(predictive, y, *, level=0.9):
    """Share of `y` inside the central `level` interval of `N(mean, total_sd^2)`, and its mean width.

    Args:
        predictive: a `Predictive`.
        y: held-out targets, shape [m].
        level: the interval's nominal probability, in (0, 1). Default value: 0.9.

    Returns:
        A pair `(coverage, width)`: the observed share in [0, 1] and the mean interval width.

    Raises:
        TypeError: if `predictive` is not a `Predictive`.
        ValueError: for `y` of another shape or not finite, or a level outside (0, 1).

    #### Examples

    ```python
    coverage, width = cb.metrics.interval_coverage(pred, data.y_test, level=0.9)
    ```
    """
    y = _checked(predictive, y)
    half = stats.norm.ppf(0.5 + _checked_level(level) / 2) * predictive.total_sd
    inside = np.abs(y - predictive.mean) <= half
    return float(np.mean(inside)), float(np.mean(2 * half))


def calibration_curve(predictive, y, *, levels=_LEVELS):
    """Observed coverage of the central intervals at each nominal level (the diagonal if calibrated).

    Args:
        predictive: a `Predictive`.
        y: held-out targets, shape [m].
        levels: nominal levels, each in (0, 1). Default value: 0.05, 0.10, ..., 0.95.

    Returns:
        A pair of arrays `(levels, observed)`, each of shape [len(levels)].

    Raises:
        TypeError: if `predictive` is not a `Predictive`.
        ValueError: for `y` of another shape or not finite, or a level outside (0, 1).

    #### Examples

    ```python
    levels, observed = cb.metrics.calibration_curve(pred, data.y_test)
    plt.plot(levels, observed); plt.plot([0, 1], [0, 1], "k:")
    ```
    """
    levels = np.asarray([_checked_level(level) for level in np.atleast_1d(levels)])
    observed = np.array([interval_coverage(predictive, y, level=level)[0] for level in levels])
    return levels, observed


@dataclasses.dataclass(frozen=True)
class PredictiveScore:
    """One method's held-out scores: a row of the results table.

    Attributes:
        method: the method's name.
        nll: mean Gaussian negative log-likelihood (`gaussian_nll`).
        rmse: root mean squared error of the mean.
        coverage: observed coverage of the central `level` interval.
        width: mean width of that interval.
        seconds: wall time of fitting or sampling (and predicting).
        level: the interval's nominal level.
    """

    method: str
    nll: float
    rmse: float
    coverage: float
    width: float
    seconds: float
    level: float = 0.9


def score(method, predictive, y, *, seconds, level=0.9):
    """Every table number of one method on held-out `y`, as a `PredictiveScore`.

    Args:
        method: the method's name (a string).
        predictive: its `Predictive` at the held-out inputs.
        y: held-out targets, shape [m].
        seconds: its wall time (>= 0).
        level: the interval level. Default value: 0.9.

    Returns:
        A `PredictiveScore`.

    Raises:
        TypeError: if `method` is not a string or `predictive` not a `Predictive`.
        ValueError: as `gaussian_nll` and `interval_coverage`, or for negative `seconds`.

    #### Examples

    ```python
    rows = [cb.metrics.score(name, pred, data.y_test, seconds=t) for name, (pred, t) in results.items()]
    ```
    """
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, got {type(method).__name__}")
    if isinstance(seconds, bool) or not np.isscalar(seconds) or not float(seconds) >= 0:
        raise ValueError(f"seconds must be a number >= 0, got {seconds!r}")
    coverage, width = interval_coverage(predictive, y, level=level)
    return PredictiveScore(method, gaussian_nll(predictive, y), rmse(predictive, y), coverage, width,
                           float(seconds), float(level))


def format_table(scores, *, title=None):
    """The scores as a fixed-width text table, one row per method, in the given order.

    Args:
        scores: a list of `PredictiveScore`s (same level).
        title: a line printed above the table, or None. Default value: None.

    Returns:
        A string.

    Raises:
        ValueError: for an empty list or rows at different levels.
        TypeError: for an element that is not a `PredictiveScore`.

    #### Examples

    ```python
    print(cb.metrics.format_table(rows, title="gap data, 200 held-out points"))
    ```
    """
    scores = list(scores)
    if not scores:
        raise ValueError("scores must hold at least one PredictiveScore")
    for row in scores:
        if not isinstance(row, PredictiveScore):
            raise TypeError(f"scores must be PredictiveScore rows, got {type(row).__name__}")
    if len({row.level for row in scores}) != 1:
        raise ValueError("every row must use the same interval level")
    percent = f"{100 * scores[0].level:g}%"
    width = max(12, *(len(row.method) for row in scores))
    lines = [title] if title else []
    lines.append(f"{'method':<{width}} {'NLL':>8} {'RMSE':>8} {percent + ' cover':>10} {'width':>8} {'seconds':>8}")
    for row in scores:
        lines.append(f"{row.method:<{width}} {row.nll:8.3f} {row.rmse:8.3f} {row.coverage:10.2f} {row.width:8.3f} "
                     f"{row.seconds:8.1f}")
    return "\n".join(lines)
