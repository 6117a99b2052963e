"""`pip install .` gives a package that finds its labs and data from any directory, without a checkout.

The wheel is built from a copy of the checkout's packaging files (so the build leaves nothing in the
working tree), installed into a fresh venv that borrows this environment's dependencies (TensorFlow
and friends) through a `.pth` file placed after the venv's own site-packages, and exercised from a
folder outside any checkout: `cs109b-bayes list`, the data, and a fast run of lab 01.
"""

import os
import pathlib
import shutil
import site
import subprocess
import sys
import venv

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
PACKAGING = ["pyproject.toml", "setup.py", "README.md", "cs109b_bayes", "labs", "data"]

pytestmark = pytest.mark.slow


def _run(argv, *, cwd, env, timeout=600):
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{argv} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _copy_packaging(source):
    """Copies what `pip wheel` needs from the checkout to `source` (so the build leaves nothing here)."""
    for name in PACKAGING:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns(
                "__pycache__", "*.pyc", "*.egg-info", "*.backup-*.ipynb", ".ipynb_checkpoints"))
        else:
            shutil.copy(path, source / name)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv python, venv bin folder, a working folder outside any checkout, environment)."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    source.mkdir()
    _copy_packaging(source)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "CS109B_ROOT", "CS109B_DATA", "VIRTUAL_ENV")}
    env.update(CS109B_OFFLINE="1", MPLBACKEND="Agg")
    wheels = root / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(source), "-w", str(wheels)],
         cwd=root, env=env)
    [wheel] = wheels.glob("cs109b_bayes-*.whl")

    target = root / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(target)
    python = target / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   cwd=root, env=env).strip()
    # This environment's packages (TensorFlow, ...) come after the venv's own: a plain path line, so
    # the editable install of the checkout living there (a .pth import hook) is not activated.
    (pathlib.Path(purelib) / "borrowed_dependencies.pth").write_text(
        "\n".join(dict.fromkeys(site.getsitepackages())) + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
          "--no-index", str(wheel)], cwd=root, env=env)
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    env["PATH"] = f"{target / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return python, target / "bin", elsewhere, env


def test_the_installed_package_is_the_wheel_not_the_checkout(installed):
    python, _, elsewhere, env = installed
    out = _run([str(python), "-c", "import cs109b_bayes as cb, cs109b_bayes.course.paths as p; "
                "print(cb.__file__); print(p.course_root()); print(cb.data.data_dir()); "
                "print(cb.data.advertising().x.shape)"], cwd=elsewhere, env=env)
    package_file, course_root, data_dir, shape = out.strip().splitlines()[-4:]
    venv_dir = python.parent.parent
    assert pathlib.Path(package_file).is_relative_to(venv_dir), package_file
    assert not pathlib.Path(package_file).is_relative_to(REPO)
    assert course_root.endswith("cs109b_bayes/course/bundled") and pathlib.Path(course_root).is_relative_to(venv_dir)
    assert pathlib.Path(data_dir) == pathlib.Path(course_root) / "data"
    assert shape == "(200,)"


def test_list_and_student_check_from_any_directory(installed):
    _, bin_dir, elsewhere, env = installed
    out = _run([str(bin_dir / "cs109b-bayes"), "list"], cwd=elsewhere, env=env)
    assert "01_bootstrap" in out and "12_bayesian_vae" in out and "cs109b_bayes/course/bundled" in out
    out = _run([str(bin_dir / "cs109b-bayes"), "student", "--check"], cwd=elsewhere, env=env)
    assert "student notebooks up to date" in out


def test_run_lab_01_from_any_directory(installed):
    _, bin_dir, elsewhere, env = installed
    out = _run([str(bin_dir / "cs109b-bayes"), "run", "01", "--fast"], cwd=elsewhere, env=env)
    assert "01_bootstrap ... ok" in out and "4/4" in out
    assert (elsewhere / "build" / "01_bootstrap.ipynb").is_file()   # build/ under the current directory
    assert (elsewhere / "build" / "index.html").is_file()


def test_lab_kernels_import_the_installed_package(installed):
    python, _, elsewhere, env = installed
    code = ("import nbformat\n"
            "from cs109b_bayes.course import run_notebook\n"
            "nb = nbformat.v4.new_notebook()\n"
            "nb.cells.append(nbformat.v4.new_code_cell('import cs109b_bayes; print(cs109b_bayes.__file__)'))\n"
            "error, _, _ = run_notebook(nb, out_path='kernel/probe.ipynb', env={})\n"
            "print(error or nb.cells[0].outputs[0]['text'])\n")
    out = _run([str(python), "-c", code], cwd=elsewhere, env=env)
    assert pathlib.Path(out.strip().splitlines()[-1]).is_relative_to(python.parent.parent), out


def test_the_student_wheel_carries_no_solutions(tmp_path):
    """`CS109B_WHEEL=student pip wheel .` leaves out labs/source (the solutions) but keeps notebooks and data."""
    import zipfile

    source = tmp_path / "source"
    source.mkdir()
    _copy_packaging(source)
    env = dict(os.environ, CS109B_WHEEL="student")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(source), "-w", str(tmp_path / "w")],
         cwd=tmp_path, env=env)
    [wheel] = (tmp_path / "w").glob("cs109b_bayes-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if "/labs/source/" in n], "the student wheel ships lab sources"
    assert any(n.endswith("bundled/labs/01_bootstrap.ipynb") for n in names)
    assert any(n.endswith("bundled/data/advertising.csv") for n in names)
    assert any(n.endswith("cs109b_bayes/questions/lab01.py") for n in names)   # the checks stay public
