"""How long does loading a dataset take, the first time and after that?

The first load decompresses the IDX files, checks their SHA-256 and parses them; later loads read the
verified `.npy` cache. This prints both times and their ratio for each dataset (no assertions: timings
on shared machines are noisy, so read them as figures). The cache is built in a temporary folder,
so the user's own cache is neither used nor touched.

Usage:
    .venv/bin/python benchmarks/bench_load.py [--repeats 5]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from fmnist_helpers.data import datasets as data


def time_load(name: str, source: Path, repeats: int) -> tuple[float, list[float]]:
    t0 = time.perf_counter()
    data.load_dataset(name, data_dir=source, download=False)
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        ds = data.load_dataset(name, data_dir=source, download=False)
        warm.append(time.perf_counter() - t0)
    assert len(ds.y_train) + len(ds.y_test) == 70_000
    return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="warm loads to time (median reported)")
    args = parser.parse_args()
    sources = {}
    for name in data.DATASETS:
        found = data.locate_files(data.dataset_spec(name))
        if found is None:
            raise SystemExit(f"{name}: no local files; run load_dataset({name!r}) once or set FMNIST_DATA_DIR")
        sources[name] = found["x_train"].parent
    with tempfile.TemporaryDirectory() as tmp:
        data.default_data_dir = lambda: Path(tmp)  # a fresh, private cache for this benchmark
        print(f"{'dataset':15s} {'first load':>11s} {'cached (median)':>16s} {'speed-up':>9s}")
        for name, source in sources.items():
            cold, warm = time_load(name, source, args.repeats)
            med = statistics.median(warm)
            print(f"{name:15s} {cold * 1000:9.0f} ms {med * 1000:13.1f} ms {cold / med:8.0f}x")


if __name__ == "__main__":
    main()
