"""Scores and tables from predictions: confusion matrices, per-class accuracy, the most confused pairs,
per-epoch tables, the "reported vs reproduced" comparison with the studies, and the statistics that compare
models honestly (mean +- sd over seeds, McNemar's paired test).

Usage:
    table = confusion_table(y_test, result.test_predictions, ds.class_names, normalize=True)
    per_class_accuracy(y_test, result.test_predictions, ds.class_names)
    reproduction_table([result.record for result in results])
    mcnemar(y_test, ann_pred, cnn_pred).p_value        # paired test of two models on the same images
    seed_summary(runs, by=["dataset", "model"])         # mean +- sd over repeated seeds
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd



@dataclass(frozen=True)
class NoiseBand:
    """How far apart two scores of this run may lie by chance, in accuracy points.

    `points` is two times the larger of the test set's binomial standard error and the spread (sd) between
    seeds, when the run measured one; `basis` says which of the two set it.
    """
    points: float
    standard_error_points: float
    seed_sd_points: float | None
    n_test: int

    @property
    def basis(self) -> str:
        if self.seed_sd_points is not None and self.seed_sd_points > self.standard_error_points:
            return "the spread between seeds"
        return "the test set's sampling error"

    def sentence(self) -> str:
        """One line for a notebook: the band and where it comes from."""
        seeds = ("one seed, so the spread between seeds is not measured here" if self.seed_sd_points is None
                 else f"seed sd {self.seed_sd_points:.2f} points")
        return (f"noise band +-{self.points:.2f} points: two times the larger of the binomial standard error of "
                f"{self.n_test:,} test images ({self.standard_error_points:.2f} points) and the seed spread "
                f"({seeds}); set by {self.basis}")


def binomial_se_points(accuracy: float, n_test: int) -> float:
    """The standard error, in points, of an accuracy measured on `n_test` independent images."""
    if n_test <= 0:
        raise ValueError(f"n_test must be a positive number of test images, got {n_test}")
    p = min(max(float(accuracy), 0.0), 1.0)
    return 100 * math.sqrt(p * (1 - p) / n_test)


def noise_band(accuracies: float | Sequence[float], n_test: int) -> NoiseBand:
    """The noise band of this run's scores: 2 x max(binomial standard error, seed sd), in points.

    `accuracies` is one test accuracy (one seed) or the scores of one recipe over several seeds.

        noise_band(0.89, 10_000).points            # 0.63
        noise_band([0.8486, 0.7869], 10_000).points  # 8.72: two seeds 6 points apart
    """
    scores = np.atleast_1d(np.asarray(accuracies, dtype=float))
    if scores.size == 0 or not np.all(np.isfinite(scores)):
        raise ValueError(f"accuracies must be one or more finite numbers in [0, 1], got {accuracies!r}")
    se = binomial_se_points(float(scores.mean()), n_test)
    sd = float(scores.std(ddof=1)) * 100 if scores.size > 1 else None
    return NoiseBand(2 * max(se, sd or 0.0), se, sd, int(n_test))


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


def verdict(difference_points: float, noise: float) -> str:
    """'within noise', 'above' or 'below' for a difference in accuracy points, given the run's noise band
    (`noise_band(...).points`)."""
    if not np.isfinite(difference_points):
        return "no reported figure"
    if abs(difference_points) <= noise:
        return "within noise"
    return "above" if difference_points > 0 else "below"


def reproduction_table(records: Iterable[dict[str, Any]], reported_key: str | None = None,
                       noise: float | None = None, dataset: str = "fashion_mnist") -> pd.DataFrame:
    """One row per trained model: the study's parameter count and accuracy beside the reproduction's.

    `records` are training records (`TrainResult.record`); the reported accuracy is the study's test figure,
    else its validation figure, unless `reported_key` names another entry of the record's `reported` dict.
    `noise` is the band in points; None gives each row its own from its test set (`noise_band`). On
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
        diff = (rec["test_accuracy"] - rep) * 100 if rep is not None else float("nan")
        band = noise if noise is not None else noise_band(rec["test_accuracy"], rec["n_test"]).points
        rows.append({
            "model": rec["name"], "study": rec["study"], "kind": rec.get("kind"),
            "reported parameters": rec.get("reported_params"), "parameters": rec["parameters"],
            "reported accuracy": rep, "reported figure": key.replace("_", " ") if rep is not None else "",
            "reproduced test accuracy": rec["test_accuracy"], "difference (points)": diff,
            "noise band (points)": band, "verdict": verdict(diff, band), "epochs": rec["epochs_run"], "train time (s)": rec["train_time_s"],
        })
    return pd.DataFrame(rows).set_index("model")


# ----------------------------------------------------------------- repeats and paired tests

EXACT_BELOW = 25
"""McNemar's test is exact (binomial) when fewer than this many images are disagreements, as is usual."""


@dataclass(frozen=True)
class McNemar:
    """McNemar's test of two classifiers on the same images.

    `only_a` counts images model A gets right and model B wrong; `only_b` the reverse. Images both get right or
    both get wrong say nothing about which is better and are left out.
    """

    only_a: int
    only_b: int
    statistic: float  # the chi-square statistic (continuity-corrected), or the smaller count when exact
    p_value: float
    method: str  # "exact" or "chi-square"

    @property
    def disagreements(self) -> int:
        return self.only_a + self.only_b

    def significant(self, alpha: float = 0.05) -> bool:
        return self.p_value < alpha


def _binomial_two_sided(k: int, n: int) -> float:
    """P(X <= min(k, n-k)) * 2 for X ~ Binomial(n, 1/2), capped at 1: the exact McNemar p-value."""
    if n == 0:
        return 1.0
    low = min(k, n - k)
    tail = sum(math.comb(n, i) for i in range(low + 1)) / 2**n
    return min(1.0, 2 * tail)


def mcnemar(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray, exact: bool | None = None) -> McNemar:
    """McNemar's test of whether models A and B differ in accuracy on the same test images.

    `exact=None` uses the exact binomial test when there are fewer than `EXACT_BELOW` disagreements, else the
    chi-square test with continuity correction, (|b - c| - 1)^2 / (b + c) on one degree of freedom.

    Usage:
        test = mcnemar(ds.y_test, ann.test_predictions, cnn.test_predictions)
        test.only_a, test.only_b, test.p_value
    """
    y_true = np.asarray(y_true)
    pred_a, pred_b = np.asarray(pred_a), np.asarray(pred_b)
    if not (y_true.shape == pred_a.shape == pred_b.shape) or y_true.ndim != 1:
        raise ValueError(f"y_true, pred_a and pred_b must be 1-D arrays of one length, got {y_true.shape}, "
                         f"{pred_a.shape} and {pred_b.shape}")
    right_a, right_b = pred_a == y_true, pred_b == y_true
    return mcnemar_counts(int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b)), exact)


def mcnemar_counts(b: int, c: int, exact: bool | None = None) -> McNemar:
    """McNemar's test from its two counts: `b` images only model A gets right, `c` only model B (see `mcnemar`).

    Usage:
        mcnemar_counts(120, 60).p_value
    """
    n = b + c
    if exact is None:
        exact = n < EXACT_BELOW
    if exact:
        return McNemar(b, c, float(min(b, c)), _binomial_two_sided(b, n), "exact")
    stat = (abs(b - c) - 1) ** 2 / n if n else 0.0
    return McNemar(b, c, float(stat), math.erfc(math.sqrt(stat / 2)), "chi-square")


def mcnemar_sentence(test: McNemar, name_a: str, name_b: str, alpha: float = 0.05) -> str:
    """One plain sentence on whether the difference between two models is beyond noise."""
    lead = (f"{name_a} alone is right on {test.only_a:,} images, {name_b} alone on {test.only_b:,}; if the two were "
            f"equally accurate, a split at least this lopsided would have probability p = {test.p_value:.2g} "
            f"(McNemar, {test.method}): ")
    if not test.significant(alpha):
        return lead + f"the difference is within noise at the {alpha:.0%} level."
    better = name_a if test.only_a > test.only_b else name_b
    return lead + f"{better} is better beyond noise at the {alpha:.0%} level."


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
