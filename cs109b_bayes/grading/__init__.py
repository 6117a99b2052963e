"""Autograded questions: `check(question_id, **answers)` and the question registry.

A question is a plain function registered with `@question(...)` in
`cs109b_bayes/questions/labNN.py`. It receives the student's answers as keyword
arguments and tests their *behaviour*: it calls the student's function on fresh
random inputs and compares with a reference (scipy, a closed form, TFP), or
compares a statistic with a tolerance derived from its Monte Carlo standard
error. It signals a wrong answer by raising `CheckFailed` (the `expect_*`
helpers do that with an expected-vs-got message).

The modules, one job each:

* `registry`: `question`, `questions`, `lookup`, `Question`.
* `expectations`: what a test asserts (`expect_close`, `expect_true`, `expect_answered`,
  `answer_array`, `CheckFailed`) and its fresh random inputs (`fresh_rng`).
* `blame`: whether an error was raised in the student's code or in the checker's.
* `checking`: `check`, `CheckResult`, `strict_mode`, the check log (`CS109B_CHECK_LOG`).
* `progress_log`: what passed in this kernel, hints on request (`hint`), `ready` guards.
* `references`: `using_references`, to judge one answer with reference versions of earlier ones.

The grader's side (`cs109b-bayes grade`), where the score is decided outside the student's process:

* `probe`: `record_question` (inside the sandbox) and `replay_question` (in the grader), `Outcome`.
* `serialize`, `recording`, `effects`: the safe data a recording holds, its files (read without
  trusting them), and the state changes and gradients of an answer's calls.
* `flags`: `check_notebook`, answers that call the package's own solution (`LIBRARY_SOLUTIONS`)
  and suspicious code.

#### Examples

```python
import cs109b_bayes as cb
cb.check("lab01.ols", fit_ols=lambda x, y: np.polyfit(x, y, 1)[::-1])
```
"""

from cs109b_bayes.grading.checking import CheckerError, CheckResult, check, strict_mode
from cs109b_bayes.grading.expectations import (
    CheckFailed,
    answer_array,
    draw_check_seed,
    expect_answered,
    expect_close,
    expect_true,
    fresh_inputs,
    fresh_rng,
)
from cs109b_bayes.grading.flags import LIBRARY_SOLUTIONS, Flags, check_notebook
from cs109b_bayes.grading.probe import Outcome, record_question, replay_question
from cs109b_bayes.grading.progress_log import Hint, failures, hint, hint_unlocked, passed, question_label, ready
from cs109b_bayes.grading.references import using_references
from cs109b_bayes.grading.registry import Question, lookup, question, questions

__all__ = [
    "CheckFailed",
    "CheckResult",
    "CheckerError",
    "Flags",
    "Hint",
    "LIBRARY_SOLUTIONS",
    "Outcome",
    "Question",
    "answer_array",
    "check",
    "check_notebook",
    "draw_check_seed",
    "expect_answered",
    "expect_close",
    "expect_true",
    "failures",
    "fresh_inputs",
    "fresh_rng",
    "hint",
    "hint_unlocked",
    "lookup",
    "passed",
    "question",
    "question_label",
    "questions",
    "ready",
    "record_question",
    "replay_question",
    "strict_mode",
    "using_references",
]
