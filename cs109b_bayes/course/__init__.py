"""The course: lab sources, student notebooks, headless lab runs and grading.

The modules, one job each:

* `paths`: where the course lives (a checkout, `$CS109B_ROOT`, or the copy installed with
  the package), `find_labs`, `resolve_labs`, the data folder.
* `source`: the lab source format (jupytext percent scripts with solution markers),
  `make_notebook`.
* `notebooks`: the generated student notebooks and their up-to-date check, which never
  overwrites a notebook a student changed without `force` (and a backup).
* `runner`: `run_lab` / `run_notebook` in a real kernel, `LabRun`, `index.html`.
* `sandbox`, `processes`: run a command under bubblewrap (or a weaker fallback) with limits.
* `harness`: the program that runs a submission inside the sandbox and records its answers.
* `grader`: one submission: sandbox, then the score from replaying the recording here.
* `batch`, `grades_csv`: many submissions (threads or Dask) into a CSV that survives anything.
* `release`: the student hand-out, without solutions.

The names below are loaded on first use, so `import cs109b_bayes` does not pay for jupytext,
nbformat or nbclient.

#### Examples

```python
from cs109b_bayes import course
source = course.resolve_labs(["01"])[0]
run = course.run_lab(source, fast=True, out_dir="build")
```
"""

import importlib

_EXPORTS = {
    "CourseNotFoundError": "paths",
    "bundled_root": "paths",
    "course_root": "paths",
    "data_dir": "paths",
    "find_labs": "paths",
    "is_checkout": "paths",
    "resolve_labs": "paths",
    "student_notebook_path": "paths",
    "make_notebook": "source",
    "read_source": "source",
    "source_text": "source",
    "CHANGED": "notebooks",
    "MISSING": "notebooks",
    "STALE": "notebooks",
    "UP_TO_DATE": "notebooks",
    "StudentNotebook": "notebooks",
    "cells_fingerprint": "notebooks",
    "check_student_notebooks": "notebooks",
    "stale_student_notebooks": "notebooks",
    "student_notebook_text": "notebooks",
    "write_student_notebooks": "notebooks",
    "LabRun": "runner",
    "run_lab": "runner",
    "run_notebook": "runner",
    "write_index_html": "runner",
    "Grade": "grader",
    "grade_one": "grader",
    "grade_submission": "grader",
    "graded_notebook_path": "grader",
    "lab_of": "grader",
    "write_release": "release",
    "SandboxResult": "sandbox",
    "run_sandboxed": "sandbox",
    "sandbox_kind": "sandbox",
    "BatchReport": "batch",
    "grade_batch": "batch",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        module = importlib.import_module(f"{__name__}.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
