"""The student edition: nbgrader's marker rules, a whole edition written at once, and every student notebook
running top to bottom with its checks saying "not answered yet" and its prose and figures passing the checks
of `fmnist_helpers.course.prose` on Fashion-MNIST."""
import time
from pathlib import Path

import nbformat
import papermill
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from fmnist_helpers import exercises
from fmnist_helpers.course.cli import main
from fmnist_helpers.course.editions import (EditionError, exercise_cells, student_notebook, student_source,
                                     write_student_edition)
from fmnist_helpers.course.notebooks import exercise_problems, lesson_notebooks
from fmnist_helpers.base.paths import build_dir, notebooks_dir
from fmnist_helpers.course.pytest_plugin import record_notebook_time
from fmnist_helpers.base.results import load_results
from fmnist_helpers.course.prose import claim_problems, figures_without_alt_text, start_up_noise, unshown_claims

NOTEBOOKS = lesson_notebooks(notebooks_dir())  # the studies track has no exercises and no student edition


# ------------------------------------------------------------------------------ nbgrader's marker rules

def test_a_top_level_solution_becomes_a_comment_stub_and_the_preset_answer_stays():
    source = "answer = None\n### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"
    assert student_source(source) == "answer = None\n# YOUR CODE HERE"


def test_a_solution_inside_a_function_becomes_nbgraders_stub_indented_like_the_marker():
    source = "def f(x):\n    '''doc'''\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
    assert student_source(source) == "def f(x):\n    '''doc'''\n    # YOUR CODE HERE\n    raise NotImplementedError()"


def test_markers_count_whatever_comment_characters_stand_before_them():
    assert student_source("# BEGIN SOLUTION\nsecret = 1\n# END SOLUTION\nkept = 2") == "# YOUR CODE HERE\nkept = 2"


def test_hidden_tests_are_removed_with_their_markers():
    source = "ex.q1.check(a)\n### BEGIN HIDDEN TESTS\nassert ex.q1.evaluate(a).correct\n### END HIDDEN TESTS"
    assert student_source(source) == "ex.q1.check(a)"


def test_a_markdown_solution_becomes_the_text_stub():
    source = "Why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"
    assert student_source(source, "markdown") == "Why?\n\nYOUR ANSWER HERE"


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\na\n### BEGIN SOLUTION\nb\n### END SOLUTION", "line 3 opens a 'BEGIN SOLUTION' region inside"),
    ("### BEGIN SOLUTION\na = 1", "never closed"),
    ("a = 1\n### END SOLUTION", "line 2 closes 'END SOLUTION' without"),
    ("### BEGIN HIDDEN TESTS\nassert x", "'BEGIN HIDDEN TESTS' region is never closed"),
])
def test_malformed_markers_are_an_error_that_names_the_line(source, message):
    with pytest.raises(EditionError, match=message):
        student_source(source, where="demo, cell 3")


def test_cells_without_markers_and_all_metadata_stay_identical():
    nb = new_notebook(cells=[new_markdown_cell("# Title"), new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                             new_code_cell("y = None\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION",
                                           metadata={"nbgrader": {"solution": True, "grade_id": "q1-answer"}})])
    student = student_notebook(nb)
    assert [c.source for c in student.cells[:2]] == ["# Title", "x = 1"]
    assert [c.metadata for c in student.cells] == [c.metadata for c in nb.cells]
    assert "y = 2" in nb.cells[2].source  # the instructor notebook is not changed


def test_the_edition_is_written_whole_or_not_at_all(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell("ok = 1")]), source / "01_fine.ipynb")
    nbformat.write(new_notebook(cells=[new_code_cell("### BEGIN SOLUTION\nx = 1")]), source / "02_broken.ipynb")
    with pytest.raises(EditionError, match="02_broken.ipynb, cell 0: a 'BEGIN SOLUTION' region is never closed"):
        write_student_edition(source, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_cli_writes_the_student_edition_of_every_notebook(tmp_path, capsys):
    assert main(["student", "--output-dir", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.glob("*.ipynb"))
    assert written == [p.name for p in NOTEBOOKS]
    for path in tmp_path.glob("*.ipynb"):
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "YOUR CODE HERE" in text
    assert f"student edition: {len(NOTEBOOKS)} notebooks in {tmp_path}" in capsys.readouterr().out


def test_the_cli_refuses_a_file_as_the_output_folder(tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("x")
    assert main(["student", "--output-dir", str(target)]) == 1
    assert "is a file" in capsys.readouterr().err


def test_exercise_cells_carry_nbgraders_metadata():
    exercise = exercises.lesson("01").exercises["q1"]
    task, answer, check = exercise_cells(exercise, "Count.", "a = None\n### BEGIN SOLUTION\na = 1\n### END SOLUTION",
                                         "ex.q1.check(a)")
    assert task.source.startswith("### Exercise 1 · How many numbers?\n*Compute by hand · 3 min · easy*")
    assert answer.metadata["nbgrader"]["solution"] and answer.metadata["nbgrader"]["grade_id"] == "q1-answer"
    assert check.metadata["nbgrader"]["grade"] and check.metadata["nbgrader"]["locked"]


def test_exercise_cells_need_a_solution_region():
    exercise = exercises.lesson("01").exercises["q1"]
    with pytest.raises(EditionError, match="needs a '### BEGIN SOLUTION' region"):
        exercise_cells(exercise, "Count.", "a = 1", "ex.q1.check(a)")


# ----------------------------------------------------------------------------------- the course notebooks

@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_of_the_notebook_has_its_task_answer_and_check_cells(path):
    assert exercise_problems(path) == []


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_student_edition_runs_top_to_bottom_and_its_checks_wait_for_answers(path, tmp_path, monkeypatch):
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend, so figures reach the notebook
    monkeypatch.delenv("PYTEST_CURRENT_TEST")  # outside pytest ipykernel copies fd 2 into the cells, as for a student
    student = student_notebook(nbformat.read(path, as_version=4), path.name)
    source, executed = tmp_path / path.name, tmp_path / f"executed-{path.name}"
    nbformat.write(student, source)
    started = time.perf_counter()
    # the smoke build folder: models the instructor edition trained there (nbval) are reused, not trained again
    papermill.execute_notebook(str(source), str(executed), cwd=str(path.parent), progress_bar=False,
                               parameters={"profile": "smoke", "output_dir": str(build_dir("smoke"))})
    record_notebook_time(f"papermill: student edition of {path.stem}", time.perf_counter() - started)
    cells = nbformat.read(executed, as_version=4).cells
    checks = [c for c in cells if c.cell_type == "code" and c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    assert len(checks) == len(exercises.lesson(path.stem))
    for cell in checks:
        shown = " ".join(str(o.get("data", {}).get("text/plain", o.get("text", ""))) for o in cell.outputs)
        assert "Not answered yet" in shown, (cell.source, shown)
    # the prose checks of test_prose.py, here on Fashion-MNIST: the lecture cells are the instructor's
    record = load_results(build_dir("smoke"), path.stem)
    assert record["params"]["dataset"] == "fashion_mnist"
    assert claim_problems(record) == []
    assert unshown_claims(record, nbformat.read(executed, as_version=4)) == []
    shown = nbformat.read(executed, as_version=4)
    assert figures_without_alt_text(shown) == []
    assert start_up_noise(shown) == []
    if "plots." in "".join(c.source for c in shown.cells):  # a notebook that plots shows its figures
        assert any("image/png" in o.get("data", {}) for c in shown.cells for o in c.get("outputs", []))
