"""The grades CSV: checked before grading, one row per submission key, atomic rewrites.

The columns are fixed up front: `submission`, `status`, `score`, `seconds`, `error`, then one
per question. After every change the whole file is written to a temporary file, flushed,
fsynced and moved over the CSV (`os.replace`), so a reader, a crash or Ctrl-C never leaves
half a row. Text that a spreadsheet would run as a formula (starting with `=`, `+`, `-`,
`@`, e.g. an error message from student code) gets a leading `'`.
"""

import csv
import os
import pathlib

__all__ = ["FIXED_COLUMNS", "PROBLEM_STATUSES", "GradesCSV", "error_line"]

#: The columns of every grades CSV before the question columns.
FIXED_COLUMNS = ("submission", "status", "score", "seconds", "error")
#: Statuses that are the grading's problem, not the submission's: they fail a batch and are
#: graded again on resume.
PROBLEM_STATUSES = ("missing", "unreadable", "error")


def error_line(err):
    """`"ExceptionType: first line of its message"`, what an `error` cell shows.

    Args:
        err: an exception.

    Returns:
        A one-line str.

    #### Examples

    ```python
    from cs109b_bayes.course.grades_csv import error_line
    error_line(ValueError("bad cell\nTraceback ..."))     # 'ValueError: bad cell'
    ```
    """
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


class GradesCSV:
    """The rows of a grades CSV by submission key, rewritten atomically after every change.

    Args:
        path: the CSV; its folder must exist and be writable.
        questions: the question column names.
        resume: keep the rows of an existing file.
            Default value: `False`.
        overwrite: replace an existing file.
            Default value: `False`.

    Raises:
        TypeError: if `path` is not a path or `questions` not a list of str.
        ValueError: if both `resume` and `overwrite` are set, a question column repeats or
            shadows a fixed one, `path` is a folder or lies in a missing folder, or (with
            `resume`) the file cannot be read or has other columns.
        FileExistsError: if the file exists and neither `resume` nor `overwrite` is set.
        PermissionError: if the folder is not writable.

    #### Examples

    ```python
    from cs109b_bayes.course.grades_csv import GradesCSV
    table = GradesCSV("grades.csv", ["lab02.log_prior"], overwrite=True)
    table.save()                                            # the header only
    table.put("/subs/a/02.ipynb", {"lab02.log_prior": True})  # written at once
    ```
    """

    def __init__(self, path, questions, *, resume=False, overwrite=False):
        if resume and overwrite:
            raise ValueError("give resume or overwrite, not both")
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"csv_path must be a path, got {path!r}")
        if isinstance(questions, str) or not all(isinstance(q, str) and q for q in questions):
            raise TypeError(f"questions must be a list of non-empty str, got {questions!r}")
        self.columns = [*FIXED_COLUMNS, *questions]
        repeated = sorted({c for c in self.columns if self.columns.count(c) > 1})
        if repeated:
            raise ValueError(f"question columns repeat or shadow a fixed column: {repeated}")
        self.path = pathlib.Path(path).expanduser().absolute()
        self.rows, self.order = {}, {}     # key -> row; key -> its place in the file
        where, folder = f"grades CSV {self.path}", self.path.parent
        if self.path.is_dir():
            raise ValueError(f"{where} is a folder, not a file")
        if not folder.is_dir():
            raise ValueError(f"{where}: folder {folder} does not exist")
        if not os.access(folder, os.W_OK):
            raise PermissionError(f"{where}: folder {folder} is not writable")
        if self.path.exists() and not (resume or overwrite):
            raise FileExistsError(f"{where} exists: resume (--resume) continues it, "
                                  f"overwrite (--overwrite) replaces it")
        if resume and self.path.exists():
            self.rows = self._read()
            self.order = {key: place for place, key in enumerate(self.rows)}

    def _read(self):
        try:
            with open(self.path, newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                rows = {row["submission"]: row for row in reader} if reader.fieldnames else {}
        except (OSError, UnicodeDecodeError, csv.Error, KeyError) as err:
            raise ValueError(f"resume: cannot read {self.path}: {error_line(err)}") from None
        if reader.fieldnames != self.columns:
            raise ValueError(f"resume: {self.path} has columns {reader.fieldnames}, expected "
                             f"{self.columns} (other questions? use another CSV)")
        return rows

    def plan(self, keys):
        """Places the rows of `keys` (not yet in the file) after the kept ones, in this order."""
        for key in keys:
            self.order.setdefault(key, len(self.order))

    def is_done(self, key):
        """True if `key` has a row whose status is not in `PROBLEM_STATUSES`."""
        return key in self.rows and self.rows[key]["status"] not in PROBLEM_STATUSES

    def put(self, key, row):
        """Sets the row of `key` from a dict and saves the file; returns the row written.

        `row` holds question columns (True/False or numbers) and optionally `score`
        (default: the sum of the answers, True counting 1), `status` (default `"graded"`),
        `error` and `seconds`. Unknown keys make the row an error row.
        """
        known = [c for c in self.columns if c not in ("submission", "seconds")]
        row = dict(row)
        unknown = sorted(set(row) - set(self.columns))
        if unknown:
            row.update(status="error", error=f"unknown columns {unknown} (not questions)")
        answers = [row.get(q) for q in self.columns[len(FIXED_COLUMNS):]]
        row.setdefault("score", sum(a for a in answers if isinstance(a, (bool, int, float))))
        row.setdefault("status", "graded")
        clean = {"submission": key, "seconds": row.get("seconds", "")}
        clean.update({c: _cell(row.get(c, "")) for c in known})
        self.rows[key] = clean
        self.save()
        return clean

    def save(self):
        """Writes all rows atomically (temporary file, fsync, `os.replace`)."""
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(temporary, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.columns)
            writer.writeheader()
            writer.writerows(self.rows[key] for key in sorted(self.rows, key=self.order.get))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)


def _cell(value):
    """A CSV cell: booleans as 1/0, the first line of text, no spreadsheet formulas."""
    if isinstance(value, bool):
        return int(value)
    if not isinstance(value, str):
        return value
    text = (value.strip().splitlines() or [""])[0]
    try:
        float(text)
    except ValueError:
        return "'" + text if text[:1] in ("=", "+", "-", "@") else text
    return text
