"""Grading throughput: submissions per hour with 1 and 2 workers, on a Dask LocalCluster, and
the sandbox's overhead against an unsandboxed run.

A batch of N submissions, alternating the lab 01 and lab 02 solution notebooks (the numpy
labs; half of them lab 02, whose Metropolis runs dominate), is graded end to end by
`cs109b_bayes.course.batch.grade_batch` with `cs109b_bayes.course.grader.grade_one` (fast
mode), in these configurations, one after another on the same files:

* `1 worker`: one sandbox at a time (bubblewrap);
* `2 workers`: two sandboxes at once, threads of this process;
* `Dask LocalCluster(2)`: two worker processes of a local Dask cluster, one task each;
* `1 worker, fallback`: one at a time without bubblewrap (`CS109B_SANDBOX=none`), to price
  the sandbox itself.

Every row must score full marks (the benchmark fails otherwise). Printed: seconds, submissions
per hour, the ratio to `1 worker`, and the sandbox overhead (bubblewrap / fallback seconds).

Usage:

    python bench/grading_throughput.py                      # N = 8
    python bench/grading_throughput.py --n 4 --json bench/results/grading_throughput.json
"""

import argparse
import csv
import functools
import json
import os
import pathlib
import platform
import sys
import tempfile
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import nbformat  # noqa: E402

from cs109b_bayes import course, grading  # noqa: E402
from cs109b_bayes.course import grader  # noqa: E402
from cs109b_bayes.course.batch import grade_batch  # noqa: E402
from cs109b_bayes.course.sandbox import SandboxWarning, sandbox_kind  # noqa: E402

FULL_MARKS = {"01": 4, "02": 5}


def submissions(folder, count):
    """`count` solution notebooks, lab 01 and lab 02 alternating, each in its own folder."""
    notebooks = {lab: course.make_notebook(course.resolve_labs([lab])[0], solution=True) for lab in FULL_MARKS}
    paths = []
    for index in range(count):
        lab = "01" if index % 2 == 0 else "02"
        path = folder / f"student{index:03d}" / f"{course.resolve_labs([lab])[0].stem}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebooks[lab], str(path))
        paths.append(path)
    return paths


def run(name, paths, folder, *, workers=None, dask=False, sandbox=None):
    """Grade the batch once; the row of the results table."""
    columns = [*grading.questions("lab01"), *grading.questions("lab02"), *grader.EXTRA_COLUMNS]
    grade_one = functools.partial(grader.grade_one, fast=True, out_dir=str(folder / "graded"), sandbox=sandbox)
    table = folder / f"{name.replace(' ', '_').replace(',', '')}.csv"
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SandboxWarning)
        if dask:
            from distributed import LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
                start = time.perf_counter()      # the cluster's own start-up is not grading
                report = grade_batch(paths, grade_one=grade_one, questions=columns, csv_path=table,
                                     dask_address=cluster.scheduler_address, progress=False)
        else:
            report = grade_batch(paths, grade_one=grade_one, questions=columns, csv_path=table,
                                 workers=workers, progress=False)
    seconds = time.perf_counter() - start
    rows = list(csv.DictReader(table.open()))
    wrong = [r["submission"] for r in rows
             if int(r["score"]) != FULL_MARKS[pathlib.Path(r["submission"]).name[:2]] or r["status"] != "graded"]
    if wrong or not report.ok:
        raise SystemExit(f"{name}: not every solution scored full marks: {wrong} ({report.summary()})")
    return {"configuration": name, "workers": 2 if dask else workers, "sandbox": sandbox_kind(sandbox),
            "submissions": len(paths), "seconds": round(seconds, 1),
            "per_hour": round(len(paths) / seconds * 3600), "mean_row_seconds": round(
                sum(float(r["seconds"]) for r in rows) / len(rows), 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=8, help="submissions per batch (default 8)")
    parser.add_argument("--skip", default="", help="comma-separated configurations to skip: threads,dask,fallback")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if sandbox_kind("auto") != "bwrap":
        raise SystemExit("bubblewrap does not work here: the benchmark compares it with the fallback")
    skip = set(filter(None, args.skip.split(",")))
    results = []
    with tempfile.TemporaryDirectory(prefix="cs109b-bench-") as scratch:
        folder = pathlib.Path(scratch)
        paths = submissions(folder / "submissions", args.n)
        plan = [("1 worker", {"workers": 1}), ("2 workers", {"workers": 2}),
                ("Dask LocalCluster(2)", {"dask": True}), ("1 worker, fallback", {"workers": 1, "sandbox": "none"})]
        skipped = {"2 workers": "threads", "Dask LocalCluster(2)": "dask", "1 worker, fallback": "fallback"}
        for name, options in plan:
            if skipped.get(name) in skip:
                continue
            print(f"grading {args.n} submissions: {name} ...", file=sys.stderr, flush=True)
            results.append(run(name, paths, folder, **options))
    base = results[0]["seconds"]
    for row in results:
        row["speed_vs_1_worker"] = round(base / row["seconds"], 2)
    fallback = next((r for r in results if r["sandbox"] == "fallback"), None)
    overhead = round(base / fallback["seconds"], 2) if fallback else None
    print(f"\n{args.n} submissions (lab 01 and lab 02 solutions alternating, fast mode), "
          f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}\n")
    print("| configuration | sandbox | seconds | submissions/hour | vs 1 worker |")
    print("|---|---|---:|---:|---:|")
    for row in results:
        print(f"| {row['configuration']} | {row['sandbox']} | {row['seconds']} | {row['per_hour']} | "
              f"{row['speed_vs_1_worker']}x |")
    if overhead:
        print(f"\nsandbox overhead: bubblewrap takes {overhead}x the time of the unsandboxed fallback "
              f"({base} s vs {fallback['seconds']} s for the same {args.n} submissions)")
    if args.json:
        pathlib.Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        pathlib.Path(args.json).write_text(json.dumps(
            {"n": args.n, "cores": os.cpu_count(), "results": results, "sandbox_overhead": overhead}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
