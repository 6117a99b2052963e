"""Grade one submission: its notebook runs in a sandbox, its score is decided here.

`grade_submission` copies the submitted notebook (outputs cleared) into a private working
folder, runs `cs109b_bayes.course.harness` on it in the sandbox (`course.sandbox`) with a
secret seed on its standard input, then, in this process, replays each question of the lab
from the recording the harness left (`cs109b_bayes.grading.probe.replay_question`) and reads
the notebook's code for answers that call the package's own solution
(`cs109b_bayes.grading.flags`). Nothing the submission wrote counts but the recorded
behaviour of its answers on the grader's inputs; what it wrote about itself (errors, the
executed notebook) is read with size limits and without following links, for the error
column and the graded notebook only.

The lab is the grader's choice: `lab="01"`, or the file name `NN_*.ipynb`. `grade_one` is
the module-level function `cs109b_bayes.course.batch.grade_batch` calls (also on Dask).
"""

import dataclasses
import hashlib
import json
import os
import pathlib
import re
import secrets
import shutil
import sys
import tempfile

import nbformat

from cs109b_bayes import grading
from cs109b_bayes.course.harness import OUTPUT_FOLDER
from cs109b_bayes.course.paths import data_dir
from cs109b_bayes.course.sandbox import run_sandboxed, sandbox_kind
from cs109b_bayes.grading.flags import check_notebook
from cs109b_bayes.grading.probe import Outcome, replay_question
from cs109b_bayes.grading.recording import read_untrusted
from cs109b_bayes.grading.serialize import MalformedRecording

__all__ = ["EXTRA_COLUMNS", "Grade", "grade_one", "grade_submission", "graded_notebook_path", "lab_of"]

#: The CSV columns a grade adds after the question columns.
EXTRA_COLUMNS = ("flags", "notes")
_MAX_NOTEBOOK_BYTES = 50 * 2**20
_DATA_MOUNT = "/course-data"
_STARTUP_SECONDS = 120


@dataclasses.dataclass(frozen=True)
class Grade:
    """The outcome of grading one submission.

    Attributes:
        submission: the submitted notebook's path.
        lab: the lab it was graded as (`"lab01"`), or `""` if none could be told.
        outcomes: `{question id: cs109b_bayes.grading.probe.Outcome}` for the lab's questions.
        status: `"graded"`, `"timed out"`, `"kernel died"`, `"out of memory"`, ... for the
            submission's own trouble; `"unreadable"` or `"error"` for the grader's.
        error: the first error the notebook raised, or what stopped the grading.
        flags: notes for the instructor about suspicious code (they do not change the score).
        seconds: wall time of the sandbox run.
        graded_notebook: where the executed notebook was written, or None.
    """

    submission: pathlib.Path
    lab: str
    outcomes: dict
    status: str = "graded"
    error: str = ""
    flags: tuple = ()
    seconds: float = 0.0
    graded_notebook: pathlib.Path = None

    @property
    def score(self):
        """The number of questions passed."""
        return sum(outcome.passed for outcome in self.outcomes.values())

    def row(self):
        """The grade as a CSV row: one 0/1 per question, status, score, error, flags, notes."""
        notes = "; ".join(f"{q}: {o.message}" for q, o in sorted(self.outcomes.items()) if not o.passed)
        return {**{q: bool(o.passed) for q, o in self.outcomes.items()}, "score": self.score,
                "status": self.status, "error": self.error, "flags": "; ".join(self.flags),
                "notes": " ".join(notes.split())[:4000]}


def lab_of(path, lab=None):
    """The lab a submission is graded as: `lab` if given, else its `NN_` file-name prefix.

    Args:
        path: the submission's path.
        lab: `"01"`, `"1"` or `"lab01"`, or None. Default value: None.

    Returns:
        `"labNN"`, or `""` when the file name does not start with `NN_` and no lab is given.

    Raises:
        ValueError: if `lab` is not a lab number.

    #### Examples

    ```python
    from cs109b_bayes.course.grader import lab_of
    lab_of("alice/02_metropolis_linear.ipynb"), lab_of("x.ipynb", "1")   # ('lab02', 'lab01')
    ```
    """
    if lab is not None:
        digits = str(lab).removeprefix("lab")
        if not digits.isdigit():
            raise ValueError(f"lab must be a lab number like 01, got {lab!r}")
        return f"lab{int(digits):02d}"
    match = re.match(r"^(\d\d)(_|$)", pathlib.Path(path).stem)
    return f"lab{match.group(1)}" if match else ""


def graded_notebook_path(path, out_dir):
    """Where the executed copy of a submission goes: one file per submission path, no collisions.

    Args:
        path: the submission's path.
        out_dir: the folder of graded notebooks.

    Returns:
        `out_dir / "<stem>-<hash of the resolved path>.ipynb"`.

    #### Examples

    ```python
    from cs109b_bayes.course.grader import graded_notebook_path
    graded_notebook_path("a/01_x.ipynb", "g") != graded_notebook_path("b/01_x.ipynb", "g")   # True
    ```
    """
    key = hashlib.sha256(str(pathlib.Path(path).expanduser().resolve()).encode()).hexdigest()[:12]
    return pathlib.Path(out_dir) / f"{pathlib.Path(path).stem}-{key}.ipynb"


def _read_submission(path):
    with open(path, "rb") as handle:
        data = handle.read(_MAX_NOTEBOOK_BYTES + 1)
    if len(data) > _MAX_NOTEBOOK_BYTES:
        raise ValueError(f"larger than {_MAX_NOTEBOOK_BYTES // 2**20} MB")
    notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


def _read_status(workdir):
    """The harness's status file as a dict of known fields (untrusted: types checked), or None."""
    try:
        status = json.loads(read_untrusted(workdir, f"{OUTPUT_FOLDER}/status.json", max_bytes=2**20))
    except (FileNotFoundError, MalformedRecording, ValueError, RecursionError):
        return None
    if not isinstance(status, dict):
        return None
    text = lambda key: str(status.get(key) or "")[:500]  # noqa: E731
    probe = status.get("probe") if isinstance(status.get("probe"), dict) else {}
    return {"kernel": text("kernel"), "first_error": text("first_error"),
            "notebook_timed_out": status.get("notebook_timed_out") is True,
            "cell_timed_out": bool(status.get("timed_out_cells")),
            "probe": {str(q): str(v)[:300] for q, v in probe.items()}}


def _keep_executed(workdir, target):
    try:
        data = read_untrusted(workdir, f"{OUTPUT_FOLDER}/executed.ipynb", max_bytes=2 * _MAX_NOTEBOOK_BYTES)
        notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    except (FileNotFoundError, MalformedRecording, ValueError, UnicodeDecodeError, RecursionError):
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(target))
    return target


def _status_and_error(run, status):
    """(status, error) from the sandbox's outcome and the harness's report."""
    first = status["first_error"] if status else ""
    for hit, kind in ((run.timed_out, "timed out"), (run.out_of_memory, "out of memory"),
                      (run.too_many_processes, "too many processes")):
        if hit:
            return kind, "; ".join(filter(None, [first, run.cause]))
    if status is None:
        last = [line for line in run.stderr.splitlines() if line.strip()][-1:] or [run.cause or "no message"]
        return "error", f"the grading harness ended without a result (exit {run.returncode}): {last[0][:300]}"
    if status["kernel"]:
        kind = "kernel died" if "died" in status["kernel"] else "timed out"
        return kind, "; ".join(filter(None, [first, status["kernel"]]))
    if status["notebook_timed_out"]:
        return "timed out", "; ".join(filter(None, [first, "notebook time limit reached"]))
    if status["cell_timed_out"]:
        return "timed out", first
    return "graded", first


def grade_submission(path, *, lab=None, out_dir="build/graded", fast=False, cell_timeout=600,
                     notebook_timeout=1800, probe_timeout=300, memory_bytes=4 * 2**30, rounds=2,
                     sandbox=None, keep_workdir=False):
    """Run one submitted notebook in the sandbox and score each question of its lab outside it.

    Args:
        path: the submitted `.ipynb`.
        lab: the lab to grade it as (`"01"`). Default value: None (its `NN_` file name).
        out_dir: where the executed copy is written (`graded_notebook_path`).
            Default value: `"build/graded"`.
        fast: run the notebook in fast mode (`CS109B_FAST=1`). Default value: False.
        cell_timeout: seconds allowed per cell. Default value: 600.
        notebook_timeout: seconds allowed for all cells together. Default value: 1800.
        probe_timeout: seconds allowed to record each question. Default value: 300.
        memory_bytes: memory limit of the sandbox. Default value: 4 GiB.
        rounds: independent input seeds each question must pass. Default value: 2.
        sandbox: `"auto"`, `"bwrap"` or `"none"` (`course.sandbox.sandbox_kind`).
            Default value: None (`$CS109B_SANDBOX`, else auto).
        keep_workdir: keep the private working folder (for debugging). Default value: False.

    Returns:
        A `Grade`.

    #### Examples

    ```python
    from cs109b_bayes.course import grade_submission
    grade = grade_submission("alice/01_bootstrap.ipynb", fast=True)
    grade.score, grade.row()
    ```
    """
    path = pathlib.Path(path)
    lab = lab_of(path, lab)
    if not lab or not grading.questions(lab):
        why = f"no questions for {lab}" if lab else "cannot tell the lab: name the file NN_*.ipynb or pass --lab"
        return Grade(path, lab, {}, status="error", error=why)
    specs = [grading.lookup(q) for q in grading.questions(lab)]
    blank = {q.id: Outcome(q.id, False, "not graded", "not recorded") for q in specs}
    try:
        notebook = _read_submission(path)
    except Exception as err:  # noqa: BLE001  (any unreadable file is a row, never a crash)
        return Grade(path, lab, blank, status="unreadable", error=f"unreadable: {type(err).__name__}: {err}"[:300])
    flags = check_notebook(notebook, specs)
    kind = sandbox_kind(sandbox)
    seed = secrets.randbits(63)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="cs109b-grade-"))
    try:
        nbformat.write(notebook, str(workdir / "submission.ipynb"))
        data = str(data_dir())
        argv = [sys.executable, "-I", "-m", "cs109b_bayes.course.harness", "--lab", lab,
                "--cell-timeout", str(cell_timeout), "--notebook-timeout", str(notebook_timeout),
                "--probe-timeout", str(probe_timeout), "--rounds", str(rounds)]
        argv += ["--fast"] * fast + ["--pid-namespace"] * (kind == "bwrap")
        run = run_sandboxed(
            argv, workdir=workdir, wall_seconds=notebook_timeout + len(specs) * probe_timeout + _STARTUP_SECONDS,
            memory_bytes=memory_bytes, stdin_data=f"{seed}\n".encode(),
            sandbox="bwrap" if kind == "bwrap" else "none",
            readonly_paths=[(data, _DATA_MOUNT)] if kind == "bwrap" else [],
            env={"CS109B_DATA": _DATA_MOUNT if kind == "bwrap" else data})
        status = _read_status(workdir)
        outcomes = {spec.id: replay_question(spec.id, seed, workdir, rounds=rounds) for spec in specs}
        for question, outcome in outcomes.items():     # say why a recording is missing, when known
            probe = (status or {}).get("probe", {}).get(question, "")
            if outcome.kind == "not recorded" and probe and probe != "recorded":
                outcomes[question] = Outcome(question, False, f"not recorded: {probe}", "not recorded")
        for question, reason in flags.zeroed.items():
            outcomes[question] = Outcome(question, False, reason, "library solution")
        state, error = _status_and_error(run, status)
        graded = _keep_executed(workdir, graded_notebook_path(path, out_dir))
        return Grade(path, lab, outcomes, status=state, error=error, flags=flags.suspicious,
                     seconds=round(run.seconds, 1), graded_notebook=graded)
    finally:
        if not keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def grade_one(path, **options):
    """Grade one submission into a CSV row for `cs109b_bayes.course.batch.grade_batch`.

    Module-level (so Dask can ship it; bind options with `functools.partial`).

    Args:
        path: the submitted notebook.
        **options: keyword options of `grade_submission`.

    Returns:
        `Grade.row()`: question columns, `score`, `status`, `error`, `flags`, `notes`.

    #### Examples

    ```python
    import functools
    from cs109b_bayes.course.batch import grade_batch
    from cs109b_bayes.course.grader import grade_one
    grade_batch(paths, grade_one=functools.partial(grade_one, fast=True), questions=..., csv_path="g.csv")
    ```
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return grade_submission(path, **options).row()
