"""Questions of lab 06: a network that outputs mu and sigma (variational approximation of the output)."""

import numpy as np
import tensorflow as tf
from scipy import stats

from cs109b_bayes.grading import expect_answered, expect_close, expect_true, fresh_rng, question

__all__ = []


@question("lab06.gaussian_nll", hint="NLL = mean over examples of log(sigma) + 0.5 log(2 pi) + (y - mu)^2 / (2 sigma^2).")
def _gaussian_nll(*, gaussian_nll):
    """gaussian_nll(y, mu, sigma) -> mean Gaussian negative log-likelihood (TensorFlow ops)."""
    rng = fresh_rng()
    y, mu = rng.normal(size=(50, 1)), rng.normal(size=(50, 1))
    sigma = rng.uniform(0.1, 2.0, size=(50, 1))
    value = gaussian_nll(tf.constant(y, tf.float32), tf.constant(mu, tf.float32), tf.constant(sigma, tf.float32))
    expect_answered("gaussian_nll", value)
    exact = tf.constant(mu, tf.float32)          # a perfect fit: y == mu
    narrow = np.reshape(np.asarray(gaussian_nll(exact, exact, tf.constant(sigma, tf.float32))), ())
    wide = np.reshape(np.asarray(gaussian_nll(exact, exact, tf.constant(2 * sigma, tf.float32))), ())
    expect_true(abs((wide - narrow) - np.log(2.0)) < 1e-3,
                f"for a perfect fit (y == mu) doubling sigma should raise the NLL by log 2 = 0.693: claiming more "
                f"noise than there is must cost something; yours changed by {wide - narrow:.4f}")
    expect_close("gaussian_nll(y, mu, sigma) on 50 random points", np.reshape(np.asarray(value), ()),
                 -np.mean(stats.norm.logpdf(y, mu, sigma)), rtol=1e-4)


@question("lab06.coverage", hint="The fraction of points with |y - mean| <= num_sd * sd.")
def _coverage(*, coverage):
    """coverage(y, mean, sd, num_sd) -> fraction of y inside mean +- num_sd * sd."""
    rng = fresh_rng()
    y, mean = rng.normal(size=400), rng.normal(size=400)
    sd = rng.uniform(0.2, 2.0, size=400)
    above = expect_answered("coverage", coverage(y.copy(), mean.copy(), sd.copy(), 1.0))
    below = expect_answered("coverage", coverage(2 * mean - y, mean.copy(), sd.copy(), 1.0))
    expect_true(abs(float(np.asarray(above)) - float(np.asarray(below))) < 1e-9,
                f"reflecting every y about its mean (y -> 2 mean - y) must not change the coverage, but yours "
                f"went from {float(np.asarray(above)):.4f} to {float(np.asarray(below)):.4f}: points below the band "
                f"count as outside too")
    for num_sd in (1.0, 2.0):
        got = coverage(y.copy(), mean.copy(), sd.copy(), num_sd)   # copies: writing into them changes nothing
        expected = np.mean(np.abs(y - mean) <= num_sd * sd)
        expect_close(f"coverage(y, mean, sd, num_sd={num_sd:g})", got, expected, atol=1e-9)
