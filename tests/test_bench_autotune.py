"""The autotune benchmark's count of slow epochs, and the pipeline setting it measures.

Usage:
    .venv/bin/python -m pytest tests/test_bench_autotune.py -q
"""
from __future__ import annotations

import numpy as np
import pytest

from conftest import load_benchmark
from fmnist_helpers.data import preprocess


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_autotune")


def test_an_epoch_twice_the_fastest_counts_as_slow(bench):
    assert bench.slow_epochs([5.3, 2.5, 5.0, 2.6, 2.5], fastest=2.5) == 1


def test_a_run_whose_every_epoch_is_slow_counts_them_all(bench):
    assert bench.slow_epochs([4.1, 4.7, 5.2, 5.0], fastest=2.5) == 3


def test_the_first_epoch_which_builds_the_graph_never_counts(bench):
    assert bench.slow_epochs([9.0, 2.5, 2.5], fastest=2.5) == 0 and bench.slow_epochs([9.0], fastest=2.5) == 0


@pytest.mark.parametrize("autotune", [False, True])
def test_the_pipeline_runs_the_autotuner_only_when_asked(monkeypatch, autotune):
    monkeypatch.setattr(preprocess, "TF_DATA_AUTOTUNE", autotune)
    ds = preprocess.make_dataset(np.zeros((8, 28, 28, 1), "float32"), np.arange(8) % 10, batch_size=4)
    assert ds.options().autotune.enabled is autotune
