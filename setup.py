"""Packaging that pyproject.toml cannot express: ship the course (labs and data) inside the wheel.

Developers edit the lab sources, the student notebooks and the data sets where they belong, in
the repository's `labs/` and `data/` folders. `pip install .` maps those folders into the
package as `cs109b_bayes/course/bundled/{labs,labs/source,data}`, so an installed package finds
its course without a checkout (`cs109b_bayes.course.paths` reads it with importlib.resources).
Everything else (metadata, dependencies, the console script) is in pyproject.toml.

The lab sources hold the solutions. The instructor's package carries them (so `cs109b-bayes run`
works from any directory); the students' package must not: `CS109B_WHEEL=student pip wheel . -w
dist` builds a wheel without `labs/source`, to hand out with `cs109b-bayes release DIR`.
"""

import os

from setuptools import find_packages, setup

STUDENT_WHEEL = os.environ.get("CS109B_WHEEL", "").strip().lower() == "student"

BUNDLED = {
    "cs109b_bayes.course.bundled.data": "data",
    "cs109b_bayes.course.bundled.labs": "labs",
    "cs109b_bayes.course.bundled.labs.source": "labs/source",
}
if STUDENT_WHEEL:   # no solutions in a package that students install
    del BUNDLED["cs109b_bayes.course.bundled.labs.source"]

setup(
    packages=find_packages(include=["cs109b_bayes", "cs109b_bayes.*"]) + list(BUNDLED),
    package_dir=BUNDLED,
    package_data={
        "cs109b_bayes.course.bundled.data": ["*.csv", "datasets.json"],
        "cs109b_bayes.course.bundled.labs": ["[0-9][0-9]_*.ipynb"],
        **({} if STUDENT_WHEEL else {"cs109b_bayes.course.bundled.labs.source": ["[0-9][0-9]_*.py"]}),
    },
    exclude_package_data={"cs109b_bayes.course.bundled.labs": ["*.backup-*.ipynb"]},
)
