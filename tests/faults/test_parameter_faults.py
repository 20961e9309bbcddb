"""Faults in notebook parameters and on the command line: each stops with one clear line, and nothing is lost.

- A notebook checks all its parameters before it opens its results record, so a rejected run leaves the
  previous results as they were; only None means "the default" (0 is a value, and checked).
- A parameter papermill injects but the notebook does not declare (a typo) stops the notebook.
- `data_dir` must be an existing folder.
- `tidy` names a notebook it cannot read, and writes atomically; `search` names the accepted precisions.
"""
import ast
import os
import time

import nbformat
import papermill
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from fmnist_helpers.data import datasets as data
from fmnist_helpers.course.cli import main
from fmnist_helpers.course.context import check_injected_parameters, start_notebook
from fmnist_helpers.course.notebooks import course_notebooks
from fmnist_helpers.base.params import ParameterError, resolve_choice, resolve_int
from fmnist_helpers.base.paths import notebooks_dir
from fmnist_helpers.course.pytest_plugin import record_notebook_time
from fmnist_helpers.base.results import ResultsRecord, results_path
from fmnist_helpers.course.runner import declared_parameters

NOTEBOOKS = course_notebooks(notebooks_dir())
PREPROCESSING = notebooks_dir() / "02_preprocessing.ipynb"
ACCEPTED_02 = "accepted: profile, dataset, seed, data_dir, output_dir, val_size, n_folds, batch_size"


def _run_02(out, **params):
    """Execute notebook 02 in smoke into `out`; returns papermill's execution error (None if it ran through)."""
    started = time.perf_counter()
    try:
        papermill.execute_notebook(str(PREPROCESSING), str(out / "02.ipynb"), cwd=str(PREPROCESSING.parent),
                                   parameters={"profile": "smoke", "output_dir": str(out), **params},
                                   progress_bar=False)
    except papermill.PapermillExecutionError as err:
        return err
    finally:
        record_notebook_time(f"papermill: 02_preprocessing (-p {', '.join(params)})", time.perf_counter() - started)
    return None


def _setup_cell(nb) -> tuple[int, ast.Module]:
    """The index and parsed source of the cell that calls start_notebook."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "start_notebook(" in cell.source:
            return i, ast.parse(cell.source)
    raise AssertionError("no cell calls start_notebook")


def _called_names(tree) -> set[str]:
    return {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}


# ----------------------------------------------------------------- papermill parameters (notebook 02, smoke)

@pytest.mark.slow
def test_an_unknown_papermill_parameter_stops_the_notebook(tmp_path):
    err = _run_02(tmp_path, val_sise=1000)
    assert err is not None, "the notebook ran on with the default val_size"
    assert err.ename == "ParameterError"
    assert "unknown parameter(s) val_sise" in err.evalue and ACCEPTED_02 in err.evalue


@pytest.mark.slow
def test_a_rejected_run_leaves_the_previous_results_byte_for_byte(tmp_path):
    previous = ResultsRecord.start(tmp_path, "02_preprocessing", params={"profile": "smoke"})
    previous.record(val_size=12_000)
    previous.finish()
    before = results_path(tmp_path, "02_preprocessing").read_bytes()
    err = _run_02(tmp_path, data_dir=str(tmp_path / "nowhere"))
    assert err is not None and err.ename == "ParameterError" and "nowhere" in err.evalue
    assert results_path(tmp_path, "02_preprocessing").read_bytes() == before


# ----------------------------------------------------------------- the notebooks' setup cells, read statically

@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_parameter_is_checked_after_the_results_record_is_opened(path):
    nb = nbformat.read(path, as_version=4)
    index, tree = _setup_cell(nb)
    start = next(i for i, stmt in enumerate(tree.body) if "start_notebook" in _called_names(stmt))
    later = [*tree.body[start + 1:], *(ast.parse(c.source) for c in nb.cells[index + 1:] if c.cell_type == "code")]
    late_checks = {name for stmt in later for name in _called_names(stmt) if name.startswith(("check_", "resolve_"))}
    assert late_checks == set(), f"checked after start_notebook: {sorted(late_checks)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_notebook_turns_a_falsy_parameter_into_its_default(path):
    declared = set(declared_parameters(path))
    _, tree = _setup_cell(nbformat.read(path, as_version=4))
    defaulted_with_or = {node.values[0].id for node in ast.walk(tree)
                         if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or)
                         and isinstance(node.values[0], ast.Name) and node.values[0].id in declared}
    assert defaulted_with_or == set(), f"`{sorted(defaulted_with_or)} or default` hides 0 and ''"


# ----------------------------------------------------------------- the checks themselves

def test_zero_seeds_is_rejected_with_the_accepted_range():
    with pytest.raises(ParameterError, match="n_seeds=0 is not accepted; it must be an integer from 1 to 20"):
        resolve_int("n_seeds", 0, 1, 20, default=2)


def test_only_none_means_the_default():
    assert resolve_int("cv_folds", None, 2, 10, default=3) == 3
    assert resolve_choice("grid_size", None, ["full", "slice"], default="slice") == "slice"
    with pytest.raises(ParameterError, match="grid_size='' is not accepted; choose one of: 'full', 'slice'"):
        resolve_choice("grid_size", "", ["full", "slice"], default="slice")


def test_injected_names_the_notebook_does_not_declare_are_named_with_the_accepted_ones():
    injected = "# Parameters\nprofile = \"smoke\"\nval_sise = 1000\nn_fold = 2\n"
    with pytest.raises(ParameterError, match=r"unknown parameter\(s\) val_sise, n_fold: .*; accepted: profile, "
                                             r"val_size, n_folds$"):
        check_injected_parameters(["profile", "val_size", "n_folds"], inputs=["import numpy", injected])


def test_the_notebooks_own_parameters_cell_is_not_taken_for_an_injected_one():
    own = "# Parameters: papermill and the course runner override these.\nprofile = None\nlocal_knob = 1\n"
    check_injected_parameters(["profile"], inputs=[own])


def test_a_data_dir_that_is_no_folder_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ParameterError, match=r"data_dir='.*nowhere' is not accepted: .*nowhere does not exist; "
                                             r"give an existing folder"):
        start_notebook("01_demo", profile="smoke", data_dir=tmp_path / "nowhere", output_dir=tmp_path)
    assert not (tmp_path / "results").exists()


# ----------------------------------------------------------------- the command line

def _dirty_notebook(path):
    """A notebook whose unchecked cell stores an output, so `tidy` has something to change."""
    params = new_code_cell("x = 1")
    params.metadata["tags"] = ["parameters"]
    cell = new_code_cell("print(1)", execution_count=3,
                         outputs=[new_output("stream", name="stdout", text="1\n")])
    nbformat.write(new_notebook(cells=[params, cell]), path)
    return path


@pytest.mark.parametrize("check", [False, True], ids=["tidy", "tidy --check"])
def test_tidy_names_a_notebook_it_cannot_read(tmp_path, capsys, check):
    bad = tmp_path / "01_broken.ipynb"
    bad.write_text('{"cells": [', encoding="utf-8")
    assert main(["tidy", *(["--check"] if check else []), str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {bad}: cannot be read as a notebook (") and "\n" not in err


def test_tidy_interrupted_mid_write_leaves_the_notebook_intact(tmp_path, monkeypatch, capsys):
    path = _dirty_notebook(tmp_path / "01_demo.ipynb")
    before = path.read_bytes()

    def crash(fd):
        raise OSError("simulated crash mid-write")

    monkeypatch.setattr(os, "fsync", crash)
    assert main(["tidy", str(path)]) == 1
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01_demo.ipynb"]  # no temporary file left behind
    assert f"error: {path}: could not be written (simulated crash mid-write)" in capsys.readouterr().err


def test_search_names_the_accepted_precisions(monkeypatch, capsys):
    def no_data(*args, **kwargs):
        raise AssertionError("a bad --precision must be refused before any data is loaded")

    monkeypatch.setattr(data, "load_dataset", no_data)
    assert main(["search", "--space", "wits", "--strategy", "random", "--precision", "fp8"]) == 2
    assert ("precision 'fp8' is not accepted; choose one of: auto, float32, mixed_bfloat16, mixed_float16"
            in capsys.readouterr().err)
