"""Checked exercises for every notebook, in the style of Kaggle Learn.

Each notebook ends with exercises of four types (predict then run, compute by hand, write code, run an
experiment and interpret it). A check never raises on a wrong answer: it shows a verdict that says what went
wrong for the most common mistakes, "not answered yet" for an empty answer, and runs a student's function on
hidden cases with a time limit.

Usage:
    from fmnist_helpers import exercises
    ex = exercises.for_notebook("04_cnn")
    ex.q1.check((26, 26, 32)); ex.q1.hint(); ex.q1.solution()
    ex.progress()                  # this notebook's table; exercises.progress() for every notebook
    exercises.catalogue()          # every exercise with its rung, type, time budget and difficulty
"""
from __future__ import annotations

import importlib
from typing import Any

from .core import KINDS, Answer, Exercise, Function, Lesson, Mistake, Prediction, Progress, Verdict
from .modules import NOTEBOOKS, _stem

__all__ = ["KINDS", "Answer", "Exercise", "Function", "Lesson", "Mistake", "Prediction", "Progress", "Verdict",
           "NOTEBOOKS", "catalogue", "for_notebook", "lesson", "progress"]

_open: dict[str, Lesson] = {}  # the lessons of this Python process (a kernel), so progress survives re-imports


def lesson(notebook: str) -> Lesson:
    """A new Lesson for a notebook (by stem, number or name), with nothing done yet."""
    stem = _stem(notebook)
    module = importlib.import_module(f".{NOTEBOOKS[stem]}", __name__)
    return Lesson(stem, module.TITLE, module.EXERCISES)


def for_notebook(notebook: str, fresh: bool = False) -> Lesson:
    """The exercises of a notebook, e.g. `for_notebook("04_cnn")`; the same Lesson again on a second call
    in this kernel (so the progress table keeps what was done) unless `fresh`."""
    stem = _stem(notebook)
    if fresh or stem not in _open:
        _open[stem] = lesson(stem)
    return _open[stem]


def progress() -> Progress:
    """One table of every notebook's exercises opened in this kernel."""
    rows = [dict(row, exercise=f"{stem[:2]} {row['exercise']}")
            for stem, les in sorted(_open.items()) for row in les.progress().rows]
    return Progress("Your exercises", rows)


def catalogue() -> Any:
    """Every exercise of the course: notebook, number, title, rung, type, minutes, difficulty (a DataFrame)."""
    import pandas as pd

    from .ladder import rungs

    rows = []
    for stem in NOTEBOOKS:
        ladder = rungs(stem)
        for e in lesson(stem).exercises.values():
            rows.append({"notebook": stem, "exercise": e.key, "title": e.title, "rung": ladder[e.key],
                         "type": KINDS[e.kind], "minutes": e.minutes, "difficulty": e.difficulty})
    return pd.DataFrame(rows)
