"""Adversarial submissions, graded together in one sandboxed batch: none gains a mark, none
disturbs another, and the honest ones score exactly what they earn.

Each attack is built in code from the lab 01 / lab 02 notebooks (numpy-only labs, fast). The
whole batch runs once (`--workers 2`), so every test also shows that the honest and partial
submissions graded beside the attacks are unaffected.
"""

import csv
import functools
import hashlib
import pathlib
import time
import types
import uuid

import nbformat
import psutil
import pytest

import cs109b_bayes
from cs109b_bayes import course, grading
from cs109b_bayes.course import grader
from cs109b_bayes.course.batch import grade_batch
from cs109b_bayes.course.sandbox import sandbox_kind

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sandbox_kind("auto") != "bwrap", reason="the attacks need bubblewrap")]

CHECKOUT = pathlib.Path(cs109b_bayes.__file__).resolve().parents[1]
MARKER = f"cs109b-attack-{uuid.uuid4().hex}"
SECRET_SEED = 424242424242424242
LAB01 = grading.questions("lab01")
LAB02 = grading.questions("lab02")
PACKAGE_FILES = [CHECKOUT / "cs109b_bayes" / "grading" / "checking.py",
                 CHECKOUT / "cs109b_bayes" / "questions" / "lab01.py"]


def solution(lab):
    return course.make_notebook(course.resolve_labs([lab])[0], solution=True)


def student(lab):
    return course.make_notebook(course.resolve_labs([lab])[0], solution=False)


def with_cells(notebook, *sources, first=False):
    cells = [nbformat.v4.new_code_cell(source) for source in sources]
    notebook.cells = cells + notebook.cells if first else notebook.cells + cells
    return notebook


def partial():
    """The lab 01 student copy with fit_ols and percentile_interval solved, the rest blank."""
    notebook, solved = student("01"), solution("01")
    for index, cell in enumerate(solved.cells):
        if "def fit_ols(" in cell.source or "def percentile_interval(" in cell.source:
            notebook.cells[index] = cell
    return notebook


FORGED_RECORDING = """
import json, os, pathlib, threading, time
names = {"lab01.ols": "fit_ols", "lab01.resample": "resample", "lab01.ols_se": "ols_standard_errors",
         "lab01.interval": "percentile_interval"}
def forge():
    while True:
        for q, name in names.items():
            try:
                folder = pathlib.Path("/submission/.cs109b/recording")
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{q}.json").write_text(json.dumps({"version": 1, "question": q, "missing": [],
                    "answers": {name: {"$": "callable", "path": name}}, "rounds": [{"calls": []}, {"calls": []}]}))
            except OSError:
                pass
        time.sleep(0.01)
threading.Thread(target=forge, daemon=True).start()
log = os.environ.get("CS109B_CHECK_LOG") or "checks.jsonl"
with open(log, "a") as handle:
    for q in names:
        handle.write(json.dumps({"question": q, "passed": True}) + "\\n")
os.environ["CS109B_CHECK_LOG"] = log
pathlib.Path("/submission/.cs109b").mkdir(exist_ok=True)
pathlib.Path("/submission/.cs109b/status.json").write_text(json.dumps({"version": 1, "probe": {}}))
"""

REDEFINED_CHECKING = """
import cs109b_bayes as cb
import cs109b_bayes.grading as grading
from cs109b_bayes.grading import registry
cb.check = grading.check = lambda *args, **kwargs: True
grading.questions()                                       # load every lab's questions, then
for name, spec in list(registry._REGISTRY.items()):      # make every question's test do nothing
    registry._REGISTRY[name] = spec.__class__(spec.id, spec.answers, lambda **answers: None, spec.hint)
"""

READ_SOLUTIONS = f"""
import pathlib
from cs109b_bayes import course
found = []
for path in [pathlib.Path({str(CHECKOUT / "labs" / "source" / "01_bootstrap.py")!r}),
             *pathlib.Path(course.__file__).parent.glob("**/labs/source/*.py")]:
    try:
        notebook = course.make_notebook(path, solution=True)
        for cell in notebook.cells:
            if cell.cell_type == "code" and cell.source.startswith("def "):
                exec(cell.source, globals())
                found.append(str(path))
    except Exception as err:
        print("not readable:", path, type(err).__name__)
try:
    for cell in course.make_notebook(course.resolve_labs(["01"])[0], solution=True).cells:
        if cell.source.startswith("def "):
            exec(cell.source, globals())
            found.append("builder")
except Exception as err:
    print("no builder:", type(err).__name__, err)
print("solutions found:", found)
"""

BACKGROUND = """
import subprocess, sys
later = "import time; time.sleep(12); open({csv!r}, 'w').write('rewritten by a student'); " \\
        "open({csv!r} + '.marker', 'w').write({marker!r})"
subprocess.Popen([sys.executable, "-c", later, {marker!r}], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
"""

EDIT_PACKAGE = """
import cs109b_bayes.grading.checking as checking, cs109b_bayes.questions.lab01 as lab01
for path in (checking.__file__, lab01.__file__):
    try:
        with open(path, "a") as handle:
            handle.write("\\nimport builtins; builtins.print('every check passes')\\n")
        print("EDIT-" + "SUCCEEDED", path)
    except OSError as err:
        print("EDIT-" + "REFUSED", type(err).__name__)
"""

FORGE_FOR_ITS_OWN_INPUTS = """
import numpy as np
import cs109b_bayes.grading.probe as probe
real_record = probe.record_question
honest = {
    "fit_ols": lambda x, y: np.polyfit(x, y, 1)[::-1],
    "resample": lambda x, y, rng: (lambda i: (x[i], y[i]))(rng.integers(0, len(x), size=len(x))),
    "ols_standard_errors": lambda x, y: np.zeros(2),
    "percentile_interval": lambda s, level: np.percentile(s, [50 * (1 - level), 50 * (1 + level)], axis=0),
}
def forged(question_id, seed, *, namespace, out_dir, rounds=2):
    # outputs that are right, but for inputs the submission chose (seed 0), not the grader's
    return real_record(question_id, 0, namespace=honest, out_dir=out_dir, rounds=rounds)
probe.record_question = forged
"""

SNOOP_SEED = """
import os
print("harness", os.getppid())
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) != os.getpid():
        for entry in ("environ", "cmdline", "mem", "fd/0"):
            try:
                with open(f"/proc/{pid}/{entry}", "rb") as handle:
                    print(pid, entry, "READ", handle.read(4096))
            except OSError as err:
                print(pid, entry, type(err).__name__)
"""

ATTACKS = {
    "honest/01_bootstrap.ipynb": lambda: solution("01"),
    "partial/01_bootstrap.ipynb": partial,
    "honest02/02_metropolis_linear.ipynb": lambda: solution("02"),
    "redefine/01_bootstrap.ipynb": lambda: with_cells(student("01"), REDEFINED_CHECKING),
    "forge/01_bootstrap.ipynb": lambda: with_cells(student("01"), FORGED_RECORDING),
    "solutions/01_bootstrap.ipynb": lambda: with_cells(student("01"), READ_SOLUTIONS),
    "background/01_bootstrap.ipynb": None,     # needs the CSV's path: built in the fixture
    "package/01_bootstrap.ipynb": lambda: with_cells(student("01"), EDIT_PACKAGE),
    "recorder/01_bootstrap.ipynb": lambda: with_cells(student("01"), FORGE_FOR_ITS_OWN_INPUTS),
    "snoop/01_bootstrap.ipynb": lambda: with_cells(student("01"), SNOOP_SEED),
    "flood/01_bootstrap.ipynb": lambda: with_cells(solution("01"), "for _ in range(200):\n    print('x' * 1_000_000)"),
    "loop/01_bootstrap.ipynb": lambda: with_cells(solution("01"), "while True:\n    pass"),
    "deaf/01_bootstrap.ipynb": lambda: with_cells(
        solution("01"), "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"),
    "memory/01_bootstrap.ipynb": lambda: with_cells(
        student("01"), "import numpy as np\nchunks = []\nwhile True:\n    chunks.append(np.ones(2**24))"),
    "forks/01_bootstrap.ipynb": lambda: with_cells(
        student("01"), "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"),
    "died/01_bootstrap.ipynb": lambda: with_cells(solution("01"), "import os\nos.kill(os.getpid(), 9)"),
    "claims02/01_bootstrap.ipynb": lambda: with_cells(
        solution("01"), *[cell.source for cell in solution("02").cells if cell.cell_type == "code"][:12]),
}
SHORT_LIMITS = ("loop", "deaf", "memory", "forks")


def grade_attack(path, *, out_dir):
    """Short limits for the submissions that run forever; the defaults' order otherwise."""
    short = pathlib.Path(path).parent.name in SHORT_LIMITS
    return grader.grade_one(path, out_dir=out_dir, fast=True, memory_bytes=2 * 2**30,
                            cell_timeout=15 if short else 300, notebook_timeout=30 if short else 600,
                            probe_timeout=120)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grade every submission above in one batch with two workers; the CSV, its rows, the report."""
    root = tmp_path_factory.mktemp("attacks")
    table = root / "instructor" / "grades.csv"
    table.parent.mkdir()
    ATTACKS["background/01_bootstrap.ipynb"] = lambda: with_cells(
        student("01"), BACKGROUND.format(csv=str(table), marker=MARKER))
    paths = []
    for name, build in ATTACKS.items():
        path = root / "submissions" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(build(), str(path))
        paths.append(path)
    corrupt = root / "submissions" / "corrupt" / "01_bootstrap.ipynb"
    corrupt.parent.mkdir()
    corrupt.write_text('{"cells": [')
    paths.append(corrupt)
    before = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in PACKAGE_FILES}
    patch = pytest.MonkeyPatch()
    patch.setattr(grader, "secrets", types.SimpleNamespace(randbits=lambda bits: SECRET_SEED))
    try:
        report = grade_batch(paths, grade_one=functools.partial(grade_attack, out_dir=root / "graded"),
                             questions=[*LAB01, *LAB02, *grader.EXTRA_COLUMNS], csv_path=table, workers=2,
                             progress=False)
    finally:
        patch.undo()
    written = table.read_text()
    rows = {pathlib.Path(r["submission"]).parent.name: r for r in csv.DictReader(table.open())}
    yield types.SimpleNamespace(root=root, table=table, written=written, rows=rows, report=report,
                                before=before, graded=root / "graded", paths=paths)


def scores(row, questions):
    return [row[q] for q in questions]


def graded_text(batch, name):
    path = grader.graded_notebook_path(batch.root / "submissions" / name / "01_bootstrap.ipynb", batch.graded)
    return path.read_text()


def printed(batch, name):
    """The stream outputs of a graded notebook, as one text."""
    notebook = nbformat.read(str(grader.graded_notebook_path(
        batch.root / "submissions" / name / "01_bootstrap.ipynb", batch.graded)), as_version=4)
    return "".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", []))


def test_honest_submissions_score_exactly_full_marks(batch):
    assert scores(batch.rows["honest"], LAB01) == ["1"] * 4 and batch.rows["honest"]["score"] == "4"
    lab02 = batch.rows["honest02"]
    assert scores(lab02, LAB02) == ["1"] * 5 and lab02["score"] == "5" and lab02["status"] == "graded", lab02
    assert batch.rows["honest"]["flags"] == "" and batch.rows["honest"]["status"] == "graded"


def test_a_partial_submission_scores_exactly_its_correct_answers(batch):
    row = batch.rows["partial"]
    assert {q: row[q] for q in LAB01} == {"lab01.interval": "1", "lab01.ols": "1", "lab01.ols_se": "0",
                                          "lab01.resample": "0"}
    assert row["score"] == "2" and "returned None: not answered yet" in row["notes"]


def test_equal_file_names_in_two_folders_stay_apart(batch):
    assert batch.rows["honest"]["submission"] != batch.rows["partial"]["submission"]
    names = sorted(p.name for p in batch.graded.glob("01_bootstrap-*.ipynb"))
    assert len(names) == len(set(names)) >= 2
    honest = graded_text(batch, "honest")
    assert "def fit_ols" in honest and "print('x' * 1_000_000)" not in honest


@pytest.mark.parametrize("attack", ["redefine", "forge", "solutions", "background", "package", "recorder", "snoop"])
def test_tampering_gains_nothing(batch, attack):
    row = batch.rows[attack]
    assert row["score"] == "0" and scores(row, LAB01) == ["0"] * 4, row


def test_redefining_check_and_the_registry_is_caught_as_a_mismatch(batch):
    assert "tampered or non-deterministic inputs" in batch.rows["redefine"]["notes"]
    assert "uses the grading internals" in batch.rows["redefine"]["flags"]


def test_forged_recordings_logs_and_status_do_not_count(batch):
    row = batch.rows["forge"]
    assert row["status"] == "graded" and "names the grader's files" in row["flags"]


def test_solutions_are_not_visible_in_the_sandbox(batch):
    text = printed(batch, "solutions")
    assert "solutions found: []" in text and "no builder: CourseNotFoundError" in text


def test_outputs_forged_for_the_submissions_own_inputs_are_rejected(batch):
    notes = batch.rows["recorder"]["notes"]
    assert notes.count("tampered or non-deterministic inputs") == 4, notes


def test_the_seed_cannot_be_read_from_the_harness(batch):
    text = printed(batch, "snoop")
    assert str(SECRET_SEED) not in graded_text(batch, "snoop")
    harness = text.split("harness ", 1)[1].split()[0]
    seen = {line.split()[1]: line.split()[2] for line in text.splitlines() if line.startswith(harness + " ")}
    assert seen == {"environ": "PermissionError", "mem": "PermissionError", "fd/0": "PermissionError",
                    "cmdline": "READ"}, text


def test_a_background_process_cannot_touch_the_csv_later(batch):
    time.sleep(15)                       # longer than the process meant to wait
    assert batch.table.read_text() == batch.written
    assert not (batch.table.parent / "grades.csv.marker").exists()
    alive = [p for p in psutil.process_iter(["cmdline"]) if MARKER in " ".join(p.info["cmdline"] or [])]
    assert alive == []


def test_the_installed_package_cannot_be_edited(batch):
    after = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in PACKAGE_FILES}
    assert after == batch.before
    text = printed(batch, "package")
    assert text.count("EDIT-REFUSED OSError") == 2 and "EDIT-SUCCEEDED" not in text


def test_a_flood_is_capped_and_the_answers_before_it_still_count(batch):
    row = batch.rows["flood"]
    assert row["score"] == "4" and row["status"] == "graded", row
    path = grader.graded_notebook_path(batch.root / "submissions" / "flood" / "01_bootstrap.ipynb", batch.graded)
    assert path.stat().st_size < 6_000_000 and "[output truncated" in path.read_text()


def test_an_endless_cell_times_out_and_earlier_answers_still_count(batch):
    row = batch.rows["loop"]
    assert row["status"] == "timed out" and row["score"] == "4", row


def test_a_kernel_that_ignores_interrupts_is_stopped(batch):
    row = batch.rows["deaf"]
    assert row["status"] == "timed out" and row["score"] == "0" and "stuck" in row["error"], row


def test_memory_and_fork_bombs_are_stopped_with_their_cause(batch):
    assert batch.rows["memory"]["status"] == "out of memory", batch.rows["memory"]
    assert batch.rows["forks"]["status"] in ("too many processes", "out of memory"), batch.rows["forks"]
    assert batch.rows["memory"]["score"] == batch.rows["forks"]["score"] == "0"


def test_a_dead_kernel_is_recorded_with_its_cause(batch):
    row = batch.rows["died"]
    assert row["status"] == "kernel died" and row["score"] == "0" and "kernel died" in row["error"], row


def test_only_the_labs_own_questions_count(batch):
    row = batch.rows["claims02"]
    assert row["score"] == "4" and scores(row, LAB01) == ["1"] * 4
    assert scores(row, LAB02) == [""] * 5, row


def test_a_corrupt_file_is_a_row_and_fails_the_batch(batch):
    row = batch.rows["corrupt"]
    assert row["status"] == "unreadable" and row["score"] == "0" and "unreadable" in row["error"]
    assert not batch.report.ok and [r["status"] for r in batch.report.problems] == ["unreadable"]
