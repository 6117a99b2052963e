"""Every question of lab 15 passes correct answers (in several forms) and fails typical wrong ones."""

import math

import numpy as np
import pytest
import scipy.special
import scipy.stats

from cs109b_bayes.grading import check


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv("CS109B_STRICT", raising=False)
    monkeypatch.delenv("CS109B_CHECK_SEED", raising=False)


def bound_shifted(log_weights):
    top = log_weights.max(axis=0)
    return top + np.log(np.mean(np.exp(log_weights - top), axis=0))


def bound_scipy_list(log_weights):   # a list of float32 numbers
    return [np.float32(v) for v in scipy.special.logsumexp(log_weights, axis=0) - math.log(len(log_weights))]


def bound_tensorflow(log_weights):
    import tensorflow as tf  # noqa: PLC0415

    weights = tf.constant(log_weights, tf.float64)
    return tf.reduce_logsumexp(weights, axis=0) - tf.math.log(tf.cast(tf.shape(weights)[0], tf.float64))


def bound_naive(log_weights):   # underflows for digit-sized log weights
    with np.errstate(divide="ignore"):
        return np.log(np.mean(np.exp(log_weights), axis=0))


def bound_elbo(log_weights):
    return log_weights.mean(axis=0)


def bound_sum(log_weights):   # log of the sum, not of the mean
    return scipy.special.logsumexp(log_weights, axis=0)


def bound_wrong_axis(log_weights):
    return scipy.special.logsumexp(log_weights, axis=1) - math.log(log_weights.shape[1])


def test_lab15_importance_bound():
    for right in (bound_shifted, bound_scipy_list, bound_tensorflow):
        result = check("lab15.importance_bound", importance_bound=right)
        assert result.passed, (right.__name__, result.message)
    for _ in range(3):
        naive = check("lab15.importance_bound", importance_bound=bound_naive)
        assert not naive.passed and "underflows" in naive.message, naive.message
        elbo = check("lab15.importance_bound", importance_bound=bound_elbo)
        assert not elbo.passed and "ELBO" in elbo.message, elbo.message
        summed = check("lab15.importance_bound", importance_bound=bound_sum)
        assert not summed.passed and "log(k)" in summed.message, summed.message
        axis = check("lab15.importance_bound", importance_bound=bound_wrong_axis)
        assert not axis.passed and "shape" in axis.message, axis.message
    assert not check("lab15.importance_bound", importance_bound=lambda w: ...).passed


def auc_pairs(in_scores, out_scores):
    greater = np.asarray(in_scores)[:, None] > np.asarray(out_scores)[None, :]
    equal = np.asarray(in_scores)[:, None] == np.asarray(out_scores)[None, :]
    return (greater.sum() + 0.5 * equal.sum()) / (len(in_scores) * len(out_scores))


def auc_ranks(in_scores, out_scores):   # Mann-Whitney U from mid-ranks, as a 0-d float32 array
    ranks = scipy.stats.rankdata(np.concatenate([in_scores, out_scores]))
    n_in, n_out = len(in_scores), len(out_scores)
    return np.float32((ranks[:n_in].sum() - n_in * (n_in + 1) / 2) / (n_in * n_out))


def auc_loops(in_scores, out_scores):
    total = 0.0
    for a in in_scores:
        for b in out_scores:
            total += 1.0 if a > b else 0.5 if a == b else 0.0
    return total / (len(in_scores) * len(out_scores))


def test_lab15_roc_auc():
    for right in (auc_pairs, auc_ranks, auc_loops):
        result = check("lab15.roc_auc", roc_auc=right)
        assert result.passed, (right.__name__, result.message)
    for _ in range(3):
        reversed_ = check("lab15.roc_auc", roc_auc=lambda a, b: auc_pairs(b, a))
        assert not reversed_.passed and "OUT-of-distribution" in reversed_.message, reversed_.message
        ties_zero = check("lab15.roc_auc", roc_auc=lambda a, b: np.mean(np.asarray(a)[:, None] > np.asarray(b)))
        assert not ties_zero.passed and "ties" in ties_zero.message, ties_zero.message
        ties_one = check("lab15.roc_auc", roc_auc=lambda a, b: np.mean(np.asarray(a)[:, None] >= np.asarray(b)))
        assert not ties_one.passed and "ties" in ties_one.message, ties_one.message
    means = check("lab15.roc_auc", roc_auc=lambda a, b: float(np.mean(a) > np.mean(b)))
    assert not means.passed
    per_pair = check("lab15.roc_auc", roc_auc=lambda a, b: np.asarray(a)[:, None] > np.asarray(b)[None, :])
    assert not per_pair.passed and "one number" in per_pair.message
    assert not check("lab15.roc_auc", roc_auc=lambda a, b: ...).passed
