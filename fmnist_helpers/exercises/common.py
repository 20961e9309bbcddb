"""Building blocks the notebooks' exercises share: answer-form checks and the classic mistakes
(percent for a fraction, a sign error, a fraction for points), so each is written once.

Usage:
    from fmnist_helpers.exercises.core import Answer
    Answer(..., validate=need_number, mistakes=(sign_error("the task asks for A minus B", 2.5),
                                                fraction_for_points(2.5)))
"""
from __future__ import annotations

import cmath
import math
import numbers
from typing import Any, Callable

import numpy as np

from .core import Mistake, _resolve
from .untrusted import describe


def is_number(x: Any) -> bool:
    """Whether `x` is one finite number (a whole number of any size counts; a bool, NaN or inf does not)."""
    if not isinstance(x, (numbers.Number, np.number)) or isinstance(x, (bool, np.bool_)):
        return False
    if isinstance(x, (numbers.Integral, np.integer)):
        return True
    try:
        return cmath.isfinite(x) if isinstance(x, (numbers.Complex, np.complexfloating)) and not isinstance(
            x, numbers.Real) else math.isfinite(x)
    except (TypeError, ValueError, OverflowError):
        return False


def need_number(answer: Any, context: dict[str, Any] | None = None) -> str | None:
    """A message when `answer` is not one finite number (a string, a list, a bool, NaN)."""
    if isinstance(answer, str):
        return f"give a number, e.g. `1234` or `0.25`, not the string {describe(answer)}."
    if isinstance(answer, float) and answer != answer:
        return ("give one finite number; got NaN, which comes out of an operation that has no answer: the square "
                "root of a negative number (is a share in percent where 1 - p needs a fraction?), 0 / 0, or a "
                "mean of nothing.")
    if not is_number(answer):
        return f"give one finite number; got {type(answer).__name__} {describe(answer)}."
    return None


def need_int_tuple(length: int) -> Callable[[Any, dict[str, Any]], str | None]:
    """A validator for an answer that is a tuple of `length` whole numbers, e.g. a shape."""

    def validate(answer: Any, context: dict[str, Any] | None = None) -> str | None:
        if not isinstance(answer, (tuple, list)) or len(answer) != length:
            example = tuple(range(1, length + 1))
            return f"give a tuple of {length} whole numbers, e.g. {example}; got {describe(answer)}."
        if not all(isinstance(v, (numbers.Integral, np.integer)) for v in answer):
            return f"every entry must be a whole number; got {describe(answer)}."
        return None

    return validate


def sign_error(what: str, expected: Any) -> Mistake:
    """The answer with its sign flipped: subtracted the wrong way round."""
    return Mistake(f"the sign is reversed: {what}. Subtract in the order the task gives.",
                   lambda ctx: -_resolve(expected, ctx))


def fraction_for_points(expected_points: Any) -> Mistake:
    """A difference in accuracy points given as a fraction (0.012 for 1.2 points)."""
    return Mistake("that is a fraction of 1; the task asks for accuracy points (multiply by 100: 0.012 is 1.2 "
                   "points).", lambda ctx: _resolve(expected_points, ctx) / 100)


def percent_for_fraction(expected_fraction: Any) -> Mistake:
    """An accuracy given in percent (91.3) where a fraction (0.913) is asked for."""
    return Mistake("that looks like a percentage; give the accuracy as a fraction between 0 and 1 (91.3% is "
                   "0.913).", lambda ctx: _resolve(expected_fraction, ctx) * 100)


def class_name_problem(answer: Any, class_names: tuple[str, ...]) -> str | None:
    """A message when `answer` is not one of the dataset's class names."""
    if not isinstance(answer, str) or answer not in class_names:
        return f"{describe(answer)} is not a class of this dataset; choose one of: {', '.join(map(repr, class_names))}."
    return None


_METRIC_NAMES = {"accuracy": ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy")}


def history_values(history: Any, split: str, metric: str = "accuracy") -> list[float] | None:
    """One metric per epoch (`split` "train" or "validation") from a Keras History, its dict or the pack's tidy
    DataFrame; None when the history has no such values or is malformed."""
    history = getattr(history, "history", history)
    try:
        if hasattr(history, "columns") and {"epoch", "split", "metric", "value"} <= set(history.columns):
            part = history[(history["split"] == split) & (history["metric"] == metric)].sort_values("epoch")
            values = [float(v) for v in part["value"]]
            return values or None
        if isinstance(history, dict):
            prefix = "val_" if split == "validation" else ""
            for name in _METRIC_NAMES.get(metric, (metric,)):
                values = history.get(prefix + name)
                if values is not None and len(values):
                    return [float(v) for v in values]
    except Exception:  # noqa: BLE001 - a malformed history
        return None
    return None


def seeded_rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)
