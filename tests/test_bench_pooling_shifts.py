"""The pooling benchmark: its two CNNs differ only in how they halve the maps, its shifted training copies move
each image by a whole-pixel offset within the limit, and every CSV row carries the run's facts.

Usage:
    .venv/bin/python -m pytest tests/test_bench_pooling_shifts.py -q
"""
from __future__ import annotations

import csv

import numpy as np
import pytest

from conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_pooling_shifts")


def test_both_cnns_have_the_same_weights_and_map_sizes_and_only_one_pools(bench):
    pooled, strided = (bench.build_cnn(p, seed=0) for p in bench.POOLING)
    assert pooled.count_params() == strided.count_params()
    assert [w.shape for w in pooled.weights] == [w.shape for w in strided.weights]
    assert pooled.output_shape == strided.output_shape
    kinds = [{type(layer).__name__ for layer in m.layers} for m in (pooled, strided)]
    assert "MaxPooling2D" in kinds[0] and "MaxPooling2D" not in kinds[1]


def test_random_shifts_move_each_image_by_one_whole_offset_within_the_limit(bench):
    images = np.zeros((40, 28, 28), np.float32)
    images[:, 14, 14] = 1.0  # one bright pixel in the middle of every image
    out = bench.random_shifts(images, np.random.default_rng(0), max_shift=2)
    rows, cols = np.nonzero(out.sum(axis=0))
    assert out.sum() == pytest.approx(40.0)  # every pixel moved, none lost or blurred
    assert rows.min() >= 12 and rows.max() <= 16 and cols.min() >= 12 and cols.max() <= 16
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 1  # not every image moved alike


def test_random_shifts_fill_the_uncovered_border_with_black(bench):
    out = bench.random_shifts(np.ones((50, 28, 28), np.float32), np.random.default_rng(1), max_shift=2)
    assert out.min() == 0.0 and out[:, 2:-2, 2:-2].min() == 1.0


def test_every_csv_row_carries_the_runs_date_commit_and_machine(bench, tmp_path):
    facts = {"date": "2026-12-07", "commit": "abc1234", "command": "bench", "machine": "2-core x86_64 CPU"}
    rows = bench.rows_for(facts, 42, bench.POOLING[0], bench.TRAINING[1], 100, 1, {0: 0.8, 1: 0.6, 2: 0.4}, 3.0)
    bench.write_csv(tmp_path / "r.csv", rows)
    with open(tmp_path / "r.csv") as fh:
        read = list(csv.DictReader(fh))
    assert [r["test_shift_px"] for r in read] == ["0", "1", "2"]
    assert {(r["date"], r["commit"], r["machine"]) for r in read} == {("2026-12-07", "abc1234", "2-core x86_64 CPU")}
    assert [float(r["kept_share"]) for r in read] == [1.0, 0.75, 0.5]
