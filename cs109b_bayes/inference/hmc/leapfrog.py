"""A small numpy leapfrog integrator, to draw Hamiltonian trajectories (lab 04).

`sample_hmc` runs TFP's compiled kernels; this module is the same integrator written
out in a few lines, so a lab can draw what one HMC proposal does: draw a momentum,
follow Hamilton's equations with `num_steps` leapfrog steps of size `step_size`, and
accept the end point with probability `min(1, exp(-(H_end - H_start)))`, where
`H(theta, p) = -log p(theta) + |p|^2 / 2` (unit mass matrix). Leapfrog is
reversible and volume preserving, and its energy error is O(step_size^2), which is
why the accept step corrects it so cheaply.

#### Examples

```python
import numpy as np
from cs109b_bayes.inference.hmc import leapfrog
target = leapfrog.correlated_gaussian(correlation=0.95)
path = leapfrog.integrate(target.grad_log_prob, [1.0, 1.0], [0.5, -0.3], step_size=0.1, num_steps=20)
path.positions.shape                          # (21, 2)
leapfrog.hamiltonian(target.log_prob, path.positions, path.momenta)   # nearly constant
```

#### References

[1] Neal. MCMC using Hamiltonian dynamics. Handbook of Markov Chain Monte Carlo, 2011.
    https://arxiv.org/abs/1206.1901
"""

import dataclasses

import numpy as np

__all__ = ["GaussianTarget", "Trajectory", "correlated_gaussian", "hamiltonian", "hmc_step", "integrate"]


@dataclasses.dataclass(frozen=True)
class Trajectory:
    """The states visited by one leapfrog integration.

    Attributes:
        positions: array [num_steps + 1, d], the start first.
        momenta: array [num_steps + 1, d], the momentum at each position.
    """

    positions: np.ndarray
    momenta: np.ndarray


@dataclasses.dataclass(frozen=True)
class GaussianTarget:
    """A zero-mean Gaussian log-density with its gradient (numpy, no normalising constant).

    Attributes:
        cov: array [d, d], the covariance.
        log_prob: `log_prob(theta) -> [...]` for theta of shape [..., d].
        grad_log_prob: `grad_log_prob(theta) -> [..., d]`.
    """

    cov: np.ndarray
    log_prob: object
    grad_log_prob: object


def correlated_gaussian(*, correlation=0.95, sd=(1.0, 1.0)):
    """A 2-D Gaussian posterior with correlated coordinates: the classic case where random walks crawl.

    Args:
        correlation: correlation of the two coordinates, in (-1, 1). Default value: 0.95.
        sd: the two marginal sds (positive). Default value: (1.0, 1.0).

    Returns:
        A `GaussianTarget`.

    Raises:
        ValueError: for a correlation outside (-1, 1) or a non-positive sd.

    #### Examples

    ```python
    target = correlated_gaussian(correlation=0.9)
    target.log_prob(np.zeros(2))              # 0.0
    ```
    """
    correlation = float(correlation)
    sd = np.asarray(sd, dtype=float)
    if not -1.0 < correlation < 1.0:
        raise ValueError(f"correlation must be in (-1, 1), got {correlation}")
    if sd.shape != (2,) or not np.all(sd > 0):
        raise ValueError(f"sd must be two positive numbers, got {sd}")
    cov = np.outer(sd, sd) * np.array([[1.0, correlation], [correlation, 1.0]])
    precision = np.linalg.inv(cov)

    def log_prob(theta):
        theta = np.asarray(theta, dtype=float)
        return -0.5 * np.einsum("...i,ij,...j->...", theta, precision, theta)

    def grad_log_prob(theta):
        return -np.asarray(theta, dtype=float) @ precision

    return GaussianTarget(cov, log_prob, grad_log_prob)


def integrate(grad_log_prob, position, momentum, *, step_size, num_steps):
    """Follow Hamilton's equations with `num_steps` leapfrog steps (unit mass matrix).

    Each step: half a momentum step `p += eps/2 grad log p(theta)`, a full position step
    `theta += eps p`, another half momentum step.

    Args:
        grad_log_prob: `grad_log_prob(theta) -> [d]`, the gradient of the log-density.
        position: the start, shape [d].
        momentum: the start momentum, shape [d].
        step_size: the leapfrog step size eps (positive).
        num_steps: the number of leapfrog steps (a positive int).

    Returns:
        A `Trajectory` with `num_steps + 1` states.

    Raises:
        ValueError: for a non-positive step size or number of steps, or position and
            momentum of different shapes.

    #### Examples

    ```python
    target = correlated_gaussian()
    integrate(target.grad_log_prob, [1.0, 0.0], [0.0, 1.0], step_size=0.1, num_steps=10)
    ```
    """
    position = np.array(position, dtype=float)
    momentum = np.array(momentum, dtype=float)
    if position.shape != momentum.shape or position.ndim != 1:
        raise ValueError(f"position and momentum must be vectors of one shape, got {position.shape} "
                         f"and {momentum.shape}")
    if not step_size > 0:
        raise ValueError(f"step_size must be positive, got {step_size}")
    if int(num_steps) != num_steps or num_steps < 1:
        raise ValueError(f"num_steps must be a positive int, got {num_steps}")
    positions, momenta = [position.copy()], [momentum.copy()]
    gradient = grad_log_prob(position)
    for _ in range(int(num_steps)):
        momentum = momentum + 0.5 * step_size * gradient
        position = position + step_size * momentum
        gradient = grad_log_prob(position)
        momentum = momentum + 0.5 * step_size * gradient
        positions.append(position.copy())
        momenta.append(momentum.copy())
    return Trajectory(np.array(positions), np.array(momenta))


def hamiltonian(log_prob, position, momentum):
    """The energy `H = -log p(theta) + |p|^2 / 2` (unit mass), for one state or a batch [..., d].

    Args:
        log_prob: `log_prob(theta) -> [...]`.
        position: array [..., d].
        momentum: array [..., d].

    Returns:
        An array [...] (a float for one state).

    #### Examples

    ```python
    hamiltonian(target.log_prob, path.positions, path.momenta)
    ```
    """
    momentum = np.asarray(momentum, dtype=float)
    return -np.asarray(log_prob(position)) + 0.5 * np.sum(momentum**2, axis=-1)


def hmc_step(target, position, *, step_size, num_steps, rng):
    """One plain HMC transition: draw a momentum, integrate, accept or reject.

    Args:
        target: an object with `log_prob` and `grad_log_prob` (e.g. a `GaussianTarget`).
        position: the current state, shape [d].
        step_size: the leapfrog step size (positive).
        num_steps: leapfrog steps per proposal (positive int).
        rng: a `numpy.random.Generator` (e.g. `cb.seeds.numpy_rng(seed, "leapfrog")`).

    Returns:
        `(next_position, trajectory, accepted)`: the new state [d], the `Trajectory`
        followed, and whether its end point was accepted.

    Raises:
        ValueError: as `integrate`.

    #### Examples

    ```python
    rng = np.random.default_rng(0)
    state, path, accepted = hmc_step(target, np.zeros(2), step_size=0.2, num_steps=15, rng=rng)
    ```
    """
    position = np.asarray(position, dtype=float)
    momentum = rng.normal(size=position.shape)
    path = integrate(target.grad_log_prob, position, momentum, step_size=step_size, num_steps=num_steps)
    energy = hamiltonian(target.log_prob, path.positions[[0, -1]], path.momenta[[0, -1]])
    accepted = bool(np.log(rng.uniform()) < energy[0] - energy[1])
    return (path.positions[-1] if accepted else position), path, accepted
