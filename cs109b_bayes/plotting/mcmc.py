"""Trace and histogram grids for MCMC draws."""

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_trace"]


def plot_trace(result, *, names=None, truth=None, reference=None, bins=40, per_chain=True):
    """One row per parameter element: histogram (left) and trace (right).

    Args:
        result: an `MCMCResult`.
        names: parameters to show, in order. Default value: all, in `result.samples` order.
        truth: dict name -> value drawn as a dashed vertical line. Default value: None.
        reference: dict name -> callable pdf(x) overlaid on the histogram (for
            instance the exact posterior). Default value: None.
        bins: histogram bins. Default value: 40.
        per_chain: colour histograms and traces by chain. Default value: True.

    Returns:
        The matplotlib `Figure`.

    #### Examples

    ```python
    fig = cb.plotting.plot_trace(result, truth=ads.truth)
    ```
    """
    names = list(names or result.samples)
    rows = []
    for name in names:
        draws = result.samples[name]
        flat = draws.reshape(draws.shape[0], draws.shape[1], -1)
        for k in range(flat.shape[-1]):
            label = name if flat.shape[-1] == 1 else f"{name}[{k}]"
            rows.append((name, label, flat[:, :, k]))
    fig, axes = plt.subplots(len(rows), 2, figsize=(10, 2.0 * len(rows) + 0.6), squeeze=False)
    for (name, label, draws), (hist_ax, trace_ax) in zip(rows, axes):
        chains = draws if per_chain else draws.reshape(1, -1)
        for c, chain in enumerate(chains):
            colour = f"C{c % 10}"
            hist_ax.hist(chain, bins=bins, density=True, alpha=0.5, color=colour,
                         label=f"chain {c}" if per_chain and len(chains) > 1 else None)
            trace_ax.plot(chain, lw=0.5, color=colour)
        if reference and name in reference:
            grid = np.linspace(draws.min(), draws.max(), 200)
            hist_ax.plot(grid, reference[name](grid), "k-", lw=1.5, label="exact")
        if truth and name in truth:
            for ax in (hist_ax, trace_ax):
                (ax.axvline if ax is hist_ax else ax.axhline)(truth[name], color="k", ls="--", lw=1)
        hist_ax.set_xlabel(label)
        hist_ax.set_ylabel("density")
        trace_ax.set_xlabel("draw (after burn-in)")
        trace_ax.set_ylabel(label)
        if hist_ax.get_legend_handles_labels()[0]:
            hist_ax.legend(fontsize=7)
    fig.suptitle(f"{result.kernel}: {result.num_chains} chain(s) x {result.num_draws} draws, "
                 f"acceptance {result.acceptance_rate:.2f}")
    fig.tight_layout()
    return fig
