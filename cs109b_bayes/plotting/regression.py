"""Regression figures: bootstrap lines and predictive bands."""

import matplotlib.pyplot as plt
import numpy as np

from cs109b_bayes.predictive import COMPONENTS, Predictive

__all__ = ["plot_bootstrap_lines", "plot_predictive_band"]


def plot_bootstrap_lines(x, y, betas, *, ols=None, ax=None, xlabel="x", ylabel="y"):
    """The data with one fitted line per bootstrap resample (and the OLS line).

    Args:
        x, y: the data.
        betas: array [num_resamples, 2] of (intercept, slope).
        ols: (intercept, slope) drawn in black. Default value: None.
        ax: axes to draw on. Default value: a new figure.
        xlabel, ylabel: axis labels.

    Returns:
        The matplotlib `Figure`.

    #### Examples

    ```python
    fig = cb.plotting.plot_bootstrap_lines(ads.x, ads.y, betas, xlabel="TV", ylabel="sales")
    ```
    """
    betas = np.asarray(betas)
    if betas.ndim != 2 or betas.shape[1] != 2:
        raise ValueError(f"betas must have shape [num_resamples, 2], got {betas.shape}")
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(7, 4.5))
    grid = np.linspace(np.min(x), np.max(x), 100)
    ax.scatter(x, y, s=10, color="C0", alpha=0.6, label="data")
    for b0, b1 in betas:
        ax.plot(grid, b0 + b1 * grid, color="C1", alpha=0.08, lw=1)
    ax.plot([], [], color="C1", label=f"{len(betas)} bootstrap fits")
    if ols is not None:
        ax.plot(grid, ols[0] + ols[1] * grid, "k-", lw=2, label="OLS on all data")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return fig


def _bands(mean, sd, num_sd):
    """(mean, dict label -> sd) from arrays, or from a `Predictive` and component names."""
    if isinstance(mean, Predictive):
        predictive = mean
        components = ("total",) if sd is None else (sd,) if isinstance(sd, str) else tuple(sd)
        if not components or not all(isinstance(c, str) for c in components):
            raise TypeError("with a Predictive, sd must be None, a component name or a tuple of names "
                            f"from {COMPONENTS}, got {sd!r}")
        if components == ("total",):
            return predictive.mean, {f"mean +- {num_sd:g} sd": predictive.total_sd}
        return predictive.mean, {f"{c} sd": predictive.sd_of(c) for c in components}
    if sd is None:
        raise TypeError("sd is required when mean is an array (or pass a cb.models.Predictive as mean)")
    mean = np.asarray(mean, dtype=float)
    bands = dict(sd) if isinstance(sd, dict) else {f"mean +- {num_sd:g} sd": sd}
    for band_label, band_sd in bands.items():
        try:
            bands[band_label] = np.broadcast_to(np.asarray(band_sd, dtype=float), mean.shape)
        except ValueError as error:
            raise ValueError(f"sd {band_label!r} of shape {np.shape(band_sd)} does not fit the mean's shape "
                             f"{mean.shape}") from error
    return mean, bands


def plot_predictive_band(x_grid, mean, sd=None, *, x=None, y=None, ax=None, label="posterior predictive",
                         num_sd=2.0, title=None):
    """A predictive mean with a band of +- `num_sd` standard deviations, and the data.

    Takes either a `Predictive` (from `cb.models.posterior_predictive` or
    `cb.bnn.predict`) or the arrays of a mean and an sd.

    Args:
        x_grid: where the prediction was made, shape [m].
        mean: a `Predictive`, or the predictive mean, shape [m].
        sd: with a `Predictive`: None (its total sd), or a component name or tuple of
            names from `"total"`, `"aleatoric"`, `"epistemic"`, one band each. With an
            array mean: the sd, shape [m], or a dict label -> sd to stack several bands
            (e.g. aleatoric and total). Default value: None.
        x, y: the training data, drawn as points. Default value: None.
        ax: axes to draw on. Default value: a new figure.
        label: legend label of the mean. Default value: "posterior predictive".
        num_sd: band half-width in sds. Default value: 2.
        title: axes title. Default value: None.

    Returns:
        The matplotlib `Figure`.

    Raises:
        TypeError: an array mean without an sd, or a `Predictive` with an sd that is not
            a component name.
        ValueError: an unknown component, or an sd that does not broadcast to the mean's shape.

    #### Examples

    ```python
    pred = cb.bnn.predict(model, grid, num_samples=200, seed=1)
    fig = cb.plotting.plot_predictive_band(grid, pred, ("total", "aleatoric"), x=het.x, y=het.y)
    fig = cb.plotting.plot_predictive_band(grid, mean, sd, x=gap.x, y=gap.y)     # arrays
    ```
    """
    mean, bands = _bands(mean, sd, num_sd)
    x_grid = np.asarray(x_grid)
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(7, 4.5))
    for k, (band_label, band_sd) in enumerate(sorted(bands.items(), key=lambda kv: -np.mean(kv[1]))):
        band_sd = np.asarray(band_sd)
        ax.fill_between(x_grid, mean - num_sd * band_sd, mean + num_sd * band_sd,
                        color=f"C{k + 1}", alpha=0.3, label=band_label)
    ax.plot(x_grid, mean, "C0-", lw=2, label=label)
    if x is not None and y is not None:
        ax.scatter(x, y, s=14, color="k", zorder=3, label="data")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return fig
