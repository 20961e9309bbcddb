"""The ladder of every lesson's exercises: warm-up, core, stretch.

- **warm-up**: compute by hand or predict, then run; a few minutes each.
- **core**: write the lesson's code or run its experiment.
- **stretch**: build or debug something the lesson did not show, 20 to 40 minutes, checked on what the student
  built or trained (a function run on hidden cases, a model, what `fit` returned, a callback).

Warm-ups and cores make the lab: a lesson's 90 minutes count them (`course/minutes.py`). Stretch exercises come after
the lab and are counted apart; a student may begin one in the lab when time is left. Every lesson has at least one
stretch exercise, those from the MLP lesson on (02 to 07) at least two, and the capstone (08) is the course's top rung.
Each lesson's module declares its rungs in `LADDER`, beside `EXERCISES`.

Usage:
    rungs("04_cnn")                 # {"q1": "warm-up", ..., "q8": "stretch"}
    rung_line("stretch")            # the line under an exercise's heading in the notebook
    exercises_line("04_cnn")        # the lesson opening's "**Exercises:** ..." line
    problems()                      # every rule of the ladder a lesson breaks, one line each
"""
from __future__ import annotations

import importlib

from .modules import NOTEBOOKS, _stem

WARM_UP, CORE, STRETCH = "warm-up", "core", "stretch"
RUNGS = (WARM_UP, CORE, STRETCH)
LAB_RUNGS = (WARM_UP, CORE)  # what the 90-minute lab counts
STRETCH_MINUTES = (20, 40)
_KINDS = {WARM_UP: ("compute", "predict"), CORE: ("code", "experiment"), STRETCH: ("code", "experiment")}
_LINES = {
    WARM_UP: "**Warm-up** · in the lab",
    CORE: "**Core** · in the lab",
    STRETCH: "**Stretch** · after the lab, not counted in its 90 minutes (begin it in the lab if time is left)",
}


def _module(notebook: str):
    return importlib.import_module(f"fmnist_helpers.exercises.{NOTEBOOKS[_stem(notebook)]}")


def rungs(notebook: str) -> dict[str, str]:
    """Each exercise's rung in a lesson (by stem, number or name), in the order of its exercises."""
    module = _module(notebook)
    ladder = getattr(module, "LADDER", {})
    return {e.key: ladder.get(e.key, "") for e in module.EXERCISES}


def rung(notebook: str, key: str) -> str:
    """The rung of one exercise, e.g. `rung("04_cnn", "q7")`."""
    return rungs(notebook)[key]


def minimum_stretch(notebook: str) -> int:
    """How many stretch exercises a lesson needs: two from the MLP lesson (02) to 07, one elsewhere."""
    number = int(_stem(notebook)[:2])
    return 2 if 2 <= number <= 7 else 1


def rung_line(name: str) -> str:
    """The line under an exercise's heading that names its rung and when it is done."""
    return _LINES[name]


def split_minutes(notebook: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """((lab exercises, their minutes), (stretch exercises, their minutes)) of a lesson."""
    module = _module(notebook)
    ladder = rungs(notebook)
    lab = [e.minutes for e in module.EXERCISES if ladder[e.key] in LAB_RUNGS]
    stretch = [e.minutes for e in module.EXERCISES if ladder[e.key] == STRETCH]
    return (len(lab), sum(lab)), (len(stretch), sum(stretch))


def exercises_line(notebook: str) -> str:
    """The lesson opening's line on its exercises: how many, and their minutes in the lab and after it."""
    (n_lab, lab), (n_stretch, stretch) = split_minutes(notebook)
    after = (f"{n_stretch} stretch exercise{'s' if n_stretch != 1 else ''} after it, about {stretch} minutes")
    return f"**Exercises:** {n_lab + n_stretch} at the end: {n_lab} in the lab, about {lab} minutes, and {after}."


def problems(notebook: str | None = None) -> list[str]:
    """Every rule of the ladder that a lesson (or, by default, every lesson) breaks, one line each."""
    from .builds import Build
    from .core import Answer

    out = []
    for stem in [notebook] if notebook else list(NOTEBOOKS):
        module, ladder = _module(stem), rungs(stem)
        for e in module.EXERCISES:
            name = ladder[e.key]
            if name not in RUNGS:
                out.append(f"{stem} {e.key}: no rung in LADDER (one of {', '.join(RUNGS)})")
                continue
            if e.kind not in _KINDS[name]:
                out.append(f"{stem} {e.key}: a {name} exercise is of kind {' or '.join(_KINDS[name])}, not {e.kind}")
            if name == STRETCH:
                low, high = STRETCH_MINUTES
                if not low <= e.minutes <= high:
                    out.append(f"{stem} {e.key}: a stretch exercise takes {low} to {high} minutes, not {e.minutes}")
                if isinstance(e, Answer) and not isinstance(e, Build):
                    out.append(f"{stem} {e.key}: a stretch exercise is checked on what was built, not on a typed "
                               f"value")
        extra = set(getattr(module, "LADDER", {})) - {e.key for e in module.EXERCISES}
        if extra:
            out.append(f"{stem}: LADDER names exercises that do not exist: {sorted(extra)}")
        stretches = sum(1 for r in ladder.values() if r == STRETCH)
        if stretches < minimum_stretch(stem):
            out.append(f"{stem}: {stretches} stretch exercise(s); the lesson needs {minimum_stretch(stem)}")
    return out
