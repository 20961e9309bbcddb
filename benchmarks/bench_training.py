"""How much faster does the pack's input pipeline train than the studies' way, and is anything lost?

The same registry model is trained on the same 48k/12k split for the same number of epochs, four ways,
one after the other in this one process:

1. the studies' way: `model.fit` on NumPy arrays, float32, the study's batch size;
2. the pack's pipeline at the study's batch size: `tf.data` with cache and prefetch, and mixed precision
   where the hardware gains from it (detected: bfloat16 on CPUs with AVX-512 BF16 or AMX, float16 on GPUs),
   running one training step per TensorFlow call;
3. the same, with `pipeline.STEPS_PER_EXECUTION` steps per call (the notebooks' default);
   and, where (2) is not already float32, the same in float32: whether this model gains from 16 bits at all
   (a recipe whose `cpu_bfloat16` is False trains in float32 on a CPU; the row the notebooks use is marked);
4. the same pipeline with a tuned batch size (the learning rate scaled by the square root of the batch ratio).

It prints training images/second for each, the speed-up ratios against (1) and the test accuracies, so
any accuracy cost shows beside the speed. No assertions: timings on shared machines are noisy, so read
the ratios measured in one run. Steady-state speed leaves out each run's first epoch (graph building).

Usage:
    .venv/bin/python benchmarks/bench_training.py [--models wits_cnn kh_cnn] [--epochs 5] [--batch 128]
"""
from __future__ import annotations

import argparse
import math
import os

from fmnist_helpers.data.datasets import load_dataset
from fmnist_helpers.models.registry import get_spec, with_recipe
from fmnist_helpers.base.params import get_profile
from fmnist_helpers.training.precision import choose_precision, describe_hardware
from fmnist_helpers.data.splits import holdout_split
from fmnist_helpers.training import pipeline
from fmnist_helpers.training.pipeline import training_precision
from fmnist_helpers.training.fit import train_model


def run_one(key: str, split, epochs: int, batch: int, seed: int) -> list[dict]:
    spec = get_spec(key)
    study_batch = spec.recipe.batch_size
    tuned = with_recipe(spec, batch_size=batch,
                        learning_rate=spec.recipe.learning_rate * math.sqrt(batch / study_batch))
    profile = get_profile("full")
    fast = choose_precision("auto")
    many = pipeline.STEPS_PER_EXECUTION
    ways = [
        ("studies' way: fit(NumPy), float32", spec, "numpy", "float32", 1),
        (f"tf.data + {fast}, batch {study_batch}, 1 step/call", spec, "tf.data", fast, 1),
        (f"tf.data + {fast}, batch {study_batch}, {many} steps/call", spec, "tf.data", fast, many),
        (f"tf.data + {fast}, batch {batch}, {many} steps/call", tuned, "tf.data", fast, many),
    ]
    if fast != "float32":   # the same pipeline in float32: does this model gain from the 16-bit precision?
        ways.insert(3, (f"tf.data + float32, batch {study_batch}, {many} steps/call", spec, "tf.data", "float32", many))
    notebooks = training_precision("auto", spec.recipe)   # what train_model picks for this model by default
    rows = []
    for label, s, way, precision, per_call in ways:
        pipeline.STEPS_PER_EXECUTION = per_call
        try:
            result = train_model(s, split, profile, seed=seed, epochs=epochs, pipeline=way, precision=precision,
                                 progress="none")
        finally:
            pipeline.STEPS_PER_EXECUTION = many
        if s is spec and way == "tf.data" and per_call == many and precision == notebooks:
            label += " (the notebooks' way)"
        rows.append({"model": key, "way": label, "batch": s.recipe.batch_size,
                     "images/s": result.record["images_per_second"], "test accuracy": result.test_accuracy,
                     "train time (s)": result.record["train_time_s"]})
    base = rows[0]
    for row in rows:
        row["speed-up"] = row["images/s"] / base["images/s"]
        row["accuracy change (points)"] = (row["test accuracy"] - base["test accuracy"]) * 100
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["wits_cnn", "aueb_cnn3"])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=128, help="the tuned batch size of way 3")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    os.environ.setdefault("FMNIST_PROGRESS", "none")
    print(f"hardware: {describe_hardware()}; {os.cpu_count()} CPU cores visible")
    split = holdout_split(load_dataset("fashion_mnist"), 12_000, seed=args.seed)
    print(f"{len(split.y_train):,} training images, {args.epochs} epochs per run, seed {args.seed}\n")
    header = f"{'model':<10} {'way':<72} {'batch':>5} {'images/s':>9} {'speed-up':>8} {'test acc':>8} {'change':>7}"
    print(header)
    print("-" * len(header))
    for key in args.models:
        for row in run_one(key, split, args.epochs, args.batch, args.seed):
            print(f"{row['model']:<10} {row['way']:<72} {row['batch']:>5} {row['images/s']:>9,.0f} "
                  f"{row['speed-up']:>7.2f}x {row['test accuracy']:>8.4f} {row['accuracy change (points)']:>+7.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
