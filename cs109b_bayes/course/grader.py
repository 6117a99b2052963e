"""Grade submitted notebooks: run each in its own kernel, score each question, write a CSV.

A submission is executed top to bottom with its outputs cleared, in non-strict mode and with
errors allowed, so one crashing cell or notebook does not stop the batch. The checks the
notebook ran are read from the check log; the last run of a question counts. The score table
has one row per submission and one column per question of the labs seen (a question never
checked scores 0).
"""

import csv
import dataclasses
import pathlib

import nbformat

from cs109b_bayes.course.runner import run_notebook
from cs109b_bayes.grading import questions

__all__ = ["Grade", "grade_submission", "write_grades_csv"]


@dataclasses.dataclass(frozen=True)
class Grade:
    """The outcome of grading one submission.

    Attributes:
        submission: the submitted notebook's path.
        outcome: `{question id: passed}` for every question the notebook checked.
        questions: the questions of the submission's lab (from its `NN_` file name), which
            score 0 when never checked.
        error: why grading stopped or what went wrong ("" if nothing did).
        seconds: wall time of the run.
        internal_errors: ids of the questions whose checker failed (not the student's fault).
        status: `"graded"`, or `"unreadable"` when the file is not a notebook.
    """

    submission: pathlib.Path
    outcome: dict
    questions: tuple = ()
    error: str = ""
    seconds: float = 0.0
    internal_errors: tuple = ()
    status: str = "graded"

    def row(self):
        """The grade as one score-table row: `{question: passed, ..., "status", "error"}`."""
        return {**{q: bool(self.outcome.get(q, False)) for q in self.columns()},
                "status": self.status, "error": self.error}

    def score(self, columns=None):
        """The number of passed questions among `columns` (default: this submission's own)."""
        columns = self.columns() if columns is None else columns
        return sum(int(self.outcome.get(q, False)) for q in columns)

    def columns(self):
        """This submission's questions: its lab's and those it checked, sorted."""
        return sorted(set(self.questions) | set(self.outcome))


def _lab_questions(path):
    lab = path.stem[:2]
    return tuple(questions(f"lab{lab}")) if lab.isdigit() else ()


def grade_submission(path, *, out_dir="build/graded", fast=False, timeout=600):
    """Run one submitted notebook in a fresh kernel and score its checks.

    Args:
        path: the submitted `.ipynb`.
        out_dir: where the executed copy is written, as `graded_<stem>.ipynb`.
            Default value: `"build/graded"`.
        fast: grade in fast mode (`CS109B_FAST=1`). Default value: False.
        timeout: seconds allowed per cell. Default value: 600.

    Returns:
        A `Grade`; an unreadable file gives an empty outcome and the reason in `error`.

    #### Examples

    ```python
    from cs109b_bayes import course
    grade = course.grade_submission("submissions/01_bootstrap.ipynb", fast=True)
    grade.score(), grade.error
    ```
    """
    path = pathlib.Path(path)
    lab_questions = _lab_questions(path)
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except Exception as err:  # noqa: BLE001  (an unreadable submission scores zero; the batch goes on)
        return Grade(path, {}, lab_questions, f"unreadable: {type(err).__name__}: {err}", status="unreadable")
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    error, checks, seconds = run_notebook(
        notebook, out_path=pathlib.Path(out_dir) / f"graded_{path.stem}.ipynb",
        env={"CS109B_STRICT": "0", "CS109B_FAST": "1" if fast else "0"},
        timeout=timeout, allow_errors=True,
    )
    outcome = {}
    for check in checks:  # the last run of a question counts
        outcome[check["question"]] = bool(check["passed"])
    internal = tuple(sorted({c["question"] for c in checks if c.get("internal_error")}))
    if internal:
        error = "; ".join(filter(None, [error, f"internal error in the check of {', '.join(internal)}"]))
    return Grade(path, outcome, lab_questions, error, seconds, internal)


def write_grades_csv(grades, csv_path):
    """Write the score table: one row per submission, one 0/1 column per question.

    Args:
        grades: the `Grade`s, in the order of the rows.
        csv_path: the CSV file; its folder is created.

    Returns:
        The sorted list of question columns.

    #### Examples

    ```python
    from cs109b_bayes import course
    course.write_grades_csv([course.grade_submission("a/01_bootstrap.ipynb")], "grades.csv")
    ```
    """
    columns = sorted(set().union(*(g.columns() for g in grades))) if grades else []
    csv_path = pathlib.Path(csv_path)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission", *columns, "score", "error"])
        for grade in grades:
            marks = [int(grade.outcome.get(q, False)) for q in columns]
            writer.writerow([str(grade.submission), *marks, sum(marks), grade.error])
    return columns
