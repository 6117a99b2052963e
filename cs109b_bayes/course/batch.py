"""Grade many submissions into one CSV that survives anything: crashes, hangs, Ctrl-C, reruns.

`grade_batch` calls the caller's `grade_one(path) -> row` (one submission, in a sandbox) for
every submission, here, in N threads or on a Dask cluster, and after each row rewrites the
CSV atomically (temporary file + `os.replace`): no one sees half a row, and Ctrl-C keeps
every row graded so far. Submissions are keyed by resolved path (`a/lab.ipynb` and
`b/lab.ipynb` stay apart). A missing or unreadable input, an exception or hang of
`grade_one`, or a lost Dask worker is a row with its cause and makes `BatchReport.ok`
False. The CSV itself is `cs109b_bayes.course.grades_csv`.
"""

import collections
import concurrent.futures
import dataclasses
import os
import pathlib
import sys
import threading
import time

from cs109b_bayes.course.grades_csv import PROBLEM_STATUSES, GradesCSV, error_line
from cs109b_bayes.course.processes import stop_all

__all__ = ["BatchInterrupted", "BatchReport", "grade_batch", "submission_key"]


@dataclasses.dataclass(frozen=True)
class BatchReport:
    """What one `grade_batch` call did.

    Attributes:
        csv_path: the grades CSV.
        rows: the rows written by this call, in input order (dicts keyed by column).
        skipped: the submission keys already in the CSV that `resume=True` skipped.
        seconds: wall-clock time of the call.
    """

    csv_path: pathlib.Path
    rows: tuple
    skipped: tuple
    seconds: float

    @property
    def problems(self):
        """The rows whose status is in `PROBLEM_STATUSES`."""
        return tuple(row for row in self.rows if row["status"] in PROBLEM_STATUSES)

    @property
    def ok(self):
        """True if no row is a problem (the command's exit status is then 0)."""
        return not self.problems

    def summary(self):
        """One line: counts by status, skipped rows and the CSV."""
        counts = collections.Counter(row["status"] for row in self.rows)
        parts = [f"{n} {status}" for status, n in sorted(counts.items())] or ["nothing graded"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} already graded (skipped)")
        return f"{', '.join(parts)} in {self.seconds:.0f} s -> {self.csv_path}"


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C during `grade_batch`; `.report` holds the rows kept in the CSV."""

    def __init__(self, report):
        super().__init__(f"grading interrupted: {len(report.rows)} rows kept in {report.csv_path}")
        self.report = report


def submission_key(path):
    """The key of a submission in the CSV: its resolved absolute path, as a str.

    Args:
        path: a submission's path (str or `pathlib.Path`), relative or absolute.

    Returns:
        The absolute path with symbolic links resolved, as a str.

    #### Examples

    ```python
    from cs109b_bayes.course.batch import submission_key
    submission_key("a/lab.ipynb") != submission_key("b/lab.ipynb")    # True
    ```
    """
    return str(pathlib.Path(path).expanduser().resolve())


def _grade_safely(grade_one, path, timeout_seconds):
    """`grade_one(path)` plus `"seconds"`, or an error row if it raises, hangs or returns no dict.

    Module-level so that Dask can ship it to its workers; KeyboardInterrupt passes through.
    """
    outcome = {}

    def call():
        try:
            outcome["row"] = grade_one(path)
        except (Exception, SystemExit) as err:    # noqa: BLE001 (the row records any failure)
            outcome["row"] = {"status": "error", "error": error_line(err)}
        except BaseException as err:   # KeyboardInterrupt: the caller's to handle
            outcome["raise"] = err

    start = time.monotonic()
    worker = threading.Thread(target=call, daemon=True, name=f"grade {path}")
    worker.start()
    worker.join(timeout_seconds)
    if "raise" in outcome:
        raise outcome["raise"]
    row = outcome.get("row", {"status": "error",
                              "error": f"grade_one did not return within {timeout_seconds} s"})
    if not isinstance(row, dict):
        row = {"status": "error", "error": f"grade_one returned {type(row).__name__}, not a dict"}
    return {**row, "seconds": round(time.monotonic() - start, 1)}


def grade_batch(submissions, *, grade_one, questions, csv_path, workers=None, dask_address=None,
                resume=False, overwrite=False, timeout_seconds=None, progress=True):
    """Grades every submission into `csv_path`, one atomic row at a time.

    The CSV is checked before anything is graded. Its columns are `submission`, `status`,
    `score`, `seconds`, `error` and then `questions`. `grade_one(path)` returns a dict with
    any of the question columns (True/False or a number), and optionally `score` (default:
    the sum of the answers, True counting 1), `status` (default `"graded"`; or e.g. `"timed
    out"`) and `error`. A row is written as soon as its submission is graded.

    Args:
        submissions: paths of the submitted notebooks (duplicates are graded once).
        grade_one: `path -> dict`; with `dask_address`, a module-level function.
        questions: the question column names, fixed up front.
        csv_path: the grades CSV; its folder must exist and be writable.
        workers: how many submissions to grade at once in threads of this process.
            Default value: `None` (`os.cpu_count()`; not allowed with `dask_address`).
        dask_address: the address of a running Dask scheduler whose workers grade
            (needs `pip install cs109b_bayes[cluster]` and the submissions on a shared disk).
            Default value: `None`.
        resume: keep the rows of an existing CSV and grade only the others (rows with a
            status in `PROBLEM_STATUSES` are graded again).
            Default value: `False`.
        overwrite: replace an existing CSV.
            Default value: `False`.
        timeout_seconds: a `grade_one` call that takes longer becomes an error row.
            Default value: `None` (no limit: the sandbox has its own).
        progress: show a progress bar with count and ETA on stderr (if it is a terminal).
            Default value: `True`.

    Returns:
        A `BatchReport`; `report.ok` is False if an input was missing or unreadable or a
        grading failed.

    Raises:
        TypeError: if `grade_one` is not callable, `submissions` is one path or `questions`
            is not a list of str.
        ValueError: if the options conflict, or `csv_path` is a folder, lies in a missing
            folder or has other columns than expected (with `resume`).
        FileExistsError: if `csv_path` exists and neither `resume` nor `overwrite` is set.
        PermissionError: if `csv_path`'s folder is not writable.
        ImportError, ConnectionError: with `dask_address`, if Dask is missing or the
            scheduler cannot be reached.
        BatchInterrupted: on Ctrl-C, after stopping the running sandboxes; every row graded
            so far is in the CSV.

    #### Examples

    ```python
    from cs109b_bayes.course.batch import grade_batch
    report = grade_batch(["a/02.ipynb", "b/02.ipynb"], grade_one=my_grader,
                         questions=["lab02.log_prior"], csv_path="grades.csv", workers=2)
    print(report.summary())      # 2 graded in 41 s -> grades.csv
    ```
    """
    start = time.monotonic()
    if not callable(grade_one):
        raise TypeError(f"grade_one must be callable, got {grade_one!r}")
    if isinstance(submissions, (str, bytes, os.PathLike)):
        raise TypeError(f"submissions must be a list of paths, not one path: {submissions!r}")
    if dask_address is not None and workers is not None:
        raise ValueError("give workers (threads here) or dask_address (a cluster), not both")
    if dask_address is None:
        workers = (os.cpu_count() or 1) if workers is None else workers
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive int, got {workers!r}")
    elif not isinstance(dask_address, str):
        raise TypeError(f"dask_address must be a str like 'tcp://host:8786', got {dask_address!r}")
    table = GradesCSV(csv_path, questions, resume=resume, overwrite=overwrite)
    table.save()    # proves the CSV can be written before anything is graded
    todo, skipped = {}, []
    for path in submissions:
        key = submission_key(path)
        if table.is_done(key):
            skipped.append(key)
        else:
            todo.setdefault(key, pathlib.Path(key))
    table.plan(todo)
    written, ready = {}, []
    bar = _progress_bar(len(todo), enabled=progress)
    for key, path in todo.items():
        problem = _input_problem(path)
        if problem:
            written[key] = table.put(key, problem)
            bar.update()
        else:
            ready.append((key, path))
    results = _results(grade_one, ready, workers=workers, dask_address=dask_address,
                       timeout_seconds=timeout_seconds)
    try:
        for key, row in results:
            written[key] = table.put(key, row)
            bar.update()
    except KeyboardInterrupt:
        results.close()     # first cancel the submissions not started yet
        stop_all()
        raise BatchInterrupted(_report(table, todo, written, skipped, start)) from None
    finally:
        results.close()
        bar.close()
    return _report(table, todo, written, skipped, start)


def _report(table, todo, written, skipped, start):
    rows = tuple(written[key] for key in todo if key in written)
    return BatchReport(csv_path=table.path, rows=rows, skipped=tuple(skipped),
                       seconds=time.monotonic() - start)


def _input_problem(path):
    """A row for a missing or unreadable input, else None."""
    if not path.exists():
        return {"status": "missing", "error": "file not found"}
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as err:
        return {"status": "unreadable", "error": error_line(err)}
    return None


def _results(grade_one, ready, *, workers, dask_address, timeout_seconds):
    """Yields (key, row) as submissions finish: here, in threads or on Dask."""
    if dask_address is not None:
        yield from _dask_results(grade_one, ready, dask_address, timeout_seconds)
        return
    if workers == 1:
        for key, path in ready:
            yield key, _grade_safely(grade_one, path, timeout_seconds)
        return
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grade")
    try:
        futures = {pool.submit(_grade_safely, grade_one, path, timeout_seconds): key
                   for key, path in ready}
        for future in concurrent.futures.as_completed(futures):
            yield futures[future], future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _dask_results(grade_one, ready, address, timeout_seconds):
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ImportError("dask_address needs Dask: pip install 'cs109b_bayes[cluster]'") from None
    try:
        client = Client(address, set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise ConnectionError(f"no Dask scheduler at {address}: {error_line(err)}") from None
    futures = {}
    try:
        for key, path in ready:
            future = client.submit(_grade_safely, grade_one, path, timeout_seconds, pure=False)
            futures[future] = key
        for future in as_completed(futures, loop=client.loop):
            try:
                row = future.result()
            except KeyboardInterrupt:
                raise
            except BaseException as err:  # noqa: BLE001 (KilledWorker, cancelled, lost connection)
                row = {"status": "error", "error": f"Dask task failed: {error_line(err)}"}
            yield futures[future], row
    finally:
        client.cancel(list(futures))
        client.close()


def _progress_bar(total, *, enabled):
    from tqdm import tqdm

    return tqdm(total=total, desc="grading", unit="submission", file=sys.stderr,
                disable=None if enabled else True, dynamic_ncols=True)
