"""Figures for Bayesian neural networks sampled by MCMC: one prediction curve per chain."""

import matplotlib.pyplot as plt
import numpy as np

from cs109b_bayes import seeds

__all__ = ["plot_chain_predictions"]


def plot_chain_predictions(predictive, *, x=None, y=None, ax=None, title=None, num_draws=0, seed=0):
    """The posterior-mean prediction of each chain (and optionally a few single draws) with the data.

    Chains that agree here have converged *in function space*, even when their
    weights sit in different (symmetric) modes; chains that disagree have not.

    Args:
        predictive: a `Predictive` with `x` and `draws` [chain, draw, m] (from
            `cb.models.posterior_predictive`, or `cb.bnn.predict`, whose passes are one chain).
        x, y: the training data, drawn as points. Default value: None.
        ax: axes to draw on. Default value: a new figure.
        title: axes title. Default value: None.
        num_draws: single posterior draws per chain drawn as thin lines. Default value: 0.
        seed: seed choosing those draws. Default value: 0.

    Returns:
        The matplotlib `Figure`.

    Raises:
        ValueError: the predictive has no `draws` or no `x`.

    #### Examples

    ```python
    band = cb.models.posterior_predictive(result, grid, noise_sd=0.1)
    cb.plotting.plot_chain_predictions(band, x=gap.x, y=gap.y, title="4 chains")
    ```
    """
    if getattr(predictive, "draws", None) is None or getattr(predictive, "x", None) is None:
        raise ValueError("predictive must keep its draws and inputs x (cb.models.posterior_predictive does)")
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(7, 4.5))
    draws = np.asarray(predictive.draws)
    rng = seeds.numpy_rng(seeds.check_seed(seed), "plot_chain_predictions")
    for c, chain in enumerate(draws):
        colour = f"C{c % 10}"
        for k in rng.choice(chain.shape[0], size=min(num_draws, chain.shape[0]), replace=False):
            ax.plot(predictive.x, chain[k], color=colour, lw=0.5, alpha=0.3)
        ax.plot(predictive.x, chain.mean(axis=0), color=colour, lw=2, label=f"chain {c} mean")
    if x is not None and y is not None:
        ax.scatter(x, y, s=14, color="k", zorder=3, label="data")
    ax.set_xlabel("x")
    ax.set_ylabel("network output f(x)")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    return fig
