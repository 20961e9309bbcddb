"""Does tf.data's autotuner slow the course's trainings down? Epoch by epoch, with it on and off.

Trains each model with the pack's `train_on_dataset` on the `quick` budget (12,000 images, 5 epochs, seed 42),
`--repeats` times with the autotuner on and off (`preprocess.TF_DATA_AUTOTUNE`), alternating, in this one process.
It prints every run's epoch times, its training seconds and test accuracy, then per setting the total training
seconds and the number of slow epochs: epochs after the first that took over 1.5 times the fastest such epoch of
the same model in the whole benchmark.
No assertions: read the figures of one run.

Usage:
    .venv/bin/python benchmarks/bench_autotune.py [--models pack_cnn pack_mlp kh_cnn_best bu_cnn] [--repeats 2]
"""
from __future__ import annotations

import argparse
import tempfile

from fmnist_helpers.base.params import get_profile
from fmnist_helpers.data import preprocess
from fmnist_helpers.data.datasets import load_dataset
from fmnist_helpers.training.fit import train_on_dataset

SLOW = 1.5
"""An epoch after the first counts as slow above this multiple of the model's fastest epoch after the first."""


def slow_epochs(times: list[float], fastest: float) -> int:
    """How many epochs after the first (which builds the graph) took over `SLOW` times `fastest`."""
    return sum(t > SLOW * fastest for t in times[1:])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["pack_cnn", "pack_mlp", "kh_cnn_best", "bu_cnn"])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    ds, profile = load_dataset("fashion_mnist"), get_profile("quick")
    runs: list[tuple[bool, str, list[float], float]] = []
    print("| autotune | model | epoch times (s) | training (s) | test accuracy |")
    print("|---|---|---|---|---|")
    for i in range(args.repeats):
        for autotune in ((True, False) if i % 2 == 0 else (False, True)):
            preprocess.TF_DATA_AUTOTUNE = autotune
            for key in args.models:
                with tempfile.TemporaryDirectory() as out:
                    r = train_on_dataset(key, ds, profile, seed=42, output_dir=out, progress="none")
                times = r.record["epoch_times_s"]
                runs.append((autotune, key, times, r.record["train_time_s"]))
                print(f"| {'on' if autotune else 'off'} | {key} | {', '.join(f'{t:.2f}' for t in times)} | "
                      f"{r.record['train_time_s']:.1f} | {r.test_accuracy:.2%} |", flush=True)
    print()
    fastest = {key: min(t for _, k, times, _ in runs if k == key for t in times[1:]) for key in args.models}
    total = {}
    for autotune in (True, False):
        mine = [r for r in runs if r[0] == autotune]
        total[autotune] = sum(seconds for *_, seconds in mine)
        slow = sum(slow_epochs(times, fastest[key]) for _, key, times, _ in mine)
        print(f"autotune {'on' if autotune else 'off'}: {total[autotune]:.1f} s of training in {len(mine)} runs; "
              f"{slow} of {sum(len(times) - 1 for _, _, times, _ in mine)} later epochs slow")
    print(f"off against on: {total[False] / total[True]:.2f}x the training time")


if __name__ == "__main__":
    main()
