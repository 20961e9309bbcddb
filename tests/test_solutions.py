"""One source for every solution: `ex.qN.solution()` shows the code of the notebook's own `BEGIN SOLUTION` region,
and no exercise module types a solution of its own."""
import dataclasses
import os
import re
from pathlib import Path

import nbformat
import pytest

from fmnist_helpers import exercises
from fmnist_helpers.base.paths import notebooks_dir
from fmnist_helpers.exercises import core, solutions
from fmnist_helpers.exercises.solutions import SolutionNotFound, solution_code, solution_region

ALL = [(stem, key) for stem in exercises.NOTEBOOKS for key in exercises.lesson(stem).exercises]


def _answer_cell(stem: str, key: str) -> str:
    nb = nbformat.read(notebooks_dir() / f"{stem}.ipynb", as_version=4)
    return next(c.source for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == f"{key}-answer")


@pytest.mark.parametrize("stem, key", ALL, ids=[f"{s[:2]}-{k}" for s, k in ALL])
def test_the_solution_shown_is_the_notebooks_solution_region(stem, key, monkeypatch):
    shown = []
    monkeypatch.setattr(core, "show", shown.append)
    lesson = exercises.lesson(stem)
    getattr(lesson, key).solution()
    region = _answer_cell(stem, key).split("BEGIN SOLUTION", 1)[1].split("\n", 1)[1].split("END SOLUTION")[0]
    body = [line.strip() for line in region.splitlines()[:-1] if line.strip()]
    assert shown[0].code and all(line in shown[0].code for line in body), shown[0]
    assert "BEGIN SOLUTION" not in shown[0].code and "END SOLUTION" not in shown[0].code
    assert lesson.state[key].solution_seen


def test_no_exercise_module_types_a_solution_and_an_exercise_has_no_field_for_one():
    assert "solution_code" not in {f.name for f in dataclasses.fields(core.Exercise)}
    typed = [path.name for path in sorted(Path(exercises.__file__).parent.glob("nb*.py"))
             if re.search(r"\bsolution_code\s*=", path.read_text(encoding="utf-8"))]
    assert typed == []


def test_a_top_level_region_is_shown_alone_without_the_preset_answer():
    source = "import math\n\nanswer_q1 = None  # a whole number\n### BEGIN SOLUTION\nanswer_q1 = math.ceil(7 / 2)\n" \
             "### END SOLUTION"
    assert solution_region(source) == "answer_q1 = math.ceil(7 / 2)"


def test_a_region_inside_a_function_is_shown_as_the_whole_function_without_the_markers():
    source = "def f(x):\n    '''Twice x.'''\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
    assert solution_region(source) == "def f(x):\n    '''Twice x.'''\n    return 2 * x"


def test_a_cell_without_a_region_has_no_solution():
    assert solution_region("answer = 3") == ""


def test_the_solution_follows_an_edit_of_the_notebook(tmp_path):
    path = tmp_path / "09_demo.ipynb"
    cell = nbformat.v4.new_code_cell("x = None\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION",
                                     metadata={"nbgrader": {"solution": True, "grade_id": "q1-answer"}})
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    assert solution_code("09_demo", "q1", notebook=path) == "x = 1"
    cell.source = cell.source.replace("x = 1", "x = 2")
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 10**9))
    assert solution_code("09_demo", "q1", notebook=path) == "x = 2"


def test_a_missing_answer_cell_is_an_error_naming_the_grade_id(tmp_path):
    path = tmp_path / "09_demo.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), path)
    with pytest.raises(SolutionNotFound, match="no answer cell with nbgrader grade id 'q2-answer'"):
        solution_code("09_demo", "q2", notebook=path)


def test_without_the_notebooks_the_solution_says_where_it_is_and_is_not_counted_as_seen(monkeypatch):
    shown = []
    monkeypatch.setattr(core, "show", shown.append)
    monkeypatch.setattr(solutions, "project_root", lambda: None)
    lesson = exercises.lesson("00_primer")
    lesson.q1.solution()
    assert "notebooks/00_primer.ipynb in the course repository" in shown[0].message and shown[0].code is None
    assert not lesson.state["q1"].solution_seen
