"""The student notebooks: generate `labs/NN_stem.ipynb` from the sources, never clobber a student's work.

Each generated notebook records a fingerprint of its cells (type and source) in its metadata
(`metadata.cs109b_bayes.cells_sha256`). A notebook on disk is then

* "up to date": byte for byte what the source generates today;
* "missing": not there;
* "stale": not up to date, but its cells are the ones we generated (then or now), so only
  the sources, outputs or metadata moved on; it is safe to regenerate;
* "changed by a student": its cells differ from anything we generated. `write_student_notebooks`
  leaves it alone unless `force=True`, which first keeps a timestamped backup beside it.
"""

import dataclasses
import datetime
import hashlib
import json
import pathlib

import jupytext
import nbformat

from cs109b_bayes.course.paths import find_labs, student_notebook_path
from cs109b_bayes.course.source import make_notebook

__all__ = [
    "CHANGED",
    "MISSING",
    "STALE",
    "UP_TO_DATE",
    "StudentNotebook",
    "cells_fingerprint",
    "check_student_notebooks",
    "stale_student_notebooks",
    "student_notebook_text",
    "write_student_notebooks",
]

UP_TO_DATE = "up to date"
MISSING = "missing"
STALE = "stale"
CHANGED = "changed by a student"
_METADATA_KEY = "cs109b_bayes"


@dataclasses.dataclass(frozen=True)
class StudentNotebook:
    """The state of one student notebook, and what `write_student_notebooks` did with it.

    Attributes:
        source: the lab source, `labs/source/NN_stem.py`.
        path: the student notebook, `labs/NN_stem.ipynb` (or in the chosen folder).
        status: `UP_TO_DATE`, `MISSING`, `STALE` or `CHANGED` (before any writing).
        written: True when the notebook was (re)written.
        backup: where a student's changed notebook was kept before `force` overwrote it, or None.
    """

    source: pathlib.Path
    path: pathlib.Path
    status: str
    written: bool = False
    backup: pathlib.Path = None


def cells_fingerprint(notebook):
    """SHA-256 of a notebook's cell types and sources: what a student edits.

    Outputs, execution counts and metadata do not count, so running a notebook or opening
    it in Jupyter does not change its fingerprint.

    Args:
        notebook: an `nbformat.NotebookNode`.

    Returns:
        A hex string.

    #### Examples

    ```python
    import nbformat
    from cs109b_bayes.course import cells_fingerprint
    cells_fingerprint(nbformat.read("labs/01_bootstrap.ipynb", as_version=4))
    ```
    """
    cells = [[cell.cell_type, cell.source] for cell in notebook.cells]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode("utf-8")).hexdigest()


def student_notebook_text(source):
    """The text of the student notebook generated from `source`, with its cells' fingerprint.

    Args:
        source: path to `labs/source/NN_stem.py`.

    Returns:
        The `.ipynb` JSON text (written by jupytext, ending with a newline).

    Raises:
        ValueError: for a malformed source.

    #### Examples

    ```python
    from cs109b_bayes import course
    text = course.student_notebook_text(course.resolve_labs(["01"])[0])
    ```
    """
    notebook = make_notebook(source, solution=False)
    notebook.metadata[_METADATA_KEY] = {"cells_sha256": cells_fingerprint(notebook)}
    return jupytext.writes(notebook, fmt="ipynb") + "\n"


def _status(path, expected_text):
    if not path.exists():
        return MISSING
    text = path.read_text(encoding="utf-8")
    if text == expected_text:
        return UP_TO_DATE
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception:  # noqa: BLE001  (not a notebook any more: someone edited it by hand)
        return CHANGED
    current = cells_fingerprint(notebook)
    recorded = notebook.metadata.get(_METADATA_KEY, {}).get("cells_sha256")
    expected = cells_fingerprint(nbformat.reads(expected_text, as_version=4))
    return STALE if current in (recorded, expected) else CHANGED


def check_student_notebooks(root=None, *, out_dir=None):
    """The state of every lab's student notebook, without writing anything.

    Args:
        root: the course folder. Default value: `course_root()`.
        out_dir: the folder holding the student notebooks. Default value: the course's `labs/`.

    Returns:
        A list of `StudentNotebook`, one per lab source, in lab order.

    Raises:
        CourseNotFoundError: if there is no course folder.
        ValueError: for a malformed source.

    #### Examples

    ```python
    from cs109b_bayes import course
    [n.path.name for n in course.check_student_notebooks() if n.status != course.UP_TO_DATE]
    ```
    """
    states = []
    for source in find_labs(root):
        path = student_notebook_path(source)
        path = pathlib.Path(out_dir) / path.name if out_dir is not None else path
        states.append(StudentNotebook(source, path, _status(path, student_notebook_text(source))))
    return states


def stale_student_notebooks(root=None):
    """The student notebooks that are not up to date (missing, stale, or changed by a student).

    Args:
        root: the course folder. Default value: `course_root()`.

    Returns:
        A list of notebook paths.

    #### Examples

    ```python
    from cs109b_bayes import course
    assert course.stale_student_notebooks() == []
    ```
    """
    return [state.path for state in check_student_notebooks(root) if state.status != UP_TO_DATE]


def _backup_path(path):
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.stem}.backup-{stamp}.ipynb")
    count = 1
    while candidate.exists():
        count += 1
        candidate = path.with_name(f"{path.stem}.backup-{stamp}-{count}.ipynb")
    return candidate


def write_student_notebooks(root=None, *, out_dir=None, force=False):
    """Write the student notebook (solutions blanked) of every lab that is missing or stale.

    A notebook changed by a student is left alone, unless `force`: then it is first renamed
    to `NN_stem.backup-YYYYmmdd-HHMMSS.ipynb` beside it, and regenerated.

    Args:
        root: the course folder. Default value: `course_root()`.
        out_dir: where to write the notebooks. Default value: the course's `labs/`.
        force: overwrite notebooks changed by a student (after a backup). Default value: False.

    Returns:
        A list of `StudentNotebook`, one per lab; `status` is the state before writing.

    Raises:
        CourseNotFoundError: if there is no course folder.
        ValueError: for a malformed source.

    #### Examples

    ```python
    from cs109b_bayes import course
    refused = [n.path for n in course.write_student_notebooks() if n.status == course.CHANGED and not n.written]
    ```
    """
    results = []
    for state in check_student_notebooks(root, out_dir=out_dir):
        backup, written = None, False
        if state.status == CHANGED and force:
            backup = _backup_path(state.path)
            state.path.rename(backup)
        if state.status in (MISSING, STALE) or (state.status == CHANGED and force):
            state.path.parent.mkdir(parents=True, exist_ok=True)
            state.path.write_text(student_notebook_text(state.source), encoding="utf-8")
            written = True
        results.append(dataclasses.replace(state, written=written, backup=backup))
    return results
