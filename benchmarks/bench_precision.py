"""Does a model keep its accuracy in bfloat16, and how much faster does it train? Over seeds and folds, not one run.

Trains one registry model in float32 and in mixed bfloat16, for each seed and each split (every fold of a k-fold
recipe, the recipe's own split otherwise), in this one process, one run after the other, alternating the two
precisions so that a drift of the machine touches both. It prints each run's images/second and test accuracy, then
per precision the mean and sd of the test accuracy and the median images/second, and bfloat16 minus float32 run by
run (same seed, same split) with a t-interval of the mean difference (`statistics.seed_difference`: no verdict
under 3 pairs). No assertions: read the ratio and the verdict of one run.

A recipe with `cpu_bfloat16=False` trains in float32 on a CPU; this benchmark is the evidence for flipping it.

Usage:
    .venv/bin/python benchmarks/bench_precision.py [--model bu_cnn] [--seeds 42 43] [--train-images 12000] [--epochs 5]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile

from fmnist_helpers.analysis.statistics import seed_difference
from fmnist_helpers.base.params import Profile
from fmnist_helpers.data.datasets import load_dataset
from fmnist_helpers.data.splits import recipe_splits
from fmnist_helpers.models.registry import get_spec
from fmnist_helpers.training.fit import train_model
from fmnist_helpers.training.precision import describe_hardware

PRECISIONS = ("float32", "mixed_bfloat16")


def splits_for(model: str, ds, seed: int) -> list:
    """Every fold of the recipe's k-fold split ("kfold-3": three), or its one split otherwise."""
    return recipe_splits(ds, get_spec(model).recipe.split, seed=seed)


def summarise(rows: list[dict], n_test: int) -> list[str]:
    """Lines: per precision the mean +- sd accuracy and median images/s; then the speed ratio and the verdict."""
    by = {p: [r for r in rows if r["precision"] == p] for p in PRECISIONS}
    lines = []
    for p, part in by.items():
        acc = [r["test_accuracy"] for r in part]
        sd = statistics.stdev(acc) * 100 if len(acc) > 1 else float("nan")
        lines.append(f"{p}: {len(acc)} runs, test accuracy {statistics.mean(acc):.2%} (sd {sd:.2f} points), "
                     f"median {statistics.median(r['images_per_second'] for r in part):,.0f} images/s, "
                     f"median {statistics.median(r['train_time_s'] for r in part):.1f} s of training")
    speed = (statistics.median(r["images_per_second"] for r in by["mixed_bfloat16"])
             / statistics.median(r["images_per_second"] for r in by["float32"]))
    pairs = seed_difference([r["test_accuracy"] for r in by["mixed_bfloat16"]],  # runs in the same (seed, split) order
                            [r["test_accuracy"] for r in by["float32"]])
    spread = "" if pairs.interval is None else f", 95% t-interval {pairs.interval.points()}"
    lines.append(f"bfloat16 against float32: {speed:.2f}x the images/s; {pairs.mean * 100:+.2f} points of test accuracy "
                 f"over {pairs.seeds} paired runs{spread}: {pairs.verdict}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bu_cnn", help="a registry key (default bu_cnn)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43])
    parser.add_argument("--train-images", type=int, default=12_000, help="0: the whole training split")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--dataset", default="fashion_mnist")
    args = parser.parse_args(argv)
    get_spec(args.model)  # an unknown key fails here, naming the registry's keys
    ds = load_dataset(args.dataset)
    profile = Profile("bench", "benchmark", train_subset=args.train_images or None, max_epochs=args.epochs,
                      embedding_points=0, augment_examples=0)
    print(describe_hardware())
    print(f"{args.model} on {args.dataset}, {args.train_images or 'all':} training images x {args.epochs} epochs, "
          f"seeds {args.seeds}")
    print("| seed | split | precision | images/s | train time (s) | test accuracy |")
    print("|---|---|---|---|---|---|")
    rows = []
    for seed in args.seeds:
        for i, split in enumerate(splits_for(args.model, ds, seed), 1):
            order = PRECISIONS if (seed + i) % 2 else PRECISIONS[::-1]
            for precision in order:
                with tempfile.TemporaryDirectory() as out:
                    r = train_model(args.model, split, profile, seed=seed, output_dir=out, precision=precision,
                                    progress="none")
                rows.append({"seed": seed, "split": i, "precision": precision, "test_accuracy": r.test_accuracy,
                             "images_per_second": r.record["images_per_second"],
                             "train_time_s": r.record["train_time_s"]})
                print(f"| {seed} | {i} | {precision} | {r.record['images_per_second']:,.0f} | "
                      f"{r.record['train_time_s']:.1f} | {r.test_accuracy:.2%} |", flush=True)
    print()
    print("\n".join(summarise(rows, len(ds.y_test))))


if __name__ == "__main__":
    main()
