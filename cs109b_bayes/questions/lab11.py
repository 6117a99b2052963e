"""Lab 11 questions: AE vs VAE (distance of a latent cloud from the prior, interpolation)."""

import numpy as np

from cs109b_bayes.grading import CheckFailed, answer_array, expect_close, expect_true, fresh_rng, question

__all__ = []


@question("lab11.gaussian_fit_kl",
          hint="Fit a Gaussian to the codes: m = mean over rows, S = covariance with divisor n "
               "(np.cov(codes.T, bias=True)). Then KL(N(m, S) || N(0, I)) = "
               "1/2 (trace(S) + m.m - d - log det S).")
def _gaussian_fit_kl(*, gaussian_fit_kl):
    import tensorflow_probability as tfp

    rng = fresh_rng()
    n, d = int(rng.integers(200, 800)), int(rng.integers(2, 4))
    rho = rng.uniform(0.5, 0.8) * rng.choice([-1.0, 1.0]) if d == 2 else rng.uniform(0.5, 0.8)
    correlation = np.full((d, d), rho) + (1.0 - rho) * np.eye(d)   # strongly correlated codes
    sds = rng.uniform(0.3, 3.0, size=d)
    # make every term matter, and the divisor: n - 1 instead of n moves the KL by about (trace(S) - d) / (2 n)
    while (abs(np.linalg.slogdet(correlation * np.outer(sds, sds))[1]) < 1.0
           or abs(np.sum(sds**2) - d) < 1.0):
        sds = rng.uniform(0.3, 3.0, size=d)
    chol = np.linalg.cholesky(correlation * np.outer(sds, sds))
    codes = rng.normal(size=(n, d)) @ chol.T + rng.normal(scale=1.0, size=d)
    got = answer_array("gaussian_fit_kl(codes)", gaussian_fit_kl(codes.copy()))
    expect_true(got.size == 1, f"gaussian_fit_kl should return one number, got shape {got.shape}")
    m = codes.mean(axis=0)          # the reference, after the call, from the codes the answer never saw
    tfd = tfp.distributions
    standard = tfd.MultivariateNormalDiag(np.zeros(d), np.ones(d))
    expected = tfd.kl_divergence(tfd.MultivariateNormalTriL(m, np.linalg.cholesky(np.cov(codes.T, bias=True))),
                                 standard).numpy()
    unbiased = tfd.kl_divergence(tfd.MultivariateNormalTriL(m, np.linalg.cholesky(np.cov(codes.T))), standard).numpy()
    value = float(got.reshape(()))
    if abs(value - unbiased) < abs(value - expected):
        raise CheckFailed(f"gaussian_fit_kl(codes): expected {expected:.6f}, got {value:.6f}, which is the KL of the "
                          f"Gaussian whose covariance divides by n - 1 = {n - 1}: the fitted Gaussian here is the "
                          f"maximum-likelihood one, its covariance divides by n = {n}")
    expect_close("gaussian_fit_kl(codes)", got.reshape(()), expected, rtol=2e-3, atol=1e-4)


@question("lab11.interpolate",
          hint="Return num_points codes on the straight line from z_start to z_end, both ends included: "
               "z_start + t (z_end - z_start) for t = linspace(0, 1, num_points); shape [num_points, d].")
def _interpolate(*, interpolate):
    rng = fresh_rng()
    d, num = int(rng.integers(2, 5)), int(rng.integers(5, 12))
    start, end = rng.normal(scale=2.0, size=d), rng.normal(scale=2.0, size=d)
    got = answer_array("interpolate(z_start, z_end, num_points)", interpolate(start.copy(), end.copy(), num))
    t = np.linspace(0.0, 1.0, num)[:, None]
    expect_true(got.shape == (num, d), f"interpolate should return shape ({num}, {d}), got {got.shape}")
    expect_close("interpolate(z_start, z_end, num_points)", got, start + t * (end - start), rtol=1e-5, atol=1e-6)
