"""Each exercise's solution, read from its notebook: the one place a solution is written.

The instructor edition of a lesson holds every exercise's solution in its answer cell (nbgrader grade id
`<key>-answer`), between a line containing `BEGIN SOLUTION` and one containing `END SOLUTION`. `ex.q1.solution()`
shows that region: its lines alone when the region stands at the top level of the cell (an answer assigned to a
variable), the whole cell without the marker lines when the region is indented (the body of a function the student
writes), so that the solution reads as code one can run. The notebooks ship with the source checkout; an
installation without it says where the solution is instead.

Usage:
    solution_code("00_primer", "q1")          # 'answer_q1 = (64, 28, 28, 1)'
    solution_region("x = None\\n### BEGIN SOLUTION\\nx = 1\\n### END SOLUTION")  # 'x = 1'
"""
from __future__ import annotations

import json
import re
import textwrap
from functools import lru_cache
from pathlib import Path

from fmnist_helpers.base.paths import project_root

BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"


class SolutionNotFound(LookupError):
    """The notebook or the answer cell that holds a solution is not there."""


def has_solution(source: str) -> bool:
    """Whether a cell's source holds a solution region."""
    return BEGIN_SOLUTION in source


def answer_grade_id(key: str) -> str:
    """The nbgrader grade id of an exercise's answer cell: `q1-answer`."""
    return f"{key}-answer"


def solution_region(source: str) -> str:
    """The solution an answer cell holds, as runnable code (see the module's docstring); '' without a region."""
    lines = source.split("\n")
    begins = [i for i, line in enumerate(lines) if BEGIN_SOLUTION in line]
    if not begins:
        return ""
    ends = [i for i, line in enumerate(lines) if END_SOLUTION in line]
    markers = set(begins) | set(ends)
    if any(re.match(r"\s", lines[i]) for i in begins):  # inside a function: the whole cell reads best
        kept = [line for i, line in enumerate(lines) if i not in markers]
    else:
        kept = []
        for begin in begins:
            end = min((i for i in ends if i > begin), default=len(lines))
            kept += lines[begin + 1:end]
    return textwrap.dedent("\n".join(kept)).strip("\n")


def instructor_notebook(stem: str) -> Path:
    """The instructor edition of a lesson in this checkout, or SolutionNotFound saying why there is none."""
    root = project_root()
    if root is None:
        raise SolutionNotFound(f"this installation of fmnist_helpers has no course notebooks; the solution is in the "
                               f"answer cell of notebooks/{stem}.ipynb in the course repository")
    path = root / "notebooks" / f"{stem}.ipynb"
    if not path.is_file():
        raise SolutionNotFound(f"{path} is not there, so its solutions cannot be read")
    return path


@lru_cache(maxsize=32)
def _answer_cells(path: Path, modified: float) -> dict[str, str]:
    """{grade id: source} of the nbgrader solution cells of a notebook (cached until the file changes)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = {}
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and "grade_id" in meta:
            source = cell.get("source", "")
            cells[meta["grade_id"]] = "".join(source) if isinstance(source, list) else source
    return cells


def solution_code(stem: str, key: str, notebook: Path | None = None) -> str:
    """The solution of exercise `key` of lesson `stem`, read from the instructor notebook (or `notebook`)."""
    path = Path(notebook) if notebook is not None else instructor_notebook(stem)
    cells = _answer_cells(path, path.stat().st_mtime)
    grade_id = answer_grade_id(key)
    if grade_id not in cells:
        raise SolutionNotFound(f"{path.name} has no answer cell with nbgrader grade id {grade_id!r}")
    code = solution_region(cells[grade_id])
    if not code:
        raise SolutionNotFound(f"the answer cell {grade_id!r} of {path.name} has no '### {BEGIN_SOLUTION}' region")
    return code
