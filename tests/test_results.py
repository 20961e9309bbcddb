"""The results record of a notebook, and the contract of the keys other code reads back from it."""
import ast
import inspect
import json
from pathlib import Path

import nbformat
import numpy as np
import pytest

from fmnist_helpers.analysis import evaluation
from fmnist_helpers.base import results
from fmnist_helpers.base.results import (
    READERS, ROW_OPTIONAL, WRITERS, Env, Figure, Record, ResultsRecord, Row, dataset_of, load_results, results_path,
    to_jsonable,
)
from fmnist_helpers.course import report, runner
from fmnist_helpers.course.notebooks import course_notebooks
from fmnist_helpers.studies import comparison

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CONTRACT = {str(key) for keys in (Record, Env, Figure, Row) for key in keys}


def test_record_is_written_at_start_and_after_every_update(tmp_path):
    rec = ResultsRecord.start(tmp_path, "01_exploration", params={"profile": "smoke"})
    on_disk = json.loads(results_path(tmp_path, "01_exploration").read_text())
    assert on_disk["complete"] is False and on_disk["figures"] == {} and on_disk["params"] == {"profile": "smoke"}
    rec.record(n_train=np.int64(60000), counts=np.array([1, 2]))
    assert load_results(tmp_path, "01_exploration")["figures"] == {"n_train": 60000, "counts": [1, 2]}


def test_finish_marks_the_record_complete_with_its_wall_time(tmp_path):
    rec = ResultsRecord.start(tmp_path, "02_preprocessing")
    rec.finish()
    data = load_results(tmp_path, "02_preprocessing")
    assert data["complete"] is True and data["wall_time_s"] >= 0


def test_a_new_run_replaces_the_old_record(tmp_path):
    ResultsRecord.start(tmp_path, "01_exploration").record(stale=1)
    ResultsRecord.start(tmp_path, "01_exploration")
    assert "stale" not in load_results(tmp_path, "01_exploration")["figures"]


def test_writes_leave_no_temporary_files(tmp_path):
    rec = ResultsRecord.start(tmp_path, "nb")
    for i in range(3):
        rec.record(step=i)
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["nb.json"]


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    rec = ResultsRecord.start(tmp_path, "nb")
    rec.record(good=1)
    with pytest.raises(TypeError, match="cannot record a value of type object"):
        rec.record(bad=object())
    assert load_results(tmp_path, "nb")["figures"] == {"good": 1}


def test_jsonable_converts_numpy_tuples_and_non_finite_numbers():
    assert to_jsonable({"a": (np.float32(0.5), np.nan), 3: np.bool_(True)}) == {"a": [0.5, None], "3": True}


def test_missing_results_say_which_notebook_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="no results for notebook '03_mlp'.*run that notebook first"):
        load_results(tmp_path, "03_mlp")


@pytest.mark.parametrize("name", ["", "../escape", ".hidden", "a/b"])
def test_notebook_names_must_be_plain(tmp_path, name):
    with pytest.raises(ValueError, match="plain name"):
        results_path(tmp_path, name)


def test_a_new_record_holds_every_key_of_the_record_and_finish_adds_the_wall_time(tmp_path):
    rec = ResultsRecord.start(tmp_path, "nb", environment={Env.CPU_COUNT: 2})
    assert set(load_results(tmp_path, "nb")) == set(Record) - {Record.WALL_TIME}
    rec.finish()
    on_disk = load_results(tmp_path, "nb")
    assert set(on_disk) == set(Record) and on_disk[Record.ENVIRONMENT] == {"cpu_count": 2}


def test_the_dataset_of_a_record_is_its_parameter_else_fashion_mnist():
    assert dataset_of({Record.PARAMS: {results.DATASET_PARAM: "mnist"}}) == "mnist"
    assert dataset_of({Record.PARAMS: {}}) == dataset_of({}) == "fashion_mnist"


# ----------------------------------------------------------------- the contract: readers

def test_every_key_a_reader_lists_is_defined_by_the_contract():
    listed = {str(key) for keys in READERS.values() for key in keys}
    assert listed <= CONTRACT


def _keys_read(node: ast.AST) -> set[str]:
    """String keys read in `node`: `x["key"]` (not assignments) and `x.get("key", ...)`."""
    found = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Subscript) and isinstance(sub.ctx, ast.Load) and isinstance(sub.slice, ast.Constant):
            found.add(sub.slice.value)
        if (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "get"
                and sub.args and isinstance(sub.args[0], ast.Constant)):
            found.add(sub.args[0].value)
    return {key for key in found if isinstance(key, str)}


@pytest.mark.parametrize("reader", [report, comparison, runner.record_problem], ids=lambda r: r.__name__)
def test_the_report_runner_and_comparison_spell_no_result_key_by_hand(reader):
    spelled = _keys_read(ast.parse(inspect.getsource(reader)))
    assert not spelled & CONTRACT, f"use the constants of base.results for {sorted(spelled & CONTRACT)}"


def test_the_key_scan_finds_a_result_key_spelled_by_hand():
    assert _keys_read(ast.parse('r.get("figures")["reproduction"]; r["figures"] = 1')) == {"figures", "reproduction"}


# ----------------------------------------------------------------- the contract: writers

def _recorded_names(notebook: Path) -> set[str]:
    """The keyword names of every `run.results.record(...)` call in a notebook's code cells."""
    names = set()
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(code)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record"
                    and ast.unparse(node.func.value) == "run.results"):
                names |= {kw.arg for kw in node.keywords if kw.arg}
    return names


@pytest.mark.parametrize("notebook", sorted(WRITERS))
def test_each_notebook_records_the_figures_its_readers_need(notebook):
    path = {p.stem: p for p in course_notebooks(NOTEBOOKS)}[notebook]
    missing = set(WRITERS[notebook]) - _recorded_names(path)
    assert not missing, f"{notebook} no longer records {sorted(missing)}"


def test_every_figure_a_reader_lists_has_a_notebook_that_writes_it():
    read = {key for keys in READERS.values() for key in keys if key in set(Figure)}
    written = {key for keys in WRITERS.values() for key in keys} | {Figure.CLAIMS}  # claims.show writes the claims
    assert read <= written


def test_the_reproduction_table_of_notebooks_03_and_04_has_the_columns_the_report_reads():
    record = {"name": "uw_mlp", "study": "uw", "kind": "mlp", "reported_params": None, "parameters": 1,
              "reported": {"test_accuracy": 0.8939}, "test_accuracy": 0.9, "n_test": 10_000, "epochs_run": 1,
              "train_time_s": 1.0}
    columns = set(evaluation.reproduction_table([record]).reset_index().columns)
    assert set(Row) - ROW_OPTIONAL <= columns
