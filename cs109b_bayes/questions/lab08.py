"""Questions of lab 08: the Flipout and local-reparameterization forward passes of a dense layer."""

import numpy as np

from cs109b_bayes.grading import expect_answered, expect_close, fresh_rng, question

__all__ = []


def _value(got, name):
    return np.asarray(expect_answered(name, got))


@question("lab08.flipout_dense", hint="outputs = x @ kernel_loc + ((x * sign_in) @ kernel_delta) * sign_out: "
          "one shared perturbation, decorrelated per example by the two random sign vectors.")
def _flipout_dense(*, flipout_dense):
    """flipout_dense(x, kernel_loc, kernel_delta, sign_in, sign_out) -> [B, d_out]."""
    rng = fresh_rng()
    batch, d_in, d_out = 9, 4, 3
    x = rng.normal(size=(batch, d_in))
    loc, delta = rng.normal(size=(d_in, d_out)), rng.normal(size=(d_in, d_out)) * 0.3
    sign_in = rng.choice([-1.0, 1.0], size=(batch, d_in))
    sign_out = rng.choice([-1.0, 1.0], size=(batch, d_out))
    got = _value(flipout_dense(x.copy(), loc.copy(), delta.copy(), sign_in.copy(), sign_out.copy()),
                 "flipout_dense")   # copies: writing into them changes nothing
    expected = x @ loc + ((x * sign_in) @ delta) * sign_out
    expect_close("flipout_dense(x, kernel_loc, kernel_delta, sign_in, sign_out)", got, expected, rtol=1e-6)


@question("lab08.local_reparam_dense", hint="The pre-activation b = x W is Gaussian: mean x @ kernel_loc, "
          "variance x^2 @ kernel_sd^2; return mean + sqrt(variance) * eps.")
def _local_reparam_dense(*, local_reparam_dense):
    """local_reparam_dense(x, kernel_loc, kernel_sd, eps) -> [B, d_out] samples of x W."""
    rng = fresh_rng()
    batch, d_in, d_out = 9, 4, 3
    x = rng.normal(size=(batch, d_in))
    loc, sd = rng.normal(size=(d_in, d_out)), rng.uniform(0.05, 0.5, size=(d_in, d_out))
    eps = rng.normal(size=(batch, d_out))
    got = _value(local_reparam_dense(x.copy(), loc.copy(), sd.copy(), eps.copy()),
                 "local_reparam_dense")   # copies: writing into them changes nothing
    expected = x @ loc + np.sqrt((x**2) @ (sd**2)) * eps
    expect_close("local_reparam_dense(x, kernel_loc, kernel_sd, eps)", got, expected, rtol=1e-6)
