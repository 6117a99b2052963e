"""Grading one submission: the lab is the grader's choice, the score comes from the replay, the
row carries the cause of any trouble; the same batch on threads and on a Dask cluster."""

import csv
import functools
import pathlib

import nbformat
import pytest

from cs109b_bayes import course, grading
from cs109b_bayes.course import grader
from cs109b_bayes.course.batch import grade_batch
from cs109b_bayes.course.sandbox import SandboxWarning, sandbox_kind
from cs109b_bayes.grading.probe import Outcome

LAB01 = grading.questions("lab01")
needs_bwrap = pytest.mark.skipif(sandbox_kind("auto") != "bwrap", reason="bubblewrap does not work here")


def solution(lab="01"):
    return course.make_notebook(course.resolve_labs([lab])[0], solution=True)


def write(notebook, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path


@pytest.mark.parametrize("path, lab, expected", [
    ("a/01_bootstrap.ipynb", None, "lab01"), ("12_x.ipynb", None, "lab12"), ("02.ipynb", None, "lab02"),
    ("bootstrap.ipynb", None, ""), ("1_x.ipynb", None, ""), ("x.ipynb", "2", "lab02"),
    ("01_bootstrap.ipynb", "lab02", "lab02"),
])
def test_the_lab_is_the_graders_choice(path, lab, expected):
    assert grader.lab_of(path, lab) == expected


def test_a_bad_lab_option_is_refused():
    with pytest.raises(ValueError, match="lab number"):
        grader.lab_of("01_x.ipynb", "bootstrap")


def test_graded_notebooks_are_keyed_by_path(tmp_path):
    first = grader.graded_notebook_path(tmp_path / "a" / "01_x.ipynb", tmp_path / "out")
    second = grader.graded_notebook_path(tmp_path / "b" / "01_x.ipynb", tmp_path / "out")
    assert first != second and first.parent == second.parent and first.name.startswith("01_x-")
    assert first == grader.graded_notebook_path(tmp_path / "a" / "." / "01_x.ipynb", tmp_path / "out")


def test_an_unknown_lab_and_an_unreadable_file_never_start_a_sandbox(tmp_path, monkeypatch):
    monkeypatch.setattr(grader, "run_sandboxed", lambda *a, **k: pytest.fail("no sandbox expected"))
    nameless = write(solution(), tmp_path / "mine.ipynb")
    grade = grader.grade_submission(nameless)
    assert grade.status == "error" and "cannot tell the lab" in grade.error and grade.outcomes == {}
    assert grader.grade_submission(write(solution(), tmp_path / "77_x.ipynb")).error == "no questions for lab77"
    broken = tmp_path / "01_broken.ipynb"
    broken.write_text('{"cells": [')
    grade = grader.grade_submission(broken)
    assert grade.status == "unreadable" and grade.error.startswith("unreadable: ")
    assert grade.row() == {**{q: False for q in LAB01}, "score": 0, "status": "unreadable",
                           "error": grade.error, "flags": "", "notes": grade.row()["notes"]}
    assert set(grade.row()) == {*LAB01, "score", "status", "error", *grader.EXTRA_COLUMNS}


def test_a_grade_row_holds_one_mark_per_question_and_the_reasons():
    outcomes = {"lab01.ols": Outcome("lab01.ols", True), "lab01.resample": Outcome(
        "lab01.resample", False, "resample should return\na pair", "failed")}
    grade = grader.Grade(pathlib.Path("01_x.ipynb"), "lab01", outcomes, flags=("cell 3: uses ctypes",))
    assert grade.score == 1
    assert grade.row() == {"lab01.ols": True, "lab01.resample": False, "score": 1, "status": "graded",
                           "error": "", "flags": "cell 3: uses ctypes",
                           "notes": "lab01.resample: resample should return a pair"}


@pytest.mark.slow
def test_a_solution_scores_full_marks_and_its_graded_notebook_is_kept(tmp_path):
    path = write(solution(), tmp_path / "sub" / "01_bootstrap.ipynb")
    grade = grader.grade_submission(path, out_dir=tmp_path / "graded", fast=True)
    assert grade.score == 4 and grade.status == "graded" and grade.error == "" and grade.flags == (), grade
    executed = nbformat.read(str(grade.graded_notebook), as_version=4)
    assert grade.graded_notebook == grader.graded_notebook_path(path, tmp_path / "graded")
    assert any(cell.get("outputs") for cell in executed.cells)


@pytest.mark.slow
def test_without_bubblewrap_grading_warns_once_and_still_scores(tmp_path):
    path = write(solution(), tmp_path / "01_bootstrap.ipynb")
    with pytest.warns(SandboxWarning, match="WITHOUT file-system or network isolation"):
        grade = grader.grade_submission(path, out_dir=tmp_path / "graded", fast=True, sandbox="none")
    assert grade.score == 4 and grade.status == "graded", grade


def first_cell_fails():
    notebook = solution()
    notebook.cells.insert(1, nbformat.v4.new_code_cell("1 / 0"))
    return notebook


def library_resample():
    notebook = solution()
    notebook.cells.append(nbformat.v4.new_code_cell(
        "def resample(x, y, rng):\n"
        "    draws = cb.bootstrap(lambda a, b: np.concatenate([a, b]), x, y, num_resamples=1,\n"
        "                         seed=int(rng.integers(1000)))\n"
        "    return draws[0, :len(x)], draws[0, len(x):]"))
    return notebook


def endless_answer():
    notebook = solution()
    notebook.cells.append(nbformat.v4.new_code_cell("def fit_ols(x, y):\n    while True:\n        pass"))
    return notebook


@needs_bwrap
@pytest.mark.slow
def test_the_error_column_the_library_rule_and_an_endless_answer(tmp_path):
    paths = [write(first_cell_fails(), tmp_path / "a" / "01_bootstrap.ipynb"),
             write(library_resample(), tmp_path / "b" / "01_bootstrap.ipynb"),
             write(endless_answer(), tmp_path / "c" / "01_bootstrap.ipynb")]
    grade_one = functools.partial(grader.grade_one, fast=True, out_dir=tmp_path / "g", probe_timeout=10)
    report = grade_batch(paths, grade_one=grade_one, questions=[*LAB01, *grader.EXTRA_COLUMNS],
                         csv_path=tmp_path / "g.csv", workers=2, progress=False)
    first, library, endless = report.rows
    assert first["score"] == 4 and first["status"] == "graded"
    assert first["error"] == "cell 1: ZeroDivisionError: division by zero"
    assert library["lab01.resample"] == 0 and library["score"] == 3
    assert "resample calls cs109b_bayes.bootstrap, the package's own solution" in library["notes"]
    assert endless["lab01.ols"] == 0 and endless["score"] == 3 and endless["status"] == "graded", endless
    assert "lab01.ols: not recorded: timed out" in endless["notes"]


@needs_bwrap
@pytest.mark.slow
def test_a_dask_cluster_grades_like_threads(tmp_path):
    distributed = pytest.importorskip("distributed")
    partial = course.make_notebook(course.resolve_labs(["01"])[0], solution=False)
    for index, cell in enumerate(solution().cells):
        if "def fit_ols(" in cell.source:
            partial.cells[index] = cell
    paths = [write(solution(), tmp_path / "a" / "01_bootstrap.ipynb"),
             write(partial, tmp_path / "b" / "01_bootstrap.ipynb")]
    grade_one = functools.partial(grader.grade_one, fast=True, out_dir=str(tmp_path / "graded"))
    columns = [*LAB01, *grader.EXTRA_COLUMNS]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask = grade_batch(paths, grade_one=grade_one, questions=columns, csv_path=tmp_path / "dask.csv",
                              dask_address=cluster.scheduler_address, progress=False)
    on_threads = grade_batch(paths, grade_one=grade_one, questions=columns, csv_path=tmp_path / "threads.csv",
                             workers=2, progress=False)
    assert on_dask.ok and on_threads.ok
    marks = lambda table: [[r["submission"], r["score"], *(r[q] for q in LAB01)]  # noqa: E731
                           for r in csv.DictReader(table.open())]
    assert marks(tmp_path / "dask.csv") == marks(tmp_path / "threads.csv")
    assert [row[1] for row in marks(tmp_path / "dask.csv")] == ["4", "1"]
