"""Questions of lab 14: the score-function and reparameterization gradient estimators, and a baseline."""

import numpy as np

from cs109b_bayes.grading import answer_array, expect_close, expect_true, fresh_rng, question

__all__ = []

_NUM_DRAWS = 50_000   # draws for the unbiasedness test
_Z_LIMIT = 4.5        # |average - exact| / standard error above this fails


def _problem(rng):
    """Fresh mu, log_sigma (sigma kept away from 1) and target a (a - mu kept away from 0)."""
    mu = rng.normal(0.0, 1.0)
    log_sigma = rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 0.8)
    target = mu + rng.choice([-1.0, 1.0]) * rng.uniform(1.0, 2.5)
    return mu, log_sigma, target


def _per_draw(what, value, num_draws):
    """The answer as an array [S, 2]: accepts [S, 2], a pair of [S] arrays, lists, float32."""
    got = answer_array(what, value)
    if got.shape == (2, num_draws):
        got = got.T
    if got.shape == (2,):
        expect_true(False, f"{what} returned shape (2,): return one estimate per draw of eps, shape "
                    f"({num_draws}, 2), not their average (the lab averages them)")
    expect_true(got.shape == (num_draws, 2), f"{what} should return one (d/dmu, d/dlog_sigma) pair per draw "
                f"of eps: shape ({num_draws}, 2); got shape {got.shape}")
    return got


def _expect_unbiased(name, estimator, needs):
    """The average over many draws matches the exact gradient within _Z_LIMIT standard errors."""
    rng = fresh_rng()
    mu, log_sigma, target = _problem(rng)
    functions = {"f": lambda z: -0.5 * (z - target) ** 2, "grad_f": lambda z: target - z}
    eps = rng.normal(size=_NUM_DRAWS)
    call = f"{name}({needs}, mu={mu:.3f}, log_sigma={log_sigma:.3f}, eps)"
    per = _per_draw(call, estimator(functions[needs], mu, log_sigma, eps), _NUM_DRAWS)
    expect_true(np.all(np.isfinite(per)), f"{call} returned non-finite estimates")
    sigma = np.exp(log_sigma)
    exact = np.array([target - mu, -sigma**2])
    average, stderr = per.mean(axis=0), per.std(axis=0, ddof=1) / np.sqrt(_NUM_DRAWS)
    z_scores = np.abs(average - exact) / np.maximum(stderr, 1e-12)
    for k, param in enumerate(("mu", "log_sigma")):
        expect_true(z_scores[k] < _Z_LIMIT,
                    f"with f(z) = -(z - {target:.3f})^2 / 2 and q = N({mu:.3f}, {sigma:.3f}^2), the average of your "
                    f"{_NUM_DRAWS} estimates of d/d{param} E_q[f] is {average[k]:.4f} +- {stderr[k]:.4f}, but the "
                    f"exact gradient is {exact[k]:.4f} ({z_scores[k]:.0f} standard errors away): the estimator is biased. "
                    f"Check the derivative with respect to {param}"
                    + (" (log sigma, not sigma: sigma = exp(log_sigma))" if param == "log_sigma" else "") + ".")
    return mu, log_sigma, target


def _expect_per_draw(name, estimator, reference, needs, mu, log_sigma, target):
    """Per-draw values on a few fixed eps match the reference (float32 answers accepted)."""
    eps = np.array([-1.5, -0.3, 0.4, 1.1, 2.0])
    functions = {"f": lambda z: -0.5 * (z - target) ** 2, "grad_f": lambda z: target - z}
    call = f"{name}({needs}, mu={mu:.3f}, log_sigma={log_sigma:.3f}, eps={eps.tolist()})"
    got = _per_draw(call, estimator(functions[needs], mu, log_sigma, eps), eps.size)
    expected = reference(functions[needs], mu, log_sigma, eps)
    for k, param in enumerate(("mu", "log_sigma")):
        expect_close(f"{call}, column {k} (the d/d{param} estimate of each draw)", got[:, k], expected[:, k],
                     rtol=1e-4, atol=1e-5)


def _score_reference(f, mu, log_sigma, eps):
    sigma = np.exp(log_sigma)
    z = mu + sigma * eps
    return f(z)[:, None] * np.stack([(z - mu) / sigma**2, (z - mu) ** 2 / sigma**2 - 1.0], axis=1)


def _reparameterization_reference(grad_f, mu, log_sigma, eps):
    sigma = np.exp(log_sigma)
    slope = grad_f(mu + sigma * eps)
    return np.stack([slope, slope * sigma * eps], axis=1)


@question("lab14.score_function",
          hint="With z = mu + sigma * eps: log q(z) = -log sigma - (z - mu)^2 / (2 sigma^2) + const. Its derivative "
               "is (z - mu) / sigma^2 with respect to mu and (z - mu)^2 / sigma^2 - 1 with respect to log sigma; "
               "multiply each by f(z).")
def _score_function(*, score_function):
    """score_function(f, mu, log_sigma, eps) -> per-draw f(z) * grad log q(z), shape [S, 2]."""
    params = _expect_unbiased("score_function", score_function, "f")
    _expect_per_draw("score_function", score_function, _score_reference, "f", *params)


@question("lab14.reparameterization",
          hint="With z = mu + sigma * eps, sigma = exp(log_sigma): dz/dmu = 1 and dz/dlog_sigma = sigma * eps "
               "(chain rule through sigma). Multiply each by grad_f(z).")
def _reparameterization(*, reparameterization):
    """reparameterization(grad_f, mu, log_sigma, eps) -> per-draw grad_f(z) * dz/d(mu, log_sigma), [S, 2]."""
    params = _expect_unbiased("reparameterization", reparameterization, "grad_f")
    _expect_per_draw("reparameterization", reparameterization, _reparameterization_reference, "grad_f", *params)


@question("lab14.baseline",
          hint="baseline[i] = (sum of all f values - f_values[i]) / (S - 1): the mean of the OTHER draws.")
def _baseline(*, leave_one_out_baseline):
    """leave_one_out_baseline(f_values) -> [S], each entry the mean of f over the other draws."""
    rng = fresh_rng()
    values = rng.normal(0.0, 2.0, size=6)
    got = answer_array("leave_one_out_baseline(f_values)", leave_one_out_baseline(values.copy()))
    expect_true(got.shape == values.shape, f"leave_one_out_baseline(f_values) should return one baseline per "
                f"draw, shape {values.shape}; got shape {got.shape}")
    for k in range(values.size):
        moved = values.copy()
        moved[k] += 10.0
        changed = answer_array("leave_one_out_baseline(f_values)", leave_one_out_baseline(moved))
        expect_true(abs(float(np.ravel(changed)[k]) - float(got[k])) < 1e-6,
                    f"changing only f_values[{k}] (by +10) changed baseline[{k}] from {got[k]:.4f} to "
                    f"{float(np.ravel(changed)[k]):.4f}: a draw's baseline must not depend on that draw's own f "
                    f"value, or E[(f - b) * score] is no longer the gradient (the estimator becomes biased)")
    expected = (values.sum() - values) / (values.size - 1)
    expect_close(f"leave_one_out_baseline({np.round(values, 3).tolist()})", got, expected, rtol=1e-5, atol=1e-6)
