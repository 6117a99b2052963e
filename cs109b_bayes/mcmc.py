"""Samplers: numpy Metropolis, compiled TFP HMC/NUTS, and the bootstrap.

Both MCMC samplers take parameters by name. `init` maps each name to its
initial value (no chain dimension); chains start there with a little seeded
jitter. `log_prob_fn(**params)` receives each parameter with a leading chain
dimension and returns one log-density per chain (numpy arrays for
`metropolis`, TensorFlow tensors for `sample_hmc`). Both return an
`MCMCResult`.
"""

import inspect
import time

import numpy as np

from cs109b_bayes.diagnostics import MCMCResult

__all__ = ["bootstrap", "metropolis", "sample_hmc"]


def _check_init(init):
    if not isinstance(init, dict) or not init:
        raise ValueError(f"init must be a non-empty dict name -> initial value, got {type(init).__name__}")
    values = {}
    for name, value in init.items():
        array = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(array)):
            raise ValueError(f"init[{name!r}] must be finite, got {value!r}")
        values[name] = array
    return values


def _check_signature(log_prob_fn, names):
    if not callable(log_prob_fn):
        raise ValueError(f"log_prob_fn must be callable, got {type(log_prob_fn).__name__}")
    try:
        params = inspect.signature(log_prob_fn).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    accepted = {n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    required = {n for n in accepted if params[n].default is inspect.Parameter.empty}
    unknown, missing = set(names) - accepted, required - set(names)
    if unknown or missing:
        raise ValueError(
            f"init names {sorted(names)} do not match the parameters of log_prob_fn {sorted(accepted)}"
            + (f"; not parameters: {sorted(unknown)}" if unknown else "")
            + (f"; missing from init: {sorted(missing)}" if missing else "")
        )


def _check_log_prob(value, num_chains, where):
    value = np.asarray(value, dtype=float)
    if value.shape != (num_chains,):
        raise ValueError(
            f"log_prob_fn must return one log-density per chain, shape ({num_chains},), "
            f"but returned shape {value.shape} {where}; sum over data points, keep the chain axis"
        )
    if not np.all(np.isfinite(value)):
        raise ValueError(f"log_prob_fn is not finite {where}: {value}; start from a point of positive density")


def _check_positive(name, value):
    values = np.asarray(list(value.values()) if isinstance(value, dict) else value, dtype=float)
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(f"{name} must be positive, got {value!r}")


def _check_count(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _stateless_seed(seed):
    """An int seed as a stateless [2] int32 seed (TFP turns a bare int into a stateful op)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an int, got {seed!r}")
    return np.random.SeedSequence(int(seed)).generate_state(2).view(np.int32)


def _start(values, num_chains, init_jitter, rng_normal):
    return {
        name: np.broadcast_to(v, (num_chains,) + v.shape) + init_jitter * rng_normal(name, (num_chains,) + v.shape)
        for name, v in values.items()
    }


def metropolis(log_prob_fn, init, *, proposal_scale, num_steps, seed, burn_in=0.3,
               num_chains=1, init_jitter=0.1):
    """Random-walk Metropolis in numpy, vectorised over chains.

    Each step proposes `theta* = theta + proposal_scale * N(0, I)` for every
    chain and accepts it with probability `min(1, p(theta* | D) / p(theta | D))`
    (the Gaussian proposal is symmetric, so its density cancels). The first
    `burn_in` fraction of steps is discarded.

    Args:
        log_prob_fn: `log_prob_fn(**params) -> [num_chains]` unnormalised log posterior,
            each parameter with a leading chain axis (numpy).
        init: dict name -> initial value (no chain axis).
        proposal_scale: positive float, or dict name -> positive float or array.
        num_steps: total steps per chain, burn-in included.
        seed: int seed; the same seed gives identical samples.
        burn_in: fraction of steps discarded, in [0, 1). Default value: 0.3.
        num_chains: independent chains, run in lock step. Default value: 1.
        init_jitter: sd of the Gaussian jitter added to `init` per chain; 0 starts
            every chain exactly at `init`. Default value: 0.1.

    Returns:
        An `MCMCResult` (`kernel="metropolis"`, `step_size` = the proposal scale).

    Raises:
        ValueError: for non-finite `init`, names that do not match `log_prob_fn`,
            a non-positive proposal scale, `num_steps` < 1 or too few kept draws,
            `burn_in` outside [0, 1), a log-density with the wrong shape or not
            finite at the start.

    #### Examples

    ```python
    import numpy as np, cs109b_bayes as cb
    def log_prob_fn(mu):                      # mu has shape [num_chains]
        return -0.5 * (mu - 1.0) ** 2
    result = cb.metropolis(log_prob_fn, {"mu": 0.0}, proposal_scale=1.0,
                           num_steps=5000, num_chains=4, seed=0)
    result.summary()                          # mean close to 1, sd close to 1
    ```

    #### References

    [1] Metropolis, Rosenbluth, Rosenbluth, Teller, Teller. Equation of state
        calculations by fast computing machines. J. Chem. Phys., 1953.
    """
    values = _check_init(init)
    _check_signature(log_prob_fn, list(values))
    _check_count("num_steps", num_steps)
    _check_count("num_chains", num_chains)
    if not 0.0 <= float(burn_in) < 1.0:
        raise ValueError(f"burn_in must be a fraction in [0, 1), got {burn_in!r}")
    _check_positive("proposal_scale", proposal_scale)
    if init_jitter < 0:
        raise ValueError(f"init_jitter must be >= 0, got {init_jitter!r}")
    num_burnin = int(burn_in * num_steps)
    num_kept = num_steps - num_burnin
    if num_kept < 4:
        raise ValueError(f"num_steps={num_steps} with burn_in={burn_in} keeps {num_kept} draws; need at least 4")
    if isinstance(proposal_scale, dict):
        if set(proposal_scale) != set(values):
            raise ValueError(f"proposal_scale names {sorted(proposal_scale)} must match init names {sorted(values)}")
        scales = {n: np.asarray(proposal_scale[n], dtype=float) for n in values}
    else:
        scales = {n: float(proposal_scale) for n in values}

    rng = np.random.default_rng(seed)
    state = _start(values, num_chains, init_jitter, lambda _, shape: rng.normal(size=shape))
    log_prob = np.asarray(log_prob_fn(**state), dtype=float)
    _check_log_prob(log_prob, num_chains, "at the initial state")
    kept = {n: np.empty((num_kept,) + v.shape) for n, v in state.items()}
    kept_log_prob = np.empty((num_kept, num_chains))
    accept_prob = np.empty((num_kept, num_chains))
    start = time.perf_counter()
    for step in range(num_steps):
        proposal = {n: v + scales[n] * rng.normal(size=v.shape) for n, v in state.items()}
        proposal_log_prob = np.asarray(log_prob_fn(**proposal), dtype=float).reshape(num_chains)
        log_ratio = np.where(np.isnan(proposal_log_prob), -np.inf, proposal_log_prob - log_prob)
        accept = np.log(rng.uniform(size=num_chains)) < log_ratio
        for n in state:
            mask = accept.reshape((num_chains,) + (1,) * (state[n].ndim - 1))
            state[n] = np.where(mask, proposal[n], state[n])
        log_prob = np.where(accept, proposal_log_prob, log_prob)
        if step >= num_burnin:
            row = step - num_burnin
            for n in state:
                kept[n][row] = state[n]
            kept_log_prob[row] = log_prob
            accept_prob[row] = np.exp(np.minimum(0.0, log_ratio))
    seconds = time.perf_counter() - start
    return MCMCResult.from_draws(
        {n: np.moveaxis(v, 0, 1) for n, v in kept.items()},
        log_prob=kept_log_prob.T,
        acceptance_rate=accept_prob.mean(),
        step_size=proposal_scale,
        seconds=seconds,
        seed=seed,
        kernel="metropolis",
        num_burnin_steps=num_burnin,
    )


def bootstrap(fit_fn, x, y, *, num_resamples=100, seed):
    """Refit a model on data resampled with replacement.

    Args:
        fit_fn: `fit_fn(x, y) -> parameters` (a number, an array or a dict of them).
        x: inputs, indexed along the first axis.
        y: targets, same length as `x`.
        num_resamples: bootstrap resamples. Default value: 100.
        seed: int seed; the same seed gives the same resamples.

    Returns:
        The fitted parameters stacked along a new first axis of length
        `num_resamples`: an array, or a dict of arrays if `fit_fn` returns a dict.

    Raises:
        ValueError: if `x` and `y` differ in length, hold NaN or inf, or
            `num_resamples` < 1.

    #### Examples

    ```python
    import numpy as np, cs109b_bayes as cb
    ads = cb.data.advertising()
    fit = lambda x, y: np.polyfit(x, y, 1)[::-1]          # (beta0, beta1)
    betas = cb.bootstrap(fit, ads.x, ads.y, num_resamples=100, seed=0)
    np.percentile(betas[:, 1], [2.5, 97.5])              # 95% interval for beta1
    ```

    #### References

    [1] Efron, B. Bootstrap methods: another look at the jackknife. Annals of Statistics, 1979.
    """
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    for name, value in (("x", x), ("y", y)):
        if np.issubdtype(value.dtype, np.number) and not np.all(np.isfinite(value)):
            raise ValueError(f"{name} has NaN or inf values")
    _check_count("num_resamples", num_resamples)
    rng = np.random.default_rng(seed)
    fits = [fit_fn(x[idx], y[idx]) for idx in rng.integers(0, len(x), size=(num_resamples, len(x)))]
    if isinstance(fits[0], dict):
        return {name: np.stack([np.asarray(f[name]) for f in fits]) for name in fits[0]}
    return np.stack([np.asarray(f, dtype=float) for f in fits])


def _jittered_hmc(target, *, step_size, num_leapfrog_steps):
    """HMC whose number of leapfrog steps is drawn uniformly from [L/2, 3L/2] each step.

    A fixed path length can resonate with the posterior's scales (a Gaussian
    coordinate whose period divides the path returns to where it started), so
    the chain barely moves in that direction; randomising the length breaks the
    resonance (Neal 2011, section 5.4.2.2; Mackenzie 1989).
    """
    import tensorflow as tf
    import tensorflow_probability as tfp
    from tensorflow_probability.python.internal import unnest

    low = max(1, num_leapfrog_steps // 2)
    high = max(low + 1, (3 * num_leapfrog_steps) // 2 + 1)

    class JitteredHMC(tfp.mcmc.TransitionKernel):
        def __init__(self, target_log_prob_fn, step_size, num_leapfrog_steps,
                     store_parameters_in_results=True):
            self._inner = tfp.mcmc.HamiltonianMonteCarlo(
                target_log_prob_fn, step_size=step_size, num_leapfrog_steps=num_leapfrog_steps,
                store_parameters_in_results=True)
            self._parameters = dict(target_log_prob_fn=target_log_prob_fn, step_size=step_size,
                                    num_leapfrog_steps=num_leapfrog_steps,
                                    store_parameters_in_results=True)

        @property
        def parameters(self):
            return self._parameters

        @property
        def is_calibrated(self):
            return True

        def bootstrap_results(self, init_state):
            return self._inner.bootstrap_results(init_state)

        def one_step(self, current_state, previous_kernel_results, seed=None):
            length_seed, step_seed = tfp.random.split_seed(seed)
            length = tf.random.stateless_uniform([], length_seed, minval=low, maxval=high, dtype=tf.int32)
            results = unnest.replace_innermost(previous_kernel_results, num_leapfrog_steps=length)
            state, results = self._inner.one_step(current_state, results, seed=step_seed)
            return state, unnest.replace_innermost(
                results, num_leapfrog_steps=tf.constant(num_leapfrog_steps, tf.int32))

    return JitteredHMC(target, step_size, num_leapfrog_steps)


def sample_hmc(log_prob_fn, init, *, num_results, num_burnin_steps, seed, num_chains=4,
               kernel="nuts", step_size=0.1, num_leapfrog_steps=16, target_accept_prob=None,
               max_tree_depth=10, init_jitter=0.1, jit_compile=True, dtype="float32",
               chunk_size=250, progress=False, mass_matrix="dense"):
    """Hamiltonian Monte Carlo (NUTS by default) with TFP, compiled, chains vectorised.

    Burn-in follows Stan's windowed adaptation: a fast window (75 steps) tunes
    the step size by dual averaging; slow windows of 25, 50, 100, ... steps each
    end by setting the mass matrix (per chain) from the regularised covariance
    of that window's draws (dense by default); a last fast window (50 steps)
    tunes the step size to the final mass matrix, which is then held fixed with
    the step size for the kept draws. (Short burn-ins scale the windows, as Stan
    does.) The mass matrix is applied as a change of variables, theta = L z with
    L L^T the adapted covariance, so the samplers are TFP's own kernels. Steps
    run in compiled chunks (`tf.function`, XLA by default), one compiled
    function for every phase: the first call compiles and is timed apart as
    `compile_seconds`; `seconds` covers burn-in and the kept draws. Seeds are
    stateless, so the same seed gives identical samples.

    Args:
        log_prob_fn: `log_prob_fn(**params) -> [num_chains]` unnormalised log posterior
            written with TensorFlow ops; each parameter has a leading chain axis.
        init: dict name -> initial value (no chain axis).
        num_results: kept draws per chain.
        num_burnin_steps: discarded steps per chain, used for adaptation (see above).
        seed: int seed.
        num_chains: chains run in parallel as one batch. Default value: 4.
        kernel: `"nuts"` (No-U-Turn) or `"hmc"` (fixed path length). Default value: `"nuts"`.
        step_size: initial leapfrog step size. Default value: 0.1.
        num_leapfrog_steps: mean leapfrog steps per HMC proposal; each step draws
            the number uniformly from [L/2, 3L/2] so the path length cannot resonate
            with the posterior. Default value: 16.
        target_accept_prob: adaptation target. Default value: 0.8 (NUTS), 0.65 (HMC).
        max_tree_depth: NUTS tree depth limit (2**depth leapfrog steps). Default value: 10.
        init_jitter: sd of the Gaussian jitter added to `init` per chain. Default value: 0.1.
        jit_compile: compile with XLA. Default value: True.
        dtype: floating dtype of the state. Default value: `"float32"`.
        chunk_size: steps per compiled call (progress is reported between calls).
            Default value: 250.
        progress: show a progress bar. Default value: False.
        mass_matrix: the metric adapted in Stan's windows: `"dense"` (the full
            covariance per chain, from windows with at least 2 (D + 1) draws for D
            parameter elements, else diagonal; always diagonal when D > 500),
            `"diagonal"`, or `"unit"` (no mass matrix; step size adapted over the
            whole burn-in). Default value: `"dense"`.

    Returns:
        An `MCMCResult` (`step_size` is the final step size in the whitened
        coordinates z = L^-1 theta).

    Raises:
        ValueError: for non-finite `init`, names that do not match `log_prob_fn`,
            a non-positive step size, `num_results` < 4, negative
            `num_burnin_steps`, an unknown kernel, or a log-density that is not
            finite or not one value per chain at the start.
        RuntimeError: if the chains produce non-finite states.

    #### Examples

    ```python
    import tensorflow as tf, cs109b_bayes as cb
    def log_prob_fn(mu, log_sigma):            # each of shape [num_chains]
        return -0.5 * mu**2 - 0.5 * log_sigma**2
    result = cb.sample_hmc(log_prob_fn, {"mu": 0.0, "log_sigma": 0.0},
                           num_results=1000, num_burnin_steps=500, seed=0)
    print(result.summary())
    ```

    #### References

    [1] Hoffman, Gelman. The No-U-Turn Sampler. JMLR, 2014. https://arxiv.org/abs/1111.4246
    [2] Neal. MCMC using Hamiltonian dynamics, 2011. https://arxiv.org/abs/1206.1901
    [3] Stan Reference Manual, "HMC algorithm parameters: automatic parameter tuning"
        (windowed adaptation). https://mc-stan.org/docs/reference-manual/mcmc.html
    """
    import tensorflow as tf
    import tensorflow_probability as tfp

    values = _check_init(init)
    names = list(values)
    _check_signature(log_prob_fn, names)
    _check_count("num_results", num_results, minimum=4)
    _check_count("num_burnin_steps", num_burnin_steps, minimum=0)
    _check_count("num_chains", num_chains)
    _check_count("chunk_size", chunk_size)
    _check_positive("step_size", step_size)
    if kernel not in ("nuts", "hmc"):
        raise ValueError(f"kernel must be 'nuts' or 'hmc', got {kernel!r}")
    if init_jitter < 0:
        raise ValueError(f"init_jitter must be >= 0, got {init_jitter!r}")
    if target_accept_prob is None:
        target_accept_prob = 0.8 if kernel == "nuts" else 0.65
    if not 0.0 < target_accept_prob < 1.0:
        raise ValueError(f"target_accept_prob must be in (0, 1), got {target_accept_prob!r}")
    dtype = tf.as_dtype(dtype)

    jitter_seed, chain_seed = tfp.random.split_seed(_stateless_seed(seed), n=2)
    jitter_seeds = dict(zip(names, tfp.random.split_seed(jitter_seed, n=len(names) + 1)))
    start = _start(values, num_chains, init_jitter,
                   lambda name, shape: tf.random.stateless_normal(shape, jitter_seeds[name], dtype=tf.float64).numpy())
    state = [tf.constant(start[n], dtype=dtype) for n in names]

    def target(*parts):
        return log_prob_fn(**dict(zip(names, parts)))

    _check_log_prob(target(*state), num_chains, "at the initial state")

    if mass_matrix not in ("dense", "diagonal", "unit"):
        raise ValueError(f"mass_matrix must be 'dense', 'diagonal' or 'unit', got {mass_matrix!r}")
    schedule = _warmup_schedule(num_burnin_steps, adapt_mass_matrix=mass_matrix != "unit")
    step_dtype = dtype
    # The chains run on one flat vector per chain, theta = L z, where L (per chain,
    # [num_chains, D, D]) is the Cholesky factor of the adapted covariance: a mass
    # matrix M = (L L^T)^-1 applied as a change of variables, so TFP's own kernels run.
    part_shapes = [tuple(part.shape[1:]) for part in state]
    part_sizes = [int(np.prod(shape, dtype=np.int64)) for shape in part_shapes]
    num_dims = sum(part_sizes)
    dense = mass_matrix == "dense" and num_dims <= _MAX_DENSE_DIMS

    def unflatten(flat):
        pieces = tf.split(flat, part_sizes, axis=-1)
        return [tf.reshape(p, [num_chains, *shape]) for p, shape in zip(pieces, part_shapes)]

    def to_theta(z, chol):
        return tf.linalg.matvec(chol, z) if dense else chol * z      # chol: [C, D, D] or diagonal [C, D]

    def make_sampler(chol, initial_step_size):
        def target_z(z):
            return target(*unflatten(to_theta(z, chol)))

        if kernel == "nuts":
            inner = tfp.mcmc.NoUTurnSampler(target_z, step_size=initial_step_size, max_tree_depth=max_tree_depth)
        else:
            inner = _jittered_hmc(target_z, step_size=initial_step_size, num_leapfrog_steps=num_leapfrog_steps)
        return tfp.mcmc.DualAveragingStepSizeAdaptation(
            inner, num_adaptation_steps=0,  # each phase sets its own window in the results
            target_accept_prob=tf.cast(target_accept_prob, step_dtype))

    def trace(kernel_results):
        inner_results = kernel_results.inner_results
        log_accept = inner_results.log_accept_ratio
        if kernel == "nuts":
            divergent = inner_results.has_divergence
            log_prob = inner_results.target_log_prob
        else:
            divergent = ~tf.math.is_finite(log_accept) | (log_accept < -1000.0)
            log_prob = inner_results.accepted_results.target_log_prob
        accept_prob = tf.exp(tf.minimum(tf.cast(0.0, log_accept.dtype), log_accept))
        accept_prob = tf.where(tf.math.is_nan(accept_prob), tf.zeros_like(accept_prob), accept_prob)
        return accept_prob, divergent, log_prob

    @tf.function(jit_compile=jit_compile, autograph=False)
    def run_chunk(z, kernel_results, chunk_seed, num_steps, chol, restart, restart_step_size, window):
        # One compiled function serves every phase: `restart` re-initialises dual averaging
        # (at a new mass matrix, or a new adaptation window of `window` steps) from
        # `restart_step_size`; past the window the step size stays at its averaged value.
        sampler = make_sampler(chol, restart_step_size)
        fresh = sampler.bootstrap_results(z)
        fresh = fresh._replace(num_adaptation_steps=window)
        kernel_results = tf.nest.map_structure(
            lambda new, old: tf.where(restart, new, old), fresh, kernel_results)
        buffers = tf.TensorArray(dtype, size=chunk_size, element_shape=[num_chains, num_dims])
        traces = [tf.TensorArray(t, size=chunk_size, element_shape=[num_chains])
                  for t in (dtype, tf.bool, dtype)]

        def body(i, z, kernel_results, step_seed, buffers, traces):
            this_seed, step_seed = tfp.random.split_seed(step_seed)
            z, kernel_results = sampler.one_step(z, kernel_results, seed=this_seed)
            buffers = buffers.write(i, to_theta(z, chol))
            traces = [t.write(i, v) for t, v in zip(traces, trace(kernel_results))]
            return i + 1, z, kernel_results, step_seed, buffers, traces

        _, z, kernel_results, _, buffers, traces = tf.while_loop(
            lambda i, *_: i < num_steps,
            body,
            (tf.constant(0), z, kernel_results, chunk_seed, buffers, traces),
            maximum_iterations=chunk_size,
        )
        return z, kernel_results, buffers.stack(), [t.stack() for t in traces]

    chol = tf.eye(num_dims, batch_shape=[num_chains], dtype=dtype) if dense else tf.ones([num_chains, num_dims], dtype)
    z = tf.concat([tf.reshape(part, [num_chains, -1]) for part in state], axis=-1)
    current_step_size = tf.constant(step_size, dtype=step_dtype)
    compile_start = time.perf_counter()  # set-up (the eager bootstrap) + XLA compile
    kernel_results = make_sampler(chol, current_step_size).bootstrap_results(z)
    run_chunk(z, kernel_results, tfp.random.sanitize_seed(chain_seed), tf.constant(0), chol,
              tf.constant(True), current_step_size, tf.constant(0))
    compile_seconds = time.perf_counter() - compile_start

    # Phases: Stan-style warm-up windows (a mass-matrix update after each slow window),
    # then the kept draws with everything frozen.
    phases = schedule + [(num_results, False, True)]
    total = num_burnin_steps + num_results
    kept = []
    kept_trace = [[], [], []]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=f"{kernel} x{num_chains} chains", unit="step")
    chunk_seeds = tfp.random.sanitize_seed(chain_seed)
    sample_start = time.perf_counter()
    for phase_length, update_metric, is_sampling in phases:
        window_draws = []
        done = 0
        while done < phase_length:
            this_chunk = min(chunk_size, phase_length - done)
            this_seed, chunk_seeds = tfp.random.split_seed(chunk_seeds)
            restart = done == 0 and not is_sampling
            z, kernel_results, draws, traces = run_chunk(
                z, kernel_results, this_seed, tf.constant(this_chunk), chol, tf.constant(restart),
                current_step_size, tf.constant(phase_length))
            if is_sampling:
                kept.append(draws.numpy()[:this_chunk])
                for store, t in zip(kept_trace, traces):
                    store.append(t.numpy()[:this_chunk])
            elif update_metric:
                window_draws.append(draws.numpy()[:this_chunk])
            done += this_chunk
            if bar is not None:
                bar.update(this_chunk)
        if not is_sampling:
            current_step_size = tf.reshape(_first(kernel_results.new_step_size), [])
        if update_metric:
            theta = to_theta(z, chol)
            chol = tf.constant(_regularised_cholesky(np.concatenate(window_draws), dense=dense), dtype=dtype)
            z = tf.linalg.triangular_solve(chol, theta[..., None], lower=True)[..., 0] if dense else theta / chol
    seconds = time.perf_counter() - sample_start
    if bar is not None:
        bar.close()

    flat = np.moveaxis(np.concatenate(kept), 0, 1).astype(np.float64)             # [chain, draw, D]
    pieces = np.split(flat, np.cumsum(part_sizes)[:-1], axis=-1)
    samples = {n: p.reshape(num_chains, -1, *shape) for n, p, shape in zip(names, pieces, part_shapes)}
    bad = [n for n, v in samples.items() if not np.all(np.isfinite(v))]
    if bad:
        raise RuntimeError(f"the chains produced non-finite values of {bad}; check log_prob_fn for NaN gradients")
    accept, divergent, log_prob = (np.concatenate(t) for t in kept_trace)
    return MCMCResult.from_draws(
        samples,
        log_prob=log_prob.T.astype(np.float64),
        acceptance_rate=float(accept.mean()),
        step_size=float(np.asarray(current_step_size)),
        divergences=int(divergent.sum()),
        seconds=seconds,
        compile_seconds=compile_seconds,
        seed=seed,
        kernel=kernel,
        num_burnin_steps=num_burnin_steps,
    )


_MAX_DENSE_DIMS = 500  # above this many parameter elements a dense metric costs too much: diagonal


def _first(value):
    return value[0] if isinstance(value, (list, tuple)) else value


def _warmup_schedule(num_burnin_steps, *, adapt_mass_matrix=True):
    """Stan's warm-up windows as (steps, update the mass matrix after, is_sampling) phases.

    A fast window (75 steps) adapts only the step size; slow windows of 25, 50,
    100, ... steps each end with a new diagonal mass matrix (the last one
    stretched to fill the space); a final fast window (50 steps) tunes the step
    size to the last mass matrix. Short burn-ins scale the buffers to 15% / 10%
    (Stan's rule). Every phase restarts dual averaging.
    """
    n = num_burnin_steps
    if n == 0:
        return []
    if not adapt_mass_matrix or n < 20:
        return [(n, False, False)]
    init_buffer, term_buffer, base_window = 75, 50, 25
    if init_buffer + base_window + term_buffer > n:
        init_buffer, term_buffer = int(0.15 * n), int(0.1 * n)
        base_window = n - init_buffer - term_buffer
    phases = [(init_buffer, False, False)]
    start, size, end = init_buffer, base_window, n - term_buffer
    while start < end:
        if start + 3 * size > end:          # the next window would not fit: stretch this one
            size = end - start
        phases.append((size, True, False))
        start, size = start + size, 2 * size
    phases.append((term_buffer, False, False))
    return [p for p in phases if p[0] > 0]


def _regularised_cholesky(draws, *, dense):
    """Per-chain Cholesky factors [chain, D, D] of the regularised covariance of window draws
    (`dense`), or the per-chain standard deviations [chain, D] (diagonal).

    `draws` is [draw, chain, D]. Stan's regulariser: with n draws, the covariance is
    shrunk by n / (n + 5) and 1e-3 * 5 / (n + 5) is added to its diagonal. The dense
    estimate is shrunk towards its own diagonal (not towards zero), and it is used
    only when the window has at least 2 (D + 1) draws; shorter windows give a
    diagonal matrix, since a dense estimate from fewer draws than dimensions is
    singular in the directions the window did not explore.
    """
    n, num_chains, num_dims = draws.shape
    draws = draws.astype(np.float64)
    centred = draws - draws.mean(axis=0)
    variance = (centred ** 2).sum(axis=0) / max(n - 1, 1)                      # [chain, D]
    weight, jitter = n / (n + 5.0), 1e-3 * 5.0 / (n + 5.0)
    if dense and n >= 2 * (num_dims + 1):
        cov = np.einsum("nci,ncj->cij", centred, centred) / (n - 1)
        diagonal = np.einsum("ci,ij->cij", variance, np.eye(num_dims))
        cov = weight * cov + (1.0 - weight) * diagonal + jitter * np.eye(num_dims)
        try:
            return np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            pass
    scale = np.sqrt(weight * variance + jitter)
    return np.einsum("ci,ij->cij", scale, np.eye(num_dims)) if dense else scale
