"""Do two single-threaded trainings side by side beat two two-threaded trainings one after the other?

On a 2-core CPU a course trains many small, independent models (notebook 06's seeds, notebook 04's study models,
cross-validation folds). If one TensorFlow process with two threads left a core idle, two processes with one
thread each, run at once, would finish the same work sooner. This benchmark trains each model twice (seeds 42 and
43) on the same split and subset, both ways, and prints the wall time of each way (process start and imports
included), the summed `fit` seconds, the ratio, and the test accuracies, which may differ in the last digits because
the thread count changes the order of floating-point sums.

Usage:
    .venv/bin/python benchmarks/bench_processes.py [--models bu_cnn kh_cnn_best] [--train-images 12000] [--epochs 5]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time


def train_in_this_process(key: str, seed: int, threads: int, train_images: int, epochs: int, out: str) -> dict:
    """Train `key` once with `threads` TensorFlow threads; the record's figures as a dict."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    from fmnist_helpers.base.params import Profile
    from fmnist_helpers.data.datasets import load_dataset
    from fmnist_helpers.data.splits import make_split
    from fmnist_helpers.models.registry import get_spec
    from fmnist_helpers.training.fit import train_model

    split_name = get_spec(key).recipe.split
    if split_name.startswith("kfold"):   # one fold's worth of training: the wits hold-out
        split_name = "holdout-12000"
    split = make_split(load_dataset("fashion_mnist"), split_name, seed=42)
    profile = Profile("bench", "benchmark", train_subset=train_images, max_epochs=epochs, embedding_points=0,
                      augment_examples=0)
    result = train_model(key, split, profile, seed=seed, output_dir=out, progress="none")
    return {"fit_s": result.record["train_time_s"], "test_accuracy": result.test_accuracy}


def worker_command(key: str, seed: int, threads: int, args: argparse.Namespace, out: str) -> list[str]:
    return [sys.executable, __file__, "--worker", key, str(seed), str(threads), "--train-images",
            str(args.train_images), "--epochs", str(args.epochs), "--out", out]


def run_way(key: str, threads: int, parallel: bool, args: argparse.Namespace) -> dict:
    """Both seeds of `key`: at once with `threads` each when `parallel`, else one after the other."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        commands = [worker_command(key, seed, threads, args, f"{tmp}/seed{seed}") for seed in (42, 43)]
        if parallel:
            procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in commands]
            done = [(p, *p.communicate()) for p in procs]
        else:
            done = [(p, p.stdout, p.stderr) for p in
                    (subprocess.run(c, capture_output=True, text=True, check=False) for c in commands)]
        for proc, _, err in done:
            if proc.returncode:
                raise RuntimeError(f"a {key} training worker failed (exit {proc.returncode}):\n{err[-2000:]}")
        outputs = [out for _, out, _ in done]
    wall = time.perf_counter() - start
    runs = [json.loads(o.strip().splitlines()[-1]) for o in outputs]
    return {"wall_s": wall, "fit_s": sum(r["fit_s"] for r in runs),
            "accuracies": [r["test_accuracy"] for r in runs]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["bu_cnn", "kh_cnn_best"])
    parser.add_argument("--train-images", type=int, default=12_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--worker", nargs=3, metavar=("KEY", "SEED", "THREADS"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        key, seed, threads = args.worker[0], int(args.worker[1]), int(args.worker[2])
        print(json.dumps(train_in_this_process(key, seed, threads, args.train_images, args.epochs, args.out)))
        return
    from fmnist_helpers.models.registry import get_spec

    for key in args.models:
        get_spec(key)   # an unknown key fails here, with the registry's list, before any training
    print(f"{args.train_images:,} images x {args.epochs} epochs per training, seeds 42 and 43, Fashion-MNIST")
    print("| model | way | wall (s) | fit, summed (s) | wall ratio | test accuracies |")
    print("|---|---|---|---|---|---|")
    for key in args.models:
        one = run_way(key, threads=2, parallel=False, args=args)
        two = run_way(key, threads=1, parallel=True, args=args)
        for label, way in [("one after the other, 2 threads each", one), ("side by side, 1 thread each", two)]:
            print(f"| `{key}` | {label} | {way['wall_s']:.1f} | {way['fit_s']:.1f} | "
                  f"{one['wall_s'] / way['wall_s']:.2f}x | "
                  f"{' / '.join(f'{a:.2%}' for a in way['accuracies'])} |", flush=True)


if __name__ == "__main__":
    main()
