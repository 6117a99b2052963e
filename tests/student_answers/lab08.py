"""Typical wrong answers of lab 08 (see `tests/student_answers/__init__.py`)."""

WRONG = {
    # Bayes by Backprop's shared perturbation: the random signs are never applied
    "def flipout_dense": (
        "def flipout_dense(x, kernel_loc, kernel_delta, sign_in, sign_out):\n"
        "    return x @ (kernel_loc + kernel_delta)\n"
    ),
    # adds standard deviations instead of variances
    "def local_reparam_dense": (
        "def local_reparam_dense(x, kernel_loc, kernel_sd, eps):\n"
        "    return x @ kernel_loc + (np.abs(x) @ kernel_sd) * eps\n"
    ),
}
