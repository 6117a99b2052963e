"""Questions of lab 09: Gaussian stochastic hidden units."""

import numpy as np
import tensorflow as tf

from cs109b_bayes.grading import expect_answered, expect_close, expect_true, fresh_rng, question

__all__ = []


@question("lab09.sample_hidden", hint="Draw eps = tf.random.stateless_normal(tf.shape(loc), seed=seed), one per "
          "unit per example, and return loc + scale * eps so gradients reach loc and scale.")
def _sample_hidden(*, sample_hidden):
    """sample_hidden(loc, scale, seed) -> loc + scale * eps, eps ~ N(0, 1) per unit per example."""
    rng = fresh_rng()
    batch, units = 4000, 3
    loc = tf.Variable(rng.normal(size=(batch, units)), dtype=tf.float32)
    scale = tf.Variable(rng.uniform(0.2, 2.0, size=(batch, units)), dtype=tf.float32)
    seed = [int(s) for s in rng.integers(0, 2**31 - 1, size=2)]
    with tf.GradientTape() as tape:
        h = sample_hidden(loc, scale, seed)
        expect_answered("sample_hidden", h)
        total = tf.reduce_sum(h)
    h = np.asarray(h)
    expect_true(h.shape == (batch, units), f"sample_hidden should return shape {(batch, units)}, got {h.shape}")
    eps = (h - loc.numpy()) / scale.numpy()
    # eps should be N(0, 1): mean within 5 standard errors, sd within 5 standard errors (sd of s ~ 1/sqrt(2n)).
    n = eps.size
    expect_true(abs(eps.mean()) < 5 / np.sqrt(n), f"(h - loc) / scale has mean {eps.mean():.4f}, expected 0")
    expect_true(abs(eps.std() - 1.0) < 5 / np.sqrt(2 * n), f"(h - loc) / scale has sd {eps.std():.4f}, expected 1")
    corr_units = np.corrcoef(eps.T)[np.triu_indices(units, 1)]
    expect_true(np.all(np.abs(corr_units) < 5 / np.sqrt(batch)),
                f"the noise of different units is correlated ({np.round(corr_units, 3)}): draw one eps per unit")
    per_unit_sd = eps.std(axis=0)
    expect_true(np.all(per_unit_sd > 0.5),
                "every example gets the same noise: draw one eps per unit *per example* (shape of loc)")
    grad_loc, grad_scale = tape.gradient(total, [loc, scale])
    expect_true(grad_loc is not None and grad_scale is not None,
                "no gradient reaches loc and scale: use h = loc + scale * eps with TensorFlow ops")
    expect_close("d sum(h) / d loc", grad_loc, np.ones((batch, units)), rtol=1e-5)
    expect_close("d sum(h) / d scale (should be eps)", grad_scale, eps, rtol=1e-3, atol=1e-3)
    again = np.asarray(sample_hidden(loc, scale, seed))
    expect_true(np.array_equal(h, again), "the same seed should give the same sample: use a stateless op")


@question("lab09.hidden_kl", hint="KL(N(m, s^2) || N(0, 1)) = 0.5 (m^2 + s^2 - 1) - log s; sum over units, "
          "average over the examples in the batch.")
def _hidden_kl(*, hidden_kl):
    """hidden_kl(loc, scale) -> mean over the batch of the summed per-unit KL to N(0, 1)."""
    rng = fresh_rng()
    loc, scale = rng.normal(size=(20, 5)), rng.uniform(0.1, 2.0, size=(20, 5))
    got = hidden_kl(tf.constant(loc, tf.float32), tf.constant(scale, tf.float32))
    expect_answered("hidden_kl", got)
    expected = np.mean(np.sum(0.5 * (loc**2 + scale**2 - 1.0) - np.log(scale), axis=1))
    expect_close("hidden_kl(loc, scale)", np.reshape(np.asarray(got), ()), expected, rtol=1e-4)
