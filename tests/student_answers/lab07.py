"""Typical wrong answers of lab 07 (see `tests/student_answers/__init__.py`)."""

WRONG = {
    # forgot to spread the KL over the N examples: a KL of the whole data set on every example
    "def make_divergence_fn": (
        "def make_divergence_fn(num_train):\n"
        "    return lambda q, p, _: tfd.kl_divergence(q, p)\n"
    ),
    # adds the two standard deviations instead of the variances
    "def predictive_split": (
        "def predictive_split(locs, scales):\n"
        "    aleatoric_sd = np.sqrt(np.mean(scales**2, axis=0))\n"
        "    epistemic_sd = np.std(locs, axis=0)\n"
        "    return locs.mean(axis=0), aleatoric_sd, epistemic_sd, aleatoric_sd + epistemic_sd\n"
    ),
}
