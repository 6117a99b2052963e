"""The grading core: registry, outcomes, strict mode, logging, student-code vs checker errors."""

import json
import pathlib
import textwrap

import numpy as np
import pytest

import cs109b_bayes as cb
from cs109b_bayes import grading
from cs109b_bayes.grading import CheckFailed, expect_close, expect_true, question
from cs109b_bayes.grading.blame import is_library_file, student_frame

QUESTIONS_DIR = pathlib.Path(cb.__file__).parent / "questions"


def _as_checker_code(source, name):
    """Define a function as if it lived in cs109b_bayes/questions/ (checker code, not a student's)."""
    namespace = {"np": np}
    exec(compile(textwrap.dedent(source), str(QUESTIONS_DIR / "lab00_test_only.py"), "exec"), namespace)
    return namespace[name]


# Test-only questions under the prefix lab00 (no lab has that number).
question("lab00.checker_bug", hint="never shown")(_as_checker_code("""
    def checker_bug(*, answer):
        answer(1.0)                                   # the student's code runs fine ...
        return np.linalg.inv(np.zeros((2, 2)))        # ... then the reference code fails
""", "checker_bug"))

question("lab00.closure", hint="h")(_as_checker_code("""
    def closure(*, make_fn):
        fn = make_fn(2.0)
        fn(0.0)
""", "closure"))

question("lab00.callback", hint="h")(_as_checker_code("""
    def callback(*, row_fn):
        np.apply_along_axis(row_fn, 1, np.ones((2, 3)))   # numpy calls the student's function
""", "callback"))


def fit_ols(x, y):
    return np.polyfit(x, y, 1)[::-1]


def test_correct_answer_passes(lenient):
    result = cb.check("lab01.ols", fit_ols=fit_ols)
    assert result.passed and bool(result)
    assert "PASS lab01.ols" in repr(result)
    assert "&#10004;" in result._repr_html_()


def test_wrong_answer_fails_with_expected_got_and_hint(lenient):
    result = cb.check("lab01.ols", fit_ols=lambda x, y: np.polyfit(x, y, 1))   # order swapped
    assert not result.passed
    assert "expected" in result.message and "got" in result.message
    assert "intercept, slope" in result.hint
    assert "seed" in result.text()
    assert "&#10008;" in result._repr_html_()


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("CS109B_STRICT", "1")
    assert grading.strict_mode()
    with pytest.raises(CheckFailed, match="FAIL lab01.ols"):
        cb.check("lab01.ols", fit_ols=lambda x, y: (0.0, 0.0))
    assert cb.check("lab01.ols", fit_ols=fit_ols).passed   # correct answers still pass


def test_unanswered_and_crashing_answers_fail_cleanly(lenient):
    assert "not answered" in cb.check("lab01.ols", fit_ols=...).message

    def returns_none(x, y):
        ...

    assert "not answered" in cb.check("lab01.ols", fit_ols=returns_none).message

    def crashes(x, y):
        raise ZeroDivisionError("boom")

    result = cb.check("lab01.ols", fit_ols=crashes)
    assert not result.passed and "ZeroDivisionError: boom" in result.message


def test_unknown_question_and_wrong_answer_names():
    with pytest.raises(ValueError, match="unknown question 'lab01.nope'.*lab01.ols"):
        cb.check("lab01.nope", fit_ols=fit_ols)
    with pytest.raises(ValueError, match="no lab by that prefix"):
        cb.check("lab99.q1", x=1)
    with pytest.raises(ValueError, match="missing: fit_ols"):
        cb.check("lab01.ols", fit=fit_ols)
    with pytest.raises(TypeError, match="string"):
        cb.check(3, fit_ols=fit_ols)


def test_check_log_records_outcomes(lenient, monkeypatch, tmp_path):
    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv("CS109B_CHECK_LOG", str(log))
    cb.check("lab01.ols", fit_ols=fit_ols)
    cb.check("lab01.ols", fit_ols=lambda x, y: (0.0, 0.0))
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["question"], r["passed"]) for r in lines] == [("lab01.ols", True), ("lab01.ols", False)]


def test_fixed_check_seed_reproduces_inputs(lenient, monkeypatch):
    monkeypatch.setenv("CS109B_CHECK_SEED", "123")
    seen = []

    def spy(x, y):
        seen.append(x[0])
        return fit_ols(x, y)

    cb.check("lab01.ols", fit_ols=spy)
    cb.check("lab01.ols", fit_ols=spy)
    assert seen[0] == seen[len(seen) // 2]
    assert cb.check("lab01.ols", fit_ols=fit_ols).seed == 123


def test_question_registry():
    assert "lab01.ols" in grading.questions("lab01")
    assert set(grading.questions("lab01")) <= set(grading.questions())
    with pytest.raises(ValueError, match="look like"):
        grading.question("q1")
    with pytest.raises(ValueError, match="twice"):
        grading.question("lab01.ols")(lambda *, fit_ols: None)


def test_expect_close_messages():
    expect_close("x", [1.0, 2.0], [1.0, 2.0])
    with pytest.raises(CheckFailed, match="expected 2, got 3"):
        expect_close("x", 3.0, 2.0)
    with pytest.raises(CheckFailed, match="shape"):
        expect_close("x", [1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(CheckFailed, match="shape"):
        expect_close("x", 1.0, [1.0, 1.0])          # a scalar is not an array of equal values
    expect_close("x", [[1.0], [2.0]], [1.0, 2.0])   # singleton axes are forgiven
    with pytest.raises(CheckFailed, match="number or array"):
        expect_close("x", "abc", 1.0)
    with pytest.raises(CheckFailed, match="not answered"):
        expect_close("x", None, 1.0)
    with pytest.raises(CheckFailed, match="too big"):
        expect_true(False, "too big")


def test_expect_answered():
    assert grading.expect_answered("f(x)", 3.0) == 3.0
    for blank in (None, ...):
        with pytest.raises(CheckFailed, match="not answered"):
            grading.expect_answered("f(x)", blank)


def test_answer_array():
    import tensorflow as tf

    np.testing.assert_array_equal(grading.answer_array("f(x)", tf.constant([1.0, 2.0])), [1.0, 2.0])
    assert grading.answer_array("f(x)", 3).dtype == float
    for blank in (None, ...):
        with pytest.raises(CheckFailed, match="f\\(x\\) returned .*not answered"):
            grading.answer_array("f(x)", blank)


def test_is_library_file():
    assert is_library_file(np.__file__) and is_library_file(grading.__file__)
    assert is_library_file(str(QUESTIONS_DIR / "lab01.py"))
    assert is_library_file("<frozen importlib._bootstrap>")
    for student in (__file__, "/tmp/ipykernel_123/2414186843.py", "<ipython-input-3-abc>", "<string>"):
        assert not is_library_file(student), student


# Runs fn(*args) and returns what it raised: the traceback then starts in checker code, as in `check`.
_catch = _as_checker_code("""
    def catch(fn, *args):
        try:
            fn(*args)
        except Exception as err:
            return err
""", "catch")


def test_student_frame_finds_the_students_line():
    def answer(x):
        return 1 / x

    frame = student_frame(_catch(answer, 0))
    assert frame.name == "answer" and frame.line == "return 1 / x"
    assert student_frame(_catch(np.linalg.inv, np.zeros((2, 2)))) is None


def test_student_frame_follows_chained_errors():
    def callback():
        raise KeyError("inner")

    rethrow = _as_checker_code("""
        def rethrow(callback):
            try:
                callback()
            except KeyError as inner:
                raise RuntimeError("wrapped") from inner
    """, "rethrow")
    error = _catch(rethrow, callback)
    assert isinstance(error, RuntimeError) and student_frame(error).name == "callback"
    assert student_frame(_catch(rethrow, _as_checker_code("def lib():\n    raise KeyError(1)", "lib"))) is None


def test_a_checker_error_is_not_blamed_on_the_student(lenient):
    result = cb.check("lab00.checker_bug", answer=lambda x: x)
    assert not result.passed and result.internal_error
    assert "LinAlgError" in result.message and "your code" not in result.message
    assert "internal error in the check (not your code): please tell your instructor" in result.text()
    assert result.hint == "" and "&#9888;" in result._repr_html_()


def test_strict_mode_raises_checker_error_not_check_failed(monkeypatch):
    monkeypatch.setenv("CS109B_STRICT", "1")
    with pytest.raises(grading.CheckerError, match="internal error") as raised:
        cb.check("lab00.checker_bug", answer=lambda x: x)
    assert not isinstance(raised.value, CheckFailed)
    assert isinstance(raised.value.__cause__, np.linalg.LinAlgError)


def test_errors_in_student_code_reached_through_closures_and_libraries(lenient):
    def make_fn(scale):
        def fn(x):
            return scale / x

        return fn

    result = cb.check("lab00.closure", make_fn=make_fn)
    assert not result.internal_error and "your code raised ZeroDivisionError" in result.message
    assert "(in fn, line" in result.message and result.hint == "h"

    def row_fn(row):
        raise ValueError("bad row")

    result = cb.check("lab00.callback", row_fn=row_fn)
    assert not result.internal_error and "your code raised ValueError: bad row (in row_fn" in result.message


def test_an_answer_that_should_be_a_function(lenient):
    result = cb.check("lab01.ols", fit_ols=3)
    assert not result.internal_error and "fit_ols should be a function, got int" in result.message


def test_an_answer_with_the_wrong_parameters_is_the_students(lenient, monkeypatch):
    result = cb.check("lab01.ols", fit_ols=lambda x: x)
    assert not result.internal_error and result.hint
    assert "fit_ols cannot be called the way the question says" in result.message
    assert "takes 1 positional argument but 2 were given" in result.message

    def make_fn(scale):
        def fn(x, y):
            return scale

        return fn

    result = cb.check("lab00.closure", make_fn=make_fn)   # the returned closure has the wrong parameters
    assert not result.internal_error and "make_fn cannot be called" in result.message
    monkeypatch.setenv("CS109B_STRICT", "1")
    with pytest.raises(CheckFailed, match="missing 1 required positional argument"):
        cb.check("lab00.closure", make_fn=make_fn)


def test_check_log_records_internal_errors(lenient, monkeypatch, tmp_path):
    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv("CS109B_CHECK_LOG", str(log))
    cb.check("lab00.checker_bug", answer=lambda x: x)
    [record] = [json.loads(line) for line in log.read_text().splitlines()]
    assert record["question"] == "lab00.checker_bug" and record["internal_error"] and not record["passed"]


def test_bad_check_seed_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("CS109B_CHECK_SEED", "abc")
    with pytest.raises(ValueError, match="CS109B_CHECK_SEED must be an integer"):
        cb.check("lab01.ols", fit_ols=fit_ols)


def test_fresh_inputs_fix_the_numbers():
    with grading.fresh_inputs(5):
        first = grading.fresh_rng().normal(size=3)
    with grading.fresh_inputs(5):
        again = grading.fresh_rng().normal(size=3)
    np.testing.assert_array_equal(first, again)
    with pytest.raises(TypeError, match="seed must be an int"):
        with grading.fresh_inputs(0.5):
            pass


def test_lookup_is_public():
    spec = grading.lookup("lab01.ols")
    assert spec.id == "lab01.ols" and spec.answers == ("fit_ols",) and "intercept" in spec.hint


def _blank(*args, **kwargs):
    """What a student's unanswered function cell returns: None."""


def test_blank_answers_are_never_internal_errors(lenient):
    """Every question reports a blank answer as the student's, never as a broken checker."""
    for question_id in grading.questions():
        if question_id.startswith("lab00."):
            continue
        spec = grading.lookup(question_id)
        for blank in (_blank, ...):
            result = cb.check(question_id, **{name: blank for name in spec.answers})
            assert not result.passed, question_id
            assert not result.internal_error, f"{question_id}: {result.message}"
