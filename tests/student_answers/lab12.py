"""Lab 12: typical wrong answers (see `student_answers/__init__.py`)."""

WRONG = {
    "def encode_repeatedly(": (
        "def encode_repeatedly(encoder, x, num_passes):\n"
        "    z_mean = np.asarray(encoder(x)[0])   # one pass, repeated: no new weights are drawn\n"
        "    return np.stack([z_mean] * num_passes)\n"
    ),
    "def epistemic_spread(": (
        "def epistemic_spread(z_means):\n"
        "    return np.asarray(z_means).std(axis=1).mean(axis=-1)   # the spread over inputs, not over passes\n"
    ),
}
