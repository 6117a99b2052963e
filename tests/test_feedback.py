"""Feedback that teaches before it tells: hints on request, one-line skips, blame on the right answer."""

import numpy as np
import pytest

import cs109b_bayes as cb
from cs109b_bayes.grading import progress_log


@pytest.fixture(autouse=True)
def fresh_kernel_state(lenient):
    progress_log.reset()
    yield
    progress_log.reset()


def wrong_ols(x, y):
    return np.array([0.0, 1.0])


def right_ols(x, y):
    return np.polyfit(x, y, 1)[::-1]


def test_first_failure_hides_the_hint_and_says_how_to_ask():
    result = cb.check("lab01.ols", fit_ols=wrong_ols)
    text = result.text()
    assert not result.passed
    assert cb.grading.lookup("lab01.ols").hint not in text
    assert 'cb.hint("lab01.ols")' in text
    assert f"CS109B_CHECK_SEED={result.seed}" in text


def test_hint_on_request_then_shown_with_failures():
    shown = cb.hint("lab01.ols")
    assert shown.text == cb.grading.lookup("lab01.ols").hint and "lab01.ols" in repr(shown)
    assert "Hint for" in shown._repr_html_()
    assert cb.grading.lookup("lab01.ols").hint in cb.check("lab01.ols", fit_ols=wrong_ols).text()


def test_hint_shown_after_repeated_failures():
    texts = [cb.check("lab01.ols", fit_ols=wrong_ols).text() for _ in range(progress_log.HINT_AFTER)]
    hint = cb.grading.lookup("lab01.ols").hint
    assert all(hint not in t for t in texts[:-1]) and hint in texts[-1]
    assert cb.grading.failures("lab01.ols") == progress_log.HINT_AFTER


def test_same_seed_reproduces_the_inputs(monkeypatch):
    first = cb.check("lab01.ols", fit_ols=wrong_ols)
    monkeypatch.setenv("CS109B_CHECK_SEED", str(first.seed))
    again = cb.check("lab01.ols", fit_ols=wrong_ols)
    assert again.seed == first.seed and again.message == first.message


def test_ready_skips_with_one_line_until_the_check_passes(capsys):
    assert cb.ready("lab01.ols") is False
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "Question 1 (lab01.ols)" in out[0]
    cb.check("lab01.ols", fit_ols=wrong_ols)
    assert cb.ready("lab01.ols") is False
    capsys.readouterr()
    assert cb.check("lab01.ols", fit_ols=right_ols).passed
    assert cb.ready("lab01.ols") is True
    assert capsys.readouterr().out == ""
    assert cb.ready("lab01.ols", "lab01.resample") is False
    assert "Question 2 (lab01.resample)" in capsys.readouterr().out


def test_ready_errors():
    with pytest.raises(ValueError, match="at least one"):
        cb.ready()
    with pytest.raises(ValueError):
        cb.ready("lab01.no_such_question")


def test_question_labels_follow_the_lab_order():
    ids = cb.grading.registry.lab_order("lab02")
    assert ids[:3] == ["lab02.log_prior", "lab02.log_likelihood", "lab02.log_posterior"]
    assert cb.grading.question_label(ids[2]) == f"Question 3 ({ids[2]})"


def helper_prior(b):
    return -1.0   # the student's wrong earlier answer


def student_posterior(b):
    return helper_prior(b) + 10.0


def test_using_references_swaps_and_restores_globals():
    with cb.grading.using_references(student_posterior, helper_prior=lambda b: 0.0, not_there=1) as names:
        assert student_posterior(0.0) == 10.0
        assert names == ["helper_prior"]
    assert student_posterior(0.0) == 9.0
    assert "not_there" not in globals()
    with pytest.raises(RuntimeError):
        with cb.grading.using_references(student_posterior, helper_prior=lambda b: 0.0):
            raise RuntimeError("inside")
    assert student_posterior(0.0) == 9.0
    with cb.grading.using_references(len, helper_prior=None) as names:   # a builtin: nothing to swap
        assert names == []


def _zero_inputs_and_return_zeros(*arrays):
    shape = None
    for a in arrays:
        if isinstance(a, np.ndarray):
            shape = shape or a.shape
            a[...] = 0.0
    return np.zeros(shape[1:] if len(shape) > 1 else ())


@pytest.mark.parametrize("question, answer, make", [
    ("lab06.coverage", "coverage",
     lambda: (lambda y, mean, sd, num_sd: (_zero_inputs_and_return_zeros(y, mean), 1.0)[1])),
    ("lab07.predictive_split", "predictive_split",
     lambda: (lambda locs, scales: (_zero_inputs_and_return_zeros(locs, scales),) * 4)),
    ("lab12.epistemic_spread", "epistemic_spread",
     lambda: (lambda z_means: _zero_inputs_and_return_zeros(z_means).mean(axis=-1))),
])
def test_writing_into_the_check_inputs_does_not_pass(question, answer, make):
    """The checks pass copies, so an answer that overwrites its inputs cannot move the reference."""
    assert not cb.check(question, **{answer: make()}).passed
