"""The cs109b-bayes command line: list, student, check, run, grade."""

import csv
import pathlib

import nbformat
import pytest

from cs109b_bayes import course
from cs109b_bayes.cli import main
from cs109b_bayes.course import paths

DEMO_SOURCE = """# %% [markdown]
# # Lab 99 - demo

# %%
def square(x):
    return x * x  # SOLUTION
"""


@pytest.fixture
def demo_course(make_course):
    return make_course(DEMO_SOURCE)


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "01_bootstrap" in out and "Bootstrap linear regression" in out


def test_student_check_passes_when_fresh(capsys):
    assert main(["student", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_student_writes_then_checks(demo_course, capsys):
    assert main(["student", "--check"]) == 1
    assert "missing student notebooks: 99_demo.ipynb" in capsys.readouterr().err
    assert main(["student"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main(["student", "--check"]) == 0
    demo_course.write_text(DEMO_SOURCE.replace("Lab 99 - demo", "Lab 99 - a demo"))
    assert main(["student", "--check"]) == 1
    assert "stale student notebooks: 99_demo.ipynb" in capsys.readouterr().err


def test_student_refuses_to_overwrite_a_students_work_unless_forced(demo_course, capsys):
    assert main(["student"]) == 0
    notebook_path = course.student_notebook_path(demo_course)
    notebook = nbformat.read(str(notebook_path), as_version=4)
    notebook.cells[1].source = "def square(x):\n    return x ** 2"
    nbformat.write(notebook, str(notebook_path))
    mine = notebook_path.read_text()
    capsys.readouterr()

    assert main(["student", "--check"]) == 1
    err = capsys.readouterr().err
    assert "changed by a student: 99_demo.ipynb" in err and "stale" not in err
    assert main(["student"]) == 1
    assert "not overwritten, changed by a student: 99_demo.ipynb" in capsys.readouterr().err
    assert notebook_path.read_text() == mine
    assert main(["student", "--force"]) == 0
    out = capsys.readouterr().out
    [backup] = notebook_path.parent.glob("99_demo.backup-*.ipynb")
    assert f"kept the student's changes in {backup}" in out and backup.read_text() == mine
    assert main(["student", "--check"]) == 0


def test_no_course_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("CS109B_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(paths, "is_checkout", lambda folder: False)
    monkeypatch.setattr(paths, "bundled_root", lambda: None)
    assert main(["list"]) == 2
    assert "cannot find the cs109b_bayes labs" in capsys.readouterr().err


def test_student_does_not_write_into_the_installed_package(tmp_path, monkeypatch, capsys):
    bundled = tmp_path / "bundled"
    (bundled / "labs" / "source").mkdir(parents=True)
    (bundled / "labs" / "source" / "99_demo.py").write_text(DEMO_SOURCE)
    monkeypatch.delenv("CS109B_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(paths, "is_checkout", lambda folder: False)
    monkeypatch.setattr(paths, "bundled_root", lambda: bundled)
    assert main(["student"]) == 2
    assert "--out FOLDER" in capsys.readouterr().err
    assert not (bundled / "labs" / "99_demo.ipynb").exists()
    assert main(["student", "--out", str(tmp_path / "mine")]) == 0
    assert (tmp_path / "mine" / "99_demo.ipynb").exists()


def test_check_describes_a_question(capsys):
    assert main(["check", "lab01.ols"]) == 0
    assert "fit_ols=fit_ols" in capsys.readouterr().out


def test_unknown_lab_and_question_exit_2(capsys):
    assert main(["run", "77"]) == 2
    assert "unknown lab '77'" in capsys.readouterr().err
    assert main(["check", "lab01.nope"]) == 2


def test_bad_usage_exits_2():
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2


@pytest.mark.slow
def test_run_writes_notebooks_html_and_table(tmp_path, capsys):
    assert main(["run", "01", "--fast", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "[1/1] 01_bootstrap ... ok" in out and "checks passed" in out and "4/4" in out
    executed = nbformat.read(str(tmp_path / "01_bootstrap.ipynb"), as_version=4)
    assert any(o.get("data", {}).get("image/png") for c in executed.cells for o in c.get("outputs", []))
    page = (tmp_path / "index.html").read_text()
    assert "data:image/png;base64" in page and "01_bootstrap" in page


@pytest.mark.slow
def test_grade_scores_each_submission(tmp_path, capsys):
    """A solved copy scores full marks, a blank copy zero, a corrupt file is a row, all in one sandboxed batch."""
    source = course.resolve_labs(["01"])[0]
    solved = tmp_path / "01_solved.ipynb"
    nbformat.write(course.make_notebook(source, solution=True), str(solved))
    blank = tmp_path / "01_blank.ipynb"
    nbformat.write(course.make_notebook(source, solution=False), str(blank))
    broken = tmp_path / "01_broken.ipynb"
    broken.write_text("{not a notebook")
    table = tmp_path / "grades.csv"
    assert main(["grade", str(solved), str(blank), str(broken), "--csv", str(table), "--workers", "2",
                 "--out", str(tmp_path / "graded"), "--fast"]) == 1         # the corrupt file fails the batch
    out = capsys.readouterr().out
    assert "1 unreadable" in out and "2 graded" in out
    rows = {r["submission"]: r for r in csv.DictReader(table.open())}
    assert rows[str(solved)]["score"] == "4" and rows[str(solved)]["status"] == "graded"
    assert rows[str(blank)]["score"] == "0" and "not answered yet" in rows[str(blank)]["notes"]
    assert rows[str(broken)]["score"] == "0" and rows[str(broken)]["status"] == "unreadable"
    assert set(rows[str(solved)]) >= {"lab01.ols", "lab01.resample", "lab01.interval", "lab01.ols_se", "flags"}
    assert len(list((tmp_path / "graded").glob("01_*.ipynb"))) == 2


@pytest.fixture
def fake_grader(monkeypatch):
    """grade_one without a sandbox: every submission passes lab01.ols; calls are counted."""
    from cs109b_bayes.course import grader

    calls = []

    def grade_one(path, **options):
        calls.append((path, options))
        return {"lab01.ols": True, "score": 1, "status": "graded", "error": "", "flags": "", "notes": ""}

    monkeypatch.setattr(grader, "grade_one", grade_one)
    return calls


def test_grade_checks_the_csv_before_grading(tmp_path, fake_grader, capsys):
    submission = tmp_path / "01_a.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), str(submission))
    assert main(["grade", str(submission), "--csv", str(tmp_path / "no" / "such" / "g.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err and fake_grader == []
    table = tmp_path / "g.csv"
    table.write_text("an instructor's file")
    assert main(["grade", str(submission), "--csv", str(table)]) == 2
    assert "--resume" in capsys.readouterr().err and fake_grader == [] and table.read_text() == "an instructor's file"
    assert main(["grade", str(submission), "--csv", str(table), "--overwrite", "--workers", "1",
                 "--lab", "1", "--notebook-timeout", "50", "--timeout", "5"]) == 0
    [(path, options)] = fake_grader
    assert options["lab"] == "1" and options["notebook_timeout"] == 50 and options["cell_timeout"] == 5
    assert [r["lab01.ols"] for r in csv.DictReader(table.open())] == ["1"]
    assert main(["grade", str(submission), "--csv", str(table), "--resume", "--workers", "1"]) == 0
    assert len(fake_grader) == 1 and "already graded" in capsys.readouterr().out


def test_grade_exits_non_zero_for_missing_submissions(tmp_path, fake_grader, capsys):
    submission = tmp_path / "01_a.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), str(submission))
    table = tmp_path / "g.csv"
    assert main(["grade", str(submission), str(tmp_path / "01_gone.ipynb"), "--csv", str(table),
                 "--workers", "1"]) == 1
    rows = {pathlib.Path(r["submission"]).name: r for r in csv.DictReader(table.open())}
    assert rows["01_gone.ipynb"]["status"] == "missing" and rows["01_a.ipynb"]["status"] == "graded"
    assert "1 missing" in capsys.readouterr().out
    assert main(["grade", str(submission), "--csv", str(tmp_path / "h.csv"), "--lab", "bootstrap"]) == 2
    with pytest.raises(SystemExit):
        main(["grade", str(submission), "--resume", "--overwrite"])
