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
the diagonal estimate is Stan's, `w * var + eps`; the dense estimate shrinks
the covariance towards its own diagonal rather than towards 0, `w * cov + (1 - w)
* diag(var) + eps * I` (its diagonal is `var + eps`, where Stan's
`w * cov + eps * I` would also shrink the variances). Numbers only (numpy).

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
"""

import numpy as np

__all__ = ["KINDS", "MAX_DENSE_DIMS", "identity_factor", "regularised_cholesky", "regularised_covariance",
           "uses_dense_factor"]

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


def regularised_covariance(draws, *, dense):
    """The regularised covariance [chain, D, D] (dense) or variance [chain, D] of window draws.

    Args:
        draws: array [draw, chain, D] of one window's draws.
        dense: True for the full covariance (shrunk towards its diagonal), False for
            the variances (Stan's diagonal regulariser); see the module docstring.

    Returns:
        A float64 array [chain, D, D] or [chain, D].

    Raises:
        ValueError: if `draws` is not 3-dimensional or has no draws.

    #### Examples

    ```python
    regularised_covariance(np.random.default_rng(0).normal(size=(100, 2, 3)), dense=False).shape   # (2, 3)
    ```
    """
    draws = np.asarray(draws, dtype=np.float64)
    if draws.ndim != 3 or draws.shape[0] == 0:
        raise ValueError(f"draws must have shape [draw, chain, D] with at least one draw, got {draws.shape}")
    n, _, num_dims = draws.shape
    centred = draws - draws.mean(axis=0)
    variance = (centred ** 2).sum(axis=0) / max(n - 1, 1)                          # [chain, D]
    weight, jitter = n / (n + 5.0), 1e-3 * 5.0 / (n + 5.0)
    if not dense:
        return weight * variance + jitter
    cov = np.einsum("nci,ncj->cij", centred, centred) / max(n - 1, 1)
    diagonal = np.einsum("ci,ij->cij", variance, np.eye(num_dims))
    return weight * cov + (1.0 - weight) * diagonal + jitter * np.eye(num_dims)


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
