"""Lab 04 questions: the sin network with HMC in TensorFlow Probability.

The TensorFlow log-posteriors are compared with `cs109b_bayes.models` on fresh
random float32 weights (values up to a constant, and gradients); the predictive
function is compared with `models.posterior_predictive` on random draws.
"""

import numpy as np

from cs109b_bayes import data, models
from cs109b_bayes.grading import CheckFailed, expect_answered, expect_close, expect_true, fresh_rng, question

__all__ = []

PRIOR_SD = models.GAP5_PRIOR_SD


def _value_and_gradients(fn, weights, what):
    """Call a TensorFlow log-density on float32 weights; return its value and gradients (numpy)."""
    import tensorflow as tf

    variables = {n: tf.constant(v, dtype=tf.float32) for n, v in weights.items()}
    with tf.GradientTape() as tape:
        tape.watch(list(variables.values()))
        value = expect_answered(what, fn(**variables))
    if not tf.is_tensor(value):
        raise CheckFailed(f"{what} returned a {type(value).__name__}, not a TensorFlow tensor: use tf.sin, "
                          f"tf.reduce_sum, ... (numpy functions cut the gradient HMC needs)")
    grads = tape.gradient(value, list(variables.values()))
    missing = [n for n, g in zip(variables, grads) if g is None]
    if missing:
        raise CheckFailed(f"{what} has no gradient with respect to {missing}; build it from TensorFlow ops only")
    return value.numpy().astype(float), {n: g.numpy().astype(float) for n, g in zip(variables, grads)}


def _compare_tf(what, fn, reference_tf, weights_a, weights_b, num_chains):
    value_a, grad_a = _value_and_gradients(fn, weights_a, what)
    value_b, _ = _value_and_gradients(fn, weights_b, what)
    if value_a.shape != (num_chains,):
        raise CheckFailed(f"{what} with weights of shape ({num_chains},) should return shape ({num_chains},), "
                          f"got {value_a.shape}")
    ref_a, ref_grad = _value_and_gradients(reference_tf, weights_a, "reference")
    ref_b, _ = _value_and_gradients(reference_tf, weights_b, "reference")
    scale = 1e-4 * (1.0 + np.abs(ref_a) + np.abs(ref_b))
    expect_close(f"{what}(w) - {what}(w') at random float32 weights", value_a - value_b, ref_a - ref_b,
                 rtol=0, atol=scale)
    for name, grad in grad_a.items():
        expect_close(f"the gradient of {what} with respect to {name}", grad, ref_grad[name], rtol=1e-3,
                     atol=1e-3 * (1.0 + np.abs(ref_grad[name]).max()))


def _random_weights(rng, names, num_chains):
    scale = {"w11": 3.0, "w12": 3.0, "w21": 1.5, "w22": 1.5, "b1": 0.5}
    return {n: (rng.normal(size=num_chains) * scale[n]).astype(np.float32) for n in names}


@question("lab04.log_posterior_tf", hint="The lab 03 log-posterior written with TensorFlow ops: "
          "tf.sin, tf.reduce_sum(..., axis=-1), w[..., None] * x with x a float32 tf.constant.")
def _log_posterior_tf(*, log_posterior_tf):
    rng = fresh_rng()
    gap = data.sin_gap()
    reference = models.gap5_log_prob(gap.x, gap.y, noise_sd=gap.truth["sigma"], prior_sd=PRIOR_SD,
                                      backend="tensorflow")
    num_chains = 4
    _compare_tf("log_posterior_tf", log_posterior_tf, reference,
                _random_weights(rng, models.GAP5_NAMES, num_chains),
                _random_weights(rng, models.GAP5_NAMES, num_chains), num_chains)


@question("lab04.hack", hint="Return a function of (w21, w22, b1) only: the network with w11, w12 held at the "
          "given values, the Gaussian log-likelihood, and N(0, 1) log-priors on the three sampled weights.")
def _hack(*, make_hack_log_posterior):
    rng = fresh_rng()
    gap = data.sin_gap()
    num_chains = 4
    for _ in range(2):
        w11, w12 = (float(v) for v in rng.normal(size=2) * 3.0)
        fn = expect_answered("make_hack_log_posterior", make_hack_log_posterior(w11, w12))
        if not callable(fn):
            raise CheckFailed(f"make_hack_log_posterior(w11, w12) should return a function, got {type(fn).__name__}")
        reference = models.gap5_log_prob(gap.x, gap.y, noise_sd=gap.truth["sigma"], prior_sd=PRIOR_SD,
                                          fixed={"w11": w11, "w12": w12}, backend="tensorflow")
        names = ("w21", "w22", "b1")
        _compare_tf(f"make_hack_log_posterior({w11:.3f}, {w12:.3f})", fn, reference,
                    _random_weights(rng, names, num_chains), _random_weights(rng, names, num_chains), num_chains)


@question("lab04.predictive", hint="Evaluate the network for every draw of every chain; the mean over all "
          "draws, and sd = sqrt(variance of f over the draws + noise_sd**2).")
def _predictive(*, predictive_mean_sd):
    rng = fresh_rng()
    num_chains, num_draws = int(rng.integers(2, 5)), int(rng.integers(50, 200))
    draws = {n: rng.normal(loc=m, scale=0.05, size=(num_chains, num_draws))
             for n, m in zip(models.GAP5_NAMES, rng.normal(size=5) * 2.0)}
    x = np.sort(rng.uniform(-1.5, 1.5, size=int(rng.integers(10, 40))))
    noise_sd = float(rng.uniform(0.1, 0.5))
    out = expect_answered("predictive_mean_sd", predictive_mean_sd(draws, x, noise_sd))
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise CheckFailed(f"predictive_mean_sd should return a pair (mean, sd), got {type(out).__name__}"
                          + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""))
    expected = models.posterior_predictive(draws, x, noise_sd=noise_sd)
    expect_close("predictive mean", out[0], expected.mean, rtol=1e-6, atol=1e-8)
    expect_close("predictive sd (network spread and noise)", out[1], expected.total_sd, rtol=1e-2, atol=1e-6)
    expect_true(np.all(np.asarray(out[1]) >= noise_sd * (1 - 1e-9)),
                "the predictive sd can never be below the noise sd")
