"""Variational inference: Gaussian KL, the ELBO, mean-field Gaussian VI, gradient variance.

Variational inference replaces the posterior `p(w | D)` by the member of a
family `q_phi(w)` that maximises the evidence lower bound

    ELBO(phi) = E_q[log p(D | w)] - KL(q_phi(w) || p(w))  <=  log p(D),

and the gap is exactly `KL(q || p(w | D))`. With a mean-field Gaussian
`q = prod_i N(m_i, s_i^2)` and a Gaussian prior the KL is closed form and the
expected log-likelihood is estimated with the reparameterization trick,
`w = m + s * eps`, `eps ~ N(0, I)`, so its gradient reaches `m` and `s`.

Parameters are named, as in `cb.metropolis`: dicts name -> array, and a
`log_likelihood_fn(**params)` that receives each parameter with a leading
sample axis [S, ...] and returns one log-likelihood per sample, shape [S]
(TensorFlow tensors).

`gradient_variance` measures how much the gradient of a Bayesian network's
loss varies over the network's own noise (the weight or activation draws) at
fixed variational parameters and a fixed minibatch: the quantity Flipout and
the local reparameterization trick reduce.

#### References

[1] Blei, Kucukelbir, McAuliffe. Variational inference: a review for
    statisticians. https://arxiv.org/abs/1601.00670
[2] Kingma, Welling. Auto-encoding variational Bayes. https://arxiv.org/abs/1312.6114
[3] Wen, Vicol, Ba, Tran, Grosse. Flipout. https://arxiv.org/abs/1803.04386
"""

import contextlib
import dataclasses
import logging
import time

import numpy as np
import tensorflow as tf
import tf_keras

__all__ = [
    "GradientVariance",
    "MonteCarloEstimate",
    "VIResult",
    "elbo",
    "fit_mean_field",
    "gradient_variance",
    "kl_gaussian",
    "kl_monte_carlo",
    "quiet_retracing_warnings",
]


@contextlib.contextmanager
def quiet_retracing_warnings():
    """Silence TensorFlow's "triggered tf.function retracing" warning inside the block.

    Our helpers compile one small `tf.function` per model or per call on purpose;
    TensorFlow counts those as retracing and warns. Other messages still show.

    #### Examples

    ```python
    with cb.variational.quiet_retracing_warnings():
        pred = cb.bnn.predict(model, grid)
    ```
    """
    logger = tf.get_logger()

    class _NoRetracing(logging.Filter):
        def filter(self, record):
            return "retracing" not in record.getMessage()

    quiet = _NoRetracing()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _positive(name, value):
    value = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(value)) or np.any(value <= 0):
        raise ValueError(f"{name} must be positive and finite, got {value}")
    return value


def _count(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _int_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an int, got {seed!r}")
    return int(seed)


def kl_gaussian(q_mean, q_sd, p_mean, p_sd):
    """Closed-form `KL(N(q_mean, q_sd^2) || N(p_mean, p_sd^2))`, elementwise.

    `KL = log(p_sd / q_sd) + (q_sd^2 + (q_mean - p_mean)^2) / (2 p_sd^2) - 1/2`.
    It is zero only when the two Gaussians are equal, and it is not symmetric:
    `kl_gaussian(a, b, c, d) != kl_gaussian(c, d, a, b)` in general, so it is
    not a distance. Sum the result for a mean-field (diagonal) Gaussian.

    Args:
        q_mean, q_sd: mean and sd of q (broadcastable arrays).
        p_mean, p_sd: mean and sd of p.

    Returns:
        A numpy array (broadcast shape) of KL values in nats.

    Raises:
        ValueError: if a standard deviation is not positive and finite.

    #### Examples

    ```python
    import cs109b_bayes as cb
    cb.variational.kl_gaussian(0.0, 1.0, 1.0, 2.0)   # 0.4431...
    cb.variational.kl_gaussian(1.0, 2.0, 0.0, 1.0)   # 1.3069... (not symmetric)
    ```
    """
    q_sd, p_sd = _positive("q_sd", q_sd), _positive("p_sd", p_sd)
    q_mean, p_mean = np.asarray(q_mean, dtype=float), np.asarray(p_mean, dtype=float)
    return np.log(p_sd / q_sd) + (q_sd**2 + (q_mean - p_mean) ** 2) / (2 * p_sd**2) - 0.5


@dataclasses.dataclass(frozen=True)
class MonteCarloEstimate:
    """A Monte Carlo estimate with its standard error.

    Attributes:
        value: the estimate (sample mean).
        stderr: its Monte Carlo standard error, `sd / sqrt(num_samples)`.
        num_samples: draws used.
        seed: the seed of the draws.
    """

    value: float
    stderr: float
    num_samples: int
    seed: int


def kl_monte_carlo(q_mean, q_sd, p_mean, p_sd, *, num_samples, seed):
    """Monte Carlo `KL(q || p)` of two diagonal Gaussians: `mean_s [log q(w_s) - log p(w_s)]`, `w_s ~ q`.

    Estimates the sum over elements of `kl_gaussian(q_mean, q_sd, p_mean, p_sd)`;
    use it where no closed form exists, or to check one.

    Args:
        q_mean, q_sd, p_mean, p_sd: as in `kl_gaussian` (broadcastable).
        num_samples: draws from q (>= 2).
        seed: int seed of the draws.

    Returns:
        A `MonteCarloEstimate`.

    Raises:
        ValueError: for a non-positive sd, `num_samples` < 2 or a non-int seed.

    #### Examples

    ```python
    est = cb.variational.kl_monte_carlo(0.0, 1.0, 1.0, 2.0, num_samples=10_000, seed=0)
    est.value, est.stderr      # about 0.443 +- 0.006
    ```
    """
    num_samples = _count("num_samples", num_samples, 2)
    seed = _int_seed(seed)
    q_sd, p_sd = _positive("q_sd", q_sd), _positive("p_sd", p_sd)
    q_mean, p_mean = np.asarray(q_mean, dtype=float), np.asarray(p_mean, dtype=float)
    shape = np.broadcast_shapes(q_mean.shape, q_sd.shape, p_mean.shape, p_sd.shape)
    eps = np.random.default_rng(seed).normal(size=(num_samples,) + shape)
    w = q_mean + q_sd * eps
    log_q = -0.5 * eps**2 - np.log(q_sd)
    log_p = -0.5 * ((w - p_mean) / p_sd) ** 2 - np.log(p_sd)
    terms = (log_q - log_p).reshape(num_samples, -1).sum(axis=1)
    return MonteCarloEstimate(float(terms.mean()), float(terms.std(ddof=1) / np.sqrt(num_samples)),
                              num_samples, seed)


def _check_params(name, values):
    if not isinstance(values, dict) or not values:
        raise ValueError(f"{name} must be a non-empty dict name -> array")
    out = {}
    for key, value in values.items():
        array = np.asarray(value, dtype=np.float32)
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name}[{key!r}] must be finite, got {value!r}")
        out[key] = array
    return out


def _per_param(name, value, names):
    if isinstance(value, dict):
        if set(value) != set(names):
            raise ValueError(f"{name} names {sorted(value)} must match the parameter names {sorted(names)}")
        return {n: np.asarray(value[n], dtype=np.float32) for n in names}
    return {n: np.asarray(value, dtype=np.float32) for n in names}


def _log_likelihood(log_likelihood_fn, samples, num_samples):
    value = log_likelihood_fn(**samples)
    value = tf.convert_to_tensor(value, dtype=tf.float32)
    if value.shape.rank != 1 or (value.shape[0] is not None and value.shape[0] != num_samples):
        raise ValueError(f"log_likelihood_fn must return one value per sample, shape [{num_samples}], "
                         f"got shape {value.shape}; sum over data points, keep the sample axis")
    return value


def elbo(log_likelihood_fn, mean, sd, *, prior_sd, num_samples, seed, prior_mean=0.0):
    """The ELBO of a mean-field Gaussian q: Monte Carlo `E_q[log p(D | w)]` minus closed-form KL.

    Args:
        log_likelihood_fn: `log_likelihood_fn(**params) -> [S]`, each parameter with a
            leading sample axis (TensorFlow).
        mean: dict name -> mean of q.
        sd: dict name -> sd of q (positive).
        prior_sd: prior sd, a number or dict name -> array.
        num_samples: Monte Carlo draws S (>= 2).
        seed: int seed.
        prior_mean: prior mean, a number or dict. Default value: 0.

    Returns:
        A `MonteCarloEstimate` of the ELBO (its stderr is that of the expected log-likelihood).

    Raises:
        ValueError: for mismatched names, non-positive sds, bad counts or a log-likelihood
            of the wrong shape.

    #### Examples

    ```python
    def log_likelihood_fn(mu):             # mu: [S]
        return tf.reduce_sum(tfd.Normal(mu[:, None], 1.0).log_prob(y), axis=-1)
    cb.variational.elbo(log_likelihood_fn, {"mu": 0.1}, {"mu": 0.2}, prior_sd=10.0,
                        num_samples=1000, seed=0)
    ```
    """
    num_samples = _count("num_samples", num_samples, 2)
    seed = _int_seed(seed)
    mean = _check_params("mean", mean)
    sd = _per_param("sd", sd, list(mean))
    prior_sd = _per_param("prior_sd", prior_sd, list(mean))
    prior_mean = _per_param("prior_mean", prior_mean, list(mean))
    rng = np.random.default_rng(seed)
    samples = {}
    for n in mean:
        draws = mean[n] + _positive(f"sd[{n!r}]", sd[n]) * rng.normal(size=(num_samples,) + mean[n].shape)
        samples[n] = tf.constant(draws, tf.float32)
    log_lik = _log_likelihood(log_likelihood_fn, samples, num_samples).numpy().astype(float)
    kl = sum(float(np.sum(kl_gaussian(mean[n], sd[n], prior_mean[n], prior_sd[n]))) for n in mean)
    return MonteCarloEstimate(float(log_lik.mean() - kl), float(log_lik.std(ddof=1) / np.sqrt(num_samples)),
                              num_samples, seed)


@dataclasses.dataclass(frozen=True)
class VIResult:
    """A fitted mean-field Gaussian `q(w) = prod N(mean, sd^2)`.

    Attributes:
        mean: dict name -> mean of q.
        sd: dict name -> sd of q.
        elbo: array [num_steps] of the ELBO estimate at each step.
        seconds: wall time of the fit (tracing included).
        seed: the seed of the fit.
        num_steps: optimisation steps.
    """

    mean: dict
    sd: dict
    elbo: np.ndarray
    seconds: float
    seed: int
    num_steps: int

    def sample(self, name, num_samples, *, seed):
        """Draws of parameter `name` from q, shape [num_samples, ...].

        #### Examples

        ```python
        beta = vi.sample("beta", 1000, seed=0)
        ```
        """
        rng = np.random.default_rng(_int_seed(seed))
        shape = (_count("num_samples", num_samples),) + np.shape(self.mean[name])
        return self.mean[name] + self.sd[name] * rng.normal(size=shape)


def fit_mean_field(log_likelihood_fn, init, *, prior_sd, num_steps, seed, prior_mean=0.0, num_samples=16,
                   learning_rate=0.05, init_sd=0.1, elbo_fn=None):
    """Fit a mean-field Gaussian q to a small model by maximising the reparameterised ELBO.

    Each step draws `eps ~ N(0, I)` (stateless, from `seed` and the step
    number), sets `w = m + exp(log_s) * eps`, estimates
    `ELBO = mean_S log p(D | w) - KL(q || p)` and takes an Adam step on
    `(m, log_s)`. The learning rate decays by cosine to 5% of its value; the
    returned `m` and `s` are averages of the iterates over the last quarter of
    the run (Polyak averaging removes most of the gradient noise).

    Args:
        log_likelihood_fn: `log_likelihood_fn(**params) -> [S]` (TensorFlow), each
            parameter with a leading sample axis. May be None when `elbo_fn` is given.
        init: dict name -> initial mean (also fixes each parameter's shape).
        prior_sd: sd of the Gaussian prior, a number or dict name -> array.
        num_steps: optimisation steps (>= 4).
        seed: int seed.
        prior_mean: prior mean, a number or dict. Default value: 0.
        num_samples: Monte Carlo draws S per step. Default value: 16.
        learning_rate: initial Adam learning rate. Default value: 0.05.
        init_sd: initial sd of q. Default value: 0.1.
        elbo_fn: optional `elbo_fn(mean, sd, eps) -> scalar ELBO estimate`
            (dicts of tensors; `eps[name]` has shape [S, ...]) that replaces the
            built-in estimate, e.g. one written by a student. Default value: None.

    Returns:
        A `VIResult`.

    Raises:
        ValueError: for non-finite `init`, mismatched names, a non-positive
            sd, bad counts, no log-likelihood and no `elbo_fn`, or an ELBO that
            is not a finite scalar.

    #### Examples

    ```python
    def log_likelihood_fn(beta):                       # beta: [S, 2]
        mu = beta[:, :1] + beta[:, 1:] * x[None, :]
        return tf.reduce_sum(tfd.Normal(mu, 3.26).log_prob(y), axis=-1)
    vi = cb.variational.fit_mean_field(log_likelihood_fn, {"beta": [0.0, 0.0]},
                                       prior_sd=10.0, num_steps=2000, seed=0)
    vi.mean["beta"], vi.sd["beta"]
    ```

    #### References

    [1] Kucukelbir et al. Automatic differentiation variational inference. https://arxiv.org/abs/1603.00788
    """
    init = _check_params("init", init)
    names = list(init)
    num_steps = _count("num_steps", num_steps, 4)
    num_samples = _count("num_samples", num_samples)
    seed = _int_seed(seed)
    prior_sd = {n: _positive("prior_sd", v).astype(np.float32)
                for n, v in _per_param("prior_sd", prior_sd, names).items()}
    prior_mean = _per_param("prior_mean", prior_mean, names)
    _positive("learning_rate", learning_rate)
    _positive("init_sd", init_sd)
    if log_likelihood_fn is None and elbo_fn is None:
        raise ValueError("give log_likelihood_fn, or an elbo_fn that computes the whole ELBO")
    means = {n: tf.Variable(v, name=f"{n}_mean") for n, v in init.items()}
    log_sds = {n: tf.Variable(np.full(v.shape, np.log(init_sd), np.float32), name=f"{n}_log_sd")
               for n, v in init.items()}
    variables = list(means.values()) + list(log_sds.values())
    schedule = tf_keras.optimizers.schedules.CosineDecay(float(learning_rate), num_steps, alpha=0.05)
    optimizer = tf_keras.optimizers.Adam(schedule)
    optimizer.build(variables)

    def estimate(step):
        mean = dict(means)
        sd = {n: tf.exp(v) for n, v in log_sds.items()}
        eps = {n: tf.random.stateless_normal((num_samples,) + tuple(init[n].shape),
                                             seed=tf.stack([tf.constant(seed, tf.int64), step * len(names) + i]))
               for i, n in enumerate(names)}
        if elbo_fn is not None:
            return tf.reshape(tf.cast(elbo_fn(mean, sd, eps), tf.float32), [])
        samples = {n: mean[n] + sd[n] * eps[n] for n in names}
        log_lik = tf.reduce_mean(_log_likelihood(log_likelihood_fn, samples, num_samples))
        kl = tf.add_n([tf.reduce_sum(tf.math.log(prior_sd[n] / sd[n])
                                     + (sd[n] ** 2 + (mean[n] - prior_mean[n]) ** 2) / (2 * prior_sd[n] ** 2) - 0.5)
                       for n in names])
        return log_lik - kl

    @tf.function
    def train_step(step):
        with tf.GradientTape() as tape:
            value = estimate(step)
            loss = -value
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return value

    start = time.perf_counter()
    trace = np.empty(num_steps)
    first_kept = num_steps - max(1, num_steps // 4)
    sums = {n: np.zeros(v.shape) for n, v in init.items()}
    log_sd_sums = {n: np.zeros(v.shape) for n, v in init.items()}
    for step in range(num_steps):
        trace[step] = float(train_step(tf.constant(step, tf.int64)))
        if step == 0 and not np.isfinite(trace[0]):
            raise ValueError(f"the ELBO is not finite at the initial q: {trace[0]}")
        if step >= first_kept:
            for n in names:
                sums[n] += means[n].numpy()
                log_sd_sums[n] += log_sds[n].numpy()
    count = num_steps - first_kept
    return VIResult(
        mean={n: sums[n] / count for n in names},
        sd={n: np.exp(log_sd_sums[n] / count) for n in names},
        elbo=trace, seconds=time.perf_counter() - start, seed=seed, num_steps=num_steps,
    )


@dataclasses.dataclass(frozen=True)
class GradientVariance:
    """Variance of a loss gradient over the model's own noise, at fixed parameters and data.

    Attributes:
        variance: dict variable name -> per-element variance of the gradient over draws.
        mean_gradient: dict variable name -> per-element mean gradient.
        mean_variance: the per-element variance averaged over every element of
            every measured variable (one number to compare models).
        num_draws: noise draws used.
        batch_size: examples in the minibatch.
        seconds: wall time (tracing included).
        seed: the seed of the draws.
    """

    variance: dict
    mean_gradient: dict
    mean_variance: float
    num_draws: int
    batch_size: int
    seconds: float
    seed: int


def _default_loss(model, x, y):
    output = model(x, training=True)
    if hasattr(output, "log_prob"):
        data_term = tf.reduce_mean(-output.log_prob(y))
    else:
        data_term = tf.reduce_mean(tf.square(output - y))
    return data_term + (tf.add_n(model.losses) if model.losses else 0.0)


def gradient_variance(model, x, y, *, num_draws=100, seed, variables=None, loss_fn=None):
    """Variance of the minibatch loss gradient over `num_draws` draws of the model's noise.

    Holds the variational parameters and the minibatch `(x, y)` fixed and
    recomputes the gradient of the loss `num_draws` times; the only thing that
    changes between draws is the randomness inside the model (the weight
    sample of Bayes by Backprop, Flipout's signs, the local
    reparameterization's activation noise, dropout masks...). The default loss
    is the training loss of `cb.bnn` models: mean NLL over the batch (mean
    squared error for a plain tensor output) plus `sum(model.losses)`.

    Args:
        model: a tf_keras model (e.g. from `cb.bnn.build_regressor`).
        x: the minibatch inputs, shape [B, input_dim] (or [B] for one feature).
        y: the minibatch targets, shape [B] or [B, 1].
        num_draws: noise draws (>= 2). Default value: 100.
        seed: int seed. Draw d of a `cb.bnn` model's layers is stateless, seeded by
            `fold_in(seed_pair(seed), d)`: the same seed gives the same draws whatever ran
            before. Other layers' stateful ops are seeded (best effort, order-dependent) by
            `tf_keras.utils.set_random_seed(seed)`.
        variables: the variables whose gradient is measured. Default value: all
            trainable variables of the model.
        loss_fn: `loss_fn(model, x, y) -> scalar` to use instead of the default.
            Default value: None.

    Returns:
        A `GradientVariance`.

    Raises:
        ValueError: for `num_draws` < 2, an empty or non-finite batch, `x` and `y`
            of different lengths, or a variable without a gradient.

    #### Examples

    ```python
    model = cb.bnn.build_regressor("flipout", num_train=300, seed=0)
    gv = cb.variational.gradient_variance(model, het.x[:64], het.y[:64], num_draws=200, seed=1)
    gv.mean_variance
    ```

    #### References

    [1] Wen et al. Flipout, section 4 and figure 2. https://arxiv.org/abs/1803.04386
    [2] Kingma, Salimans, Welling. Variational dropout and the local reparameterization
        trick. https://arxiv.org/abs/1506.02557
    """
    num_draws = _count("num_draws", num_draws, 2)
    seed = _int_seed(seed)
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    y = np.asarray(y, dtype=np.float32).reshape(-1, 1)
    if x.ndim != 2 or len(x) == 0 or len(x) != len(y):
        raise ValueError(f"x must be [B, input_dim] and y [B] with the same B >= 1; got {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x and y must be finite")
    loss_fn = loss_fn or _default_loss
    if model.built is False:
        model(x)
    variables = list(model.trainable_variables if variables is None else variables)
    if not variables:
        raise ValueError("there are no variables to measure")
    from cs109b_bayes import bnn  # noqa: PLC0415  (bnn imports this module)

    tf_keras.utils.set_random_seed(seed)   # for stateful layers not from cb.bnn only
    inputs, targets = tf.constant(x), tf.constant(y)
    base_seed = bnn._seed_pair(seed, "gradient_variance")

    @tf.function
    def gradients():
        def one_draw(draw):
            noise_seed = tf.random.experimental.stateless_fold_in(base_seed, draw)
            with tf.GradientTape() as tape, bnn._stateless_noise(noise_seed):
                loss = loss_fn(model, inputs, targets)
            grads = tape.gradient(loss, variables)
            return [tf.zeros_like(v) * np.nan if g is None else tf.convert_to_tensor(g)
                    for g, v in zip(grads, variables)]

        signature = [tf.TensorSpec(v.shape, v.dtype) for v in variables]
        return tf.map_fn(one_draw, tf.range(num_draws), fn_output_signature=signature)

    start = time.perf_counter()
    with quiet_retracing_warnings():
        draws = gradients()
    variance, mean_gradient = {}, {}
    for var, values in zip(variables, draws):
        values = values.numpy().astype(float)
        if np.all(np.isnan(values)):
            raise ValueError(f"variable {var.name} gets no gradient from the loss")
        variance[var.name] = values.var(axis=0, ddof=1)
        mean_gradient[var.name] = values.mean(axis=0)
    mean_variance = float(np.mean(np.concatenate([v.ravel() for v in variance.values()])))
    return GradientVariance(variance, mean_gradient, mean_variance, num_draws, len(x),
                            time.perf_counter() - start, seed)
