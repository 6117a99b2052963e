"""The lab source format: jupytext "percent" scripts with solution markers.

Every lab has one source, `labs/source/NN_stem.py`, in jupytext's percent format: cells start
with `# %%` (code) or `# %% [markdown]` (markdown, each line prefixed with `# `). jupytext
reads it into cells; what is ours is the solution markers inside them:

* lines between `# BEGIN SOLUTION` and `# END SOLUTION` become one `...  # YOUR CODE HERE`
  line (with the same indentation) in the student copy;
* `name = value  # SOLUTION` becomes `name = ...  # YOUR CODE HERE`;
* in markdown cells, lines between `BEGIN SOLUTION` and `END SOLUTION` become
  `*Your answer here.*`.

The solution notebook keeps the solutions and drops the markers. Nothing may come before the
first cell marker (jupytext would read it as a header or an extra cell). As everywhere in
jupytext, an IPython magic is written commented in the source (`# %time fit()`) and becomes
`%time fit()` in the notebook.
"""

import pathlib
import re

import jupytext
import nbformat

__all__ = ["make_notebook", "read_source", "source_text"]

_CELL_MARKER = re.compile(r"^# %%")
_SOLUTION_LINE = re.compile(r"^(?P<lhs>\s*[^#]*?=)\s*.+?\s*#\s*SOLUTION\s*$")
_SOLUTION_TAG = re.compile(r"\s*#\s*SOLUTION\s*$")
_FORMAT = "py:percent"
_KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def read_source(source):
    """Read a lab source into a notebook of raw cells (solutions and markers kept).

    Args:
        source: path to `labs/source/NN_stem.py`.

    Returns:
        An `nbformat.NotebookNode` whose cells carry no metadata, with ids `NN-000`, `NN-001`, ...

    Raises:
        ValueError: if text comes before the first `# %%` cell marker.
        FileNotFoundError: if `source` does not exist.

    #### Examples

    ```python
    from cs109b_bayes import course
    cells = course.read_source(course.resolve_labs(["01"])[0]).cells
    ```
    """
    source = pathlib.Path(source)
    text = source.read_text(encoding="utf-8")
    for line in text.splitlines():
        if _CELL_MARKER.match(line):
            break
        if line.strip():
            raise ValueError(f"{source.name}: text before the first '# %%' cell marker: {line!r}")
    notebook = jupytext.reads(text, fmt=_FORMAT)
    notebook.metadata = nbformat.from_dict({"kernelspec": _KERNELSPEC, "language_info": {"name": "python"}})
    for index, cell in enumerate(notebook.cells):
        cell.metadata = nbformat.from_dict({})
        cell["id"] = f"{source.stem[:2]}-{index:03d}"
    return notebook


def source_text(notebook):
    """A notebook written back in the lab source format (jupytext percent, no header).

    Args:
        notebook: an `nbformat.NotebookNode`, e.g. from `read_source`.

    Returns:
        The source text; `read_source` of it gives the same cells.

    #### Examples

    ```python
    from cs109b_bayes import course
    text = course.source_text(course.read_source("labs/source/01_bootstrap.py"))
    ```
    """
    notebook = nbformat.from_dict(notebook)
    notebook.metadata["jupytext"] = {"notebook_metadata_filter": "-all", "cell_metadata_filter": "-all"}
    return jupytext.writes(notebook, fmt=_FORMAT)


def _student_code(lines):
    out, hiding = [], False
    for line in lines:
        stripped = line.strip()
        if stripped == "# BEGIN SOLUTION":
            hiding = True
            out.append(line[: len(line) - len(line.lstrip())] + "...  # YOUR CODE HERE")
        elif stripped == "# END SOLUTION":
            hiding = False
        elif not hiding:
            match = _SOLUTION_LINE.match(line)
            out.append(f"{match.group('lhs')} ...  # YOUR CODE HERE" if match else line)
    if hiding:
        raise ValueError("'# BEGIN SOLUTION' without '# END SOLUTION'")
    return out


def _solution_code(lines):
    return [_SOLUTION_TAG.sub("", line) for line in lines
            if line.strip() not in ("# BEGIN SOLUTION", "# END SOLUTION")]


def _student_markdown(lines):
    out, hiding = [], False
    for line in lines:
        if line.strip() == "BEGIN SOLUTION":
            hiding = True
            out.append("*Your answer here.*")
        elif line.strip() == "END SOLUTION":
            hiding = False
        elif not hiding:
            out.append(line)
    if hiding:
        raise ValueError("markdown 'BEGIN SOLUTION' without 'END SOLUTION'")
    return out


def _solution_markdown(lines):
    return [line for line in lines if line.strip() not in ("BEGIN SOLUTION", "END SOLUTION")]


def _strip_blank_edges(lines):
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def make_notebook(source, *, solution=True):
    """Build the solution or student notebook of a lab source.

    Args:
        source: path to `labs/source/NN_stem.py`.
        solution: keep the solutions (True) or blank them for students (False).
            Default value: True.

    Returns:
        An `nbformat.NotebookNode` with no outputs.

    Raises:
        ValueError: for a malformed source (text before the first cell, an
            unclosed solution block), naming the lab.

    #### Examples

    ```python
    from cs109b_bayes import course
    notebook = course.make_notebook(course.resolve_labs(["01"])[0], solution=False)
    ```
    """
    notebook = read_source(source)
    for cell in notebook.cells:
        lines = cell.source.splitlines()
        try:
            if cell.cell_type == "markdown":
                lines = _solution_markdown(lines) if solution else _student_markdown(lines)
            elif cell.cell_type == "code":
                lines = _solution_code(lines) if solution else _student_code(lines)
        except ValueError as err:
            raise ValueError(f"{pathlib.Path(source).name}, cell {cell['id']}: {err}") from None
        cell.source = "\n".join(_strip_blank_edges(lines))
    return notebook
