"""The `cs109b-bayes` command: list, run, student, check and grade labs.

    cs109b-bayes list                         the labs and their questions
    cs109b-bayes run [LAB ...] [--fast]       execute labs headless into build/
    cs109b-bayes student [--check] [--force]  write (or verify) the student notebooks
    cs109b-bayes check QUESTION               show what a question takes
    cs109b-bayes grade NOTEBOOK ... --csv F   score submissions per question, each in a sandbox
    cs109b-bayes release DIR                  write the student hand-out (no solutions)

The labs are those of the checkout holding the current directory, else of the checkout the
package is imported from, else the copy installed with the package (`$CS109B_ROOT` overrides);
`run` and `grade` write into `build/` under the current directory unless told otherwise.
`grade` exits 1 when a submission was missing or unreadable or could not be graded.
"""

import argparse
import os
import pathlib
import sys

__all__ = ["main"]

_DEFAULT_CSV = "build/grades.csv"


def _table(rows, header):
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(v).ljust(w) for v, w in zip(r, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _title(source):
    from cs109b_bayes.course.source import read_source

    first = next((c.source for c in read_source(source).cells if c.cell_type == "markdown"), "")
    return next((line.lstrip("# ").strip() for line in first.splitlines() if line.startswith("# ")), "")


def _cmd_list(args):
    from cs109b_bayes import grading
    from cs109b_bayes.course import paths

    rows = []
    for source in paths.find_labs():
        count = len(grading.questions(f"lab{source.stem[:2]}"))
        rows.append([source.stem[:2], source.stem, count, _title(source)])
    print(_table(rows, ["lab", "file", "questions", "title"]))
    print(f"\n(from {paths.course_root()})")
    return 0


def _cmd_run(args):
    from cs109b_bayes.course import paths, runner

    sources = paths.resolve_labs(args.labs)
    out_dir = pathlib.Path(args.out)
    mode = "fast" if args.fast else "full"
    print(f"running {len(sources)} lab(s) in {mode} mode into {out_dir}/", flush=True)
    runs = []
    for index, source in enumerate(sources, 1):
        print(f"[{index}/{len(sources)}] {source.stem} ...", end=" ", flush=True)
        run = runner.run_lab(source, out_dir=out_dir, fast=args.fast, strict=not args.no_strict,
                             timeout=args.timeout)
        runs.append(run)
        detail = f" ({run.error})" if run.error else ""
        print(f"{run.status} in {run.seconds:.1f}s, checks {run.checks_passed}/{run.checks_total}{detail}",
              flush=True)
    index_path = runner.write_index_html(runs, out_dir)
    rows = [[r.lab, r.status, f"{r.seconds:.1f}", f"{r.checks_passed}/{r.checks_total}"] for r in runs]
    rows.append(["total", "", f"{sum(r.seconds for r in runs):.1f}", ""])
    print()
    print(_table(rows, ["lab", "status", "seconds", "checks passed"]))
    print(f"\nexecuted notebooks and {index_path} written")
    return 0 if all(r.status == "ok" for r in runs) else 1


def _names(states):
    return ", ".join(state.path.name for state in states)


def _cmd_student(args):
    from cs109b_bayes.course import notebooks, paths

    root = paths.course_root()
    if args.out is None and not args.check and root == paths.bundled_root():
        raise ValueError(f"the labs in {root} are part of the installed package: write the student "
                         "notebooks elsewhere with `cs109b-bayes student --out FOLDER`")
    if args.check:
        states = notebooks.check_student_notebooks(root, out_dir=args.out)
        changed = [s for s in states if s.status == notebooks.CHANGED]
        stale = [s for s in states if s.status in (notebooks.STALE, notebooks.MISSING)]
        for status in (notebooks.MISSING, notebooks.STALE):
            some = [s for s in stale if s.status == status]
            if some:
                print(f"{status} student notebooks: {_names(some)}; run `cs109b-bayes student`", file=sys.stderr)
        if changed:
            print(f"student notebooks changed by a student: {_names(changed)}; "
                  "`cs109b-bayes student --force` overwrites them (keeping a backup)", file=sys.stderr)
        if stale or changed:
            return 1
        print(f"{len(states)} student notebooks up to date")
        return 0
    refused = []
    for state in notebooks.write_student_notebooks(root, out_dir=args.out, force=args.force):
        if state.backup:
            print(f"kept the student's changes in {state.backup}")
        if state.written:
            print(f"wrote {state.path}")
        elif state.status == notebooks.CHANGED:
            refused.append(state)
    if refused:
        print(f"not overwritten, changed by a student: {_names(refused)}; use --force to overwrite "
              "them (a timestamped backup is kept)", file=sys.stderr)
        return 1
    return 0


def _cmd_check(args):
    from cs109b_bayes import grading

    spec = grading.lookup(args.question)
    print(f"{spec.id}: cb.check({spec.id!r}, {', '.join(f'{a}={a}' for a in spec.answers)})")
    if spec.test.__doc__:
        print(spec.test.__doc__.strip())
    if spec.hint:
        print(f"Hint: {spec.hint}")
    return 0


def _cmd_grade(args):
    import functools

    from cs109b_bayes import grading
    from cs109b_bayes.course import batch, grader

    labs = {grader.lab_of(path, args.lab) for path in args.submissions} - {""}
    questions = sorted(q for lab in labs for q in grading.questions(lab))
    csv_path = pathlib.Path(args.csv)
    if args.csv == _DEFAULT_CSV:
        csv_path.parent.mkdir(parents=True, exist_ok=True)
    grade_one = functools.partial(
        grader.grade_one, lab=args.lab, out_dir=os.path.abspath(args.out), fast=args.fast,
        cell_timeout=args.timeout, notebook_timeout=args.notebook_timeout, memory_bytes=int(args.memory_gb * 2**30))
    try:
        report = batch.grade_batch(args.submissions, grade_one=grade_one, questions=[*questions, *grader.EXTRA_COLUMNS],
                                   csv_path=csv_path, workers=args.workers, dask_address=args.dask,
                                   resume=args.resume, overwrite=args.overwrite)
    except batch.BatchInterrupted as stop:
        print(f"\ninterrupted: {stop.report.summary()}", file=sys.stderr)
        return 130
    rows = [[pathlib.Path(r["submission"]).name, r["score"], r["status"], str(r["error"])[:60]] for r in report.rows]
    print(_table(rows, ["submission", "score", "status", "error"]))
    print(f"\n{report.summary()}")
    return 0 if report.ok else 1


def _cmd_release(args):
    from cs109b_bayes.course import release

    files = release.write_release(args.out_dir, overwrite=args.overwrite)
    print(f"wrote {len(files)} files into {args.out_dir}: the student notebooks, the data, README.md")
    return 0


def _parser():
    parser = argparse.ArgumentParser(prog="cs109b-bayes", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the labs").set_defaults(func=_cmd_list)

    run = commands.add_parser("run", help="execute labs headless (all by default)")
    run.add_argument("labs", nargs="*", help="lab numbers (01) or file stems; all if none")
    run.add_argument("--fast", action="store_true", help="CS109B_FAST=1: small chains and epochs")
    run.add_argument("--out", default="build", help="folder for executed notebooks (default build/)")
    run.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    run.add_argument("--no-strict", action="store_true", help="do not make failed checks raise")
    run.set_defaults(func=_cmd_run)

    student = commands.add_parser("student", help="write the student notebooks into labs/")
    student.add_argument("--check", action="store_true",
                         help="fail if a student notebook is stale or was changed by a student")
    student.add_argument("--force", action="store_true",
                         help="overwrite notebooks changed by a student (a timestamped backup is kept)")
    student.add_argument("--out", default=None, help="folder for the notebooks (default: the course's labs/)")
    student.set_defaults(func=_cmd_student)

    check = commands.add_parser("check", help="show what a question takes")
    check.add_argument("question", help="e.g. lab01.ols")
    check.set_defaults(func=_cmd_check)

    grade = commands.add_parser("grade", help="grade submitted notebooks (sandboxed) into a CSV score table")
    grade.add_argument("submissions", nargs="+", help="submitted .ipynb files (lab from the NN_ name)")
    grade.add_argument("--csv", default=_DEFAULT_CSV, help=f"score table (default {_DEFAULT_CSV})")
    grade.add_argument("--lab", default=None, help="grade every submission as this lab (e.g. 02)")
    grade.add_argument("--out", default="build/graded", help="folder for executed submissions")
    grade.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    grade.add_argument("--notebook-timeout", type=int, default=1800,
                       help="seconds allowed for the whole notebook (default 1800)")
    grade.add_argument("--memory-gb", type=float, default=4.0, help="memory limit per submission (default 4)")
    grade.add_argument("--fast", action="store_true", help="grade in fast mode")
    where = grade.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, help="parallel sandboxes here (default: cores)")
    where.add_argument("--dask", default=None, metavar="ADDRESS", help="grade on a Dask cluster (tcp://host:8786)")
    again = grade.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="keep the CSV's rows, grade only the others")
    again.add_argument("--overwrite", action="store_true", help="replace an existing CSV")
    grade.set_defaults(func=_cmd_grade)

    release = commands.add_parser("release", help="write the student hand-out (notebooks, data, README)")
    release.add_argument("out_dir", help="the hand-out folder (empty or new)")
    release.add_argument("--overwrite", action="store_true", help="write into a folder that has files")
    release.set_defaults(func=_cmd_release)
    return parser


def main(argv=None):
    """Entry point of the `cs109b-bayes` console script.

    Args:
        argv: arguments without the program name. Default value: `sys.argv[1:]`.

    Returns:
        The exit status: 0 on success, 1 when a lab or check fails (or a student notebook is
        stale or was changed by a student, or a submission was missing, unreadable or could
        not be graded), 2 for bad usage or a missing course, 130 when grading was interrupted.

    #### Examples

    ```python
    from cs109b_bayes.cli import main
    main(["list"])
    ```
    """
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, FileExistsError, PermissionError, ConnectionError, ImportError) as err:
        print(f"cs109b-bayes: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
