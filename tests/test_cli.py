"""The cs109b-bayes command line: list, student, check, run, grade."""

import csv
import shutil

import nbformat
import pytest

from cs109b_bayes import labs
from cs109b_bayes.cli import main


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "01_bootstrap" in out and "Bootstrap linear regression" in out


def test_student_check_passes_when_fresh(capsys):
    assert main(["student", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


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
    """A solved copy scores full marks, a blank copy zero, a corrupt file is reported, all in one batch."""
    source = labs.resolve_labs(["01"])[0]
    solved = tmp_path / "01_solved.ipynb"
    nbformat.write(labs.make_notebook(source, solution=True), str(solved))
    blank = tmp_path / "01_blank.ipynb"
    shutil.copy(source.parent.parent / "01_bootstrap.ipynb", blank)
    broken = tmp_path / "01_broken.ipynb"
    broken.write_text("{not a notebook")
    table = tmp_path / "grades.csv"
    assert main(["grade", str(solved), str(blank), str(broken), "--csv", str(table),
                 "--out", str(tmp_path / "graded"), "--fast"]) == 0
    rows = {r["submission"]: r for r in csv.DictReader(table.open())}
    assert rows[str(solved)]["score"] == "4"
    assert rows[str(blank)]["score"] == "0"
    assert rows[str(broken)]["score"] == "0" and "unreadable" in rows[str(broken)]["error"]
    assert set(rows[str(solved)]) >= {"lab01.ols", "lab01.resample", "lab01.interval", "lab01.ols_se"}
