"""Questions of lab 13: one SGLD step on a minibatch, and the mixture predictive of an ensemble."""

import numpy as np

from cs109b_bayes.grading import answer_array, expect_answered, expect_close, expect_true, fresh_rng, question

__all__ = []


def _step_inputs(rng, num_params=3, batch_size=5):
    theta = rng.normal(size=num_params)
    grad_log_prior = rng.normal(size=num_params)
    grad_log_lik = rng.normal(size=(batch_size, num_params))
    num_data = int(rng.integers(40, 200))
    num_data += int(num_data % batch_size == 0)     # N / n never a whole number: `num_data // n` cannot pass
    step_size = float(rng.uniform(0.01, 0.05))
    noise = rng.normal(size=num_params)
    return theta, grad_log_prior, grad_log_lik, num_data, step_size, noise


def _sgld_reference(theta, grad_log_prior, grad_log_lik, num_data, step_size, noise):
    drift = grad_log_prior + num_data / grad_log_lik.shape[0] * grad_log_lik.sum(axis=0)
    return theta + 0.5 * step_size * drift + np.sqrt(step_size) * noise


def _call_step(sgld_step, inputs, what):
    theta, prior, lik, num_data, step_size, noise = inputs
    got = answer_array(what, sgld_step(theta.copy(), prior.copy(), lik.copy(), num_data, step_size, noise.copy()))
    expect_true(got.shape == theta.shape, f"{what} should return the new theta, shape {theta.shape}; "
                f"got shape {got.shape}")
    return got


@question("lab13.sgld_step",
          hint="theta + (step_size / 2) * (grad_log_prior + (N / n) * grad_log_lik.sum(axis=0)) "
               "+ sqrt(step_size) * noise, with n = len(grad_log_lik) the minibatch size and N = num_data.")
def _sgld_step(*, sgld_step):
    """sgld_step(theta, grad_log_prior, grad_log_lik [n, d], num_data, step_size, noise) -> new theta [d]."""
    rng = fresh_rng()
    theta, prior, lik, num_data, step_size, noise = _step_inputs(rng)
    # 1. The drift alone (noise = 0): the size and sign of the gradient term, and the minibatch scaling.
    zero = np.zeros_like(noise)
    moved = _call_step(sgld_step, (theta, prior, lik, num_data, step_size, zero), "sgld_step(..., noise=0)")
    expected = _sgld_reference(theta, prior, lik, num_data, step_size, zero)
    expected_move, got_move = expected - theta, moved - theta
    if np.allclose(got_move, -expected_move, rtol=1e-4):
        expect_true(False, "with noise = 0 your step moves theta DOWN the log-posterior: SGLD climbs it "
                    "(it is gradient ascent on log p(theta | data) plus noise)")
    unscaled = theta + 0.5 * step_size * (prior + lik.sum(axis=0))
    averaged = theta + 0.5 * step_size * (prior + lik.mean(axis=0))
    if any(np.allclose(moved, wrong, rtol=1e-4) for wrong in (unscaled, averaged)):
        expect_true(False, f"with noise = 0 and a minibatch of {lik.shape[0]} of num_data = {num_data} examples, "
                    f"your step moves theta by {np.round(got_move, 5).tolist()}, expected "
                    f"{np.round(expected_move, 5).tolist()}: the minibatch's log-likelihood gradient must estimate "
                    f"the gradient over ALL num_data examples (check how you scale it)")
    expect_close(f"sgld_step(theta, ..., num_data={num_data}, step_size={step_size:.4f}, noise=0) - theta "
                 f"(the drift; check the factor in front of the gradient)", got_move, expected_move,
                 rtol=1e-4, atol=1e-8)
    # 2. The noise alone (zero gradients): its scale.
    zeros_prior, zeros_lik = np.zeros_like(prior), np.zeros_like(lik)
    jumped = _call_step(sgld_step, (theta, zeros_prior, zeros_lik, num_data, step_size, noise),
                        "sgld_step(..., zero gradients)")
    expected_jump = _sgld_reference(theta, zeros_prior, zeros_lik, num_data, step_size, noise) - theta
    expect_close(f"with zero gradients and step_size={step_size:.4f}, the move sgld_step(...) - theta for the "
                 f"standard normal draw noise={np.round(noise, 3).tolist()} (the injected noise has the wrong "
                 f"scale: its variance must equal the step size)", jumped - theta, expected_jump, rtol=1e-4, atol=1e-8)
    # 3. Both together, on fresh inputs.
    inputs = _step_inputs(rng, num_params=2, batch_size=4)
    got = _call_step(sgld_step, inputs, "sgld_step(theta, grad_log_prior, grad_log_lik, num_data, step_size, noise)")
    expect_close("sgld_step(theta, grad_log_prior, grad_log_lik, num_data, step_size, noise)", got,
                 _sgld_reference(*inputs), rtol=1e-4, atol=1e-7)


def _mixture_reference(locs, scales):
    mean = locs.mean(axis=0)
    return mean, np.mean(scales**2 + locs**2, axis=0) - mean**2


def _call_mixture(mixture_predictive, locs, scales, what):
    value = expect_answered(what, mixture_predictive(locs.copy(), scales.copy()))
    expect_true(isinstance(value, (tuple, list)) and len(value) == 2,
                f"{what} should return a pair (mean, variance), got {type(value).__name__}")
    mean, variance = (answer_array(what, v) for v in value)
    expect_true(mean.shape == variance.shape == locs.shape[1:],
                f"{what} should return a mean and a variance per input point, shape {locs.shape[1:]}; got shapes "
                f"{mean.shape} and {variance.shape}")
    return mean, variance


@question("lab13.mixture_predictive",
          hint="Mean: the average of the members' means. Variance (law of total variance): the average of "
               "sigma_m^2 + mu_m^2 over members, minus the mean squared (equivalently: mean of sigma_m^2 plus the "
               "population variance, ddof=0, of the mu_m).")
def _mixture_predictive(*, mixture_predictive):
    """mixture_predictive(locs [M, m], scales [M, m]) -> (mean [m], variance [m]) of the equal-weight mixture."""
    rng = fresh_rng()
    num_members, num_points = int(rng.integers(3, 7)), 4
    # 1. Every member predicts the same mean: the variance is the members' own (aleatoric) part.
    same = np.repeat(rng.normal(size=(1, num_points)), num_members, axis=0)
    scales = rng.uniform(0.2, 1.0, size=(num_members, num_points))
    mean, variance = _call_mixture(mixture_predictive, same, scales, "mixture_predictive(locs, scales)")
    expect_close(f"the mixture's mean when all {num_members} members predict the same mean", mean, same[0],
                 rtol=1e-5, atol=1e-8)
    expect_close(f"the variance when all {num_members} members predict the same mean, with different sds "
                 f"{np.round(scales[:, 0], 3).tolist()} at the first point (only their own noise is left: "
                 f"check how the members' sds enter)", variance, np.mean(scales**2, axis=0), rtol=1e-5, atol=1e-8)
    # 2. Members with almost no noise but different means: the variance is their spread.
    locs = rng.normal(0.0, 2.0, size=(num_members, num_points))
    tiny = np.full_like(locs, 1e-6)
    mean, variance = _call_mixture(mixture_predictive, locs, tiny, "mixture_predictive(locs, scales)")
    expected_mean, expected_variance = _mixture_reference(locs, tiny)
    expect_close("the mixture's mean (the members' means averaged)", mean, expected_mean, rtol=1e-5, atol=1e-8)
    expect_close(f"the variance of {num_members} members with sd ~ 0 and different means "
                 f"{np.round(locs[:, 0], 3).tolist()} at the first point (the members' disagreement is the whole "
                 f"variance: an equal-weight mixture of {num_members} components, not a sample of them)",
                 variance, expected_variance, rtol=1e-5, atol=1e-8)
    # 3. Both, float32 inputs.
    locs = rng.normal(size=(num_members, num_points)).astype(np.float32)
    scales = rng.uniform(0.1, 1.5, size=(num_members, num_points)).astype(np.float32)
    mean, variance = _call_mixture(mixture_predictive, locs, scales, "mixture_predictive(locs, scales)")
    expected_mean, expected_variance = _mixture_reference(locs.astype(float), scales.astype(float))
    expect_close("the mixture's mean", mean, expected_mean, rtol=1e-4, atol=1e-6)
    expect_close("the mixture's variance (members' noise and disagreement together)", variance, expected_variance,
                 rtol=1e-4, atol=1e-6)
