"""Keras Tuner's distributed mode on loopback: one chief oracle, two workers, one shared search."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fmnist_helpers.training import search

pytestmark = pytest.mark.slow  # three processes, each loading TensorFlow

ARGS = ["--space", "wits", "--strategy", "random", "--max-trials", "6", "--epochs", "1", "--batch-size", "100",
        "--train-size", "400", "--val-size", "200", "--precision", "float32", "--name", "shared"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(role: str, port: int, out: Path) -> subprocess.Popen:
    env = {**os.environ, **search.distributed_env(role, port), "FMNIST_PROGRESS": "summary"}
    log = open(out / f"{role}.log", "w")
    return subprocess.Popen([sys.executable, "-m", "fmnist_helpers", "search", *ARGS, "--output-dir", str(out)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)


def test_one_chief_and_two_workers_share_a_search_and_the_chief_sees_every_trial(tmp_path):
    port = _free_port()
    chief = _start("chief", port, tmp_path)  # workers wait for its port to open (gRPC's wait_for_ready)
    workers = [_start(f"tuner{i}", port, tmp_path) for i in range(2)]
    try:
        for proc in [*workers, chief]:
            proc.wait(timeout=400)
    finally:
        for proc in [*workers, chief]:
            proc.kill()
    logs = {p.stem: p.read_text() for p in tmp_path.glob("*.log")}
    assert all(p.returncode == 0 for p in [*workers, chief]), logs
    folder = next((tmp_path / "searches").glob("shared-*/"))
    trials = search.read_trial_log(folder)
    assert len(trials) == 6 and trials["trial_id"].is_unique
    assert set(trials["worker"]) == {"tuner0", "tuner1"}  # both workers trained
    assert "6 trials" in logs["chief"]  # the chief's own summary: its oracle received all six
    plan = search.SearchPlan("wits", "random", max_trials=6, epochs=1, batch_size=100, train_size=400, val_size=200,
                             precision="float32")
    saved = search.trial_table(search.make_tuner(plan, folder, n_train=400, say=lambda *_: None))
    assert sorted(saved["trial"]) == sorted(trials["trial_id"])  # the oracle state the chief saved has them all
