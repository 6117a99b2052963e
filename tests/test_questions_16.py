"""Every question of lab 16 passes correct answers (in other forms) and fails typical wrong ones."""

import numpy as np
import pytest
import tensorflow as tf

from cs109b_bayes.grading import check


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv("CS109B_STRICT", raising=False)
    monkeypatch.delenv("CS109B_CHECK_SEED", raising=False)


def _h(p, axis=-1):
    return -np.sum(p * np.log(np.clip(p, 1e-12, 1)), axis=axis)


def bald_clipped(probs):
    return _h(probs.mean(axis=0)) - _h(probs).mean(axis=0)


def bald_loops_float32_list(probs):   # plain loops, np.where for 0 log 0, float32, a list
    probs = probs.astype(np.float32)
    out = []
    for i in range(probs.shape[1]):
        mean = probs[:, i].mean(axis=0)
        h_mean = -sum(float(m * np.log(m)) for m in mean if m > 0)
        h_draws = [-sum(float(q * np.log(q)) for q in row if q > 0) for row in probs[:, i]]
        out.append(np.float32(h_mean - np.mean(h_draws)))
    return out


def bald_einsum_tf(probs):   # einsum, xlogy, returns a tensor
    mean = probs.mean(axis=0)
    h_mean = -np.einsum("nc->n", np.where(mean > 0, mean * np.log(np.where(mean > 0, mean, 1)), 0))
    h_draws = -tf.reduce_sum(tf.math.xlogy(probs, probs), axis=-1)
    return tf.constant(h_mean) - tf.reduce_mean(h_draws, axis=0)


def entropy_of_mean_only(probs):
    return _h(probs.mean(axis=0))


def mean_of_entropies_only(probs):
    return _h(probs).mean(axis=0)


def minus_sign_forgotten(probs):
    return _h(probs).mean(axis=0) - _h(probs.mean(axis=0))


def log2_bald(probs):
    return bald_clipped(probs) / np.log(2)


def unclipped(probs):
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.sum(probs.mean(0) * np.log(probs.mean(0)), -1) + np.mean(np.sum(probs * np.log(probs), -1), 0)


def wrong_axis(probs):
    return _h(probs.mean(axis=1)) - _h(probs).mean(axis=1)


def test_lab16_bald_passes_correct_forms():
    for answer in (bald_clipped, bald_loops_float32_list, bald_einsum_tf):
        for _ in range(3):
            result = check("lab16.bald", bald_score=answer)
            assert result.passed, (answer.__name__, result.message)


@pytest.mark.parametrize("wrong, words", [
    (entropy_of_mean_only, "expected"), (mean_of_entropies_only, "expected"), (minus_sign_forgotten, "negative"),
    (log2_bald, "nats"), (unclipped, "0 * log 0"), (wrong_axis, "shape")])
def test_lab16_bald_fails_wrong_answers(wrong, words):
    for _ in range(3):
        result = check("lab16.bald", bald_score=wrong)
        assert not result.passed and words in result.message, (wrong.__name__, result.message)
    assert "log(" not in result.message.replace("log 0", "")


def acquire_masked(scores, labelled, batch_size):
    return np.argsort(-np.where(labelled, -np.inf, scores))[:batch_size]


def acquire_list_any_order(scores, labelled, batch_size):   # a list, lowest index first
    free = [i for i in range(len(scores)) if not labelled[i]]
    return sorted(sorted(free, key=lambda i: -scores[i])[:batch_size])


def acquire_ignores_labelled(scores, labelled, batch_size):
    return np.argsort(-scores)[:batch_size]


def acquire_lowest(scores, labelled, batch_size):
    free = np.flatnonzero(~labelled)
    return free[np.argsort(scores[free])][:batch_size]


def acquire_local_indices(scores, labelled, batch_size):   # indices into the unlabelled subset
    return np.argsort(-scores[~labelled])[:batch_size]


def acquire_scores_not_indices(scores, labelled, batch_size):
    return np.sort(np.where(labelled, -np.inf, scores))[::-1][:batch_size]


def test_lab16_acquire():
    for answer in (acquire_masked, acquire_list_any_order):
        for _ in range(3):
            result = check("lab16.acquire", acquire=answer)
            assert result.passed, (answer.__name__, result.message)
    for wrong, words in ((acquire_ignores_labelled, "labelled points"), (acquire_lowest, "LOWEST"),
                         (acquire_local_indices, "whole pool"), (acquire_scores_not_indices, "indices")):
        for _ in range(3):
            result = check("lab16.acquire", acquire=wrong)
            assert not result.passed and words in result.message, (wrong.__name__, result.message)
    assert not check("lab16.acquire", acquire=lambda *a: ...).passed
    assert not check("lab16.bald", bald_score=lambda p: ...).passed


def acquire_stand_in_zero(scores, labelled, batch_size):   # labelled points scored 0, not -inf
    return np.argsort(-np.where(labelled, 0.0, scores))[:batch_size]


def acquire_stand_in_minus_one(scores, labelled, batch_size):
    return np.argsort(-np.where(labelled, -1.0, scores))[:batch_size]


def acquire_mask_on_the_ranking(scores, labelled, batch_size):   # the pool's mask applied to the sorted order
    return np.argsort(-scores)[~labelled][:batch_size]


# Seeds on which the old check (one pool, scores >= 0) passed acquire_local_indices (31, 48, 67, 75) and
# acquire_mask_on_the_ranking (60, 62, 91, 153); it passed the stand-in answers on every seed.
OLD_CHECK_PASSED = (31, 48, 67, 75, 60, 62, 91, 153)


@pytest.mark.parametrize("seed", OLD_CHECK_PASSED + tuple(range(8)))
def test_lab16_acquire_fails_wrong_answers_on_every_seed(seed, monkeypatch):
    monkeypatch.setenv("CS109B_CHECK_SEED", str(seed))
    for answer in (acquire_masked, acquire_list_any_order):
        assert check("lab16.acquire", acquire=answer).passed, answer.__name__
    for wrong, words in ((acquire_local_indices, "whole pool"), (acquire_mask_on_the_ranking, "labelled"),
                         (acquire_stand_in_zero, "below -1"), (acquire_stand_in_minus_one, "below -1")):
        result = check("lab16.acquire", acquire=wrong)
        assert not result.passed and words in result.message, (wrong.__name__, result.message)
