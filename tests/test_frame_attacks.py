"""Answers cannot read the reference from the checker's stack frames.

An answer can walk up the stack (`sys._getframe`) into the check that called it and read its local
variables. If a check computed its reference before calling the answer, the reference is sitting
there. `FrameReader` is that attack at its strongest: at every call it gathers every number in the
locals of every frame whose code is the checker's (`cs109b_bayes/questions/`, `cs109b_bayes/grading/`):
numbers, arrays, tensors, and tuples, lists and dicts of them. Told what a correct answer returns
(the test's `oracle`), it looks for those values among the numbers it found (its inputs and its own
earlier outputs left out, so it cannot "find" them there) and returns what it found, never the
oracle's value; when the values are not all there it returns NaN. So it beats every way of picking
a candidate (by name, by shape, by position): it scores only if the reference is in a frame.

* cheating mode: on every question whose answer is a function of plain inputs, it scores 0.
* spying mode: it returns the oracle's (correct) value, so the check runs to the end, and notes at
  every call whether the reference was findable: the check passes and it never was.
* the tests can fail: on a copy of the old lab01.ols check (reference first) the same attack
  passes, through `check` and through the grader's record / replay; so does a by-name attack.
* calling the answer first is safe only if it cannot move the reference: an answer that writes into
  its input arrays fails (the checks pass it copies).

Labs 13, 15 and 16 (`NEW_CASES`) are attacked the same way, and lab16.acquire also by the attack its old
check invited: reading the checker's ranking of the scores (`reads_the_ranking`).

Labs 10-12 (`LAB10_12_CASES`): lab10.reparameterize is also graded on its gradients, but those follow from
the value (dz/dz_mean = 1, dz/dz_log_var = (z - z_mean) / 2), so a leaked z could be returned as a tensor
with the right gradients (`_fake_reparameterization`; it passes a copy of the old check, which computed z
first). lab10.train_step is graded on the variables after the step too, so its reader takes the step and
fakes only the three losses. Their inputs are TensorFlow constants (nothing to write into); the numpy
inputs of labs 11 and 12, and lab 12's stand-in encoder's weights, are copies.

Questions not here: answers graded on statistics of random draws with no reference value
(lab01.resample, lab02.metropolis_step, lab09.sample_hidden), or on TensorFlow gradients, which a
returned value cannot fake (lab04.log_posterior_tf, lab04.hack, lab05.elbo_estimate), values computed in
the notebook (lab02.posterior_summary), and lab03.symmetries, whose check computes no expected answer.
"""

import dataclasses
import os
import pathlib
import sys
import textwrap

import numpy as np
import pytest
from scipy import special, stats

import cs109b_bayes as cb
from cs109b_bayes import data, grading, models
from cs109b_bayes.grading import expect_close, fresh_rng, question
from cs109b_bayes.grading.probe import record_question, replay_question
from cs109b_bayes.grading.recording import RECORDING_FOLDER

PACKAGE = pathlib.Path(cb.__file__).resolve().parent
CHECKER_DIRS = tuple(str(PACKAGE / folder) + os.sep for folder in ("questions", "grading"))
SEED = 20261121


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.delenv("CS109B_STRICT", raising=False)
    monkeypatch.delenv("CS109B_CHECK_SEED", raising=False)


def numbers(value, depth=0):
    """Every number in a value: numbers, numeric arrays and tensors, tuples / lists / dicts of them."""
    if isinstance(value, bool) or depth > 4:
        return np.zeros(0)
    if isinstance(value, (int, float, np.number)):
        return np.array([float(value)])
    if isinstance(value, np.ndarray):
        return value.ravel().astype(float) if value.dtype.kind in "iuf" else np.zeros(0)
    if hasattr(value, "numpy") and hasattr(value, "dtype"):        # a TensorFlow tensor or variable
        try:
            return numbers(np.asarray(value.numpy()), depth + 1)
        except Exception:  # noqa: BLE001  (not convertible: nothing to read)
            return np.zeros(0)
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (tuple, list)) else ()
    parts = [numbers(item, depth + 1) for item in items]
    return np.concatenate(parts) if parts else np.zeros(0)


def checker_numbers():
    """Every number in the locals of the checker's frames on the stack (what a frame reader sees)."""
    found, frame = [], sys._getframe(1)
    while frame is not None:
        if os.path.realpath(frame.f_code.co_filename).startswith(CHECKER_DIRS):
            found.extend(numbers(value) for value in frame.f_locals.values())
        frame = frame.f_back
    return np.concatenate(found) if found else np.zeros(0)


def _pieces(value):
    return list(value) if isinstance(value, tuple) else [value]


def _find(wanted, pool, rtol):
    """`wanted` (an array or a tuple of arrays) rebuilt from values of `pool`, or None if some are missing."""
    pieces = [np.asarray(piece, dtype=float) for piece in _pieces(wanted)]
    flat = np.concatenate([piece.ravel() for piece in pieces])
    padded = np.concatenate([[-np.inf], np.sort(pool), [np.inf]])
    index = np.searchsorted(padded, flat)
    left, right = padded[index - 1], padded[index]
    nearest = np.where(np.abs(left - flat) <= np.abs(right - flat), left, right)
    if not np.all(np.abs(nearest - flat) <= rtol * np.abs(flat) + 1e-12):
        return None
    values, start = [], 0
    for piece in pieces:
        values.append(nearest[start:start + piece.size].reshape(piece.shape))
        start += piece.size
    return tuple(values) if isinstance(wanted, tuple) else values[0]


class FrameReader:
    """A cheating answer that returns the reference it finds in the checker's frames.

    Args:
        oracle: `oracle(*args)` -> what a correct answer returns (an array or a tuple of arrays).
        spy: if True, return the oracle's value (the check runs through) and only note what was found.
        look_for: `look_for(*args)` -> the reference to look for, when it is not the answer itself
            (e.g. the average the check compares with). Default value: `oracle`.
        build: `build(found, *args)` -> the answer made from what was found. Default value: it as is.
        rtol: how close a found value must be to the wanted one. Default value: `1e-6`.
    """

    def __init__(self, oracle, *, spy=False, look_for=None, build=None, rtol=1e-6, log=None):
        self.oracle, self.spy, self.rtol = oracle, spy, rtol
        self.look_for = look_for or oracle
        self.build = build or (lambda found, *args, **kwargs: found)
        self.log = [] if log is None else log        # one entry per call: True if the reference was found
        self.outputs = []

    def __call__(self, *args, **kwargs):
        pool = checker_numbers()
        own = np.concatenate([numbers(args), numbers(kwargs), *(numbers(out) for out in self.outputs)])
        pool = pool[np.isfinite(pool) & ~np.isin(pool.astype(np.float32), own.astype(np.float32))]
        found = _find(self.look_for(*args, **kwargs), pool, self.rtol)
        self.log.append(found is not None)
        if self.spy:
            out = self.oracle(*args, **kwargs)
        elif found is None:
            wanted = self.oracle(*args, **kwargs)
            out = tuple(np.full(np.shape(p), np.nan) for p in _pieces(wanted))
            out = out if isinstance(wanted, tuple) else out[0]
        else:
            out = self.build(found, *args, **kwargs)
        self.outputs.append(out)
        return out


# ---- what correct answers return (the oracles) ----

def _as_float(value):
    return np.asarray(getattr(value, "numpy", lambda: value)(), dtype=float)


def _ols_se(x, y):
    design = np.column_stack([np.ones_like(x), x])
    _, rss, *_ = np.linalg.lstsq(design, y, rcond=None)
    return np.sqrt(np.diag(rss[0] / (len(x) - 2) * np.linalg.inv(design.T @ design)))


def _log_prior(b0, b1, prior_sd):
    return stats.norm.logpdf([b0, b1], 0.0, prior_sd).sum()


def _log_likelihood(b0, b1, x, y, noise_sd):
    return stats.norm.logpdf(y, b0 + b1 * x, noise_sd).sum()


def _gap5_log_posterior(**weights):
    gap = data.sin_gap()
    return models.gap5_log_prob(gap.x, gap.y, noise_sd=gap.truth["sigma"], prior_sd=models.GAP5_PRIOR_SD)(**weights)


def _predictive(draws, x, noise_sd):
    predictive = models.posterior_predictive(draws, x, noise_sd=noise_sd)
    return predictive.mean, predictive.total_sd


def _kl(q_mean, q_sd, p_mean, p_sd):
    return np.log(p_sd / q_sd) + (q_sd**2 + (q_mean - p_mean) ** 2) / (2 * p_sd**2) - 0.5


def _exact_posterior(x, y, noise_sd, prior_sd):
    design = np.column_stack([np.ones_like(x), x])
    cov = np.linalg.inv(design.T @ design / noise_sd**2 + np.eye(2) / prior_sd**2)
    return cov @ design.T @ y / noise_sd**2, cov


def _gaussian_nll(y, mu, sigma):
    return -np.mean(stats.norm.logpdf(_as_float(y), _as_float(mu), _as_float(sigma)))


def _coverage(y, mean, sd, num_sd):
    return np.mean(np.abs(y - mean) <= num_sd * sd)


def _predictive_split(locs, scales):
    aleatoric, epistemic = np.sqrt(np.mean(scales**2, axis=0)), np.std(locs, axis=0)
    return locs.mean(axis=0), aleatoric, epistemic, np.sqrt(aleatoric**2 + epistemic**2)


def _hidden_kl(loc, scale):
    loc, scale = _as_float(loc), _as_float(scale)
    return np.mean(np.sum(0.5 * (loc**2 + scale**2 - 1.0) - np.log(scale), axis=1))


_UNBIASED_DRAWS = 50_000      # lab 14's unbiasedness test (its _NUM_DRAWS): the check compares the average


def _exact_gradient(fn, mu, log_sigma, eps):
    """The exact gradient lab 14 compares the average with (f(z) = -(z - t)^2 / 2, or grad_f = t - z)."""
    curvature = fn(mu + 1.0) - 2.0 * fn(mu) + fn(mu - 1.0)      # -1 for f, 0 for grad_f
    slope = (fn(mu + 1.0) - fn(mu - 1.0)) / 2.0 if curvature < -0.5 else fn(mu)
    return np.array([slope, -np.exp(2 * log_sigma)])


def _score(f, mu, log_sigma, eps):
    sigma = np.exp(log_sigma)
    z = mu + sigma * eps
    return f(z)[:, None] * np.stack([(z - mu) / sigma**2, (z - mu) ** 2 / sigma**2 - 1.0], axis=1)


def _reparameterization(grad_f, mu, log_sigma, eps):
    sigma = np.exp(log_sigma)
    slope = grad_f(mu + sigma * eps)
    return np.stack([slope, slope * sigma * eps], axis=1)


def _lab14(oracle):
    """Keyword arguments of a lab 14 estimator reader: on the big draw, the exact average is what leaks."""
    def look_for(fn, mu, log_sigma, eps):
        if eps.size == _UNBIASED_DRAWS:
            return _exact_gradient(fn, mu, log_sigma, eps)
        return oracle(fn, mu, log_sigma, eps)

    def build(found, fn, mu, log_sigma, eps):
        return np.tile(found, (eps.size, 1)) if eps.size == _UNBIASED_DRAWS else found

    return {"look_for": look_for, "build": build}


@dataclasses.dataclass(frozen=True)
class Case:
    question: str
    answer: str
    oracle: object
    options: dict = dataclasses.field(default_factory=dict)


CASES = [
    Case("lab01.ols", "fit_ols", lambda x, y: np.polyfit(x, y, 1)[::-1]),
    Case("lab01.ols_se", "ols_standard_errors", _ols_se),
    Case("lab01.interval", "percentile_interval",
         lambda s, level: np.percentile(s, [50 * (1 - level), 100 - 50 * (1 - level)], axis=0)),
    Case("lab02.log_prior", "log_prior", _log_prior),
    Case("lab02.log_likelihood", "log_likelihood", _log_likelihood),
    Case("lab02.log_posterior", "log_posterior",
         lambda b0, b1, x, y, noise, prior: _log_prior(b0, b1, prior) + _log_likelihood(b0, b1, x, y, noise)),
    Case("lab03.forward", "sin_network", lambda x, **w: models.gap5_forward(x, **w)),
    Case("lab03.log_posterior", "log_posterior", _gap5_log_posterior),
    Case("lab04.predictive", "predictive_mean_sd", _predictive),
    Case("lab05.kl_gaussian", "kl_gaussian", _kl),
    Case("lab05.exact_posterior", "exact_posterior", _exact_posterior),
    Case("lab06.gaussian_nll", "gaussian_nll", _gaussian_nll, {"rtol": 1e-5}),
    Case("lab06.coverage", "coverage", _coverage),
    Case("lab07.scaled_kl", "make_divergence_fn", None, {"rtol": 1e-5}),   # a factory: see `answer`
    Case("lab07.predictive_split", "predictive_split", _predictive_split),
    Case("lab08.flipout_dense", "flipout_dense",
         lambda x, loc, delta, s_in, s_out: x @ loc + ((x * s_in) @ delta) * s_out),
    Case("lab08.local_reparam_dense", "local_reparam_dense",
         lambda x, loc, sd, eps: x @ loc + np.sqrt((x**2) @ (sd**2)) * eps),
    Case("lab09.hidden_kl", "hidden_kl", _hidden_kl, {"rtol": 1e-5}),
    Case("lab14.score_function", "score_function", _score, _lab14(_score)),
    Case("lab14.reparameterization", "reparameterization", _reparameterization, _lab14(_reparameterization)),
    Case("lab14.baseline", "leave_one_out_baseline", lambda v: (np.sum(v) - v) / (np.size(v) - 1)),
]


def _sgld_step(theta, grad_log_prior, grad_log_lik, num_data, step_size, noise):
    drift = grad_log_prior + num_data / len(grad_log_lik) * grad_log_lik.sum(axis=0)
    return theta + 0.5 * step_size * drift + np.sqrt(step_size) * noise


def _mixture(locs, scales):
    locs, scales = locs.astype(float), scales.astype(float)
    return locs.mean(axis=0), np.mean(scales**2 + locs**2, axis=0) - locs.mean(axis=0) ** 2


def _entropy(p):
    return -np.sum(p * np.log(np.clip(p, 1e-12, 1.0)), axis=-1)


def _auc(inside, outside):
    return np.mean((inside[:, None] > outside[None, :]) + 0.5 * (inside[:, None] == outside[None, :]))


def _acquire(scores, labelled, batch_size):
    return np.flatnonzero(~labelled)[np.argsort(-scores[~labelled])][:batch_size]


NEW_CASES = [
    Case("lab13.sgld_step", "sgld_step", _sgld_step),
    Case("lab13.mixture_predictive", "mixture_predictive", _mixture, {"rtol": 1e-5}),
    Case("lab15.importance_bound", "importance_bound", lambda w: special.logsumexp(w, axis=0) - np.log(len(w))),
    Case("lab15.roc_auc", "roc_auc", _auc),
    Case("lab16.bald", "bald_score", lambda p: _entropy(p.mean(axis=0)) - _entropy(p).mean(axis=0)),
    Case("lab16.acquire", "acquire", _acquire),
]
CASES += NEW_CASES


# ---- labs 10-12 ----

def _reparameterize(z_mean, z_log_var, eps):
    import tensorflow as tf

    return z_mean + tf.exp(0.5 * z_log_var) * eps


def _fake_reparameterization(found, z_mean, z_log_var, eps):
    """The found z as a tensor whose gradients are also right: dz/dz_mean = 1, dz/dz_log_var = (z - z_mean) / 2."""
    import tensorflow as tf

    found = tf.constant(found, z_mean.dtype)
    return (found + (z_mean - tf.stop_gradient(z_mean))
            + 0.5 * (z_log_var - tf.stop_gradient(z_log_var)) * (found - z_mean))


def _vae_losses(x, eps, encoder, decoder):
    import tensorflow as tf

    z_mean, z_log_var = encoder(x, training=True)
    logits = decoder(z_mean + tf.exp(0.5 * z_log_var) * eps, training=True)
    reconstruction = tf.reduce_sum(tf.nn.softplus(logits) - x * logits, axis=-1)
    kl = 0.5 * tf.reduce_sum(tf.exp(z_log_var) + z_mean**2 - 1.0 - z_log_var, axis=-1)
    return tf.reduce_mean(reconstruction + kl), tf.reduce_mean(reconstruction), tf.reduce_mean(kl)


def _train_step(x, eps, encoder, decoder, optimizer):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        losses = _vae_losses(x, eps, encoder, decoder)
    variables = encoder.trainable_variables + decoder.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(losses[0], variables), variables))
    return losses


def _steps_then_returns(found, x, eps, encoder, decoder, optimizer):
    """Takes the step (the check compares the variables too) and returns the three losses it found."""
    _train_step(x, eps, encoder, decoder, optimizer)
    return found


def _fit_kl(codes):
    m, s = codes.mean(axis=0), np.cov(codes.T, bias=True)
    return 0.5 * (np.trace(s) + m @ m - codes.shape[1] - np.linalg.slogdet(s)[1])


def _encode(encoder, x, passes):
    return np.stack([np.asarray(encoder(x)[0]) for _ in range(passes)])


def _stand_in_codes(encoder, x, passes):
    """What lab 12's stand-in encoder gives on its passes (z_mean = x @ weights + call number), without calling it."""
    return (x @ encoder.weights)[None] + np.arange(passes, dtype=np.float32)[:, None, None]


def _encodes_then_returns(found, encoder, x, passes):
    """Makes the encoder calls the check counts and returns the codes it found."""
    _encode(encoder, x, passes)
    return found


LAB10_12_CASES = [
    Case("lab10.reparameterize", "reparameterize", _reparameterize,
         {"build": _fake_reparameterization, "rtol": 1e-5}),
    Case("lab10.reconstruction_loss", "reconstruction_loss",
         lambda x, logits: np.sum(np.logaddexp(0.0, _as_float(logits)) - _as_float(x) * _as_float(logits), axis=-1),
         {"rtol": 1e-5}),
    Case("lab10.kl_divergence", "kl_divergence",
         lambda m, v: 0.5 * np.sum(np.exp(_as_float(v)) + _as_float(m) ** 2 - 1.0 - _as_float(v), axis=-1)),
    Case("lab10.train_step", "train_step", _train_step,
         {"look_for": lambda x, eps, encoder, decoder, optimizer: _vae_losses(x, eps, encoder, decoder),
          "build": _steps_then_returns, "rtol": 1e-5}),
    Case("lab11.gaussian_fit_kl", "gaussian_fit_kl", _fit_kl),
    Case("lab11.interpolate", "interpolate", lambda a, b, num: a + np.linspace(0.0, 1.0, num)[:, None] * (b - a)),
    Case("lab12.encode_repeatedly", "encode_repeatedly", _encode,
         {"look_for": _stand_in_codes, "build": _encodes_then_returns}),
    Case("lab12.epistemic_spread", "epistemic_spread", lambda z: z.std(axis=0).mean(axis=-1)),
]
CASES += LAB10_12_CASES


def answer(case, *, spy, log):
    """The frame-reading answer to `case`, noting in `log` whether each call found its reference."""
    if case.question == "lab07.scaled_kl":
        import tensorflow_probability as tfp

        def make_divergence_fn(num_train):
            oracle = lambda q, p, _: tfp.distributions.kl_divergence(q, p).numpy() / num_train  # noqa: E731
            return FrameReader(oracle, spy=spy, log=log, **case.options)

        return make_divergence_fn
    return FrameReader(case.oracle, spy=spy, log=log, **case.options)


@pytest.mark.parametrize("case", CASES, ids=[case.question for case in CASES])
def test_a_frame_reading_answer_scores_zero(case):
    log = []
    result = cb.check(case.question, **{case.answer: answer(case, spy=False, log=log)})
    assert not result.passed and not result.internal_error, result.text()
    assert "your code raised" not in result.message and "cannot be called" not in result.message, result.text()
    assert log and not any(log), log


@pytest.mark.parametrize("case", CASES, ids=[case.question for case in CASES])
def test_the_reference_is_never_in_a_frame_when_the_answer_runs(case):
    log = []
    result = cb.check(case.question, **{case.answer: answer(case, spy=True, log=log)})
    assert result.passed, result.text()          # the oracle is right: every call of the check was made
    assert log and not any(log), log


# ---- the attack works where the reference comes first: the old lab01.ols check ----

QUESTIONS_DIR = PACKAGE / "questions"


def _as_checker_code(source, name):
    """Define a function as if it lived in cs109b_bayes/questions/ (checker code, not a student's)."""
    namespace = {"np": np, "expect_close": expect_close, "fresh_rng": fresh_rng}
    exec(compile(textwrap.dedent(source), str(QUESTIONS_DIR / "lab00_test_only.py"), "exec"), namespace)
    return namespace[name]


# The lab01.ols check as it was: the reference computed before the answer is called.
question("lab00.ols_reference_first", hint="h")(_as_checker_code("""
    def ols_reference_first(*, fit_ols):
        rng = fresh_rng()
        for n in (5, 50):
            x = rng.uniform(0.0, 100.0, size=n)
            y = rng.normal(3.0, 2.0) + rng.normal(0.0, 0.5) * x + rng.normal(0.0, 5.0, size=n)
            slope, intercept = np.polyfit(x, y, 1)
            got = fit_ols(x, y)
            expect_close(f"fit_ols(x, y) on {n} random points", got, [intercept, slope], rtol=1e-6, atol=1e-8)
""", "ols_reference_first"))


def by_name(x, y):
    """The attack a student would write: the caller's locals, by the names the check uses."""
    caller = sys._getframe(1)
    return caller.f_locals["intercept"], caller.f_locals["slope"]


def test_the_attack_passes_when_the_reference_comes_first():
    ols = CASES[0]
    log = []
    assert cb.check("lab00.ols_reference_first", fit_ols=answer(ols, spy=False, log=log)).passed
    assert log == [True, True]
    assert cb.check("lab00.ols_reference_first", fit_ols=by_name).passed
    result = cb.check("lab01.ols", fit_ols=by_name)
    assert not result.passed and "your code raised KeyError" in result.message, result.text()


@pytest.mark.parametrize("question_id, passes", [("lab00.ols_reference_first", True), ("lab01.ols", False)])
def test_the_grader_scores_the_attack_by_where_the_reference_is(question_id, passes, tmp_path):
    """In grading the answer runs inside `record_question` (the sandbox) and is scored by the replay."""
    namespace = {"fit_ols": answer(CASES[0], spy=False, log=[])}
    record_question(question_id, SEED, namespace=namespace, out_dir=tmp_path / RECORDING_FOLDER)
    outcome = replay_question(question_id, SEED, tmp_path)
    assert outcome.passed is passes, outcome
    log = namespace["fit_ols"].log        # two rounds; a NaN answer ends its round at the first call
    assert log == ([True, True] * 2 if passes else [False, False]), log


def test_the_reader_finds_only_what_is_there():
    pool = np.array([1.0, 2.5, -3.0, 7.25])
    assert _find((np.array([2.5, 7.25]), -3.0), pool, 1e-9)[0].tolist() == [2.5, 7.25]
    assert _find(np.array([2.5, 7.2]), pool, 1e-6) is None
    assert _find(np.array([1.0]), np.zeros(0), 1e-6) is None
    assert numbers({"a": [1, np.ones(2)], "b": "text", "c": True}).tolist() == [1.0, 1.0, 1.0]
    assert grading.lookup("lab00.ols_reference_first").answers == ("fit_ols",)


# ---- calling the answer first must not let it change the reference by writing into its inputs ----

def writes_into_its_inputs(oracle):
    """An answer that doubles its input arrays in place, then answers correctly for the doubled inputs."""
    def answer(*args, **kwargs):
        for value in (*args, *kwargs.values()):
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                value *= 2.0
        return oracle(*args, **kwargs)

    return answer


@pytest.mark.parametrize("case", [c for c in CASES if c.question in (
    "lab01.ols", "lab01.ols_se", "lab01.interval", "lab02.log_posterior", "lab03.forward", "lab08.flipout_dense",
    "lab08.local_reparam_dense", "lab11.gaussian_fit_kl", "lab11.interpolate", "lab12.encode_repeatedly",
    "lab12.epistemic_spread")], ids=lambda c: c.question)
def test_an_answer_that_writes_into_its_inputs_does_not_move_the_reference(case):
    result = cb.check(case.question, **{case.answer: writes_into_its_inputs(case.oracle)})
    assert not result.passed and not result.internal_error, result.text()


def _double(*arrays):
    for array in arrays:
        array *= 2.0


def _blank_draws(probs):
    probs[...] = 1.0 / probs.shape[-1]           # every draw says "uniform": the reference BALD becomes 0


def _in_beats_out(inside, outside):
    inside[...] = outside.max() + 1.0            # every in-score wins: the reference AUC becomes 1


def _first_free_on_top(scores, labelled, batch_size):
    scores[np.flatnonzero(~labelled)[:batch_size]] = 1e9    # the first unlabelled points become the best


# (question, answer, what the answer writes into its inputs before answering correctly for what it wrote)
IN_PLACE = [
    ("lab13.sgld_step", "sgld_step", lambda theta, prior, lik, num_data, step_size, noise: _double(theta, prior, lik,
                                                                                                  noise)),
    ("lab13.mixture_predictive", "mixture_predictive", _double),
    ("lab15.importance_bound", "importance_bound", _double),
    ("lab15.roc_auc", "roc_auc", _in_beats_out),
    ("lab16.bald", "bald_score", _blank_draws),
    ("lab16.acquire", "acquire", _first_free_on_top),
]
ORACLES = {case.question: case.oracle for case in NEW_CASES}
INPUTS = {   # typical inputs, to show each write moves the reference
    "lab13.sgld_step": lambda rng: (rng.normal(size=3), rng.normal(size=3), rng.normal(size=(5, 3)), 97, 0.02,
                                    rng.normal(size=3)),
    "lab13.mixture_predictive": lambda rng: (rng.normal(size=(4, 3)), rng.uniform(0.2, 1.0, size=(4, 3))),
    "lab15.importance_bound": lambda rng: (rng.normal(-3.0, 2.0, size=(6, 3)),),
    "lab15.roc_auc": lambda rng: (rng.normal(1.0, 1.0, size=30), rng.normal(0.0, 1.0, size=20)),
    "lab16.bald": lambda rng: (rng.dirichlet(np.ones(3), size=(5, 6)),),
    "lab16.acquire": lambda rng: (rng.permutation(15) + rng.uniform(0.0, 0.5, size=15), np.arange(15) % 4 == 0, 3),
}


def writes_then_answers(question_id, write):
    oracle = ORACLES[question_id]

    def answer(*args):
        write(*args)
        return oracle(*args)

    return answer


@pytest.mark.parametrize("question_id, name, write", IN_PLACE, ids=[row[0] for row in IN_PLACE])
def test_an_answer_that_writes_into_its_inputs_fails_labs_13_15_16(question_id, name, write):
    result = cb.check(question_id, **{name: writes_then_answers(question_id, write)})
    assert not result.passed and not result.internal_error, result.text()


@pytest.mark.parametrize("question_id, name, write", IN_PLACE, ids=[row[0] for row in IN_PLACE])
def test_each_write_moves_the_reference(question_id, name, write):
    """The attacks above can fail: each write changes the correct answer, so a check that computed its reference
    from the arrays it handed over (no copies) would be fooled."""
    inputs = INPUTS[question_id](np.random.default_rng(SEED))
    before = ORACLES[question_id](*inputs)
    after = writes_then_answers(question_id, write)(*inputs)
    moved = [not np.allclose(a, b) for a, b in zip(_pieces(before), _pieces(after))]
    assert any(moved), (before, after)


# ---- labs 11 and 12: the same writes, shown to move the reference ----

class _StandIn:
    """Lab 12's stand-in encoder as the answer sees it: call number c gives z_mean = x @ weights + c."""

    def __init__(self, weights):
        self.weights, self.calls = weights, 0

    def __call__(self, x, **kwargs):
        z_mean = x @ self.weights + self.calls
        self.calls += 1
        return [z_mean, np.zeros_like(z_mean)]


def _double_the_ends(z_start, z_end, num_points):
    _double(z_start, z_end)


def _double_x(encoder, x, passes):
    x *= 2.0


def _double_the_weights(encoder, x, passes):
    encoder.weights *= 2.0


# (question, answer, what the answer writes into its inputs, typical inputs) for labs 11 and 12
IN_PLACE_10_12 = [
    ("lab11.gaussian_fit_kl", "gaussian_fit_kl", _double,
     lambda rng: (rng.normal(size=(300, 2)) @ np.array([[1.0, 0.0], [0.8, 0.5]]) + 1.0,)),
    ("lab11.interpolate", "interpolate", _double_the_ends,
     lambda rng: (rng.normal(size=3), rng.normal(size=3), 6)),
    ("lab12.encode_repeatedly", "encode_repeatedly", _double_x,
     lambda rng: (_StandIn(rng.normal(size=(10, 2))), rng.random((4, 10)), 5)),
    ("lab12.encode_repeatedly", "encode_repeatedly", _double_the_weights,
     lambda rng: (_StandIn(rng.normal(size=(10, 2))), rng.random((4, 10)), 5)),
    ("lab12.epistemic_spread", "epistemic_spread", _double, lambda rng: (rng.normal(size=(8, 4, 2)),)),
]
ORACLES_10_12 = {case.question: case.oracle for case in LAB10_12_CASES}


def writes_then_answers_10_12(question_id, write):
    oracle = ORACLES_10_12[question_id]

    def answer(*args):
        write(*args)
        return oracle(*args)

    return answer


@pytest.mark.parametrize("question_id, name, write, inputs", IN_PLACE_10_12,
                         ids=[f"{row[0]}-{row[2].__name__}" for row in IN_PLACE_10_12])
def test_an_answer_that_writes_into_its_inputs_fails_labs_11_12(question_id, name, write, inputs):
    result = cb.check(question_id, **{name: writes_then_answers_10_12(question_id, write)})
    assert not result.passed and not result.internal_error, result.text()


@pytest.mark.parametrize("question_id, name, write, inputs", IN_PLACE_10_12,
                         ids=[f"{row[0]}-{row[2].__name__}" for row in IN_PLACE_10_12])
def test_each_write_moves_the_reference_labs_11_12(question_id, name, write, inputs):
    """A check that computed its reference from the arrays (or the encoder) it handed over would be fooled."""
    before = ORACLES_10_12[question_id](*inputs(np.random.default_rng(SEED)))
    after = writes_then_answers_10_12(question_id, write)(*inputs(np.random.default_rng(SEED)))
    assert not np.allclose(before, after), (before, after)


# ---- lab10.reparameterize: a leaked z passes the gradient checks too ----

# A copy of the old lab10.reparameterize check: z computed before the answer is called.
question("lab00.reparameterize_reference_first", hint="h")(_as_checker_code("""
    def reparameterize_reference_first(*, reparameterize):
        import tensorflow as tf

        rng = fresh_rng()
        z_mean, z_log_var, eps = (rng.normal(size=(5, 3)).astype(np.float32) for _ in range(3))
        expected = z_mean + np.exp(0.5 * z_log_var) * eps
        mean_t, log_var_t = tf.constant(z_mean), tf.constant(z_log_var)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch([mean_t, log_var_t])
            z = reparameterize(mean_t, log_var_t, tf.constant(eps))
            total = tf.reduce_sum(z)
        expect_close("z", z, expected, rtol=1e-4, atol=1e-5)
        expect_close("d sum(z) / d z_mean", tape.gradient(total, mean_t), np.ones_like(z_mean))
        expect_close("d sum(z) / d z_log_var", tape.gradient(total, log_var_t), 0.5 * np.exp(0.5 * z_log_var) * eps,
                     rtol=1e-4, atol=1e-5)
""", "reparameterize_reference_first"))


def test_a_leaked_z_passed_the_old_reparameterize_check_with_its_gradients():
    case = next(c for c in LAB10_12_CASES if c.question == "lab10.reparameterize")
    log = []
    result = cb.check("lab00.reparameterize_reference_first", reparameterize=answer(case, spy=False, log=log))
    assert result.passed and log == [True], (result.text(), log)
    result = cb.check("lab10.reparameterize", reparameterize=answer(case, spy=False, log=log))
    assert not result.passed and log == [True, False], (result.text(), log)


# ---- lab16.acquire: its old check ranked the pool (`top = np.argsort(-scores)`) before calling the answer ----

def reads_the_ranking(scores, labelled, batch_size):
    """Finds a ranking of the pool (a permutation of its indices) in a checker frame and keeps its unlabelled head."""
    frame = sys._getframe(1)
    while frame is not None:
        if os.path.realpath(frame.f_code.co_filename).startswith(CHECKER_DIRS):
            for value in frame.f_locals.values():
                if (isinstance(value, np.ndarray) and value.dtype.kind in "iu"
                        and sorted(value.tolist()) == list(range(len(scores)))):
                    return [int(i) for i in value if not labelled[i]][:batch_size]
        frame = frame.f_back
    return [0] * batch_size


question("lab00.acquire_ranking_first", hint="h")(_as_checker_code("""
    def acquire_ranking_first(*, acquire):
        rng = fresh_rng()
        num_points, batch_size = int(rng.integers(12, 20)), int(rng.integers(2, 5))
        scores = rng.permutation(num_points) + rng.uniform(0.0, 0.5, size=num_points)
        labelled = np.zeros(num_points, dtype=bool)
        top = np.argsort(-scores)
        labelled[top[[0, 2]]] = True
        labelled[rng.choice(top[batch_size + 3:], size=2, replace=False)] = True
        got = np.asarray(acquire(scores.copy(), labelled.copy(), batch_size))
        expected = np.flatnonzero(~labelled)[np.argsort(-scores[~labelled])][:batch_size]
        expect_close("acquire(...)", np.sort(got), np.sort(expected))
""", "acquire_ranking_first"))


def test_reading_the_ranking_passed_the_old_acquire_check_and_fails_the_new_one():
    for _ in range(3):
        assert cb.check("lab00.acquire_ranking_first", acquire=reads_the_ranking).passed
        result = cb.check("lab16.acquire", acquire=reads_the_ranking)
        assert not result.passed and not result.internal_error, result.text()
