"""Questions of lab 15: the importance-weighted bound from log weights, and the ROC AUC of a density score."""

import math

import numpy as np

from cs109b_bayes.grading import answer_array, expect_close, expect_true, fresh_rng, question

__all__ = []


def _reference_bound(log_weights):
    return np.logaddexp.reduce(log_weights, axis=0) - math.log(log_weights.shape[0])


def _bound_answer(importance_bound, log_weights):
    """Calls the answer on a copy, returns it as a float array of shape [n] (0-d accepted for n = 1)."""
    k, n = log_weights.shape
    call = f"importance_bound(log_weights of shape ({k}, {n}))"
    got = answer_array(call, importance_bound(log_weights.copy()))
    if got.shape != (n,) and got.size == n:
        got = got.reshape(n)
    expect_true(got.shape == (n,), f"{call} should return one bound per image, shape ({n},) (axis 0 holds the k "
                f"draws of one image); got shape {got.shape}")
    return call, got


@question("lab15.importance_bound",
          hint="log((1/k) sum_j exp(a_j)) = m + log(sum_j exp(a_j - m)) - log(k) with m = max_j a_j, per image "
               "(column); scipy.special.logsumexp(a, axis=0) - log(k) does the same.")
def _importance_bound(*, importance_bound):
    """importance_bound(log_weights [k, n]) -> [n], log (1/k) sum_j exp(log_weights[j, i]), computed stably."""
    rng = fresh_rng()
    k, n = int(rng.integers(5, 9)), int(rng.integers(3, 5))
    moderate = rng.normal(-3.0, 2.0, size=(k, n))
    call, got = _bound_answer(importance_bound, moderate)
    expected = _reference_bound(moderate)
    elbo = moderate.mean(axis=0)
    expect_true(not np.allclose(got, elbo, rtol=1e-6, atol=1e-6),
                f"{call} returned the average of the log weights per image ({np.round(elbo, 4).tolist()}): that is "
                "the ELBO estimate, the k = 1 bound; the importance-weighted bound averages the weights themselves, "
                "not their logs")
    expect_true(not np.allclose(got, expected + math.log(k), rtol=1e-6, atol=1e-6),
                f"{call} is too high by exactly log(k) = log({k}) for every image: the bound is the log of the MEAN "
                "weight, not of their sum")
    expect_close(call, got, expected, rtol=1e-5, atol=1e-5)
    # log weights of an unusual image (thousands of nats): exp underflows to 0 unless the computation is shifted
    digit_sized = rng.normal(-1000.0, 3.0, size=(k, n))
    call, got = _bound_answer(importance_bound, digit_sized)
    expect_true(np.all(np.isfinite(got)),
                f"{call} with log weights around -1000 (as for an out-of-distribution image) returned {got.tolist()}: "
                "exp(-1000) underflows to 0 in floating point, so log(mean(exp(...))) is -inf. Compute it without "
                "exponentiating such large negative numbers directly")
    expect_close(call + " with log weights around -1000", got, _reference_bound(digit_sized), rtol=1e-6, atol=1e-4)


def _pairwise_auc(inside, outside):
    inside, outside = inside[:, None], outside[None, :]
    return float(np.mean((inside > outside) + 0.5 * (inside == outside)))


@question("lab15.roc_auc",
          hint="Compare every in-distribution score with every out-of-distribution score: count 1 when the "
               "in-distribution one is larger and 1/2 when they are equal, then divide by n_in * n_out.")
def _roc_auc(*, roc_auc):
    """roc_auc(in_scores, out_scores) -> P(in > out) + P(in = out) / 2 over random pairs."""
    rng = fresh_rng()
    inside = rng.normal(1.0, 1.0, size=int(rng.integers(30, 40)))
    outside = rng.normal(0.0, 1.0, size=int(rng.integers(20, 29)))
    call = f"roc_auc(in_scores ({inside.size} values), out_scores ({outside.size} values))"
    got = answer_array(call, roc_auc(inside.copy(), outside.copy()))
    expect_true(got.size == 1, f"{call} should return one number, got shape {got.shape}")
    expected = _pairwise_auc(inside, outside)
    expect_true(abs(float(got.ravel()[0]) - (1.0 - expected)) > 1e-6 or abs(expected - 0.5) < 1e-6,
                f"{call} returned {float(got.ravel()[0]):.4f} = 1 - AUC: it measures how often the OUT-of-"
                "distribution score is the larger one; the AUC asks how often a held-out (in-distribution) "
                "example scores higher")
    expect_close(call, got.ravel()[0], expected, rtol=1e-6, atol=1e-7)
    # scores with many ties (as log p(x) of identical blank images would have)
    tied_in = rng.integers(0, 4, size=25).astype(float)
    tied_out = rng.integers(0, 3, size=15).astype(float)
    call = f"roc_auc({tied_in.astype(int).tolist()}, {tied_out.astype(int).tolist()})"
    got = answer_array(call, roc_auc(tied_in.copy(), tied_out.copy()))
    expected = _pairwise_auc(tied_in, tied_out)
    expect_true(got.size == 1, f"{call} should return one number, got shape {got.shape}")
    expect_close(call + " (scores with ties: how does a tie count?)", got.ravel()[0], expected, rtol=1e-6,
                 atol=1e-7)
