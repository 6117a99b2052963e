"""The `cs109b-bayes` command: list, run, student, check and grade labs.

    cs109b-bayes list                         the labs and their questions
    cs109b-bayes run [LAB ...] [--fast]       execute labs headless into build/
    cs109b-bayes student [--check]            write (or verify) the student notebooks
    cs109b-bayes check QUESTION               show what a question takes
    cs109b-bayes grade NOTEBOOK ... [--csv]   score submissions per question
"""

import argparse
import csv
import os
import pathlib
import sys

__all__ = ["main"]


def _table(rows, header):
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(v).ljust(w) for v, w in zip(r, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _cmd_list(args):
    from cs109b_bayes import grading, labs

    rows = []
    for source in labs.find_labs():
        count = len(grading.questions(f"lab{source.stem[:2]}"))
        title = next((line[2:].lstrip("# ").strip() for line in source.read_text().splitlines()
                      if line.startswith("# # ")), "")
        rows.append([source.stem[:2], source.stem, count, title])
    print(_table(rows, ["lab", "file", "questions", "title"]))
    return 0


def _cmd_run(args):
    from cs109b_bayes import labs

    sources = labs.resolve_labs(args.labs)
    out_dir = pathlib.Path(args.out)
    mode = "fast" if args.fast else "full"
    print(f"running {len(sources)} lab(s) in {mode} mode into {out_dir}/", flush=True)
    runs = []
    for index, source in enumerate(sources, 1):
        print(f"[{index}/{len(sources)}] {source.stem} ...", end=" ", flush=True)
        run = labs.run_lab(source, out_dir=out_dir, fast=args.fast, strict=not args.no_strict,
                           timeout=args.timeout)
        runs.append(run)
        detail = f" ({run.error})" if run.error else ""
        print(f"{run.status} in {run.seconds:.1f}s, checks {run.checks_passed}/{run.checks_total}{detail}",
              flush=True)
    index_path = labs.write_index_html(runs, out_dir)
    rows = [[r.lab, r.status, f"{r.seconds:.1f}", f"{r.checks_passed}/{r.checks_total}"] for r in runs]
    total = sum(r.seconds for r in runs)
    rows.append(["total", "", f"{total:.1f}", ""])
    print()
    print(_table(rows, ["lab", "status", "seconds", "checks passed"]))
    print(f"\nexecuted notebooks and {index_path} written")
    return 0 if all(r.status == "ok" for r in runs) else 1


def _cmd_student(args):
    from cs109b_bayes import labs

    if args.check:
        stale = labs.stale_student_notebooks()
        if stale:
            names = ", ".join(p.name for p in stale)
            print(f"stale student notebooks: {names}; run `cs109b-bayes student`", file=sys.stderr)
            return 1
        print(f"{len(labs.find_labs())} student notebooks up to date")
        return 0
    for path in labs.write_student_notebooks():
        print(f"wrote {path}")
    return 0


def _cmd_check(args):
    from cs109b_bayes import grading

    spec = grading._lookup(args.question)
    print(f"{spec.id}: cb.check({spec.id!r}, {', '.join(f'{a}={a}' for a in spec.answers)})")
    if spec.test.__doc__:
        print(spec.test.__doc__.strip())
    if spec.hint:
        print(f"Hint: {spec.hint}")
    return 0


def _cmd_grade(args):
    import nbformat

    from cs109b_bayes import grading, labs

    results, all_questions = [], set()
    for index, path in enumerate(args.submissions, 1):
        path = pathlib.Path(path)
        print(f"[{index}/{len(args.submissions)}] grading {path} ...", end=" ", flush=True)
        try:
            notebook = nbformat.read(str(path), as_version=4)
        except Exception as err:  # unreadable submission: zero, keep going
            results.append((path, {}, f"unreadable: {type(err).__name__}: {err}"))
            print("unreadable")
            continue
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        error, checks, seconds = labs.run_notebook(
            notebook, out_path=pathlib.Path(args.out) / f"graded_{path.stem}.ipynb",
            env={"CS109B_STRICT": "0", "CS109B_FAST": "1" if args.fast else "0"},
            timeout=args.timeout, allow_errors=True,
        )
        outcome = {}
        for c in checks:  # the last run of a question counts
            outcome[c["question"]] = bool(c["passed"])
        lab = path.stem[:2]
        if lab.isdigit():
            all_questions.update(grading.questions(f"lab{lab}"))
        all_questions.update(outcome)
        results.append((path, outcome, error))
        print(f"{sum(outcome.values())}/{len(outcome)} checks passed in {seconds:.0f}s")
    questions = sorted(all_questions)
    out_csv = pathlib.Path(args.csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with open(out_csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission", *questions, "score", "error"])
        for path, outcome, error in results:
            marks = [int(outcome.get(q, False)) for q in questions]
            writer.writerow([str(path), *marks, sum(marks), error])
    rows = [[p.name, f"{sum(int(o.get(q, False)) for q in questions)}/{len(questions)}", e[:60]]
            for p, o, e in results]
    print()
    print(_table(rows, ["submission", "score", "error"]))
    print(f"\nscores written to {out_csv}")
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
    student.add_argument("--check", action="store_true", help="fail if a student notebook is stale")
    student.set_defaults(func=_cmd_student)

    check = commands.add_parser("check", help="show what a question takes")
    check.add_argument("question", help="e.g. lab01.ols")
    check.set_defaults(func=_cmd_check)

    grade = commands.add_parser("grade", help="grade submitted notebooks into a CSV score table")
    grade.add_argument("submissions", nargs="+", help="submitted .ipynb files")
    grade.add_argument("--csv", default="build/grades.csv", help="score table (default build/grades.csv)")
    grade.add_argument("--out", default="build/graded", help="folder for executed submissions")
    grade.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    grade.add_argument("--fast", action="store_true", help="grade in fast mode")
    grade.set_defaults(func=_cmd_grade)
    return parser


def main(argv=None):
    """Entry point of the `cs109b-bayes` console script.

    Args:
        argv: arguments without the program name. Default value: `sys.argv[1:]`.

    Returns:
        The exit status: 0 on success, 1 when a lab or check fails, 2 for bad usage.

    #### Examples

    ```python
    from cs109b_bayes.cli import main
    main(["list"])
    ```
    """
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"cs109b-bayes: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
