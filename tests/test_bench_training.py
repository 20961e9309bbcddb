"""The training-speed benchmark: every way it compares trains, and the row the notebooks use is marked.

Usage:
    .venv/bin/python -m pytest tests/test_bench_training.py -q
"""
from __future__ import annotations

import pytest

from conftest import load_benchmark, synthetic_dataset
from fmnist_helpers.data.splits import holdout_split
from fmnist_helpers.training import pipeline


BEFORE = pipeline.STEPS_PER_EXECUTION


@pytest.fixture(scope="module")
def rows():
    bench = load_benchmark("bench_training")
    split = holdout_split(synthetic_dataset(n_train=640, n_test=100), 128, seed=42)
    return bench.run_one("kh_ann", split, epochs=1, batch=64, seed=42)


@pytest.mark.slow
def test_each_way_trains_and_the_first_is_the_baseline_of_the_ratios(rows):
    assert rows[0]["way"].startswith("studies' way") and rows[0]["speed-up"] == 1.0
    assert len(rows) >= 4 and all(r["images/s"] > 0 and 0 <= r["test accuracy"] <= 1 for r in rows)


@pytest.mark.slow
def test_exactly_one_row_is_marked_as_the_notebooks_way(rows):
    assert sum("(the notebooks' way)" in r["way"] for r in rows) == 1


@pytest.mark.slow
def test_the_steps_per_call_setting_is_restored_after_the_benchmark(rows):
    assert pipeline.STEPS_PER_EXECUTION == BEFORE
