"""The numpy leapfrog integrator: O(step^2) energy error, reversibility, and a correct HMC step."""

import numpy as np
import pytest

from cs109b_bayes.inference.hmc import leapfrog

TARGET = leapfrog.correlated_gaussian(correlation=0.95)


def _max_energy_error(step_size, path_length=3.0):
    path = leapfrog.integrate(TARGET.grad_log_prob, [1.0, -0.5], [0.3, 1.2], step_size=step_size,
                              num_steps=int(round(path_length / step_size)))
    energy = leapfrog.hamiltonian(TARGET.log_prob, path.positions, path.momenta)
    return np.max(np.abs(energy - energy[0]))


def test_energy_error_is_second_order_in_the_step_size():
    errors = [_max_energy_error(step) for step in (0.04, 0.02, 0.01)]
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 3.5) & (ratios < 4.5)), ratios       # halving the step quarters the error


def test_leapfrog_is_reversible():
    forward = leapfrog.integrate(TARGET.grad_log_prob, [0.7, 0.2], [-1.0, 0.4], step_size=0.15, num_steps=25)
    back = leapfrog.integrate(TARGET.grad_log_prob, forward.positions[-1], -forward.momenta[-1], step_size=0.15,
                              num_steps=25)
    np.testing.assert_allclose(back.positions[-1], forward.positions[0], atol=1e-10)
    np.testing.assert_allclose(-back.momenta[-1], forward.momenta[0], atol=1e-10)
    np.testing.assert_allclose(back.positions[::-1], forward.positions, atol=1e-10)


def test_a_too_large_step_blows_up():
    """Past the stability limit (2 x the smallest sd, about 0.45 here) the energy explodes."""
    assert _max_energy_error(0.6) > 100 * _max_energy_error(0.2)


def test_gradient_matches_finite_differences():
    theta = np.array([0.3, -1.1])
    numeric = [(TARGET.log_prob(theta + e) - TARGET.log_prob(theta - e)) / 2e-6 for e in np.eye(2) * 1e-6]
    np.testing.assert_allclose(TARGET.grad_log_prob(theta), numeric, rtol=1e-6)


def test_hmc_steps_sample_the_target():
    rng = np.random.default_rng(0)
    state, draws, accepted = np.zeros(2), [], 0
    for _ in range(3000):
        state, _, ok = leapfrog.hmc_step(TARGET, state, step_size=0.2, num_steps=10, rng=rng)
        draws.append(state)
        accepted += ok
    draws = np.array(draws[500:])
    assert accepted / 3000 > 0.8
    np.testing.assert_allclose(np.cov(draws.T), TARGET.cov, atol=0.15)      # ESS ~ thousands: se ~0.03
    np.testing.assert_allclose(draws.mean(axis=0), 0.0, atol=0.15)


@pytest.mark.parametrize("kwargs, match", [
    (dict(step_size=0.0, num_steps=3), "step_size"),
    (dict(step_size=0.1, num_steps=0), "num_steps"),
    (dict(step_size=0.1, num_steps=2.5), "num_steps"),
])
def test_integrate_rejects_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        leapfrog.integrate(TARGET.grad_log_prob, [0.0, 0.0], [1.0, 0.0], **kwargs)


def test_bad_shapes_and_targets():
    with pytest.raises(ValueError, match="one shape"):
        leapfrog.integrate(TARGET.grad_log_prob, [0.0, 0.0], [1.0], step_size=0.1, num_steps=1)
    with pytest.raises(ValueError, match="correlation"):
        leapfrog.correlated_gaussian(correlation=1.0)
    with pytest.raises(ValueError, match="sd"):
        leapfrog.correlated_gaussian(sd=(1.0, -1.0))
