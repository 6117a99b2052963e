"""`check(question_id, **answers)`: run a question's test and report the outcome.

`check` turns the outcome into a `CheckResult`, which shows itself as a green or red box in
Jupyter. There are three outcomes besides a pass: a wrong answer (the test raised
`CheckFailed`), an error raised inside the student's code ("your code raised ..."), and an
error of the checker itself (an internal error: the student is told it is not their fault and
to tell their instructor). In strict mode (`CS109B_STRICT=1`, used by `cs109b-bayes run`,
`grade` and CI) a failed check raises `CheckFailed`, an internal error `CheckerError`. When
`CS109B_CHECK_LOG` names a file, every outcome is appended to it as one JSON line; the lab
runner and the grader count checks that way.
"""

import dataclasses
import html
import json
import os

from cs109b_bayes.grading import progress_log
from cs109b_bayes.grading.blame import misused_answer, student_frame
from cs109b_bayes.grading.expectations import CheckFailed, draw_check_seed, fresh_inputs
from cs109b_bayes.grading.registry import lookup

__all__ = ["CheckResult", "CheckerError", "check", "strict_mode"]

_INTERNAL = "internal error in the check (not your code): please tell your instructor."


class CheckerError(RuntimeError):
    """Raised in strict mode when a question's own checking code fails (not the student's)."""


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The outcome of one `check` call.

    Attributes:
        question: the question id, e.g. `"lab02.log_prior"`.
        passed: True when every test of the question passed.
        message: what was expected and what was found (empty when passed).
        hint: a pointer for a wrong answer (empty when passed or for an internal error).
        seed: the seed of the fresh random inputs, to reproduce a failure.
        internal_error: True when the checker itself failed, not the student's answer.
        show_hint: whether the hint is shown: after `cb.hint(question)` or after
            `progress_log.HINT_AFTER` failed checks; before that the failure says how to ask.
    """

    question: str
    passed: bool
    message: str = ""
    hint: str = ""
    seed: int = 0
    internal_error: bool = False
    show_hint: bool = False

    def __bool__(self):
        return self.passed

    def text(self):
        """The result as plain text, as printed in logs."""
        if self.passed:
            return f"PASS {self.question}"
        if self.internal_error:
            return f"ERROR {self.question}: {_INTERNAL}\n  {self.message}\n  (seed {self.seed})"
        lines = [f"FAIL {self.question}: {self.message}"]
        if self.hint and self.show_hint:
            lines.append(f"  Hint: {self.hint}")
        elif self.hint:
            lines.append(f'  Stuck? cb.hint("{self.question}") shows a hint.')
        lines.append(f"  Random inputs drawn with seed {self.seed}. To check again on the same inputs, run "
                     f"%env CS109B_CHECK_SEED={self.seed} and re-run this cell (%env CS109B_CHECK_SEED= "
                     f"goes back to fresh inputs).")
        return "\n".join(lines)

    def __repr__(self):
        return self.text()

    def _repr_html_(self):
        colour = "#1a7f37" if self.passed else "#9a6700" if self.internal_error else "#cf222e"
        mark = "&#10004;" if self.passed else "&#9888;" if self.internal_error else "&#10008;"
        body = html.escape(self.text()).replace("\n", "<br>")
        return (
            f'<div style="border-left:4px solid {colour};padding:4px 8px;'
            f'font-family:monospace"><b style="color:{colour}">{mark}</b> {body}</div>'
        )


def strict_mode():
    """True when `CS109B_STRICT=1`: failed checks raise instead of showing red.

    Returns:
        A bool.

    #### Examples

    ```python
    import os, cs109b_bayes as cb
    os.environ["CS109B_STRICT"] = "1"
    cb.grading.strict_mode()   # True
    ```
    """
    return os.environ.get("CS109B_STRICT", "0") not in ("", "0", "false", "False")


def _log(result):
    path = os.environ.get("CS109B_CHECK_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(dataclasses.asdict(result)) + "\n")


def _check_answer_names(spec, answers):
    missing = [a for a in spec.answers if a not in answers]
    extra = [a for a in answers if a not in spec.answers]
    if missing or extra:
        raise ValueError(
            f"{spec.id} takes the answers {', '.join(spec.answers)}"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unexpected: {', '.join(extra)}" if extra else "")
        )


def _run(spec, answers, seed):
    """Run the question's test; return `(result, error)`, error being the checker's own."""
    try:
        with fresh_inputs(seed):
            unanswered = [name for name, value in answers.items() if value is Ellipsis]
            if unanswered:
                raise CheckFailed(f"{', '.join(unanswered)} not answered yet (still `...`)")
            spec.test(**answers)
    except CheckFailed as err:
        return CheckResult(spec.id, False, str(err), spec.hint, seed), None
    except Exception as err:  # noqa: BLE001  (the student's code, or the checker, raised)
        misuse = misused_answer(err, answers)
        if misuse:
            return CheckResult(spec.id, False, misuse, spec.hint, seed), None
        frame = student_frame(err)
        if frame is None:
            message = f"{type(err).__name__}: {err}"
            return CheckResult(spec.id, False, message, "", seed, internal_error=True), err
        message = f"your code raised {type(err).__name__}: {err} (in {frame.name}, line {frame.lineno})"
        return CheckResult(spec.id, False, message, spec.hint, seed), None
    return CheckResult(spec.id, True, seed=seed), None


def check(question_id, **answers):
    """Check the answers to one question and show pass or fail with a hint.

    The question's test calls your functions on fresh random inputs and compares
    with a reference, so a correct answer passes whatever the seed and a wrong
    one fails. An exception raised by your code counts as a failed check (with the
    error and the line shown), never as a crash of the checker. An exception raised
    by the checker's own code is shown as an internal error, which is not your fault.

    Args:
        question_id: e.g. `"lab02.log_prior"`.
        **answers: the answers the question asks for, by name.

    Returns:
        A `CheckResult`; it displays as a green or red box in Jupyter.

    Raises:
        TypeError: if `question_id` is not a string.
        ValueError: for an unknown question id, or answers with the wrong names.
        CheckFailed: for a wrong answer in strict mode (`CS109B_STRICT=1`).
        CheckerError: in strict mode, when the checker itself failed.

    #### Examples

    ```python
    import cs109b_bayes as cb

    def fit_ols(x, y):
        return np.polyfit(x, y, 1)[::-1]

    cb.check("lab01.ols", fit_ols=fit_ols)
    ```
    """
    spec = lookup(question_id)
    _check_answer_names(spec, answers)
    result, checker_error = _run(spec, answers, draw_check_seed())
    if not result.internal_error:
        progress_log.record(spec.id, result.passed)
        if not result.passed and progress_log.hint_unlocked(spec.id):
            result = dataclasses.replace(result, show_hint=True)
    _log(result)
    if not result.passed and strict_mode():
        if result.internal_error:
            raise CheckerError(result.text()) from checker_error
        raise CheckFailed(result.text())
    return result
