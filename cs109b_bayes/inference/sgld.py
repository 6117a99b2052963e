"""Stochastic-gradient Langevin dynamics (SGLD), and its preconditioned variant (pSGLD).

TensorFlow Probability's `StochasticGradientLangevinDynamics` optimizer does not run
in TF2 (it raises in eager mode, and fails inside `tf.function`), so SGLD is ours.
One step, for a minibatch B of n of the N examples (Welling & Teh 2011):

    g_t = grad log p(theta) + (N / n) sum_{i in B} grad log p(x_i | theta),
    theta <- theta + (eps_t / 2) g_t + N(0, eps_t),
    eps_t = step_size * (1 + t / decay_steps) ** (-decay_power).

With `preconditioned=True` (pSGLD, Li et al. 2016) each coordinate gets its own
step, scaled by an RMSprop estimate of the gradient's size:
`V <- a V + (1 - a) g^2`, `G = 1 / (1e-5 + sqrt(V))`,
`theta <- theta + (eps/2) G g + N(0, eps G)` (the small correction term of the
paper is dropped, as the paper does in its experiments).

SGLD never accepts or rejects: with a finite step it samples a slightly wrong
distribution (for a Gaussian target of variance s^2 the variance is inflated by about
`eps / (4 s^2)` relatively, plus the minibatch noise), which vanishes as eps -> 0.

#### Examples

```python
import numpy as np, tensorflow as tf, cs109b_bayes as cb
x = np.linspace(-1, 1, 200); y = 0.5 + 2.0 * x + 0.3 * np.sin(9 * x)
def log_likelihood(xb, yb, beta0, beta1):          # [num_chains] params, [n] data -> [num_chains, n]
    mean = beta0[:, None] + beta1[:, None] * xb[None, :]
    return -0.5 * ((yb[None, :] - mean) / 0.3) ** 2
result = cb.sample_sgld(log_likelihood, {"beta0": 0.0, "beta1": 0.0}, data=(x, y),
                        num_results=2000, num_burnin_steps=1000, step_size=1e-4, batch_size=20, seed=0)
print(result.summary())
```

#### References

[1] Welling, Teh. Bayesian learning via stochastic gradient Langevin dynamics. ICML 2011.
    https://www.stats.ox.ac.uk/~teh/research/compstats/WelTeh2011a.pdf
[2] Li, Chen, Carlson, Carin. Preconditioned stochastic gradient Langevin dynamics for deep
    neural networks. AAAI 2016. https://arxiv.org/abs/1512.07666
"""

import time

import numpy as np

from cs109b_bayes import progress as progress_bars
from cs109b_bayes import seeds
from cs109b_bayes.inference import start, validation
from cs109b_bayes.inference.result import MCMCResult

__all__ = ["sample_sgld", "sgld_step_sizes"]

_PRECONDITIONER_EPSILON = 1e-5   # lambda of pSGLD: keeps 1 / sqrt(V) finite
_NUM_CHUNKS = 20                 # the run is split into about this many compiled chunks (progress bar)


def sgld_step_sizes(num_steps, *, step_size, decay_power=0.0, decay_steps=1000):
    """The step-size schedule `eps_t = step_size * (1 + t / decay_steps) ** (-decay_power)`.

    `decay_power=0` is a constant step; Welling & Teh's polynomial decay uses a power
    in (0.5, 1], which makes the sum of the steps diverge and the sum of their squares
    converge (so the discretisation error vanishes along the run).

    Args:
        num_steps: steps t = 0, ..., num_steps - 1 (>= 1).
        step_size: eps_0 (> 0).
        decay_power: gamma >= 0. Default value: 0.0 (constant).
        decay_steps: the time scale of the decay (> 0). Default value: 1000.

    Returns:
        A float64 array [num_steps].

    Raises:
        ValueError: for a non-positive count, step size or time scale, or a negative power.

    #### Examples

    ```python
    sgld_step_sizes(3, step_size=0.1, decay_power=1.0, decay_steps=1)   # [0.1, 0.05, 0.0333]
    ```
    """
    validation.check_count("num_steps", num_steps)
    validation.check_positive("step_size", step_size)
    decay_power = validation.check_non_negative("decay_power", decay_power)
    validation.check_positive("decay_steps", decay_steps)
    if isinstance(step_size, bool) or np.ndim(step_size) or np.ndim(decay_steps):
        raise ValueError(f"step_size and decay_steps must be numbers, got {step_size!r}, {decay_steps!r}")
    step_size, decay_steps = float(step_size), float(decay_steps)
    return step_size * (1.0 + np.arange(num_steps) / decay_steps) ** (-decay_power)


def _checked_data(data):
    if not isinstance(data, (tuple, list)) or not data:
        raise ValueError("data must be a non-empty tuple of arrays sharing their first axis, e.g. (x, y)")
    arrays = [np.asarray(a) for a in data]
    sizes = {a.shape[0] if a.ndim else None for a in arrays}
    if None in sizes or len(sizes) != 1:
        raise ValueError(f"the arrays of data must share their first axis (examples), got shapes "
                         f"{[a.shape for a in arrays]}")
    for a in arrays:
        if not np.issubdtype(a.dtype, np.number) or not np.all(np.isfinite(a)):
            raise ValueError("data must be finite numbers")
    return arrays, sizes.pop()


def _make_runner(log_likelihood_fn, log_prior_fn, names, arrays, batch_size, preconditioned, rmsprop_decay,
                 dtype, jit_compile):
    import tensorflow as tf

    data = [tf.constant(a, dtype if np.issubdtype(a.dtype, np.floating) else None) for a in arrays]
    num_examples = arrays[0].shape[0]
    scale = tf.constant(num_examples / batch_size, dtype)

    def log_density(params, batch):
        like = log_likelihood_fn(*batch, **params)
        value = scale * tf.reduce_sum(like, axis=-1)
        if log_prior_fn is not None:
            value = value + log_prior_fn(**params)
        return value

    def step(i, first_step, step_sizes, record_every, seed, state, moments, records, log_probs):
        step_seed = tf.random.experimental.stateless_fold_in(seed, first_step + i)
        batch_seed, noise_seed = tf.unstack(tf.random.experimental.stateless_split(step_seed, 2))
        order = tf.argsort(tf.random.stateless_uniform([num_examples], batch_seed))[:batch_size]
        batch = [tf.gather(d, order) for d in data]
        with tf.GradientTape() as tape:
            tape.watch(state)
            value = log_density(dict(zip(names, state)), batch)
            total = tf.reduce_sum(value)      # chains are independent: one gradient gives every chain's
        grads = tape.gradient(total, state)
        k = i // record_every
        keep = tf.equal(i % record_every, 0)
        records = [tf.cond(keep, lambda r=r, s=s: r.write(k, s), lambda r=r: r) for r, s in zip(records, state)]
        log_probs = tf.cond(keep, lambda: log_probs.write(k, value), lambda: log_probs)
        eps = tf.cast(step_sizes[i], dtype)
        noise_seeds = tf.unstack(tf.random.experimental.stateless_split(noise_seed, len(names)))
        new_state, new_moments = [], []
        for s, g, v, ns in zip(state, grads, moments, noise_seeds):
            if preconditioned:
                v = rmsprop_decay * v + (1.0 - rmsprop_decay) * tf.square(g)
                precondition = 1.0 / (_PRECONDITIONER_EPSILON + tf.sqrt(v))
            else:
                precondition = tf.ones_like(s)
            noise = tf.random.stateless_normal(tf.shape(s), ns, dtype=dtype)
            new_state.append(s + 0.5 * eps * precondition * g + tf.sqrt(eps * precondition) * noise)
            new_moments.append(v)
        return new_state, new_moments, records, log_probs

    @tf.function(jit_compile=jit_compile, autograph=False)
    def run(state, moments, step_sizes, num_steps, first_step, record_every, seed):
        # Every chunk has the same shapes (step_sizes padded, as many record slots as steps): one trace.
        size = tf.shape(step_sizes)[0]
        records = [tf.TensorArray(dtype, size=size, element_shape=s.shape) for s in state]
        log_probs = tf.TensorArray(dtype, size=size, element_shape=state[0].shape[:1])

        def body(i, state, moments, records, log_probs):
            state, moments, records, log_probs = step(i, first_step, step_sizes, record_every, seed, state,
                                                      moments, records, log_probs)
            return i + 1, state, moments, records, log_probs

        _, state, moments, records, log_probs = tf.while_loop(
            lambda i, *_: i < num_steps, body, (tf.constant(0), state, moments, records, log_probs),
            maximum_iterations=size)
        return state, moments, [r.stack() for r in records], log_probs.stack()

    return run


def sample_sgld(log_likelihood_fn, init, *, data, num_results, seed, log_prior_fn=None, num_chains=4,
                batch_size=32, step_size=1e-4, decay_power=0.0, decay_steps=1000, num_burnin_steps=1000,
                thinning=1, preconditioned=False, rmsprop_decay=0.99, init_jitter=0.1, dtype="float32",
                jit_compile=True, progress=None):
    """Posterior draws by stochastic-gradient Langevin dynamics, as an `MCMCResult`.

    Each step draws a minibatch of `batch_size` examples (without replacement,
    stateless), takes the gradient of `log p(theta) + (N / n) sum_batch log p(x_i | theta)`
    and moves `theta` by half the step size times it plus Gaussian noise of variance
    the step size (see the module docstring). The first `num_burnin_steps` steps are
    discarded; then every `thinning`-th state is kept, `num_results` per chain. Draws are
    not weighted by their step size.

    Args:
        log_likelihood_fn: `fn(*batch, **params) -> [num_chains, n]`, the log-likelihood of
            each example of a minibatch (`batch` are the arrays of `data`, each cut to the n
            examples); each parameter has a leading chain axis. TensorFlow ops.
        init: dict name -> starting value (number or array, no chain axis).
        data: tuple of arrays sharing their first axis, the N examples, e.g. `(x, y)`.
        num_results: kept draws per chain (>= 4).
        seed: int; minibatches, noise and the start jitter derive from it (stateless).
        log_prior_fn: `fn(**params) -> [num_chains]`, or None for a flat prior.
            Default value: None.
        num_chains: independent chains, run as one batch. Default value: 4.
        batch_size: minibatch size n (<= N). Default value: 32.
        step_size: eps_0 (> 0). Default value: 1e-4.
        decay_power: gamma of `eps_t = step_size (1 + t / decay_steps)^-gamma`; 0 keeps the step
            constant. Default value: 0.0.
        decay_steps: the decay's time scale. Default value: 1000.
        num_burnin_steps: steps discarded first (>= 0). Default value: 1000.
        thinning: keep every `thinning`-th state after burn-in (>= 1). Default value: 1.
        preconditioned: pSGLD (RMSprop preconditioner). Default value: False.
        rmsprop_decay: the preconditioner's moving-average weight, in [0, 1). Default value: 0.99.
        init_jitter: sd of the Gaussian jitter added to `init` per chain. Default value: 0.1.
        dtype: `"float32"` or `"float64"`. Default value: `"float32"`.
        jit_compile: compile the steps with XLA. Default value: True.
        progress: progress bar over chunks of steps (see `cb.progress.enabled`). Default value: None.

    Returns:
        An `MCMCResult` with `kernel="sgld"` (or `"psgld"`), `acceptance_rate` 1 (SGLD
        accepts every step), `step_size` the last step size, `log_prob` the MINIBATCH
        estimate of the log posterior at each kept draw (not the full-data value), `seconds`
        the steps' wall time (tracing and compiling included: they happen in the first chunk)
        and `compile_seconds` the set-up before it.

    Raises:
        TypeError: if `seed` is not an int.
        ValueError: for non-finite `init`, mismatched or non-finite `data`, a count out of
            range (`batch_size` above N), a non-positive step size or decay scale, a negative
            power, `rmsprop_decay` outside [0, 1), an unknown dtype, or a log-likelihood that is
            not [num_chains, n].
        RuntimeError: if the chains produce non-finite states (step size too large).

    #### Examples

    ```python
    result = cb.sample_sgld(log_likelihood, {"beta0": 0.0, "beta1": 0.0}, data=(x, y), num_results=2000,
                            step_size=1e-4, batch_size=20, seed=0)
    result.flat("beta1").mean(), result.ess["beta1"]
    ```

    #### References

    [1] Welling, Teh. Bayesian learning via stochastic gradient Langevin dynamics. ICML 2011.
    [2] Li et al. Preconditioned SGLD for deep neural networks. AAAI 2016. https://arxiv.org/abs/1512.07666
    """
    values = start.check_init(init)
    arrays, num_examples = _checked_data(data)
    validation.check_count("num_results", num_results, minimum=4)
    validation.check_count("num_burnin_steps", num_burnin_steps, minimum=0)
    validation.check_count("num_chains", num_chains)
    validation.check_count("thinning", thinning)
    validation.check_count("batch_size", batch_size)
    if batch_size > num_examples:
        raise ValueError(f"batch_size must be at most the {num_examples} examples of data, got {batch_size}")
    init_jitter = validation.check_non_negative("init_jitter", init_jitter)
    if isinstance(rmsprop_decay, bool) or not 0.0 <= float(rmsprop_decay) < 1.0:
        raise ValueError(f"rmsprop_decay must be in [0, 1), got {rmsprop_decay!r}")
    validation.check_choice("dtype", dtype, ("float32", "float64"))
    validation.check_flag("preconditioned", preconditioned)
    validation.check_flag("jit_compile", jit_compile)
    seed = seeds.check_seed(seed)
    num_steps = num_burnin_steps + num_results * thinning
    step_sizes = sgld_step_sizes(num_steps, step_size=step_size, decay_power=decay_power, decay_steps=decay_steps)
    starts = start.jittered_start(values, num_chains, init_jitter, seeds.numpy_rng(seed, "sgld_init"))

    import tensorflow as tf

    names = list(values)
    compile_started = time.perf_counter()
    run = _make_runner(log_likelihood_fn, log_prior_fn, names, arrays, int(batch_size), bool(preconditioned),
                       float(rmsprop_decay), tf.as_dtype(dtype), bool(jit_compile))
    state = [tf.constant(starts[name], dtype) for name in names]
    moments = [tf.zeros_like(s) for s in state]
    _check_log_likelihood(log_likelihood_fn, log_prior_fn, names, state, arrays, num_chains, dtype)
    compile_seconds = time.perf_counter() - compile_started
    stateless = tf.constant(seeds.stateless_seed(seed, "sgld"))
    draws = {name: [] for name in names}
    log_probs = []
    started = time.perf_counter()
    chunks = _chunks(num_burnin_steps, num_results, thinning)
    padded = max(count for _, count, _ in chunks)
    for first, count, keep in progress_bars.iterate(chunks, desc="SGLD", unit="chunk", progress=progress):
        record_every = thinning if keep else count
        sizes = np.zeros(padded)
        sizes[:count] = step_sizes[first:first + count]
        state, moments, records, values_kept = run(
            state, moments, tf.constant(sizes, dtype), tf.constant(count, tf.int32), tf.constant(first, tf.int32),
            tf.constant(record_every, tf.int32), stateless)
        if not all(np.all(np.isfinite(s.numpy())) for s in state):
            raise RuntimeError(f"SGLD chains reached non-finite values by step {first + count}: the step size "
                               f"{step_sizes[first]:.3g} is too large for this posterior; make it smaller")
        if keep:
            num_records = count // thinning
            for name, record in zip(names, records):
                draws[name].append(record.numpy()[:num_records])
            log_probs.append(values_kept.numpy()[:num_records])
    seconds = time.perf_counter() - started
    samples = {name: np.moveaxis(np.concatenate(parts), 0, 1) for name, parts in draws.items()}
    return MCMCResult.from_draws(
        samples, log_prob=np.concatenate(log_probs).T, acceptance_rate=1.0, step_size=float(step_sizes[-1]),
        seconds=seconds, compile_seconds=compile_seconds, seed=seed,
        kernel="psgld" if preconditioned else "sgld", num_burnin_steps=num_burnin_steps)


def _chunks(num_burnin_steps, num_results, thinning):
    """(first step, number of steps, keep?) per chunk; kept chunks are whole multiples of `thinning`."""
    chunks, first = [], 0
    burn_size = max(1, -(-num_burnin_steps // _NUM_CHUNKS))
    while first < num_burnin_steps:
        count = min(burn_size, num_burnin_steps - first)
        chunks.append((first, count, False))
        first += count
    keep_size = thinning * max(1, -(-num_results // _NUM_CHUNKS))
    end = num_burnin_steps + num_results * thinning
    while first < end:
        count = min(keep_size, end - first)
        chunks.append((first, count, True))
        first += count
    return chunks


def _check_log_likelihood(log_likelihood_fn, log_prior_fn, names, state, arrays, num_chains, dtype):
    """One eager call on two examples: the shapes the sampler needs, with a clear message."""
    import tensorflow as tf

    params = dict(zip(names, state))
    batch = [tf.constant(a[:2], dtype if np.issubdtype(a.dtype, np.floating) else None) for a in arrays]
    like = log_likelihood_fn(*batch, **params)
    if tuple(like.shape) != (num_chains, 2):
        raise ValueError(f"log_likelihood_fn must return one log-likelihood per chain and example, shape "
                         f"[num_chains, n] = [{num_chains}, 2] on a batch of 2, got {tuple(like.shape)}")
    if log_prior_fn is not None:
        prior = log_prior_fn(**params)
        if tuple(prior.shape) != (num_chains,):
            raise ValueError(f"log_prior_fn must return one value per chain, shape [{num_chains}], got "
                             f"{tuple(prior.shape)}")
