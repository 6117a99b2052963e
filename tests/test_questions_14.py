"""Every question of lab 14 passes correct answers (in two forms) and fails typical wrong ones."""

import numpy as np
import pytest

from cs109b_bayes.grading import check


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv("CS109B_STRICT", raising=False)
    monkeypatch.delenv("CS109B_CHECK_SEED", raising=False)


def score_right(f, mu, log_sigma, eps):
    sigma = np.exp(log_sigma)
    z = mu + sigma * eps
    return np.stack([f(z) * (z - mu) / sigma**2, f(z) * ((z - mu) ** 2 / sigma**2 - 1)], axis=1)


def score_as_pair_float32(f, mu, log_sigma, eps):   # a list of two [S] float32 arrays, written with eps
    sigma = np.float32(np.exp(log_sigma))
    value = f(np.float32(mu) + sigma * eps.astype(np.float32))
    return [value * eps / sigma, value * (eps**2 - 1)]


def score_no_factor(f, mu, log_sigma, eps):   # forgot the (z - mu) / sigma^2 factor: (z - mu) only
    sigma = np.exp(log_sigma)
    z = mu + sigma * eps
    return np.stack([f(z) * (z - mu), f(z) * ((z - mu) ** 2 / sigma**2 - 1)], axis=1)


def score_sigma_not_log(f, mu, log_sigma, eps):   # derivative w.r.t. sigma, not log sigma
    sigma = np.exp(log_sigma)
    z = mu + sigma * eps
    return np.stack([f(z) * (z - mu) / sigma**2, f(z) * ((z - mu) ** 2 / sigma**3 - 1 / sigma)], axis=1)


def test_lab14_score_function():
    assert check("lab14.score_function", score_function=score_right).passed
    assert check("lab14.score_function", score_function=score_as_pair_float32).passed
    for seed in range(3):
        result = check("lab14.score_function", score_function=score_no_factor)
        assert not result.passed and "biased" in result.message, result.message
        sigma_result = check("lab14.score_function", score_function=score_sigma_not_log)
        assert not sigma_result.passed and "log_sigma" in sigma_result.message, sigma_result.message
    averaged = check("lab14.score_function", score_function=lambda *a: score_right(*a).mean(axis=0))
    assert not averaged.passed and "not their average" in averaged.message
    assert not check("lab14.score_function", score_function=lambda *a: ...).passed


def reparam_right(grad_f, mu, log_sigma, eps):
    sigma = np.exp(log_sigma)
    slope = grad_f(mu + sigma * eps)
    return np.column_stack([slope, slope * sigma * eps])


def reparam_tuple_transposed(grad_f, mu, log_sigma, eps):   # shape [2, S] as a tuple, float32
    z = (mu + np.exp(log_sigma) * eps).astype(np.float32)
    return (grad_f(z), grad_f(z) * (z - np.float32(mu)))


def reparam_no_chain_rule(grad_f, mu, log_sigma, eps):   # f'(z) used for log sigma as is
    slope = grad_f(mu + np.exp(log_sigma) * eps)
    return np.column_stack([slope, slope])


def reparam_no_sigma(grad_f, mu, log_sigma, eps):   # dz/dlog_sigma taken as eps
    slope = grad_f(mu + np.exp(log_sigma) * eps)
    return np.column_stack([slope, slope * eps])


def test_lab14_reparameterization():
    assert check("lab14.reparameterization", reparameterization=reparam_right).passed
    assert check("lab14.reparameterization", reparameterization=reparam_tuple_transposed).passed
    for wrong in (reparam_no_chain_rule, reparam_no_sigma):
        for seed in range(3):
            result = check("lab14.reparameterization", reparameterization=wrong)
            assert not result.passed, wrong.__name__
    message = check("lab14.reparameterization", reparameterization=reparam_no_sigma).message
    assert "log_sigma" in message
    assert not check("lab14.reparameterization", reparameterization=lambda *a: ...).passed


def test_lab14_baseline():
    loo = lambda v: (np.sum(v) - v) / (len(v) - 1)   # noqa: E731
    as_list = lambda v: [np.mean(np.delete(v, i)) for i in range(len(v))]   # noqa: E731
    assert check("lab14.baseline", leave_one_out_baseline=loo).passed
    assert check("lab14.baseline", leave_one_out_baseline=as_list).passed
    with_itself = check("lab14.baseline", leave_one_out_baseline=lambda v: np.full_like(v, v.mean()))
    assert not with_itself.passed and "must not depend" in with_itself.message
    wrong_divisor = check("lab14.baseline", leave_one_out_baseline=lambda v: (np.sum(v) - v) / len(v))
    assert not wrong_divisor.passed
    assert not check("lab14.baseline", leave_one_out_baseline=lambda v: ...).passed
