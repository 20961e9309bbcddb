"""How a wrong answer relates to the right one, for the answers no exercise foresaw: a factor of 100 (percent and
fraction), a reversed sign, off by one, a rounding, a whole number cut down, the answer in thousands, one minus
it, its square or square root, a factor, n-1 of n parts; for shapes the right sides in another order, an extra or
a missing axis, or one side off by one; for sequences and arrays a step applied to every entry, one entry wrong,
the right values in another order (mirrored, shifted by one, sorted), a running total, a factor of its own for
each entry along the first axis (a sum where a mean is asked), values cut to whole numbers.

A factor is named by what it means when the check knows: `names` maps a number to its noun ("the batch size",
"the length of `y_true`"), from an exercise's givens (`givens.Formula.names`) or a function's arguments
(`argument_names`); a few numbers mean the same in every exercise (255, the largest pixel value; 784, the pixels
of an image). A check calls `slip` only after the exercise's own `Mistake`s and its formula found nothing; it
says nothing (None) when it finds no relation or when the answer is not plain numbers.

Usage:
    slip(83, 0.8312)             # 'that is the answer written as a percentage ...'
    slip((32, 26, 26), (26, 26, 32))   # 'the right numbers in another order ...'
    slip(1_200_640, 18_760, names={64.0: "the batch size"})   # '... 64 times ..., 64 being the batch size ...'
"""
from __future__ import annotations

import inspect
import math
from typing import Any, Callable

import numpy as np

_FACTORS = (2, 3, 4, 8, 10, 16, 28, 32, 64, 128, 256, 784, 1000)  # small ones, batch sizes, image sides
_MEANINGS = {784.0: "the number of pixels of a 28 x 28 image", 28.0: "the side of an image"}
"""Numbers that mean one thing in every exercise of the course."""
_PIXEL_RANGE = 255.0


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
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


def _shown(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:.4g}"


def _named_factor(answer: float, expected: float, names: dict[float, str]) -> str | None:
    """A factor between the answer and the right one that is a number the check can name (a given, an argument's
    length, the pixel range)."""
    for value, noun in names.items():
        if value in (0.0, 1.0) or not math.isfinite(value):
            continue
        shown = _shown(value)
        if noun.startswith("the length of") and _close(answer, expected * value):
            return f"it is exactly {shown} times the right answer, {shown} being {noun}: a sum (or a count) where " \
                   f"a mean (or a share) is asked?"
        if noun.startswith("the length of") and _close(answer * value, expected):
            return f"it is exactly 1/{shown} of the right answer, {shown} being {noun}: a mean (or a share) where " \
                   f"a sum (or a count) is asked?"
        if _close(answer, expected * value):
            return f"it is exactly {shown} times the right answer, {shown} being {noun}: is it multiplied in once " \
                   f"too often?"
        if _close(answer * value, expected):
            return f"it is exactly 1/{shown} of the right answer, {shown} being {noun}: is something divided by it, " \
                   f"or left out?"
        if _close(answer * value, expected * 100):
            return f"that is the right answer as a percentage of {noun} ({shown}); the task asks for the number " \
                   f"itself."
    return None


def number_slip(answer: float, expected: float, names: dict[float, str] | None = None,
                bare: bool = True) -> str | None:
    """The relation of a wrong number to the right one, in words; None when none is found. `bare=False` leaves
    out the factors that name nothing (exactly 3 times, 19/20 of the right answer)."""
    if _close(expected, 0.0):
        return None
    if _close(answer, -expected):
        return "it has the right size but the wrong sign: subtract in the order the task gives."
    if 0 < answer < 1 and expected > 0:
        for p_value, test in ((math.erfc(math.sqrt(expected / 2)), "a chi-squared statistic with 1 degree of freedom"),
                              (math.erfc(expected / math.sqrt(2)), "a z-score, two-sided")):
            if p_value > 0 and _close(answer, p_value, 1e-3):
                return (f"that is the p-value of {_shown(expected)} read as {test}, not the statistic itself: the "
                        f"task asks for the statistic.")
    if answer == 0 and 0 < abs(expected) < 1:
        return ("the right answer lies between 0 and 1 and this is it cut to 0: a whole-number division (`//`) or "
                "`int()` drops the fraction; divide with `/`.")
    for scale, text in ((100, "the answer written as a percentage (or in points) where the task asks for a "
                              "fraction of 1, or multiplied by 100 once too often"),
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
    if float(expected).is_integer() and abs(expected) >= 10_000:
        for scale, word in ((1_000, "thousands"), (1_000_000, "millions")):
            if _close(answer * scale, expected) or _rounded(answer, expected / scale) is not None:
                return f"that is the answer in {word}; give the whole number, {_shown(expected)}."
    if _close(answer * _PIXEL_RANGE, expected):
        return "it is the right answer divided by 255: pixel values scaled to [0, 1] where the task keeps 0-255."
    if _close(answer, expected * _PIXEL_RANGE):
        return "it is the right answer times 255: pixel values in 0-255 where the task scales them to [0, 1]."
    named = _named_factor(answer, expected, {**_MEANINGS, **(names or {})})
    if named:
        return named
    for value, noun in (names or {}).items():
        if value > 1 and abs(expected) > 10 * value and _close(abs(answer - expected), value):
            if answer > expected:
                return f"it is {_shown(value)} more than the right answer, {_shown(value)} being {noun}: is " \
                       f"something of that size added once too often?"
            return f"it is {_shown(value)} less than the right answer, {_shown(value)} being {noun}: is something " \
                   f"of that size left out?"
    if 0 < expected < 1 and _close(answer, 1 - expected) and not _close(expected * 10, round(expected * 10)):
        # (tenths such as 0.3 and 0.7 pair up too often by chance to be named)
        return ("it is 1 minus the right answer: the share of the other outcome (the errors where the right ones "
                "are asked, or the other way round).")
    if expected > 0 and answer > 0 and not _close(expected, 1.0, 0.05):
        if _close(answer, expected ** 2):
            return "it is the square of the right answer: is a square root left out?"
        if _close(answer, math.sqrt(expected)):
            return "it is the square root of the right answer: is a square left out, or a square root too many?"
        if _close(answer * expected, 1.0):
            return "it is 1 divided by the right answer: is a division the wrong way up?"
    for factor, text in ((math.sqrt(2), "√2 (1.414)"),):
        if _close(answer * factor, expected):
            return f"it is the right answer divided by {text}."
        if _close(answer, expected * factor):
            return f"it is the right answer multiplied by {text}."
    if not bare:
        return None
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


def shape_slip(answer: tuple, expected: tuple, bare: bool = True) -> str | None:
    """The relation of a wrong tuple of whole numbers (a shape) to the right one; None when none is found."""
    if sorted(answer) == sorted(expected):
        if len(expected) < 3:
            return "the right numbers in another order: give them in the order the task asks."
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
        for i in range(len(expected) - 1):
            if answer == expected[:i] + (expected[i] * expected[i + 1],) + expected[i + 2:]:
                return (f"two sides are multiplied into one, {expected[i]} x {expected[i + 1]} = "
                        f"{expected[i] * expected[i + 1]:,}: that is the shape flattened; keep them apart.")
    if len(answer) == len(expected):
        off = [i for i, (a, e) in enumerate(zip(answer, expected)) if a != e]
        if off and all(abs(answer[i] - expected[i]) == 1 for i in off):
            if len(expected) < 3:
                return "each number that differs is off by one: check where counting starts (from 0 or from 1)."
            return "each side that differs is off by one: count the positions where the whole window fits, " \
                   "the first and the last included."
        if len(off) == 1 and len(answer) > 1 and bare:
            i = off[0]
            return f"every number is right but entry {i + 1} (counting from 1): {answer[i]:,} where " \
                   f"{expected[i]:,} belongs."
    return None


def _order_slip(a: np.ndarray, e: np.ndarray, what: str) -> str | None:
    """The right values of a 1-D sequence in another order: reversed, shifted by one, sorted."""
    if a.ndim != 1 or len(a) < 2 or not np.allclose(np.sort(a), np.sort(e), rtol=1e-4, atol=1e-9):
        return None
    if np.allclose(a, e[::-1], rtol=1e-4, atol=1e-9):
        return f"the right {what} in the reverse order."
    for step in (1, -1):
        if len(a) > 2 and np.allclose(a, np.roll(e, step), rtol=1e-4, atol=1e-9):
            return f"the right {what} shifted by one place: is an index off by one?"
    if np.allclose(a, np.sort(e), rtol=1e-4, atol=1e-9) or np.allclose(a, np.sort(e)[::-1], rtol=1e-4, atol=1e-9):
        return f"the right {what}, sorted: keep them in their order."
    return f"the right {what} in another order."


def sequence_slip(answer: list[float], expected: list[float], names: dict[float, str] | None = None,
                  bare: bool = True) -> str | None:
    """The relation of a wrong sequence of numbers to the right one: every entry scaled alike (each 100 times,
    each the negative, each divided by a named count), one entry wrong, or the right entries in another order."""
    if len(answer) != len(expected):
        return None
    wrong = [i for i, (a, e) in enumerate(zip(answer, expected)) if not _close(a, e, 1e-4)]
    if len(wrong) == 1 and len(answer) > 2 and bare:
        i = wrong[0]
        return (f"every entry is right but entry {i + 1} (counting from 1): {answer[i]:g} where {expected[i]:g} "
                f"belongs.")
    ordered = _order_slip(np.array(answer), np.array(expected), "numbers")
    if ordered:
        return ordered
    running = np.cumsum(expected)
    if len(answer) > 2 and np.allclose(answer, running, rtol=1e-4):
        return "that is a running total (the cumulative sum) of the right entries."
    pairs = [(a, e) for a, e in zip(answer, expected) if not _close(e, 0.0)]
    if not pairs or any(not _close(a, 0.0) for a, e in zip(answer, expected) if _close(e, 0.0)):
        return None
    ratio = pairs[0][0] / pairs[0][1]
    if not all(_close(a, e * ratio, 1e-4) for a, e in pairs):
        return None
    found = _ratio_slip(ratio, names, bare)
    return f"every entry is off in the same way: {found}" if found else None


def _ratio_slip(ratio: float, names: dict[float, str] | None, bare: bool = True) -> str | None:
    """The relation of a common ratio to 1, worded for every entry; None for off by one (which a ratio is not)."""
    found = number_slip(ratio, 1.0, names, bare)
    return found if found and "off by one" not in found and "1 minus" not in found else None


def array_slip(answer: np.ndarray, expected: np.ndarray, names: dict[float, str] | None = None) -> str | None:
    """The relation of a wrong array to the right one: its axes in another order, transposed or mirrored, whole
    numbers where fractions belong (an integer dtype such as uint8), every entry off by one common factor or one
    of its own along the first axis, or all right but a few values."""
    if answer.shape != expected.shape:
        if sorted(answer.shape) == sorted(expected.shape):
            return f"its axes are in another order: shape {answer.shape}, where {expected.shape} is asked."
        if answer.size == expected.size:
            return f"the right number of values in another shape: {answer.shape}, where {expected.shape} is asked."
        if answer.ndim == expected.ndim:
            off = [i for i, (x, y) in enumerate(zip(answer.shape, expected.shape)) if x != y]
            if len(off) == 1 and abs(answer.shape[off[0]] - expected.shape[off[0]]) == 1:
                i = off[0]
                word = "too few" if answer.shape[i] < expected.shape[i] else "too many"
                return (f"one entry {word} along axis {i}: shape {answer.shape}, where {expected.shape} is asked (is "
                        f"a range off by one?).")
        for axis in range(expected.ndim):
            if answer.shape == expected.shape[:axis] + expected.shape[axis + 1:]:
                return (f"it lacks axis {axis} of the right shape {expected.shape}: was it averaged or summed away "
                        f"(a reduction over the wrong axis)?")
        if 0 < answer.ndim < expected.ndim - 1 and answer.shape == expected.shape[:answer.ndim] \
                and expected.dtype.kind in "biuf" and answer.dtype.kind in "biuf":
            rest = tuple(range(answer.ndim, expected.ndim))
            for how in ("mean", "sum", "max"):
                if np.allclose(answer, getattr(expected.astype(float), how)(axis=rest), rtol=1e-4):
                    return (f"each entry is the {how} of a whole right entry, shape {expected.shape[answer.ndim:]}, "
                            f"taken down to one number: the reduction ran over those axes too (no `axis`, or too "
                            f"many); keep them, e.g. `axis=0` for a mean over images only.")
        if answer.ndim == expected.ndim + 1 and any(answer.shape[:a] + answer.shape[a + 1:] == expected.shape
                                                    for a in range(answer.ndim)):
            return f"it has one axis too many: shape {answer.shape}, where {expected.shape} is asked."
        return None
    a, e = answer.astype(float), expected.astype(float)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(e))) or a.size == 0:
        return None
    if np.allclose(a, np.floor(e)) or np.allclose(a, np.round(e)):
        return ("the values are cut to whole numbers: compute in floating point (an integer dtype such as uint8 "
                "drops the fractions).")
    nonzero = np.abs(e) > 1e-12
    if nonzero.any() and np.allclose(a[~nonzero], 0.0):
        ratio = a[nonzero] / e[nonzero]
        if np.allclose(ratio, ratio[0], rtol=1e-4):
            found = _ratio_slip(float(ratio[0]), names)
            if found:
                return f"every value is off in the same way: {found}"
    moved = _moved(a, e)
    if moved:
        return moved
    if a.ndim >= 2 and a.shape[0] > 1:
        for i in range(a.shape[0]):
            if np.allclose(a, np.broadcast_to(e[i], a.shape)) and not np.allclose(e, e[i]):
                return (f"every entry along the first axis is the right entry {i} (counting from 0): the same one, "
                        f"repeated, where each should be its own.")
        factors = _factor_per_entry(a, e)
        if factors is not None:
            shown = ", ".join(_shown(f) for f in factors[:4]) + (", ..." if len(factors) > 4 else "")
            whole = all(float(f).is_integer() for f in factors)
            return (f"each entry along the first axis is the right one times a factor of its own ({shown})"
                    + (": a sum where a mean is asked (each times its count)?" if whole and min(factors) > 1
                       else "."))
    if (0 <= e).all() and (e <= 1).all() and np.allclose(a, 1 - e):
        return "every value is 1 minus the right one: the other outcome's share."
    if a.ndim == 1:
        if len(a) > 2 and np.allclose(a, np.cumsum(e), rtol=1e-4):
            return "that is a running total (the cumulative sum) of the right values."
    wrong = np.argwhere(~np.isclose(a, e, rtol=1e-4, atol=1e-9))
    if 0 < len(wrong) <= 3 and a.size >= 6:
        where = ", ".join(str(tuple(int(i) for i in w)) if len(w) > 1 else str(int(w[0])) for w in wrong)
        return f"every value is right but {len(wrong)} of {a.size}, at index {where}."
    return None


def _moved(a: np.ndarray, e: np.ndarray) -> str | None:
    """The right values moved: transposed, mirrored along an axis, or shifted by one along an axis."""
    if a.ndim == 1:
        return _order_slip(a, e, "values")
    if a.ndim == 2 and a.shape[0] == a.shape[1] and np.allclose(a, e.T):
        return "it is the right array transposed: rows and columns swapped."
    if a.ndim >= 3 and a.shape[-1] == a.shape[-2] and np.allclose(a, np.swapaxes(e, -1, -2)):
        return "each entry is the right one transposed: its rows and columns (the last two axes) are swapped."
    for axis in range(a.ndim):
        if e.shape[axis] > 1 and np.allclose(a, np.flip(e, axis)) and not np.allclose(e, np.flip(e, axis)):
            return f"it is the right array mirrored along axis {axis}."
        for step in (1, -1):
            if e.shape[axis] > 2 and np.allclose(a, np.roll(e, step, axis)):
                return f"it is the right array shifted by one place along axis {axis}: is an index off by one?"
    return None


def _factor_per_entry(a: np.ndarray, e: np.ndarray) -> list[float] | None:
    """The factor of each entry along the first axis when every entry is the right one times its own factor, and
    they are not all one factor; else None."""
    factors = []
    for got, want in zip(a, e):
        mask = np.abs(want) > 1e-12
        if not mask.any() or not np.allclose(got[~mask], 0.0):
            return None
        ratio = got[mask] / want[mask]
        if not np.allclose(ratio, ratio.flat[0], rtol=1e-4):
            return None
        factors.append(round(float(ratio.flat[0]), 6))
    return factors if len(set(factors)) > 1 else None


def argument_names(function: Callable[..., Any] | None, args: tuple) -> dict[float, str]:
    """The numbers a function's arguments give, each with its noun: a whole-number argument by its name, a sequence
    or array by its length; for naming a factor in a function check."""
    try:
        params = list(inspect.signature(function).parameters) if function is not None else []
    except (TypeError, ValueError):
        params = []
    names: dict[float, str] = {}
    for i, value in enumerate(args):
        name = params[i] if i < len(params) else f"argument {i + 1}"
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 1:
            names.setdefault(float(value), f"`{name}`")
        elif isinstance(value, (list, tuple, np.ndarray)) and len(value) > 1:
            names.setdefault(float(len(value)), f"the length of `{name}`")
    return names


def slip(answer: Any, expected: Any, names: dict[float, str] | None = None, bare: bool = True) -> str | None:
    """What relates a wrong `answer` to `expected` (numbers, tuples of numbers, arrays), or None; `names` maps
    numbers the check knows to their nouns; `bare=False` leaves out the relations that name nothing (a bare
    factor, one entry of several wrong)."""
    try:
        if isinstance(answer, np.ndarray) and isinstance(expected, np.ndarray) and answer.dtype.kind in "biuf" \
                and expected.dtype.kind in "biuf":
            return array_slip(answer, expected, names)
        a, e = _number(answer), _number(expected)
        if a is not None and e is not None:
            return number_slip(a, e, names, bare)
        if isinstance(answer, (tuple, list)) and isinstance(expected, (tuple, list)) and answer and expected:
            if all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in (*answer, *expected)):
                found = shape_slip(tuple(int(x) for x in answer), tuple(int(x) for x in expected), bare)
                if found or len(answer) != len(expected):
                    return found
            numbers = [_number(x) for x in (*answer, *expected)]
            if all(x is not None for x in numbers):
                return sequence_slip(numbers[:len(answer)], numbers[len(answer):], names, bare)
    except Exception:  # noqa: BLE001 - an odd answer gets no diagnosis, never an error
        return None
    return None


_NO_VARIANTS = ("seed", "rng", "random_state")
"""Arguments whose changed value says nothing a student could act on (another seed draws other numbers)."""


def _kind(value: Any) -> tuple | None:
    """What kind of argument a value is, for swapping two of one kind: a number, a string, or an array (or list) of
    a number of axes; None for anything else (a function, a model)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return ("number",)
    if isinstance(value, str):
        return ("str",)
    if isinstance(value, np.ndarray):
        return ("array", value.ndim)
    if isinstance(value, (list, tuple)):
        return ("array", np.ndim(value)) if all(_number(v) is not None for v in value) else None
    return None


def _text(value: Any) -> str:
    return repr(value) if isinstance(value, str) else _shown(float(value)) if _number(value) is not None \
        else "that value"


def argument_variants(function: Callable[..., Any] | None, args: tuple) -> list[tuple[tuple, str, str]]:
    """The arguments of a case changed as a student's function might change them by mistake, each with a sentence
    for when the right function's output on them is what the student's returned: an argument left at its default
    (not used), two arguments of one kind swapped, one standing in another's place, a whole number one more or one
    less. For a function check's failing case; each comes as (the arguments, a key that is the same for the same
    change on every case, the sentence).

    Usage:
        argument_variants(conv_output_size, (28, 3, 2, "same"))
        # [((28, 3, 1, 'same'), 'default stride', 'it returns the right answer for `stride` = 1 (its default) ...'), ...]
    """
    try:
        params = list(inspect.signature(function).parameters.values()) if function is not None else []
    except (TypeError, ValueError):
        return []
    if not params or any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        return []
    names = [p.name for p in params][:len(args)]
    usable = [i for i, name in enumerate(names) if name not in _NO_VARIANTS and _kind(args[i]) is not None]
    out: list[tuple[tuple, str, str]] = []

    def changed(i: int, value: Any) -> tuple:
        return tuple(value if k == i else a for k, a in enumerate(args))

    for i in usable:
        default = params[i].default
        if default is not inspect.Parameter.empty and _kind(default) == _kind(args[i]) \
                and not _same_value(default, args[i]):
            out.append((changed(i, default), f"default {names[i]}", f"it returns the right answer for `{names[i]}` = {_text(default)} (its "
                                             f"default), not for the case's {_text(args[i])}: does the function use "
                                             f"`{names[i]}` wherever it matters?"))
    for n, i in enumerate(usable):
        for j in usable[n + 1:]:
            if _kind(args[i]) == _kind(args[j]) and not _same_value(args[i], args[j]):
                swapped = tuple(args[j] if k == i else args[i] if k == j else a for k, a in enumerate(args))
                out.append((swapped, f"swap {names[i]} {names[j]}", f"it returns the right answer with `{names[i]}` and `{names[j]}` the other "
                                     f"way round: are the two swapped somewhere?"))
    for i in usable:
        for j in usable:
            if i != j and _kind(args[i]) == _kind(args[j]) and _kind(args[i])[0] == "array" \
                    and not _same_value(args[i], args[j]):
                out.append((changed(i, args[j]), f"{names[j]} for {names[i]}",
                            f"it returns what the right function gives when `{names[j]}` "
                                                 f"stands where `{names[i]}` belongs: is `{names[j]}` used where "
                                                 f"`{names[i]}` is meant?"))
    for i in usable:
        value = args[i]
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            default = params[i].default
            for step, word in ((1, "one more"), (-1, "one less")):
                if value + step >= 0 and not (default is not inspect.Parameter.empty and value + step == default):
                    out.append((changed(i, type(value)(value + step)), f"off {names[i]} {step:+d}",
                                f"it returns the right answer for `{names[i]}` = {value + step}, {word} than the "
                                f"case's {value}: an off-by-one where `{names[i]}` is used (a `range` end, a `<=` "
                                f"for a `<`, a `+ 1` too many or too few)?"))
    for i, name in enumerate(names):
        value = args[i]
        if name not in _NO_VARIANTS and isinstance(value, list) and value:  # a list of steps: an end slipped
            for key, part, sentence in (
                    ("first twice", value[:1] + value, "its first entry counted twice (once before the loop, "
                                                       "once in it?)"),
                    ("first dropped", value[1:], "its first entry left out (a loop that starts at 1?)"),
                    ("last dropped", value[:-1], "its last entry left out (a range that stops one short?)"))[
                    :1 if len(value) < 2 else 3]:
                out.append((changed(i, part), f"{names[i]} {key}",
                            f"it returns the right answer for `{names[i]}` with {sentence}"))
    for i in usable:
        value = args[i]
        if isinstance(value, np.ndarray) and value.dtype.kind in "iu" and value.size:
            for narrow in ("int8", "uint8", "int16"):
                info = np.iinfo(narrow)
                if value.dtype != np.dtype(narrow) and (value.min() < info.min or value.max() > info.max):
                    out.append((changed(i, value.astype(narrow)), f"{names[i]} as {narrow}",
                                f"it returns what the right function gives when `{names[i]}` is cast to {narrow}, "
                                f"which holds only {info.min} to {info.max}: larger values wrap around ({info.max + 73} "
                                f"becomes {int(np.array(info.max + 73).astype(narrow))}); keep its own type, or cast to "
                                f"float32 for arithmetic."))
    return out


def _same_value(a: Any, b: Any) -> bool:
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b))) if not isinstance(a, str) else a == b
    except Exception:  # noqa: BLE001 - values that do not compare are different
        return False


def length_slip(answer: Any, expected: Any, function: Callable[..., Any] | None, args: tuple) -> str | None:
    """When every number of a wrong answer is the length of an array argument, where the right numbers are smaller
    counts: `len()` of a boolean mask (every entry) where its number of True values is meant; None otherwise.

    Usage:
        length_slip((12, 12), (3, 1), mcnemar_counts, (y_true, pred_a, pred_b))   # 'each number is the length ...'
    """
    try:
        got = np.asarray(answer, dtype=float).ravel()
        want = np.asarray(expected, dtype=float).ravel()
        params = list(inspect.signature(function).parameters) if function is not None else []
    except (TypeError, ValueError):
        return None
    if got.size == 0 or got.shape != want.shape or np.allclose(got, want):
        return None
    for i, value in enumerate(args):
        if isinstance(value, np.ndarray) and value.ndim >= 1 and len(value) > 1 and np.all(got == len(value)) \
                and np.all(want <= len(value)):
            name = params[i] if i < len(params) else f"argument {i + 1}"
            return (f"each number is {len(value)}, the length of `{name}`: `len()` of a boolean mask counts every "
                    f"entry, True or False; count the True ones with `mask.sum()` or `np.count_nonzero(mask)`.")
    return None


def count_factor_slip(answer: Any, expected: Any, function: Callable[..., Any] | None, args: tuple) -> str | None:
    """When each entry along the first axis of a wrong array is the right one times a factor of its own, and the
    factors are the counts (or the shares) of each value in a label argument: a per-class mean divided by all the
    images rather than the class's own count, or a sum where a mean is asked; None otherwise.

    Usage:
        count_factor_slip(sums / len(labels), means, class_means, (images, labels, 3))
        # 'entry k is the right one times the share of `labels` equal to k: ...'
    """
    if not (isinstance(answer, np.ndarray) and isinstance(expected, np.ndarray)) or answer.shape != expected.shape \
            or answer.ndim < 1 or answer.dtype.kind not in "biuf" or expected.dtype.kind not in "biuf":
        return None
    factors = _factor_per_entry(answer.astype(float), expected.astype(float))
    if factors is None:
        return None
    try:
        params = list(inspect.signature(function).parameters) if function is not None else []
    except (TypeError, ValueError):
        params = []
    f = np.array(factors)
    for i, value in enumerate(args):
        if not (isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "iu" and value.size
                and value.min() >= 0 and value.max() < 10_000):
            continue
        name = params[i] if i < len(params) else f"argument {i + 1}"
        counts = np.bincount(value, minlength=len(f))[:len(f)].astype(float)
        if np.allclose(f, counts / value.size, rtol=1e-4):
            return (f"entry k is the right one times the share of `{name}` equal to k: it divides by all "
                    f"{value.size:,} of them where the count of class k alone, `np.sum({name} == k)`, belongs.")
        if np.allclose(f, counts, rtol=1e-4):
            return (f"entry k is the right one times the number of `{name}` equal to k: a sum where a mean is asked "
                    f"(divide by each class's own count).")
        if np.all(counts > 0) and np.allclose(f, 1 / counts, rtol=1e-4):
            return f"entry k is the right one divided once more by the number of `{name}` equal to k: it divides twice."
    return None


def pair_slip(answer: Any, expected: Any) -> str | None:
    """When two numbers are given where one is asked: how they relate to the right one (an interval's two ends
    whose half-width, width or centre is asked, or the answer among them); None otherwise.

    Usage:
        pair_slip((93.93, 98.07), 2.07)   # 'those look like the two ends of an interval ... half its width ...'
    """
    e = _number(expected)
    if e is None or not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return None
    lo, hi = (_number(v) for v in answer)
    if lo is None or hi is None:
        return None
    lo, hi = min(lo, hi), max(lo, hi)
    if _close(abs(e), (hi - lo) / 2, rel=1e-3) and e != 0:
        return (f"those look like the two ends of an interval, {_shown(lo)} to {_shown(hi)}; the task asks for one "
                f"number, the margin, which is half its width: ({_shown(hi)} - {_shown(lo)}) / 2.")
    if _close(abs(e), hi - lo, rel=1e-3) and e != 0:
        return f"those are two ends; the task asks for one number, the distance between them, {_shown(hi)} - {_shown(lo)}."
    if _close(e, (hi + lo) / 2, rel=1e-3):
        return f"those are two ends; the task asks for one number, the point halfway between them."
    if _close(e, lo) or _close(e, hi):
        return "one of the two is the answer; give that number alone."
    return None
