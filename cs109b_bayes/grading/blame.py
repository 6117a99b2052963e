"""Whose code raised: the student's answer, or the question's own checking code.

When a question's test raises something other than `CheckFailed`, `check` must tell the
student either "your code raised ..." or, if the error came from the checker itself, that the
check is broken (not their fault). The test calls the student's functions directly, through
library code (TFP kernels, Keras fits), or through closures and objects the student returned,
so we read the traceback instead of wrapping answers: an error is the student's when any frame
between the check and the raise runs code outside the installed libraries (the standard
library, site-packages, this package), such as a notebook cell, a script or a test file.
Chained errors (`raise ... from err`, and errors raised while handling another) count too,
since libraries often re-raise what a callback raised.

Two student mistakes raise in the checker's own frame, before any student code runs: an answer
that is not a function at all, and a function with the wrong parameters. `misused_answer`
recognises both from the `TypeError` Python raises at the call.
"""

import pathlib
import re
import site
import sys
import sysconfig
import traceback

__all__ = ["is_library_file", "misused_answer", "student_frame"]

_PACKAGE_DIR = pathlib.Path(__file__).resolve().parents[1]
# Code objects made by the interpreter or NumPy themselves, never a student's.
_LIBRARY_PSEUDO_FILES = ("<frozen ", "<__array_function__ internals>")
# What Python says when a function is called with arguments its signature does not take.
_BAD_CALL = re.compile(r"^(?P<name>[\w.<>]+)\(\) (got an unexpected keyword argument|got multiple values "
                       r"for argument|missing \d+ required|takes (from )?\d+ (to \d+ )?positional argument)")


def _library_dirs():
    dirs = {_PACKAGE_DIR}
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if paths.get(key):
            dirs.add(pathlib.Path(paths[key]).resolve())
    extra = list(getattr(site, "getsitepackages", lambda: [])())
    if getattr(site, "ENABLE_USER_SITE", False):
        extra.append(site.getusersitepackages())
    extra.extend(p for p in sys.path if p and pathlib.Path(p).name in ("site-packages", "dist-packages"))
    dirs.update(pathlib.Path(p).resolve() for p in extra)
    return tuple(dirs)


_LIBRARY_DIRS = _library_dirs()


def is_library_file(filename):
    """True when `filename` holds library code: the standard library, site-packages, this package.

    Anything else (a notebook cell `/tmp/ipykernel_*/*.py`, `<ipython-input-...>`, `<string>`,
    a script, a test file) is taken to be the student's code.

    Args:
        filename: a code object's `co_filename`.

    Returns:
        A bool.

    #### Examples

    ```python
    import numpy
    from cs109b_bayes.grading.blame import is_library_file
    is_library_file(numpy.__file__)      # True
    is_library_file("<ipython-input-3>")  # False
    ```
    """
    if filename.startswith(_LIBRARY_PSEUDO_FILES):
        return True
    if filename.startswith("<"):
        return False
    path = pathlib.Path(filename).resolve()
    return any(path.is_relative_to(folder) for folder in _LIBRARY_DIRS)


def _chain(error):
    seen = []
    while error is not None and all(error is not e for e in seen):
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen


def student_frame(error):
    """The innermost frame of the student's code that `error` passed through, or None.

    Args:
        error: an exception caught around a question's test.

    Returns:
        A `traceback.FrameSummary` (its `name` and `lineno` locate the line in the student's
        code), or None when only library and checker code ran between the check and the raise:
        then the checker itself failed.

    #### Examples

    ```python
    from cs109b_bayes.grading.blame import student_frame

    def answer(x):
        return 1 / x

    try:
        answer(0)
    except ZeroDivisionError as err:
        frame = student_frame(err)   # frame.name == "answer" (when run outside site-packages)
    ```
    """
    for link in _chain(error):
        frames = [f for f in traceback.extract_tb(link.__traceback__) if not is_library_file(f.filename)]
        if frames:
            return frames[-1]
    return None


def misused_answer(error, answers):
    """Why the checker could not even call an answer: not a function, or the wrong parameters.

    Args:
        error: an exception caught around a question's test.
        answers: the `{name: value}` answers given to `check`.

    Returns:
        A message naming the answer, or `""` when `error` is not such a `TypeError`.

    #### Examples

    ```python
    from cs109b_bayes.grading.blame import misused_answer
    misused_answer(TypeError("'int' object is not callable"), {"fit_ols": 3})
    # 'fit_ols should be a function, got int 3'
    ```
    """
    if not isinstance(error, TypeError):
        return ""
    text = str(error)
    bad_call = _BAD_CALL.match(text)
    for name, value in answers.items():
        if not callable(value):
            if f"'{type(value).__name__}' object is not callable" in text:
                return f"{name} should be a function, got {type(value).__name__} {value!r:.60}"
            continue
        qualname = getattr(value, "__qualname__", None) or type(value).__qualname__
        called = bad_call.group("name") if bad_call else ""
        if called == qualname or called.startswith(qualname + "."):
            return f"{name} cannot be called the way the question says: {text}"
    return ""
