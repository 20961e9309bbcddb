"""Where a notebook run writes when it names no `output_dir`: beside the notebook, so that every student's copy and
every nbgrader submission has a results folder of its own; the checkout's `build/<profile>` only for the pack's own
notebooks."""
import pytest

from fmnist_helpers import start_notebook
from fmnist_helpers.base.paths import RUNS_FOLDER, build_dir, default_output_dir, notebooks_dir
from fmnist_helpers.base.results import load_results


@pytest.mark.parametrize("folder", [notebooks_dir(), notebooks_dir() / "studies"], ids=["lessons", "studies"])
def test_the_packs_own_notebooks_write_to_the_checkouts_build_folder(folder):
    assert default_output_dir("quick", folder) == build_dir("quick")


def test_a_copy_elsewhere_writes_beside_itself(tmp_path):
    assert default_output_dir("smoke", tmp_path) == tmp_path.resolve() / RUNS_FOLDER / "smoke"


def test_two_students_copies_get_two_folders(tmp_path):
    ada, bo = tmp_path / "ada" / "lesson", tmp_path / "bo" / "lesson"
    assert default_output_dir("smoke", ada) != default_output_dir("smoke", bo)


def test_the_build_folder_of_the_checkout_is_not_beside_a_student_copy_inside_it(tmp_path):
    inside = notebooks_dir().parent / "build" / "student"  # the student edition the pack writes
    assert default_output_dir("smoke", inside) == inside.resolve() / RUNS_FOLDER / "smoke"


def test_a_run_without_output_dir_keeps_its_record_in_the_notebooks_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # Jupyter, nbgrader and the runner start a kernel in its notebook's folder
    run = start_notebook("00_primer", profile="smoke")
    run.finish()
    assert run.output_dir == tmp_path.resolve() / RUNS_FOLDER / "smoke"
    assert load_results(run.output_dir, "00_primer")["params"]["profile"] == "smoke"


def test_an_output_dir_given_wins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = start_notebook("00_primer", profile="smoke", output_dir=tmp_path / "mine")
    assert run.output_dir == tmp_path / "mine"
