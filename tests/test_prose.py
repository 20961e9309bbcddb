"""The prose of every notebook holds on MNIST as well as Fashion-MNIST.

Each notebook (the instructor edition, solutions included) runs in the smoke profile with dataset=mnist;
every claim it records must follow from its inputs and agree with the figures recorded beside it, every claim
must be shown, every figure must carry alt text, and no figure may show a fault the figure lint reads back from it
(a legend over data, bars not from 0, ticks between epochs). The same checks run on Fashion-MNIST in
`test_editions.py` (the student edition, which shares all lecture cells).
"""
import copy
import os
import time
from dataclasses import asdict

import nbformat
import papermill
import pytest

from fmnist_helpers.analysis import claims
from fmnist_helpers.course.notebooks import course_notebooks
from fmnist_helpers.base.paths import build_dir, notebooks_dir
from fmnist_helpers.course.pytest_plugin import record_notebook_time
from fmnist_helpers.base.results import load_results
from fmnist_helpers.course.prose import (claim_problems, figure_faults, figure_lint_ipython_dir,
                                         figures_without_alt_text, linting_kernels, start_up_noise, unshown_claims)

NOTEBOOKS = course_notebooks(notebooks_dir())
MNIST_RUN = build_dir("smoke").with_name("smoke-mnist")  # shared, so later notebooks reuse earlier results
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]  # the IDX files' labels, per digit
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _record_with(*made):
    record = {"figures": {"models": {"a": {"test_accuracy": 0.9}, "b": {"test_accuracy": 0.8}}, "claims": {}}}
    for claim in made:
        record["figures"]["claims"][claim.name] = asdict(claim)
    return record


def test_a_judgment_its_inputs_support_passes():
    record = _record_with(claims.best("top", {"a": 0.9, "b": 0.8}, what="model", source="models.{}.test_accuracy",
                                      n=1_000),
                          claims.unpaired("c", ("a", 0.9, 1_000), ("b", 0.8, 1_000)),
                          claims.rising("r", {"1": 0.5, "2": 0.6}, what="accuracy"))
    assert claim_problems(record) == []


def test_a_judgment_that_contradicts_its_inputs_is_caught():
    record = _record_with(claims.unpaired("c", ("a", 0.9, 1_000), ("b", 0.8, 1_000)))
    record["figures"]["claims"]["c"]["value"] = "consistent"
    problems = claim_problems(record)
    assert "c: says 'consistent', its inputs give 'above'" in problems
    assert any("does not state its value 'consistent'" in p for p in problems)


def test_two_verdicts_on_one_pair_that_disagree_are_caught():
    record = _record_with(claims.unpaired("by_scores", ("a", 0.9, 100), ("b", 0.85, 100)),
                          claims.seeds("by_seeds", ("b", [0.80, 0.81, 0.80]), ("a", [0.90, 0.91, 0.92])))
    assert record["figures"]["claims"]["by_scores"]["value"] == "consistent"
    assert claim_problems(record) == ["by_seeds and by_scores judge b against a differently: 'below' and 'consistent'"]


def test_one_pair_judged_on_two_measures_may_get_two_verdicts():
    record = _record_with(claims.unpaired("on_mnist", ("a", 0.9, 1_000), ("b", 0.8, 1_000), what="accuracy on MNIST"),
                          claims.unpaired("on_fashion", ("a", 0.8, 1_000), ("b", 0.8, 1_000),
                                          what="accuracy on Fashion-MNIST"))
    assert claim_problems(record) == []


def test_the_same_verdict_from_either_side_of_a_pair_passes():
    record = _record_with(claims.unpaired("one", ("a", 0.9, 1_000), ("b", 0.8, 1_000)),
                          claims.unpaired("other", ("b", 0.8, 1_000), ("a", 0.9, 1_000)))
    assert claim_problems(record) == []


def test_a_ranking_that_names_a_result_at_chance_is_caught():
    record = _record_with(claims.best("top", {"a": 0.105, "b": 0.101}, what="model", n=1_000))
    record["figures"]["claims"]["top"]["value"] = "a"
    assert "top: ranks a (0.105), which is at or below chance" in claim_problems(record)


def test_a_ranking_of_test_accuracies_without_the_number_of_images_is_caught():
    record = _record_with(claims.best("top", {"a": 0.9, "b": 0.8}, what="model", source="models.{}.test_accuracy"))
    assert claim_problems(record) == ["top: ranks test accuracies without the number of images, so chance is not "
                                      "checked"]


def test_inputs_that_differ_from_the_recorded_figures_are_caught():
    record = _record_with(claims.best("top", {"a": 0.95, "b": 0.8}, what="model", source="models.{}.test_accuracy",
                                      n=1_000))
    assert claim_problems(record) == ["top: input a=0.95 but the record's models.a.test_accuracy is 0.9"]


def test_a_figure_without_alt_text_is_caught():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("plots.sample_grid(x, y, names);")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBOR", "text/plain": "<Figure>"})]
    nb.cells = [cell, copy.deepcopy(cell)]
    nb.cells[1].metadata["alt"] = "A grid of sample images with their class names."
    assert figures_without_alt_text(nb) == ["plots.sample_grid(x, y, names);"]


def test_a_figure_fault_the_kernel_wrote_under_a_figure_is_caught():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("plots.accuracy_bars(table, title='t');")
    text = "<Figure size 900x380 with 1 Axes>\nfigure lint: bar_axis_from_zero: the bars of 't' start at 0.8, not 0"
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBOR", "text/plain": text})]
    nb.cells = [cell]
    assert figure_faults(nb) == ["plots.accuracy_bars(table, title='t');: figure lint: bar_axis_from_zero: the bars "
                                 "of 't' start at 0.8, not 0"]


@pytest.mark.slow
def test_the_kernel_start_up_file_writes_each_figure_fault_under_its_figure(tmp_path, monkeypatch):
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.setenv("IPYTHONDIR", str(figure_lint_ipython_dir(tmp_path / "ipython")))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in (
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.scatter([0.05, 0.5], [0.95, 0.5], label='p')\n"
        "ax.set_xlim(0, 1); ax.set_ylim(0, 1)\nax.legend(loc='upper left');",    # shown when the cell ends
        "fig, ax = plt.subplots()\nax.plot([1, 2, 3], [1, 2, 3])\nax.set_xlabel('epoch')\nplt.show()",  # shown at once
        "fig, ax = plt.subplots()\nax.plot([1, 2, 3], [1, 2, 3])\nax.set_xticks([1, 2, 3])\nax.set_xlabel('epoch');")]
    nbformat.write(nb, tmp_path / "in.ipynb")
    papermill.execute_notebook(str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"), progress_bar=False,
                               kernel_name="python3")
    faults = figure_faults(nbformat.read(tmp_path / "out.ipynb", as_version=4))
    assert [f.split("figure lint: ")[1].split(":")[0] for f in faults] == ["legend_over_data", "whole_epoch_ticks"]


_EXECUTED: dict[str, tuple[nbformat.NotebookNode, dict]] = {}  # this module's runs on MNIST, by notebook stem


def _run_on_mnist(path, monkeypatch, tmp_path) -> tuple[nbformat.NotebookNode, dict]:
    """The notebook executed once in this module, in smoke on MNIST, as a student's kernel would run it; later tests
    that need the same run read it from here instead of executing it again."""
    if path.stem in _EXECUTED:
        return _EXECUTED[path.stem]
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend, so figures reach the notebook
    monkeypatch.setenv("IPYTHONDIR", str(figure_lint_ipython_dir(tmp_path / "ipython")))  # lint every figure shown
    monkeypatch.delenv("PYTEST_CURRENT_TEST")  # outside pytest ipykernel copies fd 2 into the cells, as for a student
    executed = MNIST_RUN / path.name
    MNIST_RUN.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    papermill.execute_notebook(str(path), str(executed), cwd=str(path.parent), progress_bar=False,
                               parameters={"profile": "smoke", "dataset": "mnist", "output_dir": str(MNIST_RUN)})
    record_notebook_time(f"papermill: {path.stem} on MNIST", time.perf_counter() - started)
    _EXECUTED[path.stem] = nbformat.read(executed, as_version=4), load_results(MNIST_RUN, path.stem)
    return _EXECUTED[path.stem]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_notebook_tells_the_truth_on_mnist(path, monkeypatch, tmp_path):
    nb, record = _run_on_mnist(path, monkeypatch, tmp_path)
    assert record["complete"] and record["params"]["dataset"] == "mnist"
    assert claim_problems(record) == []
    assert unshown_claims(record, nb) == []
    assert figures_without_alt_text(nb) == []
    assert figure_faults(nb) == []
    assert start_up_noise(nb) == []


@pytest.mark.slow
def test_exploration_on_mnist_records_mnists_class_counts_and_pixel_mean(monkeypatch, tmp_path):
    _, record = _run_on_mnist(notebooks_dir() / "01_exploration.ipynb", monkeypatch, tmp_path)
    assert record["complete"] and record["params"] == {**record["params"], "dataset": "mnist", "profile": "smoke"}
    fig = record["figures"]
    assert list(fig["class_counts_train"].values()) == MNIST_TRAIN_COUNTS
    assert list(fig["class_counts_test"].values()) == MNIST_TEST_COUNTS
    assert fig["image_shape"] == [28, 28] and round(fig["pixel_mean_train"], 4) == 0.1307
    assert fig["nearest_mean_accuracy"]["mnist"] > fig["nearest_mean_accuracy"]["fashion_mnist"]


def test_kernels_started_inside_linting_kernels_lint_and_draw_inline_and_the_environment_comes_back(tmp_path,
                                                                                                  monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("IPYTHONDIR", raising=False)
    with linting_kernels(tmp_path / "ipython") as folder:
        assert os.environ["IPYTHONDIR"] == str(folder)
        assert (folder / "profile_default" / "startup" / "00-figure-lint.py").is_file()
        assert "MPLBACKEND" not in os.environ
    assert os.environ["MPLBACKEND"] == "Agg" and "IPYTHONDIR" not in os.environ
