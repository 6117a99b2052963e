"""Regression figures: bootstrap lines and predictive bands."""

import matplotlib.pyplot as plt
import numpy as np

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


def plot_predictive_band(x_grid, mean, sd, *, x=None, y=None, ax=None, label="posterior predictive",
                         num_sd=2.0, title=None):
    """A predictive mean with a band of +- `num_sd` standard deviations, and the data.

    Args:
        x_grid: where the prediction was made, shape [m].
        mean: predictive mean, shape [m].
        sd: predictive standard deviation, shape [m] (or a dict label -> sd to
            stack several bands, e.g. aleatoric and total).
        x, y: the training data, drawn as points. Default value: None.
        ax: axes to draw on. Default value: a new figure.
        label: legend label of the mean. Default value: "posterior predictive".
        num_sd: band half-width in sds. Default value: 2.
        title: axes title. Default value: None.

    Returns:
        The matplotlib `Figure`.

    #### Examples

    ```python
    fig = cb.plotting.plot_predictive_band(grid, mean, sd, x=gap.x, y=gap.y)
    ```
    """
    x_grid, mean = np.asarray(x_grid), np.asarray(mean)
    bands = sd if isinstance(sd, dict) else {f"mean +- {num_sd:g} sd": sd}
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
