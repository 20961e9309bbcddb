import re
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from fmnist_helpers.course.notebooks import CHECK_MARK, course_notebooks, hygiene_problems, is_checked, tidy_notebook
from fmnist_helpers.base.paths import notebooks_dir
from fmnist_helpers.course.runner import declared_parameters

NOTEBOOKS = course_notebooks(notebooks_dir())
COMMON = {"profile", "dataset", "seed", "data_dir", "output_dir"}


def test_the_course_has_its_numbered_notebooks():
    assert [p.stem for p in NOTEBOOKS][:3] == ["00_primer", "01_exploration", "02_preprocessing"]


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


def _readme_run_times():
    """The smoke, quick and full run times of each notebook in the README's notebook table."""
    import re

    from fmnist_helpers.base.paths import project_root

    rows = {}
    for line in (project_root() / "README.md").read_text().splitlines():
        m = re.match(r"\| `(\d\d_\w+)` \|[^|]*\| ([^|]+) \| ([^|]+) \| ([^|]+) \|$", line)
        if m:
            rows[m.group(1)] = tuple(s.strip() for s in m.groups()[1:])
    return rows


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_opens_with_its_goals_prerequisites_and_the_readme_run_times(path):
    head = nbformat.read(path, as_version=4).cells[1].source
    goals = [line for line in head.split("**Before it:**")[0].splitlines() if line.startswith("- ")]
    assert head.startswith("**After this notebook you can**") and 3 <= len(goals) <= 5
    assert "**Before it:**" in head
    smoke, quick, full = _readme_run_times()[path.stem]
    assert f"smoke {smoke} · quick {quick} · full {full}." in head


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_opening_states_its_number_of_exercises_and_their_minutes(path):
    from fmnist_helpers import exercises

    lesson = exercises.lesson(path.stem)
    minutes = sum(e.minutes for e in lesson.exercises.values())
    head = nbformat.read(path, as_version=4).cells[1].source
    assert f"**Exercises:** {len(lesson)} at the end, about {minutes} minutes." in head


def _glossary_anchors() -> set[str]:
    primer = nbformat.read(notebooks_dir() / "00_primer.ipynb", as_version=4)
    return set(re.findall(r'<a id="(glossary-[a-z-]+)"></a>', "\n".join(c.source for c in primer.cells)))


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.stem != "00_primer"], ids=lambda p: p.stem)
def test_notebook_links_the_words_it_uses_to_the_primers_glossary(path):
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    links = re.findall(r"00_primer\.ipynb#(glossary-[a-z-]+)", text)
    assert links, "no link to the primer's glossary"
    assert set(links) <= _glossary_anchors(), set(links) - _glossary_anchors()
