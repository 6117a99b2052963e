"""MCMC diagnostics and the one result type every sampler returns.

`effective_sample_size` and `potential_scale_reduction` follow Vehtari et al.
(2021): draws are split in half per chain and rank-normalised, the
autocorrelation is summed with Geyer's initial monotone sequence, and R-hat is
the larger of the bulk and the folded (tail) R-hat. They are plain numpy, so
the numpy Metropolis sampler, the TFP samplers and the benchmarks' peers are
judged by the same numbers (ArviZ's `ess(method="bulk")` and `rhat()` agree).

#### References

[1] Vehtari, Gelman, Simpson, Carpenter, Buerkner. Rank-normalization, folding,
    and localization: an improved R-hat for assessing convergence of MCMC.
    Bayesian Analysis, 2021. https://arxiv.org/abs/1903.08008
"""

import dataclasses

import numpy as np
from scipy import special, stats

__all__ = [
    "MCMCResult",
    "effective_sample_size",
    "mcse_mean",
    "potential_scale_reduction",
]


def _as_draws(draws):
    draws = np.asarray(draws, dtype=float)
    if draws.ndim < 2:
        raise ValueError(f"draws must have shape [chain, draw, ...], got shape {draws.shape}")
    if draws.shape[1] < 4:
        raise ValueError(f"need at least 4 draws per chain, got {draws.shape[1]}")
    return draws


def _split(draws):
    half = draws.shape[1] // 2
    return np.concatenate([draws[:, :half], draws[:, -half:]], axis=0)


def _rank_normalise(draws):
    flat = draws.reshape(-1)
    ranks = stats.rankdata(flat, method="average")
    z = special.ndtri((ranks - 0.375) / (flat.size + 0.25))
    return z.reshape(draws.shape)


def _autocovariance(x):
    n = x.shape[-1]
    centred = x - x.mean(axis=-1, keepdims=True)
    size = 2 ** int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(centred, size)
    return np.fft.irfft(spectrum * np.conj(spectrum), size)[..., :n] / n


def _ess_1d(x):
    """ESS of one scalar quantity, x of shape [chain, draw] (Geyer, monotone)."""
    num_chains, n = x.shape
    if np.ptp(x) == 0 or not np.all(np.isfinite(x)):
        return np.nan
    acov = _autocovariance(x)
    within = acov[:, 0].mean() * n / (n - 1.0)
    var_plus = within * (n - 1.0) / n
    if num_chains > 1:
        var_plus += x.mean(axis=1).var(ddof=1)
    rho = 1.0 - (within - acov.mean(axis=0)) / var_plus
    rho[0] = 1.0
    # Geyer's initial positive sequence over pairs (rho[2k] + rho[2k+1]).
    pairs = rho[: 2 * ((n - 1) // 2)].reshape(-1, 2).sum(axis=1)
    negative = np.nonzero(pairs <= 0)[0]
    pairs = pairs[: negative[0]] if negative.size else pairs
    # Initial monotone sequence.
    pairs = np.minimum.accumulate(pairs)
    tau = -1.0 + 2.0 * pairs.sum()
    total = num_chains * n
    tau = max(tau, 1.0 / np.log10(total))
    return total / tau


def _per_element(fn, draws):
    chains, n = draws.shape[:2]
    flat = draws.reshape(chains, n, -1)
    values = np.array([fn(flat[:, :, k]) for k in range(flat.shape[-1])])
    return values.reshape(draws.shape[2:])


def effective_sample_size(draws, *, method="bulk"):
    """Effective sample size per element of a parameter.

    Args:
        draws: array of shape [chain, draw, ...].
        method: `"bulk"` (rank-normalised split chains, for intervals and for
            comparing samplers) or `"mean"` (split chains, for the MCSE of a
            mean). Default value: `"bulk"`.

    Returns:
        An array of the parameter's shape (a float for a scalar parameter).

    Raises:
        ValueError: for fewer than 2 dimensions, fewer than 4 draws, or an unknown method.

    #### Examples

    ```python
    import numpy as np
    from cs109b_bayes.diagnostics import effective_sample_size
    draws = np.random.default_rng(0).normal(size=(4, 1000))
    effective_sample_size(draws)   # close to 4000 for independent draws
    ```
    """
    draws = _split(_as_draws(draws))
    if method == "bulk":
        return _per_element(lambda x: _ess_1d(_rank_normalise(x)), draws)
    if method == "mean":
        return _per_element(_ess_1d, draws)
    raise ValueError(f"method must be 'bulk' or 'mean', got {method!r}")


def _rhat_1d(x):
    num_chains, n = x.shape
    within = x.var(axis=1, ddof=1).mean()
    between = n * x.mean(axis=1).var(ddof=1)
    if within == 0:
        return np.nan
    return np.sqrt(((n - 1.0) / n * within + between / n) / within)


def potential_scale_reduction(draws):
    """Rank-normalised split R-hat per element (max of bulk and tail R-hat).

    Values above 1.01 say the chains have not mixed.

    Args:
        draws: array of shape [chain, draw, ...].

    Returns:
        An array of the parameter's shape.

    #### Examples

    ```python
    import numpy as np
    from cs109b_bayes.diagnostics import potential_scale_reduction
    draws = np.random.default_rng(0).normal(size=(4, 1000))
    potential_scale_reduction(draws)   # about 1.00
    ```
    """
    draws = _split(_as_draws(draws))

    def rhat(x):
        bulk = _rhat_1d(_rank_normalise(x))
        tail = _rhat_1d(_rank_normalise(np.abs(x - np.median(x))))
        return max(bulk, tail)

    return _per_element(rhat, draws)


def mcse_mean(draws):
    """Monte Carlo standard error of the posterior mean: sd / sqrt(ESS_mean).

    #### Examples

    ```python
    import numpy as np
    from cs109b_bayes.diagnostics import mcse_mean
    mcse_mean(np.random.default_rng(0).normal(size=(4, 1000)))   # about 0.016
    ```
    """
    draws = _as_draws(draws)
    sd = draws.reshape(-1, *draws.shape[2:]).std(axis=0, ddof=1)
    return sd / np.sqrt(effective_sample_size(draws, method="mean"))


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
        compile_seconds: wall time of tracing and compiling (0 for numpy samplers).
        seed: the seed the run was given.
        kernel: `"metropolis"`, `"hmc"`, `"nuts"` or the name of a custom sampler.
        num_burnin_steps: steps discarded before the kept draws.
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

    @classmethod
    def from_draws(cls, samples, *, log_prob=None, acceptance_rate=np.nan, step_size=None,
                   divergences=0, seconds=0.0, compile_seconds=0.0, seed=None,
                   kernel="custom", num_burnin_steps=0):
        """Wrap draws from any sampler (yours, too) and compute ESS and R-hat.

        Args:
            samples: dict name -> array [chain, draw, ...]; a [draw] array is
                taken as a single chain.
            log_prob: array [chain, draw], or None. Default value: None.
            acceptance_rate, step_size, divergences, seconds, compile_seconds,
            seed, kernel, num_burnin_steps: recorded as given.

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

        Args:
            interval: mass of the central interval. Default value: 0.94.

        Returns:
            A `pandas.DataFrame`, one row per parameter element.

        #### Examples

        ```python
        print(result.summary())
        #          mean     sd  hdi_3%  ...   ess_bulk  r_hat
        # beta0   7.03  0.46    6.17  ...     1630.0   1.00
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
