"""How a wrong answer relates to the right one, for the answers no exercise foresaw: a factor of 100 (percent and
fraction), a reversed sign, off by one, a rounding, a whole number cut down, a factor such as 2 or 3, and for
shapes the right sides in another order, an extra or a missing axis, or one side off by one.

A check calls `slip` only after the exercise's own `Mistake`s found nothing; it names the relation it finds in
words a student can act on, and says nothing (None) when it finds none or when the answer is not plain numbers.

Usage:
    slip(83, 0.8312)             # 'that is the answer written as a percentage ...'
    slip((32, 26, 26), (26, 26, 32))   # 'the right numbers in another order ...'
    slip((0.3, 0.0, 0.9), (0.4, 0.0, 1.2))   # 'every entry is off in the same way: ... 1/... of the right answer'
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

_FACTORS = (2, 3, 4, 8, 10, 16, 28, 32, 64, 128, 256, 784, 1000)  # small ones, batch sizes, image sides


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _close(a: float, b: float, rel: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def _rounded(a: float, b: float) -> int | None:
    """The number of decimals `b` was rounded to if `a` is that rounding, else None."""
    for decimals in range(0, 4):
        if _close(a, round(b, decimals)) and not _close(a, b):
            return decimals
    return None


def number_slip(answer: float, expected: float) -> str | None:
    """The relation of a wrong number to the right one, in words; None when none is found."""
    if _close(expected, 0.0):
        return None
    if _close(answer, -expected):
        return "it has the right size but the wrong sign: subtract in the order the task gives."
    for scale, text in ((100, "the answer written as a percentage (or in points) where the task asks for a "
                              "fraction of 1"),
                        (0.01, "the answer written as a fraction of 1 where the task asks for a percentage or "
                               "points (multiply by 100)")):
        if _close(answer, expected * scale) or _rounded(answer, expected * scale) is not None:
            return f"that is {text}."
    if abs(expected) >= 1 and (_close(answer, expected + 1) or _close(answer, expected - 1)):
        return f"it is off by one ({'one more' if answer > expected else 'one less'} than the right answer): " \
               f"check where counting starts and whether the last one is included."
    if abs(expected) >= 1 and not float(expected).is_integer() and answer in (math.floor(expected),
                                                                              math.ceil(expected)):
        return ("the right answer is not a whole number and this is it made whole: was a division cut down "
                "(`//`, `int`) or the result rounded?")
    decimals = _rounded(answer, expected)
    if decimals is not None:
        return f"it is the right answer rounded to {decimals} decimal{'s' if decimals != 1 else ''}: give it " \
               f"unrounded, as the code computes it."
    for factor in _FACTORS:
        if _close(answer, expected * factor):
            return f"it is exactly {factor} times the right answer: something is counted {factor} times over."
        if _close(answer * factor, expected):
            return f"it is exactly 1/{factor} of the right answer: something is left out or divided by {factor}."
    for parts in range(3, 101):
        for have, word in ((parts - 1, "one part too few"), (parts + 1, "one part too many")):
            if _close(answer, expected * have / parts):
                return (f"it is exactly {have}/{parts} of the right answer: {word} of {parts} equal ones "
                        f"(an epoch, a batch, a fold?).")
    return None


def shape_slip(answer: tuple, expected: tuple) -> str | None:
    """The relation of a wrong tuple of whole numbers (a shape) to the right one; None when none is found."""
    if sorted(answer) == sorted(expected):
        return ("the right numbers in another order; for a shape, Keras puts channels last, (height, width, "
                "channels), and a batch of images first, (images, height, width, channels).")
    if len(answer) == len(expected) + 1:
        for i in range(len(answer)):
            if answer[:i] + answer[i + 1:] == expected:
                return f"it has one axis too many (the {answer[i]} at position {i + 1}): drop it."
    if len(answer) + 1 == len(expected):
        for i in range(len(expected)):
            if expected[:i] + expected[i + 1:] == answer:
                return f"it lacks an axis: the right shape has {len(expected)} sides, this one {len(answer)}."
    if len(answer) == len(expected):
        off = [i for i, (a, e) in enumerate(zip(answer, expected)) if a != e]
        if off and all(abs(answer[i] - expected[i]) == 1 for i in off):
            return "each side that differs is off by one: count the positions where the whole window fits, " \
                   "the first and the last included."
    return None


def sequence_slip(answer: list[float], expected: list[float]) -> str | None:
    """The relation of a wrong sequence of numbers to the right one when every entry shares it (each 100 times,
    each the negative, each 3 times the right one): a step applied to the whole sequence."""
    if len(answer) != len(expected):
        return None
    wrong = [i for i, (a, e) in enumerate(zip(answer, expected)) if not _close(a, e, 1e-4)]
    if len(wrong) == 1 and len(answer) > 2:
        i = wrong[0]
        return (f"every entry is right but entry {i + 1} (counting from 1): {answer[i]:g} where {expected[i]:g} "
                f"belongs.")
    pairs = [(a, e) for a, e in zip(answer, expected) if not _close(e, 0.0)]
    if not pairs or any(not _close(a, 0.0) for a, e in zip(answer, expected) if _close(e, 0.0)):
        return None
    ratio = pairs[0][0] / pairs[0][1]
    if not all(_close(a, e * ratio, 1e-4) for a, e in pairs):
        return None
    found = number_slip(ratio, 1.0)
    return f"every entry is off in the same way: {found}" if found and "off by one" not in found else None


def array_slip(answer: np.ndarray, expected: np.ndarray) -> str | None:
    """The relation of a wrong array to the right one: its axes in another order, whole numbers where fractions
    belong (an integer dtype such as uint8), or every entry off by one common factor."""
    if answer.shape != expected.shape:
        if sorted(answer.shape) == sorted(expected.shape):
            return f"its axes are in another order: shape {answer.shape}, where {expected.shape} is asked."
        if answer.size == expected.size:
            return f"the right number of values in another shape: {answer.shape}, where {expected.shape} is asked."
        return None
    a, e = answer.astype(float), expected.astype(float)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(e))):
        return None
    if np.allclose(a, np.floor(e)) or np.allclose(a, np.round(e)):
        return ("the values are cut to whole numbers: compute in floating point (an integer dtype such as uint8 "
                "drops the fractions).")
    nonzero = np.abs(e) > 1e-12
    if nonzero.any() and np.allclose(a[~nonzero], 0.0):
        ratio = a[nonzero] / e[nonzero]
        if np.allclose(ratio, ratio[0], rtol=1e-4):
            found = number_slip(float(ratio[0]), 1.0)
            if found and "off by one" not in found:
                return f"every value is off in the same way: {found}"
    return None


def slip(answer: Any, expected: Any) -> str | None:
    """What relates a wrong `answer` to `expected` (numbers, or tuples of whole numbers), or None."""
    try:
        if isinstance(answer, np.ndarray) and isinstance(expected, np.ndarray) and answer.dtype.kind in "biuf" \
                and expected.dtype.kind in "biuf":
            return array_slip(answer, expected)
        a, e = _number(answer), _number(expected)
        if a is not None and e is not None:
            return number_slip(a, e)
        if isinstance(answer, (tuple, list)) and isinstance(expected, (tuple, list)) and answer and expected:
            if all(isinstance(x, int) and not isinstance(x, bool) for x in (*answer, *expected)):
                return shape_slip(tuple(answer), tuple(expected))
            numbers = [_number(x) for x in (*answer, *expected)]
            if all(x is not None for x in numbers):
                return sequence_slip(numbers[:len(answer)], numbers[len(answer):])
    except Exception:  # noqa: BLE001 - an odd answer gets no diagnosis, never an error
        return None
    return None
