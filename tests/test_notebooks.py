"""The stored notebooks stay clean (`hygiene_problems`, `tidy_notebook`), `tidy --refresh` copies only the
checked cells' outputs from an executed copy (`copy_checked_outputs`), and each notebook opens and links as
the course promises."""
import copy
import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from fmnist_helpers.course.notebooks import (CHECK_MARK, copy_checked_outputs, course_notebooks, hygiene_problems,
                                             is_checked, lesson_notebooks, study_notebooks, tidy_notebook, track_of)
from fmnist_helpers.base.paths import notebooks_dir
from fmnist_helpers.course.runner import declared_parameters

NOTEBOOKS = course_notebooks(notebooks_dir())
LESSONS = lesson_notebooks(notebooks_dir())
COMMON = {"profile", "dataset", "seed", "data_dir", "output_dir"}


def test_the_course_has_its_numbered_notebooks():
    assert [p.stem for p in NOTEBOOKS][:3] == ["00_primer", "01_exploration", "02_preprocessing"]


def test_the_studies_track_lives_in_its_own_folder_and_runs_after_the_lessons():
    studies = study_notebooks(notebooks_dir())
    assert studies and all(p.parent.name == "studies" and p.stem.startswith("s") for p in studies)
    assert NOTEBOOKS == LESSONS + studies
    assert {track_of(p) for p in LESSONS} == {"lessons"} and {track_of(p) for p in studies} == {"studies"}


def test_a_track_name_that_does_not_exist_is_refused():
    with pytest.raises(ValueError, match="lessons, studies, all"):
        course_notebooks(notebooks_dir(), "lesson")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebook_is_clean(path):
    assert hygiene_problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_declares_the_common_parameters(path):
    assert COMMON <= set(declared_parameters(path))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_checked_cells_with_stored_output(path):
    checked = [c for c in nbformat.read(path, as_version=4).cells if is_checked(c)]
    assert checked and all(c.outputs for c in checked)


def _notebook(tmp_path, cells, tag_parameters=True, **metadata):
    nb = new_notebook(cells=[new_code_cell("x = 1")] + cells, metadata=metadata)
    if tag_parameters:
        nb.cells[0].metadata["tags"] = ["parameters"]
    path = tmp_path / "01_demo.ipynb"
    nbformat.write(nb, path)
    return path


def _stdout(text):
    return new_output("stream", name="stdout", text=text)


def test_outputs_of_unchecked_cells_are_flagged(tmp_path):
    path = _notebook(tmp_path, [new_code_cell("print(1)", outputs=[_stdout("1\n")])])
    assert hygiene_problems(path) == [f"cell 1: stores outputs but is not marked {CHECK_MARK}"]


def test_execution_counts_outside_checked_cells_are_flagged(tmp_path):
    path = _notebook(tmp_path, [new_code_cell("y = 2", execution_count=7)])
    assert hygiene_problems(path) == ["cell 1: stored execution count 7"]


def test_stale_metadata_is_flagged(tmp_path):
    cell = new_code_cell("y = 2")
    cell.metadata["collapsed"] = True
    path = _notebook(tmp_path, [cell], widgets={}, language_info={"name": "python", "version": "3.9.1"})
    assert hygiene_problems(path) == ["stale notebook metadata: ['widgets']",
                                      "stale language_info metadata: ['version']",
                                      "cell 1: stale cell metadata ['collapsed']"]


def test_a_missing_parameters_cell_is_flagged(tmp_path):
    assert "no cell is tagged 'parameters'" in hygiene_problems(_notebook(tmp_path, [], tag_parameters=False))[0]


def test_stderr_in_a_checked_cell_is_flagged(tmp_path):
    cell = new_code_cell(f"# {CHECK_MARK}\nprint(1)", execution_count=1,
                         outputs=[_stdout("1\n"), new_output("stream", name="stderr", text="warning\n")])
    assert hygiene_problems(_notebook(tmp_path, [cell])) == ["cell 1: stores stderr output"]


def test_tidy_strips_everything_but_checked_stdout_and_numbers_checked_cells(tmp_path):
    dirty = new_code_cell("print(1)", execution_count=4, outputs=[_stdout("1\n")])
    dirty.metadata["scrolled"] = True
    checked = [new_code_cell(f"# {CHECK_MARK}\nprint({i})", execution_count=9,
                             outputs=[_stdout(f"{i}\n"), new_output("stream", name="stderr", text="noise")])
               for i in (2, 3)]
    path = _notebook(tmp_path, [dirty, *checked], widgets={})
    nb = nbformat.read(path, as_version=4)
    tidy_notebook(nb)
    nbformat.write(nb, path)
    assert hygiene_problems(path) == []
    cells = nbformat.read(path, as_version=4).cells
    assert cells[1].outputs == [] and cells[1].execution_count is None and cells[1].metadata == {}
    assert [c.execution_count for c in cells[2:]] == [1, 2]
    assert [[o.text for o in c.outputs] for c in cells[2:]] == [["2\n"], ["3\n"]]


def test_tidy_joins_a_checked_cells_stdout_chunks_into_one_output(tmp_path):
    chunked = new_code_cell(f"# {CHECK_MARK}\nfor i in range(3): print(i)", execution_count=1,
                            outputs=[_stdout("0\n"), _stdout("1\n"), new_output("stream", name="stderr", text="w"),
                                     _stdout("2\n")])
    nb = nbformat.read(_notebook(tmp_path, [chunked]), as_version=4)
    tidy_notebook(nb)
    assert [(o.name, o.text) for o in nb.cells[1].outputs] == [("stdout", "0\n1\n2\n")]


# ----------------------------------------------------------------- tidy --refresh: the checked outputs of a run

def _source_and_executed():
    """A stored notebook (parameters, one checked and one unchecked cell, no outputs) and its executed copy,
    with papermill's injected-parameters cell after the parameters cell and every code cell's output."""
    params = new_code_cell("profile = None")
    params.metadata["tags"] = ["parameters"]
    source = new_notebook(cells=[params, new_code_cell(f"# {CHECK_MARK}\nprint(x.shape)"),
                                 new_code_cell("print('trained')")])
    executed = copy.deepcopy(source)
    executed.cells.insert(1, new_code_cell('# Parameters\nprofile = "smoke"\n'))
    for cell, text in zip(executed.cells, ["", "", "(60000, 28, 28)\n", "trained\n"]):
        cell.outputs = [_stdout(text)] if text else []
    return source, executed


def _texts(nb):
    return [[o.text for o in c.get("outputs", [])] for c in nb.cells]


def test_refresh_copies_the_checked_cells_output_from_the_executed_copy():
    source, executed = _source_and_executed()
    copy_checked_outputs(executed, source)
    assert _texts(source)[1] == ["(60000, 28, 28)\n"]


def test_refresh_leaves_the_outputs_of_unchecked_cells_out():
    source, executed = _source_and_executed()
    copy_checked_outputs(executed, source)
    assert _texts(source)[0] == [] and _texts(source)[2] == []


def test_refresh_returns_how_many_checked_cells_it_filled():
    source, executed = _source_and_executed()
    source.cells.append(new_code_cell(f"# {CHECK_MARK}\nprint(len(x))"))
    executed.cells.append(copy.deepcopy(source.cells[-1]))
    assert copy_checked_outputs(executed, source) == 2


def test_refresh_matches_cells_by_id_so_two_checked_cells_with_one_source_keep_their_own_outputs():
    first, second = (new_code_cell(f"# {CHECK_MARK}\nprint(x.shape)") for _ in range(2))
    source = new_notebook(cells=[first, second])
    executed = copy.deepcopy(source)
    executed.cells[0].outputs = [_stdout("(60000, 28, 28)\n")]
    executed.cells[1].outputs = [_stdout("(48000, 28, 28)\n")]
    copy_checked_outputs(executed, source)
    assert _texts(source) == [["(60000, 28, 28)\n"], ["(48000, 28, 28)\n"]]


def test_refresh_finds_a_cell_whose_id_changed_by_its_source():
    source, executed = _source_and_executed()
    executed.cells[2].id = "renumbered"
    copy_checked_outputs(executed, source)
    assert _texts(source)[1] == ["(60000, 28, 28)\n"]


def test_refresh_refuses_an_executed_copy_with_fewer_cells_than_the_source():
    source, executed = _source_and_executed()
    executed.cells = executed.cells[:2]
    with pytest.raises(ValueError, match="the executed notebook has fewer cells than its source"):
        copy_checked_outputs(executed, source)


def test_refresh_stops_on_a_checked_cell_the_executed_copy_lacks_by_id_and_by_source():
    source, executed = _source_and_executed()
    executed.cells[2].id, executed.cells[2].source = "other", "print(x.dtype)"
    with pytest.raises(ValueError, match="no cell with id .* or the source of the checked cell"):  # `tidy --refresh` stops before writing
        copy_checked_outputs(executed, source)



def _readme_run_times():
    """The smoke, quick and full run times of each notebook in the README's notebook table."""
    import re

    from fmnist_helpers.base.paths import project_root

    return {name: cells[-3:] for name, cells in _readme_rows().items()}


def _readme_rows():
    """Each notebook row of the README's two tables: its cells after the description (lessons: lab minutes, then
    smoke, quick, full; studies: smoke, quick, full)."""
    import re

    from fmnist_helpers.base.paths import project_root

    rows = {}
    for line in (project_root() / "README.md").read_text().splitlines():
        m = re.match(r"\| `(s?\d\d_\w+)` \|[^|]*\|((?: [^|]+ \|){3,4})$", line)
        if m:
            rows[m.group(1)] = tuple(cell.strip() for cell in m.group(2).strip(" |").split(" | "))
    return rows


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_opens_with_its_goals_prerequisites_and_the_readme_run_times(path):
    head = nbformat.read(path, as_version=4).cells[1].source
    goals = [line for line in head.split("**Before it:**")[0].splitlines() if line.startswith("- ")]
    opening = "**After this notebook you can**" if track_of(path) == "lessons" else "**What it reproduces**"
    assert head.startswith(opening) and 3 <= len(goals) <= 5
    assert "**Before it:**" in head
    smoke, quick, full = _readme_run_times()[path.stem]
    assert f"smoke {smoke} · quick {quick} · full {full}." in head


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_readme_lists_every_notebook_in_its_tracks_table(path):
    cells = _readme_rows().get(path.stem)
    assert cells is not None, f"no README row for {path.stem}"
    assert len(cells) == (4 if track_of(path) == "lessons" else 3)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_the_readme_gives_each_lesson_its_lab_minutes(path):
    from fmnist_helpers.course.minutes import lesson_minutes

    assert _readme_rows()[path.stem][0] == f"{lesson_minutes(path).total} min"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_notebook_opening_states_its_number_of_exercises_and_their_minutes(path):
    from fmnist_helpers import exercises

    from fmnist_helpers.exercises.ladder import split_minutes

    (n_lab, lab), (n_stretch, stretch) = split_minutes(path.stem)
    assert n_lab + n_stretch == len(exercises.lesson(path.stem))
    head = nbformat.read(path, as_version=4).cells[1].source
    assert f"**Exercises:** {n_lab + n_stretch} at the end: {n_lab} in the lab, about {lab} minutes, and" in head
    assert f"after it, about {stretch} minutes." in head


def _glossary_anchors() -> set[str]:
    primer = nbformat.read(notebooks_dir() / "00_primer.ipynb", as_version=4)
    return set(re.findall(r'<a id="(glossary-[a-z-]+)"></a>', "\n".join(c.source for c in primer.cells)))


@pytest.mark.parametrize("path", [p for p in LESSONS if p.stem != "00_primer"], ids=lambda p: p.stem)
def test_notebook_links_the_words_it_uses_to_the_primers_glossary(path):
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    links = re.findall(r"00_primer\.ipynb#(glossary-[a-z-]+)", text)
    assert links, "no link to the primer's glossary"
    assert set(links) <= _glossary_anchors(), set(links) - _glossary_anchors()
