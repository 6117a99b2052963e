"""One predictive-distribution summary for MCMC draws and stochastic networks.

A regression model's predictive distribution at inputs `x` is a mixture over
posterior draws (MCMC) or stochastic forward passes (a Bayesian network): draw
t gives `N(mu_t(x), sigma_t(x)^2)`. `Predictive` summarises it per input by the
law of total variance,

    total_sd^2 = aleatoric_sd^2 + epistemic_sd^2,
    aleatoric_sd^2 = mean_t sigma_t^2   (the noise the model attributes to the data),
    epistemic_sd^2 = var_t mu_t         (the spread of the mean function over draws).

`cb.models.posterior_predictive` (MCMC draws, known noise sd) and
`cb.bnn.predict` (forward passes of a network) both return it, and
`cb.plotting.plot_predictive_band` / `plot_chain_predictions` draw it.

#### Examples

```python
import cs109b_bayes as cb
pred = cb.bnn.predict(model, grid, num_samples=200, seed=1)
low, high = pred.band(2.0)                  # mean -+ 2 total sd
cb.plotting.plot_predictive_band(grid, pred, ("total", "aleatoric"), x=het.x, y=het.y)
```
"""

import dataclasses

import numpy as np

__all__ = ["COMPONENTS", "Predictive"]

COMPONENTS = ("total", "aleatoric", "epistemic")
"""The names of `Predictive`'s three sds, as accepted by `Predictive.sd_of` and `band`."""


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Predictive:
    """A predictive distribution summarised per input point.

    Attributes:
        mean: predictive mean, shape [m].
        aleatoric_sd: `sqrt(mean_t sigma_t(x)^2)`, the noise the model attributes to the data,
            shape [m] (a known noise sd repeated for MCMC draws).
        epistemic_sd: `sd_t mu_t(x)`, the spread of the mean function over draws, shape [m].
        total_sd: `sqrt(aleatoric_sd^2 + epistemic_sd^2)`, shape [m].
        x: the inputs, shape [m] (or [m, input_dim] for a network with several
            features); None if unknown. Default value: None.
        draws: the mean function per draw, `mu_t(x)`, shape [chain, draw, m] (a network's
            forward passes or an ensemble's members are one chain); None if not kept.
            Default value: None.
        num_samples: draws or forward passes summarised. Default value: None.
        seed: the seed of the forward passes (None for MCMC draws, whose seed is the
            sampler's). Default value: None.

    Raises:
        ValueError: if the sd arrays do not have the shape of `mean`, are negative, or
            `draws` does not end with the shape of `mean`.

    #### Examples

    ```python
    band = cb.models.posterior_predictive(result, grid, noise_sd=0.1)
    band.total_sd.mean(), band.draws.shape      # [chain, draw, len(grid)]
    ```
    """

    mean: np.ndarray
    aleatoric_sd: np.ndarray
    epistemic_sd: np.ndarray
    total_sd: np.ndarray
    x: np.ndarray = None
    draws: np.ndarray = None
    num_samples: int = None
    seed: int = None

    def __post_init__(self):
        mean = np.asarray(self.mean, dtype=float)
        if mean.ndim != 1:
            raise ValueError(f"mean must have shape [m], got {mean.shape}")
        object.__setattr__(self, "mean", mean)
        for name in ("aleatoric_sd", "epistemic_sd", "total_sd"):
            value = np.asarray(getattr(self, name), dtype=float)
            if value.shape != mean.shape:
                raise ValueError(f"{name} must have the shape of mean {mean.shape}, got {value.shape}")
            if np.any(value < 0):
                raise ValueError(f"{name} must be >= 0")
            object.__setattr__(self, name, value)
        if self.x is not None:
            x = np.asarray(self.x)
            if len(x) != len(mean):
                raise ValueError(f"x must have {len(mean)} points like mean, got shape {x.shape}")
            object.__setattr__(self, "x", x)
        if self.draws is not None:
            draws = np.asarray(self.draws)
            if draws.ndim != 3 or draws.shape[-1] != len(mean):
                raise ValueError(f"draws must have shape [chain, draw, {len(mean)}], got {draws.shape}")
            object.__setattr__(self, "draws", draws)

    def __repr__(self):
        draws = "no draws" if self.draws is None else f"draws {list(self.draws.shape)}"
        return (f"Predictive({len(self.mean)} points, {draws}, num_samples={self.num_samples}, seed={self.seed}; "
                f"average sd: total {self.total_sd.mean():.4g}, aleatoric {self.aleatoric_sd.mean():.4g}, "
                f"epistemic {self.epistemic_sd.mean():.4g})")

    def sd_of(self, component="total"):
        """One of the three sds by name: `"total"`, `"aleatoric"` or `"epistemic"`.

        Args:
            component: which sd. Default value: `"total"`.

        Returns:
            The array [m].

        Raises:
            ValueError: for another name.

        #### Examples

        ```python
        pred.sd_of("aleatoric") is pred.aleatoric_sd     # True
        ```
        """
        if component not in COMPONENTS:
            raise ValueError(f"component must be one of {', '.join(COMPONENTS)}, got {component!r}")
        return getattr(self, f"{component}_sd")

    def band(self, num_sd=2.0, *, component="total"):
        """The band `mean -+ num_sd * sd`, the lecture's `mu +- 2 sigma`.

        Args:
            num_sd: half-width in sds (>= 0). Default value: 2.
            component: which sd: `"total"`, `"aleatoric"` or `"epistemic"`.
                Default value: `"total"`.

        Returns:
            A pair `(low, high)` of arrays [m].

        Raises:
            ValueError: for a negative or non-finite `num_sd` or an unknown component.

        #### Examples

        ```python
        low, high = pred.band(2.0)
        covered = np.mean((low <= y) & (y <= high))
        ```
        """
        if isinstance(num_sd, bool) or not np.isfinite(num_sd) or num_sd < 0:
            raise ValueError(f"num_sd must be a finite number >= 0, got {num_sd!r}")
        sd = self.sd_of(component)
        return self.mean - num_sd * sd, self.mean + num_sd * sd

    @classmethod
    def from_draws(cls, locs, scales, *, x=None, seed=None):
        """The summary of a mixture of Gaussians `N(locs[..., t, :], scales[..., t, :]^2)` over draws.

        Args:
            locs: means per draw, shape [draw, m] or [chain, draw, m].
            scales: sds per draw, broadcastable to `locs` (a number for a known noise sd).
            x: the inputs. Default value: None.
            seed: the seed that made the draws. Default value: None.

        Returns:
            A `Predictive` whose `draws` are `locs` (with a chain axis of 1 added for [draw, m]).

        Raises:
            ValueError: for `locs` of another rank, or negative scales.

        #### Examples

        ```python
        pred = cb.models.Predictive.from_draws(locs, 0.1)   # draws [chain, draw, m], known noise sd
        ```
        """
        locs = np.asarray(locs, dtype=float)
        if locs.ndim == 2:
            locs = locs[None]
        if locs.ndim != 3 or locs.shape[1] == 0:
            raise ValueError(f"locs must have shape [draw, m] or [chain, draw, m], got {locs.shape}")
        scales = np.broadcast_to(np.asarray(scales, dtype=float), locs.shape)
        if np.any(scales < 0):
            raise ValueError("scales must be >= 0")
        flat_locs = locs.reshape(-1, locs.shape[-1])
        aleatoric = np.sqrt(np.mean(scales.reshape(flat_locs.shape) ** 2, axis=0))
        epistemic = flat_locs.std(axis=0)
        return cls(flat_locs.mean(axis=0), aleatoric, epistemic, np.sqrt(aleatoric**2 + epistemic**2),
                   x=x, draws=locs, num_samples=len(flat_locs), seed=seed)
