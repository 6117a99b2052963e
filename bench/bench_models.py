"""The three benchmark models, written once per system: TensorFlow, JAX, PyTensor.

Every model is the same unnormalised log posterior in the same unconstrained
parameters for every system, on the same data, so the samplers are compared
on identical targets. `check_agreement()` evaluates all three at random points
and asserts they agree (float32 tolerance), so a typo in one system's copy
cannot make the comparison unfair.

Models:

- `linreg`: Bayesian linear regression on the first 100 markets of the labs'
  advertising data (sales vs TV budget, x not centred, as in labs 01-02):
  beta0 ~ N(0, 10^2), beta1 ~ N(0, 1), sigma ~ HalfNormal(10) sampled as
  log_sigma (Jacobian included); y ~ N(beta0 + beta1 x, sigma^2).
- `gap5`: the lecture's 5-weight sin network on the gap data (labs 03-04):
  y ~ N(w21 sin(w11 x) + w22 sin(w12 x) + b1, 0.1^2), every weight ~ N(0, 5^2).
  Multimodal (sign flips, unit swaps): judged by per-chain ESS.
- `bnn`: a 1-hidden-layer tanh network with 10 units (31 weights, all N(0, 1))
  on the first 200 points of the heteroscedastic data (labs 06-09), noise sd
  fixed at 0.15. Multimodal (unit permutations and sign flips).
"""

import numpy as np

import cs109b_bayes as cb

__all__ = ["MODELS", "check_agreement", "jax_log_prob", "pytensor_log_prob", "tf_log_prob"]

HIDDEN_UNITS = 10


def _linreg_data():
    ads = cb.data.advertising()
    return {"x": ads.x[:100].astype(np.float64), "y": ads.y[:100].astype(np.float64)}


def _gap_data():
    gap = cb.data.sin_gap()
    return {"x": gap.x.astype(np.float64), "y": gap.y.astype(np.float64)}


def _bnn_data():
    het = cb.data.heteroscedastic()
    return {"x": het.x[:200].astype(np.float64), "y": het.y[:200].astype(np.float64)}


def _bnn_init():
    rng = np.random.default_rng(109)  # a fixed, non-symmetric start (tanh units must differ)
    return {
        "W1": rng.normal(0.0, 1.0, HIDDEN_UNITS),
        "b1": rng.normal(0.0, 0.5, HIDDEN_UNITS),
        "W2": rng.normal(0.0, 0.3, HIDDEN_UNITS),
        "b2": 0.0,
    }


# name -> (data maker, initial values (near the mode for gap5, as in lab 04), multimodal?)
MODELS = {
    "linreg": {"data": _linreg_data, "init": {"beta0": 5.0, "beta1": 0.05, "log_sigma": 1.0},
               "multimodal": False,
               "title": "Bayesian linear regression, 100 points (3 parameters)"},
    "gap5": {"data": _gap_data, "init": {"w11": 2.0, "w12": 6.0, "w21": 1.0, "w22": 0.4, "b1": 0.2},
             "multimodal": True,
             "title": "5-weight sin network, gap data, 20 points (5 parameters)"},
    "bnn": {"data": _bnn_data, "init": _bnn_init(), "multimodal": True,
            "title": "BNN 1 hidden layer x 10 tanh units, 200 points (31 parameters)"},
}

LOG_2PI = float(np.log(2.0 * np.pi))


def _normal_lp(z, sd, lib):
    """log N(z | 0, sd^2), elementwise."""
    return -0.5 * (z / sd) ** 2 - lib.log(sd) - 0.5 * LOG_2PI


# ---------------------------------------------------------------- TensorFlow (cs109b_bayes)

def tf_log_prob(model, data, dtype="float32"):
    """`log_prob_fn(**params) -> [num_chains]` in TensorFlow, for `cb.sample_hmc`."""
    import tensorflow as tf

    x = tf.constant(data["x"], dtype=dtype)
    y = tf.constant(data["y"], dtype=dtype)
    const = lambda v: tf.constant(v, dtype=dtype)  # noqa: E731

    def normal(z, sd):
        return -0.5 * tf.square(z / const(sd)) - const(np.log(sd) + 0.5 * LOG_2PI)

    if model == "linreg":
        def log_prob_fn(beta0, beta1, log_sigma):
            sigma = tf.exp(log_sigma)
            mean = beta0[:, None] + beta1[:, None] * x
            loglik = tf.reduce_sum(-0.5 * tf.square((y - mean) / sigma[:, None]), axis=-1) \
                - x.shape[0] * (log_sigma + const(0.5 * LOG_2PI))
            # HalfNormal(10) on sigma, plus log|d sigma / d log_sigma| = log_sigma
            prior_sigma = normal(sigma, 10.0) + const(np.log(2.0)) + log_sigma
            return loglik + normal(beta0, 10.0) + normal(beta1, 1.0) + prior_sigma
    elif model == "gap5":
        def log_prob_fn(w11, w12, w21, w22, b1):
            mean = (w21[:, None] * tf.sin(w11[:, None] * x) + w22[:, None] * tf.sin(w12[:, None] * x)
                    + b1[:, None])
            loglik = tf.reduce_sum(normal(y - mean, 0.1), axis=-1)
            prior = sum(normal(w, 5.0) for w in (w11, w12, w21, w22, b1))
            return loglik + prior
    elif model == "bnn":
        def log_prob_fn(W1, b1, W2, b2):
            hidden = tf.tanh(x[None, :, None] * W1[:, None, :] + b1[:, None, :])     # [C, N, H]
            mean = tf.einsum("cnh,ch->cn", hidden, W2) + b2[:, None]
            loglik = tf.reduce_sum(normal(y - mean, 0.15), axis=-1)
            prior = (tf.reduce_sum(normal(W1, 1.0), -1) + tf.reduce_sum(normal(b1, 1.0), -1)
                     + tf.reduce_sum(normal(W2, 1.0), -1) + normal(b2, 1.0))
            return loglik + prior
    else:
        raise ValueError(f"unknown model {model!r}; choose from {sorted(MODELS)}")
    return log_prob_fn


# ---------------------------------------------------------------- JAX (NumPyro)

def jax_log_prob(model, data):
    """`log_prob(params) -> scalar` for ONE chain (NumPyro vectorises over chains)."""
    import jax.numpy as jnp

    x, y = jnp.asarray(data["x"], dtype=jnp.float32), jnp.asarray(data["y"], dtype=jnp.float32)

    def normal(z, sd):
        return _normal_lp(z, sd, jnp)

    if model == "linreg":
        def log_prob(p):
            sigma = jnp.exp(p["log_sigma"])
            mean = p["beta0"] + p["beta1"] * x
            loglik = jnp.sum(-0.5 * jnp.square((y - mean) / sigma)) - x.shape[0] * (p["log_sigma"] + 0.5 * LOG_2PI)
            prior_sigma = normal(sigma, 10.0) + jnp.log(2.0) + p["log_sigma"]
            return loglik + normal(p["beta0"], 10.0) + normal(p["beta1"], 1.0) + prior_sigma
    elif model == "gap5":
        def log_prob(p):
            mean = p["w21"] * jnp.sin(p["w11"] * x) + p["w22"] * jnp.sin(p["w12"] * x) + p["b1"]
            return jnp.sum(normal(y - mean, 0.1)) + sum(normal(p[k], 5.0) for k in ("w11", "w12", "w21", "w22", "b1"))
    elif model == "bnn":
        def log_prob(p):
            hidden = jnp.tanh(x[:, None] * p["W1"] + p["b1"])                            # [N, H]
            mean = hidden @ p["W2"] + p["b2"]
            prior = sum(jnp.sum(normal(p[k], 1.0)) for k in ("W1", "b1", "W2", "b2"))
            return jnp.sum(normal(y - mean, 0.15)) + prior
    else:
        raise ValueError(f"unknown model {model!r}")
    return log_prob


# ---------------------------------------------------------------- PyTensor (PyMC)

def pytensor_log_prob(model, data, variables):
    """The log density as a PyTensor expression of `variables` (dict name -> tensor)."""
    import pytensor.tensor as pt

    x, y = pt.as_tensor_variable(data["x"]), pt.as_tensor_variable(data["y"])
    v = variables

    def normal(z, sd):
        return -0.5 * (z / sd) ** 2 - np.log(sd) - 0.5 * LOG_2PI

    if model == "linreg":
        sigma = pt.exp(v["log_sigma"])
        mean = v["beta0"] + v["beta1"] * x
        loglik = pt.sum(-0.5 * pt.sqr((y - mean) / sigma)) - x.shape[0] * (v["log_sigma"] + 0.5 * LOG_2PI)
        prior_sigma = normal(sigma, 10.0) + np.log(2.0) + v["log_sigma"]
        return loglik + normal(v["beta0"], 10.0) + normal(v["beta1"], 1.0) + prior_sigma
    if model == "gap5":
        mean = v["w21"] * pt.sin(v["w11"] * x) + v["w22"] * pt.sin(v["w12"] * x) + v["b1"]
        return pt.sum(normal(y - mean, 0.1)) + sum(normal(v[k], 5.0) for k in ("w11", "w12", "w21", "w22", "b1"))
    if model == "bnn":
        hidden = pt.tanh(x[:, None] * v["W1"] + v["b1"])
        mean = pt.dot(hidden, v["W2"]) + v["b2"]
        prior = sum(pt.sum(normal(v[k], 1.0)) for k in ("W1", "b1", "W2", "b2"))
        return pt.sum(normal(y - mean, 0.15)) + prior
    raise ValueError(f"unknown model {model!r}")


def check_agreement(model, systems=("tf", "jax", "pytensor"), num_points=3, seed=0):
    """Evaluate each system's log density at the same random points; raise if they differ.

    Returns:
        The largest absolute difference from the TensorFlow value (float64 reference).
    """
    spec = MODELS[model]
    data = spec["data"]()
    rng = np.random.default_rng(seed)
    init = {k: np.asarray(v, dtype=float) for k, v in spec["init"].items()}
    points = [{k: v + 0.1 * rng.normal(size=v.shape) for k, v in init.items()} for _ in range(num_points)]
    tf_fn = tf_log_prob(model, data, dtype="float64")
    reference = np.asarray(tf_fn(**{k: np.stack([p[k] for p in points]) for k in init}))
    values = {}
    if "jax" in systems:
        import jax.numpy as jnp

        fn = jax_log_prob(model, data)
        values["jax"] = np.array([float(fn({k: jnp.asarray(v, jnp.float32) for k, v in p.items()})) for p in points])
    if "pytensor" in systems:
        import pytensor
        import pytensor.tensor as pt

        symbols = {k: pt.dvector(k) if v.ndim else pt.dscalar(k) for k, v in init.items()}
        fn = pytensor.function(list(symbols.values()), pytensor_log_prob(model, data, symbols))
        values["pytensor"] = np.array([float(fn(*[p[k] for k in init])) for p in points])
    worst = 0.0
    for system, value in values.items():
        scale = np.maximum(1.0, np.abs(reference))
        error = np.max(np.abs(value - reference) / scale)
        if error > 1e-4:
            raise AssertionError(f"{model}: {system} log density differs from TensorFlow: {value} vs {reference}")
        worst = max(worst, float(error))
    return worst
