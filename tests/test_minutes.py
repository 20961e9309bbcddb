"""Every lesson fits a 90-minute lab by one rule read from the notebook (`course/minutes.py`), and says so; its
stretch exercises come after the lab, counted apart."""
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from fmnist_helpers.base.paths import notebooks_dir
from fmnist_helpers.course.minutes import (LAB_MINUTES, TEACHING_MINUTES, lesson_minutes, stated_line,
                                           write_stated_line)
from fmnist_helpers.course.notebooks import lesson_notebooks
from fmnist_helpers.exercises import lesson
from fmnist_helpers.exercises.ladder import rungs as rungs_of

LESSONS = lesson_notebooks(notebooks_dir())


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_fits_a_90_minute_lab_with_at_most_50_minutes_before_its_exercises(path):
    m = lesson_minutes(path)
    assert m.problems() == []
    assert m.teaching <= TEACHING_MINUTES and m.total <= LAB_MINUTES


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_opening_states_the_minutes_the_rule_gives(path):
    assert stated_line(path) == lesson_minutes(path).line()


def _lesson_file(tmp_path, teaching_words, code_cells, after_words=0):
    """A notebook named like lesson 04 (so its exercise minutes are 04's) with `teaching_words` markdown words and
    `code_cells` code cells before its exercises."""
    cells = [new_markdown_cell("# title"), new_markdown_cell("**After this notebook you can**"),
             new_markdown_cell(" ".join(["word"] * (teaching_words - 7)))]  # the two cells above hold 7 words
    cells += [new_code_cell("x = 1") for _ in range(code_cells)]
    cells += [new_markdown_cell("## Exercises\n\n" + " ".join(["task"] * after_words)), new_code_cell("ex.q1.check(1)")]
    path = tmp_path / "04_cnn.ipynb"
    nbformat.write(new_notebook(cells=cells), path)
    return path


def test_the_rule_reads_130_words_a_minute_and_40_seconds_a_code_cell_before_the_exercises(tmp_path):
    m = lesson_minutes(_lesson_file(tmp_path, teaching_words=1300, code_cells=30, after_words=5000))
    assert m.words == 1300 and m.code_cells == 30
    assert m.teaching == 10 + 20
    rungs = rungs_of("04_cnn")
    assert m.total == 30 + sum(e.minutes for e in lesson("04_cnn").exercises.values() if rungs[e.key] != "stretch")


def test_too_much_teaching_is_reported_with_its_words_and_cells(tmp_path):
    m = lesson_minutes(_lesson_file(tmp_path, teaching_words=6500, code_cells=3))
    assert m.teaching == 52
    assert any("52 minutes of teaching before the exercises, over the 50" in p for p in m.problems())


def test_a_lesson_over_90_minutes_in_all_is_reported(tmp_path):
    m = lesson_minutes(_lesson_file(tmp_path, teaching_words=130 * 45, code_cells=0))
    assert m.teaching == 45 and m.total > LAB_MINUTES
    assert any("minutes in all, over the 90-minute lab" in p for p in m.problems())


def test_the_written_line_states_the_minutes_of_the_notebook_that_holds_it(tmp_path):
    path = _lesson_file(tmp_path, teaching_words=1000, code_cells=10)
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = "**After this notebook you can**\n- a\n\n**Exercises:** 6 at the end, about 48 minutes."
    nbformat.write(nb, path)
    line = write_stated_line(path)
    assert stated_line(path) == line == lesson_minutes(path).line()
    assert write_stated_line(path) == line  # a second write changes nothing


def test_stretch_exercises_are_counted_after_the_lab_and_named_in_the_line(tmp_path):
    from fmnist_helpers.exercises.ladder import split_minutes

    m = lesson_minutes(_lesson_file(tmp_path, teaching_words=1300, code_cells=0))
    (_, lab), (n_stretch, stretch) = split_minutes("04_cnn")
    assert n_stretch >= 2 and m.stretch_minutes == stretch
    assert m.total == m.teaching + lab  # the stretch minutes are not in the lab's
    assert f"the stretch exercises, about {stretch} minutes, come after the lab" in m.line()


def test_the_written_opening_also_states_the_exercises_in_the_lab_and_after_it(tmp_path):
    from fmnist_helpers.exercises.ladder import exercises_line

    path = _lesson_file(tmp_path, teaching_words=1000, code_cells=10)
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = "**After this notebook you can**\n- a\n\n**Exercises:** 6 at the end, about 48 minutes."
    nbformat.write(nb, path)
    write_stated_line(path)
    assert exercises_line("04_cnn") in nbformat.read(path, as_version=4).cells[1].source
