"""Autograded questions: `check(question_id, **answers)` and the question registry.

A question is a plain function registered with `@question(...)` in
`cs109b_bayes/questions/labNN.py`. It receives the student's answers as keyword
arguments and tests their *behaviour*: it calls the student's function on fresh
random inputs and compares with a reference (scipy, a closed form, TFP), or
compares a statistic with a tolerance derived from its Monte Carlo standard
error. It signals a wrong answer by raising `CheckFailed` (the `expect_*`
helpers below do that with an expected-vs-got message).

`check` turns the outcome into a `CheckResult`, which shows itself as a green or
red box in Jupyter. In strict mode (`CS109B_STRICT=1`, used by `cs109b-bayes
run`, `grade` and CI) a failed check raises `CheckFailed` instead. When the
environment variable `CS109B_CHECK_LOG` names a file, every outcome is appended
to it as one JSON line; the lab runner and the grader count checks that way.
"""

import dataclasses
import html
import importlib
import inspect
import json
import os
import secrets

import numpy as np

__all__ = [
    "CheckFailed",
    "CheckResult",
    "check",
    "answer_array",
    "expect_answered",
    "expect_close",
    "expect_true",
    "fresh_rng",
    "question",
    "questions",
    "strict_mode",
]

_REGISTRY = {}
_ACTIVE_RNG = []  # the generator of the check being run


class CheckFailed(AssertionError):
    """Raised when an answer is wrong (and by `check` in strict mode)."""


@dataclasses.dataclass(frozen=True)
class Question:
    """A registered question: id, the answers it takes, its test and a hint."""

    id: str
    answers: tuple
    test: object
    hint: str


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The outcome of one `check` call.

    Attributes:
        question: the question id, e.g. `"lab02.log_prior"`.
        passed: True when every test of the question passed.
        message: what was expected and what was found (empty when passed).
        hint: a pointer for a wrong answer (empty when passed).
        seed: the seed of the fresh random inputs, to reproduce a failure.
    """

    question: str
    passed: bool
    message: str = ""
    hint: str = ""
    seed: int = 0

    def __bool__(self):
        return self.passed

    def text(self):
        """The result as plain text, as printed in logs."""
        if self.passed:
            return f"PASS {self.question}"
        lines = [f"FAIL {self.question}: {self.message}"]
        if self.hint:
            lines.append(f"  Hint: {self.hint}")
        lines.append(f"  (random inputs drawn with seed {self.seed})")
        return "\n".join(lines)

    def __repr__(self):
        return self.text()

    def _repr_html_(self):
        colour = "#1a7f37" if self.passed else "#cf222e"
        mark = "&#10004;" if self.passed else "&#10008;"
        body = html.escape(self.text()).replace("\n", "<br>")
        return (
            f'<div style="border-left:4px solid {colour};padding:4px 8px;'
            f'font-family:monospace"><b style="color:{colour}">{mark}</b> {body}</div>'
        )


def strict_mode():
    """True when `CS109B_STRICT=1`: failed checks raise instead of showing red.

    #### Examples

    ```python
    import os, cs109b_bayes as cb
    os.environ["CS109B_STRICT"] = "1"
    cb.grading.strict_mode()   # True
    ```
    """
    return os.environ.get("CS109B_STRICT", "0") not in ("", "0", "false", "False")


def question(question_id, *, hint=""):
    """Register the decorated function as the test of question `question_id`.

    The function's keyword-only parameters name the answers a student passes to
    `check`; it raises `CheckFailed` when an answer is wrong.

    Args:
        question_id: `"labNN.name"`; the lab prefix must match the module
            `cs109b_bayes.questions.labNN` that defines it.
        hint: shown with a failure. Default value: `""`.

    Returns:
        The decorator.

    Raises:
        ValueError: if the id is malformed or registered twice.

    #### Examples

    ```python
    from cs109b_bayes.grading import question, expect_close

    @question("lab00.double", hint="Multiply by two.")
    def _double(*, double):
        expect_close("double(3.0)", double(3.0), 6.0)
    ```
    """
    lab, _, name = question_id.partition(".")
    if not (lab.startswith("lab") and lab[3:].isdigit() and name):
        raise ValueError(f"question_id must look like 'lab02.name', got {question_id!r}")

    def register(test):
        if question_id in _REGISTRY:
            raise ValueError(f"question {question_id!r} is registered twice")
        params = inspect.signature(test).parameters.values()
        answers = tuple(p.name for p in params if p.kind is p.KEYWORD_ONLY)
        _REGISTRY[question_id] = Question(question_id, answers, test, hint)
        return test

    return register


def _load_lab(lab):
    try:
        importlib.import_module(f"cs109b_bayes.questions.{lab}")
    except ModuleNotFoundError as err:
        if err.name != f"cs109b_bayes.questions.{lab}":
            raise


def questions(lab=None):
    """The registered question ids, for one lab (`"lab02"`) or all labs.

    Args:
        lab: a lab prefix such as `"lab02"`, or None for every lab. Default value: None.

    Returns:
        A sorted list of question ids.

    #### Examples

    ```python
    import cs109b_bayes as cb
    cb.grading.questions("lab01")   # ['lab01.ols', ...]
    ```
    """
    if lab is None:
        from cs109b_bayes import questions as package

        for path in sorted(os.listdir(os.path.dirname(package.__file__))):
            if path.startswith("lab") and path.endswith(".py"):
                _load_lab(path[:-3])
        return sorted(_REGISTRY)
    _load_lab(lab)
    return sorted(q for q in _REGISTRY if q.startswith(lab + "."))


def _lookup(question_id):
    if not isinstance(question_id, str):
        raise TypeError(f"question_id must be a string like 'lab02.log_prior', got {question_id!r}")
    _load_lab(question_id.partition(".")[0])
    if question_id not in _REGISTRY:
        lab = question_id.partition(".")[0]
        known = [q for q in _REGISTRY if q.startswith(lab + ".")]
        raise ValueError(
            f"unknown question {question_id!r}; "
            + (f"questions of {lab}: {', '.join(sorted(known))}" if known else "no lab by that prefix")
        )
    return _REGISTRY[question_id]


def fresh_rng():
    """The random generator for a check's fresh inputs.

    Each check draws new inputs, so an answer that only works for one seed fails.
    Inside `check` this is the generator of the seed shown with a failure;
    `CS109B_CHECK_SEED` fixes that seed, to reproduce a failure.

    Returns:
        A `numpy.random.Generator`.

    #### Examples

    ```python
    from cs109b_bayes.grading import fresh_rng
    x = fresh_rng().normal(size=5)
    ```
    """
    if _ACTIVE_RNG:
        return _ACTIVE_RNG[-1]
    return np.random.default_rng(_draw_seed())


def _draw_seed():
    return int(os.environ.get("CS109B_CHECK_SEED") or secrets.randbits(31))


def expect_close(what, got, expected, *, rtol=1e-5, atol=1e-8):
    """Raise `CheckFailed` unless `got` matches `expected` elementwise.

    Args:
        what: the expression being tested, shown in the message (`"log_prior(b)"`).
        got: the student's value.
        expected: the reference value.
        rtol: relative tolerance. Default value: `1e-5`.
        atol: absolute tolerance. Default value: `1e-8`.

    Raises:
        CheckFailed: with expected vs got, if the shapes differ, the value is not
            numeric, or any element is outside the tolerance.

    #### Examples

    ```python
    from cs109b_bayes.grading import expect_close
    expect_close("1 + 1", 2.0, 2.0)
    ```
    """
    expected = np.asarray(expected, dtype=float)
    expect_answered(what, got)
    try:
        got_array = np.asarray(getattr(got, "numpy", lambda: got)(), dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be a number or array, got {type(got).__name__}") from None
    if got_array.shape != expected.shape:
        if got_array.squeeze().shape != expected.squeeze().shape:
            raise CheckFailed(f"{what} has shape {got_array.shape}, expected shape {expected.shape}")
        got_array = got_array.reshape(expected.shape)  # only singleton axes differ
    if not np.allclose(got_array, expected, rtol=rtol, atol=atol, equal_nan=False):
        bad = np.argmax(np.abs(got_array - expected) - rtol * np.abs(expected))
        raise CheckFailed(
            f"{what}: expected {_fmt(expected)}, got {_fmt(got_array)}"
            + (f" (first mismatch at flat index {bad})" if expected.size > 1 else "")
        )


def expect_answered(what, value):
    """Return `value`, or raise `CheckFailed` if it is still a blank (`None` or `...`).

    #### Examples

    ```python
    from cs109b_bayes.grading import expect_answered
    got = expect_answered("log_posterior(w)", log_posterior(w))
    ```
    """
    if value is None or value is Ellipsis:
        raise CheckFailed(f"{what} returned {value!r}: not answered yet")
    return value


def answer_array(what, value):
    """The answer as a float numpy array (TensorFlow tensors included); blanks fail.

    Raises:
        CheckFailed: if the answer is still a blank (`None` or `...`).

    #### Examples

    ```python
    from cs109b_bayes.grading import answer_array
    z = answer_array("reparameterize(...)", reparameterize(mu, log_var, eps))
    ```
    """
    value = expect_answered(what, value)
    return np.asarray(getattr(value, "numpy", lambda: value)(), dtype=float)


def expect_true(condition, message):
    """Raise `CheckFailed(message)` unless `condition` holds.

    #### Examples

    ```python
    from cs109b_bayes.grading import expect_true
    expect_true(0.3 < 0.5, "the acceptance rate should be below one half")
    ```
    """
    if not condition:
        raise CheckFailed(message)


def _fmt(array):
    array = np.asarray(array)
    if array.size == 1:
        return f"{array.item():.6g}"
    return np.array2string(array, precision=4, threshold=8)


def _log(result):
    path = os.environ.get("CS109B_CHECK_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(dataclasses.asdict(result)) + "\n")


def check(question_id, **answers):
    """Check the answers to one question and show pass or fail with a hint.

    The question's test calls your functions on fresh random inputs and compares
    with a reference, so a correct answer passes whatever the seed and a wrong
    one fails. Exceptions raised by your code count as a failed check (with the
    error shown), never as a crash of the checker.

    Args:
        question_id: e.g. `"lab02.log_prior"`.
        **answers: the answers the question asks for, by name.

    Returns:
        A `CheckResult`; it displays as a green or red box in Jupyter.

    Raises:
        ValueError: for an unknown question id, or answers with the wrong names.
        CheckFailed: for a wrong answer in strict mode (`CS109B_STRICT=1`).

    #### Examples

    ```python
    import cs109b_bayes as cb

    def fit_ols(x, y):
        return np.polyfit(x, y, 1)[::-1]

    cb.check("lab01.ols", fit_ols=fit_ols)
    ```
    """
    spec = _lookup(question_id)
    missing = [a for a in spec.answers if a not in answers]
    extra = [a for a in answers if a not in spec.answers]
    if missing or extra:
        raise ValueError(
            f"{question_id} takes the answers {', '.join(spec.answers)}"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unexpected: {', '.join(extra)}" if extra else "")
        )
    seed = _draw_seed()
    _ACTIVE_RNG.append(np.random.default_rng(seed))
    try:
        unanswered = [name for name, value in answers.items() if value is Ellipsis]
        if unanswered:
            raise CheckFailed(f"{', '.join(unanswered)} not answered yet (still `...`)")
        spec.test(**answers)
    except CheckFailed as err:
        result = CheckResult(question_id, False, str(err), spec.hint, seed)
    except Exception as err:  # the student's code raised: report it, do not crash
        message = f"your code raised {type(err).__name__}: {err}"
        result = CheckResult(question_id, False, message, spec.hint, seed)
    else:
        result = CheckResult(question_id, True, seed=seed)
    finally:
        _ACTIVE_RNG.pop()
    _log(result)
    if not result.passed and strict_mode():
        raise CheckFailed(result.text())
    return result
