"""Every question of lab 13 passes correct answers (in several forms) and fails typical wrong ones."""

import numpy as np
import pytest

from cs109b_bayes.grading import check


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv("CS109B_STRICT", raising=False)
    monkeypatch.delenv("CS109B_CHECK_SEED", raising=False)


def step_right(theta, grad_log_prior, grad_log_lik, num_data, step_size, noise):
    n = grad_log_lik.shape[0]
    return theta + step_size / 2 * (grad_log_prior + num_data / n * grad_log_lik.sum(axis=0)) + np.sqrt(step_size) * noise


def step_float32_list(theta, grad_log_prior, grad_log_lik, num_data, step_size, noise):   # mean * N, float32 list
    drift = grad_log_prior + num_data * np.mean(grad_log_lik, axis=0)
    new = theta.astype(np.float32) + np.float32(0.5 * step_size) * drift.astype(np.float32) \
        + np.float32(step_size) ** 0.5 * noise.astype(np.float32)
    return list(new)


def step_tf(theta, grad_log_prior, grad_log_lik, num_data, step_size, noise):   # a TensorFlow tensor
    import tensorflow as tf
    return tf.constant(step_right(theta, grad_log_prior, grad_log_lik, num_data, step_size, noise))


def step_no_half(theta, grad_log_prior, grad_log_lik, num_data, step_size, noise):
    n = grad_log_lik.shape[0]
    return theta + step_size * (grad_log_prior + num_data / n * grad_log_lik.sum(axis=0)) + np.sqrt(step_size) * noise


def step_descent(theta, grad_log_prior, grad_log_lik, num_data, step_size, noise):
    n = grad_log_lik.shape[0]
    return theta - step_size / 2 * (grad_log_prior + num_data / n * grad_log_lik.sum(axis=0)) + np.sqrt(step_size) * noise


def step_unscaled(theta, grad_log_prior, grad_log_lik, num_data, step_size, noise):   # forgot N / n
    return theta + step_size / 2 * (grad_log_prior + grad_log_lik.sum(axis=0)) + np.sqrt(step_size) * noise


def step_averaged(theta, grad_log_prior, grad_log_lik, num_data, step_size, noise):   # mean, not N * mean
    return theta + step_size / 2 * (grad_log_prior + grad_log_lik.mean(axis=0)) + np.sqrt(step_size) * noise


def step_noise_eps(theta, grad_log_prior, grad_log_lik, num_data, step_size, noise):   # noise sd = eps
    n = grad_log_lik.shape[0]
    return theta + step_size / 2 * (grad_log_prior + num_data / n * grad_log_lik.sum(axis=0)) + step_size * noise


def step_no_noise(theta, grad_log_prior, grad_log_lik, num_data, step_size, noise):   # SGD, not SGLD
    n = grad_log_lik.shape[0]
    return theta + step_size / 2 * (grad_log_prior + num_data / n * grad_log_lik.sum(axis=0))


def step_noise_sqrt_half(theta, grad_log_prior, grad_log_lik, num_data, step_size, noise):   # variance eps / 2
    n = grad_log_lik.shape[0]
    drift = grad_log_prior + num_data / n * grad_log_lik.sum(axis=0)
    return theta + step_size / 2 * drift + np.sqrt(step_size / 2) * noise


def step_in_place(theta, grad_log_prior, grad_log_lik, num_data, step_size, noise):   # writes into its input
    theta += step_size / 2 * (grad_log_prior + num_data / len(grad_log_lik) * grad_log_lik.sum(axis=0))
    theta += np.sqrt(step_size) * noise
    return theta


def test_lab13_sgld_step():
    for right in (step_right, step_float32_list, step_tf, step_in_place):
        result = check("lab13.sgld_step", sgld_step=right)
        assert result.passed, (right.__name__, result.message)
    expected_words = {step_descent: "DOWN", step_unscaled: "ALL num_data", step_averaged: "ALL num_data",
                      step_no_half: "drift", step_noise_eps: "noise", step_no_noise: "noise",
                      step_noise_sqrt_half: "noise"}
    for wrong, word in expected_words.items():
        for _ in range(3):
            result = check("lab13.sgld_step", sgld_step=wrong)
            assert not result.passed, wrong.__name__
            assert word in result.message, (wrong.__name__, result.message)
    for blank in (lambda *a: ..., lambda *a: None):
        result = check("lab13.sgld_step", sgld_step=blank)
        assert not result.passed and "not answered yet" in result.message, result.message
    shape = check("lab13.sgld_step", sgld_step=lambda theta, *a: np.append(theta, 0.0))
    assert not shape.passed and "shape" in shape.message


def mixture_right(locs, scales):
    mean = locs.mean(axis=0)
    return mean, np.mean(scales**2 + locs**2, axis=0) - mean**2


def mixture_total_variance(locs, scales):   # law of total variance, as a list, float32 kept
    return [np.mean(locs, axis=0), np.mean(scales**2, axis=0) + np.var(locs, axis=0)]


def mixture_tf(locs, scales):
    import tensorflow as tf
    mean, variance = mixture_right(locs, scales)
    return tf.constant(mean), tf.constant(variance)


def mixture_aleatoric_only(locs, scales):
    return locs.mean(axis=0), np.mean(scales**2, axis=0)


def mixture_epistemic_only(locs, scales):
    return locs.mean(axis=0), np.var(locs, axis=0)


def mixture_ddof1(locs, scales):
    return locs.mean(axis=0), np.mean(scales**2, axis=0) + np.var(locs, axis=0, ddof=1)


def mixture_mean_sd_squared(locs, scales):   # (mean sigma)^2 instead of mean sigma^2
    return locs.mean(axis=0), np.mean(scales, axis=0) ** 2 + np.var(locs, axis=0)


def mixture_sd(locs, scales):   # returns the sd, not the variance
    mean, variance = mixture_right(locs, scales)
    return mean, np.sqrt(variance)


def test_lab13_mixture_predictive():
    for right in (mixture_right, mixture_total_variance, mixture_tf):
        result = check("lab13.mixture_predictive", mixture_predictive=right)
        assert result.passed, (right.__name__, result.message)
    expected_words = {mixture_aleatoric_only: "disagreement", mixture_epistemic_only: "own noise",
                      mixture_ddof1: "not a sample", mixture_mean_sd_squared: "own noise", mixture_sd: "variance"}
    for wrong, word in expected_words.items():
        for _ in range(3):
            result = check("lab13.mixture_predictive", mixture_predictive=wrong)
            assert not result.passed, wrong.__name__
            assert word in result.message, (wrong.__name__, result.message)
    single = check("lab13.mixture_predictive", mixture_predictive=lambda locs, scales: locs.mean(axis=0))
    assert not single.passed and "pair" in single.message
    for blank in (lambda *a: ..., lambda *a: None):
        result = check("lab13.mixture_predictive", mixture_predictive=blank)
        assert not result.passed and "not answered yet" in result.message, result.message


def step_integer_division(theta, grad_log_prior, grad_log_lik, num_data, step_size, noise):   # N // n
    n = grad_log_lik.shape[0]
    return theta + step_size / 2 * (grad_log_prior + num_data // n * grad_log_lik.sum(axis=0)) \
        + np.sqrt(step_size) * noise


# Seeds on which num_data was a multiple of the minibatch size in every round, so `num_data // n` passed.
INTEGER_DIVISION_PASSED = (22, 23, 28, 50, 56, 73)


@pytest.mark.parametrize("seed", INTEGER_DIVISION_PASSED + tuple(range(10)))
def test_lab13_sgld_step_fails_integer_division_on_every_seed(seed, monkeypatch):
    monkeypatch.setenv("CS109B_CHECK_SEED", str(seed))
    assert check("lab13.sgld_step", sgld_step=step_right).passed
    result = check("lab13.sgld_step", sgld_step=step_integer_division)
    assert not result.passed and "drift" in result.message, result.message
