"""The course files: where they are found, the lab source format, and the generated student notebooks."""

import json

import nbformat
import pytest

from cs109b_bayes import course, data
from cs109b_bayes.course import notebooks, paths

SOURCE_TEXT = '''# %% [markdown]
# # Lab 99 - demo
# Question: why?
# BEGIN SOLUTION
# Because.
# END SOLUTION

# %%
import cs109b_bayes as cb

# %%
def square(x):
    # BEGIN SOLUTION
    y = x * x
    return y
    # END SOLUTION

answer = 42  # SOLUTION
'''


@pytest.fixture
def demo_course(make_course):
    """A course folder with one lab source, used through `$CS109B_ROOT`."""
    return make_course(SOURCE_TEXT)


def _fake_checkout(folder):
    (folder / "cs109b_bayes").mkdir(parents=True)
    (folder / "cs109b_bayes" / "__init__.py").write_text("")
    (folder / "pyproject.toml").write_text("[project]\nname = 'cs109b_bayes'\n")
    (folder / "labs" / "source").mkdir(parents=True)
    (folder / "labs" / "source" / "99_demo.py").write_text(SOURCE_TEXT)
    (folder / "data").mkdir()
    (folder / "data" / "datasets.json").write_text("{}")
    return folder


# ---- where the course lives ------------------------------------------------------------------


def test_the_checkout_in_use_is_the_course(tmp_path, monkeypatch):
    monkeypatch.delenv("CS109B_ROOT", raising=False)
    monkeypatch.delenv("CS109B_DATA", raising=False)
    monkeypatch.chdir(tmp_path)   # not a checkout: the one this package is imported from
    repo = paths.course_root()
    assert paths.is_checkout(repo) and (repo / "labs" / "source" / "01_bootstrap.py").is_file()
    assert paths.data_dir() == repo / "data" == data.data_dir()
    assert paths.bundled_root() is None   # an editable install or checkout has no installed copy


def test_a_checkout_holding_the_current_directory_wins(tmp_path, monkeypatch):
    monkeypatch.delenv("CS109B_ROOT", raising=False)
    monkeypatch.delenv("CS109B_DATA", raising=False)
    other = _fake_checkout(tmp_path / "other")
    (other / "labs" / "deeper").mkdir()
    monkeypatch.chdir(other / "labs" / "deeper")
    assert paths.course_root() == other
    assert [p.stem for p in course.find_labs()] == ["99_demo"]
    assert paths.data_dir() == other / "data"


def test_environment_overrides(tmp_path, monkeypatch, demo_course):
    assert paths.course_root() == tmp_path
    assert course.find_labs() == [demo_course]
    monkeypatch.setenv("CS109B_DATA", str(tmp_path / "elsewhere"))
    assert paths.data_dir() == tmp_path / "elsewhere"


def test_the_installed_copy_is_used_without_a_checkout(tmp_path, monkeypatch):
    bundled = _fake_checkout(tmp_path / "bundled")
    monkeypatch.delenv("CS109B_ROOT", raising=False)
    monkeypatch.delenv("CS109B_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(paths, "is_checkout", lambda folder: False)
    monkeypatch.setattr(paths, "bundled_root", lambda: bundled)
    assert paths.course_root() == bundled
    assert paths.data_dir() == bundled / "data"


def test_no_course_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("CS109B_ROOT", raising=False)
    monkeypatch.delenv("CS109B_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(paths, "is_checkout", lambda folder: False)
    monkeypatch.setattr(paths, "bundled_root", lambda: None)
    with pytest.raises(course.CourseNotFoundError, match="CS109B_ROOT"):
        paths.course_root()
    with pytest.raises(FileNotFoundError, match="data sets"):
        paths.data_dir()
    with pytest.raises(data.DataError, match="CS109B_DATA"):
        data.advertising()


def test_a_root_without_lab_sources_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CS109B_ROOT", str(tmp_path))
    with pytest.raises(course.CourseNotFoundError, match="no lab sources"):
        course.find_labs()


def test_resolve_labs_by_number_and_stem():
    assert course.resolve_labs(["1"]) == course.resolve_labs(["01"]) == course.resolve_labs(["01_bootstrap"])
    assert course.resolve_labs(["labs/01_bootstrap.ipynb"])[0].stem == "01_bootstrap"
    assert course.resolve_labs([]) == course.find_labs()
    with pytest.raises(ValueError, match="unknown lab '77'.*01_bootstrap"):
        course.resolve_labs(["77"])
    assert course.student_notebook_path(course.resolve_labs(["01"])[0]).name == "01_bootstrap.ipynb"


# ---- the lab source format -------------------------------------------------------------------


def test_source_to_solution_and_student(tmp_path):
    source = tmp_path / "99_demo.py"
    source.write_text(SOURCE_TEXT)
    solution = course.make_notebook(source, solution=True)
    student = course.make_notebook(source, solution=False)
    assert [c.cell_type for c in solution.cells] == ["markdown", "code", "code"]
    assert [c["id"] for c in solution.cells] == ["99-000", "99-001", "99-002"]
    assert "Because." in solution.cells[0].source and "SOLUTION" not in solution.cells[0].source
    assert "*Your answer here.*" in student.cells[0].source and "Because" not in student.cells[0].source
    assert "y = x * x" in solution.cells[2].source and "answer = 42" in solution.cells[2].source
    assert "# SOLUTION" not in solution.cells[2].source
    code = student.cells[2].source
    assert "x * x" not in code and "42" not in code
    assert "    ...  # YOUR CODE HERE" in code and "answer = ...  # YOUR CODE HERE" in code
    compile(code, "student", "exec")   # the blanked code is still valid Python
    assert all(not c.get("outputs") and not c.metadata for c in student.cells)
    assert student.metadata["kernelspec"]["name"] == "python3" and "jupytext" not in student.metadata


def test_jupytext_reads_the_cells_and_writes_them_back(tmp_path):
    source = tmp_path / "99_demo.py"
    source.write_text(SOURCE_TEXT + "\n# %%\n# %time square(3)\n")
    raw = course.read_source(source)
    assert raw.cells[0].source.startswith("# Lab 99 - demo\nQuestion: why?\nBEGIN SOLUTION")
    assert raw.cells[-1].source == "%time square(3)"   # jupytext's commented-magic convention
    again = tmp_path / "99_again.py"
    again.write_text(course.source_text(raw))
    assert [(c.cell_type, c.source) for c in course.read_source(again).cells] == \
        [(c.cell_type, c.source) for c in raw.cells]


@pytest.mark.parametrize("text, match", [
    ("print(1)\n# %%\nx = 1\n", "before the first"),
    ("# %%\ndef f():\n    # BEGIN SOLUTION\n    return 1\n", "98_bad.py, cell 98-000: '# BEGIN SOLUTION' without"),
    ("# %% [markdown]\n# BEGIN SOLUTION\n# hidden\n", "without 'END SOLUTION'"),
])
def test_malformed_sources(tmp_path, text, match):
    source = tmp_path / "98_bad.py"
    source.write_text(text)
    with pytest.raises(ValueError, match=match):
        course.make_notebook(source, solution=False)


@pytest.mark.parametrize("source", course.find_labs(), ids=lambda p: p.stem)
def test_every_lab_source_has_one_cell_per_marker(source):
    markers = [line for line in source.read_text().splitlines() if line.startswith("# %%")]
    notebook = course.make_notebook(source, solution=False)
    assert [c.cell_type for c in notebook.cells] == \
        ["markdown" if "[markdown]" in m else "code" for m in markers]
    assert all(c.source.strip() for c in notebook.cells), "no empty cells"


# ---- student notebooks -------------------------------------------------------------------------


def _status(source):
    [state] = notebooks.check_student_notebooks()
    assert state.source == source
    return state.status


def test_committed_student_notebooks_are_up_to_date_and_clean():
    states = course.check_student_notebooks()
    assert [s.path.name for s in states if s.status != course.UP_TO_DATE] == [], "run `cs109b-bayes student`"
    for state in states:
        notebook = nbformat.read(str(state.path), as_version=4)
        assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")
        assert "BEGIN SOLUTION" not in json.dumps(notebook)
        assert notebook.metadata["cs109b_bayes"]["cells_sha256"] == course.cells_fingerprint(notebook)


def test_missing_then_up_to_date_then_stale(demo_course):
    path = course.student_notebook_path(demo_course)
    assert _status(demo_course) == course.MISSING
    assert course.stale_student_notebooks() == [path]
    [state] = course.write_student_notebooks()
    assert state.written and state.backup is None and path.exists()
    assert _status(demo_course) == course.UP_TO_DATE and course.stale_student_notebooks() == []
    demo_course.write_text(SOURCE_TEXT.replace("Lab 99 - demo", "Lab 99 - a demo"))
    assert _status(demo_course) == course.STALE
    [state] = course.write_student_notebooks()
    assert state.status == course.STALE and state.written and state.backup is None
    assert "a demo" in path.read_text() and _status(demo_course) == course.UP_TO_DATE


def test_a_notebook_run_by_a_student_is_only_stale(demo_course):
    [state] = course.write_student_notebooks()
    notebook = nbformat.read(str(state.path), as_version=4)
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    notebook.cells[1].execution_count = 1
    notebook.metadata["language_info"]["version"] = "3.11.7"
    nbformat.write(notebook, str(state.path))
    assert _status(demo_course) == course.STALE   # same cells: safe to regenerate


def test_a_notebook_changed_by_a_student_is_never_overwritten_silently(demo_course):
    [state] = course.write_student_notebooks()
    notebook = nbformat.read(str(state.path), as_version=4)
    notebook.cells[2].source = "def square(x):\n    return x ** 2  # my answer\n\nanswer = 42"
    nbformat.write(notebook, str(state.path))
    students_text = state.path.read_text()
    assert _status(demo_course) == course.CHANGED
    demo_course.write_text(SOURCE_TEXT.replace("Lab 99 - demo", "Lab 99 - a demo"))   # the source moves on
    assert _status(demo_course) == course.CHANGED, "a student's edits are not 'stale'"
    [refused] = course.write_student_notebooks()
    assert refused.status == course.CHANGED and not refused.written and refused.backup is None
    assert state.path.read_text() == students_text


def test_force_keeps_a_timestamped_backup_first(demo_course):
    [state] = course.write_student_notebooks()
    state.path.write_text("{not json: a student's hand edit")
    assert _status(demo_course) == course.CHANGED
    [forced] = course.write_student_notebooks(force=True)
    assert forced.written and forced.backup.read_text() == "{not json: a student's hand edit"
    assert forced.backup.parent == state.path.parent and forced.backup.name.startswith("99_demo.backup-")
    assert _status(demo_course) == course.UP_TO_DATE
    state.path.write_text("{again")
    [second] = course.write_student_notebooks(force=True)
    assert second.backup != forced.backup and second.backup.read_text() == "{again"


def test_notebooks_can_be_written_to_another_folder(demo_course, tmp_path):
    out = tmp_path / "mine"
    [state] = course.write_student_notebooks(out_dir=out)
    assert state.path == out / "99_demo.ipynb" and state.written
    assert [s.status for s in course.check_student_notebooks(out_dir=out)] == [course.UP_TO_DATE]
    assert _status(demo_course) == course.MISSING   # the course's own labs/ untouched
