"""The batch driver: one atomic CSV row per submission, resume/overwrite, failures as rows, Dask."""

import csv
import os
import threading
import time

import pytest

from cs109b_bayes.course.batch import BatchInterrupted, grade_batch, submission_key
from cs109b_bayes.course.grades_csv import FIXED_COLUMNS

QUESTIONS = ["lab02.log_prior", "lab02.step"]
COLUMNS = [*FIXED_COLUMNS, *QUESTIONS]


def passes_first_question(path):
    """A fake grader: `lab02.log_prior` passes, `lab02.step` passes in folders named `a*`."""
    return {"lab02.log_prior": True, "lab02.step": path.parent.name.startswith("a")}


def slow_for_early_ones(path):
    """Finishes in reverse order of the file's digit, so threads complete out of order."""
    time.sleep(0.05 * (9 - int(path.stem[-1])))
    return passes_first_question(path)


def kills_its_worker_on_b(path):
    """Grades, except that the submission in folder `b` ends the (Dask worker) process."""
    if path.parent.name == "b":
        time.sleep(1)       # lets the worker report the task it finished before this one
        os._exit(1)
    return passes_first_question(path)


class Recorder:
    """A grader that records its calls and can be told to fail on some of them."""

    def __init__(self, grade=passes_first_question, *, interrupt_at=None):
        self.calls, self.grade, self.interrupt_at = [], grade, interrupt_at

    def __call__(self, path):
        self.calls.append(path)
        if len(self.calls) == self.interrupt_at:
            raise KeyboardInterrupt
        return self.grade(path)


def submissions(tmp_path, names):
    paths = []
    for name in names:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
        paths.append(path)
    return paths


def read_rows(csv_path):
    with open(csv_path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def grade(paths, csv_path, grade_one, **options):
    options.setdefault("workers", 1)
    return grade_batch(paths, grade_one=grade_one, questions=QUESTIONS, csv_path=csv_path,
                       progress=False, **options)


def test_rows_in_input_order_keyed_by_path(tmp_path):
    paths = submissions(tmp_path, ["a/lab.ipynb", "b/lab.ipynb", "c/other.ipynb"])
    report = grade(paths, tmp_path / "grades.csv", passes_first_question)
    rows = read_rows(tmp_path / "grades.csv")
    assert [row["submission"] for row in rows] == [str(p.resolve()) for p in paths]
    assert [(row["status"], row["score"], row["lab02.step"]) for row in rows] == [
        ("graded", "2", "1"), ("graded", "1", "0"), ("graded", "1", "0")]
    assert report.ok and len(report.rows) == 3 and report.skipped == ()
    assert report.summary().startswith("3 graded in ")
    assert [name for name in os.listdir(tmp_path) if name.endswith(".tmp")] == []


def test_duplicates_are_graded_once(tmp_path, monkeypatch):
    (path,) = submissions(tmp_path, ["a/lab.ipynb"])
    monkeypatch.chdir(tmp_path)
    grader = Recorder()
    grade([path, "a/lab.ipynb", "a/../a/lab.ipynb"], tmp_path / "grades.csv", grader)
    assert grader.calls == [path.resolve()]
    assert submission_key("a/lab.ipynb") == str(path.resolve())


def test_threads_give_the_same_table(tmp_path):
    paths = submissions(tmp_path, [f"{folder}/lab{i}.ipynb" for i, folder in enumerate("abcaba")])
    serial = grade(paths, tmp_path / "serial.csv", slow_for_early_ones)
    threaded = grade(paths, tmp_path / "threaded.csv", slow_for_early_ones, workers=3)
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in serial.rows]
    assert [{k: v for k, v in row.items() if k != "seconds"} for row in threaded.rows] == strip
    serial_rows = read_rows(tmp_path / "serial.csv")
    threaded_rows = read_rows(tmp_path / "threaded.csv")
    assert [r["submission"] for r in threaded_rows] == [r["submission"] for r in serial_rows]
    assert [r["score"] for r in threaded_rows] == ["2", "1", "1", "2", "1", "2"]


def test_missing_and_unreadable_inputs_are_rows_and_fail_the_batch(tmp_path):
    (good,) = submissions(tmp_path, ["a/lab.ipynb"])
    folder = tmp_path / "b" / "lab.ipynb"
    folder.mkdir(parents=True)
    grader = Recorder()
    report = grade([good, tmp_path / "gone.ipynb", folder], tmp_path / "grades.csv", grader)
    rows = read_rows(tmp_path / "grades.csv")
    assert [(row["status"], row["score"]) for row in rows] == [
        ("graded", "2"), ("missing", "0"), ("unreadable", "0")]
    assert rows[1]["error"] == "file not found"
    assert rows[2]["error"].startswith("IsADirectoryError")
    assert grader.calls == [good]
    assert not report.ok and len(report.problems) == 2
    assert "1 missing" in report.summary() and "1 unreadable" in report.summary()


def test_a_failing_grader_is_a_row_with_its_first_error_line(tmp_path):
    paths = submissions(tmp_path, ["a/lab.ipynb", "b/lab.ipynb", "c/lab.ipynb", "d/lab.ipynb"])

    def flaky(path):
        if path.parent.name == "b":
            raise ValueError("kernel died\nTraceback (most recent call last): ...")
        if path.parent.name == "c":
            return ["not", "a", "dict"]
        if path.parent.name == "d":
            return {"lab99.unknown": True}
        return {"lab02.log_prior": True, "status": "timed out", "error": "cell 7 took > 600 s"}

    report = grade(paths, tmp_path / "grades.csv", flaky)
    rows = read_rows(tmp_path / "grades.csv")
    assert [(row["status"], row["error"]) for row in rows] == [
        ("timed out", "cell 7 took > 600 s"),
        ("error", "ValueError: kernel died"),
        ("error", "grade_one returned list, not a dict"),
        ("error", "unknown columns ['lab99.unknown'] (not questions)")]
    assert rows[0]["score"] == "1"
    assert not report.ok and len(report.problems) == 3


def test_a_hanging_grader_becomes_an_error_row(tmp_path):
    paths = submissions(tmp_path, ["a/lab.ipynb", "b/lab.ipynb"])
    release = threading.Event()

    def hangs_on_a(path):
        if path.parent.name == "a":
            release.wait(30)
        return passes_first_question(path)

    start = time.monotonic()
    try:
        report = grade(paths, tmp_path / "grades.csv", hangs_on_a, timeout_seconds=0.5)
    finally:
        release.set()
    assert time.monotonic() - start < 5
    assert [(row["status"], row["error"]) for row in report.rows] == [
        ("error", "grade_one did not return within 0.5 s"), ("graded", "")]


def test_formulas_are_defused_and_numbers_kept(tmp_path):
    (path,) = submissions(tmp_path, ["a/lab.ipynb"])

    def sneaky(path):
        return {"lab02.log_prior": -1.5, "error": '=HYPERLINK("http://evil")', "score": -1}

    grade([path], tmp_path / "grades.csv", sneaky)
    (row,) = read_rows(tmp_path / "grades.csv")
    assert row["error"] == "'=HYPERLINK(\"http://evil\")"
    assert (row["lab02.log_prior"], row["score"]) == ("-1.5", "-1")


def test_every_row_is_on_disk_as_soon_as_it_is_graded(tmp_path):
    paths = submissions(tmp_path, [f"{folder}/lab.ipynb" for folder in "abcd"])
    csv_path = tmp_path / "grades.csv"
    seen = []

    def peeks(path):
        seen.append([row["submission"] for row in read_rows(csv_path)])
        return passes_first_question(path)

    grade(paths, csv_path, peeks)
    assert seen == [[str(p) for p in paths[:i]] for i in range(4)]


def test_ctrl_c_keeps_the_rows_graded_so_far(tmp_path):
    paths = submissions(tmp_path, [f"{folder}/lab.ipynb" for folder in "abcde"])
    grader = Recorder(interrupt_at=3)
    with pytest.raises(BatchInterrupted) as caught:
        grade(paths, tmp_path / "grades.csv", grader)
    assert isinstance(caught.value, KeyboardInterrupt)
    assert [row["submission"] for row in read_rows(tmp_path / "grades.csv")] == [
        str(p) for p in paths[:2]]
    assert len(caught.value.report.rows) == 2 and len(grader.calls) == 3


def test_ctrl_c_with_threads_keeps_rows_and_starts_nothing_new(tmp_path):
    paths = submissions(tmp_path, [f"{folder}/lab{i}.ipynb" for i, folder in enumerate("abcdefgh")])
    grader = Recorder(lambda path: (time.sleep(0.2), passes_first_question(path))[1],
                      interrupt_at=3)
    with pytest.raises(BatchInterrupted) as caught:
        grade(paths, tmp_path / "grades.csv", grader, workers=2)
    started = len(grader.calls)
    time.sleep(0.6)
    kept = read_rows(tmp_path / "grades.csv")
    assert len(kept) == len(caught.value.report.rows) >= 1
    reported = caught.value.report.rows
    assert [row["submission"] for row in kept] == [row["submission"] for row in reported]
    assert len(grader.calls) == started < len(paths)    # nothing started after Ctrl-C


def test_resume_skips_graded_rows_and_retries_problems(tmp_path):
    paths = submissions(tmp_path, ["a/lab.ipynb", "b/lab.ipynb"])
    late = tmp_path / "c" / "lab.ipynb"
    csv_path = tmp_path / "grades.csv"
    first = grade([*paths, late], csv_path, passes_first_question)
    assert [row["status"] for row in first.rows] == ["graded", "graded", "missing"]
    (new,) = submissions(tmp_path, ["c/lab.ipynb"])
    (extra,) = submissions(tmp_path, ["d/lab.ipynb"])
    grader = Recorder()
    report = grade([extra, *paths, new], csv_path, grader, resume=True)
    assert grader.calls == [extra, new]
    assert report.skipped == tuple(str(p) for p in paths) and report.ok
    rows = read_rows(csv_path)
    assert [row["submission"] for row in rows] == [str(p) for p in [*paths, new, extra]]
    assert [row["status"] for row in rows] == ["graded"] * 4


def test_an_existing_csv_is_never_replaced_silently(tmp_path):
    (path,) = submissions(tmp_path, ["a/lab.ipynb"])
    csv_path = tmp_path / "grades.csv"
    csv_path.write_text("precious\n")
    grader = Recorder()
    with pytest.raises(FileExistsError, match=r"resume \(--resume\) continues it"):
        grade([path], csv_path, grader)
    assert csv_path.read_text() == "precious\n" and grader.calls == []
    grade([path], csv_path, grader, overwrite=True)
    assert [row["submission"] for row in read_rows(csv_path)] == [str(path)]


@pytest.mark.parametrize("where, options, error, match", [
    ("folder", {}, ValueError, "is a folder"),
    ("missing/grades.csv", {}, ValueError, "does not exist"),
    ("grades.csv", {"resume": True, "overwrite": True}, ValueError, "not both"),
    ("other_columns.csv", {"resume": True}, ValueError, "has columns"),
    ("grades.csv", {"workers": 0}, ValueError, "workers"),
    ("grades.csv", {"workers": 2, "dask_address": "tcp://127.0.0.1:1"}, ValueError, "not both"),
    ("grades.csv", {"workers": None, "dask_address": 8786}, TypeError, "dask_address"),
    ("grades.csv", {"questions": "lab02.step"}, TypeError, "questions"),
    ("grades.csv", {"questions": ["status"]}, ValueError, "shadow"),
])
def test_bad_options_are_refused_before_grading(tmp_path, where, options, error, match):
    (path,) = submissions(tmp_path, ["a/lab.ipynb"])
    (tmp_path / "folder").mkdir()
    (tmp_path / "other_columns.csv").write_text("submission,status,score\n")
    grader = Recorder()
    options = {"workers": 1, "questions": QUESTIONS, **options}
    with pytest.raises(error, match=match):
        grade_batch([path], grade_one=grader, csv_path=tmp_path / where, progress=False, **options)
    assert grader.calls == []


def test_grade_one_must_be_callable_and_submissions_a_list(tmp_path):
    with pytest.raises(TypeError, match="callable"):
        grade_batch([], grade_one="grader.py", questions=QUESTIONS, csv_path=tmp_path / "g.csv")
    with pytest.raises(TypeError, match="not one path"):
        grade_batch("a/lab.ipynb", grade_one=Recorder(), questions=QUESTIONS,
                    csv_path=tmp_path / "g.csv")
    assert not (tmp_path / "g.csv").exists()


def test_progress_bar_shows_count_and_eta(tmp_path, monkeypatch, capsys):
    paths = submissions(tmp_path, ["a/lab.ipynb", "b/lab.ipynb"])
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    grade_batch(paths, grade_one=passes_first_question, questions=QUESTIONS,
                csv_path=tmp_path / "grades.csv", workers=1)
    bar = capsys.readouterr().err
    assert "2/2" in bar and "<" in bar and "grading" in bar


def test_dask_local_cluster_grades_and_survives_a_lost_worker(tmp_path):
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    # The killer comes last, so no innocent task waits behind it on the worker it takes down.
    paths = submissions(tmp_path, ["a/lab.ipynb", "c/lab.ipynb", "a2/lab.ipynb", "b/lab.ipynb"])
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                     dashboard_address=":0") as cluster:
        report = grade_batch(paths, grade_one=kills_its_worker_on_b, questions=QUESTIONS,
                             csv_path=tmp_path / "grades.csv", progress=False,
                             dask_address=cluster.scheduler_address)
    rows = read_rows(tmp_path / "grades.csv")
    assert [row["submission"] for row in rows] == [str(p) for p in paths]
    assert [row["status"] for row in rows] == ["graded", "graded", "graded", "error"], rows
    assert rows[3]["error"].startswith("Dask task failed: KilledWorker")
    assert [row["score"] for row in rows] == ["2", "1", "2", "0"]
    assert not report.ok
