"""Keep the notebooks in git clean: no outputs except the ones nbval checks, no execution counts,
no stale metadata, and a `parameters` cell in every notebook.

A cell whose source contains `# NBVAL_CHECK_OUTPUT` keeps its output in git: nbval compares it
on every test run, so it must be deterministic and the same in every profile (shapes, counts).
nbval skips a cell without an execution count, so checked cells keep one: 1, 2, 3... in order.

Usage:
    hygiene_problems(Path("notebooks/01_exploration.ipynb"))   # [] when clean
    tidy_notebook(nb)                                          # strip what must not be stored
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

CHECK_MARK = "NBVAL_CHECK_OUTPUT"
NOTEBOOK_METADATA = {"kernelspec", "language_info"}
LANGUAGE_INFO = {"name"}
CELL_METADATA = {"tags", "nbgrader", "alt"}  # nbgrader: the exercise cells; alt: a figure's alt text (site.py)
NOTEBOOK_NAME = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")  # a lesson: `NN_name.ipynb` in notebooks/
STUDY_NAME = re.compile(r"^s\d\d_[a-z0-9_]+\.ipynb$")  # a study notebook: `sNN_name.ipynb` in notebooks/studies/
STUDIES = "studies"  # the studies track's folder, inside the lessons' folder
TRACKS = ("lessons", "studies")


def lesson_notebooks(folder: Path) -> list[Path]:
    """The lessons (`NN_name.ipynb`) of a folder, in course order: the course a class works through."""
    return sorted(p for p in Path(folder).glob("*.ipynb") if NOTEBOOK_NAME.match(p.name))


def study_notebooks(folder: Path) -> list[Path]:
    """The study notebooks (`studies/sNN_name.ipynb`) beside the lessons of `folder`: the reproductions."""
    return sorted(p for p in (Path(folder) / STUDIES).glob("*.ipynb") if STUDY_NAME.match(p.name))


def course_notebooks(folder: Path, track: str = "all") -> list[Path]:
    """Every notebook of the course in run order, the lessons first, then the studies track; `track` picks one."""
    if track not in (*TRACKS, "all"):
        raise ValueError(f"track {track!r} is not one of: {', '.join(TRACKS)}, all")
    lessons = lesson_notebooks(folder) if track in ("lessons", "all") else []
    return lessons + (study_notebooks(folder) if track in ("studies", "all") else [])


def track_of(path: Path) -> str:
    """"studies" for a study notebook (`sNN_name`), "lessons" otherwise."""
    return "studies" if STUDY_NAME.match(Path(path).name) else "lessons"


def number_and_name(stem: str) -> tuple[str, str]:
    """A notebook stem's number and name: ("04", "cnn") for `04_cnn`, ("s04", "cnn_studies") for `s04_cnn_studies`."""
    number, _, name = stem.partition("_")
    return number, name


def is_stderr(output) -> bool:
    """Whether a cell output is the kernel's stderr stream (logs and warnings, never a result)."""
    return output.get("output_type") == "stream" and output.get("name") == "stderr"


def is_checked(cell) -> bool:
    """Whether nbval compares this cell's output (`# NBVAL_CHECK_OUTPUT` in a code cell)."""
    return cell.get("cell_type") == "code" and CHECK_MARK in "".join(cell.get("source", ""))


def has_parameters_cell(nb) -> bool:
    return any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells)


def hygiene_problems(path: Path) -> list[str]:
    """Everything about a stored notebook that breaks the pack's rules, one line each."""
    nb = nbformat.read(path, as_version=4)
    problems = []
    if not has_parameters_cell(nb):
        problems.append("no cell is tagged 'parameters' (papermill needs one)")
    extra = set(nb.metadata) - NOTEBOOK_METADATA
    if extra:
        problems.append(f"stale notebook metadata: {sorted(extra)}")
    extra_lang = set(nb.metadata.get("language_info", {})) - LANGUAGE_INFO
    if extra_lang:
        problems.append(f"stale language_info metadata: {sorted(extra_lang)}")
    for i, cell in enumerate(nb.cells):
        extra_cell = set(cell.get("metadata", {})) - CELL_METADATA
        if extra_cell:
            problems.append(f"cell {i}: stale cell metadata {sorted(extra_cell)}")
        if cell.cell_type != "code":
            continue
        if cell.get("execution_count") is not None and not is_checked(cell):
            problems.append(f"cell {i}: stored execution count {cell.execution_count}")
        if is_checked(cell) and cell.get("outputs") and cell.get("execution_count") is None:
            problems.append(f"cell {i}: checked cell has outputs but no execution count (nbval would skip it)")
        outputs = cell.get("outputs", [])
        if outputs and not is_checked(cell):
            problems.append(f"cell {i}: stores outputs but is not marked {CHECK_MARK}")
        if any(is_stderr(o) for o in outputs):
            problems.append(f"cell {i}: stores stderr output")
    return problems


def tidy_notebook(nb) -> None:
    """Strip outputs and execution counts of unchecked cells, stderr and stale metadata, in place;
    number the checked cells 1, 2, 3... so that nbval runs them."""
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in NOTEBOOK_METADATA}
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {k: v for k, v in nb.metadata["language_info"].items() if k in LANGUAGE_INFO}
    checked = 0
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.get("metadata", {}).items() if k in CELL_METADATA}
        if cell.cell_type != "code":
            continue
        if not is_checked(cell):
            cell.execution_count = None
            cell.outputs = []
            continue
        checked += 1
        cell.execution_count = checked
        cell.outputs = join_streams([o for o in cell.outputs if not is_stderr(o)])
        for out in cell.outputs:
            if "execution_count" in out:
                out["execution_count"] = checked


def join_streams(outputs: list) -> list:
    """Consecutive stream outputs of one stream joined into one, as nbval compares them: a cell whose prints
    were slow stores the same text in a single output however the kernel chunked it."""
    joined: list = []
    for out in outputs:
        if (joined and out.get("output_type") == "stream" and joined[-1].get("output_type") == "stream"
                and joined[-1].get("name") == out.get("name")):
            joined[-1] = nbformat.v4.new_output("stream", name=out["name"], text=joined[-1]["text"] + out["text"])
        else:
            joined.append(out)
    return joined


def copy_checked_outputs(executed, source) -> int:
    """Copy the outputs of checked cells from an executed copy into the source notebook; returns the count."""
    if len(executed.cells) < len(source.cells):
        raise ValueError("the executed notebook has fewer cells than its source")
    # papermill inserts an injected-parameters cell; match cells by id, falling back to source text
    by_id = {c.get("id"): c for c in executed.cells}
    copied = 0
    for cell in source.cells:
        if not is_checked(cell):
            continue
        match = by_id.get(cell.get("id")) or next((c for c in executed.cells if c.source == cell.source), None)
        if match is None:
            first_line = cell.source.splitlines()[0] if cell.source else ""
            raise ValueError(f"the executed notebook has no cell with id {cell.get('id')!r} or the source of the checked "
                             f"cell starting {first_line!r}; execute the current source again (tidy --refresh)")
        cell.outputs = match.outputs
        copied += 1
    return copied


GRADER = "fmnist_helpers.exercises.grading"
"""The module a check cell's hidden test runs afresh to grade (`editions.hidden_test` writes the test)."""


def exercise_heading(exercise) -> str:
    """The heading of an exercise's task cell: its number, title, type, time budget and difficulty."""
    from fmnist_helpers.exercises.core import KINDS

    return (f"### Exercise {exercise.key[1:]} · {exercise.title}\n"
            f"*{KINDS[exercise.kind].capitalize()} · {exercise.minutes} min · {exercise.difficulty}*")


def exercise_problems(path: Path) -> list[str]:
    """What breaks the exercise rules in a course notebook, one line each: every exercise its module defines has
    its task cell (with the generated heading), an nbgrader answer cell with a solution region and a locked check
    cell that calls its check and grades in its hidden test through the grader (`GRADER`); the notebook ends with the
    progress table."""
    from fmnist_helpers.exercises import NOTEBOOKS, lesson
    from fmnist_helpers.exercises.solutions import has_solution

    path = Path(path)
    if path.stem not in NOTEBOOKS:
        return [f"no exercise module is registered for {path.stem} (see fmnist_helpers/exercises/__init__.py)"]
    nb = nbformat.read(path, as_version=4)
    cells = nb.cells
    problems = []
    grade_ids = [c.metadata["nbgrader"].get("grade_id") for c in cells if "nbgrader" in c.get("metadata", {})]
    if len(grade_ids) != len(set(grade_ids)):
        problems.append(f"nbgrader grade ids repeat: {sorted(g for g in set(grade_ids) if grade_ids.count(g) > 1)}")
    for exercise in lesson(path.stem).exercises.values():
        heading = exercise_heading(exercise)
        at = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith(heading)]
        if len(at) != 1:
            problems.append(f"{exercise.key}: expected one task cell starting with {heading.splitlines()[0]!r} "
                            f"and its type line, found {len(at)}")
            continue
        i = at[0]
        answer, check = (cells[i + 1], cells[i + 2]) if i + 2 < len(cells) else (None, None)
        meta = (answer or {}).get("metadata", {}).get("nbgrader", {})
        if answer is None or answer.cell_type != "code" or not has_solution(answer.source) or not meta.get("solution"):
            problems.append(f"{exercise.key}: the cell after the task must be an nbgrader solution cell with a "
                            f"'### BEGIN SOLUTION' region")
        meta = (check or {}).get("metadata", {}).get("nbgrader", {})
        if check is None or f"ex.{exercise.key}.check(" not in check.source or not (meta.get("grade")
                                                                                  and meta.get("locked")):
            problems.append(f"{exercise.key}: the second cell after the task must be a locked nbgrader test cell "
                            f"calling ex.{exercise.key}.check(...)")
        elif GRADER not in check.source or f'"{path.stem}", "{exercise.key}"' not in check.source:
            problems.append(f"{exercise.key}: the check cell's hidden test must grade through {GRADER}.verify"
                            f"(\"{path.stem}\", \"{exercise.key}\", ...), so that no change to the kernel decides the "
                            f"grade; editions.hidden_test(...) writes it")
    if not cells or "ex.progress()" not in cells[-1].source:
        problems.append("the last cell should show the progress table, ex.progress()")
    return problems
