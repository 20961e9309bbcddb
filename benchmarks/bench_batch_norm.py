"""How much faster does a batch-norm model train with the fused batch norm, and does its accuracy move?

Trains one registry model (`bu_cnn` by default, or `pack_cnn`) with the pack's `train_model`, twice
per repeat: with Keras's own `BatchNormalization` and with the pack's `FusedBatchNormalization`
(`fmnist_helpers/models/layers.py`), the same settings otherwise. `bu_cnn` trains on the first fold of its 3-fold
split, `pack_cnn` on its recipe's holdout split, all with seed 42. It prints images/second, training
seconds and validation and test accuracy for each. No assertions: read the ratio of one run.

Usage:
    .venv/bin/python benchmarks/bench_batch_norm.py [--model bu_cnn] [--train-images 12000] [--epochs 5] [--repeats 1]
"""
from __future__ import annotations

import argparse
import tempfile
from unittest import mock

from fmnist_helpers.base.params import Profile
from fmnist_helpers.data.datasets import load_dataset
from fmnist_helpers.data.splits import recipe_splits
from fmnist_helpers.models import registry
from fmnist_helpers.training.fit import train_model

NORMS = {"bu_cnn": "_torch_batch_norm", "pack_cnn": "_pack_batch_norm"}
"""The registry function that makes each model's batch-norm layers, which the benchmark swaps."""


def keras_batch_norm(L):
    """The `bu` CNN's batch norm before the fused kernel: Keras's layer with PyTorch's settings."""
    return L.BatchNormalization(momentum=0.9, epsilon=1e-5)


def fused_pack_batch_norm(L):
    """The pack CNN's batch-norm settings (`registry._pack_batch_norm`, Keras's layer) in the fused layer."""
    from fmnist_helpers.models.layers import FusedBatchNormalization

    return FusedBatchNormalization(momentum=0.9)


def ways(model: str) -> list[tuple[str, object]]:
    """(label, batch-norm maker) for Keras's layer and the fused one, for `model`."""
    if model == "bu_cnn":
        return [("Keras `BatchNormalization`", keras_batch_norm),
                ("fused (`FusedBatchNormalization`)", registry._torch_batch_norm)]
    return [("Keras `BatchNormalization`", registry._pack_batch_norm),
            ("fused (`FusedBatchNormalization`)", fused_pack_batch_norm)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(NORMS), default="bu_cnn")
    parser.add_argument("--train-images", type=int, default=12_000, help="0: the whole training split")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    ds = load_dataset("fashion_mnist")
    split_name = registry.get_spec(args.model).recipe.split
    split = recipe_splits(ds, split_name, seed=42)[0]
    where = "fold 1 of 3" if split_name.startswith("kfold") else f"split {split_name}"
    profile = Profile("bench", "benchmark", train_subset=args.train_images or None, max_epochs=args.epochs,
                      embedding_points=0, augment_examples=0)
    print(f"{args.model}, {where}, {args.train_images or len(split.y_train):,} images x {args.epochs} epochs, seed 42")
    print("| batch norm | images/s | train time (s) | val accuracy | test accuracy |")
    print("|---|---|---|---|---|")
    for _ in range(args.repeats):
        for label, norm in ways(args.model):
            with tempfile.TemporaryDirectory() as out, mock.patch.object(registry, NORMS[args.model], norm):
                r = train_model(args.model, split, profile, seed=42, output_dir=out, progress="none")
            print(f"| {label} | {r.record['images_per_second']:,.0f} | {r.record['train_time_s']:.1f} | "
                  f"{r.record['val_accuracy']:.2%} | {r.test_accuracy:.2%} |", flush=True)


if __name__ == "__main__":
    main()
