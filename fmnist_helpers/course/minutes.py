"""How long a lesson takes a class, by one rule read from the notebook itself, and whether it fits a lab.

The rule: the markdown before the exercises is read at 130 words a minute; each code cell before them costs 40
seconds (reading it, running it, looking at what it shows); then come the lab exercises' own minutes, which include
reading their tasks. A lesson fits a 90-minute lab when the total is at most 90 minutes and the teaching before the
exercises at most 50, which leaves the exercises at least 40. The lab exercises are the warm-up and core rungs of the
lesson's ladder (`exercises/ladder.py`); its stretch exercises come after the lab, and their minutes are counted
apart (`stretch_minutes`), never in the 90.

Usage:
    m = lesson_minutes(Path("notebooks/04_cnn.ipynb"))
    m.teaching, m.total, m.problems()        # minutes before the exercises, in the lab, and what breaks the limits
    m.stretch_minutes                        # the stretch exercises' minutes, after the lab
    print(minutes_table([Path("notebooks/03_mlp.ipynb"), Path("notebooks/04_cnn.ipynb")]))
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import nbformat

WORDS_PER_MINUTE = 130
SECONDS_PER_CODE_CELL = 40
LAB_MINUTES = 90
TEACHING_MINUTES = 50
EXERCISES_HEADING = "## Exercises"
RULE = (f"{WORDS_PER_MINUTE} words a minute, {SECONDS_PER_CODE_CELL} s a code cell before the exercises, "
        "then the warm-up and core exercises' minutes; stretch exercises after the lab, counted apart")


@dataclass(frozen=True)
class LessonMinutes:
    """What the rule counts in one lesson, and the minutes it gives."""

    notebook: str
    cells: int  # every cell of the notebook
    words: int  # markdown words before the exercises
    code_cells: int  # code cells before the exercises
    code_lines: int  # non-blank code lines before the exercises
    figures: int  # cells whose figure carries alt text, before the exercises
    exercises: int  # the lab's exercises: warm-ups and cores
    exercise_minutes: int
    stretch_exercises: int = 0  # after the lab
    stretch_minutes: int = 0

    @property
    def teaching(self) -> int:
        """Minutes before the exercises, rounded up."""
        return math.ceil(self.words / WORDS_PER_MINUTE + self.code_cells * SECONDS_PER_CODE_CELL / 60)

    @property
    def total(self) -> int:
        """Minutes of the lab: the teaching and the warm-up and core exercises (stretch exercises come after)."""
        return self.teaching + self.exercise_minutes

    def problems(self) -> list[str]:
        """Each limit of a 90-minute lab this lesson breaks, in words; empty when it fits."""
        out = []
        if self.teaching > TEACHING_MINUTES:
            out.append(f"{self.notebook}: {self.teaching} minutes of teaching before the exercises, over the "
                       f"{TEACHING_MINUTES} a lab allows ({self.words:,} words, {self.code_cells} code cells)")
        if self.total > LAB_MINUTES:
            out.append(f"{self.notebook}: {self.total} minutes in all, over the {LAB_MINUTES}-minute lab "
                       f"({self.teaching} of teaching, {self.exercise_minutes} of exercises)")
        return out

    def line(self) -> str:
        """The sentence a lesson's opening states (a test keeps the two equal)."""
        after = (f"; the stretch exercises, about {self.stretch_minutes} minutes, come after the lab"
                 if self.stretch_exercises else "")
        return (f"**Lab time:** about {self.total} minutes, {self.teaching} of them before the exercises "
                f"(by the pack's rule: {WORDS_PER_MINUTE} words a minute, {SECONDS_PER_CODE_CELL} s a code cell, plus "
                f"the warm-up and core exercises' minutes){after}.")


def _is_exercises_heading(cell) -> bool:
    return cell.cell_type == "markdown" and cell.source.lstrip().startswith(EXERCISES_HEADING)


def lesson_minutes(path: str | Path) -> LessonMinutes:
    """Count a lesson notebook by the rule; its exercises' minutes and rungs come from its exercise module."""
    from fmnist_helpers.exercises.ladder import split_minutes

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    cells = list(nb.cells)
    end = next((i for i, c in enumerate(cells) if _is_exercises_heading(c)), len(cells))
    teaching = cells[:end]
    code = [c for c in teaching if c.cell_type == "code"]
    (n_lab, lab), (n_stretch, stretch) = split_minutes(path.stem)
    return LessonMinutes(
        notebook=path.stem,
        cells=len(cells),
        words=sum(len(c.source.split()) for c in teaching if c.cell_type == "markdown"),
        code_cells=len(code),
        code_lines=sum(1 for c in code for line in c.source.splitlines() if line.strip()),
        figures=sum(1 for c in code if c.metadata.get("alt")),
        exercises=n_lab,
        exercise_minutes=lab,
        stretch_exercises=n_stretch,
        stretch_minutes=stretch,
    )


def minutes_table(paths: Sequence[Path]) -> str:
    """A plain-text table of every lesson's counts and minutes, one row each."""
    header = (f"{'lesson':20s} {'cells':>5s} {'words':>6s} {'code cells':>10s} {'code lines':>10s} {'figures':>7s} "
              f"{'teaching':>8s} {'exercises':>9s} {'total':>5s}  fits  {'stretch after':>13s}")
    rows = [header]
    for path in paths:
        m = lesson_minutes(path)
        rows.append(f"{m.notebook:20s} {m.cells:5d} {m.words:6,d} {m.code_cells:10d} {m.code_lines:10d} "
                    f"{m.figures:7d} {m.teaching:8d} {m.exercise_minutes:9d} {m.total:5d}  "
                    f"{'yes' if not m.problems() else 'NO ':4s} {m.stretch_minutes:10d} min")
    return "\n".join(rows)


def stated_line(path: str | Path) -> str | None:
    """The `**Lab time:**` line a lesson's opening cell states, or None."""
    head = nbformat.read(Path(path), as_version=4).cells[1].source
    return next((line.rstrip() for line in head.splitlines() if line.startswith("**Lab time:**")), None)


def write_stated_line(path: str | Path) -> str:
    """Put the rule's line into the lesson's opening (after its `**Exercises:**` line, which is rewritten from the
    lesson's ladder) and return it.

    The lines' own words count as reading, so they are rewritten until they state the minutes of the notebook that
    holds them.
    """
    from fmnist_helpers.base.atomic import write_text_atomic
    from fmnist_helpers.exercises.ladder import exercises_line

    path = Path(path)
    for _ in range(5):
        nb = nbformat.read(path, as_version=4)
        line = lesson_minutes(path).line()
        lines = [ln for ln in nb.cells[1].source.splitlines() if not ln.startswith("**Lab time:**")]
        at = next((i for i, ln in enumerate(lines) if ln.startswith("**Exercises:**")), None)
        if at is None:
            at = len(lines) - 1
        else:
            lines[at] = exercises_line(path.stem)
        lines[at] = lines[at].rstrip() + "  " if not lines[at].endswith("  ") else lines[at]
        lines.insert(at + 1, line)
        new = "\n".join(lines)
        if new == nb.cells[1].source:
            return line
        nb.cells[1].source = new
        text = nbformat.writes(nb)
        write_text_atomic(path, text if text.endswith("\n") else text + "\n")
    raise RuntimeError(f"{path.name}: the lab-time line does not settle")
