"""`posterior_predictive`: the predictive band of a regression network from posterior weight draws."""

import numpy as np

from cs109b_bayes.models.sin_networks import GAP5_NOISE_SD, gap5_forward
from cs109b_bayes.predictive import Predictive

__all__ = ["Predictive", "posterior_predictive"]


def posterior_predictive(samples, x, *, noise_sd=GAP5_NOISE_SD, forward=None, fixed=None):
    """Posterior predictive mean and sd of the network output from weight draws.

    For each draw `w` the network gives `f_w(x)`; the predictive mean is the
    average over draws and the predictive variance is the variance of `f_w(x)`
    over draws (epistemic) plus `noise_sd^2` (aleatoric), the lecture's
    `mu +- 2 sigma` band.

    Args:
        samples: an `MCMCResult`, or dict name -> array [chain, draw] (or [draw]).
        x: inputs, shape [m].
        noise_sd: observation noise sd (0 for the band of f alone). Default value: 0.1.
        forward: `forward(x, **weights) -> [..., m]`. Default value: `gap5_forward`.
        fixed: dict name -> value of weights that were not sampled (lab 04's
            hack), passed to `forward` for every draw. Default value: None.

    Returns:
        A `Predictive` (`cs109b_bayes.predictive.Predictive`, the type `cb.bnn.predict`
        returns too): `mean`, `epistemic_sd` (sd of f(x) over the draws), `aleatoric_sd`
        (`noise_sd` at every point), `total_sd`, `x`, `draws` (f(x) per draw, shape
        [chain, draw, m]) and `num_samples` (chains x draws).

    Raises:
        ValueError: for a negative `noise_sd`, `x` that is not 1-D, draws without a
            draw axis, or a `forward` that returns another shape.

    #### Examples

    ```python
    import numpy as np, cs109b_bayes as cb
    grid = np.linspace(-1.5, 1.5, 200)
    band = cb.models.posterior_predictive(result, grid, noise_sd=0.1)
    cb.plotting.plot_predictive_band(grid, band, x=gap.x, y=gap.y)
    low, high = band.band(2.0)            # mean -+ 2 total sd
    ```
    """
    if isinstance(noise_sd, bool) or not np.isfinite(noise_sd) or noise_sd < 0:
        raise ValueError(f"noise_sd must be >= 0, got {noise_sd!r}")
    draws = getattr(samples, "samples", samples)
    if not isinstance(draws, dict) or not draws:
        raise ValueError("samples must be an MCMCResult or a dict name -> draws [chain, draw]")
    draws = {n: np.asarray(v, dtype=float) for n, v in draws.items()}
    draws = {n: (v[None] if v.ndim == 1 else v) for n, v in draws.items()}
    shape = next(iter(draws.values())).shape[:2]
    weights = dict(draws)
    for name, value in (fixed or {}).items():
        weights[name] = np.broadcast_to(np.asarray(value, dtype=float), shape + np.shape(value))
    forward = forward or gap5_forward
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x must have shape [m], got {x.shape}")
    outputs = np.asarray(forward(x, **weights), dtype=float)
    if outputs.shape != shape + x.shape:
        raise ValueError(f"forward returned shape {outputs.shape}, expected {shape + x.shape}")
    return Predictive.from_draws(outputs, float(noise_sd), x=x)
