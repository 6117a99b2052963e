"""TFP transition kernels for `sample_hmc`: NUTS, jittered HMC, dual-averaging step size.

Every kernel is TFP's own, wrapped in `tfp.mcmc.DualAveragingStepSizeAdaptation`
whose adaptation window is set per warm-up window by `restart_adaptation`
(through `cs109b_bayes.tfp_internals`, the one module that touches TFP
internals). Everything a compiled sampler changes between calls (step size,
target acceptance, mean number of leapfrog steps) may be a tensor, so a compiled
sampler serves any value. This module imports TensorFlow.

#### Examples

```python
import tensorflow as tf
from cs109b_bayes.inference.hmc import kernels
kernel = kernels.build_kernel(lambda z: -0.5 * tf.reduce_sum(z**2, -1), kernel="nuts",
                              step_size=0.5, target_accept_prob=0.8)
results = kernel.bootstrap_results(tf.zeros([4, 2]))
```

#### References

[1] Hoffman, Gelman. The No-U-Turn Sampler. JMLR, 2014. https://arxiv.org/abs/1111.4246
[2] Neal. MCMC using Hamiltonian dynamics, 2011, section 5.4.2.2. https://arxiv.org/abs/1206.1901
"""

import tensorflow as tf
import tensorflow_probability as tfp

from cs109b_bayes import tfp_internals

__all__ = ["KERNELS", "JitteredHamiltonianMonteCarlo", "adapted_step_size", "build_kernel", "leapfrogs_taken",
           "restart_adaptation", "step_statistics"]

KERNELS = ("nuts", "hmc")


class JitteredHamiltonianMonteCarlo(tfp.mcmc.TransitionKernel):
    """HMC whose number of leapfrog steps is drawn uniformly from [L/2, 3L/2] at each step.

    A fixed path length can resonate with the posterior's scales (a Gaussian
    coordinate whose period divides the path returns to where it started), so the
    chain barely moves in that direction; randomising the length breaks the
    resonance (Neal 2011, section 5.4.2.2; Mackenzie 1989). The length is drawn
    from the step's stateless seed.

    Args:
        target_log_prob_fn: log-density of the (flat) state.
        step_size: leapfrog step size (float or tensor).
        num_leapfrog_steps: the mean number L of leapfrog steps (int or int32 tensor).

    #### Examples

    ```python
    kernel = JitteredHamiltonianMonteCarlo(lambda z: -0.5 * tf.reduce_sum(z**2, -1), 0.3, 16)
    state, results = kernel.one_step(tf.zeros([2, 3]), kernel.bootstrap_results(tf.zeros([2, 3])),
                                     seed=tf.constant([1, 2]))
    ```
    """

    def __init__(self, target_log_prob_fn, step_size, num_leapfrog_steps):
        self._inner = tfp.mcmc.HamiltonianMonteCarlo(
            target_log_prob_fn, step_size=step_size, num_leapfrog_steps=num_leapfrog_steps,
            store_parameters_in_results=True)
        self._parameters = dict(target_log_prob_fn=target_log_prob_fn, step_size=step_size,
                                num_leapfrog_steps=num_leapfrog_steps)

    @property
    def parameters(self):
        """The constructor's arguments."""
        return self._parameters

    @property
    def is_calibrated(self):
        """True: a Metropolis-corrected kernel."""
        return True

    def bootstrap_results(self, init_state):
        """TFP's HMC results at `init_state`."""
        return self._inner.bootstrap_results(init_state)

    def one_step(self, current_state, previous_kernel_results, seed=None):
        """One HMC transition with a path length drawn from [L/2, 3L/2]."""
        length_seed, step_seed = tfp.random.split_seed(seed)
        mean = tf.cast(self._parameters["num_leapfrog_steps"], tf.int32)
        low = tf.maximum(1, mean // 2)
        high = tf.maximum(low + 1, (3 * mean) // 2 + 1)
        length = tf.random.stateless_uniform([], length_seed, minval=low, maxval=high, dtype=tf.int32)
        results = tfp_internals.replace_innermost(previous_kernel_results, num_leapfrog_steps=length)
        state, results = self._inner.one_step(current_state, results, seed=step_seed)
        return state, tfp_internals.replace_innermost(results, num_leapfrog_steps=mean)


def build_kernel(target_log_prob_fn, *, kernel, step_size, target_accept_prob, num_leapfrog_steps=16,
                 max_tree_depth=10):
    """NUTS or jittered HMC inside dual-averaging step-size adaptation.

    The adaptation window (`num_adaptation_steps`) is 0 here; `restart_adaptation`
    sets it in the results at the start of each warm-up window.

    Args:
        target_log_prob_fn: log-density of the flat state [chain, D] -> [chain].
        kernel: `"nuts"` or `"hmc"`.
        step_size: initial leapfrog step size (float or tensor).
        target_accept_prob: the adaptation's target acceptance (float or tensor).
        num_leapfrog_steps: mean leapfrog steps of `"hmc"` (int or tensor). Default value: 16.
        max_tree_depth: NUTS tree depth limit, a Python int. Default value: 10.

    Returns:
        A `tfp.mcmc.DualAveragingStepSizeAdaptation` kernel.

    Raises:
        ValueError: for an unknown `kernel`.

    #### Examples

    ```python
    build_kernel(target, kernel="hmc", step_size=0.1, target_accept_prob=0.65, num_leapfrog_steps=8)
    ```
    """
    if kernel == "nuts":
        inner = tfp.mcmc.NoUTurnSampler(target_log_prob_fn, step_size=step_size, max_tree_depth=max_tree_depth)
    elif kernel == "hmc":
        inner = JitteredHamiltonianMonteCarlo(target_log_prob_fn, step_size, num_leapfrog_steps)
    else:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    return tfp.mcmc.DualAveragingStepSizeAdaptation(
        inner, num_adaptation_steps=0, target_accept_prob=target_accept_prob)


def restart_adaptation(kernel, state, kernel_results, *, restart, num_adaptation_steps):
    """Where `restart` is true: fresh results at `state` adapting for `num_adaptation_steps` steps.

    Dual averaging restarts from the kernel's (current) step size, as Stan does at
    the start of each warm-up window; where `restart` is false the results pass
    through unchanged. Works inside a compiled function (`restart` a bool tensor).

    Args:
        kernel: a kernel from `build_kernel`.
        state: the current state [chain, D].
        kernel_results: the current results.
        restart: bool (tensor).
        num_adaptation_steps: length of the new adaptation window (int tensor).

    Returns:
        Kernel results of the same structure.

    #### Examples

    ```python
    results = restart_adaptation(kernel, z, results, restart=tf.constant(True), num_adaptation_steps=75)
    ```
    """
    fresh = tfp_internals.replace_fields(kernel.bootstrap_results(state),
                                         num_adaptation_steps=num_adaptation_steps)
    return tf.nest.map_structure(lambda new, old: tf.where(restart, new, old), fresh, kernel_results)


def step_statistics(kernel_results, *, kernel):
    """Acceptance probability, divergence flag and log-density per chain after one step.

    NUTS reports its own divergences; for HMC a step is divergent when its
    log acceptance ratio is not finite or below -1000 (the energy blew up).

    Args:
        kernel_results: results of a kernel from `build_kernel`.
        kernel: `"nuts"` or `"hmc"`.

    Returns:
        A tuple (accept_prob, divergent, log_prob) of [chain] tensors.

    #### Examples

    ```python
    accept_prob, divergent, log_prob = step_statistics(results, kernel="nuts")
    ```
    """
    inner = kernel_results.inner_results
    log_accept = inner.log_accept_ratio
    if kernel == "nuts":
        divergent = inner.has_divergence
        log_prob = inner.target_log_prob
    else:
        divergent = ~tf.math.is_finite(log_accept) | (log_accept < -1000.0)
        log_prob = inner.accepted_results.target_log_prob
    accept_prob = tf.exp(tf.minimum(tf.cast(0.0, log_accept.dtype), log_accept))
    accept_prob = tf.where(tf.math.is_nan(accept_prob), tf.zeros_like(accept_prob), accept_prob)
    return accept_prob, divergent, log_prob


def leapfrogs_taken(kernel_results, *, kernel):
    """Leapfrog steps (gradient evaluations) each chain took in the last step, int32 [chain].

    NUTS reports its own count; jittered HMC reports the mean path length L (the
    drawn length averages to it, so totals over many steps are unbiased).

    Args:
        kernel_results: results of a kernel from `build_kernel`.
        kernel: `"nuts"` or `"hmc"`.

    Returns:
        An int32 tensor [chain].

    #### Examples

    ```python
    leapfrogs_taken(results, kernel="nuts")      # e.g. [7, 15, 7, 7]
    ```
    """
    inner = kernel_results.inner_results
    shape = tf.shape(inner.log_accept_ratio)
    if kernel == "nuts":
        return tf.cast(tf.broadcast_to(inner.leapfrogs_taken, shape), tf.int32)
    return tf.broadcast_to(tf.cast(inner.accepted_results.num_leapfrog_steps, tf.int32), shape)


def adapted_step_size(kernel_results):
    """The step size dual averaging settled on (a scalar tensor).

    #### Examples

    ```python
    step_size = adapted_step_size(results)      # after a warm-up window
    ```
    """
    step_size = kernel_results.new_step_size
    if isinstance(step_size, (list, tuple)):
        step_size = step_size[0]
    return tf.reshape(step_size, [])
