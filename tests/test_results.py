import json

import numpy as np
import pytest

from fmnist_helpers.base.results import ResultsRecord, load_results, results_path, to_jsonable


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
