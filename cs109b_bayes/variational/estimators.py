"""Score-function and reparameterization gradients of `E_q[f(z)]`, q = N(mu, sigma^2), numpy only.

For `sigma = exp(log_sigma)` and `z = mu + sigma * eps`, `eps ~ N(0, 1)`, both estimators are
unbiased for `grad_(mu, log_sigma) E_q[f(z)]`:

    score function (REINFORCE):  (f(z) - b) * grad log q(z)          (any b not depending on z)
    reparameterization:          f'(z) * dz/d(mu, log_sigma) = f'(z) * (1, sigma * eps)

The quadratic `f(z) = -(z - target)^2 / 2` has a closed-form `E_q[f]` (`quadratic_gradient`),
so both can be tested exactly. For a Bernoulli latent only the score function applies.
`estimator_variance.variance_by_num_samples` measures how their variance falls with S.

#### References

[1] Mohamed, Rosca, Figurnov, Mnih. Monte Carlo gradient estimation in machine learning.
    https://arxiv.org/abs/1906.10652
"""

import numpy as np

from cs109b_bayes import seeds
from cs109b_bayes.checks import check_count

__all__ = ["bernoulli_exact_gradient", "bernoulli_score_gradient", "quadratic_gradient",
           "reparameterization_gradient", "score_function_gradient"]

_BASELINES = "None, a number, 'leave-one-out' or a function of the f values"


def _finite(name, value):
    value = np.asarray(value, dtype=float)
    if value.shape != () or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def quadratic_gradient(mu, log_sigma, *, target):
    """The exact gradient of `E_q[-(z - target)^2 / 2]` with respect to (mu, log_sigma).

    `E_q[f] = -((mu - target)^2 + sigma^2) / 2` for q = N(mu, sigma^2), sigma = exp(log_sigma).

    Args:
        mu, log_sigma: q's mean and log standard deviation (numbers).
        target: the maximum of f (a number).

    Returns:
        A float array [2]: `(target - mu, -sigma^2)`.

    Raises:
        ValueError: an argument is not a finite number.

    #### Examples

    ```python
    cb.variational.quadratic_gradient(0.0, 0.0, target=1.0)   # array([ 1., -1.])
    ```
    """
    mu, sigma, target = _finite("mu", mu), np.exp(_finite("log_sigma", log_sigma)), _finite("target", target)
    return np.array([target - mu, -sigma**2])


def _evaluate(name, fn, x):
    out = np.asarray(fn(x), dtype=float)
    if out.shape != x.shape:
        raise ValueError(f"{name} must return one value per draw, shape {x.shape}, got {out.shape}")
    return out


def _draws(seed, purpose, num_samples):
    return seeds.numpy_rng(seeds.check_seed(seed), purpose), check_count("num_samples", num_samples)


def _gaussian_score(z, mu, log_sigma):
    sigma2 = np.exp(2 * log_sigma)
    return np.stack([(z - mu) / sigma2, (z - mu) ** 2 / sigma2 - 1.0], axis=1)


def _baseline_values(baseline, values):
    if baseline is None:
        return 0.0
    if callable(baseline):
        baselines = np.asarray(baseline(values.copy()), dtype=float)
        if baselines.shape not in ((), values.shape):
            raise ValueError(f"baseline(f values) must return shape {values.shape}, got {baselines.shape}")
        return baselines
    if isinstance(baseline, str):
        if baseline != "leave-one-out":
            raise ValueError(f"baseline must be {_BASELINES}, got {baseline!r}")
        if values.shape[0] < 2:
            raise ValueError("a leave-one-out baseline needs num_samples >= 2")
        return (values.sum(axis=0) - values) / (values.shape[0] - 1)
    try:
        return _finite("baseline", baseline)
    except (TypeError, ValueError):
        raise ValueError(f"baseline must be {_BASELINES}, got {baseline!r}") from None


def score_function_gradient(f, mu, log_sigma, *, num_samples, seed, baseline=None, per_sample=False):
    """Score-function (REINFORCE) estimate of `grad_(mu, log_sigma) E_q[f(z)]`, q = N(mu, sigma^2).

    Each draw gives `(f(z) - b) * grad log q(z)`. It needs only values of f. A baseline b that does
    not depend on that draw keeps the estimator unbiased and can cut its variance: a number,
    `"leave-one-out"` (the mean of f over the other draws), or a function of the f values [S].

    Args:
        f: vectorised function of z (array [S] -> array [S]).
        mu, log_sigma: q's mean and log standard deviation (numbers).
        num_samples, seed: number of draws S (int >= 1); int seed (`cs109b_bayes.seeds`).
        baseline: None, a number, `"leave-one-out"` or a function. Default value: `None`.
        per_sample: return the S per-draw estimates instead of their mean. Default value: `False`.

    Returns:
        A float array [2] (the mean), or [S, 2] if `per_sample`.

    Raises:
        ValueError: a bad number or `baseline`, or f's output has the wrong shape (TypeError: bad seed).

    #### Examples

    ```python
    f = lambda z: -0.5 * (z - 2.0) ** 2
    cb.variational.score_function_gradient(f, 0.0, 0.0, num_samples=1000, seed=0)  # ~ [2, -1]
    ```
    """
    rng, num_samples = _draws(seed, "score-function", num_samples)
    z = _finite("mu", mu) + np.exp(_finite("log_sigma", log_sigma)) * rng.normal(size=num_samples)
    values = _evaluate("f", f, z)
    weights = values - _baseline_values(baseline, values)
    estimates = weights[:, None] * _gaussian_score(z, float(mu), float(log_sigma))
    return estimates if per_sample else estimates.mean(axis=0)


def reparameterization_gradient(grad_f, mu, log_sigma, *, num_samples, seed, per_sample=False):
    """Reparameterization (pathwise) estimate of `grad_(mu, log_sigma) E_q[f(z)]`, q = N(mu, sigma^2).

    With `z = mu + sigma * eps`, each draw gives `f'(z) * (1, sigma * eps)` (the chain rule through
    z; `d sigma / d log_sigma = sigma`). It needs the derivative of f and a differentiable path.

    Args:
        grad_f: vectorised derivative of f (array [S] -> array [S]).
        mu, log_sigma: q's mean and log standard deviation (numbers).
        num_samples, seed: number of draws S (int >= 1); int seed (`cs109b_bayes.seeds`).
        per_sample: return the S per-draw estimates instead of their mean. Default value: `False`.

    Returns:
        A float array [2] (the mean), or [S, 2] if `per_sample`.

    Raises:
        ValueError: a bad number, or grad_f's output has the wrong shape (TypeError: bad seed).

    #### Examples

    ```python
    grad_f = lambda z: 2.0 - z
    cb.variational.reparameterization_gradient(grad_f, 0.0, 0.0, num_samples=1000, seed=0)  # ~ [2, -1]
    ```
    """
    rng, num_samples = _draws(seed, "reparameterization", num_samples)
    sigma, eps = np.exp(_finite("log_sigma", log_sigma)), rng.normal(size=num_samples)
    slopes = _evaluate("grad_f", grad_f, _finite("mu", mu) + sigma * eps)
    estimates = np.stack([slopes, slopes * sigma * eps], axis=1)
    return estimates if per_sample else estimates.mean(axis=0)


def bernoulli_exact_gradient(f_values, theta):
    """`d/dtheta E_b[f(b)]` for b ~ Bernoulli(sigmoid(theta)), by enumerating b in {0, 1}.

    Args:
        f_values: the pair `(f(0), f(1))`.
        theta: the logit (a number).

    Returns:
        `p (1 - p) (f(1) - f(0))` as a float, `p = sigmoid(theta)`.

    Raises:
        ValueError: `f_values` is not two finite numbers, or `theta` is not finite.

    #### Examples

    ```python
    cb.variational.bernoulli_exact_gradient((0.45**2, 0.55**2), 0.0)   # 0.025
    ```
    """
    f_values = np.asarray(f_values, dtype=float)
    if f_values.shape != (2,) or not np.all(np.isfinite(f_values)):
        raise ValueError(f"f_values must be the two finite numbers (f(0), f(1)), got {f_values!r}")
    p = 1.0 / (1.0 + np.exp(-_finite("theta", theta)))
    return float(p * (1 - p) * (f_values[1] - f_values[0]))


def bernoulli_score_gradient(f, theta, *, num_samples, seed, baseline=None, per_sample=False):
    """Score-function estimate of `d/dtheta E_b[f(b)]`, b ~ Bernoulli(sigmoid(theta)).

    b is discrete, so z = mu + sigma * eps has no analogue: the sampled b does not move when theta
    moves a little, and a pathwise derivative is zero. The score `d log q(b) / dtheta = b - p` works.

    Args:
        f: vectorised function of b (array of 0.0/1.0 [S] -> array [S]).
        theta: the logit (a number).
        num_samples, seed: number of draws S (int >= 1); int seed (`cs109b_bayes.seeds`).
        baseline: None, a number, `"leave-one-out"` or a function. Default value: `None`.
        per_sample: return the S per-draw estimates instead of their mean. Default value: `False`.

    Returns:
        A float (the mean), or an array [S] if `per_sample`.

    Raises:
        ValueError: a bad number or `baseline`, or f's output has the wrong shape (TypeError: bad seed).

    #### Examples

    ```python
    f = lambda b: (b - 0.45) ** 2
    cb.variational.bernoulli_score_gradient(f, 0.0, num_samples=100, seed=0, baseline="leave-one-out")
    ```
    """
    rng, num_samples = _draws(seed, "bernoulli", num_samples)
    p = 1.0 / (1.0 + np.exp(-_finite("theta", theta)))
    b = (rng.uniform(size=num_samples) < p).astype(float)
    values = _evaluate("f", f, b)
    estimates = (values - _baseline_values(baseline, values)) * (b - p)
    return estimates if per_sample else float(estimates.mean())
