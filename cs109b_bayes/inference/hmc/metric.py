"""The mass matrix (metric) estimated at the end of each slow warm-up window.

The samplers run on whitened coordinates z with theta = L z per chain, where
L L^T is the regularised covariance of the window's draws: a mass matrix
M = (L L^T)^-1 applied as a change of variables (see
`cs109b_bayes.inference.hmc.coordinates`). Three kinds:

- `"dense"`: L is the Cholesky factor [chain, D, D] of the full covariance, from
  windows with at least 2 (D + 1) draws (shorter windows, and D > `MAX_DENSE_DIMS`,
  fall back to diagonal);
- `"diagonal"`: L is the per-element standard deviation [chain, D];
- `"unit"`: L = 1, no metric adaptation.

Regularisation with n draws, w = n / (n + 5) and eps = 1e-3 * 5 / (n + 5):
the diagonal estimate is Stan's, `w * var + eps`. The dense estimate shrinks the
covariance towards its own diagonal, `(1 - lam) * cov + lam * diag(var) + eps * I`
(its diagonal is `var + eps`), with the intensity `lam` estimated from the draws
(`shrinkage_intensity`, Schaefer and Strimmer's target "diagonal, unequal
variances" [2]): the sum over pairs of the sampling variance of the correlations,
(1 - r^2)^2 / n_eff, over the sum of their squares, clipped to [0, 1]. n_eff is the
chain's median effective sample size over the elements, not n: window draws are
autocorrelated, and counting them as independent would keep noise correlations.
So strong correlations (a regression's intercept and slope) stay in the metric,
and a window too short to measure 31 x 31 correlations gives close to the diagonal
metric, which is what a noisy dense estimate would otherwise spoil. Numbers only
(numpy).

#### Examples

```python
import numpy as np
from cs109b_bayes.inference.hmc import metric
draws = np.random.default_rng(0).normal(size=(200, 4, 3))      # [draw, chain, D]
metric.regularised_cholesky(draws, dense=True).shape            # (4, 3, 3)
```

#### References

[1] Stan Reference Manual, "HMC algorithm parameters: automatic parameter tuning".
    https://mc-stan.org/docs/reference-manual/mcmc.html
[2] Schaefer, Strimmer. A shrinkage approach to large-scale covariance matrix
    estimation and implications for functional genomics. Statistical Applications
    in Genetics and Molecular Biology 4(1), 2005. https://doi.org/10.2202/1544-6115.1175
"""

import numpy as np

from cs109b_bayes.inference.convergence import effective_sample_size

__all__ = ["KINDS", "MAX_DENSE_DIMS", "identity_factor", "regularised_cholesky", "regularised_covariance",
           "shrinkage_intensity", "uses_dense_factor"]

KINDS = ("dense", "diagonal", "unit")
MAX_DENSE_DIMS = 500   # above this many parameter elements a dense metric costs too much: diagonal


def uses_dense_factor(mass_matrix, num_dims):
    """True when the metric's factor L is a dense [chain, D, D] matrix (else a [chain, D] vector).

    Args:
        mass_matrix: one of `KINDS`.
        num_dims: D, the number of parameter elements.

    Returns:
        `mass_matrix == "dense" and num_dims <= MAX_DENSE_DIMS`.

    #### Examples

    ```python
    uses_dense_factor("dense", 5), uses_dense_factor("dense", 10_000)   # (True, False)
    ```
    """
    return mass_matrix == "dense" and num_dims <= MAX_DENSE_DIMS


def identity_factor(num_chains, num_dims, *, dense):
    """The unit metric's factor: identity matrices [chain, D, D] (dense) or ones [chain, D].

    Args:
        num_chains: number of chains.
        num_dims: D, the number of parameter elements.
        dense: the layout, as from `uses_dense_factor`.

    Returns:
        A float64 array.

    #### Examples

    ```python
    identity_factor(2, 3, dense=False)     # ones((2, 3))
    ```
    """
    if dense:
        return np.broadcast_to(np.eye(num_dims), (num_chains, num_dims, num_dims)).copy()
    return np.ones((num_chains, num_dims))


def _effective_draws(draws):
    """Per chain, the median over elements of the mean ESS of [draw, chain, D] draws, within [2, n]."""
    n, num_chains, _ = draws.shape
    if n < 8:
        return np.full(num_chains, float(n))
    ess = [np.nanmedian(effective_sample_size(draws[None, :, chain, :], method="mean")) for chain in range(num_chains)]
    return np.clip(np.nan_to_num(np.array(ess, dtype=float), nan=2.0), 2.0, n)


def shrinkage_intensity(draws):
    """How far each chain's correlations are shrunk towards 0: lam [chain] in [0, 1].

    lam = sum_{i != j} (1 - r_ij^2)^2 / n_eff  /  sum_{i != j} r_ij^2, clipped to [0, 1],
    with r the window's sample correlations and n_eff the chain's median effective
    sample size over the elements (see the module docstring). 1 means "use the
    diagonal": the correlations are no larger than their noise.

    Args:
        draws: array [draw, chain, D] of one window's draws.

    Returns:
        A float64 array [chain] (ones when D = 1 or no correlation was measured).

    Raises:
        ValueError: if `draws` is not 3-dimensional or has no draws.

    #### Examples

    ```python
    rng = np.random.default_rng(0)
    shrinkage_intensity(rng.normal(size=(200, 2, 5)))               # about [1, 1]: independent elements
    x = rng.normal(size=(200, 2, 1))
    shrinkage_intensity(np.concatenate([x, x + 0.1 * rng.normal(size=x.shape)], -1))   # about [0, 0]
    ```
    """
    draws = _checked(draws)
    centred = draws - draws.mean(axis=0)
    return _intensity(np.einsum("nci,ncj->cij", centred, centred), draws)


def _intensity(scatter, draws):
    """`shrinkage_intensity` from the window's scatter (or covariance) matrices [chain, D, D]."""
    n, num_chains, num_dims = draws.shape
    if num_dims == 1 or n < 3:
        return np.ones(num_chains)
    sd = np.sqrt(np.diagonal(scatter, axis1=1, axis2=2))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.nan_to_num(scatter / (sd[:, :, None] * sd[:, None, :]))    # correlations: any scale cancels
    off = ~np.eye(num_dims, dtype=bool)
    r2 = corr[:, off] ** 2                                                   # [chain, pairs]
    noise = ((1.0 - r2) ** 2).sum(axis=1) / _effective_draws(draws)
    signal = r2.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(signal > 0, np.clip(noise / signal, 0.0, 1.0), 1.0)


def _checked(draws):
    draws = np.asarray(draws, dtype=np.float64)
    if draws.ndim != 3 or draws.shape[0] == 0:
        raise ValueError(f"draws must have shape [draw, chain, D] with at least one draw, got {draws.shape}")
    return draws


def regularised_covariance(draws, *, dense):
    """The regularised covariance [chain, D, D] (dense) or variance [chain, D] of window draws.

    Args:
        draws: array [draw, chain, D] of one window's draws.
        dense: True for the full covariance (shrunk towards its diagonal by
            `shrinkage_intensity`), False for the variances (Stan's diagonal
            regulariser); see the module docstring.

    Returns:
        A float64 array [chain, D, D] or [chain, D].

    Raises:
        ValueError: if `draws` is not 3-dimensional or has no draws.

    #### Examples

    ```python
    regularised_covariance(np.random.default_rng(0).normal(size=(100, 2, 3)), dense=False).shape   # (2, 3)
    ```
    """
    draws = _checked(draws)
    n, _, num_dims = draws.shape
    centred = draws - draws.mean(axis=0)
    variance = (centred ** 2).sum(axis=0) / max(n - 1, 1)                          # [chain, D]
    weight, jitter = n / (n + 5.0), 1e-3 * 5.0 / (n + 5.0)
    if not dense:
        return weight * variance + jitter
    cov = np.einsum("nci,ncj->cij", centred, centred) / max(n - 1, 1)
    diagonal = np.einsum("ci,ij->cij", variance, np.eye(num_dims))
    lam = _intensity(cov, draws)[:, None, None]
    return (1.0 - lam) * cov + lam * diagonal + jitter * np.eye(num_dims)


def regularised_cholesky(draws, *, dense):
    """The metric's factor L from one window's draws: Cholesky [chain, D, D] or sd [chain, D].

    A dense factor needs at least 2 (D + 1) draws (a dense estimate from fewer draws is
    singular in the directions the window did not explore); with fewer draws, or if
    the Cholesky factorisation fails, the dense layout holds the diagonal factor.

    Args:
        draws: array [draw, chain, D] of one window's draws.
        dense: the layout, as from `uses_dense_factor`.

    Returns:
        A float64 array [chain, D, D] (lower triangular) if `dense`, else [chain, D].

    Raises:
        ValueError: if `draws` is not 3-dimensional or has no draws.

    #### Examples

    ```python
    chol = regularised_cholesky(draws, dense=True)      # chol @ chol.T = regularised_covariance(...)
    ```
    """
    draws = np.asarray(draws, dtype=np.float64)
    scale = np.sqrt(regularised_covariance(draws, dense=False))
    if not dense:
        return scale
    num_draws, num_dims = draws.shape[0], draws.shape[-1]
    if num_draws >= 2 * (num_dims + 1):
        try:
            return np.linalg.cholesky(regularised_covariance(draws, dense=True))
        except np.linalg.LinAlgError:
            pass
    return np.einsum("ci,ij->cij", scale, np.eye(num_dims))
