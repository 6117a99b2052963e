"""The grading harness: the program the grader runs inside the sandbox, one per submission.

    python -I -m cs109b_bayes.course.harness --lab lab01 [options] < seed

It reads the secret seed from its standard input before any of the submission's code runs and
makes itself undumpable (`prctl(PR_SET_DUMPABLE, 0)`), so the notebook cannot read it from
this process's memory, environment or file descriptors. Then it

1. executes `submission.ipynb` in a fresh kernel, cell by cell: errors allowed (later cells
   still run), a per-cell limit and one limit for the whole notebook (a cell over either is
   interrupted and the rest skipped), the kept outputs capped;
2. ends every other process in the sandbox but the kernel (its own PID namespace under
   bubblewrap; the kernel's descendants and the processes carrying the sandbox's marker
   without it);
3. asks the kernel to run `cs109b_bayes.grading.probe.record_question` for each question of
   the lab the grader named, with the seed, one question at a time with its own time limit;
4. writes `.cs109b/status.json` (what happened, for the error column) and
   `.cs109b/executed.ipynb` (the graded notebook).

Nothing it writes is trusted: the submission shares its folder. The grader decides the score
by replaying the recording in its own process (`cs109b_bayes.grading.probe.replay_question`).
"""

import argparse
import asyncio
import contextlib
import ctypes
import json
import os
import shutil
import subprocess
import sys
import time

import nbformat
import psutil
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from cs109b_bayes import grading
from cs109b_bayes.grading.recording import RECORDING_FOLDER

__all__ = ["CappedClient", "OUTPUT_FOLDER", "main"]

#: The harness's output folder in the working folder: status, executed notebook, recording.
OUTPUT_FOLDER = ".cs109b"
_TIMEOUT_ERROR = {"ename": "CellTimeoutError", "evalue": "the cell ran past its time limit",
                  "traceback": ["CellTimeoutError: the cell ran past its time limit and was interrupted"]}
_GRACE_SECONDS = 15            # after an interrupt, how long a kernel may take to stop
_PROBE_CODE = ("import cs109b_bayes.grading.probe as _cs109b_probe\n"
               "_cs109b_probe.record_question({question!r}, {seed}, namespace=globals(), "
               "out_dir={out_dir!r}, rounds={rounds})")


class CappedClient(NotebookClient):
    """An nbclient `NotebookClient` that keeps at most `output_bytes` of a notebook's outputs.

    Past the budget, a stream output is cut to what is left and later outputs are dropped,
    with one note per cell saying so. Whatever the outputs kept, the kernel's reply to each
    cell is remembered: `errors` holds `(cell index, error name, message)` of every cell that
    raised, `timed_out_cells` the cells interrupted at their time limit, `last_reply` the
    reply's content for the last cell.
    """

    def __init__(self, notebook, *, output_bytes, **kwargs):
        super().__init__(notebook, **kwargs)
        self.output_bytes, self.kept_bytes = output_bytes, 0
        self.noted, self.timed_out_cells, self.errors, self.last_reply = set(), [], [], {}
        self.on_cell_executed = self._cell_executed

    def _cell_executed(self, cell, cell_index, execute_reply):
        self.last_reply = dict((execute_reply or {}).get("content", {}))
        if self.last_reply.get("status") == "error":
            ename, evalue = str(self.last_reply.get("ename", "Error")), str(self.last_reply.get("evalue", ""))
            self.errors.append((cell_index, ename, evalue))
            if ename == _TIMEOUT_ERROR["ename"]:
                self.timed_out_cells.append(cell_index)

    def output(self, outs, msg, display_id, cell_index):
        """Keep the output if the notebook's budget allows (see the class docstring)."""
        room = self.output_bytes - self.kept_bytes
        if room <= 0:
            self._note(outs, cell_index)
            return None
        out = super().output(outs, msg, display_id, cell_index)
        if out is None:
            return None
        size = len(json.dumps(out))
        if size > room and out.get("output_type") == "stream":
            out["text"] = out["text"][:room]
            size = room
        elif size > room and outs and outs[-1] is out and not display_id:
            outs.pop()
            size = 0
        self.kept_bytes += size
        if self.kept_bytes >= self.output_bytes:
            self._note(outs, cell_index)
        return out

    def _note(self, outs, cell_index):
        if cell_index not in self.noted:
            self.noted.add(cell_index)
            outs.append(nbformat.v4.new_output(
                "stream", name="stderr",
                text=f"\n[output truncated: the notebook's outputs passed {self.output_bytes} bytes]\n"))


def _undumpable():
    """Forbid other processes of this user to read our memory, environment and descriptors."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)   # PR_SET_DUMPABLE = 4


def _one_line(text, limit=300):
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    line = lines[0] if lines else ""
    return line if len(line) <= limit else line[:limit - 3] + "..."


def _end_other_processes(kernel_pid, *, pid_namespace):
    """SIGKILL every process of the sandbox but this one and the kernel; the number ended."""
    me, ended = os.getpid(), 0
    marker = os.environ.get("CS109B_SANDBOX_ID")
    for _ in range(20):              # a fork bomb may still be forking: sweep until none is left
        found = []
        for process in psutil.process_iter():
            try:
                if process.pid in (me, kernel_pid, 1 if pid_namespace else me):
                    continue
                if pid_namespace or _is_descendant(process, kernel_pid) or (
                        marker and process.environ().get("CS109B_SANDBOX_ID") == marker):
                    found.append(process)
            except psutil.Error:
                continue
        for process in found:
            with contextlib.suppress(psutil.Error):
                process.kill()
        ended += len(found)
        if not found:
            break
        psutil.wait_procs(found, timeout=1)
    return ended


def _is_descendant(process, ancestor_pid):
    with contextlib.suppress(psutil.Error):
        return any(parent.pid == ancestor_pid for parent in process.parents())
    return False


def _fresh_output_folder(workdir):
    folder = os.path.join(workdir, OUTPUT_FOLDER)
    if os.path.islink(folder) or os.path.isfile(folder):
        os.unlink(folder)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(workdir, RECORDING_FOLDER), exist_ok=True)
    return folder


async def _execute(client, cell, index, timeout):
    """Run one cell within `timeout` seconds; None, or why the kernel cannot go on.

    A cell over its limit is interrupted; if the kernel then does not answer a trivial cell
    within `_GRACE_SECONDS` (it ignores SIGINT), it is stuck.
    """
    problem = await _execute_once(client, cell, index, timeout)
    if problem or client.last_reply.get("ename") != _TIMEOUT_ERROR["ename"]:
        return problem
    timed_out = client.last_reply
    alive = nbformat.v4.new_code_cell("pass")
    client.nb.cells.append(alive)
    try:
        problem = await _execute_once(client, alive, len(client.nb.cells) - 1, _GRACE_SECONDS)
    finally:
        client.nb.cells.pop()
    stuck = problem or client.last_reply.get("status") != "ok"
    client.last_reply = timed_out
    return (problem or "kernel stuck (it ignored the interrupt)") if stuck else None


async def _execute_once(client, cell, index, timeout):
    client.timeout = max(1, int(timeout))
    client.last_reply = {}
    try:
        await asyncio.wait_for(client.async_execute_cell(cell, index, store_history=True),
                               timeout=client.timeout + _GRACE_SECONDS)
    except DeadKernelError:
        return "kernel died"
    except asyncio.TimeoutError:
        return "kernel stuck (it ignored the interrupt)"
    return None


async def _run(notebook, options, seed, status):
    workdir = os.getcwd()
    env = {key: value for key, value in os.environ.items() if key not in ("CS109B_CHECK_LOG",)}
    env.update(CS109B_STRICT="0", CS109B_FAST="1" if options.fast else "0",
               MPLBACKEND="module://matplotlib_inline.backend_inline")
    client = CappedClient(notebook, output_bytes=options.output_bytes, kernel_name="python3",
                          allow_errors=True, interrupt_on_timeout=True, error_on_timeout=_TIMEOUT_ERROR,
                          record_timing=False, resources={"metadata": {"path": workdir}})
    start = time.monotonic()
    async with client.async_setup_kernel(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
        kernel_pid = getattr(client.km.provisioner, "pid", None)
        deadline = start + options.notebook_timeout
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            remaining = deadline - time.monotonic()
            if remaining < 1:
                status["notebook_timed_out"] = True
                status["skipped_from"] = index
                break
            status["kernel"] = await _execute(client, cell, index, min(options.cell_timeout, remaining))
            status["executed"] += 1
            if status["kernel"]:
                status["stopped_in"] = index
                break
        status["timed_out_cells"] = list(client.timed_out_cells)
        if client.timed_out_cells and time.monotonic() >= deadline - 1:
            status["notebook_timed_out"] = True
        status["seconds"]["notebook"] = round(time.monotonic() - start, 2)
        status["outputs_truncated"] = bool(client.noted)
        if client.errors:
            index, ename, evalue = client.errors[0]
            status["first_error"] = f"cell {index}: {_one_line(f'{ename}: {evalue}')}"
        if status["kernel"]:
            return
        if kernel_pid is not None:
            status["ended_processes"] = _end_other_processes(kernel_pid, pid_namespace=options.pid_namespace)
        _fresh_output_folder(workdir)
        await _probe(client, notebook, options, seed, status, workdir)


async def _probe(client, notebook, options, seed, status, workdir):
    """Record every question of the lab, one cell each (not kept in the notebook)."""
    start = time.monotonic()
    client.output_bytes = client.kept_bytes + 1_000_000     # what the answers print while recorded
    for question in options.questions:
        cell = nbformat.v4.new_code_cell(_PROBE_CODE.format(
            question=question, seed=seed, out_dir=os.path.join(workdir, RECORDING_FOLDER),
            rounds=options.rounds))
        notebook.cells.append(cell)
        try:
            problem = await _execute(client, cell, len(notebook.cells) - 1, options.probe_timeout)
        finally:
            notebook.cells.pop()
        reply = client.last_reply
        status["probe"][question] = problem or (
            "recorded" if reply.get("status") == "ok" else
            "timed out" if reply.get("ename") == _TIMEOUT_ERROR["ename"] else
            f"error: {_one_line(str(reply.get('ename', '')) + ': ' + str(reply.get('evalue', '')))}")
        if problem:
            status["kernel"] = problem
            break
    status["seconds"]["probe"] = round(time.monotonic() - start, 2)


def _parser():
    parser = argparse.ArgumentParser(prog="python -m cs109b_bayes.course.harness",
                                     description="Run a submission and record its answers (inside the sandbox).")
    parser.add_argument("--lab", required=True, help="the lab whose questions count, e.g. lab01")
    parser.add_argument("--notebook", default="submission.ipynb")
    parser.add_argument("--cell-timeout", type=float, default=600)
    parser.add_argument("--notebook-timeout", type=float, default=1800)
    parser.add_argument("--probe-timeout", type=float, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output-bytes", type=int, default=4_000_000)
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--pid-namespace", action="store_true",
                        help="every other process of this PID namespace belongs to the submission")
    return parser


def main(argv=None):
    """Entry point (inside the sandbox): the seed on stdin, everything else in the options.

    Args:
        argv: the options (see `--help`). Default value: `sys.argv[1:]`.

    Returns:
        0 when the status file was written, 2 for a bad seed or options.

    #### Examples

    ```python
    # what the grader runs, with the seed on standard input:
    # python -I -m cs109b_bayes.course.harness --lab lab01 --pid-namespace < seed
    ```
    """
    _undumpable()
    line = sys.stdin.readline().strip()
    sys.stdin.close()
    options = _parser().parse_args(argv)
    if not line.isdigit():
        print("harness: the seed must be a non-negative integer on standard input", file=sys.stderr)
        return 2
    seed = int(line)
    options.questions = grading.questions(options.lab)
    status = {"version": 1, "lab": options.lab, "executed": 0, "kernel": None, "notebook_timed_out": False,
              "timed_out_cells": [], "probe": {}, "seconds": {}, "first_error": "", "ended_processes": 0}
    notebook = nbformat.read(options.notebook, as_version=4)
    try:
        asyncio.run(_run(notebook, options, seed, status))
    finally:
        folder = os.path.join(os.getcwd(), OUTPUT_FOLDER)
        os.makedirs(folder, exist_ok=True)
        nbformat.write(notebook, os.path.join(folder, "executed.ipynb"))
        with open(os.path.join(folder, "status.json.tmp"), "w", encoding="utf-8") as handle:
            json.dump(status, handle)
        os.replace(os.path.join(folder, "status.json.tmp"), os.path.join(folder, "status.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
