import json
import os

import nbformat
import numpy as np
import pytest
from conftest import write_course_notebook

from fmnist_helpers.course.cli import main
from fmnist_helpers.course.pytest_plugin import record_notebook_time
from fmnist_helpers.base.results import load_results
from fmnist_helpers.course.runner import (CourseRunError, expected_record_params, kernel_environment, parse_param,
                                   run_course, select_notebooks)

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _quiet(_msg):
    pass


# ----------------------------------------------------------------- arguments

@pytest.mark.parametrize("item, expected", [
    ("dataset=mnist", ("dataset", "mnist")), ("seed=7", ("seed", 7)), ("rate=0.5", ("rate", 0.5)),
    ("data_dir=None", ("data_dir", None)), ("flag=True", ("flag", True)), ("name=a=b", ("name", "a=b")),
])
def test_parse_param_reads_python_literals_and_plain_strings(item, expected):
    assert parse_param(item) == expected


@pytest.mark.parametrize("item", ["dataset", "=mnist", "1x=2"])
def test_parse_param_rejects_malformed_items(item):
    with pytest.raises(CourseRunError, match="not of the form key=value"):
        parse_param(item)


def test_select_notebooks_by_number_stem_or_name(tmp_path):
    paths = [tmp_path / "01_exploration.ipynb", tmp_path / "02_preprocessing.ipynb"]
    assert select_notebooks(paths, ["02"]) == paths[1:]
    assert select_notebooks(paths, ["exploration", "02_preprocessing"]) == paths
    assert select_notebooks(paths, None) == paths
    with pytest.raises(CourseRunError, match="--only '07' matches no notebook; choose from: 01_exploration, 02_"):
        select_notebooks(paths, ["07"])


def test_unknown_parameter_lists_the_declared_ones(tmp_path):
    with pytest.raises(CourseRunError, match="unknown parameter.*datset.*accepted: data_dir, dataset, seed"):
        run_course("smoke", only=["01"], params={"datset": "mnist"}, output_dir=tmp_path, report=_quiet,
                   progress=False)


def test_profile_and_output_dir_cannot_be_set_as_parameters(tmp_path):
    with pytest.raises(CourseRunError, match="set profile with --profile / --output-dir, not -p"):
        run_course("smoke", params={"profile": "full"}, output_dir=tmp_path, report=_quiet)


def test_unknown_profile_lists_the_accepted_ones(tmp_path):
    with pytest.raises(CourseRunError, match="profile 'fast' is not accepted; choose one of: smoke, quick, full"):
        run_course("fast", output_dir=tmp_path, report=_quiet)


def test_a_record_must_show_profile_dataset_and_the_passed_parameters_but_not_those_passed_as_none():
    declared = {"dataset": {"default": '"fashion_mnist"'}, "n_seeds": {"default": "None"}}
    passed = {"profile": "smoke", "output_dir": "/out", "seed": 7, "n_seeds": None}
    assert expected_record_params(passed, declared) == {"profile": "smoke", "seed": 7, "dataset": "fashion_mnist"}


# ----------------------------------------------------------------- execution on a tiny notebook

@pytest.fixture
def tiny_course(tmp_path):
    folder = tmp_path / "notebooks"
    write_course_notebook(folder, "01_tiny", "profile = None\noutput_dir = None\nx = 1",
                          "assert x != 13, 'x must not be 13'\n"
                          "from fmnist_helpers.base.results import ResultsRecord\n"
                          "ResultsRecord.start(output_dir, '01_tiny', params={'profile': profile, 'x': x}).finish()\n"
                          "print('x is', x)")
    return folder, tmp_path / "build"


def _run(course, **kwargs):
    folder, out = course
    return run_course("smoke", notebook_dir=folder, output_dir=out, report=_quiet, progress=False, **kwargs)


@pytest.mark.slow
def test_executes_exports_html_and_writes_the_index(tiny_course):
    (outcome,) = _run(tiny_course, params={"x": 2})
    out = tiny_course[1]
    assert outcome.status == "ran"
    executed = nbformat.read(out / "01_tiny.ipynb", as_version=4)
    assert "x is 2" in executed.cells[-1].outputs[0].text
    assert (out / "01_tiny.html").is_file() and "01_tiny.html" in (out / "index.html").read_text()
    assert json.loads((out / "runs.json").read_text())["01_tiny"]["params"]["x"] == 2


@pytest.mark.slow
def test_rerun_with_the_same_parameters_is_skipped_and_force_reruns(tiny_course):
    _run(tiny_course)
    assert [o.status for o in _run(tiny_course)] == ["skipped"]
    assert [o.status for o in _run(tiny_course, force=True)] == ["ran"]


@pytest.mark.slow
def test_changed_parameters_run_again(tiny_course):
    _run(tiny_course)
    assert [o.status for o in _run(tiny_course, params={"x": 5})] == ["ran"]


@pytest.mark.slow
def test_a_failing_cell_stops_the_run_naming_notebook_and_cell(tiny_course):
    with pytest.raises(CourseRunError) as err:
        _run(tiny_course, params={"x": 13})
    assert "01_tiny.ipynb failed in cell" in str(err.value) and "x must not be 13" in str(err.value)
    out = tiny_course[1]
    assert (out / "01_tiny.failed.ipynb").is_file() and not (out / "01_tiny.ipynb").exists()
    assert json.loads((out / "runs.json").read_text())["01_tiny"]["status"] == "failed"
    assert [o.status for o in _run(tiny_course, params={"x": 3})] == ["ran"]
    assert not (out / "01_tiny.failed.ipynb").exists()


def test_the_kernel_environment_asks_for_one_line_per_model_unless_the_caller_chose():
    assert kernel_environment({"HOME": "/h"}) == {"HOME": "/h", "FMNIST_PROGRESS": "summary"}
    assert kernel_environment({"FMNIST_PROGRESS": "none"}) == {"FMNIST_PROGRESS": "none"}


@pytest.mark.slow
def test_the_kernel_gets_the_progress_setting_while_the_runner_keeps_its_own_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("FMNIST_PROGRESS", raising=False)
    write_course_notebook(tmp_path / "notebooks", "01_env", "profile = None\noutput_dir = None",
                          "import os\n"
                          "from fmnist_helpers.base.results import ResultsRecord\n"
                          "ResultsRecord.start(output_dir, '01_env', params={'profile': profile}).finish()\n"
                          "print('progress:', os.environ.get('FMNIST_PROGRESS'))")
    import tensorflow  # noqa: F401  the report's hardware line loads it, and its import sets variables of its own
    before = dict(os.environ)
    run_course("smoke", notebook_dir=tmp_path / "notebooks", output_dir=tmp_path / "build", report=_quiet,
               progress=False)
    executed = nbformat.read(tmp_path / "build" / "01_env.ipynb", as_version=4)
    assert "progress: summary" in executed.cells[-1].outputs[0].text
    assert dict(os.environ) == before


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="Unix sockets: elsewhere kernels keep TCP")
def test_the_kernel_talks_over_unix_sockets_in_a_private_folder_removed_after_the_notebook(tmp_path):
    write_course_notebook(tmp_path / "notebooks", "01_sockets", "profile = None\noutput_dir = None",
                          "from ipykernel.kernelapp import IPKernelApp\n"
                          "from fmnist_helpers.base.results import ResultsRecord\n"
                          "ResultsRecord.start(output_dir, '01_sockets', params={'profile': profile}).finish()\n"
                          "app = IPKernelApp.instance()\n"
                          "print(app.transport, app.ip)")
    run_course("smoke", notebook_dir=tmp_path / "notebooks", output_dir=tmp_path / "build", report=_quiet,
               progress=False)
    executed = nbformat.read(tmp_path / "build" / "01_sockets.ipynb", as_version=4)
    transport, ip = executed.cells[-1].outputs[0].text.split()
    assert transport == "ipc" and os.path.basename(os.path.dirname(ip)).startswith("fmnist-kernel-")
    assert not os.path.exists(os.path.dirname(ip))


@pytest.mark.slow
def test_cli_reports_a_failure_with_exit_code_1(tiny_course, capsys, monkeypatch):
    monkeypatch.setattr("fmnist_helpers.course.runner.notebooks_dir", lambda: tiny_course[0])
    assert main(["run", "--profile", "smoke", "--output-dir", str(tiny_course[1]), "-p", "x=13", "--no-progress"]) == 1
    assert "error: 01_tiny.ipynb failed in cell" in capsys.readouterr().err


def test_cli_rejects_an_unknown_profile():
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--profile", "turbo"])
    assert exit_info.value.code == 2


def test_cli_tidy_check_passes_on_the_stored_notebooks(capsys):
    assert main(["tidy", "--check"]) == 0 and capsys.readouterr().out == ""


# ----------------------------------------------------------------- the real notebooks under papermill

@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory):
    """Notebooks 00 and 02 executed by the course runner on MNIST, smoke profile (01's MNIST figures are checked on
    the run tests/test_prose.py makes of it)."""
    out = tmp_path_factory.mktemp("course-mnist")
    outcomes = run_course("smoke", only=["00", "02"], params={"dataset": "mnist"}, output_dir=out,
                          report=_quiet, progress=False)
    for o in outcomes:
        record_notebook_time(f"papermill: {o.notebook} (dataset=mnist)", o.wall_s)
    return out, outcomes


@pytest.mark.slow
def test_papermill_run_on_mnist_records_the_study_split_sizes(mnist_run):
    fig = load_results(mnist_run[0], "02_preprocessing")["figures"]
    assert fig["splits"] == {"wits": {"train": 48000, "validation": 12000, "test": 10000},
                             "uw": {"train": 55000, "validation": 5000, "test": 10000},
                             "kh": {"train": 60000, "validation": 10000, "test": 10000}}
    assert fig["folds"] == [{"train": 40000, "validation": 20000, "test": 10000}] * 3
    assert fig["model_input_shape"] == [28, 28, 1] and fig["batches_per_epoch"] == 375
    assert fig["leak_free"] is True and fig["test_duplicates_in_train"] == 0
    # the stratified wits hold-out keeps MNIST's class proportions: 20% of each class
    assert list(fig["val_class_counts_wits"].values()) == pytest.approx(
        list(np.array(MNIST_TRAIN_COUNTS) * 0.2), abs=1)


@pytest.mark.slow
def test_papermill_run_writes_html_and_an_index(mnist_run):
    out, _ = mnist_run
    index = (out / "index.html").read_text()
    for stem in ("00_primer", "02_preprocessing"):
        assert (out / f"{stem}.html").stat().st_size > 100_000  # figures are embedded
        assert f'href="{stem}.html"' in index


@pytest.mark.slow
def test_the_index_keeps_notebooks_from_earlier_runs(mnist_run):
    out, _ = mnist_run
    run_course("smoke", only=["02"], params={"dataset": "mnist"}, output_dir=out, report=_quiet, progress=False)
    index = (out / "index.html").read_text()
    assert 'href="00_primer.html"' in index and 'href="02_preprocessing.html"' in index


@pytest.mark.slow
def test_a_second_run_skips_the_executed_notebooks(mnist_run):
    out, _ = mnist_run
    again = run_course("smoke", only=["00", "02"], params={"dataset": "mnist"}, output_dir=out, report=_quiet,
                       progress=False)
    assert [o.status for o in again] == ["skipped", "skipped"]


@pytest.mark.slow
def test_the_tuning_study_refuses_an_unknown_pack_space_before_it_trains_anything(tmp_path):
    with pytest.raises(CourseRunError) as err:
        run_course("smoke", only=["s05"], params={"pack_space": "vgg"}, output_dir=tmp_path, report=_quiet,
                   progress=False)
    assert "pack_space='vgg' is not accepted; choose one of: 'pack', 'pack-wide'" in str(err.value)
    assert not (tmp_path / "models").exists() and not (tmp_path / "searches").exists()


@pytest.mark.slow
def test_a_wrong_dataset_stops_the_notebook_with_the_accepted_values(tmp_path):
    with pytest.raises(CourseRunError) as err:
        run_course("smoke", only=["01"], params={"dataset": "cifar10"}, output_dir=tmp_path, report=_quiet,
                   progress=False)
    message = str(err.value)
    assert "01_exploration.ipynb failed in cell" in message
    assert "dataset='cifar10' is not accepted; choose one of: 'fashion_mnist', 'mnist'" in message
