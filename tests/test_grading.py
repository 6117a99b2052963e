"""The grading core: registry, outcomes, strict mode, logging, student-code errors."""

import json

import numpy as np
import pytest

import cs109b_bayes as cb
from cs109b_bayes import grading
from cs109b_bayes.grading import CheckFailed, expect_close, expect_true


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
