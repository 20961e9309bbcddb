"""Does max pooling make a small CNN tolerant to shifted images, or does training on shifted copies?

Trains one small CNN four ways on a Fashion-MNIST training subset, over several seeds: with 2x2 max pooling after
each convolution or with stride 2 in each convolution instead (no pooling: the same weights, the same map sizes,
only the maximum over each 2x2 block is gone), and each of them with or without shifted training copies (every
epoch, each training image moved by a fresh random offset of -2 to 2 pixels down and across, the border filled
black). Each trained model is scored on the test images as they are and shifted 1 and 2 pixels right and down
(`fmnist_helpers.analysis.shifts.transform(x, "shift", s)`). It writes one CSV row per seed, model and test shift,
each with the run's date, commit, command and machine, and prints the mean and the spread over seeds of the share
of clean accuracy each model keeps. No assertions: read the figures against their seed spread.

The default (12,000 training images, 4 epochs, seeds 42, 43 and 44: the recorded run of benchmarks/README.md) took
5.5 minutes on 2 CPU cores shared with other jobs.

Usage:
    .venv/bin/python benchmarks/bench_pooling_shifts.py --out build/bench/pooling_shifts.csv
    .venv/bin/python benchmarks/bench_pooling_shifts.py --seeds 42 43 44 --train-images 12000 --epochs 4 \
        --out benchmarks/recorded/pooling_shifts.csv --machine "shared with other jobs"
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

POOLING = ("max pooling", "stride 2, no pooling")
TRAINING = ("original images", "shifted copies")
TEST_SHIFTS = (0, 1, 2)
MAX_TRAIN_SHIFT = 2
COLUMNS = ["date", "commit", "command", "machine", "seed", "pooling", "training", "train_images", "epochs",
           "test_shift_px", "test_accuracy", "kept_share", "train_seconds"]


def build_cnn(pooling: str, seed: int):
    """The small CNN: two 3x3 convolutions (16 and 32 filters, 'same' padding) that each halve the map, by a 2x2
    max pool after it or by stride 2 in it, then a dense softmax over the 10 classes. Both ways have the same
    weights and the same map sizes (28 -> 14 -> 7)."""
    import keras

    if pooling not in POOLING:
        raise ValueError(f"pooling {pooling!r} is not one of {POOLING}")
    keras.utils.set_random_seed(seed)
    L = keras.layers
    pooled = pooling == POOLING[0]
    layers = [keras.Input((28, 28, 1))]
    for filters in (16, 32):
        layers.append(L.Conv2D(filters, 3, strides=1 if pooled else 2, padding="same", activation="relu"))
        if pooled:
            layers.append(L.MaxPooling2D(2))
    layers += [L.Flatten(), L.Dense(10, activation="softmax")]
    model = keras.Sequential(layers, name="pooled" if pooled else "strided")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def random_shifts(images: np.ndarray, rng: np.random.Generator, max_shift: int = MAX_TRAIN_SHIFT) -> np.ndarray:
    """Each image (N, 28, 28) moved by its own whole-pixel offset of -max_shift to max_shift rows and columns,
    drawn from `rng`; what moves out is lost and the border fills with 0 (black)."""
    images = np.asarray(images)
    out = np.zeros_like(images)
    offsets = rng.integers(-max_shift, max_shift + 1, size=(len(images), 2))
    h, w = images.shape[1:3]
    for dy, dx in {tuple(o) for o in offsets.tolist()}:
        rows = np.flatnonzero((offsets[:, 0] == dy) & (offsets[:, 1] == dx))
        src = images[rows][:, max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
        out[rows, max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)] = src
    return out


def train(model, x: np.ndarray, y: np.ndarray, epochs: int, shifted: bool, seed: int) -> float:
    """Fit `model` for `epochs` on float images (N, 28, 28) in [0, 1], each epoch on freshly shifted copies when
    `shifted`; returns the training seconds."""
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    for _ in range(epochs):
        xe = random_shifts(x, rng) if shifted else x
        model.fit(xe[..., None], y, epochs=1, batch_size=64, shuffle=True, verbose=0)
    return time.perf_counter() - started


def shifted_accuracies(model, x_test: np.ndarray, y_test: np.ndarray) -> dict[int, float]:
    """Test accuracy at each of TEST_SHIFTS pixels right and down (0: the test images as they are)."""
    from fmnist_helpers.analysis import shifts

    out = {}
    for s in TEST_SHIFTS:
        moved = shifts.transform(x_test, "shift", s)
        pred = model.predict(moved[..., None], batch_size=1000, verbose=0).argmax(axis=1)
        out[s] = float(np.mean(pred == y_test))
    return out


def run_facts(machine_note: str | None) -> dict[str, str]:
    """When, from which commit, by which command and on what machine the run trained."""
    from fmnist_helpers.base.paths import git_commit

    commit = git_commit(Path(__file__).resolve().parent.parent, short=True, mark_changes=True)
    machine = f"{os.cpu_count()}-core {platform.machine()} CPU"
    try:
        load = os.getloadavg()[0]
        machine += f", load {load:.1f} at the start"
    except OSError:
        pass
    return {"date": datetime.now(timezone.utc).date().isoformat(), "commit": commit,
            "command": shlex.join(["benchmarks/bench_pooling_shifts.py", *sys.argv[1:]]),
            "machine": f"{machine}, {machine_note}" if machine_note else machine}


def rows_for(facts: dict[str, str], seed: int, pooling: str, training: str, train_images: int, epochs: int,
             accuracies: dict[int, float], seconds: float) -> list[dict[str, Any]]:
    """One CSV row per test shift; `kept_share` is the accuracy at that shift over the accuracy at 0."""
    clean = accuracies[0]
    return [{**facts, "seed": seed, "pooling": pooling, "training": training, "train_images": train_images,
             "epochs": epochs, "test_shift_px": s, "test_accuracy": round(acc, 4),
             "kept_share": round(acc / clean, 4) if clean else float("nan"), "train_seconds": round(seconds, 1)}
            for s, acc in accuracies.items()]


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """All rows under COLUMNS, written atomically."""
    from fmnist_helpers.base.atomic import write_text_atomic

    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, text.getvalue())


def summary(rows: list[dict[str, Any]]) -> str:
    """Per model and test shift: accuracy and share of clean accuracy kept, mean and range over seeds."""
    import pandas as pd

    table = pd.DataFrame(rows)
    grouped = table.groupby(["pooling", "training", "test_shift_px"], sort=False)
    out = grouped.agg(seeds=("seed", "nunique"), accuracy_mean=("test_accuracy", "mean"),
                      accuracy_min=("test_accuracy", "min"), accuracy_max=("test_accuracy", "max"),
                      kept_mean=("kept_share", "mean"), kept_min=("kept_share", "min"),
                      kept_max=("kept_share", "max"))
    return out.round(4).to_string()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--train-images", type=int, default=12_000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("build/bench/pooling_shifts.csv"))
    parser.add_argument("--machine", default=None, help="a note on the machine, e.g. 'shared with other jobs'")
    args = parser.parse_args(argv)

    from fmnist_helpers.data.datasets import load_dataset
    from fmnist_helpers.data.preprocess import scale

    facts = run_facts(args.machine)  # before training: the commit that trains
    ds = load_dataset("fashion_mnist", progress=False)
    x_test, y_test = scale(ds.x_test), ds.y_test
    rows: list[dict[str, Any]] = []
    for seed in args.seeds:
        pick = np.random.default_rng(seed).permutation(len(ds.x_train))[:args.train_images]
        x, y = scale(ds.x_train[pick]), ds.y_train[pick]
        for pooling in POOLING:
            for training in TRAINING:
                model = build_cnn(pooling, seed)
                seconds = train(model, x, y, args.epochs, training == TRAINING[1], seed)
                accuracies = shifted_accuracies(model, x_test, y_test)
                rows += rows_for(facts, seed, pooling, training, len(x), args.epochs, accuracies, seconds)
                print(f"seed {seed}, {pooling}, {training}: {seconds:.0f} s, test accuracy at shifts "
                      + ", ".join(f"{s} px {a:.4f}" for s, a in accuracies.items()), flush=True)
                write_csv(args.out, rows)  # after every model: a run stopped early keeps what it measured
    print(f"\n{facts['date']}, commit {facts['commit']}, {facts['machine']}\n{summary(rows)}")
    print(f"rows: {args.out}")


if __name__ == "__main__":
    main()
