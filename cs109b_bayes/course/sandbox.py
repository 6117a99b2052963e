"""Run one command in a sandbox: bubblewrap (`bwrap`) where it works, else a weaker fallback.

Under bubblewrap the command sees, read-only, the Python installation, the `cs109b_bayes`
package directory (only it, not a checkout around it) and the paths the caller adds (the
data folder), with every `labs/source` folder (lab solutions) in them shown empty; a private
writable folder at `/submission` (its `cwd` and `HOME`); a small fresh `/tmp`; nothing else:
no other submissions or instructor files, no network (not even the host's loopback), its
own PID namespace (all its processes die with it).

Limits, in both modes: every 0.1 s this process sums the resident memory of the sandbox's
processes and kills them all above `memory_bytes` (`out_of_memory`); each process also has
`RLIMIT_DATA = 2 * memory_bytes`, so one huge allocation fails at once with `MemoryError`
(`RLIMIT_AS` would break TensorFlow, which maps ~2 GB at import; cgroups need privileges).
The sandbox is killed at `wall_seconds` (`timed_out`) and above `max_processes`
(`too_many_processes`; for non-root users `RLIMIT_NPROC` also stops a fork bomb between
polls). The first `output_bytes` of stdout and stderr are kept, the rest read and dropped.

Without bwrap (macOS, containers without user namespaces, `CS109B_SANDBOX=none`) the command
runs in a new session with the same limits, a scrubbed environment and `cwd` = its folder,
and a `SandboxWarning` says it is not isolated from the file system and the network.
`CS109B_SANDBOX=bwrap` makes a missing bwrap an error instead.
"""

import dataclasses
import functools
import os
import pathlib
import shutil
import site
import subprocess
import sys
import tempfile
import uuid
import warnings

from cs109b_bayes.course.processes import run_watched

__all__ = ["SANDBOX_WORKDIR", "SandboxResult", "SandboxWarning", "default_readonly_paths",
           "run_sandboxed", "sandbox_kind"]

#: Where the private writable folder appears inside a bubblewrap sandbox.
SANDBOX_WORKDIR = "/submission"

_ROOT_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
_ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf",
              "hosts", "localtime", "fonts", "alternatives")
_FALLBACK_WARNING = (
    "bubblewrap (bwrap) is not available ({reason}): submissions run WITHOUT file-system or "
    "network isolation (new session, resource limits and a scrubbed environment only). "
    "Grade untrusted submissions on Linux with bubblewrap installed.")


class SandboxWarning(UserWarning):
    """Submissions run without bubblewrap's isolation."""


@dataclasses.dataclass(frozen=True)
class SandboxResult:
    """What a sandboxed command did.

    Attributes:
        returncode: the exit status (< 0: killed by that signal; bwrap shows signal N as 128 + N).
        stdout: the first `output_bytes` of standard output (UTF-8, bad bytes replaced), then
            `[... N bytes truncated]` if there was more.
        stderr: the same for standard error.
        seconds: wall-clock time from the start to the end of its last process.
        timed_out, out_of_memory, too_many_processes: killed at that limit.
        stopped: killed by `cs109b_bayes.course.processes.stop_all()` (grading interrupted).
        killed_by_signal: the signal number that ended the command, or None.
        sandbox: `"bwrap"` or `"fallback"`.
        stdout_truncated, stderr_truncated: that stream was longer than `output_bytes`.
        peak_memory_bytes: the largest summed resident memory a poll saw.
    """

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool
    out_of_memory: bool
    too_many_processes: bool
    stopped: bool
    killed_by_signal: int | None
    sandbox: str
    stdout_truncated: bool
    stderr_truncated: bool
    peak_memory_bytes: int

    @property
    def cause(self):
        """Why the command did not end by itself (`"timed out ..."`, ...), or None."""
        if self.timed_out:
            return f"timed out (wall-clock limit, {self.seconds:.0f} s)"
        if self.out_of_memory:
            return f"out of memory (killed at {self.peak_memory_bytes / 2**20:.0f} MiB)"
        if self.too_many_processes:
            return "too many processes (process limit)"
        if self.stopped:
            return "stopped (grading interrupted)"
        if self.killed_by_signal is not None:
            return f"killed by signal {self.killed_by_signal}"
        return None

    @property
    def ok(self):
        """True if the command exited with status 0 within all limits."""
        return self.returncode == 0 and self.cause is None


def sandbox_kind(requested=None):
    """The sandbox `run_sandboxed` uses here: `"bwrap"` or `"fallback"`.

    bwrap is tried once per process (a tiny sandbox running `true`); if it is missing or
    fails to start (no user namespaces), the fallback is used.

    Args:
        requested: `"auto"` (bwrap if it works, else the fallback), `"bwrap"` (required) or
            `"none"` (always the fallback).
            Default value: `None` (`$CS109B_SANDBOX`, else `"auto"`).

    Returns:
        `"bwrap"` or `"fallback"`.

    Raises:
        ValueError: if `requested` is none of the above.
        RuntimeError: if bwrap is required but does not work here.

    #### Examples

    ```python
    from cs109b_bayes.course.sandbox import sandbox_kind
    sandbox_kind()          # "bwrap" on a Linux machine with bubblewrap
    sandbox_kind("none")    # "fallback"
    ```
    """
    requested = requested or os.environ.get("CS109B_SANDBOX") or "auto"
    if requested not in ("auto", "bwrap", "none"):
        raise ValueError(f"sandbox must be 'auto', 'bwrap' or 'none', got {requested!r}")
    if requested == "none":
        return "fallback"
    problem = _bwrap()[1]
    if problem and requested == "bwrap":
        raise RuntimeError(f"bubblewrap is required but does not work here: {problem}")
    return "fallback" if problem else "bwrap"


def default_readonly_paths():
    """The paths every sandbox sees read-only: the Python installation and this package.

    That is the interpreter's prefixes, its site-packages folders and the `cs109b_bayes`
    package directory (for an editable install, the checkout's `cs109b_bayes/` only).

    Returns:
        A sorted tuple of absolute path strings, none inside another.

    #### Examples

    ```python
    from cs109b_bayes.course.sandbox import default_readonly_paths
    default_readonly_paths()   # ('/usr/lib/python3.11', '/home/me/venv', ...)
    ```
    """
    package = pathlib.Path(__file__).resolve().parents[1]
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                  os.path.dirname(os.path.realpath(sys.executable)), *site.getsitepackages(),
                  os.path.dirname(os.__file__), str(package)]
    paths = set()
    for path in candidates:
        for variant in {os.path.abspath(path), os.path.realpath(path)}:
            if os.path.exists(variant):
                paths.add(variant)
    return tuple(sorted(path for path in paths if not any(
        _inside(path, other) for other in paths | {"/usr"} if other != path)))


def run_sandboxed(argv, *, workdir, wall_seconds, memory_bytes, output_bytes=2_000_000,
                  max_processes=256, env=None, stdin_data=None, readonly_paths=(),
                  hidden_paths=(), network=False, tmp_bytes=256 * 2**20, sandbox=None):
    """Runs `argv` in a sandbox with limits and returns what happened.

    The command runs in `workdir` (mounted at `/submission` under bwrap: give it paths
    relative to its working folder). Its environment holds only `PATH`, `HOME` (the working
    folder), `TMPDIR`, `LANG`, `MPLBACKEND=Agg`, `TF_CPP_MIN_LOG_LEVEL=2`,
    `TF_USE_LEGACY_KERAS=1`, `CS109B_OFFLINE=1`, `PYTHONNOUSERSITE=1`, a sandbox id and what
    `env` adds: never this process's own. When it ends, every process it started is ended.

    Args:
        argv: the command, a non-empty list of str (e.g. `[sys.executable, "-c", code]`).
        workdir: an existing directory, the only writable place besides a fresh `/tmp`.
        wall_seconds: wall-clock limit for everything the command starts, > 0.
        memory_bytes: limit on the summed resident memory of its processes, > 0.
        output_bytes: how much of stdout and of stderr to keep.
            Default value: `2_000_000`.
        max_processes: limit on its processes alive at once.
            Default value: `256`.
        env: extra environment variables (str -> str).
            Default value: `None`.
        stdin_data: bytes written to its standard input (else its stdin is empty).
            Default value: `None`.
        readonly_paths: extra paths visible read-only at the same place (a path) or elsewhere
            (a `(source, destination)` pair), e.g. the data folder; added to
            `default_readonly_paths()`.
            Default value: `()`.
        hidden_paths: host paths inside the read-only view to show empty (bwrap only).
            Every `labs/source` folder (lab solutions) in the package or in
            `readonly_paths` is always hidden.
            Default value: `()`.
        network: keep the host's network (bwrap only; the fallback never isolates it).
            Default value: `False`.
        tmp_bytes: size of the private `/tmp` (bwrap >= 0.7 only).
            Default value: `256 MiB`.
        sandbox: `"auto"`, `"bwrap"` or `"none"`, as in `sandbox_kind`.
            Default value: `None` (`$CS109B_SANDBOX`, else `"auto"`).

    Returns:
        A `SandboxResult`.

    Raises:
        TypeError: if `argv`, `env`, `stdin_data` or `readonly_paths` have the wrong type.
        ValueError: if a limit is not positive, or `workdir`, a read-only or a hidden path
            does not exist.
        RuntimeError: if bwrap is required but does not work here.

    #### Examples

    ```python
    import sys
    from cs109b_bayes.course.sandbox import run_sandboxed
    result = run_sandboxed([sys.executable, "-c", "print(2 + 2)"], workdir="/tmp/sub1",
                           wall_seconds=60, memory_bytes=2 * 2**30)
    result.stdout, result.ok, result.sandbox        # ('4\\n', True, 'bwrap')
    ```
    """
    if isinstance(argv, (str, bytes)) or not isinstance(argv, (list, tuple)) or not argv or \
            not all(isinstance(arg, str) for arg in argv):
        raise TypeError(f"argv must be a non-empty list of str, got {argv!r}")
    workdir = pathlib.Path(workdir).resolve()
    if not workdir.is_dir():
        raise ValueError(f"workdir {workdir} is not an existing directory")
    for name, value in [("wall_seconds", wall_seconds), ("memory_bytes", memory_bytes),
                        ("output_bytes", output_bytes), ("max_processes", max_processes),
                        ("tmp_bytes", tmp_bytes)]:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if env is not None and (not isinstance(env, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in env.items())):
        raise TypeError(f"env must be a dict of str to str, got {env!r}")
    if stdin_data is not None and not isinstance(stdin_data, bytes):
        raise TypeError(f"stdin_data must be bytes or None, got {type(stdin_data).__name__}")
    mounts, masks = _mounts(readonly_paths, hidden_paths)
    kind = sandbox_kind(sandbox)
    marker = uuid.uuid4().hex
    with tempfile.TemporaryDirectory(prefix="cs109b-sandbox-", ignore_cleanup_errors=True) as tmp:
        if kind == "bwrap":
            pathlib.Path(tmp, "empty").touch()      # what a hidden file shows
            masks = [(d, folder or os.path.join(tmp, "empty")) for d, folder in masks]
            home, tmp = SANDBOX_WORKDIR, "/tmp"
        else:
            reason = _bwrap()[1] or "CS109B_SANDBOX=none"
            warnings.warn(_FALLBACK_WARNING.format(reason=reason), SandboxWarning, stacklevel=2)
            home = str(workdir)
        full_env = {
            "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
            "HOME": home, "TMPDIR": tmp, "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
            "TF_CPP_MIN_LOG_LEVEL": "2", "TF_USE_LEGACY_KERAS": "1", "CS109B_OFFLINE": "1",
            "PYTHONNOUSERSITE": "1", **(env or {}), "CS109B_SANDBOX_ID": marker}
        command = list(argv)
        if kind == "bwrap":
            command = _bwrap_command(command, workdir=workdir, mounts=mounts, masks=masks,
                                     network=network, tmp_bytes=int(tmp_bytes))
        run = run_watched(
            command, cwd=workdir, env=full_env, stdin_data=stdin_data,
            wall_seconds=wall_seconds, memory_bytes=memory_bytes, output_bytes=int(output_bytes),
            # Under bwrap two processes are bwrap's own (the monitor and the PID-1 reaper).
            max_processes=max_processes + (2 if kind == "bwrap" else 0),
            session=kind == "fallback", marker=("CS109B_SANDBOX_ID", marker))
    code = run.returncode
    signal_number = -code if code < 0 else (code - 128 if kind == "bwrap" and code > 128 else None)
    return SandboxResult(
        returncode=code, stdout=run.stdout, stderr=run.stderr, seconds=run.seconds,
        timed_out=run.reason == "time", out_of_memory=run.reason == "memory",
        too_many_processes=run.reason == "processes", stopped=run.reason == "stopped",
        killed_by_signal=signal_number, sandbox=kind, stdout_truncated=run.stdout_truncated,
        stderr_truncated=run.stderr_truncated, peak_memory_bytes=run.peak_memory_bytes)


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _mounts(readonly_paths, hidden_paths):
    """The (source, destination) pairs to bind read-only, none inside another, and the
    (destination, is a folder) pairs to mask: `hidden_paths` and every `labs/source` folder
    in the package or in `readonly_paths` (lab solutions)."""
    for name, value in [("readonly_paths", readonly_paths), ("hidden_paths", hidden_paths)]:
        if isinstance(value, (str, bytes, os.PathLike)):
            raise TypeError(f"{name} must be a list of paths, not one path: {value!r}")
    pairs, given = {(path, path) for path in default_readonly_paths()}, []
    for item in readonly_paths:
        source, destination = item if isinstance(item, tuple) and len(item) == 2 else (item, item)
        if not all(isinstance(p, (str, os.PathLike)) for p in (source, destination)):
            raise TypeError(f"readonly_paths items must be paths or (source, destination) "
                            f"pairs, got {item!r}")
        source, destination = os.path.abspath(source), os.path.abspath(destination)
        if not os.path.exists(source):
            raise ValueError(f"read-only path {source} does not exist")
        pairs.add((source, destination))
        given.append(source)
    hidden = set()
    for path in hidden_paths:
        if not isinstance(path, (str, os.PathLike)) or not os.path.exists(path):
            raise ValueError(f"hidden path {path!r} does not exist")
        hidden.add(os.path.abspath(path))
    for root in [pathlib.Path(__file__).resolve().parents[1], *map(pathlib.Path, given)]:
        hidden.update(str(p) for p in root.glob("**/labs/source") if p.is_dir())
    masks = sorted({(d + path[len(s):], os.path.isdir(path))
                    for path in hidden for s, d in pairs if _inside(path, s)})
    return sorted((s, d) for s, d in pairs if not any(
        _inside(s, s2) and _inside(d, d2) and s.removeprefix(s2) == d.removeprefix(d2)
        for s2, d2 in pairs if (s2, d2) != (s, d))), masks


@functools.cache
def _bwrap():
    """(path of a working bwrap, None, supports --size) or (None, why not, False); tried once."""
    path = shutil.which("bwrap")
    if path is None:
        return None, "bwrap is not installed", False
    probe = [path, "--unshare-all", "--die-with-parent", "--new-session", *_system_mounts(),
             "--proc", "/proc", "--dev", "/dev", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, timeout=60, check=False)
        usage = subprocess.run([path, "--help"], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, f"bwrap failed to start: {err}", False
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines() or ["no message"]
        return None, f"bwrap failed to start: {message[0]}", False
    return path, None, b"--size" in usage.stdout


def _system_mounts():
    args = []
    for name in _ROOT_DIRS:
        path = os.path.join("/", name)
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for name in _ETC_FILES:
        path = os.path.join("/etc", name)
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


def _bwrap_command(argv, *, workdir, mounts, masks, network, tmp_bytes):
    path, _, has_size = _bwrap()
    args = [path, "--unshare-all", "--die-with-parent", "--new-session", *_system_mounts()]
    if network:
        args.append("--share-net")
    if os.geteuid() == 0:
        args += ["--cap-drop", "ALL"]
    for source, destination in mounts:
        args += ["--ro-bind", source, destination]
    for destination, empty_file in masks:   # an empty read-only folder (True) or file on top
        args += (["--tmpfs", destination, "--remount-ro", destination] if empty_file is True
                 else ["--ro-bind", empty_file, destination])
    args += ["--dev", "/dev", "--proc", "/proc"]
    for tmpfs in ("/tmp", "/dev/shm"):
        args += [*(["--size", str(tmp_bytes)] if has_size else []), "--tmpfs", tmpfs]
    # Only the folders meant to be written stay writable: bwrap's root and /dev are in-memory.
    args += ["--remount-ro", "/dev", "--bind", str(workdir), SANDBOX_WORKDIR,
             "--remount-ro", "/", "--chdir", SANDBOX_WORKDIR, "--", *argv]
    return args
