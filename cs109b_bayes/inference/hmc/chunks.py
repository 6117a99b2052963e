"""Compiled chunks of HMC steps: one `tf.function` per model and configuration.

`ChunkRunner` wraps `log_prob_fn` into the flat, whitened target of
`cs109b_bayes.inference.hmc.coordinates` and compiles one function that runs up
to `chunk_size` steps of a kernel from `cs109b_bayes.inference.hmc.kernels`,
recording the draws (in theta coordinates) and per-step statistics (acceptance,
divergence, log-density, leapfrog steps per chain). Everything
that varies between calls and phases is a tensor input: the state, the kernel
results, the seed, the number of steps, the metric factor, whether to restart
step-size adaptation (and for how many steps), the step size, the target
acceptance and the mean number of leapfrog steps. So one compiled function
serves every warm-up window, the kept draws, and later `sample_hmc` calls with
other seeds, starts or step sizes (see `cs109b_bayes.inference.hmc.cache`).
This module imports TensorFlow.

#### Examples

```python
runner = ChunkRunner(log_prob_fn, layout=layout, num_chains=4, kernel="nuts", max_tree_depth=10,
                     dtype="float32", chunk_size=250, dense=True, jit_compile=True)
```
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from cs109b_bayes.inference.hmc import kernels
from cs109b_bayes.inference.hmc.coordinates import to_theta

__all__ = ["ChunkRunner", "seed_stream"]


def seed_stream(seed):
    """Yields independent stateless seeds (int32 [2] tensors) split one by one from `seed`.

    Args:
        seed: an int32 [2] seed, e.g. `cb.seeds.stateless_seed(seed, "hmc")`.

    Yields:
        int32 [2] tensors.

    #### Examples

    ```python
    stream = seed_stream(cb.seeds.stateless_seed(0, "hmc"))
    first, second = next(stream), next(stream)
    ```
    """
    rest = tf.constant(seed, tf.int32)
    while True:
        this, rest = tfp.random.split_seed(rest)
        yield this


class ChunkRunner:
    """Runs chunks of a compiled HMC/NUTS sampler for one log-density and one configuration.

    Args:
        log_prob_fn: `log_prob_fn(**params) -> [num_chains]`, TensorFlow ops.
        layout: the `ParameterLayout` of the parameters.
        num_chains: number of chains.
        kernel: `"nuts"` or `"hmc"`.
        max_tree_depth: NUTS tree depth limit.
        dtype: floating dtype of the state (a name, e.g. `"float32"`).
        chunk_size: the most steps one compiled call runs.
        dense: True if the metric factor is [chain, D, D], False if [chain, D].
        jit_compile: compile with XLA.

    #### Examples

    ```python
    results = runner.start(z, factor, step_size=0.1, target_accept_prob=0.8, num_leapfrog_steps=16,
                           seed=next(stream))
    z, results, draws, stats = runner.run_phase(z, results, stream, num_steps=100, restart=True, ...)
    ```
    """

    def __init__(self, log_prob_fn, *, layout, num_chains, kernel, max_tree_depth, dtype, chunk_size, dense,
                 jit_compile):
        self._log_prob_fn = log_prob_fn
        self._layout = layout
        self._num_chains = num_chains
        self._kernel = kernel
        self._max_tree_depth = max_tree_depth
        self._dtype = tf.as_dtype(dtype)
        self._chunk_size = chunk_size
        self._dense = dense
        self._template = None
        self._compiled = tf.function(self._run_chunk, jit_compile=jit_compile, autograph=False)

    @property
    def tracing_count(self):
        """How many times the compiled function has been traced (1 after the first call)."""
        return self._compiled.experimental_get_tracing_count()

    def _sampler(self, factor, step_size, target_accept_prob, num_leapfrog_steps):
        def target(z):
            theta = to_theta(z, factor, dense=self._dense)
            return self._log_prob_fn(**dict(zip(self._layout.names, self._layout.unflatten(theta))))

        return kernels.build_kernel(target, kernel=self._kernel, step_size=step_size,
                                    target_accept_prob=target_accept_prob, num_leapfrog_steps=num_leapfrog_steps,
                                    max_tree_depth=self._max_tree_depth)

    def _run_chunk(self, z, kernel_results, seed, num_steps, factor, restart, window, step_size,
                   target_accept_prob, num_leapfrog_steps):
        sampler = self._sampler(factor, step_size, target_accept_prob, num_leapfrog_steps)
        kernel_results = kernels.restart_adaptation(sampler, z, kernel_results, restart=restart,
                                                    num_adaptation_steps=window)
        shape = [self._num_chains, self._layout.num_dims]
        draws = tf.TensorArray(self._dtype, size=self._chunk_size, element_shape=shape)
        stats = [tf.TensorArray(t, size=self._chunk_size, element_shape=shape[:1])
                 for t in (self._dtype, tf.bool, self._dtype, tf.int32)]

        def body(i, z, kernel_results, step_seed, draws, stats):
            this_seed, step_seed = tfp.random.split_seed(step_seed)
            z, kernel_results = sampler.one_step(z, kernel_results, seed=this_seed)
            draws = draws.write(i, to_theta(z, factor, dense=self._dense))
            values = (*kernels.step_statistics(kernel_results, kernel=self._kernel),
                      kernels.leapfrogs_taken(kernel_results, kernel=self._kernel))
            return i + 1, z, kernel_results, step_seed, draws, [s.write(i, v) for s, v in zip(stats, values)]

        _, z, kernel_results, _, draws, stats = tf.while_loop(
            lambda i, *_: i < num_steps, body, (tf.constant(0), z, kernel_results, seed, draws, stats),
            maximum_iterations=self._chunk_size)
        return z, kernel_results, draws.stack(), [s.stack() for s in stats]

    def _inputs(self, factor, step_size, target_accept_prob, num_leapfrog_steps):
        return dict(factor=tf.constant(factor, self._dtype), step_size=tf.constant(step_size, self._dtype),
                    target_accept_prob=tf.constant(target_accept_prob, self._dtype),
                    num_leapfrog_steps=tf.constant(num_leapfrog_steps, tf.int32))

    def start(self, z, factor, *, step_size, target_accept_prob, num_leapfrog_steps, seed):
        """Fresh kernel results at `z` (the first call traces and compiles).

        Args:
            z: starting state [chain, D] (numpy or tensor) in whitened coordinates.
            factor: the metric factor L (numpy).
            step_size: initial step size.
            target_accept_prob: the adaptation's target.
            num_leapfrog_steps: mean leapfrog steps (HMC).
            seed: an int32 [2] seed (unused by a zero-step call, but an input).

        Returns:
            A tuple (kernel_results, log_prob): the results and the log-density
            [chain] at `z` as numpy.
        """
        z = tf.convert_to_tensor(z, self._dtype)
        inputs = self._inputs(factor, step_size, target_accept_prob, num_leapfrog_steps)
        if self._template is None:     # any results of the right structure: the call below restarts them
            self._template = self._sampler(inputs["factor"], inputs["step_size"], inputs["target_accept_prob"],
                                           inputs["num_leapfrog_steps"]).bootstrap_results(z)
        _, results, _, _ = self._compiled(z, self._template, seed, tf.constant(0), restart=tf.constant(True),
                                          window=tf.constant(0), **inputs)
        _, _, log_prob = kernels.step_statistics(results, kernel=self._kernel)
        return results, log_prob.numpy()

    def run_phase(self, z, kernel_results, seeds, *, num_steps, restart, factor, step_size, target_accept_prob,
                  num_leapfrog_steps, keep_draws, on_chunk=None):
        """Runs `num_steps` steps in chunks; optionally restarts adaptation for a window of that length.

        Args:
            z: current state [chain, D] (tensor), in the coordinates of `factor`.
            kernel_results: current results.
            seeds: an iterator of int32 [2] seeds (`seed_stream`), one per chunk.
            num_steps: steps in this phase.
            restart: restart dual averaging at the phase's first step, adapting over the phase.
            factor: the metric factor L (numpy).
            step_size: the step size a restart starts from.
            target_accept_prob: the adaptation's target.
            num_leapfrog_steps: mean leapfrog steps (HMC).
            keep_draws: return the draws (else None).
            on_chunk: called with the number of steps after each chunk. Default value: None.

        Returns:
            A tuple (z, kernel_results, draws, stats): draws is numpy [num_steps, chain, D]
            (theta coordinates), or None unless `keep_draws`; stats a tuple of numpy
            [num_steps, chain] arrays (acceptance probability, divergence, log-density,
            leapfrog steps), or None for a phase of 0 steps.
        """
        inputs = self._inputs(factor, step_size, target_accept_prob, num_leapfrog_steps)
        draws, stats, done = [], [], 0
        while done < num_steps:
            steps = min(self._chunk_size, num_steps - done)
            z, kernel_results, chunk_draws, chunk_stats = self._compiled(
                z, kernel_results, next(seeds), tf.constant(steps), restart=tf.constant(restart and done == 0),
                window=tf.constant(num_steps), **inputs)
            if keep_draws:
                draws.append(chunk_draws.numpy()[:steps])
            stats.append([s.numpy()[:steps] for s in chunk_stats])
            done += steps
            if on_chunk is not None:
                on_chunk(steps)
        stats = tuple(np.concatenate(s) for s in zip(*stats)) if stats else None
        return z, kernel_results, np.concatenate(draws) if draws else None, stats
