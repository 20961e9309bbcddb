"""Scores and tables from predictions: confusion matrices, per-class accuracy, the most confused pairs,
per-epoch tables, the "reported vs reproduced" table of the studies and mean +- sd over seeds. The tests and verdicts
live in `statistics`; McNemar's test is also reachable here (`evaluation.mcnemar`) for the lessons.

Usage:
    table = confusion_table(y_test, result.test_predictions, ds.class_names, normalize=True)
    per_class_accuracy(y_test, result.test_predictions, ds.class_names)
    reproduction_table([result.record for result in results])
    mcnemar(y_test, ann_pred, cnn_pred).p_value        # paired test of two models on the same images
    seed_summary(runs, by=["dataset", "model"])         # mean +- sd over repeated seeds
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from fmnist_helpers.analysis.statistics import (McNemar, against_reported, mcnemar, mcnemar_counts,  # noqa: F401
                                                mcnemar_sentence)



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


def reproduction_table(records: Iterable[dict[str, Any]], reported_key: str | None = None,
                       dataset: str = "fashion_mnist", classes: int = 10) -> pd.DataFrame:
    """One row per trained model: the study's parameter count and accuracy beside the reproduction's.

    `records` are training records (`TrainResult.record`); the reported accuracy is the study's test figure,
    else its validation figure, unless `reported_key` names another entry of the record's `reported` dict.
    Each row's verdict is `statistics.against_reported`: the Wilson interval of the reproduced accuracy against the
    reported figure, a validation figure against the reproduction's validation accuracy (`val_accuracy` on
    `n_val` images), else the test accuracy on `n_test` images ("consistent", "above", "below", or "at chance"). On
    `dataset="mnist"` only a figure the study gave for MNIST (`mnist_test_accuracy`) counts: the studies'
    Fashion-MNIST figures say nothing about an MNIST score.
    """
    rows = []
    for rec in records:
        reported = rec.get("reported") or {}
        if dataset == "mnist":
            reported = {k: v for k, v in reported.items() if k == "mnist_test_accuracy"}
            reported_key = "mnist_test_accuracy"
        key = reported_key if reported_key in reported else (
            "test_accuracy" if "test_accuracy" in reported else "val_accuracy")
        rep = reported.get(key)
        on_val = key.startswith("val") and rec.get("val_accuracy") is not None and rec.get("n_val")
        score, n = (rec["val_accuracy"], rec["n_val"]) if on_val else (rec["test_accuracy"], rec["n_test"])
        check = against_reported(score, n, rep, classes) if rep is not None else None
        rows.append({
            "model": rec["name"], "study": rec["study"], "kind": rec.get("kind"),
            "reported parameters": rec.get("reported_params"), "parameters": rec["parameters"],
            "reported accuracy": rep, "reported figure": key.replace("_", " ") if rep is not None else "",
            "reproduced test accuracy": rec["test_accuracy"], "test images": rec["n_test"],
            "reproduced validation accuracy": rec.get("val_accuracy"), "validation images": rec.get("n_val"),
            "interval low": check.interval.low if check else np.nan,
            "interval high": check.interval.high if check else np.nan,
            "difference (points)": check.difference_points if check else np.nan,
            "verdict": check.verdict if check else "no reported figure",
            "epochs": rec["epochs_run"], "train time (s)": rec["train_time_s"],
        })
    return pd.DataFrame(rows).set_index("model")


# ----------------------------------------------------------------- repeats

def seed_summary(scores: pd.DataFrame, by: Sequence[str], value: str = "test_accuracy") -> pd.DataFrame:
    """Mean, standard deviation (n - 1) and count of `value` over repeated seeds, for each group of `by`.

    Usage:
        seed_summary(runs, by=["dataset", "model"])   # columns: mean, sd, n, and "mean +- sd" as text

    A group with one run has sd 0.0 and the text "91.04% (one seed, no sd)": one run shows no spread, not zero spread.
    """
    missing = [c for c in [*by, value] if c not in scores.columns]
    if missing:
        raise ValueError(f"scores has no column(s) {', '.join(missing)}; it has: {', '.join(scores.columns)}")
    table = scores.groupby(list(by), sort=False)[value].agg(mean="mean", sd="std", n="count")
    table["sd"] = table["sd"].fillna(0.0)  # a single seed has no spread to show
    table["mean +- sd"] = [f"{m:.2%} +- {s * 100:.2f}" if n > 1 else f"{m:.2%} (one seed, no sd)"
                           for m, s, n in zip(table["mean"], table["sd"], table["n"])]
    return table


def class_fixes(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray,
                class_names: Sequence[str]) -> pd.DataFrame:
    """Per true class: accuracy of A and of B, images B fixes (A wrong, B right), images B breaks, and B - A.

    Usage:
        class_fixes(ds.y_test, ann_pred, cnn_pred, ds.class_names).sort_values("B - A")
    """
    y_true, pred_a = _labels(y_true, pred_a, len(class_names))
    _, pred_b = _labels(y_true, pred_b, len(class_names))
    right_a, right_b = pred_a == y_true, pred_b == y_true
    n = len(class_names)
    table = pd.DataFrame({
        "A accuracy": per_class_accuracy(y_true, pred_a, class_names).to_numpy(),
        "B accuracy": per_class_accuracy(y_true, pred_b, class_names).to_numpy(),
        "B fixes": np.bincount(y_true[~right_a & right_b], minlength=n),
        "B breaks": np.bincount(y_true[right_a & ~right_b], minlength=n),
        "both wrong": np.bincount(y_true[~right_a & ~right_b], minlength=n),
    }, index=pd.Index(class_names, name="class"))
    table["B - A"] = table["B accuracy"] - table["A accuracy"]
    return table
