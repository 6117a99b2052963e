"""Run a command and watch its whole process tree: limits, capped output, nothing left behind.

The sandbox (`cs109b_bayes.course.sandbox`) builds the command; this module runs it in a
new session with resource limits (`RLIMIT_DATA` = twice the memory limit, so one huge
allocation fails at once; `RLIMIT_FSIZE`, `RLIMIT_CORE`, a generous `RLIMIT_CPU` backstop;
`RLIMIT_NPROC` for non-root users) and, every 0.1 s, looks at all its processes: over the
wall-clock limit, the summed resident memory or the number of processes, it kills every
one of them (SIGKILL).
When the command ends, whatever it left running is killed too: its process tree, and with
`session=True` its session and every process carrying its marker in the environment (a
double-forked daemon that called `setsid` still inherits the environment). stdout and
stderr are read to the end but only their first `output_bytes` are kept.
"""

import dataclasses
import os
import subprocess
import sys
import threading
import time

import psutil

__all__ = ["WatchedRun", "run_watched", "stop_all"]

_POLL_SECONDS = 0.1
# Sets the resource limits, then becomes the real command (no preexec_fn: unsafe with threads).
_LIMITS_STUB = """import os, resource as r, sys
for name, value in (item.split("=") for item in sys.argv[1].split(",")):
    hard = r.getrlimit(getattr(r, name))[1]
    value = int(value) if hard == r.RLIM_INFINITY else min(int(value), hard)
    r.setrlimit(getattr(r, name), (value, value))
os.execvp(sys.argv[2], sys.argv[2:])
"""
_RUNNING = set()            # the _Watch of every command running in this process
_RUNNING_LOCK = threading.Lock()


@dataclasses.dataclass(frozen=True)
class WatchedRun:
    """What a watched command did.

    Attributes:
        returncode: its exit status (negative: killed by that signal).
        stdout: the first `output_bytes` of standard output (UTF-8, bad bytes replaced), then
            `[... N bytes truncated]` if there was more.
        stderr: the same for standard error.
        stdout_truncated, stderr_truncated: that stream was longer than `output_bytes`.
        seconds: wall-clock time from the start to the end of its last process.
        reason: why it was killed: `"time"`, `"memory"`, `"processes"`, `"stopped"` (by
            `stop_all`), or None if it ended by itself.
        peak_memory_bytes: the largest summed resident memory a poll saw.
    """

    returncode: int
    stdout: str
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool
    seconds: float
    reason: str | None
    peak_memory_bytes: int


def run_watched(argv, *, cwd, env, wall_seconds, memory_bytes, max_processes, output_bytes,
                stdin_data=None, session=False, marker=None):
    """Runs `argv` in a new session, enforcing the limits on all its processes.

    Every process gets the resource limits above; this process watches the rest.

    Args:
        argv: the command, a list of str.
        cwd: its working directory.
        env: its whole environment (a dict of str).
        wall_seconds: kill everything after this many seconds.
        memory_bytes: kill everything when the summed resident memory is above this.
        max_processes: kill everything when more processes than this are alive.
        output_bytes: how much of stdout and of stderr to keep.
        stdin_data: bytes for its standard input, or None for an empty one.
            Default value: `None`.
        session: also watch and kill the processes of its session, and (at the end) those
            whose environment holds `marker` (needed without a PID namespace).
            Default value: `False`.
        marker: a `(name, value)` environment variable of the command (with `session`).
            Default value: `None`.

    Returns:
        A `WatchedRun`.

    #### Examples

    ```python
    import os, sys
    from cs109b_bayes.course.processes import run_watched
    run = run_watched([sys.executable, "-c", "while True: pass"], cwd=".", env=dict(os.environ),
                      wall_seconds=1, memory_bytes=2**30, max_processes=8, output_bytes=1000)
    run.reason        # 'time'
    ```
    """
    watch = _Watch(wall_seconds=wall_seconds, memory_bytes=memory_bytes,
                   max_processes=max_processes, session=session, marker=marker)
    launcher = [sys.executable, "-I", "-S", "-c", _LIMITS_STUB,
                _rlimits(wall_seconds, memory_bytes, max_processes), *argv]
    return watch.run(launcher, cwd=cwd, env=env, stdin_data=stdin_data, output_bytes=output_bytes)


def stop_all():
    """Kills every command `run_watched` is running in this process (e.g. on Ctrl-C).

    Each `run_watched` call then returns, with `reason="stopped"`, within about 0.1 s.

    Returns:
        The number of commands stopped.

    #### Examples

    ```python
    from cs109b_bayes.course.processes import stop_all
    try:
        ...                     # grade in threads, each in a sandbox
    except KeyboardInterrupt:
        stop_all()
        raise
    ```
    """
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for watch in running:
        watch.stopped = True
    return len(running)


def _rlimits(wall_seconds, memory_bytes, max_processes):
    """The resource limits of every process it starts, for `_LIMITS_STUB`."""
    limits = {"RLIMIT_DATA": 2 * int(memory_bytes), "RLIMIT_FSIZE": 2 * int(memory_bytes),
              "RLIMIT_CORE": 0, "RLIMIT_CPU": int((os.cpu_count() or 1) * wall_seconds) + 10}
    if os.geteuid() != 0:   # RLIMIT_NPROC counts all of the user's processes; root ignores it
        mine = [p for p in psutil.process_iter(["uids"])
                if p.info["uids"] and p.info["uids"].real == os.getuid()]
        limits["RLIMIT_NPROC"] = len(mine) + int(max_processes)
    return ",".join(f"{name}={value}" for name, value in limits.items())


class _Watch:
    """Starts the command, polls its processes against the limits, ends them all."""

    def __init__(self, *, wall_seconds, memory_bytes, max_processes, session, marker):
        self.wall_seconds, self.memory_bytes, self.max_processes = (
            wall_seconds, memory_bytes, max_processes)
        self.session, self.marker = session, marker
        self.peak_memory_bytes, self.root, self.stopped = 0, None, False

    def run(self, argv, *, cwd, env, stdin_data, output_bytes):
        start = time.monotonic()
        process = subprocess.Popen(
            argv, cwd=cwd, env=env, start_new_session=True, close_fds=True,
            stdin=subprocess.DEVNULL if stdin_data is None else subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.root = psutil.Process(process.pid)   # remembers its start time: safe from pid reuse
        readers = [_CappedReader(process.stdout, output_bytes),
                   _CappedReader(process.stderr, output_bytes)]
        if stdin_data is not None:
            threading.Thread(target=_feed, args=(process.stdin, stdin_data), daemon=True).start()
        reason = None
        with _RUNNING_LOCK:
            _RUNNING.add(self)
        try:
            while reason is None:
                try:
                    process.wait(timeout=_POLL_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    reason = self.check(start)
        finally:
            self.kill_all(process)
            with _RUNNING_LOCK:
                _RUNNING.discard(self)
        seconds = time.monotonic() - start
        for reader in readers:
            reader.join(timeout=5)
        return WatchedRun(
            returncode=process.returncode, stdout=readers[0].text(), stderr=readers[1].text(),
            stdout_truncated=readers[0].dropped > 0, stderr_truncated=readers[1].dropped > 0,
            seconds=seconds, reason=reason, peak_memory_bytes=self.peak_memory_bytes)

    def processes(self, *, thorough=False):
        """Its live processes: the tree; with `session` also the session's members and
        (`thorough`) every process with the marker in its environment."""
        found = {}
        try:
            found = {p.pid: p for p in [self.root, *self.root.children(recursive=True)]}
        except psutil.Error:
            pass
        if self.session:
            name, value = self.marker or (None, None)
            for p in psutil.process_iter():
                try:
                    if os.getsid(p.pid) == self.root.pid or (
                            thorough and name and p.environ().get(name) == value):
                        found[p.pid] = p
                except (OSError, psutil.Error):
                    pass
        return list(found.values())

    def check(self, start):
        """Why to stop (`"stopped"`, `"time"`, `"processes"`, `"memory"`), or None."""
        if self.stopped:
            return "stopped"
        if time.monotonic() - start > self.wall_seconds:
            return "time"
        processes = self.processes()
        if len(processes) > self.max_processes:
            return "processes"
        memory = sum(_rss(p) for p in processes)
        self.peak_memory_bytes = max(self.peak_memory_bytes, memory)
        return "memory" if memory > self.memory_bytes else None

    def kill_all(self, process):
        """SIGKILL all its processes (under bwrap killing the monitor ends the PID namespace),
        reap the command, then sweep again for daemons that left the tree."""
        for thorough in (False, True, True):
            for p in self.processes(thorough=thorough):
                try:
                    p.kill()
                except psutil.Error:
                    pass
            process.wait()


def _rss(process):
    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0


class _CappedReader(threading.Thread):
    """Reads a pipe to its end, keeping the first `limit` bytes and counting the rest."""

    def __init__(self, stream, limit):
        super().__init__(daemon=True)
        self.stream, self.limit = stream, limit
        self.kept, self.dropped = bytearray(), 0
        self.start()

    def run(self):
        with self.stream:
            while chunk := self.stream.read1(1 << 16):
                room = max(self.limit - len(self.kept), 0)
                self.kept += chunk[:room]
                self.dropped += len(chunk) - min(room, len(chunk))

    def text(self):
        text = bytes(self.kept).decode("utf-8", errors="replace")
        return text + (f"\n[... {self.dropped} bytes truncated]\n" if self.dropped else "")


def _feed(stream, data):
    try:
        with stream:
            stream.write(data)
    except OSError:   # the command closed its stdin or ended: the rest is not wanted
        pass
