"""Lab 12 questions: a Bayesian (Flipout) encoder, repeated encodings and their spread."""

import numpy as np

from cs109b_bayes.grading import answer_array, expect_close, expect_true, fresh_rng, question

__all__ = []


class _CountingEncoder:
    """A stand-in stochastic encoder: call number c returns z_mean = x @ w + c (and a log-variance)."""

    def __init__(self, weights):
        self.weights = weights
        self.calls = 0

    def __call__(self, x, **kwargs):
        import tensorflow as tf

        x = np.asarray(getattr(x, "numpy", lambda: x)(), dtype=np.float32)
        z_mean = x @ self.weights + self.calls
        self.calls += 1
        return [tf.constant(z_mean, tf.float32), tf.zeros(z_mean.shape, tf.float32)]


@question("lab12.encode_repeatedly",
          hint="Call the encoder num_passes separate times on the same x (each call draws new weights), "
               "keep z_mean (the first output) of each call and stack them: shape [num_passes, n, latent_dim].")
def _encode_repeatedly(*, encode_repeatedly):
    rng = fresh_rng()
    n, pixels, d, passes = int(rng.integers(2, 6)), 10, 2, int(rng.integers(4, 9))
    weights = rng.normal(size=(pixels, d)).astype(np.float32)
    x = rng.random((n, pixels)).astype(np.float32)
    encoder = _CountingEncoder(weights.copy())      # copies: writing into them cannot move the reference
    got = answer_array("encode_repeatedly(encoder, x, num_passes)", encode_repeatedly(encoder, x.copy(), passes))
    expect_true(got.shape == (passes, n, d),
                f"encode_repeatedly should return shape ({passes}, {n}, {d}), got {got.shape}")
    expect_true(encoder.calls == passes,
                f"the encoder was called {encoder.calls} times for {passes} passes: call it once per pass")
    expected = (x @ weights)[None] + np.arange(passes, dtype=np.float32)[:, None, None]
    expect_close("encode_repeatedly(encoder, x, num_passes)", got, expected, rtol=1e-5, atol=1e-5)


@question("lab12.epistemic_spread",
          hint="For each input: the standard deviation over the passes (axis 0, numpy's default ddof=0) "
               "of z_mean, averaged over the latent dimensions; one number per input, shape [n].")
def _epistemic_spread(*, epistemic_spread):
    rng = fresh_rng()
    passes, n, d = int(rng.integers(5, 20)), int(rng.integers(3, 10)), int(rng.integers(2, 4))
    scales = rng.uniform(0.1, 3.0, size=(1, n, d))
    z_means = rng.normal(size=(1, n, d)) * 4 + rng.normal(size=(passes, n, d)) * scales
    got = answer_array("epistemic_spread(z_means)", epistemic_spread(z_means.copy()))
    expect_true(got.shape == (n,), f"epistemic_spread should return one value per input, shape ({n},), "
                                   f"got {got.shape}")
    expect_close("epistemic_spread(z_means)", got, z_means.std(axis=0).mean(axis=-1), rtol=1e-5, atol=1e-6)
