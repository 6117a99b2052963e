"""Lab 03 questions: Metropolis for the 5-weight sin network.

References come from `cs109b_bayes.models` (`gap5_forward`, `gap5_log_prob`);
inputs are fresh random weights with a chain axis, as `cb.metropolis` passes them.
"""

import numpy as np

from cs109b_bayes import data, models
from cs109b_bayes.grading import (CheckFailed, expect_answered, expect_close, expect_true, fresh_rng, question,
                                  using_references)

__all__ = []

PRIOR_SD = models.GAP5_PRIOR_SD


def _random_weights(rng, num_chains):
    scale = np.array([3.0, 3.0, 1.5, 1.5, 0.5])
    values = rng.normal(size=(5, num_chains)) * scale[:, None]
    return dict(zip(models.GAP5_NAMES, values))


@question("lab03.forward", hint="y_hat = w21 * sin(w11 * x) + w22 * sin(w12 * x) + b1; give every weight "
          "a trailing axis (w[..., None]) so a [num_chains] weight times x [n] gives [num_chains, n].")
def _forward(*, sin_network):
    rng = fresh_rng()
    x = rng.uniform(-1.5, 1.5, size=int(rng.integers(5, 30)))
    for num_chains in (1, 4):
        weights = _random_weights(rng, num_chains)
        got = expect_answered("sin_network", sin_network(x.copy(), **{n: w.copy() for n, w in weights.items()}))
        expected = models.gap5_forward(x, **weights)
        expect_close(f"sin_network(x, ...) with {num_chains} chain(s) and {len(x)} inputs", got, expected,
                     rtol=1e-6, atol=1e-9)


@question("lab03.log_posterior", hint="log N(y | sin_network(x), 0.1^2) summed over the data points "
          "(axis=-1), plus log N(w | 0, 1) for each of the 5 weights; one value per chain.")
def _log_posterior(*, log_posterior):
    rng = fresh_rng()
    num_chains = 6
    first, second = _random_weights(rng, num_chains), _random_weights(rng, num_chains)
    # Your log_posterior runs with the reference forward pass, so a wrong sin_network (Question 1)
    # cannot make this check fail.
    with using_references(log_posterior, sin_network=models.gap5_forward):
        got_first = np.asarray(expect_answered("log_posterior", log_posterior(**first)), dtype=float)
        got_second = np.asarray(expect_answered("log_posterior", log_posterior(**second)), dtype=float)
    if got_first.shape != (num_chains,):
        raise CheckFailed(f"log_posterior with weights of shape ({num_chains},) should return one value per "
                          f"chain, shape ({num_chains},); got shape {got_first.shape} (sum over data points only)")
    # Metropolis needs the log-posterior up to a constant: compare differences.
    gap = data.sin_gap()
    reference = models.gap5_log_prob(gap.x, gap.y, noise_sd=gap.truth["sigma"], prior_sd=PRIOR_SD)
    expected = reference(**first) - reference(**second)
    expect_close("log_posterior(w) - log_posterior(w') at random weight pairs", got_first - got_second, expected,
                 rtol=1e-6, atol=1e-6)


def _as_weights(what, value):
    value = expect_answered(what, value)
    if not isinstance(value, dict) or set(value) != set(models.GAP5_NAMES):
        raise CheckFailed(f"{what} should return a dict with the keys {list(models.GAP5_NAMES)}, got {value!r}")
    return {n: float(value[n]) for n in models.GAP5_NAMES}


@question("lab03.symmetries", hint="sin is odd: w2k sin(w1k x) = (-w2k) sin(-w1k x). Renaming the hidden "
          "units changes nothing either: swap (w11, w21) with (w12, w22).")
def _symmetries(*, flip_sign, swap_units):
    rng = fresh_rng()
    gap = data.sin_gap()
    reference = models.gap5_log_prob(gap.x, gap.y, noise_sd=gap.truth["sigma"], prior_sd=PRIOR_SD)
    x = rng.uniform(-3.0, 3.0, size=50)
    weights = {n: float(v[0]) for n, v in _random_weights(rng, 1).items()}
    cases = [(f"flip_sign(w, {k})", lambda k=k: flip_sign(dict(weights), k), {f"w1{k}", f"w2{k}"})
             for k in (1, 2)]
    cases.append(("swap_units(w)", lambda: swap_units(dict(weights)), {"w11", "w12", "w21", "w22"}))
    for what, call, should_change in cases:
        moved = _as_weights(what, call())
        changed = {n for n in models.GAP5_NAMES if not np.isclose(moved[n], weights[n], rtol=0, atol=1e-12)}
        expect_true(changed, f"{what} returned the same weights; a symmetry must move to another point "
                             f"with the same predictions")
        expect_true(changed <= should_change,
                    f"{what} changed {sorted(changed)}; it should change only {sorted(should_change)}")
        expect_close(f"the network output of {what} vs of w at 50 random x",
                     models.gap5_forward(x, **moved), models.gap5_forward(x, **weights), rtol=1e-9, atol=1e-9)
        expect_close(f"the log-posterior of {what} vs of w", reference(**moved), reference(**weights), rtol=1e-9)
