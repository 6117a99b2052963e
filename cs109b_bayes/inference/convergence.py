"""Convergence numerics in numpy: effective sample size, R-hat and the MCSE of a mean.

`effective_sample_size` and `potential_scale_reduction` follow Vehtari et al.
(2021): draws are split in half per chain and rank-normalised, the
autocorrelation is summed with Geyer's initial monotone sequence, and R-hat is
the larger of the bulk and the folded (tail) R-hat. They are plain numpy, so
the numpy Metropolis sampler, the TFP samplers and the benchmarks' peers are
judged by the same numbers (ArviZ's `ess(method="bulk")` and `rhat()` agree).
The public namespace is `cs109b_bayes.diagnostics` (`cb.diagnostics`).

#### References

[1] Vehtari, Gelman, Simpson, Carpenter, Buerkner. Rank-normalization, folding,
    and localization: an improved R-hat for assessing convergence of MCMC.
    Bayesian Analysis, 2021. https://arxiv.org/abs/1903.08008
"""

import numpy as np
from scipy import special, stats

__all__ = ["effective_sample_size", "mcse_mean", "potential_scale_reduction"]


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
    import numpy as np, cs109b_bayes as cb
    draws = np.random.default_rng(0).normal(size=(4, 1000))
    cb.diagnostics.effective_sample_size(draws)   # close to 4000 for independent draws
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
        An array of the parameter's shape (NaN where every draw is equal).

    Raises:
        ValueError: for fewer than 2 dimensions or fewer than 4 draws.

    #### Examples

    ```python
    import numpy as np, cs109b_bayes as cb
    draws = np.random.default_rng(0).normal(size=(4, 1000))
    cb.diagnostics.potential_scale_reduction(draws)   # about 1.00
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

    Args:
        draws: array of shape [chain, draw, ...].

    Returns:
        An array of the parameter's shape.

    Raises:
        ValueError: for fewer than 2 dimensions or fewer than 4 draws.

    #### Examples

    ```python
    import numpy as np, cs109b_bayes as cb
    cb.diagnostics.mcse_mean(np.random.default_rng(0).normal(size=(4, 1000)))   # about 0.016
    ```
    """
    draws = _as_draws(draws)
    sd = draws.reshape(-1, *draws.shape[2:]).std(axis=0, ddof=1)
    return sd / np.sqrt(effective_sample_size(draws, method="mean"))
