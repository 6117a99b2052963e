"""Questions of lab 05: variational inference basics (KL, the reparameterised ELBO, the exact posterior)."""

import numpy as np
import tensorflow as tf

from cs109b_bayes.grading import expect_answered, expect_close, expect_true, fresh_rng, question

__all__ = []


def _kl_reference(q_mean, q_sd, p_mean, p_sd):
    return np.log(p_sd / q_sd) + (q_sd**2 + (q_mean - p_mean) ** 2) / (2 * p_sd**2) - 0.5


@question("lab05.kl_gaussian", hint="KL(q||p) = log(p_sd/q_sd) + (q_sd^2 + (q_mean - p_mean)^2) / (2 p_sd^2) - 1/2, "
          "elementwise; mind which sd goes in the denominator.")
def _kl_gaussian(*, kl_gaussian):
    """kl_gaussian(q_mean, q_sd, p_mean, p_sd) -> elementwise KL(N(q) || N(p))."""
    rng = fresh_rng()
    q_mean, p_mean = rng.normal(0, 2, size=6), rng.normal(0, 2, size=6)
    q_sd, p_sd = rng.uniform(0.2, 3.0, size=6), rng.uniform(0.2, 3.0, size=6)
    got = np.asarray(expect_answered("kl_gaussian", kl_gaussian(q_mean, q_sd, p_mean, p_sd)), dtype=float)
    if got.shape == (6,) and np.any(got < -1e-9):
        k = int(np.argmin(got))
        expect_true(False, f"a KL divergence is never negative, but kl_gaussian gave {got[k]:.4f} for "
                    f"q = N({q_mean[k]:.3f}, {q_sd[k]:.3f}^2), p = N({p_mean[k]:.3f}, {p_sd[k]:.3f}^2)")
    expect_close("kl_gaussian(q_mean, q_sd, p_mean, p_sd) on 6 random pairs",
                 kl_gaussian(q_mean, q_sd, p_mean, p_sd), _kl_reference(q_mean, q_sd, p_mean, p_sd), rtol=1e-5)
    expect_close("kl_gaussian(m, s, m, s) (identical Gaussians)", kl_gaussian(q_mean, q_sd, q_mean, q_sd),
                 np.zeros(6), atol=1e-6)


def _regression_data(rng, n):
    x = rng.normal(size=n)
    y = rng.normal(1.0, 1.0) + rng.normal(0.0, 2.0) * x + rng.normal(0.0, 1.5, size=n)
    return x, y


def _elbo_reference(q_mean, q_sd, eps, x, y, noise_sd, prior_sd):
    w = q_mean[None, :] + q_sd[None, :] * eps
    mu = w[:, :1] + w[:, 1:] * x[None, :]
    log_lik = np.sum(-0.5 * ((y[None, :] - mu) / noise_sd) ** 2 - np.log(noise_sd) - 0.5 * np.log(2 * np.pi), axis=1)
    return log_lik.mean() - np.sum(_kl_reference(q_mean, q_sd, 0.0, prior_sd))


@question("lab05.elbo_estimate", hint="Use TensorFlow ops only: w = q_mean + q_sd * eps (shape [S, 2]); "
          "mu = w[:, 0:1] + w[:, 1:2] * x; average the summed Gaussian log-likelihood over the S draws; "
          "subtract the closed-form KL of N(q_mean, q_sd^2) from the N(0, prior_sd^2) prior.")
def _elbo_estimate(*, elbo_estimate):
    """elbo_estimate(q_mean, q_sd, eps, x, y, noise_sd, prior_sd) -> scalar ELBO estimate (differentiable)."""
    rng = fresh_rng()
    x, y = _regression_data(rng, 30)
    noise_sd, prior_sd = rng.uniform(1.0, 2.0), rng.uniform(3.0, 10.0)
    mean0, log_sd0 = rng.normal(0, 1, size=2), rng.uniform(-2.0, 0.0, size=2)
    eps = rng.normal(size=(8, 2))
    q_mean = tf.Variable(mean0, dtype=tf.float64)
    log_sd = tf.Variable(log_sd0, dtype=tf.float64)
    with tf.GradientTape() as tape:
        value = elbo_estimate(q_mean, tf.exp(log_sd), tf.constant(eps), tf.constant(x), tf.constant(y),
                              noise_sd, prior_sd)
    expect_answered("elbo_estimate", value)
    expect_close("elbo_estimate(...) on random data and fixed eps", value,
                 _elbo_reference(mean0, np.exp(log_sd0), eps, x, y, noise_sd, prior_sd), rtol=1e-6)
    grads = tape.gradient(value, [q_mean, log_sd])
    expect_true(grads[0] is not None and grads[1] is not None,
                "no gradient reaches q_mean and q_sd: the reparameterization trick needs w = q_mean + q_sd * eps "
                "built from TensorFlow ops (no numpy conversion)")
    step = 1e-6
    for name, var, base in (("q_mean", q_mean, mean0), ("log q_sd", log_sd, log_sd0)):
        numeric = []
        for i in range(2):
            up, down = base.copy(), base.copy()
            up[i] += step
            down[i] -= step
            if name == "q_mean":
                hi = _elbo_reference(up, np.exp(log_sd0), eps, x, y, noise_sd, prior_sd)
                lo = _elbo_reference(down, np.exp(log_sd0), eps, x, y, noise_sd, prior_sd)
            else:
                hi = _elbo_reference(mean0, np.exp(up), eps, x, y, noise_sd, prior_sd)
                lo = _elbo_reference(mean0, np.exp(down), eps, x, y, noise_sd, prior_sd)
            numeric.append((hi - lo) / (2 * step))
        got = grads[0] if name == "q_mean" else grads[1]
        expect_close(f"the gradient of the ELBO estimate with respect to {name}", got, numeric, rtol=1e-4, atol=1e-4)


def _posterior_reference(x, y, noise_sd, prior_sd):
    design = np.stack([np.ones_like(x), x], axis=1)
    precision = design.T @ design / noise_sd**2 + np.eye(2) / prior_sd**2
    cov = np.linalg.inv(precision)
    return cov @ design.T @ y / noise_sd**2, cov


@question("lab05.exact_posterior", hint="With X = [1, x]: precision = X^T X / noise_sd^2 + I / prior_sd^2, "
          "cov = inv(precision), mean = cov X^T y / noise_sd^2.")
def _exact_posterior(*, exact_posterior):
    """exact_posterior(x, y, noise_sd, prior_sd) -> (mean [2], cov [2, 2]) of (beta0, beta1) | data."""
    rng = fresh_rng()
    x, y = _regression_data(rng, 12)
    x = x * 5 + 3
    noise_sd, prior_sd = rng.uniform(1.0, 2.0), rng.uniform(0.5, 3.0)
    got = exact_posterior(x, y, noise_sd, prior_sd)
    expect_answered("exact_posterior", got)
    expect_true(isinstance(got, (tuple, list)) and len(got) == 2, "exact_posterior should return (mean, cov)")
    tight = exact_posterior(x, y, noise_sd, 1e-3)
    expect_true(np.all(np.abs(np.asarray(tight[0], dtype=float)) < 1e-2),
                f"with prior_sd = 0.001 the prior dominates the {len(x)} data points, so the posterior mean should be "
                f"near the prior mean (0, 0); got {np.round(np.asarray(tight[0], dtype=float), 4)}")
    mean, cov = _posterior_reference(x, y, noise_sd, prior_sd)
    expect_close("posterior mean", got[0], mean, rtol=1e-6)
    expect_close("posterior covariance", got[1], cov, rtol=1e-6)
