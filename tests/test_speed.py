"""The recorded speed benchmark: the file notebook 04 reads, its label and tables, and what a bad file says.

Usage:
    .venv/bin/python -m pytest tests/test_speed.py -q
"""
from __future__ import annotations

import json

import pytest

from fmnist_helpers.studies import speed


def _record(**changes):
    rec = {"format": 1, "date": "2026-11-26", "commit": "0123456789abcdef with uncommitted changes",
           "command": "benchmarks/bench_time_to_accuracy.py --candidates pack_cnn_fast", "machine": "2-core x86_64 CPU",
           "seeds": [42, 43, 44],
           "candidates": [
               {"candidate": "pack_cnn", "epochs": 8, "seeds": 3, "median_train_s": 160.0, "mean_plain": 0.921,
                "mean_tta": 0.924, "time_ratio_vs_baseline": 1.0, "accuracy_change_points": 0.0},
               {"candidate": "pack_cnn_fast", "epochs": 9, "seeds": 3, "median_train_s": 176.0, "mean_plain": 0.936,
                "mean_tta": 0.939, "time_ratio_vs_baseline": 1.1, "accuracy_change_points": 1.5}],
           "runs": [{"candidate": "pack_cnn", "seed": 42, "epochs": 8, "train_time_s": 160.0,
                     "plain_test_accuracy": 0.921, "tta_test_accuracy": 0.924, "images_per_second": 2700.0}]}
    rec.update(changes)
    return rec


def test_the_label_names_date_short_commit_machine_seeds_and_command():
    text = speed.label(_record())
    assert "2026-11-26" in text and "commit 0123456 with uncommitted changes" in text
    assert "2-core x86_64 CPU" in text and "seeds 42-44" in text and "--candidates pack_cnn_fast" in text


def test_the_label_gives_the_measured_ceiling_so_records_from_different_machines_can_be_told_apart():
    text = speed.label(_record(ceiling={"dtype": "bfloat16", "conv_gflops": 1327.4}))
    assert "bfloat16 convolution ceiling measured at 1,327 GFLOP/s" in text
    assert "ceiling" not in speed.label(_record())  # an older record without one still reads


def test_a_fork_without_a_record_reads_none_and_is_told_how_to_make_one(tmp_path):
    assert speed.record(tmp_path / "absent.json") is None
    assert "--record" in speed.label(None)


def test_a_record_missing_keys_is_refused_with_their_names(tmp_path):
    path = tmp_path / "bad.json"
    rec = _record()
    del rec["commit"], rec["runs"]
    path.write_text(json.dumps(rec))
    with pytest.raises(speed.SpeedRecordError, match="lacks commit, runs"):
        speed.record(path)


def test_a_record_that_is_not_json_is_refused_with_the_command_that_writes_one(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(speed.SpeedRecordError, match="--record"):
        speed.record(path)


def test_the_summary_table_has_one_row_per_candidate_baseline_first():
    table = speed.summary_table(_record())
    assert list(table.index) == ["pack_cnn", "pack_cnn_fast"]
    assert table.loc["pack_cnn_fast", "mean plain test accuracy"] == 0.936
    assert table.loc["pack_cnn_fast", "time vs baseline"] == 1.1


def test_the_runs_table_keeps_the_columns_the_plot_needs():
    runs = speed.runs_table(_record())
    assert {"candidate", "epochs", "train_time_s", "plain_test_accuracy"} <= set(runs.columns)
    assert "images_per_second" not in runs.columns


def test_an_unknown_candidate_is_refused_with_the_recorded_names():
    assert speed.candidate(_record(), "pack_cnn_fast")["epochs"] == 9
    with pytest.raises(KeyError, match="pack_cnn, pack_cnn_fast"):
        speed.candidate(_record(), "pack_cnn_slow")


def test_the_verdict_says_met_when_both_the_accuracy_and_the_time_are_inside_the_goal():
    assert speed.verdict(_record(), "pack_cnn_fast") == "pack_cnn_fast meets its goal of 93.5% plain in 180 s."


def test_the_verdict_names_each_figure_that_misses_the_goal():
    goal = speed.Goal(0.94, 170, "mean_plain")
    assert speed.verdict(_record(), "pack_cnn_fast", goal) == (
        "pack_cnn_fast misses its goal of 94.0% plain in 170 s: 93.60% plain and 176 s.")


def test_the_verdict_scores_with_flip_tta_where_the_goal_says_so():
    goal = speed.Goal(0.9395, 600, "mean_tta")  # 93.9% with flips: missed; plain is not looked at
    assert speed.verdict(_record(), "pack_cnn_fast", goal).endswith(": 93.90% with flip TTA.")



def test_the_packaged_record_is_readable_and_holds_the_fast_recipe_beside_the_baseline():
    rec = speed.record()
    assert rec is not None, f"{speed.SPEED_RECORD} is missing: write it with {speed.WRITE_COMMAND}"
    names = [c["candidate"] for c in rec["candidates"]]
    assert names[0] == "pack_cnn" and "pack_cnn_fast" in names
    assert {r["candidate"] for r in rec["runs"]} == set(names)
    assert all(c["seeds"] == len(rec["seeds"]) for c in rec["candidates"])


def test_the_packaged_records_hold_every_model_whose_evidence_they_are():
    rec = speed.record()
    names = {c["candidate"] for c in rec["candidates"]}
    assert set(speed.GOALS) <= names
    speedruns = {dataset: speed.record(path) for dataset, path in speed.SPEEDRUN_RECORDS.items()}
    assert all(run is not None for run in speedruns.values()), f"write them with {speed.SPEEDRUN_COMMAND}"
    for dataset, run in speedruns.items():
        assert run["dataset"] == dataset and speed.SPEEDRUN in {c["candidate"] for c in run["candidates"]}
        names |= {c["candidate"] for c in run["candidates"]}
    assert set(speed.NOT_IN_FULL_RUN) <= names


def test_the_label_names_the_onednn_kernel_and_isa_limit_the_record_was_measured_with():
    rec = {**_record(), "onednn": {"max_cpu_isa": "AVX512_CORE_BF16", "isa": "x",
                                   "conv_kernel": "brg_conv_fwd:avx512_core_bf16", "note": None}}
    assert "oneDNN's convolutions on brg_conv_fwd:avx512_core_bf16 (ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16)" in speed.label(rec)


def test_a_goal_scored_with_shifts_says_so_in_its_verdict():
    goal = speed.SPEEDRUN_GOALS["fashion_mnist"]
    assert goal.describe() == "95.0% with flip and shift TTA in 600 s"


def test_the_summary_names_the_test_time_views_each_candidate_was_scored_with():
    runs = [{"candidate": "pack_cnn", "tta_test_accuracy": 0.924},
            {"candidate": "pack_cnn_fast", "tta_test_accuracy": 0.939, "tta": "flips+shifts"}]
    table = speed.summary_table(_record(runs=runs))
    assert table["TTA views"].to_dict() == {"pack_cnn": "flips", "pack_cnn_fast": "flips+shifts"}


def _two_candidates(fast_scores, slow_scores):
    runs = ([{"candidate": "pack_cnn", "tta_test_accuracy": s} for s in fast_scores]
            + [{"candidate": "pack_cnn_fast", "tta_test_accuracy": s} for s in slow_scores])
    candidates = [{**c, "mean_tta": sum(scores) / len(scores)} for c, scores in
                  zip(_record()["candidates"], (fast_scores, slow_scores))]
    return _record(runs=runs, candidates=candidates)


def test_head_to_head_will_not_rank_two_recipes_whose_difference_is_within_their_seeds_spread():
    text = speed.head_to_head(_two_candidates([0.940, 0.944], [0.941, 0.943]), "pack_cnn", "pack_cnn_fast")
    assert "cannot rank them" in text and "-0.00 points" not in text


def test_head_to_head_names_the_leader_when_the_difference_exceeds_the_spread():
    text = speed.head_to_head(_two_candidates([0.950, 0.951], [0.940, 0.941]), "pack_cnn", "pack_cnn_fast")
    assert "pack_cnn is ahead by 1.00 points" in text
