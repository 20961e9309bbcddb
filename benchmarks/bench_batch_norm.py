"""How much faster does the `bu` CNN train with the fused batch norm, and does its accuracy move?

Trains the registry's `bu_cnn` on the first fold of its 3-fold split (seed 42) with the pack's `train_model`, twice
per repeat: with Keras's own `BatchNormalization` (the layer it used before) and with the pack's
`FusedBatchNormalization` (`fmnist_helpers/models/layers.py`, what it uses now), the same settings otherwise. It
prints images/second, training seconds and validation and test accuracy for each. No assertions: read the ratio of
one run.

Usage:
    .venv/bin/python benchmarks/bench_batch_norm.py [--train-images 12000] [--epochs 5] [--repeats 1]
"""
from __future__ import annotations

import argparse
import tempfile
from unittest import mock

from fmnist_helpers.base.params import Profile
from fmnist_helpers.data.datasets import load_dataset
from fmnist_helpers.data.splits import kfold_splits
from fmnist_helpers.models import registry
from fmnist_helpers.training.fit import train_model


def keras_batch_norm(L):
    """The `bu` CNN's batch norm before the fused kernel: Keras's layer with PyTorch's settings."""
    return L.BatchNormalization(momentum=0.9, epsilon=1e-5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-images", type=int, default=12_000, help="0: the whole fold (40,000)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    fold = kfold_splits(load_dataset("fashion_mnist"), 3, seed=42)[0]
    profile = Profile("bench", "benchmark", train_subset=args.train_images or None, max_epochs=args.epochs,
                      embedding_points=0, augment_examples=0)
    print(f"bu_cnn, fold 1 of 3, {args.train_images or len(fold.y_train):,} images x {args.epochs} epochs, seed 42")
    print("| batch norm | images/s | train time (s) | val accuracy | test accuracy |")
    print("|---|---|---|---|---|")
    for _ in range(args.repeats):
        for label, norm in [("Keras `BatchNormalization`", keras_batch_norm),
                            ("fused (`FusedBatchNormalization`)", registry._torch_batch_norm)]:
            with tempfile.TemporaryDirectory() as out, mock.patch.object(registry, "_torch_batch_norm", norm):
                r = train_model("bu_cnn", fold, profile, seed=42, output_dir=out, progress="none")
            print(f"| {label} | {r.record['images_per_second']:,.0f} | {r.record['train_time_s']:.1f} | "
                  f"{r.record['val_accuracy']:.2%} | {r.test_accuracy:.2%} |", flush=True)


if __name__ == "__main__":
    main()
