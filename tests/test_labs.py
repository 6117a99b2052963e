"""Every lab follows the conventions, and runs headless (solution and student copy).

The source format and the student notebooks are tested in test_course_source.py.
"""

import importlib
import re

import nbformat
import pytest

import cs109b_bayes as cb
from cs109b_bayes import course, grading

SOURCES = course.find_labs()
LAB_IDS = [p.stem for p in SOURCES]


def _check_ids(source):
    return re.findall(r"cb\.check\(\s*\"(lab\d\d\.\w+)\"", source.read_text())


@pytest.mark.parametrize("source", SOURCES, ids=LAB_IDS)
def test_lab_source_follows_the_conventions(source):
    text = source.read_text()
    notebook = course.make_notebook(source)
    first = notebook.cells[0].source
    assert first.startswith("# Lab " + source.stem[:2]), "the first cell is the lab's title"
    for part in ("Goal", "Slide", "Expected figure"):
        assert part in first, f"the opening cell states the {part}"
    assert any(c.cell_type == "markdown" and c.source.startswith("## Summary") for c in notebook.cells[-2:])
    assert "cb.fast_mode()" in text, "a parameters cell uses cb.fast_mode()"
    ids = _check_ids(source)
    assert ids, "the lab has autograded questions"
    registered = grading.questions(f"lab{source.stem[:2]}")
    assert set(ids) <= set(registered), f"unknown question ids {set(ids) - set(registered)}"
    assert set(registered) <= set(ids), f"questions never asked: {set(registered) - set(ids)}"
    imports = re.findall(r"^(?:from|import) (\w+)", text, flags=re.M)
    assert set(imports) <= {"cs109b_bayes", "numpy", "matplotlib", "tensorflow", "tensorflow_probability",
                            "tf_keras", "scipy", "time"}, "labs import the package, not copies of it"


def _code_outputs(notebook):
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            for output in cell.outputs:
                yield index, cell, output


def _output_text(output):
    if output.output_type == "stream":
        return output.get("text", "")
    return output.get("data", {}).get("text/plain", "")


def _assert_clean(notebook):
    """No cell shows a traceback; no TensorFlow/XLA/CUDA log line or download message anywhere."""
    for index, cell, output in _code_outputs(notebook):
        assert output.output_type != "error", (
            f"cell {index} shows a traceback: {output.ename}: {output.evalue}\n{cell.source[:300]}")
        text = _output_text(output)
        assert "Downloading" not in text, f"cell {index} prints a download message"
        for line in text.splitlines():
            assert not cb.quiet.is_log_line(line), f"cell {index} shows a log line: {line}"


def _check_cell_texts(notebook):
    """The text each check cell shows: {question id: text}."""
    shown = {}
    for index, cell, output in _code_outputs(notebook):
        ids = re.findall(r"cb\.check\(\s*\"(lab\d\d\.\w+)\"", cell.source)
        if ids:
            shown.setdefault(ids[0], "")
            shown[ids[0]] += _output_text(output)
    return shown


def _assert_hints_hidden(notebook, lab):
    hints = [grading.lookup(q).hint for q in grading.questions(lab) if grading.lookup(q).hint]
    for index, _, output in _code_outputs(notebook):
        text = _output_text(output)
        for hint in hints:
            assert hint not in text, f"cell {index} shows a hint before it was asked for: {hint[:60]}"


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES, ids=LAB_IDS)
def test_solution_runs_fast_and_strict(source, tmp_path):
    run = course.run_lab(source, out_dir=tmp_path, fast=True, strict=True)
    assert run.status == "ok", run.error
    assert run.checks_total >= len(set(_check_ids(source)))
    assert run.checks_passed == run.checks_total
    assert run.seconds < 150, f"fast mode budget is 90 s per lab (CI machine may be slower): {run.seconds:.0f}s"
    _assert_clean(nbformat.read(run.notebook, as_version=4))


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES, ids=LAB_IDS)
def test_blank_student_copy_fails_each_check_with_one_message(source, tmp_path):
    """(a) Blank: every check says "not answered yet"; no cell shows a traceback."""
    run = course.run_lab(source, out_dir=tmp_path, fast=True, strict=False, solution=False)
    assert run.checks_passed == 0, "a blank student copy must not pass any check"
    notebook = nbformat.read(run.notebook, as_version=4)
    shown = _check_cell_texts(notebook)
    assert set(shown) == set(_check_ids(source)), "every check cell ran and showed its result"
    for question, text in shown.items():
        assert "FAIL" in text and "not answered yet" in text, f"{question}: {text[:300]}"
        assert "internal error" not in text, f"a blank answer broke the checker: {text}"
    _assert_clean(notebook)
    _assert_hints_hidden(notebook, "lab" + source.stem[:2])


def _with_wrong_answers(source):
    """The student copy with each answer cell replaced by its typical wrong answer."""
    module = importlib.import_module(f"student_answers.lab{source.stem[:2]}")   # tests/ is on sys.path
    notebook = course.make_notebook(source, solution=False)
    used = set()
    for cell in notebook.cells:
        if cell.cell_type != "code" or "YOUR CODE HERE" not in cell.source:
            continue
        keys = [key for key in module.WRONG if key in cell.source]
        assert len(keys) == 1, f"answer cell needs exactly one WRONG entry, found {keys}:\n{cell.source}"
        cell.source = module.WRONG[keys[0]]
        used.add(keys[0])
    assert used == set(module.WRONG), f"WRONG entries matching no answer cell: {set(module.WRONG) - used}"
    return notebook


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES, ids=LAB_IDS)
def test_typical_wrong_answers_fail_with_feedback_and_no_tracebacks(source, tmp_path):
    """(b) One typical wrong answer per question: each check fails and says why; nothing cascades."""
    notebook = _with_wrong_answers(source)
    error, checks, _ = course.run_notebook(notebook, out_path=tmp_path / f"{source.stem}_wrong.ipynb",
                                           env={"CS109B_FAST": "1", "CS109B_STRICT": "0"}, allow_errors=True)
    assert not error, error
    assert not [c["question"] for c in checks if c["passed"]], "a typical wrong answer passed its check"
    shown = _check_cell_texts(notebook)
    assert set(shown) == set(_check_ids(source))
    for question, text in shown.items():
        assert "FAIL" in text and "not answered yet" not in text, f"{question}: {text[:300]}"
        assert "internal error" not in text, f"{question}: the checker broke on a wrong answer: {text}"
    _assert_clean(notebook)
    _assert_hints_hidden(notebook, "lab" + source.stem[:2])
