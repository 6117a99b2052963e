"""Every lab follows the conventions, and runs headless (solution and student copy).

The source format and the student notebooks are tested in test_course_source.py.
"""

import re

import nbformat
import pytest

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


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES, ids=LAB_IDS)
def test_solution_runs_fast_and_strict(source, tmp_path):
    run = course.run_lab(source, out_dir=tmp_path, fast=True, strict=True)
    assert run.status == "ok", run.error
    assert run.checks_total >= len(set(_check_ids(source)))
    assert run.checks_passed == run.checks_total
    assert run.seconds < 150, f"fast mode budget is 90 s per lab (CI machine may be slower): {run.seconds:.0f}s"


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES, ids=LAB_IDS)
def test_student_copy_fails_its_checks_cleanly(source, tmp_path):
    run = course.run_lab(source, out_dir=tmp_path, fast=True, strict=False, solution=False)
    assert run.checks_passed == 0, "a blank student copy must not pass any check"
    assert run.checks_total >= 1, "the student copy reaches at least one check"
    notebook = nbformat.read(run.notebook, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "code" or "cb.check(" not in cell.source:
            continue
        for output in cell.outputs:
            if output.output_type == "error":
                # Only a name never defined upstream (a blank answer cell crashed) is acceptable:
                # the checker itself must never crash.
                assert output.ename == "NameError", f"check cell crashed: {output.ename}: {output.evalue}"
            text = output.get("data", {}).get("text/plain", "")
            assert "PASS" not in text
            assert "internal error" not in text, f"a blank answer broke the checker: {text}"
