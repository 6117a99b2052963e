"""The sin network of lectures 27-28 and its 5-weight "gap5" instance (labs 03 and 04).

`x -> H sin hidden units -> linear output`: `f(x) = sum_k w2k sin(w1k x) + b1`,
weights `~ N(0, prior_sd^2)` and `y ~ N(f(x), noise_sd^2)`. With `H = 2` it is the
5-weight "gap5" network (`w11, w12, w21, w22, b1`) fitted to `cb.data.sin_gap()`.
The log-densities are proper (normalising constants included).

#### References

[1] Neal. Bayesian Learning for Neural Networks, 1996 (weight-space symmetries, HMC for BNNs).
"""

import numpy as np

from cs109b_bayes.models.backends import backend_ops, check_data, check_scale, normal_log_pdf, with_signature

__all__ = ["GAP5_NAMES", "GAP5_NOISE_SD", "GAP5_PRIOR_SD", "GAP5_START", "gap5_forward", "gap5_log_prob",
           "sin_network", "sin_network_log_prob"]

GAP5_NAMES = ("w11", "w12", "w21", "w22", "b1")
"""Parameter names of the 5-weight sin network: first layer, output layer, output bias."""
GAP5_PRIOR_SD = 1.0
"""Prior sd of every gap5 weight (independent N(0, 1), the usual BNN prior)."""
GAP5_NOISE_SD = 0.1
"""Known noise sd of `cb.data.sin_gap()` (its `truth["sigma"]`)."""
GAP5_START = {"w11": 1.0, "w12": -1.0, "w21": 0.5, "w22": -0.5, "b1": 0.0}
"""A neutral starting point for `find_mode` on the gap5 posterior."""


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
    ops, constant = backend_ops(backend)
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
    ops, constant = backend_ops(backend)
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
    x, y = check_data(x, y)
    noise_sd = check_scale("noise_sd", noise_sd)
    prior_sd = None if prior_sd is None else check_scale("prior_sd", prior_sd)
    fixed = dict(fixed or {})
    unknown = set(fixed) - set(GAP5_NAMES)
    if unknown:
        raise ValueError(f"fixed names {sorted(unknown)} are not gap5 weights {list(GAP5_NAMES)}")
    free = [n for n in GAP5_NAMES if n not in fixed]
    if not free:
        raise ValueError("fixed holds every weight; leave at least one free")
    ops, constant = backend_ops(backend)

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
        log_likelihood = ops.sum(normal_log_pdf(ops, constant(y, like), mean, noise_sd), -1)
        if prior_sd is None:
            return log_likelihood
        log_prior = sum(normal_log_pdf(ops, params[n], 0.0, prior_sd) for n in free)
        return log_prior + log_likelihood

    return with_signature(log_prob_fn, free)


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
    x, y = check_data(x, y)
    if isinstance(num_hidden, bool) or not isinstance(num_hidden, (int, np.integer)) or num_hidden < 1:
        raise ValueError(f"num_hidden must be an integer >= 1, got {num_hidden!r}")
    noise_sd = check_scale("noise_sd", noise_sd)
    prior_sd = check_scale("prior_sd", prior_sd)
    ops, constant = backend_ops(backend)

    def log_prob_fn(w1, w2, b):
        if backend == "numpy":
            w1, w2, b = (np.asarray(v, dtype=float) for v in (w1, w2, b))
        mean = sin_network(x, w1, w2, b, backend=backend)
        log_likelihood = ops.sum(normal_log_pdf(ops, constant(y, b), mean, noise_sd), -1)
        log_prior = (ops.sum(normal_log_pdf(ops, w1, 0.0, prior_sd), -1)
                     + ops.sum(normal_log_pdf(ops, w2, 0.0, prior_sd), -1)
                     + normal_log_pdf(ops, b, 0.0, prior_sd))
        return log_prior + log_likelihood

    return log_prob_fn

