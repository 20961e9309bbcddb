"""Scores and tables from predictions: confusion matrices, per-class accuracy, the most confused pairs,
per-epoch tables and the "reported vs reproduced" comparison with the studies.

Usage:
    table = confusion_table(y_test, result.test_predictions, ds.class_names, normalize=True)
    per_class_accuracy(y_test, result.test_predictions, ds.class_names)
    reproduction_table([result.record for result in results])
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

NOISE_POINTS = 0.6
"""Differences within +-0.6 accuracy points count as noise: about two standard errors of a 10,000-image
test score near 90%, plus the spread between seeds of one recipe."""


def _labels(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D arrays of the same length, got {y_true.shape} and "
                         f"{y_pred.shape}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= num_classes):
            raise ValueError(f"{name} holds labels outside 0..{num_classes - 1}")
    return y_true, y_pred


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Counts: row = true class, column = predicted class."""
    y_true, y_pred = _labels(y_true, y_pred, num_classes)
    return np.bincount(y_true * num_classes + y_pred, minlength=num_classes**2).reshape(num_classes, num_classes)


def confusion_table(y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str],
                    normalize: bool = False) -> pd.DataFrame:
    """The confusion matrix labelled by class; `normalize=True` divides each row by its true-class total."""
    cm = confusion_matrix(y_true, y_pred, len(class_names)).astype(float if normalize else int)
    if normalize:
        totals = cm.sum(axis=1, keepdims=True)
        cm = np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)
    return pd.DataFrame(cm, index=pd.Index(class_names, name="true class"),
                        columns=pd.Index(class_names, name="predicted class"))


def per_class_accuracy(y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]) -> pd.Series:
    """Share of each true class predicted correctly (recall), indexed by class name; NaN for absent classes."""
    cm = confusion_matrix(y_true, y_pred, len(class_names))
    totals = cm.sum(axis=1)
    acc = np.where(totals > 0, np.diag(cm) / np.maximum(totals, 1), np.nan)
    return pd.Series(acc, index=pd.Index(class_names, name="class"), name="accuracy")


def most_confused_pairs(y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str],
                        top: int = 5) -> pd.DataFrame:
    """The `top` (true, predicted) pairs with the most mistakes, with their share of the true class."""
    cm = confusion_matrix(y_true, y_pred, len(class_names))
    totals = cm.sum(axis=1)
    rows = [{"true": class_names[i], "predicted as": class_names[j], "count": int(cm[i, j]),
             "share of true class": cm[i, j] / totals[i]}
            for i in range(len(class_names)) for j in range(len(class_names)) if i != j and cm[i, j] > 0]
    table = pd.DataFrame(rows, columns=["true", "predicted as", "count", "share of true class"])
    return table.sort_values(["count", "true"], ascending=[False, True]).head(top).reset_index(drop=True)


def epoch_table(history: pd.DataFrame) -> pd.DataFrame:
    """A tidy history as one row per epoch: train loss and accuracy, validation loss and accuracy."""
    wide = history.pivot_table(index="epoch", columns=["split", "metric"], values="value")
    order = [c for c in [("train", "loss"), ("train", "accuracy"), ("validation", "loss"),
                         ("validation", "accuracy")] if c in wide.columns]
    wide = wide[order]
    wide.columns = [f"{'val ' if s == 'validation' else ''}{m}" for s, m in wide.columns]
    return wide


def overfitting_gap(history: pd.DataFrame) -> pd.Series:
    """Train minus validation accuracy per epoch: a growing gap is the signature of overfitting."""
    table = epoch_table(history)
    return (table["accuracy"] - table["val accuracy"]).rename("train - validation accuracy")


def verdict(difference_points: float, noise: float = NOISE_POINTS) -> str:
    """'within noise', 'above' or 'below' for a reproduced-minus-reported difference in accuracy points."""
    if not np.isfinite(difference_points):
        return "no reported figure"
    if abs(difference_points) <= noise:
        return "within noise"
    return "above" if difference_points > 0 else "below"


def reproduction_table(records: Iterable[dict[str, Any]], reported_key: str | None = None,
                       noise: float = NOISE_POINTS) -> pd.DataFrame:
    """One row per trained model: the study's parameter count and accuracy beside the reproduction's.

    `records` are training records (`TrainResult.record`); the reported accuracy is the study's test figure,
    else its validation figure, unless `reported_key` names another entry of the record's `reported` dict.
    """
    rows = []
    for rec in records:
        reported = rec.get("reported") or {}
        key = reported_key if reported_key in reported else (
            "test_accuracy" if "test_accuracy" in reported else "val_accuracy")
        rep = reported.get(key)
        diff = (rec["test_accuracy"] - rep) * 100 if rep is not None else float("nan")
        rows.append({
            "model": rec["name"], "study": rec["study"],
            "reported parameters": rec.get("reported_params"), "parameters": rec["parameters"],
            "reported accuracy": rep, "reported figure": key.replace("_", " ") if rep is not None else "",
            "reproduced test accuracy": rec["test_accuracy"], "difference (points)": diff,
            "verdict": verdict(diff, noise), "epochs": rec["epochs_run"], "train time (s)": rec["train_time_s"],
        })
    return pd.DataFrame(rows).set_index("model")
