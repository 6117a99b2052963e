"""The student hand-out: notebooks without outputs, the data, a README; never a solution."""

import json
import pathlib

import nbformat
import pytest

from cs109b_bayes import course
from cs109b_bayes.cli import main
from cs109b_bayes.course.release import write_release


def solution_lines():
    """Lines that only solutions contain: inside solution blocks or tagged `# SOLUTION`, long
    enough to mean something, and absent from every lab's student copy."""
    secret, public = set(), set()
    for source in course.find_labs():
        inside = False
        for line in source.read_text(encoding="utf-8").splitlines():
            bare = line.strip().lstrip("#").strip()
            if bare in ("BEGIN SOLUTION", "END SOLUTION"):
                inside = bare == "BEGIN SOLUTION"
            elif inside or line.rstrip().endswith("# SOLUTION"):
                secret.add(line.split("# SOLUTION")[0].strip() if "# SOLUTION" in line else bare)
        student = course.make_notebook(source, solution=False)
        public.update(line.strip().lstrip("#").strip() for cell in student.cells
                      for line in cell.source.splitlines())
    return {line for line in secret - public if len(line) >= 12}


def released_texts(folder):
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".ipynb":
            notebook = nbformat.read(str(path), as_version=4)
            yield path, "\n".join(cell.source for cell in notebook.cells)
        elif path.is_file():
            yield path, path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    folder = tmp_path_factory.mktemp("handout")
    return folder, write_release(folder)


def test_the_handout_has_the_notebooks_the_data_and_a_readme(handout):
    folder, files = handout
    labs = course.find_labs()
    assert sorted(p.name for p in (folder / "labs").iterdir()) == sorted(f"{s.stem}.ipynb" for s in labs)
    listing = json.loads((course.data_dir() / "datasets.json").read_text())
    assert sorted(p.name for p in (folder / "data").iterdir()) == sorted(
        [entry["file"] for entry in listing.values()] + ["datasets.json"])
    assert "cb.check" in (folder / "README.md").read_text() and "CS109B_DATA" in (folder / "README.md").read_text()
    assert sorted(files) == sorted(p for p in folder.rglob("*") if p.is_file())


def test_no_solution_and_no_output_leaves_with_the_handout(handout):
    folder, _ = handout
    secrets = solution_lines()
    assert len(secrets) > 30                      # the test has something to look for
    for path, text in released_texts(folder):
        lines = {line.strip().lstrip("#").strip() for line in text.splitlines()}
        leaked = sorted(secrets & lines)
        assert leaked == [], (path, leaked[:3])
    assert not list(folder.rglob("*.py")) and not list(folder.rglob("source"))
    for path in (folder / "labs").iterdir():
        notebook = nbformat.read(str(path), as_version=4)
        assert all(not cell.get("outputs") and cell.get("execution_count") is None
                   for cell in notebook.cells if cell.cell_type == "code")
        assert path.read_text() == course.student_notebook_text(course.resolve_labs([path.stem[:2]])[0])


def test_the_solution_lines_are_found_where_they_are(tmp_path):
    """The leak check has power: a solution notebook in the hand-out would be caught."""
    secrets = solution_lines()
    notebook = course.make_notebook(course.resolve_labs(["01"])[0], solution=True)
    lines = {line.strip() for cell in notebook.cells for line in cell.source.splitlines()}
    assert len(secrets & lines) > 5


def test_a_folder_with_files_is_not_overwritten_by_accident(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        write_release(tmp_path)
    assert main(["release", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["release", str(tmp_path), "--overwrite"]) == 0
    assert (tmp_path / "notes.txt").read_text() == "mine" and (tmp_path / "README.md").exists()
    assert "wrote" in capsys.readouterr().out
    fresh = tmp_path / "new" / "handout"
    assert main(["release", str(fresh)]) == 0 and pathlib.Path(fresh / "labs").is_dir()


def test_a_listed_data_file_that_is_missing_is_an_error(tmp_path):
    course_folder = tmp_path / "course"
    (course_folder / "labs" / "source").mkdir(parents=True)
    (course_folder / "labs" / "source" / "99_demo.py").write_text("# %%\nx = 1  # SOLUTION\n")
    (course_folder / "data").mkdir()
    (course_folder / "data" / "datasets.json").write_text('{"demo": {"file": "demo.csv"}}')
    with pytest.raises(ValueError, match="demo.csv"):
        write_release(tmp_path / "out", root=course_folder)
    (course_folder / "data" / "demo.csv").write_text("x\n1\n")
    files = write_release(tmp_path / "out2", root=course_folder)
    assert sorted(p.name for p in files) == ["99_demo.ipynb", "README.md", "datasets.json", "demo.csv"]
    assert "x = ...  # YOUR CODE HERE" in (tmp_path / "out2" / "labs" / "99_demo.ipynb").read_text()
