"""The grading sandbox: isolation (bwrap), limits, cleanup, output cap, and the fallback."""

import os
import pathlib
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid

import psutil
import pytest

from cs109b_bayes.course.processes import stop_all
from cs109b_bayes.course.sandbox import (
    SANDBOX_WORKDIR, SandboxWarning, default_readonly_paths, run_sandboxed, sandbox_kind)

PACKAGE_DIR = pathlib.Path(__file__).resolve().parents[1] / "cs109b_bayes"
CHECKOUT = PACKAGE_DIR.parent
GiB = 2**30

needs_bwrap = pytest.mark.skipif(sandbox_kind("auto") != "bwrap",
                                 reason="bubblewrap does not work on this machine")


def python(code, workdir, *, sandbox="bwrap", wall_seconds=60, memory_bytes=2 * GiB, **options):
    """Runs `code` with this interpreter in a sandbox (the fallback must warn)."""
    argv = [sys.executable, "-c", textwrap.dedent(code)]
    options.update(workdir=workdir, wall_seconds=wall_seconds, memory_bytes=memory_bytes,
                   sandbox=sandbox)
    if sandbox != "none":
        return run_sandboxed(argv, **options)
    with pytest.warns(SandboxWarning, match="WITHOUT file-system or network isolation"):
        return run_sandboxed(argv, **options)


def alive_with(token):
    """Live (non-zombie) processes whose command line contains `token`."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        if process.info["status"] != psutil.STATUS_ZOMBIE and token in " ".join(
                process.info["cmdline"] or []):
            found.append(process.pid)
    return found


@pytest.fixture
def workdir(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    return folder


@needs_bwrap
def test_python_runs_and_imports_the_package(workdir):
    result = python("""
        import os, cs109b_bayes
        print(cs109b_bayes.__file__, os.getcwd(), os.environ["HOME"])
    """, workdir)
    assert result.ok and result.sandbox == "bwrap", result
    expected = [str(PACKAGE_DIR / "__init__.py"), SANDBOX_WORKDIR, SANDBOX_WORKDIR]
    assert result.stdout.split() == expected
    assert result.returncode == 0 and result.cause is None and not result.stdout_truncated


@needs_bwrap
def test_only_the_package_and_named_paths_are_visible(tmp_path, workdir):
    instructor = tmp_path / "instructor"
    instructor.mkdir()
    (instructor / "grades.csv").write_text("secret")
    other = tmp_path / "other_student"
    other.mkdir()
    (other / "lab.ipynb").write_text("{}")
    data = tmp_path / "data"
    data.mkdir()
    (data / "table.csv").write_text("1,2")
    result = python(f"""
        import os
        for path in [{str(instructor / "grades.csv")!r}, {str(other / "lab.ipynb")!r},
                     {str(CHECKOUT / "labs" / "source")!r}, {str(CHECKOUT / "tests")!r},
                     {str(data / "table.csv")!r}, "/data/table.csv"]:
            print(path, os.path.exists(path))
        print("checkout", sorted(os.listdir({str(CHECKOUT)!r})))
    """, workdir, readonly_paths=[(data, "/data")])
    seen = dict(line.rsplit(" ", 1) for line in result.stdout.splitlines() if " " in line)
    assert (CHECKOUT / "labs" / "source").is_dir()    # the checkout has solutions to hide
    assert seen[str(CHECKOUT / "labs" / "source")] == "False"
    assert seen[str(instructor / "grades.csv")] == "False"
    assert seen[str(other / "lab.ipynb")] == "False"
    assert seen[str(CHECKOUT / "tests")] == "False"
    assert seen["/data/table.csv"] == "True"
    assert seen[str(data / "table.csv")] == "False"     # mounted elsewhere only
    # Only the package, plus the Python environment when it lives inside the checkout (CI's .venv-ci).
    environment = {pathlib.Path(p).resolve().relative_to(CHECKOUT).parts[0]
                   for p in {sys.prefix, sys.base_prefix} if pathlib.Path(p).resolve().is_relative_to(CHECKOUT)}
    assert result.stdout.splitlines()[-1] == f"checkout {sorted({'cs109b_bayes'} | environment)}"


@needs_bwrap
def test_lab_solutions_and_hidden_paths_show_empty(tmp_path, workdir):
    course = tmp_path / "course"
    (course / "labs" / "source").mkdir(parents=True)
    (course / "labs" / "source" / "02_metropolis.py").write_text("# BEGIN SOLUTION")
    (course / "labs" / "02_metropolis.ipynb").write_text("{}")
    (course / "data").mkdir()
    (course / "data" / "table.csv").write_text("1,2")
    (course / "data" / "answers.txt").write_text("42")
    result = python(f"""
        import os
        print(sorted(os.listdir("/course/labs")), os.listdir("/course/labs/source"))
        print(open("/course/data/table.csv").read(), repr(open("/course/data/answers.txt").read()))
    """, workdir, readonly_paths=[(course, "/course")],
                    hidden_paths=[course / "data" / "answers.txt"])
    assert result.stdout.splitlines() == ["['02_metropolis.ipynb', 'source'] []", "1,2 ''"], result


@needs_bwrap
def test_nothing_outside_the_workdir_can_be_written(workdir):
    name = f"written-{uuid.uuid4().hex}.txt"
    targets = [str(PACKAGE_DIR / name), str(CHECKOUT / name), f"/{name}", f"/etc/{name}"]
    result = python(f"""
        for path in {targets!r}:
            try:
                open(path, "w").write("x")
                print("wrote", path)
            except OSError as err:
                print("refused", type(err).__name__)
        open({name!r}, "w").write("mine")
    """, workdir)
    assert result.stdout.count("refused") == len(targets), result.stdout
    assert (workdir / name).read_text() == "mine"
    assert not any(pathlib.Path(target).exists() for target in targets)


@needs_bwrap
def test_no_network_not_even_the_hosts_loopback(workdir):
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        code = f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
                print("connected")
            except OSError as err:
                print("blocked", type(err).__name__)
        """
        isolated = python(code, workdir)
        shared = python(code, workdir, network=True)      # the test can tell the difference
    assert isolated.stdout.startswith("blocked"), isolated
    assert shared.stdout.strip() == "connected", shared


@pytest.mark.parametrize("kind", [pytest.param("bwrap", marks=needs_bwrap), "none"])
def test_memory_bomb_is_killed(workdir, kind):
    result = python("""
        import time
        chunks = []
        while True:
            chunks.append(bytearray(16 * 2**20))
            time.sleep(0.01)
    """, workdir, memory_bytes=300 * 2**20, sandbox=kind)
    assert result.out_of_memory and not result.ok and "out of memory" in result.cause
    assert 300 * 2**20 < result.peak_memory_bytes < 2 * 300 * 2**20
    assert result.seconds < 10


@needs_bwrap
def test_one_huge_allocation_fails_inside_with_memory_error(workdir):
    result = python("""
        try:
            block = bytearray(8 * 2**30)
            print("allocated")
        except MemoryError:
            print("MemoryError")
    """, workdir, memory_bytes=300 * 2**20)
    assert result.stdout.strip() == "MemoryError" and result.ok


@pytest.mark.parametrize("kind", [pytest.param("bwrap", marks=needs_bwrap), "none"])
def test_infinite_loop_times_out_and_leaves_nothing(workdir, kind):
    token = uuid.uuid4().hex
    start = time.monotonic()
    result = python(f"""
        import pathlib, subprocess, sys
        spin = "import pathlib; pathlib.Path('started').touch()\\nwhile True: pass"
        subprocess.Popen([sys.executable, "-c", spin, "{token}"])
        while True:
            pass
    """, workdir, wall_seconds=2, sandbox=kind)
    assert result.timed_out and result.cause.startswith("timed out")
    assert (workdir / "started").exists()
    assert 2 <= time.monotonic() - start < 4
    assert alive_with(token) == []


@needs_bwrap
def test_fork_bomb_is_bounded(workdir):
    token = uuid.uuid4().hex
    result = python(f"""
        import subprocess, sys
        for _ in range(5000):
            subprocess.Popen([sys.executable, "-S", "-c", "import time; time.sleep(99)", "{token}"])
    """, workdir, max_processes=20, wall_seconds=30)
    assert result.too_many_processes and result.cause == "too many processes (process limit)"
    assert result.seconds < 5
    assert alive_with(token) == []


DAEMONS = """
    import os, pathlib, subprocess, sys, time
    sleeper = "import pathlib, time; pathlib.Path('started-{{}}').touch(); time.sleep({{}})"
    nohup = f"nohup {{sys.executable}} -c \\"{{sleeper.format('nohup', 1000)}}\\" {token} &"
    subprocess.Popen(["sh", "-c", nohup])
    if os.fork() == 0:              # a double-forked daemon in its own session
        os.setsid()
        if os.fork() == 0:
            late = sleeper.format("daemon", 1.5) + "; open('late.txt', 'w').write('late')"
            os.execv(sys.executable, [sys.executable, "-c", late, "{token}"])
        os._exit(0)
    while not all(pathlib.Path(f"started-{{name}}").exists() for name in ["nohup", "daemon"]):
        time.sleep(0.05)
    print("parent done")
"""


@pytest.mark.parametrize("kind", [pytest.param("bwrap", marks=needs_bwrap), "none"])
def test_background_processes_end_with_the_submission(workdir, kind):
    token = uuid.uuid4().hex
    result = python(DAEMONS.format(token=token), workdir, sandbox=kind, wall_seconds=20)
    assert result.ok and result.stdout.strip() == "parent done", result
    assert (workdir / "started-nohup").exists() and (workdir / "started-daemon").exists()
    assert alive_with(token) == []
    time.sleep(2)
    assert not (workdir / "late.txt").exists()


@needs_bwrap
def test_killed_by_a_signal_is_reported(workdir):
    result = python("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", workdir)
    assert result.killed_by_signal == 9 and result.cause == "killed by signal 9"


def test_a_200_megabyte_flood_is_truncated_in_constant_memory(workdir):
    # A fresh interpreter measures its own peak memory while reading the flood.
    code = f"""
        import resource, sys
        from cs109b_bayes.course.sandbox import run_sandboxed
        flood = "import sys\\nfor _ in range(200): sys.stdout.buffer.write(b'x' * 2**20)"
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = run_sandboxed([sys.executable, "-c", flood], workdir={str(workdir)!r},
                               wall_seconds=60, memory_bytes=2**30, output_bytes=10_000)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(result.stdout_truncated, len(result.stdout), result.stdout.splitlines()[-1],
              (after - before) // 1024)
    """
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120, check=True)
    truncated, length, *note, grown_mib = done.stdout.split()
    assert truncated == "True" and 10_000 < int(length) < 10_100
    assert " ".join(note) == f"[... {200 * 2**20 - 10_000} bytes truncated]"
    assert int(grown_mib) < 50


@pytest.mark.parametrize("kind", [pytest.param("bwrap", marks=needs_bwrap), "none"])
def test_environment_is_scrubbed_and_stdin_is_fed(workdir, kind, monkeypatch):
    monkeypatch.setenv("INSTRUCTOR_SECRET", "hunter2")
    result = python("""
        import os, sys
        print(sys.stdin.read(), os.environ.get("INSTRUCTOR_SECRET"), os.environ["EXTRA"],
              os.environ["CS109B_OFFLINE"], os.environ["MPLBACKEND"])
    """, workdir, sandbox=kind, env={"EXTRA": "given"}, stdin_data=b"fed")
    assert result.stdout.split() == ["fed", "None", "given", "1", "Agg"]


def test_fallback_runs_with_a_warning(workdir):
    result = python("import os; print(os.getcwd())", workdir, sandbox="none")
    assert result.ok and result.sandbox == "fallback"
    assert result.stdout.strip() == str(workdir)


def test_without_bwrap_one_warning_per_process_or_an_error_if_required(workdir, tmp_path):
    code = f"""
        import sys, warnings
        from cs109b_bayes.course.sandbox import run_sandboxed, sandbox_kind
        for _ in range(2):
            result = run_sandboxed([sys.executable, "-c", "print(1)"], workdir={str(workdir)!r},
                                   wall_seconds=30, memory_bytes=2**30)
            print(result.sandbox, result.stdout.strip())
        try:
            sandbox_kind("bwrap")
        except RuntimeError as err:
            print("required:", err)
    """
    environment = {**os.environ, "PATH": str(tmp_path), "CS109B_SANDBOX": "auto"}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=environment,
                          capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.splitlines() == [
        "fallback 1", "fallback 1",
        "required: bubblewrap is required but does not work here: bwrap is not installed"]
    assert done.stderr.count("SandboxWarning") == 1, done.stderr


def test_default_readonly_paths_hold_python_and_the_package_only():
    paths = default_readonly_paths()
    assert str(PACKAGE_DIR) in paths or any(str(PACKAGE_DIR).startswith(p + "/") for p in paths)
    assert any(sys.prefix == p or sys.prefix.startswith(p + "/") for p in paths)
    assert str(CHECKOUT) not in paths and "/" not in paths


@pytest.mark.parametrize("options, error, match", [
    ({"argv": "python -c 1"}, TypeError, "argv"),
    ({"argv": []}, TypeError, "argv"),
    ({"workdir": "/no/such/folder"}, ValueError, "workdir"),
    ({"wall_seconds": 0}, ValueError, "wall_seconds"),
    ({"memory_bytes": -1}, ValueError, "memory_bytes"),
    ({"output_bytes": True}, ValueError, "output_bytes"),
    ({"max_processes": "8"}, ValueError, "max_processes"),
    ({"env": {"A": 1}}, TypeError, "env"),
    ({"stdin_data": "text"}, TypeError, "stdin_data"),
    ({"readonly_paths": ["/no/such/data"]}, ValueError, "does not exist"),
    ({"readonly_paths": "/usr"}, TypeError, "readonly_paths"),
    ({"hidden_paths": "/usr/lib"}, TypeError, "hidden_paths"),
    ({"hidden_paths": ["/no/such/solutions"]}, ValueError, "hidden path"),
    ({"sandbox": "docker"}, ValueError, "sandbox must be"),
])
def test_bad_arguments_are_refused(workdir, options, error, match):
    arguments = {"argv": [sys.executable, "-c", "1"], "workdir": workdir, "wall_seconds": 10,
                 "memory_bytes": GiB, **options}
    with pytest.raises(error, match=match):
        run_sandboxed(arguments.pop("argv"), **arguments)


@pytest.mark.parametrize("kind", [pytest.param("bwrap", marks=needs_bwrap), "none"])
def test_stop_all_ends_running_sandboxes_at_once(workdir, kind):
    results = []
    runner = threading.Thread(target=lambda: results.append(
        python("import time; time.sleep(60)", workdir, sandbox=kind)))
    runner.start()
    deadline = time.monotonic() + 10
    stopped = 0
    while not stopped and time.monotonic() < deadline:
        time.sleep(0.1)
        stopped = stop_all()
    runner.join(timeout=10)
    (result,) = results
    assert stopped == 1 and result.stopped and result.cause == "stopped (grading interrupted)"
    assert result.seconds < 10
