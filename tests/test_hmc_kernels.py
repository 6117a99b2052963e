"""Kernel construction: NUTS / jittered HMC inside dual averaging, restarts, per-step statistics."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from cs109b_bayes.inference.hmc import kernels


def standard_normal(z):
    return -0.5 * tf.reduce_sum(z**2, axis=-1)


def stiff(z):
    return -0.5 * tf.reduce_sum(z**2 * tf.constant([1.0, 1e4]), axis=-1)


@pytest.mark.parametrize("kind, inner_type", [
    ("nuts", tfp.mcmc.NoUTurnSampler),
    ("hmc", kernels.JitteredHamiltonianMonteCarlo),
])
def test_build_kernel_wraps_the_sampler_in_dual_averaging(kind, inner_type):
    kernel = kernels.build_kernel(standard_normal, kernel=kind, step_size=0.3, target_accept_prob=0.7,
                                  num_leapfrog_steps=4)
    assert isinstance(kernel, tfp.mcmc.DualAveragingStepSizeAdaptation)
    assert isinstance(kernel.inner_kernel, inner_type)
    results = kernel.bootstrap_results(tf.zeros([3, 2]))
    assert float(results.target_accept_prob) == pytest.approx(0.7)
    assert int(results.num_adaptation_steps) == 0      # each warm-up window sets its own
    assert float(kernels.adapted_step_size(results)) == pytest.approx(0.3)


def test_build_kernel_rejects_unknown_kernels():
    with pytest.raises(ValueError, match="kernel"):
        kernels.build_kernel(standard_normal, kernel="gibbs", step_size=0.1, target_accept_prob=0.8)


def test_jittered_hmc_step_is_hmc_with_the_drawn_path_length(seed):
    """One jittered step == TFP's HMC step with L' leapfrog steps, L' drawn from the step's seed."""
    mean_steps, step_size = 6, 0.2
    jittered = kernels.JitteredHamiltonianMonteCarlo(standard_normal, step_size, mean_steps)
    state = tf.constant(np.random.default_rng(seed).normal(size=(4, 3)), tf.float32)
    step_seed = tf.constant([seed % 1000, 7], tf.int32)
    new_state, results = jittered.one_step(state, jittered.bootstrap_results(state), seed=step_seed)
    length_seed, inner_seed = tfp.random.split_seed(step_seed)
    length = int(tf.random.stateless_uniform([], length_seed, minval=3, maxval=10, dtype=tf.int32))
    plain = tfp.mcmc.HamiltonianMonteCarlo(standard_normal, step_size=step_size, num_leapfrog_steps=length)
    expected, _ = plain.one_step(state, plain.bootstrap_results(state), seed=inner_seed)
    np.testing.assert_allclose(new_state.numpy(), expected.numpy(), rtol=1e-6)
    assert int(results.accepted_results.num_leapfrog_steps) == mean_steps      # restored for the next step


def test_jittered_path_lengths_cover_half_to_three_halves(seed):
    kernel = kernels.JitteredHamiltonianMonteCarlo(standard_normal, 0.1, tf.constant(8))
    lengths = set()
    for i in range(300):
        length_seed, _ = tfp.random.split_seed(tf.constant([seed % 1000, i], tf.int32))
        lengths.add(int(tf.random.stateless_uniform([], length_seed, minval=4, maxval=13, dtype=tf.int32)))
    assert lengths == set(range(4, 13))             # uniform on [L/2, 3L/2] = [4, 12]
    state = tf.zeros([2, 2])
    _, results = kernel.one_step(state, kernel.bootstrap_results(state), seed=tf.constant([1, 2]))
    assert int(results.accepted_results.num_leapfrog_steps) == 8


def test_restart_adaptation_resets_only_where_asked():
    kernel = kernels.build_kernel(standard_normal, kernel="nuts", step_size=0.5, target_accept_prob=0.8)
    state = tf.ones([2, 2])
    results = kernel.bootstrap_results(state)
    for i in range(3):
        state, results = kernel.one_step(state, results, seed=tf.constant([3, i]))
    kept = kernels.restart_adaptation(kernel, state, results, restart=tf.constant(False),
                                      num_adaptation_steps=tf.constant(40))
    for before, after in zip(tf.nest.flatten(results), tf.nest.flatten(kept)):
        np.testing.assert_array_equal(before.numpy(), after.numpy())
    fresh = kernels.restart_adaptation(kernel, state, results, restart=tf.constant(True),
                                       num_adaptation_steps=tf.constant(40))
    assert int(fresh.num_adaptation_steps) == 40 and int(fresh.step) == 0
    np.testing.assert_allclose(fresh.inner_results.target_log_prob.numpy(), standard_normal(state).numpy())


@pytest.mark.parametrize("kind", ["nuts", "hmc"])
def test_step_statistics_flag_divergences_only_when_the_energy_blows_up(kind):
    def statistics(step_size):
        kernel = kernels.build_kernel(stiff, kernel=kind, step_size=step_size, target_accept_prob=0.8,
                                      num_leapfrog_steps=5, max_tree_depth=3)
        state = tf.constant([[0.5, 0.01]] * 4)
        state, results = kernel.one_step(state, kernel.bootstrap_results(state), seed=tf.constant([5, 6]))
        accept, divergent, log_prob = kernels.step_statistics(results, kernel=kind)
        np.testing.assert_allclose(log_prob.numpy(), stiff(state).numpy(), rtol=1e-5)
        return accept.numpy(), divergent.numpy()

    accept, divergent = statistics(1.0)               # 100x the stable step for the stiff direction
    assert divergent.all() and np.all(accept < 1e-3)
    accept, divergent = statistics(0.001)
    assert not divergent.any() and np.all(accept > 0.9)


def test_dual_averaging_shrinks_a_step_size_that_is_too_large():
    kernel = kernels.build_kernel(stiff, kernel="hmc", step_size=0.05, target_accept_prob=0.8,
                                  num_leapfrog_steps=3)
    state = tf.constant([[0.5, 0.001]] * 4)
    results = kernels.restart_adaptation(kernel, state, kernel.bootstrap_results(state), restart=tf.constant(True),
                                         num_adaptation_steps=tf.constant(100))
    for i in range(60):
        state, results = kernel.one_step(state, results, seed=tf.constant([9, i]))
    adapted = kernels.adapted_step_size(results)
    assert adapted.shape == () and float(adapted) < 0.02           # stable below 2 / 100 for the stiff axis


@pytest.mark.parametrize("kind", ["nuts", "hmc"])
def test_leapfrogs_taken_counts_the_gradient_evaluations_of_each_chain(kind):
    kernel = kernels.build_kernel(standard_normal, kernel=kind, step_size=0.2, target_accept_prob=0.8,
                                  num_leapfrog_steps=6, max_tree_depth=4)
    state = tf.zeros([3, 2])
    state, results = kernel.one_step(state, kernel.bootstrap_results(state), seed=tf.constant([3, 4]))
    taken = kernels.leapfrogs_taken(results, kernel=kind)
    assert taken.dtype == tf.int32 and taken.shape == (3,)
    if kind == "hmc":
        np.testing.assert_array_equal(taken.numpy(), 6)          # the mean path length
    else:   # at most 2**max_tree_depth - 1 steps; step 0.2 on N(0, 1) needs more than one doubling
        assert np.all(taken.numpy() >= 1) and np.all(taken.numpy() <= 15) and taken.numpy().max() > 1
        np.testing.assert_array_equal(taken.numpy(), results.inner_results.leapfrogs_taken.numpy())

