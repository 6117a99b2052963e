"""The student hand-out: the student notebooks, the data they read, a short how-to; no solutions.

`write_release(DIR)` writes

    DIR/README.md                 how to install, open, check and submit
    DIR/labs/NN_stem.ipynb        every lab's student notebook, generated now, without outputs
    DIR/data/*.csv, datasets.json the data sets the labs read

and nothing else: never the lab sources (`labs/source/*.py` hold the solutions), never an
executed notebook. The immediate-feedback checks (`cb.check`) ship with the package students
install; the grader's hidden inputs and secret seed do not exist until grading time.
"""

import json
import pathlib
import shutil

from cs109b_bayes.course.notebooks import student_notebook_text
from cs109b_bayes.course.paths import data_dir, find_labs, student_notebook_path

__all__ = ["README", "write_release"]

README = """# CS109B Bayesian deep learning labs

These are the lab notebooks ({count} labs) and the data they read.

## Set up

1. Install the course package (Python 3.11):
   `pip install cs109b_bayes` (or the wheel your instructor gave you).
2. Tell it where the data are: `export CS109B_DATA="$PWD/data"` (Windows:
   `set CS109B_DATA=%CD%\\data`), or start Jupyter from this folder after setting it.
3. `jupyter lab labs/`

## Work on a lab

Each question has a prompt, an answer cell with `...` to replace, and a check cell:
`cb.check("lab02.log_prior", log_prior=log_prior)` shows at once whether your answer passes
on fresh random inputs, with a hint when it does not. Ask for a hint with
`cb.hint("lab02.log_prior")`.

## Submit

Hand in the notebook file itself, keeping its name (`NN_stem.ipynb`: the number tells the
grader which lab it is). The grader runs it again from the top in a clean environment and
tests your answers on new inputs of its own, so make sure the notebook runs top to bottom
(Kernel -> Restart and run all). Only your answers to this lab's questions count; what your
notebook prints or checks by itself does not.
"""


def write_release(out_dir, *, root=None, overwrite=False):
    """Write the student hand-out into `out_dir` (see the module docstring).

    Args:
        out_dir: the hand-out folder; it must be empty or missing, unless `overwrite`.
        root: the course folder. Default value: `course_root()`.
        overwrite: write into a folder that already has files (only the hand-out's own files
            are replaced). Default value: False.

    Returns:
        The sorted list of files written (paths).

    Raises:
        FileExistsError: if `out_dir` has files and `overwrite` is False.
        CourseNotFoundError: if there is no course folder or no data.
        ValueError: for a malformed lab source, or a data file listed in `datasets.json`
            that is missing.

    #### Examples

    ```python
    from cs109b_bayes.course.release import write_release
    files = write_release("handout")
    ```
    """
    out_dir = pathlib.Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise FileExistsError(f"{out_dir} is not empty: use another folder, or --overwrite")
    sources = find_labs(root)
    data = pathlib.Path(root) / "data" if root is not None else data_dir()
    listing = data / "datasets.json"
    entries = json.loads(listing.read_text(encoding="utf-8"))
    names = sorted({entry["file"] for entry in entries.values() if isinstance(entry, dict) and "file" in entry})
    written = []
    (out_dir / "labs").mkdir(parents=True, exist_ok=True)
    (out_dir / "data").mkdir(parents=True, exist_ok=True)
    for source in sources:
        target = out_dir / "labs" / student_notebook_path(source).name
        target.write_text(student_notebook_text(source), encoding="utf-8")
        written.append(target)
    for name in names:
        file = data / name
        if pathlib.Path(name).name != name or not file.is_file():
            raise ValueError(f"{listing} lists {name}, which is not in {data}")
        written.append(pathlib.Path(shutil.copyfile(file, out_dir / "data" / name)))
    written.append(pathlib.Path(shutil.copyfile(listing, out_dir / "data" / "datasets.json")))
    readme = out_dir / "README.md"
    readme.write_text(README.format(count=len(sources)), encoding="utf-8")
    written.append(readme)
    return sorted(written)
