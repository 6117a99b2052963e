"""Lab sources, generated student copies, and every lab run headless (solution and student)."""

import json
import re

import nbformat
import pytest

from cs109b_bayes import grading, labs

SOURCES = labs.find_labs()
LAB_IDS = [p.stem for p in SOURCES]

SOURCE_TEXT = '''# %% [markdown]
# # Lab 99 - demo
# Question: why?
# BEGIN SOLUTION
# Because.
# END SOLUTION

# %%
import cs109b_bayes as cb

# %%
def square(x):
    # BEGIN SOLUTION
    y = x * x
    return y
    # END SOLUTION

answer = 42  # SOLUTION
'''


def test_source_to_solution_and_student(tmp_path):
    source = tmp_path / "99_demo.py"
    source.write_text(SOURCE_TEXT)
    solution = labs.make_notebook(source, solution=True)
    student = labs.make_notebook(source, solution=False)
    assert [c.cell_type for c in solution.cells] == ["markdown", "code", "code"]
    assert "Because." in solution.cells[0].source and "SOLUTION" not in solution.cells[0].source
    assert "*Your answer here.*" in student.cells[0].source and "Because" not in student.cells[0].source
    assert "y = x * x" in solution.cells[2].source and "answer = 42" in solution.cells[2].source
    assert "# SOLUTION" not in solution.cells[2].source
    code = student.cells[2].source
    assert "x * x" not in code and "42" not in code
    assert "    ...  # YOUR CODE HERE" in code and "answer = ...  # YOUR CODE HERE" in code
    compile(code, "student", "exec")   # the blanked code is still valid Python
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")


@pytest.mark.parametrize("text, match", [
    ("print(1)\n# %%\nx = 1\n", "before the first"),
    ("# %%\ndef f():\n    # BEGIN SOLUTION\n    return 1\n", "without '# END SOLUTION'"),
    ("# %% [markdown]\n# BEGIN SOLUTION\n# hidden\n", "without 'END SOLUTION'"),
])
def test_malformed_sources(tmp_path, text, match):
    source = tmp_path / "98_bad.py"
    source.write_text(text)
    with pytest.raises(ValueError, match=match):
        labs.make_notebook(source, solution=False)


def test_resolve_labs_by_number_and_stem():
    assert labs.resolve_labs(["1"]) == labs.resolve_labs(["01"]) == labs.resolve_labs(["01_bootstrap"])
    assert labs.resolve_labs(["labs/01_bootstrap.ipynb"])[0].stem == "01_bootstrap"
    assert labs.resolve_labs([]) == SOURCES
    with pytest.raises(ValueError, match="unknown lab '77'.*01_bootstrap"):
        labs.resolve_labs(["77"])


def test_student_notebooks_are_up_to_date_and_clean():
    assert labs.stale_student_notebooks() == [], "run `cs109b-bayes student`"
    for source in SOURCES:
        notebook = nbformat.read(str(source.parent.parent / f"{source.stem}.ipynb"), as_version=4)
        assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")
        assert "BEGIN SOLUTION" not in json.dumps(notebook)


def test_stale_student_notebook_is_detected(tmp_path):
    (tmp_path / "labs" / "source").mkdir(parents=True)
    source = tmp_path / "labs" / "source" / "99_demo.py"
    source.write_text(SOURCE_TEXT)
    assert labs.stale_student_notebooks(tmp_path) == [tmp_path / "labs" / "99_demo.ipynb"]
    labs.write_student_notebooks(tmp_path)
    assert labs.stale_student_notebooks(tmp_path) == []
    source.write_text(SOURCE_TEXT.replace("Lab 99 - demo", "Lab 99 - a demo"))
    assert labs.stale_student_notebooks(tmp_path) == [tmp_path / "labs" / "99_demo.ipynb"]


def _check_ids(source):
    return re.findall(r"cb\.check\(\s*\"(lab\d\d\.\w+)\"", source.read_text())


@pytest.mark.parametrize("source", SOURCES, ids=LAB_IDS)
def test_lab_source_follows_the_conventions(source):
    text = source.read_text()
    notebook = labs.make_notebook(source)
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
    run = labs.run_lab(source, out_dir=tmp_path, fast=True, strict=True)
    assert run.status == "ok", run.error
    assert run.checks_total >= len(set(_check_ids(source)))
    assert run.checks_passed == run.checks_total
    assert run.seconds < 150, f"fast mode budget is 90 s per lab (CI machine may be slower): {run.seconds:.0f}s"


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES, ids=LAB_IDS)
def test_student_copy_fails_its_checks_cleanly(source, tmp_path):
    run = labs.run_lab(source, out_dir=tmp_path, fast=True, strict=False, solution=False)
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
