"""The GPU course estimate: which notebook each training belongs to, how a timed setting turns into a training's
seconds, and that the recorded job list and the recorded GPU timings fit together.

Usage:
    .venv/bin/python -m pytest tests/test_bench_gpu_course.py -q
"""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from conftest import BENCHMARKS, load_benchmark
from fmnist_helpers.models.registry import MODELS

RECORDED_TIMINGS = BENCHMARKS / "recorded" / "gpu_course_h200_2026-11-27.csv"


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_gpu_course")


def _record(name: str, key: str, kind: str, epochs_run: int = 3, batch: int = 128) -> dict:
    recipe = {"batch_size": batch, "augment": False, "shift": 0.08, "one_hot": False, "label_smoothing": 0.0,
              "optimizer": "adam", "learning_rate": 1e-3, "schedule": "constant", "epochs": 5}
    return {"name": name, "key": key, "kind": kind, "recipe": recipe, "steps_per_execution": 32, "n_train": 1000,
            "n_val": 200, "epochs_run": epochs_run, "train_time_s": 12.0, "epoch_times_s": [6.0, 3.0, 3.0],
            "precision": "mixed_bfloat16", "test_accuracy": 0.8, "flip_tta": False}


def _run_dir(root, notebooks: list[str], records: list[dict], search: dict | None = None):
    root.mkdir()
    (root / "runs.json").write_text(json.dumps({n: {"status": "ran"} for n in notebooks}))
    (root / "models").mkdir()
    for r in records:
        (root / "models" / f"{r['name']}.json").write_text(json.dumps(r))
    if search:
        (root / "searches" / "wits-hyperband-abc").mkdir(parents=True)
        (root / "searches" / "wits-hyperband-abc" / "summary.json").write_text(json.dumps(search))
    return root


def test_a_run_of_notebooks_03_and_04_files_its_mlps_under_03_and_its_cnns_under_04(bench, tmp_path):
    run = _run_dir(tmp_path / "r", ["03_mlp", "04_cnn"], [_record("kh_ann", "kh_ann", "mlp"),
                                                          _record("kh_cnn", "kh_cnn", "cnn")])
    jobs = {j["name"]: j["notebook"] for j in bench.read_jobs([run])["jobs"]}
    assert jobs == {"kh_ann": "03_mlp", "kh_cnn": "04_cnn"}


def test_a_one_notebook_run_files_every_training_under_that_notebook_with_its_dataset(bench, tmp_path):
    run = _run_dir(tmp_path / "r", ["06_ann_vs_cnn"], [_record("kh_cnn-mnist-seed43", "kh_cnn", "cnn")])
    [job] = bench.read_jobs([run])["jobs"]
    assert (job["notebook"], job["dataset"], job["cpu_epoch_s"]) == ("06_ann_vs_cnn", "mnist", 3.0)


def test_a_search_is_listed_with_the_training_that_scales_it(bench, tmp_path):
    plan = {"space": "wits", "strategy": "hyperband"}
    run = _run_dir(tmp_path / "r", ["05_tuning"], [_record("wits_tuned", "wits_tuned", "cnn")],
                   {"plan": plan, "trials": 4, "n_train": 1000, "wall_s": 100.0})
    [search] = bench.read_jobs([run])["searches"]
    assert (search["notebook"], search["scaled_by"], search["cpu_s"], search["trials"]) == (
        "05_tuning", "wits_tuned", 100.0, 4)


def test_a_folder_that_is_not_a_course_run_is_refused_with_what_to_give(bench, tmp_path):
    with pytest.raises(SystemExit, match="no runs.json.*--output-dir"):
        bench.read_jobs([tmp_path])


def test_a_training_counts_its_first_epoch_once_and_the_rest_at_the_steady_speed_for_its_images(bench):
    job = {"n_train": 2000, "epochs_run": 5}
    timing = {"first_epoch_s": 10.0, "epoch_s": 0.5, "predict_s": 1.0, "n_train": 1000}
    assert bench.estimate(job, timing) == pytest.approx(10.0 + 4 * 1.0 + 1.0)


def test_a_search_costs_its_cpu_seconds_over_the_speed_up_plus_one_compilation_per_trial(bench):
    train = {"notebook": "05_tuning", "name": "wits_tuned", "key": "wits_tuned", "batch_size": 128, "n_train": 1000,
             "n_val": 200, "augment": False, "shift": 0.08, "flip_tta": False, "steps_per_execution": 32,
             "epochs_run": 3, "cpu_train_s": 12.0, "cpu_epoch_s": 4.0}
    jobs_file = {"notebook_cpu_s": {"05_tuning": 200.0}, "jobs": [train],
                 "searches": [{"notebook": "05_tuning", "trials": 4, "cpu_s": 100.0, "scaled_by": "wits_tuned"}]}
    timings = {bench.setting(train): {"first_epoch_s": 3.0, "epoch_s": 1.0, "predict_s": 0.5, "n_train": 1000}}
    [row] = bench.summarise(jobs_file, timings)
    assert row["gpu_search_s"] == pytest.approx(100.0 / 4 + 4 * 2.0)
    assert row["gpu_train_s"] == pytest.approx(3.0 + 2 * 1.0 + 0.5)
    assert row["cpu_rest_s"] == pytest.approx(200.0 - 12.0 - 100.0)


def test_the_tuned_models_are_timed_as_the_registry_models_their_spaces_are_built_around(bench):
    for tuned, stand_in in bench.STAND_INS.items():
        assert tuned not in MODELS and stand_in in MODELS
        assert bench.setting({"key": tuned, "batch_size": 1, "n_train": 1, "n_val": 1, "augment": False,
                              "shift": 0.0, "flip_tta": False, "steps_per_execution": 1})[0] == stand_in


def test_every_recorded_training_is_built_from_the_registry_and_every_notebook_that_trains_has_some(bench):
    jobs_file = json.loads(bench.RECORDED_JOBS.read_text())
    assert {bench.setting(j)[0] for j in jobs_file["jobs"]} <= set(MODELS)
    assert {j["notebook"] for j in jobs_file["jobs"]} == {"03_mlp", "04_cnn", "05_tuning", "06_ann_vs_cnn"}
    assert set(jobs_file["notebook_cpu_s"]) == set(bench.NOTEBOOK_CPU_S)
    assert {s["scaled_by"] for s in jobs_file["searches"]} <= {j["key"] for j in jobs_file["jobs"]}


def test_the_recorded_gpu_timings_are_settings_of_the_recorded_job_list(bench):
    jobs_file = json.loads(bench.RECORDED_JOBS.read_text())
    timings = bench.read_settings([RECORDED_TIMINGS])
    assert timings and set(timings) <= {bench.setting(j) for j in jobs_file["jobs"]}
    with RECORDED_TIMINGS.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(timings)  # no setting timed twice
    left_out = bench.untimed(jobs_file, timings)
    assert all(j["name"] in {"pack_cnn", "aueb_cnn1"} for j in left_out)  # what benchmarks/README says is missing


def test_a_setting_whose_validation_does_not_fit_beside_it_still_trains_on_all_its_images(bench):
    rng = np.random.default_rng(0)
    x = rng.random((64, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 64).astype("int32")
    job = {"key": "kh_ann", "batch_size": 16, "n_train": 64, "n_val": 16, "augment": False, "shift": 0.0,
           "flip_tta": False, "steps_per_execution": 1, "optimizer": "adam", "learning_rate": 1e-3, "epochs": 2,
           "one_hot": False, "label_smoothing": 0.0, "schedule": "constant"}
    t = bench.time_training(job, (x, y, x[:16], y[:16]), epochs=2)  # 64 + 16 > 64: validates on the test images
    assert t["n_train"] == 64 and t["first_epoch_s"] > 0 and t["epoch_s"] > 0
    assert 0.0 <= t["test_accuracy"] <= 1.0
