"""Typical wrong answers of lab 09 (see `tests/student_answers/__init__.py`)."""

WRONG = {
    # one eps per unit shared by every example of the batch
    "def sample_hidden": (
        "def sample_hidden(loc, scale, seed):\n"
        "    eps = tf.random.stateless_normal(tf.shape(loc)[1:], seed=seed, dtype=loc.dtype)\n"
        "    return loc + scale * eps\n"
    ),
    # sums the KL over the batch instead of averaging it
    "def hidden_kl": (
        "def hidden_kl(loc, scale):\n"
        "    return tf.reduce_sum(0.5 * (loc**2 + scale**2 - 1.0) - tf.math.log(scale))\n"
    ),
}
