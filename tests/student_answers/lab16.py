"""Typical wrong answers for lab 16's student copy (tests/test_labs.py)."""

WRONG = {
    "def bald_score(": '''def bald_score(probs):
    # the entropy of the mean only: that is the predictive entropy, not BALD
    mean = np.asarray(probs).mean(axis=0)
    return -np.sum(mean * np.log(np.clip(mean, 1e-12, 1.0)), axis=-1)
''',
    "def acquire(": '''def acquire(scores, labelled, batch_size):
    # forgot to leave out the points already labelled
    return np.argsort(-np.asarray(scores))[:batch_size]
''',
}
