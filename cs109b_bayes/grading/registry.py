"""The question registry: `@question` registers a test, `lookup` and `questions` find them.

A question is a plain function in `cs109b_bayes/questions/labNN.py`, registered with
`@question("labNN.name", hint=...)`. Its keyword-only parameters name the answers a student
passes to `check`. The module of a lab is imported on first use, so `check("lab02.x", ...)`
needs no import of `cs109b_bayes.questions.lab02`.
"""

import dataclasses
import importlib
import inspect
import pkgutil

__all__ = ["Question", "lab_order", "lookup", "question", "questions"]

_REGISTRY = {}
_QUESTIONS_PACKAGE = "cs109b_bayes.questions"


@dataclasses.dataclass(frozen=True)
class Question:
    """A registered question.

    Attributes:
        id: the question id, e.g. `"lab02.log_prior"`.
        answers: the names of the answers `check` takes (the test's keyword-only parameters).
        test: the function that raises `CheckFailed` for a wrong answer.
        hint: shown with a failure (may be empty).
    """

    id: str
    answers: tuple
    test: object
    hint: str


def question(question_id, *, hint=""):
    """Register the decorated function as the test of question `question_id`.

    The function's keyword-only parameters name the answers a student passes to
    `check`; it raises `CheckFailed` when an answer is wrong.

    Args:
        question_id: `"labNN.name"`; the lab prefix must match the module
            `cs109b_bayes.questions.labNN` that defines it.
        hint: shown with a failure. Default value: `""`.

    Returns:
        The decorator; it returns the test unchanged.

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
    lab, _, name = str(question_id).partition(".")
    if not (isinstance(question_id, str) and lab.startswith("lab") and lab[3:].isdigit() and name):
        raise ValueError(f"question_id must look like 'lab02.name', got {question_id!r}")

    def register(test):
        if question_id in _REGISTRY:
            raise ValueError(f"question {question_id!r} is registered twice")
        _REGISTRY[question_id] = Question(question_id, _answer_names(test), test, hint)
        return test

    return register


def _answer_names(test):
    params = inspect.signature(test).parameters.values()
    return tuple(p.name for p in params if p.kind is p.KEYWORD_ONLY)


def _load_lab(lab):
    if not (lab.startswith("lab") and lab[3:].isdigit()):
        return  # not a lab prefix: no module to load
    try:
        importlib.import_module(f"{_QUESTIONS_PACKAGE}.{lab}")
    except ModuleNotFoundError as err:
        if err.name != f"{_QUESTIONS_PACKAGE}.{lab}":
            raise


def questions(lab=None):
    """The registered question ids, for one lab (`"lab02"`) or all labs.

    Args:
        lab: a lab prefix such as `"lab02"`, or None for every lab. Default value: None.

    Returns:
        A sorted list of question ids (empty for a lab without questions).

    #### Examples

    ```python
    import cs109b_bayes as cb
    cb.grading.questions("lab01")   # ['lab01.interval', 'lab01.ols', ...]
    ```
    """
    if lab is None:
        package = importlib.import_module(_QUESTIONS_PACKAGE)
        for module in sorted(m.name for m in pkgutil.iter_modules(package.__path__)):
            if module.startswith("lab"):
                _load_lab(module)
        return sorted(_REGISTRY)
    _load_lab(lab)
    return sorted(q for q in _REGISTRY if q.startswith(lab + "."))


def lab_order(lab):
    """A lab's question ids in the order its module defines them (the order the lab asks them).

    Args:
        lab: a lab prefix such as `"lab02"`.

    Returns:
        A list of question ids.

    #### Examples

    ```python
    cb.grading.registry.lab_order("lab01")   # ['lab01.ols', 'lab01.resample', ...]
    ```
    """
    _load_lab(lab)
    return [q for q in _REGISTRY if q.startswith(lab + ".")]


def lookup(question_id):
    """The `Question` registered as `question_id`, importing its lab's module on first use.

    Args:
        question_id: e.g. `"lab02.log_prior"`.

    Returns:
        A `Question`.

    Raises:
        TypeError: if `question_id` is not a string.
        ValueError: for an unknown question, listing the lab's questions.

    #### Examples

    ```python
    from cs109b_bayes.grading import lookup
    lookup("lab01.ols").answers   # ('fit_ols',)
    ```
    """
    if not isinstance(question_id, str):
        raise TypeError(f"question_id must be a string like 'lab02.log_prior', got {question_id!r}")
    lab = question_id.partition(".")[0]
    _load_lab(lab)
    if question_id not in _REGISTRY:
        known = sorted(q for q in _REGISTRY if q.startswith(lab + "."))
        raise ValueError(
            f"unknown question {question_id!r}; "
            + (f"questions of {lab}: {', '.join(known)}" if known else "no lab by that prefix")
        )
    return _REGISTRY[question_id]
