"""The two-processes benchmark: it refuses an unknown model before training, and one worker trains and reports.

Usage:
    .venv/bin/python -m pytest tests/test_bench_processes.py -q
"""
from __future__ import annotations

import pytest

from conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_processes")


def test_an_unknown_model_is_refused_with_the_registry_keys_before_any_training(bench, capsys):
    with pytest.raises(KeyError, match="unknown model 'no_such_cnn'; the registry has: .*bu_cnn"):
        bench.main(["--models", "no_such_cnn"])
    assert "|" not in capsys.readouterr().out   # no table row: nothing was trained


@pytest.mark.slow
def test_a_worker_process_trains_its_model_with_one_thread_and_prints_fit_time_and_accuracy(bench, tmp_path):
    import argparse
    import json
    import subprocess

    args = argparse.Namespace(train_images=300, epochs=1)
    out = subprocess.run(bench.worker_command("kh_ann", 42, 1, args, str(tmp_path)), capture_output=True, text=True,
                         check=True).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["fit_s"] > 0
    assert 0.0 <= figures["test_accuracy"] <= 1.0
    assert (tmp_path / "models" / "kh_ann.json").exists()   # saved through the pack's store
