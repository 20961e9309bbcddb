"""A run's history as a tidy table, and the one rule for its best epoch (training, search and the grid use it).

Usage:
    history = tidy_history({"loss": [0.6, 0.4], "val_accuracy": [0.80, 0.86]})   # epoch, split, metric, value
    best_epoch(history)                      # 2: the highest validation accuracy, the earliest on ties
    kept_epoch(history, spec.recipe)         # the epoch whose weights a trained model keeps
    ends_at_epoch(history, spec.recipe, 5)   # True: the run is what a fresh 5-epoch run would give
    epoch_values(history, 2)[("validation", "accuracy")]
"""
from __future__ import annotations

import pandas as pd

from fmnist_helpers.models.registry import Recipe

COLUMNS = ["epoch", "split", "metric", "value"]


def tidy_history(history: dict[str, list[float]]) -> pd.DataFrame:
    """Keras's history dict ({"loss": [...], "val_accuracy": [...]}) -> rows of epoch, split, metric, value."""
    rows = []
    for key, values in history.items():
        split, metric = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
        if metric == "learning_rate":
            continue
        rows += [(epoch, split, metric, float(v)) for epoch, v in enumerate(values, start=1)]
    return pd.DataFrame(rows, columns=COLUMNS)


def best_epoch(history: pd.DataFrame, metric: str = "accuracy") -> int:
    """The epoch with the best validation `metric` (highest accuracy, lowest loss); the earliest on ties."""
    rows = history[(history["split"] == "validation") & (history["metric"] == metric)]
    if rows.empty:
        raise ValueError(f"the history has no validation {metric!r}; it has: "
                         f"{sorted(set(zip(history['split'], history['metric'])))}")
    rows = rows.sort_values("epoch")
    pick = rows["value"].idxmin() if metric == "loss" else rows["value"].idxmax()
    return int(rows.loc[pick, "epoch"])


def kept_epoch(history: pd.DataFrame, recipe: Recipe) -> int:
    """The epoch whose weights a trained model keeps: the last, unless the recipe restores the best validation
    epoch (by loss when it stops early, else by accuracy)."""
    if not recipe.restore_best:
        return int(history["epoch"].max())
    return best_epoch(history, "loss" if recipe.early_stopping else "accuracy")


def ends_at_epoch(history: pd.DataFrame, recipe: Recipe, epochs: int) -> bool:
    """Whether a run already holds what training again from scratch for `epochs` epochs, keeping the last epoch,
    with the same seed, data and recipe otherwise, would give: it trained exactly `epochs` epochs and kept the last
    one's weights.

    A fresh run with the same seed repeats the first `epochs` epochs step for step (the same initial weights, the
    same batches in the same order); callbacks that only watch, or restore the epoch that is the last anyway,
    change nothing. So s05 keeps such a retraining as its final model instead of training it twice.
    """
    last = int(history["epoch"].max())
    return last == epochs and kept_epoch(history, recipe) == last


def epoch_values(history: pd.DataFrame, epoch: int) -> pd.Series:
    """Every metric of one epoch, indexed by (split, metric)."""
    return history[history["epoch"] == epoch].set_index(["split", "metric"])["value"]
