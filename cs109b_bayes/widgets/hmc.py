"""Lab 04's leapfrog explorer: step size and number of leapfrog steps -> one trajectory on a 2-D posterior.

`explore_leapfrog` shows sliders (Jupyter) or one static figure (headless runs) of one
plain-HMC proposal on a correlated 2-D Gaussian: the momentum drawn at the start (an
arrow), the leapfrog path, its end point, and the energy error that decides whether the
end point is accepted. Small steps follow the contour faithfully (energy error ~ step^2);
past the stability limit (about 2x the posterior's narrowest sd) the path flies off.
`plot_leapfrog_path` draws one path on an axis (the lab's frames use it too).

#### Examples

```python
from cs109b_bayes.widgets.hmc import explore_leapfrog
panel = explore_leapfrog()
panel.set(step_size=0.5)["energy_error"]      # large: the path diverged
```
"""

import numpy as np

from cs109b_bayes import seeds
from cs109b_bayes.inference.hmc import leapfrog
from cs109b_bayes.widgets.core import explore

__all__ = ["explore_leapfrog", "leapfrog_result", "plot_leapfrog_path", "plot_target"]

START = np.array([-1.5, -1.2])


def plot_target(ax, target, *, limit=3.0):
    """Contours (1, 2, 3 sd) of a 2-D `GaussianTarget` on `ax`.

    Args:
        ax: a matplotlib axis.
        target: a `cs109b_bayes.inference.hmc.leapfrog.GaussianTarget`.
        limit: the axes show [-limit, limit] in both coordinates. Default value: 3.0.

    Returns:
        `ax`.

    #### Examples

    ```python
    plot_target(ax, leapfrog.correlated_gaussian())
    ```
    """
    grid = np.linspace(-limit, limit, 121)
    mesh = np.stack(np.meshgrid(grid, grid), axis=-1)
    ax.contour(grid, grid, -2 * target.log_prob(mesh), levels=[1, 4, 9], colors="0.6", linewidths=0.8)
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_xlabel("theta 1")
    ax.set_ylabel("theta 2")
    return ax


def plot_leapfrog_path(ax, path, *, accepted=None, color="C0", label=None):
    """One leapfrog trajectory on `ax`: the start momentum as an arrow, the path, the end point.

    Args:
        ax: a matplotlib axis.
        path: a `leapfrog.Trajectory`.
        accepted: True/False colours the end point green/red; None draws it in `color`.
            Default value: None.
        color: the path's colour. Default value: "C0".
        label: legend label of the path. Default value: None.

    Returns:
        `ax`.

    #### Examples

    ```python
    plot_leapfrog_path(ax, leapfrog.integrate(target.grad_log_prob, x0, p0, step_size=0.1, num_steps=20))
    ```
    """
    start, momentum = path.positions[0], path.momenta[0]
    ax.plot(*path.positions.T, ".-", color=color, lw=1, ms=3, label=label)
    ax.annotate("", xy=start + 0.5 * momentum, xytext=start,
                arrowprops=dict(arrowstyle="->", color="k", lw=1.5))
    end_color = color if accepted is None else ("green" if accepted else "red")
    ax.plot(*path.positions[-1], "o", color=end_color, ms=8, mfc="none" if accepted is False else end_color)
    ax.plot(*start, "ks", ms=5)
    return ax


def leapfrog_result(step_size, num_steps, *, correlation=0.95, seed=0):
    """The trajectory the explorer draws, and its numbers (no drawing): for tests and printing.

    Args:
        step_size: leapfrog step size (positive).
        num_steps: leapfrog steps (positive int).
        correlation: the target's correlation. Default value: 0.95.
        seed: seeds the start momentum (`cb.seeds.numpy_rng(seed, "leapfrog_widget")`). Default value: 0.

    Returns:
        A dict: `path` (`leapfrog.Trajectory`), `energy_error` (H_end - H_start),
        `max_energy_error` (the largest |H - H_start| along the path), `accept_prob`
        (min(1, exp(-energy_error))), `distance` (from start to end).

    Raises:
        ValueError: as `leapfrog.integrate`.

    #### Examples

    ```python
    leapfrog_result(0.1, 20)["accept_prob"]      # close to 1
    ```
    """
    target = leapfrog.correlated_gaussian(correlation=correlation)
    momentum = seeds.numpy_rng(seed, "leapfrog_widget").normal(size=2)
    path = leapfrog.integrate(target.grad_log_prob, START, momentum, step_size=step_size, num_steps=num_steps)
    energy = leapfrog.hamiltonian(target.log_prob, path.positions, path.momenta)
    error = float(energy[-1] - energy[0])
    return {"path": path, "target": target, "energy_error": error,
            "max_energy_error": float(np.max(np.abs(energy - energy[0]))),
            "accept_prob": float(np.exp(min(0.0, -error))) if np.isfinite(error) else 0.0,
            "distance": float(np.linalg.norm(path.positions[-1] - path.positions[0]))}


def explore_leapfrog(*, correlation=0.95, seed=0, step_size=0.15, num_steps=20, interactive=None):
    """Sliders for the leapfrog step size and number of steps, drawing the trajectory on a 2-D posterior.

    Args:
        correlation: the target's correlation. Default value: 0.95.
        seed: seeds the start momentum. Default value: 0.
        step_size: the initial step size (slider from 0.01 to 0.6). Default value: 0.15.
        num_steps: the initial number of steps (slider from 1 to 100). Default value: 20.
        interactive: as in `cb.widgets.explore`. Default value: None.

    Returns:
        A `cb.widgets.Explorer`; its `result` is `leapfrog_result(...)` of the values shown.

    Raises:
        ValueError: for a correlation outside (-1, 1) or initial values outside the sliders.

    #### Examples

    ```python
    panel = explore_leapfrog()
    panel.set(num_steps=60)["distance"]
    ```
    """
    import matplotlib.pyplot as plt  # noqa: PLC0415

    leapfrog.correlated_gaussian(correlation=correlation)       # validates before any drawing

    def draw(step_size, num_steps):
        result = leapfrog_result(step_size, num_steps, correlation=correlation, seed=seed)
        fig, (ax, ax_energy) = plt.subplots(1, 2, figsize=(10, 4.2))
        plot_target(ax, result["target"], limit=3.0)
        path = result["path"]
        shown = np.clip(path.positions, -50, 50)
        plot_leapfrog_path(ax, leapfrog.Trajectory(shown, path.momenta), accepted=result["accept_prob"] > 0.5)
        ax.set_title(f"step {step_size:.3g} x {num_steps} steps: accept prob {result['accept_prob']:.2f}", fontsize=10)
        energy = leapfrog.hamiltonian(result["target"].log_prob, path.positions, path.momenta)
        ax_energy.plot(np.arange(num_steps + 1), energy - energy[0], ".-")
        ax_energy.axhline(0, color="0.6", lw=0.8)
        ax_energy.set_xlabel("leapfrog step")
        ax_energy.set_ylabel("H - H(start)")
        ax_energy.set_title(f"energy error at the end: {result['energy_error']:.3g}", fontsize=10)
        fig.tight_layout()
        return result

    return explore(draw, controls={"step_size": (0.01, 0.6, 0.01, float(step_size)),
                                   "num_steps": (1, 100, 1, int(num_steps))}, interactive=interactive)
