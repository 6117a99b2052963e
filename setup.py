"""Packaging that pyproject.toml cannot express: ship the course (labs and data) inside the wheel.

Developers edit the lab sources, the student notebooks and the data sets where they belong, in
the repository's `labs/` and `data/` folders. `pip install .` maps those folders into the
package as `cs109b_bayes/course/bundled/{labs,labs/source,data}`, so an installed package finds
its course without a checkout (`cs109b_bayes.course.paths` reads it with importlib.resources).
Everything else (metadata, dependencies, the console script) is in pyproject.toml.
"""

from setuptools import find_packages, setup

BUNDLED = {
    "cs109b_bayes.course.bundled.data": "data",
    "cs109b_bayes.course.bundled.labs": "labs",
    "cs109b_bayes.course.bundled.labs.source": "labs/source",
}

setup(
    packages=find_packages(include=["cs109b_bayes", "cs109b_bayes.*"]) + list(BUNDLED),
    package_dir=BUNDLED,
    package_data={
        "cs109b_bayes.course.bundled.data": ["*.csv", "datasets.json"],
        "cs109b_bayes.course.bundled.labs": ["[0-9][0-9]_*.ipynb"],
        "cs109b_bayes.course.bundled.labs.source": ["[0-9][0-9]_*.py"],
    },
    exclude_package_data={"cs109b_bayes.course.bundled.labs": ["*.backup-*.ipynb"]},
)
