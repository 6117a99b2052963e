"""Lab 10 questions: a VAE from scratch (reparameterised sample, BCE, analytic KL, GradientTape step)."""

import numpy as np

from cs109b_bayes.grading import (
    answer_array,
    CheckFailed,
    expect_answered,
    expect_close,
    expect_true,
    fresh_rng,
    question,
    using_references,
)

__all__ = []


def _bce_reference(x, logits):
    """Binary cross-entropy of Bernoulli(sigmoid(logits)) summed over pixels (stable numpy)."""
    return np.sum(np.logaddexp(0.0, logits) - x * logits, axis=-1)


def _kl_reference(z_mean, z_log_var):
    return 0.5 * np.sum(np.exp(z_log_var) + z_mean**2 - 1.0 - z_log_var, axis=-1)


@question("lab10.reparameterize",
          hint="z = z_mean + exp(z_log_var / 2) * epsilon: the standard deviation is exp of HALF the "
               "log-variance. Use TensorFlow ops (tf.exp) so gradients flow to z_mean and z_log_var.")
def _reparameterize(*, reparameterize):
    import tensorflow as tf

    rng = fresh_rng()
    n, d = rng.integers(3, 9), rng.integers(2, 5)
    z_mean = rng.normal(size=(n, d)).astype(np.float32)
    z_log_var = rng.normal(scale=1.5, size=(n, d)).astype(np.float32)
    eps = rng.normal(size=(n, d)).astype(np.float32)
    mean_t, log_var_t = tf.constant(z_mean), tf.constant(z_log_var)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([mean_t, log_var_t])
        z = reparameterize(mean_t, log_var_t, tf.constant(eps))
        total = tf.reduce_sum(tf.convert_to_tensor(z, tf.float32)) if z is not None and z is not Ellipsis else None
    got = answer_array("reparameterize(z_mean, z_log_var, epsilon)", z)
    expected = z_mean + np.exp(0.5 * z_log_var) * eps        # after the call: never in this frame before it
    if got.shape == expected.shape and np.allclose(got, z_mean + np.exp(z_log_var) * eps, rtol=1e-4, atol=1e-5):
        raise CheckFailed("reparameterize(z_mean, z_log_var, epsilon): your noise is scaled by exp(z_log_var), "
                          "the variance; z needs the standard deviation (z_log_var is log sigma^2)")
    expect_close("reparameterize(z_mean, z_log_var, epsilon)", got, expected, rtol=1e-4, atol=1e-5)
    grad_log_var = tape.gradient(total, log_var_t)
    expect_true(grad_log_var is not None and tape.gradient(total, mean_t) is not None,
                "no gradient flows from z back to z_mean and z_log_var: build z with TensorFlow ops, not numpy")
    expect_close("d sum(z) / d z_log_var", grad_log_var, 0.5 * np.exp(0.5 * z_log_var) * eps, rtol=1e-4, atol=1e-5)


@question("lab10.reconstruction_loss",
          hint="Per example, sum over the pixels of the binary cross-entropy "
               "-[x log p + (1 - x) log(1 - p)] with p = sigmoid(logits) applied ONCE "
               "(tf.nn.sigmoid_cross_entropy_with_logits does this stably); do not average over pixels.")
def _reconstruction_loss(*, reconstruction_loss):
    import tensorflow as tf

    rng = fresh_rng()
    n, pixels = rng.integers(3, 9), rng.integers(20, 60)
    x = (rng.random((n, pixels)) < 0.3).astype(np.float32)
    logits = rng.normal(scale=3.0, size=(n, pixels)).astype(np.float32)
    got = answer_array("reconstruction_loss(x, logits)", reconstruction_loss(tf.constant(x), tf.constant(logits)))
    expect_true(got.shape == (n,), f"reconstruction_loss(x, logits) should give one value per example, "
                                   f"shape ({n},), got shape {got.shape}")
    expected = _bce_reference(x, logits)
    if np.allclose(got * pixels, expected, rtol=1e-4, atol=1e-3):
        raise CheckFailed(f"reconstruction_loss(x, logits): expected {np.round(expected[:3], 3)}..., got "
                          f"{np.round(got[:3], 3)}..., {pixels} times smaller on these {pixels}-pixel inputs: "
                          f"-log p(x | z) adds up the pixels' terms")
    expect_close("reconstruction_loss(x, logits)", got, expected, rtol=1e-4, atol=1e-3)


@question("lab10.kl_divergence",
          hint="KL(N(mu, sigma^2) || N(0, 1)) = 1/2 (sigma^2 + mu^2 - 1 - log sigma^2) per latent "
               "dimension, with sigma^2 = exp(z_log_var); sum over the latent dimensions, one value per example.")
def _kl_divergence(*, kl_divergence):
    import tensorflow as tf
    import tensorflow_probability as tfp

    rng = fresh_rng()
    n, d = rng.integers(3, 9), rng.integers(2, 6)
    z_mean = rng.normal(scale=2.0, size=(n, d)).astype(np.float32)
    z_log_var = rng.normal(scale=1.0, size=(n, d)).astype(np.float32)
    got = answer_array("kl_divergence(z_mean, z_log_var)", kl_divergence(tf.constant(z_mean), tf.constant(z_log_var)))
    expect_true(got.shape == (n,), f"kl_divergence should give one value per example, shape ({n},), got {got.shape}")
    expected = _kl_reference(z_mean.astype(float), z_log_var.astype(float))
    tfd = tfp.distributions
    q = tfd.Independent(tfd.Normal(z_mean, np.exp(0.5 * z_log_var)), 1)
    p = tfd.Independent(tfd.Normal(np.zeros_like(z_mean), np.ones_like(z_mean)), 1)
    np.testing.assert_allclose(tfd.kl_divergence(q, p).numpy(), expected, rtol=1e-4)  # the reference itself
    expect_close("kl_divergence(z_mean, z_log_var)", got, expected, rtol=1e-4, atol=1e-4)


def _reference_reparameterize(z_mean, z_log_var, epsilon):
    import tensorflow as tf

    return z_mean + tf.exp(0.5 * z_log_var) * epsilon


def _reference_reconstruction_loss(x, logits):
    import tensorflow as tf

    return tf.reduce_sum(tf.nn.softplus(logits) - x * logits, axis=-1)


def _reference_kl(z_mean, z_log_var):
    import tensorflow as tf

    return 0.5 * tf.reduce_sum(tf.exp(z_log_var) + tf.square(z_mean) - 1.0 - z_log_var, axis=-1)


def _reference_step(x, eps, encoder, decoder, optimizer):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        z_mean, z_log_var = encoder(x, training=True)
        z = z_mean + tf.exp(0.5 * z_log_var) * eps
        logits = decoder(z, training=True)
        reconstruction = tf.reduce_sum(tf.nn.softplus(logits) - x * logits, axis=-1)
        kl = 0.5 * tf.reduce_sum(tf.exp(z_log_var) + z_mean**2 - 1.0 - z_log_var, axis=-1)
        loss = tf.reduce_mean(reconstruction + kl)
    variables = encoder.trainable_variables + decoder.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss, tf.reduce_mean(reconstruction), tf.reduce_mean(kl)


@question("lab10.train_step",
          hint="Inside tf.GradientTape: encode, reparameterise with the given epsilon, decode to logits, "
               "loss = mean over the batch of (reconstruction_loss + kl_divergence); then take the gradient "
               "with respect to encoder.trainable_variables + decoder.trainable_variables and "
               "optimizer.apply_gradients. Return (loss, mean reconstruction, mean KL).")
def _train_step(*, train_step):
    import tensorflow as tf
    import tf_keras

    from cs109b_bayes import vae

    rng = fresh_rng()
    seed = int(rng.integers(0, 10_000))
    pixels, batch = 24, int(rng.integers(4, 9))

    def build_models():  # called twice, the same seeds: identical copies, the student's and then the reference
        return (vae.build_encoder(input_dim=pixels, hidden_units=(8,), latent_dim=2, seed=seed),
                vae.build_decoder(latent_dim=2, hidden_units=(8,), output_dim=pixels, seed=seed + 1))

    encoder, decoder = build_models()
    x = tf.constant((rng.random((batch, pixels)) < 0.4).astype(np.float32))
    eps = tf.constant(rng.normal(size=(batch, 2)).astype(np.float32))
    # your reparameterize / reconstruction_loss / kl_divergence are replaced by reference versions
    # here, so this check judges the step alone (Questions 1-3 have their own checks)
    with using_references(train_step, reparameterize=_reference_reparameterize,
                          reconstruction_loss=_reference_reconstruction_loss, kl_divergence=_reference_kl):
        out = train_step(x, eps, encoder, decoder, tf_keras.optimizers.SGD(learning_rate=0.05))
    ref_encoder, ref_decoder = build_models()   # after the call: the reference models are never in reach of it
    expected = _reference_step(x, eps, ref_encoder, ref_decoder, tf_keras.optimizers.SGD(learning_rate=0.05))
    expect_answered("train_step(x, epsilon, encoder, decoder, optimizer)", out)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise CheckFailed(f"train_step should return three values (loss, mean reconstruction, mean KL), got {out!r}")
    loss_got = float(np.asarray(out[0]).reshape(-1)[0]) if np.size(np.asarray(out[0])) == 1 else None
    ref_loss, ref_reconstruction, ref_kl = (float(v.numpy()) for v in expected)
    if loss_got is not None and not np.isclose(loss_got, ref_loss, rtol=1e-4):
        if np.isclose(loss_got, ref_reconstruction, rtol=1e-4):
            raise CheckFailed(f"train_step(...) loss: expected {ref_loss:.4f}, got {loss_got:.4f}, which is the "
                              f"mean reconstruction term alone (mean KL on these inputs: {ref_kl:.4f})")
        if np.isclose(loss_got, batch * ref_loss, rtol=1e-4):
            raise CheckFailed(f"train_step(...) loss: expected {ref_loss:.4f}, got {loss_got:.4f} = {batch} x the "
                              f"expected value on this batch of {batch} digits: the loss should be a mean over "
                              f"the batch, not a sum")
    for name, got, ref in zip(("loss", "mean reconstruction", "mean KL"), out, expected):
        expect_close(f"train_step(...) {name}", got, ref.numpy(), rtol=1e-4, atol=1e-4)
    for part, mine, ref in (("encoder", encoder, ref_encoder), ("decoder", decoder, ref_decoder)):
        for var, ref_var in zip(mine.trainable_variables, ref.trainable_variables):
            expect_close(f"{part} variable {var.name} after one SGD step", var.numpy(), ref_var.numpy(),
                         rtol=1e-4, atol=1e-5)
