"""The student edition: nbgrader's marker rules, nbgrader's locks and checksums, a whole edition written at once, and
every student notebook running top to bottom with its checks saying "not answered yet" and its prose and figures
passing the checks of `fmnist_helpers.course.prose` on Fashion-MNIST (00 and 08 run under nbgrader, in test_nbgrader.py)."""
import copy
import time
from pathlib import Path

import nbformat
import papermill
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from fmnist_helpers import exercises
from fmnist_helpers.course.cli import main
from fmnist_helpers.course.editions import (ANSWER_CELL, CHECK_CELL, EditionError, exercise_cells, hidden_test,
                                            nbgrader_checksum, student_notebook, student_source,
                                            write_student_edition)
from fmnist_helpers.course.notebooks import exercise_problems, lesson_notebooks
from fmnist_helpers.base.paths import build_dir, notebooks_dir
from fmnist_helpers.course.pytest_plugin import record_notebook_time
from fmnist_helpers.base.results import load_results
from fmnist_helpers.course.prose import claim_problems, figures_without_alt_text, start_up_noise, unshown_claims

NOTEBOOKS = lesson_notebooks(notebooks_dir())  # the studies track has no exercises and no student edition
UNDER_NBGRADER = ("00_primer", "08_capstone")  # their student editions run in test_nbgrader.py, autograded


def student_run_problems(nb, record) -> list[str]:
    """What is wrong with an executed student edition and its results record: the prose checks of test_prose.py
    (the lecture cells are the instructor's), figures without alt text or not shown, start-up noise."""
    problems = [f"record: {p}" for p in claim_problems(record)]
    problems += [f"unshown: {p}" for p in unshown_claims(record, nb)]
    problems += [f"no alt text: {p}" for p in figures_without_alt_text(nb)]
    problems += [f"start-up noise: {p}" for p in start_up_noise(nb)]
    if record["params"]["dataset"] != "fashion_mnist":
        problems.append(f"dataset {record['params']['dataset']}, not fashion_mnist")
    plots = "plots." in "".join(c.source for c in nb.cells)
    if plots and not any("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])):
        problems.append("a notebook that plots shows no figure")
    return problems


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


def test_cells_without_markers_and_cells_nbgrader_does_not_know_stay_identical():
    nb = new_notebook(cells=[new_markdown_cell("# Title"), new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                             new_code_cell("y = None\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION",
                                           metadata={"nbgrader": {"solution": True, "grade_id": "q1-answer"}})])
    student = student_notebook(nb)
    assert [c.source for c in student.cells[:2]] == ["# Title", "x = 1"]
    assert [c.metadata for c in student.cells[:2]] == [c.metadata for c in nb.cells[:2]]
    assert "y = 2" in nb.cells[2].source and "checksum" not in nb.cells[2].metadata.nbgrader  # the instructor's stays


def _graded_cells():
    answer = new_code_cell("a = None\n### BEGIN SOLUTION\na = 1\n### END SOLUTION", metadata={"nbgrader": dict(
        ANSWER_CELL, grade_id="q1-answer")})
    check = new_code_cell("ex.q1.check(a)\n### BEGIN HIDDEN TESTS\nassert a == 1\n### END HIDDEN TESTS",
                          metadata={"nbgrader": dict(CHECK_CELL, grade_id="q1-check")})
    return student_notebook(new_notebook(cells=[answer, check])).cells


def test_an_answer_cell_cannot_be_deleted_but_can_be_edited():
    answer = _graded_cells()[0]
    assert answer.metadata["deletable"] is False and "editable" not in answer.metadata


def test_a_check_cell_can_be_neither_deleted_nor_edited():
    check = _graded_cells()[1]
    assert check.metadata["deletable"] is False and check.metadata["editable"] is False


def test_each_nbgrader_cell_records_its_type_and_the_checksum_of_what_the_student_gets():
    answer, check = _graded_cells()
    assert answer.metadata.nbgrader["cell_type"] == check.metadata.nbgrader["cell_type"] == "code"
    assert check.metadata.nbgrader["checksum"] == nbgrader_checksum(check)
    changed = copy.deepcopy(check)
    changed.source += "\nprint('edited')"
    assert nbgrader_checksum(changed) != check.metadata.nbgrader["checksum"]  # an edited check cell shows


def test_the_checksum_is_nbgraders_own():
    from nbgrader.utils import compute_checksum

    for cell in _graded_cells():
        assert cell.metadata.nbgrader["checksum"] == compute_checksum(cell)


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


def test_the_hidden_test_grades_through_the_fresh_grader():
    region = hidden_test("00_primer", "q3", "prediction, path=path")
    assert region.startswith("### BEGIN HIDDEN TESTS\nimport runpy") and region.endswith("### END HIDDEN TESTS")
    assert 'run_module("fmnist_helpers.exercises.grading")["verify"]("00_primer", "q3", prediction, path=path)' in region
    assert student_source(f"ex.q3.check(prediction, path=path)\n{region}") == "ex.q3.check(prediction, path=path)"


def test_a_check_whose_hidden_test_trusts_the_kernel_is_a_problem(tmp_path):
    nb = nbformat.read(notebooks_dir() / "00_primer.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "q2-check":
            cell.source = "ex.q2.check(answer_q2)\n### BEGIN HIDDEN TESTS\nassert ex.q2.evaluate(answer_q2).correct\n" \
                          "### END HIDDEN TESTS"
    nbformat.write(nb, tmp_path / "00_primer.ipynb")
    assert [p for p in exercise_problems(tmp_path / "00_primer.ipynb")] == [
        'q2: the check cell\'s hidden test must grade through fmnist_helpers.exercises.grading.verify("00_primer", '
        '"q2", ...), so that no change to the kernel decides the grade; editions.hidden_test(...) writes it']


def test_exercise_cells_need_a_solution_region():
    exercise = exercises.lesson("01").exercises["q1"]
    with pytest.raises(EditionError, match="needs a '### BEGIN SOLUTION' region"):
        exercise_cells(exercise, "Count.", "a = 1", "ex.q1.check(a)")


# ----------------------------------------------------------------------------------- the course notebooks

@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_of_the_notebook_has_its_task_answer_and_check_cells(path):
    assert exercise_problems(path) == []


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.stem not in UNDER_NBGRADER], ids=lambda p: p.stem)
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
    assert student_run_problems(nbformat.read(executed, as_version=4), load_results(build_dir("smoke"), path.stem)) == []
