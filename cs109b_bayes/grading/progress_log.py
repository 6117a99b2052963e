"""What the student has done so far in this kernel: passed questions, failures, hints asked for.

`check` records every outcome here. Three things use it:

* hints: a question's hint (which may reveal the formula) is shown only when the student asks
  (`cb.hint("lab02.log_prior")`) or after `HINT_AFTER` failed checks of that question;
* `cb.ready("lab02.log_posterior")`: cells that need an earlier answer run only when its check
  passed, and otherwise print one line naming the question to finish instead of a traceback;
* the number of a question in its lab ("Question 3"), for those messages.

The state lives in this process only (one kernel, one student); nothing is written to disk.

#### Examples

```python
import cs109b_bayes as cb
if cb.ready("lab02.log_posterior"):
    result = cb.metropolis(log_posterior, ...)
cb.hint("lab02.log_prior")
```
"""

import dataclasses
import html

from cs109b_bayes.grading.registry import lab_order, lookup

__all__ = ["HINT_AFTER", "Hint", "failures", "hint", "hint_unlocked", "passed", "question_label", "ready", "record",
           "reset"]

#: Failed checks of one question after which its hint is shown without being asked for.
HINT_AFTER = 3

_PASSED = set()
_FAILURES = {}
_HINTS_ASKED = set()


def record(question_id, passed):
    """Record the outcome of one check of `question_id` (called by `check`).

    Args:
        question_id: e.g. `"lab02.log_prior"`.
        passed: whether the check passed.

    Returns:
        The number of failed checks of this question so far.

    #### Examples

    ```python
    from cs109b_bayes.grading import progress_log
    progress_log.record("lab01.ols", True)
    ```
    """
    if passed:
        _PASSED.add(question_id)
    else:
        _PASSED.discard(question_id)
        _FAILURES[question_id] = _FAILURES.get(question_id, 0) + 1
    return _FAILURES.get(question_id, 0)


def passed(question_id):
    """True when the last check of `question_id` in this kernel passed.

    #### Examples

    ```python
    cb.grading.passed("lab01.ols")
    ```
    """
    return question_id in _PASSED


def failures(question_id):
    """How many checks of `question_id` failed in this kernel.

    #### Examples

    ```python
    cb.grading.failures("lab01.ols")   # 0
    ```
    """
    return _FAILURES.get(question_id, 0)


def hint_unlocked(question_id):
    """True when the hint of `question_id` may be shown with a failure (asked for, or failed often).

    #### Examples

    ```python
    cb.grading.hint_unlocked("lab02.log_prior")   # False at first
    ```
    """
    return question_id in _HINTS_ASKED or failures(question_id) >= HINT_AFTER


def reset():
    """Forget every outcome (a fresh kernel's state; used by tests).

    #### Examples

    ```python
    cb.grading.progress_log.reset()
    ```
    """
    _PASSED.clear()
    _FAILURES.clear()
    _HINTS_ASKED.clear()


def question_label(question_id):
    """`"Question 3 (lab02.log_posterior)"`: the question's number in its lab, and its id.

    The number is the question's position among its lab's questions, which the labs number
    in the same order.

    Args:
        question_id: a registered question id.

    Returns:
        A string.

    Raises:
        ValueError: for an unknown question id.

    #### Examples

    ```python
    cb.grading.question_label("lab02.log_posterior")   # 'Question 3 (lab02.log_posterior)'
    ```
    """
    lookup(question_id)
    lab = question_id.partition(".")[0]
    ids = lab_order(lab)
    return f"Question {ids.index(question_id) + 1} ({question_id})"


@dataclasses.dataclass(frozen=True)
class Hint:
    """A question's hint; shows itself as a note in Jupyter."""

    question: str
    text: str

    def __repr__(self):
        return f"Hint for {self.question}: {self.text}"

    def _repr_html_(self):
        return (f'<div style="border-left:4px solid #0969da;padding:4px 8px"><b>Hint for '
                f'{html.escape(self.question)}:</b> {html.escape(self.text)}</div>')


def hint(question_id):
    """The hint of a question; from now on it is also shown with that question's failures.

    Args:
        question_id: e.g. `"lab02.log_prior"`.

    Returns:
        A `Hint` (displays itself in Jupyter).

    Raises:
        ValueError: for an unknown question id.

    #### Examples

    ```python
    cb.hint("lab02.log_prior")
    ```
    """
    spec = lookup(question_id)
    _HINTS_ASKED.add(question_id)
    return Hint(question_id, spec.hint or "no hint for this question: re-read its prompt.")


def ready(*question_ids):
    """True when every listed question's check passed in this kernel; else one line and False.

    Put the work that needs earlier answers under `if cb.ready(...):`, so a blank or failing
    answer skips the cell with one line naming the question to finish, instead of a
    traceback (and no figure is drawn from an unanswered model).

    Args:
        *question_ids: the questions this cell needs.

    Returns:
        A bool.

    Raises:
        ValueError: for an unknown question id, or none given.

    #### Examples

    ```python
    if cb.ready("lab02.log_prior", "lab02.log_likelihood"):
        print(log_posterior(7.0, 0.05))
    ```
    """
    if not question_ids:
        raise ValueError("ready() needs at least one question id")
    missing = [qid for qid in question_ids if not passed(lookup(qid).id)]
    if missing:
        names = ", ".join(question_label(qid) for qid in missing)
        print(f"Skipped: finish {names} first (run its check cell until it passes); "
              f"this cell needs {'it' if len(missing) == 1 else 'them'}.")
        return False
    return True
