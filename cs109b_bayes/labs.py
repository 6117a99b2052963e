"""Lab sources, generated student notebooks and the headless lab runner.

Every lab has one source, `labs/source/NN_stem.py`, in the "percent" format:
cells start with `# %%` (code) or `# %% [markdown]` (markdown, each line
prefixed with `# `). Solutions are marked inside the source:

* lines between `# BEGIN SOLUTION` and `# END SOLUTION` become one `...` line
  (with the same indentation) in the student copy;
* `name = value  # SOLUTION` becomes `name = ...`;
* in markdown cells, lines between `BEGIN SOLUTION` and `END SOLUTION`
  become `*Your answer here.*`.

`make_notebook(lab, solution=True)` builds the solution notebook that
`cs109b-bayes run` executes; `write_student_notebooks()` writes the student
copies to `labs/NN_stem.ipynb`; `stale_student_notebooks()` lists the copies
that no longer match their sources.
"""

import dataclasses
import html
import json
import os
import pathlib
import re
import tempfile
import time

import nbformat

__all__ = [
    "LabRun",
    "find_labs",
    "make_notebook",
    "resolve_labs",
    "run_lab",
    "stale_student_notebooks",
    "write_index_html",
    "write_student_notebooks",
]

_CELL = re.compile(r"^# %%(?P<rest>.*)$")
_SOLUTION_LINE = re.compile(r"^(?P<lhs>\s*[^#]*?=)\s*.+?\s*#\s*SOLUTION\s*$")


def repo_root():
    """The folder holding `labs/` (the repository checkout)."""
    here = pathlib.Path(__file__).resolve().parent.parent
    return pathlib.Path(os.environ.get("CS109B_ROOT", here))


def find_labs(root=None):
    """The lab sources, sorted by number.

    Args:
        root: the repository folder. Default value: the checkout this package is in.

    Returns:
        A list of `pathlib.Path` to `labs/source/NN_stem.py`.

    #### Examples

    ```python
    from cs109b_bayes import labs
    [p.stem for p in labs.find_labs()]   # ['01_bootstrap', ...]
    ```
    """
    folder = pathlib.Path(root or repo_root()) / "labs" / "source"
    return sorted(folder.glob("[0-9][0-9]_*.py"))


def resolve_labs(names, root=None):
    """Map lab names (`"01"`, `"1"`, `"01_bootstrap"`) to their sources.

    Args:
        names: lab numbers or file stems; empty means every lab.
        root: the repository folder. Default value: this checkout.

    Returns:
        A list of source paths, in the order given.

    Raises:
        ValueError: for a name that matches no lab, listing the labs there are.

    #### Examples

    ```python
    from cs109b_bayes import labs
    labs.resolve_labs(["1"])   # [PosixPath('.../labs/source/01_bootstrap.py')]
    ```
    """
    sources = find_labs(root)
    if not names:
        return sources
    chosen = []
    for name in names:
        key = str(name).strip()
        key = key[:-3] if key.endswith(".py") else key[:-6] if key.endswith(".ipynb") else key
        key = pathlib.Path(key).name
        matches = [p for p in sources if p.stem == key or (key.isdigit() and p.stem[:2] == f"{int(key):02d}")]
        if not matches:
            known = ", ".join(p.stem for p in sources) or "none"
            raise ValueError(f"unknown lab {name!r}; the labs are: {known}")
        chosen.extend(matches)
    return chosen


def _split_cells(text):
    cells, kind, lines = [], None, []
    for line in text.splitlines():
        match = _CELL.match(line)
        if match:
            if kind is not None:
                cells.append((kind, lines))
            rest = match.group("rest")
            kind = "markdown" if "[markdown]" in rest else "code"
            lines = []
            continue
        if kind is None:
            if line.strip():
                raise ValueError(f"text before the first '# %%' cell marker: {line!r}")
            continue
        lines.append(line)
    if kind is not None:
        cells.append((kind, lines))
    return cells


def _strip_blank_edges(lines):
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def _student_code(lines):
    out, hiding = [], False
    for line in lines:
        stripped = line.strip()
        if stripped == "# BEGIN SOLUTION":
            hiding = True
            out.append(line[: len(line) - len(line.lstrip())] + "...  # YOUR CODE HERE")
            continue
        if stripped == "# END SOLUTION":
            hiding = False
            continue
        if hiding:
            continue
        match = _SOLUTION_LINE.match(line)
        out.append(f"{match.group('lhs')} ...  # YOUR CODE HERE" if match else line)
    if hiding:
        raise ValueError("'# BEGIN SOLUTION' without '# END SOLUTION'")
    return out


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


def _markdown_solution(lines):
    return [line for line in lines if line.strip() not in ("BEGIN SOLUTION", "END SOLUTION")]


def _code_solution(lines):
    out = []
    for line in lines:
        if line.strip() in ("# BEGIN SOLUTION", "# END SOLUTION"):
            continue
        out.append(re.sub(r"\s*#\s*SOLUTION\s*$", "", line))
    return out


def make_notebook(source, *, solution=True):
    """Build a notebook from a lab source.

    Args:
        source: path to `labs/source/NN_stem.py`.
        solution: keep the solutions (True) or blank them for students (False).
            Default value: True.

    Returns:
        An `nbformat.NotebookNode` with no outputs.

    Raises:
        ValueError: for a malformed source (text before the first cell, an
            unclosed solution block).

    #### Examples

    ```python
    from cs109b_bayes import labs
    nb = labs.make_notebook(labs.resolve_labs(["01"])[0], solution=False)
    ```
    """
    source = pathlib.Path(source)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    for index, (kind, lines) in enumerate(_split_cells(source.read_text(encoding="utf-8"))):
        if kind == "markdown":
            lines = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines]
            lines = _markdown_solution(lines) if solution else _student_markdown(lines)
            cell = nbformat.v4.new_markdown_cell("\n".join(_strip_blank_edges(lines)))
        else:
            lines = _code_solution(lines) if solution else _student_code(lines)
            cell = nbformat.v4.new_code_cell("\n".join(_strip_blank_edges(lines)))
        cell["id"] = f"{source.stem[:2]}-{index:03d}"
        notebook.cells.append(cell)
    return notebook


def _student_path(source):
    return source.parent.parent / f"{source.stem}.ipynb"


def _notebook_text(notebook):
    return nbformat.writes(notebook) + "\n"


def write_student_notebooks(root=None):
    """Write `labs/NN_stem.ipynb` (solutions blanked) for every lab source.

    Returns:
        The list of paths written.

    #### Examples

    ```python
    from cs109b_bayes import labs
    labs.write_student_notebooks()
    ```
    """
    written = []
    for source in find_labs(root):
        path = _student_path(source)
        path.write_text(_notebook_text(make_notebook(source, solution=False)), encoding="utf-8")
        written.append(path)
    return written


def stale_student_notebooks(root=None):
    """The student notebooks that are missing or differ from their sources.

    #### Examples

    ```python
    from cs109b_bayes import labs
    assert labs.stale_student_notebooks() == []
    ```
    """
    stale = []
    for source in find_labs(root):
        path = _student_path(source)
        expected = _notebook_text(make_notebook(source, solution=False))
        if not path.exists() or path.read_text(encoding="utf-8") != expected:
            stale.append(path)
    return stale


@dataclasses.dataclass(frozen=True)
class LabRun:
    """The outcome of running one lab notebook headless.

    Attributes:
        lab: the lab's file stem, e.g. `"01_bootstrap"`.
        status: `"ok"` or `"failed"`.
        seconds: wall time of the run.
        checks_passed: checks that passed.
        checks_total: checks that ran.
        error: the error that stopped the lab (empty when ok).
        notebook: path of the executed notebook.
        failed_checks: ids of the checks that failed.
    """

    lab: str
    status: str
    seconds: float
    checks_passed: int
    checks_total: int
    error: str
    notebook: str
    failed_checks: tuple = ()


def _read_check_log(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as log:
        return [json.loads(line) for line in log if line.strip()]


def run_notebook(notebook, *, out_path, env, timeout=600, allow_errors=False):
    """Execute `notebook` in a fresh kernel with extra environment variables.

    The executed notebook is written to `out_path`; the kernel process's own log
    (start-up warnings, a crash's last words) goes to `out_path` with the suffix
    `.kernel.log`, so it does not clutter the progress lines.

    Returns:
        `(error, checks, seconds)`: the error text ("" if none), the check
        outcomes logged by `cb.check` (list of dicts), and wall seconds.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    out_path = pathlib.Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        log_path = os.path.join(scratch, "checks.jsonl")
        kernel_env = dict(os.environ, **env, CS109B_CHECK_LOG=log_path, MPLBACKEND="module://matplotlib_inline.backend_inline")
        client = NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=allow_errors,
            resources={"metadata": {"path": str(out_path.parent)}},
        )
        error, start = "", time.perf_counter()
        kernel_log = out_path.with_suffix(".kernel.log")  # the kernel process's own warnings
        try:
            with open(kernel_log, "w", encoding="utf-8") as log:
                client.execute(env=kernel_env, stderr=log)
        except CellExecutionError as err:
            error = _last_error_line(str(err))
        except (CellTimeoutError, DeadKernelError, TimeoutError) as err:
            error = f"{type(err).__name__}: {err}"
        seconds = time.perf_counter() - start
        checks = _read_check_log(log_path)
    nbformat.write(notebook, str(out_path))
    return error, checks, seconds


def _last_error_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if re.match(r"^\w*(Error|Exception|Failed|Interrupt)\b", line.strip()):
            return line.strip()
    return lines[-1] if lines else "error"


def run_lab(source, *, out_dir="build", fast=False, strict=True, timeout=600, solution=True):
    """Run one lab top to bottom in a real Jupyter kernel.

    Args:
        source: path to the lab source (see `resolve_labs`).
        out_dir: where the executed notebook is written. Default value: `"build"`.
        fast: set `CS109B_FAST=1` (smaller chains and epochs). Default value: False.
        strict: set `CS109B_STRICT=1` (failed checks raise). Default value: True.
        timeout: seconds allowed per cell. Default value: 600.
        solution: run the solution notebook (True) or the student copy (False).
            Default value: True.

    Returns:
        A `LabRun`.

    #### Examples

    ```python
    from cs109b_bayes import labs
    run = labs.run_lab(labs.resolve_labs(["01"])[0], fast=True)
    print(run.status, run.checks_passed, run.checks_total)
    ```
    """
    source = pathlib.Path(source)
    notebook = make_notebook(source, solution=solution)
    env = {"CS109B_FAST": "1" if fast else "0", "CS109B_STRICT": "1" if strict else "0"}
    suffix = "" if solution else "_student"
    out_path = pathlib.Path(out_dir) / f"{source.stem}{suffix}.ipynb"
    error, checks, seconds = run_notebook(
        notebook, out_path=out_path, env=env, timeout=timeout, allow_errors=not solution
    )
    passed = sum(1 for c in checks if c["passed"])
    failed = tuple(c["question"] for c in checks if not c["passed"])
    status = "failed" if error or (solution and failed) else "ok"
    return LabRun(source.stem, status, seconds, passed, len(checks), error, str(out_path), failed)


def _figures_and_text(notebook):
    parts = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("#"):
            parts.append(f"<h3>{html.escape(cell.source.splitlines()[0].lstrip('# '))}</h3>")
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                parts.append(f'<img style="max-width:900px" src="data:image/png;base64,{data["image/png"]}">')
            elif output.get("output_type") == "stream" and output.get("name") == "stdout":
                parts.append(f"<pre>{html.escape(output.get('text', ''))}</pre>")
            elif output.get("output_type") == "error":
                parts.append(f"<pre style='color:#cf222e'>{html.escape(output.get('ename', ''))}: {html.escape(output.get('evalue', ''))}</pre>")
    return "\n".join(parts)


def write_index_html(runs, out_dir):
    """Write `out_dir/index.html`: the run table, then each lab's figures and printed numbers.

    Returns:
        The path written.
    """
    rows = "\n".join(
        f"<tr><td><a href='#{r.lab}'>{r.lab}</a></td><td>{r.status}</td><td>{r.seconds:.1f}</td>"
        f"<td>{r.checks_passed}/{r.checks_total}</td><td>{html.escape(r.error)}</td></tr>"
        for r in runs
    )
    sections = []
    for r in runs:
        notebook = nbformat.read(r.notebook, as_version=4) if os.path.exists(r.notebook) else None
        body = _figures_and_text(notebook) if notebook else "<p>no notebook</p>"
        sections.append(f"<h2 id='{r.lab}'>{r.lab} ({r.status})</h2>\n{body}")
    page = (
        "<!doctype html><meta charset='utf-8'><title>cs109b_bayes labs</title>"
        "<style>body{font-family:sans-serif;max-width:1000px;margin:auto}"
        "td,th{padding:2px 10px;text-align:left}</style>"
        "<h1>cs109b_bayes lab run</h1><table><tr><th>lab</th><th>status</th><th>seconds</th>"
        f"<th>checks</th><th>error</th></tr>{rows}</table>" + "\n".join(sections)
    )
    path = pathlib.Path(out_dir) / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path

