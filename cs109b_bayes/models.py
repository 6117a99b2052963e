"""Shared model code for the MCMC labs and the benchmarks.

Two models, each with a log-density that labs, checks and benchmarks import
instead of copying:

* Bayesian linear regression with known noise, `y ~ N(beta0 + beta1 x, noise_sd^2)`,
  independent priors `beta_k ~ N(prior_mean, prior_sd^2)`. Its posterior is
  Gaussian in closed form (`conjugate_linear_posterior`), so samplers can be
  judged against the exact answer. Labs 02 and 05.
* The sin network of lectures 27-28, `x -> H sin hidden units -> linear output`:
  `f(x) = sum_k w2k sin(w1k x) + b1`, weights `~ N(0, prior_sd^2)` and
  `y ~ N(f(x), noise_sd^2)`. With `H = 2` it is the 5-weight "gap5" network
  (`w11, w12, w21, w22, b1`) fitted to `cb.data.sin_gap()`. Labs 03 and 04.

The log-densities are proper (every normalising constant included), so the
numbers agree with `scipy.stats` and with other frameworks (NumPyro, PyMC) that
write the same model. They follow the samplers' convention: parameters arrive by
name, each with a leading chain axis, and one log-density per chain is returned.
`backend="numpy"` gives plain numpy functions for `cb.metropolis`;
`backend="tensorflow"` gives TensorFlow functions (differentiable) for
`cb.sample_hmc`; `backend="jax"` gives `jax.numpy` functions (needs JAX).

#### Examples

```python
import numpy as np, cs109b_bayes as cb
gap = cb.data.sin_gap()
log_prob_fn = cb.models.gap5_log_prob(gap.x, gap.y)              # numpy, for cb.metropolis
mode = cb.models.find_mode(log_prob_fn, cb.models.GAP5_START, num_restarts=20, seed=0)
result = cb.metropolis(log_prob_fn, mode.params, proposal_scale=0.05,
                       num_steps=10_000, num_chains=4, burn_in=0.2, seed=1)
band = cb.models.posterior_predictive(result, np.linspace(-1.5, 1.5, 200), noise_sd=0.1)
```

#### References

[1] Bishop. Pattern Recognition and Machine Learning, section 3.3 (Bayesian linear regression), 2006.
[2] Neal. Bayesian Learning for Neural Networks, 1996 (weight-space symmetries, HMC for BNNs).
"""

import dataclasses
import inspect

import numpy as np
from scipy import optimize, stats

__all__ = [
    "GAP5_NAMES",
    "GAP5_NOISE_SD",
    "GAP5_PRIOR_SD",
    "GAP5_START",
    "GaussianPosterior",
    "Mode",
    "Predictive",
    "conjugate_linear_posterior",
    "find_mode",
    "gap5_forward",
    "gap5_log_prob",
    "linear_log_prob",
    "posterior_predictive",
    "sin_network",
    "sin_network_log_prob",
]

GAP5_NAMES = ("w11", "w12", "w21", "w22", "b1")
"""Parameter names of the 5-weight sin network: first layer, output layer, output bias."""
GAP5_PRIOR_SD = 1.0
"""Prior sd of every gap5 weight (independent N(0, 1), the usual BNN prior)."""
GAP5_NOISE_SD = 0.1
"""Known noise sd of `cb.data.sin_gap()` (its `truth["sigma"]`)."""
GAP5_START = {"w11": 1.0, "w12": -1.0, "w21": 0.5, "w22": -0.5, "b1": 0.0}
"""A neutral starting point for `find_mode` on the gap5 posterior."""

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


def _backend(backend):
    """(array namespace, to_constant) for a backend name."""
    if backend == "numpy":
        return np, lambda value, like: np.asarray(value, dtype=float)
    if backend == "tensorflow":
        import tensorflow as tf

        class _TF:
            sin = staticmethod(tf.sin)
            square = staticmethod(tf.square)
            log = staticmethod(tf.math.log)

            @staticmethod
            def sum(value, axis):
                return tf.reduce_sum(value, axis=axis)

        return _TF, lambda value, like: tf.cast(tf.constant(np.asarray(value, dtype=float)), like.dtype)
    if backend == "jax":
        try:
            import jax.numpy as jnp
        except ImportError as err:
            raise ImportError("backend='jax' needs JAX: pip install jax") from err
        return jnp, lambda value, like: jnp.asarray(value, dtype=like.dtype)
    raise ValueError(f"backend must be 'numpy', 'tensorflow' or 'jax', got {backend!r}")


def _check_data(x, y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or y.shape != x.shape:
        raise ValueError(f"x and y must be 1-D arrays of the same length, got shapes {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x and y must be finite (no NaN or inf)")
    return x, y


def _check_scale(name, value):
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def _with_signature(fn, names):
    """Give a `**params` function the signature `fn(name1, name2, ...)` (samplers check it)."""
    fn.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names])
    return fn


def _normal_log_pdf(ops, value, loc, scale):
    """Elementwise log N(value; loc, scale^2) with the backend's ops (scale a float)."""
    return -0.5 * ops.square((value - loc) / scale) - (np.log(scale) + _LOG_SQRT_2PI)


# ---------------------------------------------------------------- linear regression


@dataclasses.dataclass(frozen=True)
class GaussianPosterior:
    """A multivariate Gaussian posterior over named scalar parameters.

    Attributes:
        names: parameter names, in the order of `mean`.
        mean: array [d], the posterior mean.
        cov: array [d, d], the posterior covariance.
    """

    names: tuple
    mean: np.ndarray
    cov: np.ndarray

    @property
    def sd(self):
        """Marginal posterior standard deviations, array [d]."""
        return np.sqrt(np.diag(self.cov))

    def marginal(self, name):
        """The marginal posterior of one parameter as a frozen `scipy.stats.norm`.

        #### Examples

        ```python
        post.marginal("beta1").interval(0.95)
        ```
        """
        k = self.names.index(name)
        return stats.norm(self.mean[k], self.sd[k])

    def pdfs(self):
        """dict name -> marginal pdf, for `cb.plotting.plot_trace(result, reference=...)`.

        #### Examples

        ```python
        cb.plotting.plot_trace(result, reference=post.pdfs())
        ```
        """
        return {name: self.marginal(name).pdf for name in self.names}


def conjugate_linear_posterior(x, y, *, noise_sd, prior_sd=10.0, prior_mean=0.0):
    """Exact posterior of `(beta0, beta1)` in Bayesian linear regression with known noise.

    Model: `beta0, beta1 ~ N(prior_mean, prior_sd^2)` independently and
    `y_n ~ N(beta0 + beta1 x_n, noise_sd^2)`. With design matrix `X = [1, x]`
    the posterior is Gaussian with

        cov  = (I / prior_sd^2 + X^T X / noise_sd^2)^-1
        mean = cov (prior_mean / prior_sd^2 + X^T y / noise_sd^2)

    Args:
        x: inputs, shape [n].
        y: targets, shape [n].
        noise_sd: the known noise standard deviation (positive).
        prior_sd: prior sd of each coefficient (positive). Default value: 10.
        prior_mean: prior mean of each coefficient. Default value: 0.

    Returns:
        A `GaussianPosterior` with names `("beta0", "beta1")`.

    Raises:
        ValueError: for x, y of different lengths, NaN or inf, or a non-positive sd.

    #### Examples

    ```python
    import cs109b_bayes as cb
    ads = cb.data.advertising()
    post = cb.models.conjugate_linear_posterior(ads.x, ads.y, noise_sd=3.26, prior_sd=10.0)
    post.mean, post.sd            # about (7.0, 0.047) and (0.46, 0.0027)
    ```

    #### References

    [1] Bishop. Pattern Recognition and Machine Learning, equations 3.50-3.51, 2006.
    """
    x, y = _check_data(x, y)
    noise_sd = _check_scale("noise_sd", noise_sd)
    prior_sd = _check_scale("prior_sd", prior_sd)
    design = np.column_stack([np.ones_like(x), x])
    precision = np.eye(2) / prior_sd**2 + design.T @ design / noise_sd**2
    cov = np.linalg.inv(precision)
    cov = 0.5 * (cov + cov.T)
    mean = cov @ (np.full(2, prior_mean) / prior_sd**2 + design.T @ y / noise_sd**2)
    return GaussianPosterior(("beta0", "beta1"), mean, cov)


def linear_log_prob(x, y, *, noise_sd, prior_sd=10.0, prior_mean=0.0, backend="numpy"):
    """The log joint density `log p(y, beta0, beta1)` of Bayesian linear regression.

    The same model as `conjugate_linear_posterior`; the unnormalised log
    posterior a sampler needs. Normalising constants are included, so the value
    equals `norm.logpdf(beta, prior_mean, prior_sd).sum() + norm.logpdf(y, beta0 + beta1 x, noise_sd).sum()`.

    Args:
        x, y: the data, shape [n].
        noise_sd: the known noise sd.
        prior_sd: prior sd of each coefficient. Default value: 10.
        prior_mean: prior mean of each coefficient. Default value: 0.
        backend: `"numpy"`, `"tensorflow"` or `"jax"`. Default value: `"numpy"`.

    Returns:
        `log_prob_fn(beta0, beta1)`: each argument of shape [num_chains] (or a
        scalar), returning shape [num_chains] (or a scalar).

    Raises:
        ValueError: for bad data, a non-positive sd or an unknown backend.

    #### Examples

    ```python
    import cs109b_bayes as cb
    ads = cb.data.advertising()
    log_prob_fn = cb.models.linear_log_prob(ads.x, ads.y, noise_sd=3.26)
    result = cb.metropolis(log_prob_fn, {"beta0": 7.0, "beta1": 0.05},
                           proposal_scale={"beta0": 0.5, "beta1": 0.003},
                           num_steps=20_000, seed=0)
    ```
    """
    x, y = _check_data(x, y)
    noise_sd = _check_scale("noise_sd", noise_sd)
    prior_sd = _check_scale("prior_sd", prior_sd)
    ops, constant = _backend(backend)

    def log_prob_fn(beta0, beta1):
        xs, ys = constant(x, beta0), constant(y, beta0)
        mean = beta0[..., None] + beta1[..., None] * xs
        log_likelihood = ops.sum(_normal_log_pdf(ops, ys, mean, noise_sd), -1)
        log_prior = (_normal_log_pdf(ops, beta0, prior_mean, prior_sd)
                     + _normal_log_pdf(ops, beta1, prior_mean, prior_sd))
        return log_prior + log_likelihood

    def wrapped(beta0, beta1):
        if backend == "numpy":
            beta0, beta1 = np.asarray(beta0, dtype=float), np.asarray(beta1, dtype=float)
        return log_prob_fn(beta0, beta1)

    return wrapped


# ---------------------------------------------------------------- sin network


def sin_network(x, w1, w2, b, *, backend="numpy"):
    """Forward pass of `x -> H sin hidden units -> linear output`.

    `f(x) = sum_k w2[k] sin(w1[k] x) + b`, for a batch of weight settings at once.

    Args:
        x: inputs, shape [n].
        w1: first-layer weights, shape [..., H].
        w2: output weights, shape [..., H].
        b: output bias, shape [...].
        backend: `"numpy"`, `"tensorflow"` or `"jax"`. Default value: `"numpy"`.

    Returns:
        The outputs, shape [..., n].

    #### Examples

    ```python
    import numpy as np, cs109b_bayes as cb
    w1, w2 = np.array([[2.0, 6.0]]), np.array([[1.0, 0.4]])     # one setting, H = 2
    cb.models.sin_network(np.linspace(-1, 1, 5), w1, w2, np.array([0.2]))   # shape [1, 5]
    ```
    """
    ops, constant = _backend(backend)
    if backend == "numpy":
        w1, w2, b = (np.asarray(v, dtype=float) for v in (w1, w2, b))
    xs = constant(x, w1)
    hidden = ops.sin(w1[..., :, None] * xs)                 # [..., H, n]
    return ops.sum(w2[..., :, None] * hidden, -2) + b[..., None]


def gap5_forward(x, w11, w12, w21, w22, b1, *, backend="numpy"):
    """Forward pass of the 5-weight sin network: `w21 sin(w11 x) + w22 sin(w12 x) + b1`.

    Args:
        x: inputs, shape [n].
        w11, w12, w21, w22, b1: weights, each of shape [...] (for instance [num_chains]).
        backend: `"numpy"`, `"tensorflow"` or `"jax"`. Default value: `"numpy"`.

    Returns:
        The outputs, shape [..., n].

    #### Examples

    ```python
    import numpy as np, cs109b_bayes as cb
    cb.models.gap5_forward(np.array([0.0, 0.3]), 2.0, 6.0, 1.0, 0.4, 0.2)   # [0.2, 1.26...]
    ```
    """
    ops, constant = _backend(backend)
    if backend == "numpy":
        w11, w12, w21, w22, b1 = (np.asarray(v, dtype=float) for v in (w11, w12, w21, w22, b1))
    xs = constant(x, w11)
    return (w21[..., None] * ops.sin(w11[..., None] * xs)
            + w22[..., None] * ops.sin(w12[..., None] * xs) + b1[..., None])


def gap5_log_prob(x, y, *, noise_sd=GAP5_NOISE_SD, prior_sd=GAP5_PRIOR_SD, fixed=None, backend="numpy"):
    """The log joint density of the 5-weight sin network (lab 03, 04 and the benchmarks).

    `w11, w12, w21, w22, b1 ~ N(0, prior_sd^2)` independently and
    `y_n ~ N(gap5_forward(x_n), noise_sd^2)`; normalising constants included.
    Weights listed in `fixed` are held at the given values and get no prior term
    (lab 04's "hack" fixes `w11, w12` at their maximum-likelihood values).

    Args:
        x, y: the data, shape [n] (`cb.data.sin_gap()`).
        noise_sd: the known noise sd. Default value: `GAP5_NOISE_SD` (0.1).
        prior_sd: prior sd of every weight, or None for no prior (the log-likelihood,
            whose maximum is the maximum-likelihood estimate). Default value:
            `GAP5_PRIOR_SD` (1.0).
        fixed: dict name -> float of weights held fixed. Default value: None.
        backend: `"numpy"`, `"tensorflow"` or `"jax"`. Default value: `"numpy"`.

    Returns:
        `log_prob_fn(**free_weights)`, signature in `GAP5_NAMES` order minus the
        fixed ones; each weight of shape [num_chains] (or scalar), returning
        shape [num_chains] (or scalar).

    Raises:
        ValueError: for bad data, a non-positive sd, unknown names in `fixed`,
            or an unknown backend.

    #### Examples

    ```python
    import cs109b_bayes as cb
    gap = cb.data.sin_gap()
    log_prob_fn = cb.models.gap5_log_prob(gap.x, gap.y, backend="tensorflow")
    result = cb.sample_hmc(log_prob_fn, {"w11": 3.6, "w12": 0.8, "w21": 1.3, "w22": -0.8, "b1": 0.2},
                           num_results=1000, num_burnin_steps=500, seed=0)
    hack = cb.models.gap5_log_prob(gap.x, gap.y, fixed={"w11": 4.3, "w12": 0.13})   # log p(w21, w22, b1)
    ```
    """
    x, y = _check_data(x, y)
    noise_sd = _check_scale("noise_sd", noise_sd)
    prior_sd = None if prior_sd is None else _check_scale("prior_sd", prior_sd)
    fixed = dict(fixed or {})
    unknown = set(fixed) - set(GAP5_NAMES)
    if unknown:
        raise ValueError(f"fixed names {sorted(unknown)} are not gap5 weights {list(GAP5_NAMES)}")
    free = [n for n in GAP5_NAMES if n not in fixed]
    if not free:
        raise ValueError("fixed holds every weight; leave at least one free")
    ops, constant = _backend(backend)

    def log_prob_fn(*args, **params):
        if len(args) > len(free):
            raise TypeError(f"log_prob_fn takes at most {len(free)} weights {free}, got {len(args)}")
        params.update(zip(free, args))
        if set(params) != set(free):
            raise TypeError(f"log_prob_fn takes the weights {free}, got {sorted(params)}")
        if backend == "numpy":
            params = {n: np.asarray(v, dtype=float) for n, v in params.items()}
        like = params[free[0]]
        weights = {n: params[n] if n in params else constant(fixed[n], like) + 0.0 * like for n in GAP5_NAMES}
        mean = gap5_forward(x, *(weights[n] for n in GAP5_NAMES), backend=backend)
        log_likelihood = ops.sum(_normal_log_pdf(ops, constant(y, like), mean, noise_sd), -1)
        if prior_sd is None:
            return log_likelihood
        log_prior = sum(_normal_log_pdf(ops, params[n], 0.0, prior_sd) for n in free)
        return log_prior + log_likelihood

    return _with_signature(log_prob_fn, free)


def sin_network_log_prob(x, y, *, num_hidden, noise_sd=GAP5_NOISE_SD, prior_sd=GAP5_PRIOR_SD,
                         backend="numpy"):
    """The log joint density of the sin network with `num_hidden` units (lab 04's scaling run).

    Parameters `w1` [H], `w2` [H] and `b` (scalar), all `~ N(0, prior_sd^2)`;
    `y_n ~ N(sin_network(x_n), noise_sd^2)`. With `num_hidden=2` it is the gap5
    density with `w1 = (w11, w12)`, `w2 = (w21, w22)`, `b = b1`.

    Args:
        x, y: the data, shape [n].
        num_hidden: hidden units H (>= 1).
        noise_sd: the known noise sd. Default value: 0.1.
        prior_sd: prior sd of every weight. Default value: 1.0.
        backend: `"numpy"`, `"tensorflow"` or `"jax"`. Default value: `"numpy"`.

    Returns:
        `log_prob_fn(w1, w2, b)` with `w1, w2` of shape [num_chains, H] and `b`
        of shape [num_chains], returning shape [num_chains].

    Raises:
        ValueError: for bad data, `num_hidden` < 1, a non-positive sd or an unknown backend.

    #### Examples

    ```python
    import numpy as np, cs109b_bayes as cb
    gap = cb.data.sin_gap()
    log_prob_fn = cb.models.sin_network_log_prob(gap.x, gap.y, num_hidden=8, backend="tensorflow")
    init = {"w1": np.linspace(-3, 3, 8), "w2": np.zeros(8), "b": 0.0}
    result = cb.sample_hmc(log_prob_fn, init, num_results=200, num_burnin_steps=200, seed=0)
    ```
    """
    x, y = _check_data(x, y)
    if isinstance(num_hidden, bool) or not isinstance(num_hidden, (int, np.integer)) or num_hidden < 1:
        raise ValueError(f"num_hidden must be an integer >= 1, got {num_hidden!r}")
    noise_sd = _check_scale("noise_sd", noise_sd)
    prior_sd = _check_scale("prior_sd", prior_sd)
    ops, constant = _backend(backend)

    def log_prob_fn(w1, w2, b):
        if backend == "numpy":
            w1, w2, b = (np.asarray(v, dtype=float) for v in (w1, w2, b))
        mean = sin_network(x, w1, w2, b, backend=backend)
        log_likelihood = ops.sum(_normal_log_pdf(ops, constant(y, b), mean, noise_sd), -1)
        log_prior = (ops.sum(_normal_log_pdf(ops, w1, 0.0, prior_sd), -1)
                     + ops.sum(_normal_log_pdf(ops, w2, 0.0, prior_sd), -1)
                     + _normal_log_pdf(ops, b, 0.0, prior_sd))
        return log_prior + log_likelihood

    return log_prob_fn


# ---------------------------------------------------------------- modes and predictions


@dataclasses.dataclass(frozen=True)
class Mode:
    """A local maximum of a log-density found by `find_mode`.

    Attributes:
        params: dict name -> value (no chain axis), ready as a sampler's `init`.
        log_prob: the log-density there.
    """

    params: dict
    log_prob: float


def find_mode(log_prob_fn, init, *, num_restarts=0, restart_sd=3.0, seed=0):
    """Maximise a numpy log-density with BFGS, from `init` and optional random restarts.

    The lecture's warning for the sin network ("this is not going to converge
    unless we start very near the mode") is why the labs start their chains
    here. Restart points are `init + restart_sd * N(0, I)`; the best local
    maximum over all starts is returned.

    Args:
        log_prob_fn: numpy `log_prob_fn(**params) -> [num_chains]`, as for `cb.metropolis`.
        init: dict name -> initial value (scalar or array).
        num_restarts: extra random starts. Default value: 0 (a local search from `init`).
        restart_sd: sd of the restart jitter. Default value: 3.
        seed: int seed of the restarts. Default value: 0.

    Returns:
        A `Mode` (params and log-density).

    Raises:
        ValueError: if `init` is empty or not finite, or the log-density is not finite at `init`.

    #### Examples

    ```python
    import cs109b_bayes as cb
    gap = cb.data.sin_gap()
    log_prob_fn = cb.models.gap5_log_prob(gap.x, gap.y)
    mode = cb.models.find_mode(log_prob_fn, cb.models.GAP5_START, num_restarts=20, seed=0)
    mode.params, mode.log_prob
    ```
    """
    if not isinstance(init, dict) or not init:
        raise ValueError("init must be a non-empty dict name -> initial value")
    names = list(init)
    shapes = {n: np.shape(init[n]) for n in names}
    sizes = [int(np.prod(shapes[n], dtype=int)) for n in names]
    start = np.concatenate([np.ravel(np.asarray(init[n], dtype=float)) for n in names])
    if not np.all(np.isfinite(start)):
        raise ValueError(f"init must be finite, got {init!r}")

    def unpack(vector):
        parts = np.split(vector, np.cumsum(sizes)[:-1])
        return {n: p.reshape((1,) + shapes[n]) for n, p in zip(names, parts)}

    def negative(vector):
        value = float(np.asarray(log_prob_fn(**unpack(vector))).reshape(-1)[0])
        return -value if np.isfinite(value) else 1e300

    if negative(start) >= 1e300:
        raise ValueError(f"log_prob_fn is not finite at init {init!r}")
    rng = np.random.default_rng(seed)
    starts = [start] + [start + restart_sd * rng.normal(size=start.size) for _ in range(num_restarts)]
    best = None
    for point in starts:
        fit = optimize.minimize(negative, point, method="BFGS")
        if best is None or fit.fun < best.fun:
            best = fit
    params = {n: (v[0].item() if v.ndim == 1 else v[0]) for n, v in unpack(best.x).items()}
    return Mode(params, -float(best.fun))


@dataclasses.dataclass(frozen=True)
class Predictive:
    """Posterior predictive of a regression network at inputs `x`, from MCMC draws.

    Attributes:
        x: the inputs, shape [m].
        draws: network outputs f(x) per draw, shape [chain, draw, m].
        mean: predictive mean, shape [m].
        epistemic_sd: sd of f(x) over the posterior draws, shape [m].
        noise_sd: the observation noise sd (aleatoric part).
        sd: total predictive sd, `sqrt(epistemic_sd^2 + noise_sd^2)`, shape [m].
    """

    x: np.ndarray
    draws: np.ndarray
    mean: np.ndarray
    epistemic_sd: np.ndarray
    noise_sd: float
    sd: np.ndarray


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
        A `Predictive`.

    Raises:
        ValueError: for a negative `noise_sd` or draws without a draw axis.

    #### Examples

    ```python
    import numpy as np, cs109b_bayes as cb
    grid = np.linspace(-1.5, 1.5, 200)
    band = cb.models.posterior_predictive(result, grid, noise_sd=0.1)
    cb.plotting.plot_predictive_band(grid, band.mean, band.sd, x=gap.x, y=gap.y)
    ```
    """
    if not np.isfinite(noise_sd) or noise_sd < 0:
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
    outputs = np.asarray(forward(x, **weights), dtype=float)
    if outputs.shape != shape + x.shape:
        raise ValueError(f"forward returned shape {outputs.shape}, expected {shape + x.shape}")
    flat = outputs.reshape(-1, x.size)
    epistemic = flat.std(axis=0)
    return Predictive(x, outputs, flat.mean(axis=0), epistemic, float(noise_sd),
                      np.sqrt(epistemic**2 + noise_sd**2))
