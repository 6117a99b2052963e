"""Lab 11: typical wrong answers (see `student_answers/__init__.py`)."""

WRONG = {
    "def gaussian_fit_kl(": (
        "def gaussian_fit_kl(codes):\n"
        "    codes = np.asarray(codes, dtype=float)\n"
        "    mean, cov = codes.mean(axis=0), np.cov(codes.T, bias=True)\n"
        "    # forgets the log-determinant of S\n"
        "    return 0.5 * (np.trace(cov) + mean @ mean - codes.shape[1])\n"
    ),
    "def interpolate(": (
        "def interpolate(z_start, z_end, num_points):\n"
        "    # stops one step short of z_end\n"
        "    t = np.arange(num_points)[:, None] / num_points\n"
        "    return np.asarray(z_start)[None, :] + t * (np.asarray(z_end) - np.asarray(z_start))[None, :]\n"
    ),
}
