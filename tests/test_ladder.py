"""Every lesson's exercises climb a ladder (warm-up, core, stretch) that the notebooks state, and the lab counts only
the first two rungs (`exercises/ladder.py`, `course/minutes.py`)."""
import nbformat
import pytest

from fmnist_helpers import exercises
from fmnist_helpers.base.paths import notebooks_dir
from fmnist_helpers.course.editions import exercise_heading
from fmnist_helpers.course.minutes import lesson_minutes
from fmnist_helpers.exercises import ladder

STEMS = list(exercises.NOTEBOOKS)


def test_every_lesson_keeps_the_ladders_rules():
    assert ladder.problems() == []


@pytest.mark.parametrize("stem", STEMS)
def test_every_lesson_has_a_stretch_exercise_and_those_from_02_to_07_two(stem):
    stretches = [k for k, r in ladder.rungs(stem).items() if r == ladder.STRETCH]
    assert len(stretches) >= (2 if stem[:2] in {"02", "03", "04", "05", "06", "07"} else 1)


def test_the_capstones_build_is_the_top_rung():
    assert ladder.rung("08_capstone", "q4") == ladder.STRETCH


@pytest.mark.parametrize("stem", STEMS)
def test_every_task_cell_states_its_rung_under_its_heading(stem):
    cells = nbformat.read(notebooks_dir() / f"{stem}.ipynb", as_version=4).cells
    for exercise in exercises.lesson(stem).exercises.values():
        want = f"{exercise_heading(exercise)}\n\n{ladder.rung_line(ladder.rung(stem, exercise.key))}\n\n"
        assert any(c.cell_type == "markdown" and c.source.startswith(want) for c in cells), exercise.key


@pytest.mark.parametrize("stem", STEMS)
def test_every_lesson_opening_states_its_exercises_in_the_lab_and_after_it(stem):
    head = nbformat.read(notebooks_dir() / f"{stem}.ipynb", as_version=4).cells[1].source
    assert ladder.exercises_line(stem) in head


def test_a_lesson_without_a_stretch_exercise_breaks_the_rules(monkeypatch):
    from fmnist_helpers.exercises import nb04

    monkeypatch.setattr(nb04, "LADDER", {**nb04.LADDER, "q7": ladder.CORE, "q8": ladder.CORE})
    assert "04_cnn: 0 stretch exercise(s); the lesson needs 2" in ladder.problems("04_cnn")


def test_a_warm_up_that_asks_for_code_breaks_the_rules(monkeypatch):
    from fmnist_helpers.exercises import nb04

    monkeypatch.setattr(nb04, "LADDER", {**nb04.LADDER, "q3": ladder.WARM_UP})
    assert any("q3: a warm-up exercise is of kind compute or predict" in p for p in ladder.problems("04_cnn"))


def test_a_stretch_exercise_checked_on_a_typed_value_breaks_the_rules(monkeypatch):
    from fmnist_helpers.exercises import nb04

    monkeypatch.setattr(nb04, "LADDER", {**nb04.LADDER, "q2": ladder.STRETCH})
    found = ladder.problems("04_cnn")
    assert any("q2: a stretch exercise takes 20 to 40 minutes" in p for p in found)
    assert any("q2: a stretch exercise is checked on what was built" in p for p in found)


@pytest.mark.parametrize("stem", STEMS)
def test_the_lab_counts_warm_ups_and_cores_and_the_stretch_minutes_come_apart(stem):
    m = lesson_minutes(notebooks_dir() / f"{stem}.ipynb")
    rungs, lesson = ladder.rungs(stem), exercises.lesson(stem)
    assert m.exercise_minutes == sum(e.minutes for e in lesson.exercises.values() if rungs[e.key] != "stretch")
    assert m.stretch_minutes == sum(e.minutes for e in lesson.exercises.values() if rungs[e.key] == "stretch")
    assert m.total == m.teaching + m.exercise_minutes


def test_the_catalogue_gives_each_exercise_its_rung():
    table = exercises.catalogue()
    assert set(table["rung"]) == set(ladder.RUNGS)
    assert (table.groupby("notebook")["rung"].apply(lambda r: (r == "stretch").sum()) >= 1).all()
