"""Questions of lab 16: the BALD score of MC class probabilities, and the acquisition step."""

import numpy as np

from cs109b_bayes.grading import answer_array, expect_close, expect_true, fresh_rng, question

__all__ = []


def _entropy(p):
    return -np.sum(p * np.log(np.clip(p, 1e-300, 1.0)), axis=-1)


def _reference_bald(probs):
    return _entropy(probs.mean(axis=0)) - _entropy(probs).mean(axis=0)


def _fresh_probs(rng):
    """Random probs [T, n, C]: Dirichlet draws, plus two points with exact 0s and 1s."""
    num_draws, num_points, num_classes = int(rng.integers(4, 9)), int(rng.integers(5, 9)), int(rng.integers(3, 6))
    probs = rng.dirichlet(np.full(num_classes, 0.5), size=(num_draws, num_points))
    disagree = np.eye(num_classes)[rng.integers(0, num_classes, size=num_draws)]   # sure draws, various classes
    disagree[0], disagree[1] = np.eye(num_classes)[0], np.eye(num_classes)[1]       # at least two disagree
    probs[:, 0] = disagree
    probs[:, 1] = np.eye(num_classes)[2]                                            # every draw sure and agreeing
    return probs


@question("lab16.bald",
          hint="With H(p) = -sum_c p_c log p_c (natural log, 0 log 0 = 0): compute the entropy of the mean "
               "over draws, mean_t probs[t], and subtract the mean over draws of each draw's own entropy. Clip "
               "the probabilities before the log (np.clip(p, 1e-12, 1)).")
def _bald(*, bald_score):
    """bald_score(probs [T, n, C]) -> [n], H[mean_t p_t] - mean_t H[p_t] in nats."""
    rng = fresh_rng()
    probs = _fresh_probs(rng)
    num_draws, num_points, num_classes = probs.shape
    call = f"bald_score(probs of shape {probs.shape})"
    got = answer_array(call, bald_score(probs.copy()))
    expected = _reference_bald(probs)
    expect_true(got.shape == (num_points,), f"{call} should return one score per point, shape ({num_points},); "
                f"got shape {got.shape}. Average over the draws (axis 0) and sum over the classes (axis -1).")
    expect_true(np.all(np.isfinite(got)), f"{call} returned non-finite scores {np.round(got, 4).tolist()}: point 0 "
                "and 1 have probabilities exactly 0 and 1, and 0 * log 0 must count as 0 (clip before the log)")
    expect_close(f"{call}, point 1 (every draw is sure of the same class)", got[1], 0.0, atol=1e-5)
    expect_true(np.all(got > -1e-6), f"{call} returned negative scores {np.round(got, 4).tolist()}: a mutual "
                "information is never negative. Which entropy is subtracted from which?")
    if np.allclose(got, expected / np.log(2.0), rtol=1e-4, atol=1e-6):
        expect_true(False, f"{call} is log 2 = {1 / np.log(2):.3f} times too large: "
                    "measure entropies in nats (natural log), as the rest of the lab does")
    expect_close(f"{call} (with {num_draws} draws and {num_classes} classes)", got, expected, rtol=1e-4, atol=1e-5)


def _acquire_pool(rng, *, negative):
    """Distinct scores [n], the labelled mask [n] (two of the best points among them) and a batch size.

    With `negative`, every score is below -1 and pool indices 0 and 1 are labelled too: labelled points sit before
    every point to acquire (indices into the unlabelled points alone are all off, and so is a mask applied to the
    ranking instead of the pool), and a labelled point given a stand-in score of 0 or -1 beats every unlabelled one.
    """
    num_points, batch_size = int(rng.integers(12, 20)), int(rng.integers(2, 5))
    scores = rng.permutation(num_points) + rng.uniform(0.0, 0.5, size=num_points)    # distinct
    if negative:
        scores -= num_points + 1.0
    labelled = np.zeros(num_points, dtype=bool)
    top = np.argsort(-scores)
    labelled[top[[0, 2]]] = True                          # two of the best are labelled already
    labelled[rng.choice(top[batch_size + 3:], size=2, replace=False)] = True
    if negative:
        labelled[:2] = True
    return scores, labelled, batch_size


def _acquire_round(acquire, rng, *, negative):
    """One call of the answer on a fresh pool (built in `_acquire_pool`, so its ranking is not in this frame)."""
    scores, labelled, batch_size = _acquire_pool(rng, negative=negative)
    num_points = scores.size
    call = f"acquire(scores, labelled, batch_size={batch_size}) on a pool of {num_points}"
    call += " with negative scores" if negative else ""
    got = answer_array(call, acquire(scores.copy(), labelled.copy(), batch_size))
    expected = np.flatnonzero(~labelled)[np.argsort(-scores[~labelled])][:batch_size]
    expect_true(got.shape == (batch_size,), f"{call} should return {batch_size} pool indices; got shape {got.shape}")
    expect_true(np.all(got == np.round(got)) and np.all((got >= 0) & (got < num_points)),
                f"{call} returned {got.tolist()}: return integer indices into the pool (0 to {num_points - 1}), "
                "not the scores")
    got = got.astype(int)
    expect_true(len(set(got.tolist())) == batch_size, f"{call} returned {got.tolist()}: an index appears twice")
    stand_in = (" (every score here is below -1: whatever stands in for a labelled point's score must lose "
                "against all of them)") if negative else ""
    expect_true(not np.any(labelled[got]), f"{call} returned {got.tolist()}, which includes labelled points "
                f"{got[labelled[got]].tolist()}: only points not yet labelled can be acquired (and the indices count "
                f"positions in the whole pool, labelled points included){stand_in}")
    lowest = np.flatnonzero(~labelled)[np.argsort(scores[~labelled])][:batch_size]
    expect_true(set(got.tolist()) != set(lowest.tolist()), f"{call} returned the {batch_size} LOWEST-scoring "
                "unlabelled points; acquisition wants the highest scores")
    expect_true(set(got.tolist()) == set(expected.tolist()),
                f"{call} returned {sorted(got.tolist())} (scores {np.round(scores[got], 2).tolist()}), but other "
                f"unlabelled points have higher scores: the answer must be the {batch_size} highest-scoring "
                "unlabelled points, as indices into the whole pool")


@question("lab16.acquire",
          hint="Give the labelled points a score of -inf (or drop them), sort the scores in decreasing order "
               "(np.argsort(-scores)) and keep the first batch_size indices, as indices into the whole pool.")
def _acquire(*, acquire):
    """acquire(scores [n], labelled bool [n], batch_size) -> the batch_size unlabelled indices of highest score."""
    rng = fresh_rng()
    _acquire_round(acquire, rng, negative=False)
    _acquire_round(acquire, rng, negative=True)
