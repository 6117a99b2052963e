"""The one result type every sampler returns: `MCMCResult`.

Samplers (`cb.metropolis`, `cb.sample_hmc`, or your own through
`MCMCResult.from_draws`) all return draws by name with the same fields, the
convergence numbers of `cs109b_bayes.diagnostics` already computed, and a
`summary()` table.

#### Examples

```python
import numpy as np, cs109b_bayes as cb
draws = np.random.default_rng(0).normal(size=(2, 500))
print(cb.MCMCResult.from_draws({"theta": draws}, kernel="mine").summary())
```
"""

import dataclasses

import numpy as np

from cs109b_bayes.inference.convergence import effective_sample_size, mcse_mean, potential_scale_reduction

__all__ = ["MCMCResult"]


def _element_names(name, shape):
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in np.ndindex(*shape)]


@dataclasses.dataclass(frozen=True)
class MCMCResult:
    """Draws and diagnostics of one sampler run; the same fields whatever the sampler.

    Attributes:
        samples: dict name -> array [chain, draw, ...] (burn-in removed).
        log_prob: array [chain, draw] of the log-density at each kept draw.
        acceptance_rate: mean acceptance probability over the kept draws.
        step_size: the proposal scale (Metropolis) or the adapted leapfrog step size (HMC).
        ess: dict name -> bulk effective sample size per element.
        rhat: dict name -> rank-normalised split R-hat per element.
        divergences: number of divergent transitions among the kept draws.
        seconds: wall time of sampling (burn-in and draws), compilation excluded.
        compile_seconds: wall time of set-up, tracing and compiling (0 for numpy samplers;
            close to 0 when `sample_hmc` reuses a cached compiled sampler).
        seed: the seed the run was given.
        kernel: `"metropolis"`, `"hmc"`, `"nuts"` or the name of a custom sampler.
        num_burnin_steps: steps discarded before the kept draws.
        num_gradient_evals: gradient evaluations of the log-density over the kept
            draws, summed over chains (HMC / NUTS: leapfrog steps; 0 if not recorded).
    """

    samples: dict
    log_prob: np.ndarray
    acceptance_rate: float
    step_size: object
    ess: dict
    rhat: dict
    divergences: int
    seconds: float
    compile_seconds: float
    seed: object
    kernel: str
    num_burnin_steps: int
    num_gradient_evals: int = 0

    @classmethod
    def from_draws(cls, samples, *, log_prob=None, acceptance_rate=np.nan, step_size=None,
                   divergences=0, seconds=0.0, compile_seconds=0.0, seed=None,
                   kernel="custom", num_burnin_steps=0, num_gradient_evals=0):
        """Wrap draws from any sampler (yours, too) and compute ESS and R-hat.

        Args:
            samples: dict name -> array [chain, draw, ...]; a [draw] array is
                taken as a single chain.
            log_prob: array [chain, draw], or None. Default value: None.
            acceptance_rate, step_size, divergences, seconds, compile_seconds,
            seed, kernel, num_burnin_steps, num_gradient_evals: recorded as given.

        Returns:
            An `MCMCResult`.

        Raises:
            ValueError: if `samples` is empty, has non-finite values, or its
                arrays disagree on the number of chains and draws.

        #### Examples

        ```python
        import numpy as np, cs109b_bayes as cb
        draws = np.random.default_rng(0).normal(size=(2, 500))
        cb.MCMCResult.from_draws({"theta": draws}, kernel="mine").summary()
        ```
        """
        if not samples:
            raise ValueError("samples must map at least one parameter name to its draws")
        arrays = {}
        for name, value in samples.items():
            value = np.asarray(value, dtype=float)
            if value.ndim == 1:
                value = value[None, :]
            if not np.all(np.isfinite(value)):
                raise ValueError(f"samples[{name!r}] has NaN or inf draws")
            arrays[name] = value
        shapes = {value.shape[:2] for value in arrays.values()}
        if len(shapes) != 1:
            raise ValueError(f"all samples must share [chain, draw] dimensions, got {sorted(shapes)}")
        chains, draws = shapes.pop()
        if log_prob is None:
            log_prob = np.full((chains, draws), np.nan)
        return cls(
            samples=arrays,
            log_prob=np.asarray(log_prob, dtype=float),
            acceptance_rate=float(acceptance_rate),
            step_size=step_size,
            ess={name: effective_sample_size(v) for name, v in arrays.items()},
            rhat={name: potential_scale_reduction(v) for name, v in arrays.items()},
            divergences=int(divergences),
            seconds=float(seconds),
            compile_seconds=float(compile_seconds),
            seed=seed,
            kernel=kernel,
            num_burnin_steps=int(num_burnin_steps),
            num_gradient_evals=int(num_gradient_evals),
        )

    @property
    def num_chains(self):
        """Number of chains."""
        return next(iter(self.samples.values())).shape[0]

    @property
    def num_draws(self):
        """Kept draws per chain."""
        return next(iter(self.samples.values())).shape[1]

    def flat(self, name):
        """Draws of `name` with chains pooled: shape [chain * draw, ...].

        #### Examples

        ```python
        beta1 = result.flat("beta1")
        beta1.mean(), beta1.std()
        ```
        """
        value = self.samples[name]
        return value.reshape(-1, *value.shape[2:])

    def min_ess_per_second(self):
        """The smallest bulk ESS over every parameter element, per second of sampling."""
        smallest = min(np.min(v) for v in self.ess.values())
        return smallest / self.seconds if self.seconds > 0 else np.inf

    def summary(self, *, interval=0.94):
        """Mean, sd, central interval, MCSE, bulk ESS and R-hat per parameter element.

        The interval is the equal-tailed one between the (1 - interval) / 2 and
        (1 + interval) / 2 quantiles of the pooled draws (not a highest-density
        interval); its columns are named by those quantiles, `3%` and `97%` by default.

        Args:
            interval: mass of the central interval. Default value: 0.94.

        Returns:
            A `pandas.DataFrame`, one row per parameter element (`name[i,j]` for
            array parameters), with columns `mean`, `sd`, the two quantiles,
            `mcse_mean`, `ess_bulk` and `r_hat`.

        #### Examples

        ```python
        print(result.summary())       # the README's advertising regression, NUTS, 4 x 1000 draws
        #          mean      sd      3%     97%  mcse_mean  ess_bulk  r_hat
        # beta0  6.5107  0.4578  5.6811  7.3967     0.0072    4100.0  1.004
        # beta1  4.7788  0.2716  4.2639  5.2752     0.0044    3868.0  1.004
        result.summary(interval=0.9).columns[2:4]       # ['5%', '95%']
        ```
        """
        import pandas as pd

        low, high = (1 - interval) / 2, (1 + interval) / 2
        rows, index = [], []
        for name, draws in self.samples.items():
            flat = draws.reshape(draws.shape[0] * draws.shape[1], -1)
            chains = draws.reshape(draws.shape[0], draws.shape[1], -1)
            mcse = np.atleast_1d(mcse_mean(chains))
            ess = np.atleast_1d(self.ess[name]).reshape(-1)
            rhat = np.atleast_1d(self.rhat[name]).reshape(-1)
            for k, label in enumerate(_element_names(name, draws.shape[2:])):
                column = flat[:, k]
                rows.append([
                    column.mean(), column.std(ddof=1), np.quantile(column, low),
                    np.quantile(column, high), mcse[k], ess[k], rhat[k],
                ])
                index.append(label)
        columns = ["mean", "sd", f"{100 * low:g}%", f"{100 * high:g}%", "mcse_mean", "ess_bulk", "r_hat"]
        table = pd.DataFrame(rows, index=index, columns=columns)
        return table.round({"mean": 4, "sd": 4, columns[2]: 4, columns[3]: 4, "mcse_mean": 4,
                            "ess_bulk": 0, "r_hat": 3})

    def to_arviz(self):
        """The draws as an `arviz.InferenceData` (needs ArviZ installed).

        Raises:
            ImportError: if ArviZ is not installed, saying how to install it.

        #### Examples

        ```python
        import arviz as az
        az.plot_trace(result.to_arviz())
        ```
        """
        try:
            import arviz
        except ImportError as err:
            raise ImportError("to_arviz() needs ArviZ: pip install 'arviz==0.23.*'") from err
        return arviz.from_dict(
            posterior=self.samples,
            sample_stats={"lp": self.log_prob},
        )
