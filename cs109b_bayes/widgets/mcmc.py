"""Explorers for the MCMC labs: move a sampler's tuning knob and watch the chain change.

* `proposal_scale_explorer` (lab 02): the proposal scale of random-walk Metropolis ->
  acceptance rate, trace and histogram (with the exact posterior drawn over it when known).

Each is built on `cs109b_bayes.widgets.core.explore`: sliders in Jupyter, one static figure in
headless runs, and `panel.set(...)` to move a control from code (tests do).

#### Examples

```python
import cs109b_bayes as cb
from cs109b_bayes.widgets import mcmc

def log_prob_fn(mu):
    return -0.5 * mu**2
panel = mcmc.proposal_scale_explorer(log_prob_fn, {"mu": 0.0}, seed=0)
panel.set(proposal_scale=5.0)["acceptance_rate"]     # lower than at scale 1
```
"""

import numbers

import numpy as np

from cs109b_bayes.inference.metropolis import metropolis
from cs109b_bayes.widgets.core import explore

__all__ = ["proposal_scale_explorer"]


def proposal_scale_explorer(log_prob_fn, init, *, seed, scale_unit=1.0, scales=(0.05, 10.0, 0.05, 1.0),
                            num_steps=3_000, name=None, reference=None, interactive=None):
    """A slider for the proposal scale of random-walk Metropolis; acceptance, trace and histogram follow.

    Every redraw runs `cb.metropolis` (one chain, 30% burn-in, started exactly at `init`) with
    proposal scale `proposal_scale * scale_unit` and the same seed, so only the scale changes
    between drawings. The figure shows the trace and the histogram of one parameter, with the
    acceptance rate and the bulk ESS in the title, and `reference(grid)` (e.g. the exact
    posterior density) over the histogram when given.

    Args:
        log_prob_fn: `log_prob_fn(**params) -> [num_chains]`, as for `cb.metropolis`.
        init: dict name -> starting value.
        seed: int seed of every run.
        scale_unit: the proposal scale at slider value 1: a float, or dict name -> float (e.g.
            the OLS standard errors). Default value: 1.0.
        scales: the slider `(low, high, step, value)`. Default value: `(0.05, 10.0, 0.05, 1.0)`.
        num_steps: Metropolis steps per drawing, burn-in included. Default value: 3000.
        name: the parameter drawn. Default value: the first name of `init`.
        reference: a density `pdf(grid)` of `name` drawn over the histogram. Default value: None.
        interactive: as for `explore`. Default value: None (widgets unless headless).

    Returns:
        An `Explorer` with the control `proposal_scale`; `panel.set(proposal_scale=s)` returns
        `{"acceptance_rate": float, "ess": float, "proposal_scale": float}`.

    Raises:
        ValueError: if `name` is not a key of `init`, `scales` is malformed, or `num_steps` < 10.
        TypeError: if `log_prob_fn` or `reference` is not callable.

    #### Examples

    ```python
    panel = proposal_scale_explorer(lambda mu: -0.5 * mu**2, {"mu": 0.0}, seed=1)
    panel.set(proposal_scale=0.1)["acceptance_rate"]      # close to 1
    ```
    """
    if not callable(log_prob_fn):
        raise TypeError(f"log_prob_fn must be callable, got {type(log_prob_fn).__name__}")
    if reference is not None and not callable(reference):
        raise TypeError(f"reference must be a callable density, got {type(reference).__name__}")
    if not isinstance(init, dict) or not init:
        raise ValueError(f"init must be a non-empty dict name -> value, got {init!r}")
    name = next(iter(init)) if name is None else name
    if name not in init:
        raise ValueError(f"name {name!r} is not a parameter of init {sorted(init)}")
    if isinstance(num_steps, bool) or not isinstance(num_steps, numbers.Integral) or num_steps < 10:
        raise ValueError(f"num_steps must be an integer >= 10, got {num_steps!r}")
    if not (isinstance(scales, (tuple, list)) and len(scales) == 4 and 0 < scales[0] <= scales[3] <= scales[1]):
        raise ValueError(f"scales must be (low, high, step, value) with 0 < low <= value <= high, got {scales!r}")
    units = scale_unit if isinstance(scale_unit, dict) else dict.fromkeys(init, scale_unit)

    def draw(proposal_scale):
        import matplotlib.pyplot as plt  # noqa: PLC0415

        run = metropolis(log_prob_fn, init, proposal_scale={k: proposal_scale * units[k] for k in init},
                         num_steps=num_steps, seed=seed, init_jitter=0.0)
        draws = np.asarray(run.samples[name])[0]
        ess = float(np.min(np.asarray(run.ess[name])))
        fig, (trace_ax, hist_ax) = plt.subplots(1, 2, figsize=(11, 3.2), gridspec_kw={"width_ratios": [2, 1]})
        trace_ax.plot(draws, lw=0.5)
        trace_ax.set_xlabel("draw (after burn-in)")
        trace_ax.set_ylabel(name)
        hist_ax.hist(draws, bins=40, density=True, color="C1", alpha=0.7, label="draws")
        if reference is not None:
            grid = np.linspace(draws.min(), draws.max(), 200) if np.ptp(draws) > 0 else draws[:1]
            hist_ax.plot(grid, reference(grid), "k", lw=1.5, label="exact")
            hist_ax.legend(fontsize=8)
        hist_ax.set_xlabel(name)
        fig.suptitle(f"proposal scale {proposal_scale:g} x unit: acceptance {run.acceptance_rate:.2f}, "
                     f"ESS {ess:.0f} of {draws.size} draws", fontsize=10)
        fig.tight_layout()
        return {"acceptance_rate": float(run.acceptance_rate), "ess": ess, "proposal_scale": float(proposal_scale)}

    return explore(draw, controls={"proposal_scale": tuple(scales)}, interactive=interactive)
