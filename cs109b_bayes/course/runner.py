"""Run labs headless in a real Jupyter kernel, and the `index.html` report of a run.

`run_lab` builds a lab's notebook (solution or student copy), executes it top to bottom with
`CS109B_FAST` / `CS109B_STRICT` set, and counts the checks it ran from the check log that
`cb.check` appends to (`CS109B_CHECK_LOG`). `write_index_html` collects the executed notebooks'
figures and printed numbers on one page.
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

from cs109b_bayes.course.source import make_notebook

__all__ = ["LabRun", "run_lab", "run_notebook", "write_index_html"]


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


def _last_error_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if re.match(r"^\w*(Error|Exception|Failed|Interrupt)\b", line.strip()):
            return line.strip()
    return lines[-1] if lines else "error"


# Not passed on to a lab's kernel, so it runs as in a student's own environment: pytest's marker
# (ipykernel stops forwarding low-level output under pytest) and a log level that `import
# cs109b_bayes` set in this process.
_NOT_INHERITED = ("PYTEST_CURRENT_TEST", "TF_CPP_MIN_LOG_LEVEL")


def run_notebook(notebook, *, out_path, env, timeout=600, allow_errors=False):
    """Execute `notebook` in a fresh kernel with extra environment variables.

    The executed notebook is written to `out_path`; the kernel process's own log
    (start-up warnings, a crash's last words) goes to `out_path` with the suffix
    `.kernel.log`, so it does not clutter the progress lines.

    Args:
        notebook: an `nbformat.NotebookNode`; it is executed in place.
        out_path: where the executed notebook is written (its folder is the kernel's
            working directory).
        env: extra environment variables for the kernel (strings).
        timeout: seconds allowed per cell. Default value: 600.
        allow_errors: keep executing after a cell raises. Default value: False.

    Returns:
        `(error, checks, seconds)`: the error text ("" if none), the check
        outcomes logged by `cb.check` (list of dicts), and wall seconds.

    #### Examples

    ```python
    from cs109b_bayes import course
    notebook = course.make_notebook(course.resolve_labs(["01"])[0])
    error, checks, seconds = course.run_notebook(notebook, out_path="build/01.ipynb",
                                                 env={"CS109B_FAST": "1"})
    ```
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    out_path = pathlib.Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        log_path = os.path.join(scratch, "checks.jsonl")
        kernel_env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        kernel_env.update(CS109B_HEADLESS="1", **env, CS109B_CHECK_LOG=log_path,
                          MPLBACKEND="module://matplotlib_inline.backend_inline")
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
        A `LabRun`; a solution run with a failed check has status `"failed"`.

    Raises:
        ValueError: for a malformed source.

    #### Examples

    ```python
    from cs109b_bayes import course
    run = course.run_lab(course.resolve_labs(["01"])[0], fast=True)
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
                parts.append(f"<pre style='color:#cf222e'>{html.escape(output.get('ename', ''))}: "
                             f"{html.escape(output.get('evalue', ''))}</pre>")
    return "\n".join(parts)


def write_index_html(runs, out_dir):
    """Write `out_dir/index.html`: the run table, then each lab's figures and printed numbers.

    Args:
        runs: the `LabRun`s to show, in order.
        out_dir: the folder of the run.

    Returns:
        The path written.

    #### Examples

    ```python
    from cs109b_bayes import course
    runs = [course.run_lab(s, fast=True) for s in course.resolve_labs(["01", "02"])]
    course.write_index_html(runs, "build")
    ```
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
