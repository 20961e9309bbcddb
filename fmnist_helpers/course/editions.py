"""The instructor and student editions of the notebooks.

The notebooks in git are the instructor edition: each exercise's answer cell holds a solution between
nbgrader's `### BEGIN SOLUTION` / `### END SOLUTION` markers, and its check cell may hold nbgrader tests
between `### BEGIN HIDDEN TESTS` / `### END HIDDEN TESTS`. The student edition follows nbgrader's marker rules:
a line containing `BEGIN SOLUTION` starts a region that ends with the line containing `END SOLUTION`; the region,
markers included, becomes a stub indented like the `BEGIN` line; a hidden-tests region is removed with its markers;
a region left open or nested is an error. The code stub is `# YOUR CODE HERE` at the top level of a cell (the
answer variable above it stays `None`, so the check says "not answered yet") and `# YOUR CODE HERE` plus
`raise NotImplementedError()` inside a function body (nbgrader's own stub), which the checks also recognise.
The cells nbgrader knows get the metadata its `generate_assignment` gives a release: answer cells cannot be deleted,
check cells can be neither deleted nor edited, and each carries its `cell_type` and the checksum nbgrader computes
(`nbgrader_checksum`), so nbgrader's Validate sees an unchanged release. Everything else stays identical, so
`nbgrader generate_assignment` and `autograde` can also be used on the instructor edition as is.

The helpers that build an exercise's three cells (task, answer, check) live here too, with the hidden test that
grades a check afresh (`hidden_test`).

Usage:
    from fmnist_helpers.base.paths import notebooks_dir
    write_student_edition(notebooks_dir(), Path("build/student"))   # or: python -m fmnist_helpers student
    student_source("x = None\\n### BEGIN SOLUTION\\nx = 1\\n### END SOLUTION")  # -> "x = None\\n# YOUR CODE HERE"
"""
from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path
from typing import Any

import nbformat

from fmnist_helpers.base.atomic import write_text_atomic
from fmnist_helpers.course.notebooks import GRADER, exercise_heading, lesson_notebooks
from fmnist_helpers.exercises.solutions import BEGIN_SOLUTION, END_SOLUTION, has_solution

BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
CODE_STUB = "# YOUR CODE HERE"
FUNCTION_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"


class EditionError(ValueError):
    """A notebook's solution or hidden-test markers are malformed (open, nested or stray)."""


def _regions(source: str, begin: str, end: str, replace, where: str) -> tuple[str, bool]:
    out, inside, found = [], False, False
    for n, line in enumerate(source.split("\n"), 1):
        if begin in line:
            if inside:
                raise EditionError(f"{where}: line {n} opens a '{begin}' region inside another one")
            inside, found = True, True
            out.extend(replace(line))
        elif end in line:
            if not inside:
                raise EditionError(f"{where}: line {n} closes '{end}' without a '{begin}' above it")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise EditionError(f"{where}: a '{begin}' region is never closed with '{end}'")
    return "\n".join(out), found


def student_source(source: str, cell_type: str = "code", where: str = "cell") -> str:
    """A cell's source with solutions replaced by stubs and hidden tests removed (nbgrader's rules)."""

    def stub(line: str) -> list[str]:
        indent = re.match(r"\s*", line).group(0)
        text = TEXT_STUB if cell_type == "markdown" else FUNCTION_STUB if indent else CODE_STUB
        return [indent + part for part in text.split("\n")]

    source, _ = _regions(source, BEGIN_SOLUTION, END_SOLUTION, stub, where)
    if cell_type == "code":
        source, _ = _regions(source, BEGIN_HIDDEN, END_HIDDEN, lambda line: [], where)
        source = source.rstrip("\n")
    return source


def nbgrader_checksum(cell: Any) -> str:
    """The checksum nbgrader records for a cell it grades or protects (`nbgrader.utils.compute_checksum`): MD5 of
    the source, the cell type, whether it is a grade, solution or locked cell, its grade id and its points."""
    meta = cell.metadata["nbgrader"]
    solution, grade = bool(meta.get("solution", False)), bool(meta.get("grade", False))
    locked = False if solution else True if grade else bool(meta.get("locked", False))
    digest = hashlib.md5()
    for part in (cell.source, cell.cell_type, str(grade), str(solution), str(locked), meta["grade_id"]):
        digest.update(part.encode("utf-8"))
    if grade:
        digest.update(str(float(meta["points"])).encode("utf-8"))
    return digest.hexdigest()


def lock_cell(cell: Any) -> None:
    """Give an nbgrader cell of the student edition the metadata of nbgrader's release, in place: answer cells are
    not deletable; check (grade) and other locked cells are neither deletable nor editable; each records its cell
    type and checksum."""
    meta = cell.metadata.get("nbgrader")
    if not meta:
        return
    solution, grade = meta.get("solution", False), meta.get("grade", False)
    if solution:
        cell.metadata["deletable"] = False
    elif grade or meta.get("locked", False):
        cell.metadata["deletable"] = False
        cell.metadata["editable"] = False
    meta["cell_type"] = cell.cell_type
    meta["checksum"] = nbgrader_checksum(cell)


def student_notebook(nb: Any, name: str = "notebook") -> Any:
    """A copy of an instructor notebook as the student edition, its nbgrader cells locked as in a release."""
    student = copy.deepcopy(nb)
    for i, cell in enumerate(student.cells):
        if cell.cell_type in ("code", "markdown"):
            cell.source = student_source(cell.source, cell.cell_type, where=f"{name}, cell {i}")
            lock_cell(cell)
    return student


def write_student_edition(source_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Write the student edition of every lesson (`NN_name.ipynb`) of `source_dir` to `out_dir`; returns the paths.
    The studies track has no exercises and no student edition.

    Every notebook is converted before anything is written, so a malformed marker leaves `out_dir` untouched.
    """
    sources = lesson_notebooks(Path(source_dir))
    if not sources:
        raise EditionError(f"no numbered notebooks (NN_name.ipynb) in {source_dir}")
    converted = {p.name: student_notebook(nbformat.read(p, as_version=4), p.name) for p in sources}
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise EditionError(f"the student edition goes to a folder, but {out} is a file")
    written = []
    for name, nb in converted.items():
        target = out / name
        write_text_atomic(target, nbformat.writes(nb) + "\n")
        written.append(target)
    return written


# ----------------------------------------------------------------------------------- authoring exercises

ANSWER_CELL = {"grade": False, "locked": False, "schema_version": 3, "solution": True, "task": False}
CHECK_CELL = {"grade": True, "locked": True, "points": 1, "schema_version": 3, "solution": False, "task": False}


def hidden_test(notebook: str, key: str, arguments: str) -> str:
    """The hidden-tests region of a check cell: the answer graded afresh by `exercises.grading.verify`, which under
    nbgrader checks it in a fresh process, so nothing the notebook changed in its kernel decides the grade.
    `arguments` are the check's own, as written in the cell: `"answer_q1"`, `"best_val, history=history"`."""
    return (f"### {BEGIN_HIDDEN}\n"
            f"import runpy  # the grader's code, run anew from its file (under nbgrader it grades in a fresh process)\n"
            f'assert runpy.run_module("{GRADER}")["verify"]("{notebook}", "{key}", {arguments})\n'
            f"### {END_HIDDEN}")


def exercise_cells(exercise: Any, task_markdown: str, answer_code: str, check_code: str) -> list[Any]:
    """The three cells of one exercise: the task (markdown), the answer (an nbgrader solution cell, with the
    solution between the markers) and the check (an nbgrader test cell, locked; `check_code` is the visible check
    and, below it, the `hidden_test(...)` region)."""
    from nbformat.v4 import new_code_cell, new_markdown_cell

    if not has_solution(answer_code):
        raise EditionError(f"{exercise.key}: the answer cell needs a '### {BEGIN_SOLUTION}' region")
    answer = new_code_cell(answer_code, metadata={"nbgrader": dict(ANSWER_CELL, grade_id=f"{exercise.key}-answer")})
    check = new_code_cell(check_code, metadata={"nbgrader": dict(CHECK_CELL, grade_id=f"{exercise.key}-check")})
    return [new_markdown_cell(f"{exercise_heading(exercise)}\n\n{task_markdown}"), answer, check]
