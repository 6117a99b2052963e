"""Typical wrong answers for lab 15's student copy (tests/test_labs.py)."""

WRONG = {
    "def importance_bound(": '''def importance_bound(log_weights):
    # averages the log weights: that is the ELBO estimate, not the importance-weighted bound
    return np.mean(log_weights, axis=0)
''',
    "def roc_auc(": '''def roc_auc(in_scores, out_scores):
    # ties counted as failures instead of one half
    return float(np.mean(np.asarray(in_scores)[:, None] > np.asarray(out_scores)[None, :]))
''',
}
