"""The TFP internals we rely on still behave as cs109b_bayes.tfp_internals expects.

If one of these fails after a TFP upgrade, read cs109b_bayes/tfp_internals.py first.
"""

import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from cs109b_bayes import tfp_internals


def _nuts_results():
    kernel = tfp.mcmc.DualAveragingStepSizeAdaptation(
        tfp.mcmc.HamiltonianMonteCarlo(lambda x: -0.5 * tf.reduce_sum(x**2, -1), step_size=0.1,
                                       num_leapfrog_steps=3, store_parameters_in_results=True),
        num_adaptation_steps=10)
    return kernel.bootstrap_results(tf.zeros([2, 3]))


def test_replace_innermost_reaches_the_nested_hmc_parameter():
    results = _nuts_results()
    replaced = tfp_internals.replace_innermost(results, num_leapfrog_steps=tf.constant(7))
    assert int(replaced.inner_results.accepted_results.num_leapfrog_steps) == 7
    assert int(results.inner_results.accepted_results.num_leapfrog_steps) == 3


def test_replace_innermost_fails_loudly_on_an_unknown_field():
    with pytest.raises(RuntimeError, match="tfp_internals"):
        tfp_internals.replace_innermost(_nuts_results(), no_such_field=1)


def test_replace_fields_restarts_the_adaptation_window():
    results = _nuts_results()
    replaced = tfp_internals.replace_fields(results, num_adaptation_steps=tf.constant(99))
    assert int(replaced.num_adaptation_steps) == 99


def test_replace_fields_names_the_missing_field():
    with pytest.raises(RuntimeError, match="no_such_field"):
        tfp_internals.replace_fields(_nuts_results(), no_such_field=1)
