"""The precision benchmark: which splits it trains on, and how it sums up float32 against bfloat16.

Usage:
    .venv/bin/python -m pytest tests/test_bench_precision.py -q
"""
from __future__ import annotations

import pytest

from conftest import load_benchmark, synthetic_dataset


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_precision")


def _rows(f32, bf16, speed=(1000, 1500)):
    return ([{"precision": "float32", "test_accuracy": a, "images_per_second": speed[0], "train_time_s": 10.0}
             for a in f32]
            + [{"precision": "mixed_bfloat16", "test_accuracy": a, "images_per_second": speed[1], "train_time_s": 7.0}
               for a in bf16])


def test_a_k_fold_recipe_trains_on_every_fold(bench):
    assert len(bench.splits_for("bu_cnn", synthetic_dataset(600, 100), seed=42)) == 3


def test_a_hold_out_recipe_trains_on_its_one_split(bench):
    (split,) = bench.splits_for("wits_cnn", synthetic_dataset(13_000, 100), seed=42)  # 12,000 held out
    assert (len(split.y_train), len(split.y_val)) == (1_000, 12_000)


def test_the_summary_gives_the_speed_ratio_and_no_verdict_from_two_pairs(bench):
    lines = bench.summarise(_rows([0.80, 0.82], [0.81, 0.81]), n_test=10_000)
    assert lines[-1] == ("bfloat16 against float32: 1.50x the images/s; +0.00 points of test accuracy over 2 paired "
                         "runs, 95% t-interval [-12.71, +12.71] points: too few seeds to tell")


def test_a_difference_beyond_its_t_interval_is_called_below(bench):
    lines = bench.summarise(_rows([0.900, 0.901, 0.899], [0.850, 0.852, 0.849]), n_test=10_000)
    assert "-4.97 points of test accuracy over 3 paired runs" in lines[-1] and lines[-1].endswith(": below")
