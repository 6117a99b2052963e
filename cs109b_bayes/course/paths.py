"""Where the course lives: the lab sources, the student notebooks and the data sets.

A course folder has the layout of the repository: `labs/source/NN_stem.py` (the lab sources,
with solutions), `labs/NN_stem.ipynb` (the generated student notebooks) and `data/` (the data
sets and `datasets.json`). It is looked up in this order:

1. `$CS109B_ROOT`, when set (any folder with that layout);
2. the repository checkout holding the current directory (developers edit the labs there);
3. the checkout this package is imported from (an editable install, or `python -m pytest`
   at the repository root);
4. the copy installed with the package (`pip install .` ships `labs/` and `data/` inside
   the wheel, as `cs109b_bayes/course/bundled/`).

`$CS109B_DATA` overrides the data folder alone. A checkout is recognised by its
`pyproject.toml` beside a `cs109b_bayes/` package.
"""

import importlib.resources
import os
import pathlib

__all__ = [
    "CourseNotFoundError",
    "bundled_root",
    "course_root",
    "data_dir",
    "find_labs",
    "is_checkout",
    "resolve_labs",
    "student_notebook_path",
]

_PACKAGE_PARENT = pathlib.Path(__file__).resolve().parents[2]
_HELP = ("run the command inside a cs109b_bayes checkout, set CS109B_ROOT to one, "
         "or reinstall the package with `pip install .` (which ships the labs and data)")


class CourseNotFoundError(FileNotFoundError):
    """No course folder (lab sources, or data) could be found; the message says where it looked."""


def is_checkout(folder):
    """True when `folder` is a cs109b_bayes repository checkout.

    Args:
        folder: a path.

    Returns:
        True when it holds `pyproject.toml` and the `cs109b_bayes/` package.

    #### Examples

    ```python
    from cs109b_bayes.course import paths
    paths.is_checkout(".")
    ```
    """
    folder = pathlib.Path(folder)
    return (folder / "pyproject.toml").is_file() and (folder / "cs109b_bayes" / "__init__.py").is_file()


def bundled_root():
    """The course copy installed inside the package, or None (an editable install has none).

    Returns:
        A `pathlib.Path` to `cs109b_bayes/course/bundled`, or None when it is absent.

    #### Examples

    ```python
    from cs109b_bayes.course import paths
    paths.bundled_root()   # None in a checkout
    ```
    """
    folder = importlib.resources.files(__package__) / "bundled"
    if isinstance(folder, pathlib.Path) and folder.is_dir():
        return folder
    return None


def _candidates():
    """(where, folder) pairs in lookup order, after `$CS109B_ROOT`."""
    here = pathlib.Path.cwd().resolve()
    for folder in (here, *here.parents):
        if is_checkout(folder):
            yield "the checkout holding the current directory", folder
            break
    if is_checkout(_PACKAGE_PARENT):
        yield "the checkout this package is imported from", _PACKAGE_PARENT
    bundled = bundled_root()
    if bundled is not None:
        yield "the copy installed with the package", bundled


def course_root():
    """The course folder: `$CS109B_ROOT`, the checkout in use, or the installed copy.

    Returns:
        A `pathlib.Path` to a folder holding `labs/source/`.

    Raises:
        CourseNotFoundError: if there is no course folder (the message says what to do).

    #### Examples

    ```python
    from cs109b_bayes.course import paths
    paths.course_root()   # PosixPath('/home/me/cs109b_bayes')
    ```
    """
    explicit = os.environ.get("CS109B_ROOT")
    if explicit:
        return pathlib.Path(explicit)
    for _, folder in _candidates():
        if (folder / "labs" / "source").is_dir():
            return folder
    raise CourseNotFoundError(f"cannot find the cs109b_bayes labs: {_HELP}")


def data_dir():
    """The folder with the data files: `$CS109B_DATA`, else the course folder's `data/`.

    Looked up like `course_root`, but a folder counts as soon as it has `data/datasets.json`,
    so the data are found where the lab sources are hidden (a grading sandbox).

    Returns:
        A `pathlib.Path`.

    Raises:
        CourseNotFoundError: if no folder has the data.

    #### Examples

    ```python
    from cs109b_bayes.course import paths
    sorted(p.name for p in paths.data_dir().glob("*.csv"))
    ```
    """
    explicit = os.environ.get("CS109B_DATA")
    if explicit:
        return pathlib.Path(explicit)
    roots = [pathlib.Path(os.environ["CS109B_ROOT"])] if os.environ.get("CS109B_ROOT") else []
    for folder in [*roots, *(folder for _, folder in _candidates())]:
        if (folder / "data" / "datasets.json").is_file():
            return folder / "data"
    raise CourseNotFoundError(f"cannot find the cs109b_bayes data sets (data/datasets.json): {_HELP}; "
                              "or set CS109B_DATA to the data folder")


def find_labs(root=None):
    """The lab sources, sorted by number.

    Args:
        root: the course folder. Default value: `course_root()`.

    Returns:
        A list of `pathlib.Path` to `labs/source/NN_stem.py`.

    Raises:
        CourseNotFoundError: if there is no course folder, or it has no `labs/source/`.

    #### Examples

    ```python
    from cs109b_bayes import course
    [p.stem for p in course.find_labs()]   # ['01_bootstrap', ...]
    ```
    """
    folder = pathlib.Path(root or course_root()) / "labs" / "source"
    if not folder.is_dir():
        raise CourseNotFoundError(f"{folder} does not exist: no lab sources there; {_HELP}")
    return sorted(folder.glob("[0-9][0-9]_*.py"))


def resolve_labs(names, root=None):
    """Map lab names (`"01"`, `"1"`, `"01_bootstrap"`, `"labs/01_bootstrap.ipynb"`) to their sources.

    Args:
        names: lab numbers or file stems; empty means every lab.
        root: the course folder. Default value: `course_root()`.

    Returns:
        A list of source paths, in the order given.

    Raises:
        ValueError: for a name that matches no lab, listing the labs there are.
        CourseNotFoundError: if there is no course folder.

    #### Examples

    ```python
    from cs109b_bayes import course
    course.resolve_labs(["1"])   # [PosixPath('.../labs/source/01_bootstrap.py')]
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


def student_notebook_path(source):
    """Where the student notebook of a lab source lives: `labs/NN_stem.ipynb`.

    Args:
        source: path to `labs/source/NN_stem.py`.

    Returns:
        A `pathlib.Path`.

    #### Examples

    ```python
    from cs109b_bayes import course
    course.student_notebook_path(course.resolve_labs(["01"])[0]).name   # '01_bootstrap.ipynb'
    ```
    """
    source = pathlib.Path(source)
    return source.parent.parent / f"{source.stem}.ipynb"
