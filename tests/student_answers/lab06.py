"""Typical wrong answers for lab 06's student copy (tests/test_labs.py)."""

WRONG = {
    "def gaussian_nll(": '''def gaussian_nll(y, mu, sigma):
    # forgot the log(sigma) term: the loss would reward an infinite sigma
    return tf.reduce_mean(0.5 * np.log(2 * np.pi) + 0.5 * tf.square((y - mu) / sigma))
''',
    "def coverage(": '''def coverage(y, mean, sd, num_sd):
    # forgot the absolute value: counts every point below the upper edge
    return float(np.mean(np.asarray(y) - mean <= num_sd * np.asarray(sd)))
''',
}
