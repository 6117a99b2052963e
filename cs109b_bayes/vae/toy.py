"""The lecture's toy generative model x = f(z) + e, f(z) = z/10 + z/||z||: samples and its exact density.

Šmídl's "Deep Bayesian Learning" fits a VAE to 2-D samples of

    x = f(z) + e,   z ~ N(0, I_2),   e ~ N(0, s^2 I_2),   f(z) = z/10 + z/||z||,

a noisy ring of radius 1 + ||z||/10 (about 1.1): a density no Gaussian or small mixture
captures. With z = r (cos a, sin a), r is Rayleigh and a uniform, f(z) = (1 + r/10)(cos a, sin a),
and the angle integral is a Bessel function, so the exact density depends on |x| alone:

    p(x) = int_0^inf r exp(-r^2/2) / (2 pi s^2) * exp(-(|x|^2 + rho^2) / (2 s^2)) I_0(|x| rho / s^2) dr,

with rho = 1 + r/10; `toy_log_density` evaluates it by the midpoint rule in r (scaled Bessel
function, log-sum-exp), accurate to far below the Monte Carlo error of any VAE estimate.

#### Examples

```python
import cs109b_bayes as cb
x = cb.vae.sample_toy(2_000, noise_scale=0.1, seed=0)     # [2000, 2] float32
log_p = cb.vae.toy_log_density(x, noise_scale=0.1)          # [2000], exact (quadrature)
```
"""

import math

import numpy as np

from cs109b_bayes import seeds
from cs109b_bayes.vae.checks import positive_int, positive_scale

__all__ = ["grid_points", "sample_toy", "toy_log_density", "toy_mean"]


def toy_mean(z):
    """f(z) = z/10 + z/||z|| for points z [n, 2] (the lecture's decoder mean), float64 [n, 2].

    Raises:
        ValueError: for z that is not [n, 2].

    #### Examples

    ```python
    cb.vae.toy_mean(np.array([[3.0, 4.0]]))     # [[0.9, 1.2]]: radius 1 + 5/10
    ```
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"z must be [n, 2], got shape {z.shape}")
    norm = np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    return z / 10.0 + z / norm


def sample_toy(num_samples, *, noise_scale=0.1, seed=0):
    """Samples x = f(z) + e of the toy model, z ~ N(0, I_2), e ~ N(0, noise_scale^2 I_2).

    Args:
        num_samples: n.
        noise_scale: s, the sd of e. Default value: 0.1.
        seed: int seed. Default value: 0.

    Returns:
        A float32 array [n, 2].

    Raises:
        ValueError: for a non-positive `num_samples` or `noise_scale`.
        TypeError: for a seed that is not an int.

    #### Examples

    ```python
    x = cb.vae.sample_toy(1_000, seed=0)
    np.linalg.norm(x, axis=1).mean()         # about 1.1
    ```
    """
    num_samples = positive_int("num_samples", num_samples)
    noise_scale = positive_scale("noise_scale", noise_scale)
    rng = seeds.numpy_rng(seeds.check_seed(seed), "toy model")
    z = rng.normal(size=(num_samples, 2))
    return (toy_mean(z) + noise_scale * rng.normal(size=(num_samples, 2))).astype(np.float32)


def toy_log_density(x, *, noise_scale=0.1, num_radii=4_000, max_radius=10.0):
    """The exact log p(x) of the toy model (1-d quadrature over ||z||), float64 [n].

    Args:
        x: points [n, 2].
        noise_scale: s. Default value: 0.1.
        num_radii: midpoints of the quadrature over r = ||z||. Default value: 4,000.
        max_radius: upper end of r (the prior mass beyond 10 is below 1e-21). Default value: 10.0.

    Returns:
        A float64 array [n].

    Raises:
        ValueError: for x that is not [n, 2], or non-positive options.

    #### Examples

    ```python
    cb.vae.toy_log_density(np.array([[1.1, 0.0], [0.0, 0.0]]))   # high on the ring, very low at 0
    ```
    """
    from scipy.special import i0e  # noqa: PLC0415

    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"x must be [n, 2], got shape {x.shape}")
    s = positive_scale("noise_scale", noise_scale)
    num_radii = positive_int("num_radii", num_radii)
    max_radius = positive_scale("max_radius", max_radius)
    step = max_radius / num_radii
    r = (np.arange(num_radii) + 0.5) * step                          # [m]
    rho = 1.0 + r / 10.0
    distance = np.linalg.norm(x, axis=1)[:, None]                    # [n, 1]
    # I_0(t) = i0e(t) * exp(t): exp(-(d^2 + rho^2)/(2 s^2)) I_0(d rho / s^2) = i0e(...) exp(-(d - rho)^2 / (2 s^2))
    log_terms = (np.log(r) - r**2 / 2 - (distance - rho) ** 2 / (2 * s**2) + np.log(i0e(distance * rho / s**2)))
    return np.logaddexp.reduce(log_terms, axis=1) + math.log(step) - math.log(2 * math.pi * s**2)


def grid_points(*, limit=2.0, num_points=60):
    """A square grid on [-limit, limit]^2, for density images: (axis values [m], points [m * m, 2]).

    Points run over x1 fastest (row-major, `points.reshape(m, m, 2)[i, j] == (axis[j], axis[i])`),
    so `values.reshape(m, m)` is an image with x2 along the rows, as `plt.contourf(axis, axis, image)`
    expects.

    Args:
        limit: half-width of the square. Default value: 2.0.
        num_points: m, points per axis. Default value: 60.

    Returns:
        `(axis, points)`: float32 arrays [m] and [m * m, 2].

    Raises:
        ValueError: for non-positive `limit` or `num_points`.

    #### Examples

    ```python
    axis, points = cb.vae.grid_points(limit=2.0, num_points=50)
    image = cb.vae.toy_log_density(points).reshape(50, 50)
    ```
    """
    limit = positive_scale("limit", limit)
    num_points = positive_int("num_points", num_points)
    axis = np.linspace(-limit, limit, num_points)
    first, second = np.meshgrid(axis, axis)
    return axis.astype(np.float32), np.column_stack([first.ravel(), second.ravel()]).astype(np.float32)
