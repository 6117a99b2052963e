"""Questions of lab 07: Bayes by Backprop (KL scaled by 1/N, the predictive from T passes)."""

import numpy as np
import tensorflow_probability as tfp

from cs109b_bayes.grading import expect_answered, expect_close, expect_true, fresh_rng, question

__all__ = []
tfd = tfp.distributions


@question("lab07.scaled_kl", hint="Return lambda q, p, _: tfd.kl_divergence(q, p) / num_train: the loss is "
          "averaged over examples, so the KL of the whole data set is spread over N of them.")
def _scaled_kl(*, make_divergence_fn):
    """make_divergence_fn(num_train) -> fn(q, p, ignore) = KL(q || p) / num_train."""
    rng = fresh_rng()
    for num_train in (int(rng.integers(50, 500)), int(rng.integers(1000, 5000))):
        fn = make_divergence_fn(num_train)
        expect_answered("make_divergence_fn", fn)
        shape = (3, 4)
        q = tfd.Independent(tfd.Normal(rng.normal(size=shape).astype(np.float32),
                                       rng.uniform(0.05, 1.0, size=shape).astype(np.float32)), 2)
        p = tfd.Independent(tfd.Normal(np.zeros(shape, np.float32), np.float32(rng.uniform(0.5, 2.0))), 2)
        got = fn(q, p, None)
        expected = tfd.kl_divergence(q, p).numpy() / num_train
        expect_close(f"make_divergence_fn({num_train})(q, p, None)", got, expected, rtol=1e-5)


def _split_reference(locs, scales):
    aleatoric = np.sqrt(np.mean(scales**2, axis=0))
    epistemic = np.std(locs, axis=0)
    return locs.mean(axis=0), aleatoric, epistemic, np.sqrt(aleatoric**2 + epistemic**2)


@question("lab07.predictive_split", hint="Law of total variance: aleatoric^2 = mean_t sigma_t^2, epistemic^2 = "
          "var_t mu_t (np.std with the default ddof=0), total^2 = their sum; average over axis 0 (the passes).")
def _predictive_split(*, predictive_split):
    """predictive_split(locs, scales) -> (mean, aleatoric_sd, epistemic_sd, total_sd) from [T, n] pass outputs."""
    rng = fresh_rng()
    locs = rng.normal(size=(40, 7)) * rng.uniform(0.1, 2.0, size=7)
    scales = rng.uniform(0.1, 1.0, size=(40, 7))
    got = predictive_split(locs.copy(), scales.copy())   # copies: writing into them changes nothing
    expect_answered("predictive_split", got)
    expect_true(isinstance(got, (tuple, list)) and len(got) == 4,
                "predictive_split should return (mean, aleatoric_sd, epistemic_sd, total_sd)")
    for name, value, expected in zip(("mean", "aleatoric_sd", "epistemic_sd", "total_sd"), got,
                                     _split_reference(locs, scales)):
        expect_close(name, value, expected, rtol=1e-6)
