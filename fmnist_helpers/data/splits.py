"""The train/validation/test splits the five studies used, reproducible from a seed.

Every split keeps the official test set as its test set and records which training indices
went where, so a notebook can prove that no test image reaches training.

| split                 | study        | train  | validation            |
|-----------------------|--------------|--------|-----------------------|
| `holdout_split`       | wits         | 48,000 | 12,000 (stratified)   |
| `first_n_split`       | uw           | 55,000 | first 5,000 images    |
| `test_as_validation`  | kh           | 60,000 | the 10,000 test images|
| `kfold_splits`        | bu, tuning   | k-1 folds | 1 fold (stratified)|

Usage:
    split = holdout_split(ds, val_size=12_000, seed=42)
    split.x_train.shape  # (48000, 28, 28)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from fmnist_helpers.data.datasets import Dataset


@dataclass(frozen=True)
class Split:
    """Train, validation and test arrays plus the training-set indices behind train and validation.

    `val_indices` is None when the validation set is the test set (the `kh` study's choice).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    train_indices: np.ndarray
    val_indices: np.ndarray | None

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "validation": len(self.y_val), "test": len(self.y_test)}


def _check_size(name: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")


def _from_indices(name: str, ds: Dataset, train_idx: np.ndarray, val_idx: np.ndarray) -> Split:
    return Split(name, ds.x_train[train_idx], ds.y_train[train_idx], ds.x_train[val_idx], ds.y_train[val_idx],
                 ds.x_test, ds.y_test, train_idx, val_idx)


def holdout_split(ds: Dataset, val_size: int = 12_000, seed: int = 42) -> Split:
    """A stratified random hold-out of `val_size` training images (the `wits` 48k/12k split)."""
    n = len(ds.y_train)
    _check_size("val_size", val_size, ds.num_classes, n - ds.num_classes)
    train_idx, val_idx = train_test_split(np.arange(n), test_size=val_size, stratify=ds.y_train,
                                          random_state=seed, shuffle=True)
    return _from_indices(f"holdout-{val_size}", ds, np.sort(train_idx), np.sort(val_idx))


def first_n_split(ds: Dataset, n_val: int = 5_000) -> Split:
    """The first `n_val` training images as validation, the rest as training (the `uw` split)."""
    n = len(ds.y_train)
    _check_size("n_val", n_val, 1, n - 1)
    return _from_indices(f"first-{n_val}", ds, np.arange(n_val, n), np.arange(n_val))


def test_as_validation(ds: Dataset) -> Split:
    """All 60,000 training images for training, the test set doubling as validation (the `kh` setup).

    Scores on it are optimistic once they have guided any choice; the notebooks say so where used.
    """
    idx = np.arange(len(ds.y_train))
    return Split("test-as-validation", ds.x_train, ds.y_train, ds.x_test, ds.y_test, ds.x_test, ds.y_test,
                 idx, None)


test_as_validation.__test__ = False  # keep pytest from collecting this function as a test


def kfold_splits(ds: Dataset, k: int = 3, seed: int = 42) -> list[Split]:
    """Stratified k-fold splits of the training set: fold i validates on its own 1/k of the images."""
    _check_size("k", k, 2, 20)
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [
        _from_indices(f"fold-{i + 1}-of-{k}", ds, train_idx, val_idx)
        for i, (train_idx, val_idx) in enumerate(folds.split(np.zeros(len(ds.y_train)), ds.y_train))
    ]


def subsample(split: Split, n_train: int | None, n_val: int | None = None, seed: int = 0) -> Split:
    """A random smaller copy of a split for the smoke and quick profiles (the test set stays whole)."""
    rng = np.random.default_rng(seed)

    def pick(idx_len: int, n: int | None) -> np.ndarray:
        if n is None or n >= idx_len:
            return np.arange(idx_len)
        return np.sort(rng.choice(idx_len, size=n, replace=False))

    t, v = pick(len(split.y_train), n_train), pick(len(split.y_val), n_val)
    return Split(
        f"{split.name}-sub", split.x_train[t], split.y_train[t], split.x_val[v], split.y_val[v],
        split.x_test, split.y_test, split.train_indices[t],
        None if split.val_indices is None else split.val_indices[v],
    )


def recipe_splits(ds: Dataset, name: str, seed: int = 42) -> list[Split]:
    """Every split a recipe's split name gives: one per fold for "kfold-<k>", else the one `make_split` makes.

    Usage:
        folds = recipe_splits(ds, "kfold-3", seed=42)     # three Splits
    """
    if name.startswith("kfold-"):
        return kfold_splits(ds, int(name.split("-")[1]), seed=seed)
    return [make_split(ds, name, seed=seed)]


def make_split(ds: Dataset, name: str, seed: int = 42) -> Split:
    """A split by the name a model recipe uses: "holdout-<n>", "first-<n>" or "test-as-validation".

    (k-fold splits come from `kfold_splits`, one Split per fold.)
    """
    kind, _, size = name.rpartition("-") if name != "test-as-validation" else (name, "", "")
    if name == "test-as-validation":
        return test_as_validation(ds)
    if kind in ("holdout", "first") and size.isdigit():
        return holdout_split(ds, int(size), seed) if kind == "holdout" else first_n_split(ds, int(size))
    raise ValueError(f"split {name!r} is not accepted; use 'holdout-<n>', 'first-<n>' or 'test-as-validation'")
