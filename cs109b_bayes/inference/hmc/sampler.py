"""`sample_hmc`: compiled TFP NUTS / HMC with Stan's windowed warm-up (`cb.sample_hmc`).

The driver strings together the pieces of `cs109b_bayes.inference.hmc`: argument
checks, the warm-up `warmup` schedule, the compiled `chunks` (from the `cache`
when the same model ran before), the `metric` estimate after each slow window,
and the `MCMCResult`. TensorFlow is imported when `sample_hmc` is called, not
when this module is imported.

#### Examples

```python
import cs109b_bayes as cb
result = cb.sample_hmc(log_prob_fn, {"mu": 0.0}, num_results=1000, num_burnin_steps=500, seed=0)
```
"""

import concurrent.futures
import dataclasses
import numbers
import os
import threading
import time

import numpy as np

from cs109b_bayes import progress as cb_progress
from cs109b_bayes import seeds
from cs109b_bayes.inference import start, validation
from cs109b_bayes.inference.hmc import cache, fingerprint, metric, warmup
from cs109b_bayes.inference.hmc.coordinates import ParameterLayout
from cs109b_bayes.inference.result import MCMCResult

__all__ = ["default_chain_groups", "sample_hmc"]

_DTYPES = ("float32", "float64")


def _checked_options(kernel, step_size, target_accept_prob, dtype, num_leapfrog_steps, max_tree_depth,
                     mass_matrix, jit_compile, progress):
    validation.check_choice("kernel", kernel, ("nuts", "hmc"))
    if isinstance(step_size, bool) or not isinstance(step_size, numbers.Real):
        raise ValueError(f"step_size must be a positive number, got {step_size!r}")
    validation.check_positive("step_size", step_size)
    if target_accept_prob is None:
        target_accept_prob = 0.8 if kernel == "nuts" else 0.65
    if isinstance(target_accept_prob, bool) or not isinstance(target_accept_prob, numbers.Real) \
            or not 0.0 < target_accept_prob < 1.0:
        raise ValueError(f"target_accept_prob must be in (0, 1), got {target_accept_prob!r}")
    dtype = getattr(dtype, "name", dtype)            # a tf.DType or np.dtype, or its name
    if not isinstance(dtype, str) or dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of {_DTYPES}, got {dtype!r}")
    validation.check_count("num_leapfrog_steps", num_leapfrog_steps)
    validation.check_count("max_tree_depth", max_tree_depth)
    validation.check_choice("mass_matrix", mass_matrix, metric.KINDS)
    validation.check_flag("jit_compile", jit_compile)
    cb_progress.enabled(progress)   # raises TypeError for anything but True, False, None
    return float(step_size), float(target_accept_prob), dtype


def _compiled_runner(log_prob_fn, starts, layout, where, **options):
    """The cached compiled sampler of this model and options, or a new one (checked, not yet traced)."""
    key, pinned = fingerprint.fingerprint(log_prob_fn)
    key = (key, layout.names, layout.shapes, tuple(sorted(options.items())))
    runner = cache.lookup(key)
    if runner is not None:
        return runner, None
    import tensorflow as tf

    from cs109b_bayes.inference.hmc.chunks import ChunkRunner

    state = {name: tf.constant(value, options["dtype"]) for name, value in starts.items()}
    validation.check_log_prob(log_prob_fn(**state), options["num_chains"], where)
    return ChunkRunner(log_prob_fn, layout=layout, **options), (key, pinned)


def default_chain_groups(num_chains):
    """The default number of chain groups: 2 when `num_chains` is even, else 1.

    The split never depends on the machine, so a seed gives the same draws on a laptop
    with 8 cores as on CI's 2; only how many groups run at the same time does.

    Args:
        num_chains: the number of chains.

    Returns:
        An int that divides `num_chains`.

    #### Examples

    ```python
    default_chain_groups(4), default_chain_groups(3)     # (2, 1)
    ```
    """
    return 2 if num_chains % 2 == 0 else 1


def _checked_groups(chain_groups, num_chains):
    if chain_groups is None:
        return default_chain_groups(num_chains)
    validation.check_count("chain_groups", chain_groups)
    if num_chains % chain_groups:
        raise ValueError(f"chain_groups must divide num_chains: {chain_groups} groups of {num_chains} chains")
    return int(chain_groups)


@dataclasses.dataclass
class _GroupRun:
    """What one chain group's warm-up and kept draws leave behind (numpy, chain axis second)."""

    draws: np.ndarray           # [draw, chain, D] in theta coordinates
    accept: np.ndarray          # [draw, chain]
    divergent: np.ndarray
    log_prob: np.ndarray
    leapfrogs: np.ndarray
    step_size: float


def _run_group(runner, z, kernel_results, *, factor, schedule, stream, step_size, tuning, dense, dtype,
               num_results, on_chunk):
    """Stan's warm-up windows, then the kept draws, for one chain group (a vectorised batch)."""
    import tensorflow as tf

    from cs109b_bayes.inference.hmc import kernels
    from cs109b_bayes.inference.hmc.coordinates import to_theta, to_z

    for window in schedule:
        z, kernel_results, draws, _ = runner.run_phase(
            z, kernel_results, stream, num_steps=window.length, restart=True, factor=factor, step_size=step_size,
            keep_draws=window.ends_with_metric_update, on_chunk=on_chunk, **tuning)
        step_size = kernels.adapted_step_size(kernel_results).numpy()
        if window.ends_with_metric_update:
            theta = to_theta(z, tf.constant(factor, dtype), dense=dense)
            factor = metric.regularised_cholesky(draws, dense=dense)
            z = to_z(theta, tf.constant(factor, dtype), dense=dense)
    _, _, draws, (accept, divergent, log_prob, leapfrogs) = runner.run_phase(
        z, kernel_results, stream, num_steps=num_results, restart=False, factor=factor, step_size=step_size,
        keep_draws=True, on_chunk=on_chunk, **tuning)
    return _GroupRun(draws, accept, divergent, log_prob, leapfrogs, float(step_size))


class _Stopped(Exception):
    """Raised in a group's thread at its next chunk once another group failed or was interrupted."""


def _run_groups(jobs, stop):
    """Runs the groups' jobs (callables) at the same time, one thread per core at most; their results in order.

    If waiting is interrupted (Ctrl-C, "interrupt kernel") or a group raises, `stop` is set,
    so the other groups give up at their next chunk instead of sampling to the end.
    """
    if len(jobs) == 1:
        return [jobs[0]()]
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1),
                                                 thread_name_prefix="cb-hmc-group")
    futures = [pool.submit(job) for job in jobs]
    try:
        concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_EXCEPTION)
    except BaseException:          # interrupted while waiting
        stop.set()
        raise
    finally:
        if any(future.done() and future.exception() is not None for future in futures):
            stop.set()
        pool.shutdown(wait=True)
    for future in futures:       # the group that failed, not the ones it stopped
        if future.exception() is not None and not isinstance(future.exception(), _Stopped):
            raise future.exception()
    return [future.result() for future in futures]


def _chunk_callback(update, stop):
    """`update(steps)` made safe to call from several threads, raising `_Stopped` once `stop` is set."""
    lock = threading.Lock()

    def on_chunk(steps):
        if stop.is_set():
            raise _Stopped("another chain group failed or the call was interrupted")
        with lock:
            update(steps)

    return on_chunk


def sample_hmc(log_prob_fn, init, *, num_results, num_burnin_steps, seed, num_chains=4,
               kernel="nuts", step_size=0.1, num_leapfrog_steps=16, target_accept_prob=None,
               max_tree_depth=10, init_jitter=0.1, jit_compile=True, dtype="float32",
               chunk_size=250, progress=None, mass_matrix="dense", chain_groups=None):
    """Hamiltonian Monte Carlo (NUTS by default) with TFP, compiled, chains vectorised in groups.

    **Chain groups.** The chains are split into `chain_groups` groups of equal size
    (by default 2 when `num_chains` is even); each group is one vectorised batch with
    its own warm-up (step size and mass matrices), and the groups run at the same
    time in threads, one per CPU core at most. Two groups use both cores of a
    laptop, and a group's chains wait less for its longest NUTS trajectory than four
    chains in lockstep do. The split depends only on `num_chains` and
    `chain_groups`, never on the machine: a seed gives the same draws on any number
    of cores.

    In each group, burn-in follows Stan's windowed adaptation (`cs109b_bayes.inference.hmc.warmup`):
    a fast window (75 steps) tunes the step size by dual averaging; slow windows of
    25, 50, 100, ... steps each end by setting the mass matrix (per chain) from the
    regularised covariance of that window's draws (dense by default,
    `cs109b_bayes.inference.hmc.metric`); a last fast window (50 steps) tunes the
    step size to the final mass matrix, which is then held fixed with the step size
    for the kept draws. (Short burn-ins scale the windows, as Stan does.) The mass
    matrix is applied as a change of variables, theta = L z with L L^T the adapted
    covariance, so the samplers are TFP's own kernels. Steps run in compiled chunks
    (`tf.function`, XLA by default), one compiled function for every phase. Seeds
    are stateless (`cb.seeds.stateless_seed(seed, "hmc")`, and
    `cb.seeds.numpy_rng(seed, "hmc_init")` for the start jitter): the same seed gives
    identical samples. Every argument is checked before `log_prob_fn` is called.

    **Compiled-sampler cache.** The compiled function is kept and reused by later
    calls whose key matches: the structure of `log_prob_fn` (its code and the values
    of the globals, closure cells and defaults it uses, recursively; arrays and
    tensors by dtype, shape and content; other objects, such as a `tf.Variable` or a
    Keras model, by identity; see `cs109b_bayes.inference.hmc.fingerprint`), the
    names and shapes of `init`, the chains per group (`num_chains // chain_groups`),
    `kernel`, `max_tree_depth`, `dtype`, `chunk_size`, `jit_compile` and whether the
    metric is dense. The seed,
    `init` values, `num_results`, `num_burnin_steps`, `step_size`,
    `target_accept_prob`, `num_leapfrog_steps` and `init_jitter` are inputs of the
    compiled function, not part of the key: so a notebook cell run again (which
    re-defines `log_prob_fn` and re-creates its tensors) compiles nothing, and
    `compile_seconds` is then close to 0. The cache keeps the 16 most recently used
    samplers (`cs109b_bayes.inference.hmc.cache.MAX_ENTRIES`) and their
    `log_prob_fn`s; `cs109b_bayes.inference.hmc.clear_cache()` empties it (needed
    only if an object keyed by identity was changed in place).

    Args:
        log_prob_fn: `log_prob_fn(**params) -> [chains]` unnormalised log posterior
            written with TensorFlow ops; each parameter has a leading chain axis (of
            `num_chains // chain_groups` chains: do not assume `num_chains`).
        init: dict name -> initial value (no chain axis).
        num_results: kept draws per chain.
        num_burnin_steps: discarded steps per chain, used for adaptation (see above).
        seed: int seed.
        num_chains: how many chains. Default value: 4.
        kernel: `"nuts"` (No-U-Turn) or `"hmc"` (fixed path length). Default value: `"nuts"`.
        step_size: initial leapfrog step size. Default value: 0.1.
        num_leapfrog_steps: mean leapfrog steps per HMC proposal; each step draws
            the number uniformly from [L/2, 3L/2] so the path length cannot resonate
            with the posterior. Default value: 16.
        target_accept_prob: adaptation target. Default value: 0.8 (NUTS), 0.65 (HMC).
        max_tree_depth: NUTS tree depth limit (2**depth leapfrog steps). Default value: 10.
        init_jitter: sd of the Gaussian jitter added to `init` per chain. Default value: 0.1.
        jit_compile: compile with XLA. Default value: True.
        dtype: floating dtype of the state, `"float32"` or `"float64"`. Default value: `"float32"`.
        chunk_size: steps per compiled call (progress is reported between calls).
            Default value: 250.
        progress: show a progress bar of the steps: True, False, or None for "in a
            notebook, not in headless runs" (see `cb.progress.enabled`). Default value: None.
        mass_matrix: the metric adapted in Stan's windows: `"dense"` (the full
            covariance per chain, from windows with at least 2 (D + 1) draws for D
            parameter elements, else diagonal; always diagonal when D > 500),
            `"diagonal"`, or `"unit"` (no mass matrix; step size adapted over the
            whole burn-in). Default value: `"dense"`.
        chain_groups: how many groups the chains are split into (it must divide
            `num_chains`); 1 runs every chain in one vectorised batch on one core.
            Default value: None, meaning `default_chain_groups(num_chains)` (2 for an
            even number of chains, else 1).

    Returns:
        An `MCMCResult` (`step_size` is the final step size in the whitened
        coordinates z = L^-1 theta, the mean over the chain groups; `compile_seconds`
        is the set-up time: tracing and compiling on a cache miss, close to 0 on a hit).

    Raises:
        TypeError: if `seed` is not an int, `jit_compile` not a bool, or `progress` not a bool or None.
        ValueError: for non-finite `init`, names that do not match `log_prob_fn`,
            `chain_groups` that does not divide `num_chains`,
            a non-positive step size, `num_results` < 4, negative
            `num_burnin_steps`, an unknown kernel, dtype or mass matrix, an option
            out of range, or a log-density that is not finite or not one value per
            chain at the start.
        RuntimeError: if the chains produce non-finite states.

    #### Examples

    ```python
    import tensorflow as tf, cs109b_bayes as cb
    def log_prob_fn(mu, log_sigma):            # each of shape [num_chains]
        return -0.5 * mu**2 - 0.5 * log_sigma**2
    result = cb.sample_hmc(log_prob_fn, {"mu": 0.0, "log_sigma": 0.0},
                           num_results=1000, num_burnin_steps=500, seed=0)
    print(result.summary())
    again = cb.sample_hmc(log_prob_fn, {"mu": 0.0, "log_sigma": 0.0},
                          num_results=1000, num_burnin_steps=500, seed=1)
    again.compile_seconds                       # about 0: the compiled sampler was cached
    ```

    #### References

    [1] Hoffman, Gelman. The No-U-Turn Sampler. JMLR, 2014. https://arxiv.org/abs/1111.4246
    [2] Neal. MCMC using Hamiltonian dynamics, 2011. https://arxiv.org/abs/1206.1901
    [3] Stan Reference Manual, "HMC algorithm parameters: automatic parameter tuning"
        (windowed adaptation). https://mc-stan.org/docs/reference-manual/mcmc.html
    """
    values = start.check_init(init)
    validation.check_signature(log_prob_fn, list(values))
    validation.check_count("num_results", num_results, minimum=4)
    validation.check_count("num_burnin_steps", num_burnin_steps, minimum=0)
    validation.check_count("num_chains", num_chains)
    validation.check_count("chunk_size", chunk_size)
    chain_groups = _checked_groups(chain_groups, num_chains)
    init_jitter = validation.check_non_negative("init_jitter", init_jitter)
    step_size, target_accept_prob, dtype = _checked_options(
        kernel, step_size, target_accept_prob, dtype, num_leapfrog_steps, max_tree_depth, mass_matrix,
        jit_compile, progress)
    seed = seeds.check_seed(seed)
    layout = ParameterLayout.from_values(values)
    dense = metric.uses_dense_factor(mass_matrix, layout.num_dims)
    schedule = warmup.warmup_schedule(num_burnin_steps, adapt_metric=mass_matrix != "unit")
    starts = start.jittered_start(values, num_chains, init_jitter, seeds.numpy_rng(seed, "hmc_init"))

    import tensorflow as tf

    from cs109b_bayes.inference.hmc import chunks

    group_size = num_chains // chain_groups
    where = "at the initial state"
    if chain_groups > 1:
        where += (f" of a group of {group_size} of the {num_chains} chains (chain_groups={chain_groups}: "
                  f"log_prob_fn must not assume {num_chains} chains; or pass chain_groups=1)")
    compile_started = time.perf_counter()
    first_group = {name: value[:group_size] for name, value in starts.items()}
    runner, new_entry = _compiled_runner(
        log_prob_fn, first_group, layout, where, num_chains=group_size, kernel=kernel, dtype=dtype,
        chunk_size=chunk_size, dense=dense, jit_compile=bool(jit_compile),
        max_tree_depth=max_tree_depth if kernel == "nuts" else None)
    factor = metric.identity_factor(group_size, layout.num_dims, dense=dense)
    z = layout.flatten([tf.constant(starts[name], dtype) for name in layout.names])
    tuning = dict(target_accept_prob=target_accept_prob, num_leapfrog_steps=num_leapfrog_steps)
    groups = []
    for group in range(chain_groups):     # the first start traces and compiles; the others reuse it
        stream = chunks.seed_stream(seeds.stateless_seed(seed, "hmc" if chain_groups == 1 else f"hmc_group{group}"))
        z_group = z[group * group_size:(group + 1) * group_size]
        kernel_results, log_prob = runner.start(z_group, factor, step_size=step_size, seed=next(stream), **tuning)
        validation.check_log_prob(log_prob, group_size, where)
        groups.append((z_group, kernel_results, stream))
    if new_entry is not None:        # traced and compiled without error: keep it
        cache.store(new_entry[0], runner, new_entry[1])
    compile_seconds = time.perf_counter() - compile_started

    desc = f"{kernel} x{num_chains} chains" + (f" in {chain_groups} groups" if chain_groups > 1 else "")
    with cb_progress.bar(total=chain_groups * (num_burnin_steps + num_results), desc=desc, unit="step",
                         progress=progress) as bar:
        stop = threading.Event()
        on_chunk = _chunk_callback(bar.update, stop)
        sample_started = time.perf_counter()
        runs = _run_groups([
            lambda z=z_group, results=kernel_results, stream=stream: _run_group(
                runner, z, results, factor=factor, schedule=schedule, stream=stream, step_size=step_size,
                tuning=tuning, dense=dense, dtype=dtype, num_results=num_results, on_chunk=on_chunk)
            for z_group, kernel_results, stream in groups], stop)
        seconds = time.perf_counter() - sample_started

    draws, accept, divergent, log_prob, kept_leapfrogs = (
        np.concatenate([getattr(run, field) for run in runs], axis=1)
        for field in ("draws", "accept", "divergent", "log_prob", "leapfrogs"))
    samples = layout.split_draws(np.moveaxis(draws, 0, 1).astype(np.float64))      # [chain, draw, ...]
    bad = [name for name, value in samples.items() if not np.all(np.isfinite(value))]
    if bad:
        raise RuntimeError(f"the chains produced non-finite values of {bad}; check log_prob_fn for NaN gradients")
    return MCMCResult.from_draws(
        samples,
        log_prob=log_prob.T.astype(np.float64),
        acceptance_rate=float(accept.mean()),
        step_size=float(np.mean([run.step_size for run in runs])),
        divergences=int(divergent.sum()),
        seconds=seconds,
        compile_seconds=compile_seconds,
        seed=seed,
        kernel=kernel,
        num_burnin_steps=num_burnin_steps,
        num_gradient_evals=int(kept_leapfrogs.sum()),
    )
