"""Exercises of notebook 06 (ANN vs CNN): McNemar's statistic by hand and in code, where the CNN gains on the
other dataset, a new distribution shift (occlusion) and what it costs the lesson's CNN.

Usage:
    ex = exercises.for_notebook("06_ann_vs_cnn"); ex.q1.check(7.22)
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .common import fraction_for_points, need_number, seeded_rng, sign_error
from .ladder import CORE, STRETCH, WARM_UP
from .core import Answer, Function, Mistake, Prediction, NotAnswered, same_number

TITLE = "ANN vs CNN on MNIST and Fashion-MNIST"

# ------------------------------------------------------------------------------------------------ q1

_B, _C, _N = 15, 35, 1_000
_CHI2 = (abs(_B - _C) - 1) ** 2 / (_B + _C)  # 7.22

q1 = Answer(
    key="q1", title="McNemar's statistic by hand", kind="compute", minutes=5, difficulty="easy",
    task="Two models are scored on the same 1,000 test images: only A is right on 15, only B on 35, and they agree "
         "on the other 950. Compute McNemar's chi-square statistic with continuity correction.",
    hints=("Only the disagreements count: the 950 images on which the models agree play no part.",
           "The statistic is (|b - c| - 1)^2 / (b + c) with b = 15 and c = 35."),
    solution_code="answer_q1 = (abs(15 - 35) - 1) ** 2 / (15 + 35)   # 19^2 / 50 = 7.22",
    expected=_CHI2, validate=need_number, solution_example=_CHI2, same=lambda a, b: abs(a - b) < 0.01,
    on_correct=lambda a, ctx: ("7.22, above 3.84, the 5% threshold of chi-square with one degree of freedom: "
                               "p = 0.007, so B is better beyond noise."),
    mistakes=(
        Mistake("that leaves out the continuity correction: subtract 1 from |b - c| before squaring.",
                (_B - _C) ** 2 / (_B + _C)),
        Mistake("divide by the number of disagreements, b + c = 50, not by all 1,000 images: the images both "
                "models agree on carry no information about which is better.", (abs(_B - _C) - 1) ** 2 / _N),
        Mistake("the 1 is subtracted from |b - c| before squaring, not from the square.",
                ((_B - _C) ** 2 - 1) / (_B + _C)),
        Mistake("take the absolute value of b - c first: |15 - 35| - 1 = 19, not -21.",
                (_B - _C - 1) ** 2 / (_B + _C)),
    ),
)

# ------------------------------------------------------------------------------------------------ q2


def _mcnemar_counts(y_true, pred_a, pred_b) -> tuple[int, int]:
    right_a, right_b = np.asarray(pred_a) == np.asarray(y_true), np.asarray(pred_b) == np.asarray(y_true)
    return int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b))


def _counts_cases() -> list[tuple]:
    # the first case has every kind of image, with b != c: both right, only A, only B, both wrong alike and
    # both wrong differently
    y = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1])
    a = np.array([0, 1, 2, 3, 4, 9, 6, 1, 3, 9, 2, 1])
    b = np.array([0, 1, 7, 3, 0, 5, 6, 2, 3, 4, 5, 1])
    cases = [(y, a, b)]
    rng = seeded_rng(6)
    for n, acc_a, acc_b in [(200, 0.8, 0.9), (1_000, 0.95, 0.9), (57, 0.5, 0.6)]:
        y = rng.integers(0, 10, n)
        pa = np.where(rng.random(n) < acc_a, y, rng.integers(0, 10, n))
        pb = np.where(rng.random(n) < acc_b, y, rng.integers(0, 10, n))
        cases.append((y, pa, pb))
    return cases


def _differ_counts(y_true, pred_a, pred_b):
    differ = np.asarray(pred_a) != np.asarray(pred_b)
    return int(np.sum(differ & (pred_b != y_true))), int(np.sum(differ & (pred_a != y_true)))


q2 = Function(
    key="q2", title="McNemar's counts", kind="code", minutes=10, difficulty="easy",
    task="Write `mcnemar_counts(y_true, pred_a, pred_b)`: the pair (b, c), where b counts the images that only "
         "model A gets right and c those that only model B gets right.",
    hints=("Start with two boolean arrays, `right_a = pred_a == y_true` and `right_b = pred_b == y_true`.",
           "b is `np.sum(right_a & ~right_b)` and c is `np.sum(~right_a & right_b)`; return `(int(b), int(c))`."),
    solution_code=("def mcnemar_counts(y_true, pred_a, pred_b):\n"
                   "    right_a, right_b = pred_a == y_true, pred_b == y_true\n"
                   "    return int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b))"),
    name="mcnemar_counts", cases=_counts_cases, reference=_mcnemar_counts, solution_example=_mcnemar_counts,
    describe=lambda args: f"y_true, pred_a, pred_b of {len(args[0])} images",
    mistakes=(
        Mistake("b and c are swapped: b counts the images only A gets right, c those only B gets right.",
                lambda y, a, b: _mcnemar_counts(y, a, b)[::-1]),
        Mistake("that counts the images where the two predictions differ; two wrong answers can differ too. Count "
                "only the images where exactly one model is right.", _differ_counts),
        Mistake("those are each model's right answers; McNemar's test needs only the images where one model is "
                "right and the other wrong.",
                lambda y, a, b: (int(np.sum(a == y)), int(np.sum(b == y)))),
    ),
)

# ------------------------------------------------------------------------------------------------ q3


def _names(ctx: dict[str, Any]) -> tuple[str, ...]:
    names = ctx["class_names"]
    if isinstance(names, (str, bytes)) or not isinstance(names, (tuple, list, np.ndarray)) or len(names) < 2:
        raise NotAnswered(f"`class_names` must be the dataset's list of class names; got {names!r}.")
    return tuple(str(n) for n in names)


def _gains(ctx: dict[str, Any]) -> np.ndarray:
    names = _names(ctx)
    try:
        y = np.asarray(ctx["y_true"]).astype(int)
        mlp, cnn = np.asarray(ctx["mlp_pred"]).astype(int), np.asarray(ctx["cnn_pred"]).astype(int)
        if not (y.shape == mlp.shape == cnn.shape) or y.ndim != 1:
            raise ValueError
        gains = []
        for k in range(len(names)):
            mask = y == k
            gains.append(np.mean(cnn[mask] == k) - np.mean(mlp[mask] == k) if mask.any() else -np.inf)
        return np.array(gains)
    except (TypeError, ValueError, KeyError):
        raise NotAnswered("the check needs the test labels, the ANN's and the CNN's test predictions (1-D arrays "
                           "of one length) and the class names; run the cells above first.") from None


def _most_improved(ctx: dict[str, Any]) -> str:
    return _names(ctx)[int(np.argmax(_gains(ctx)))]


def _change(gain: float) -> str:
    """"gains 4.0 points", "loses 2.5 points" or "neither gains nor loses": the sign in words."""
    if gain > 0:
        return f"gains {gain * 100:.1f} points"
    return f"loses {-gain * 100:.1f} points" if gain < 0 else "neither gains nor loses"


def _improved_reveal(answer: Any, ctx: dict[str, Any]) -> str:
    names, gains = _names(ctx), _gains(ctx)
    best = int(np.argmax(gains))
    mine = names.index(answer)
    if gains[best] > 0:
        head = f"on this dataset the CNN gains most on {names[best]}, {gains[best] * 100:+.1f} points over the ANN"
    else:
        head = (f"on this dataset the CNN gains on no class over the ANN; its best class is {names[best]}, where it "
                f"{_change(gains[best])}")
    return f"{head}; on your class, {answer}, it {_change(gains[mine])}."


def _demo_q3() -> dict[str, Any]:
    names = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
             "Ankle boot")
    y = np.repeat(np.arange(10), 10)
    mlp = y.copy()
    mlp[[60, 61, 62, 63]] = 0  # the MLP misses four shirts
    mlp[[20, 21]] = 4  # and two pullovers
    cnn = y.copy()
    cnn[[60, 21]] = (0, 4)  # the CNN fixes three shirts and one pullover
    return {"y_true": y, "mlp_pred": mlp, "cnn_pred": cnn, "class_names": names}


def _is_label_number(answer: Any, ctx: dict[str, Any]) -> bool:
    return isinstance(answer, (numbers.Integral, np.integer)) and not isinstance(answer, (bool, np.bool_))


q3 = Prediction(
    key="q3", title="Where does the CNN gain on the other dataset?", kind="predict", minutes=5, difficulty="easy",
    task="The close-up above showed one dataset; before running the check, predict on the other one the class whose "
         "test accuracy the lesson's CNN improves most over its ANN, as one class name.",
    hints=("Think about what a convolution adds: a local detail (a stroke, a collar, a strap) found wherever it is.",
           "On clothes, look at the classes the ANN finds hardest; on digits, at those written in many ways."),
    solution_code=("prediction = 'Shirt' if other == 'fashion_mnist' else '9'\n"
                   "# any class name of that dataset is a valid prediction; the check reveals the answer"),
    context=("y_true", "mlp_pred", "cnn_pred", "class_names"), demo_context=_demo_q3, solution_example="Shirt",
    expected=_most_improved, same=lambda a, b: a == b, on_correct=_improved_reveal,
    validate=lambda a, ctx: None if a in _names(ctx) else f"give one class name; got {a!r}.",
    mistakes=(
        Mistake("use the class name, not its label number: the names are in `data[other].class_names` (on MNIST "
                "they are the strings '0' to '9').", 6, detect=_is_label_number),
        Mistake("predict one class, not several.", ("Shirt", "Pullover"),
                detect=lambda a, ctx: isinstance(a, (tuple, list, set, frozenset, np.ndarray))),
        Mistake("that is not a class name of this dataset: copy one exactly from `data[other].class_names` "
                "(names are case-sensitive).", "shirt",
                detect=lambda a, ctx: isinstance(a, str) and a not in _names(ctx)),
    ),
)

# ------------------------------------------------------------------------------------------------ q4


def _occlude(images: np.ndarray, size: int) -> np.ndarray:
    out = np.array(images, dtype="float32", copy=True)
    top, left = (out.shape[1] - size) // 2, (out.shape[2] - size) // 2
    out[:, top:top + size, left:left + size] = 0.0
    return out


def _occlude_cases() -> list[tuple]:
    rng = seeded_rng(7)
    cases = []
    for n, side, size in [(5, 28, 8), (3, 28, 4), (2, 28, 12), (4, 9, 3), (2, 28, 0), (1, 28, 28)]:
        # no pixel is 0, so a zero left in the input after the call gives away a change in place
        cases.append((rng.uniform(0.05, 1.0, (n, side, side)).astype("float32"), size))
    return cases


def _changed_input(output: Any, args: tuple) -> bool:
    return bool(np.any(np.asarray(args[0]) == 0))


def _verify_occlude(output: Any, args: tuple) -> str | None:
    images, size = args
    if not isinstance(output, np.ndarray):
        return f"return a NumPy array of images; got {type(output).__name__}."
    if _changed_input(output, args):
        return "the input images were changed; work on a copy, `images.copy()`."
    if np.shares_memory(output, images):
        return "return a new array (a copy), not the input array itself."
    if output.shape != images.shape:
        return f"the output should have the input's shape {images.shape}; got {output.shape}."
    expected = _occlude(images, size)
    if not np.allclose(output, expected):
        zeros = int(np.sum(output == 0))
        return f"{int(np.sum(expected == 0))} pixels should be 0 (a {size} x {size} square per image); got {zeros}."
    return None


def _occlude_in_place(images, size):
    top = (images.shape[1] - size) // 2
    images[:, top:top + size, top:top + size] = 0.0
    return images


def _occlude_corner(images, size):
    out = images.copy()
    out[:, :size, :size] = 0.0
    return out


def _occlude_one_more(images, size):
    out = images.copy()
    top = (images.shape[1] - size) // 2
    out[:, top:top + size + 1, top:top + size + 1] = 0.0
    return out


def _occlude_band(images, size):
    out = images.copy()
    top = (images.shape[1] - size) // 2
    out[:, top:top + size, :] = 0.0
    return out


q4 = Function(
    key="q4", title="A new shift: occlusion", kind="code", minutes=10, difficulty="medium",
    task="Write `occlude(images, size)`: a copy of the float images (shape (n, height, width)) with a centred "
         "size x size square of every image set to 0, the input left unchanged.",
    hints=("Copy first (`out = images.copy()`), then assign 0 to a slice of the copy: `out[:, r0:r1, c0:c1] = 0`.",
           "The square starts at row `(height - size) // 2` and column `(width - size) // 2` and is `size` long "
           "in both directions."),
    solution_code=("def occlude(images, size):\n"
                   "    out = images.copy()\n"
                   "    top, left = (images.shape[1] - size) // 2, (images.shape[2] - size) // 2\n"
                   "    out[:, top:top + size, left:left + size] = 0.0\n"
                   "    return out"),
    name="occlude", cases=_occlude_cases, verify=_verify_occlude, solution_example=_occlude,
    describe=lambda args: f"images of shape {args[0].shape}, size={args[1]}",
    same=lambda a, b: np.shape(a) == np.shape(b) and bool(np.allclose(a, b)),
    mistakes=(
        Mistake("the input images were changed in place: `out = images` makes a second name for the same array, "
                "not a copy. Use `images.copy()`.", _occlude_in_place, detect=_changed_input),
        Mistake("the square is not centred: it should start at row `(height - size) // 2` and column "
                "`(width - size) // 2`, not at 0.",
                _occlude_corner),
        Mistake("the square is one pixel too wide: the slice `a:a + size` already holds `size` rows.",
                _occlude_one_more),
        Mistake("that hides a whole band of rows; slice the columns too, `out[:, r0:r1, c0:c1] = 0`.",
                _occlude_band),
    ),
)

# ------------------------------------------------------------------------------------------------ q5


def _accuracy(ctx: dict[str, Any], name: str) -> float:
    value = ctx[name]
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise NotAnswered(f"`{name}` must be an accuracy, a number between 0 and 1; got {value!r}.") from None
    if not 0 <= value <= 1:
        raise NotAnswered(f"`{name}` must be an accuracy between 0 and 1 (a fraction); got {value!r}.")
    return value


def _drop_points(ctx: dict[str, Any]) -> float:
    return (_accuracy(ctx, "clean") - _accuracy(ctx, "occluded")) * 100


def _demo_q5() -> dict[str, Any]:
    return {"clean": 0.912, "occluded": 0.634}


def _drop_reveal(answer: Any, ctx: dict[str, Any]) -> str:
    clean = _accuracy(ctx, "clean")
    kept = _accuracy(ctx, "occluded") / clean if clean else float("nan")
    effect = (f"costs the CNN {answer:.1f} points" if answer >= 0 else
              f"raises the CNN's accuracy by {-answer:.1f} points")
    return (f"hiding the centre 8 x 8 pixels {effect}; it keeps {kept:.0%} of its clean accuracy. Compare with the "
            f"ANN's drop you printed: which model relies more on the centre?")


q5 = Answer(
    key="q5", title="What does occlusion cost?", kind="experiment", minutes=10, difficulty="medium",
    task="Score the lesson's ANN and CNN on the shift-test images, clean and occluded by your `occlude` with size "
         "8, and report the CNN's drop in accuracy points, clean minus occluded.",
    hints=("`shifts.keras_predictor(cnn)` gives a function from float images to predicted labels; the images are "
           "`x_test[subset]` and their labels `ds.y_test[subset]`.",
           "Accuracy is `np.mean(predict(images) == labels)`; the drop in points is `(clean - occluded) * 100`."),
    solution_code=("images, labels = x_test[subset], ds.y_test[subset]\n"
                   "hidden = occlude(images, 8)\n"
                   "accuracy = {}\n"
                   "for role, model in [('ANN', ann), ('CNN', cnn)]:\n"
                   "    predict = shifts.keras_predictor(model)\n"
                   "    accuracy[role] = (float(np.mean(predict(images) == labels)),\n"
                   "                      float(np.mean(predict(hidden) == labels)))\n"
                   "    print(f'{role}: clean {accuracy[role][0]:.3f}, occluded {accuracy[role][1]:.3f}')\n"
                   "clean, occluded = accuracy['CNN']\n"
                   "answer_q5 = (clean - occluded) * 100"),
    context=("clean", "occluded"), demo_context=_demo_q5, solution_example=_drop_points,
    expected=_drop_points, validate=need_number, same=lambda a, b: abs(a - b) < 0.01, on_correct=_drop_reveal,
    mistakes=(
        sign_error("the task asks for clean minus occluded", _drop_points),
        fraction_for_points(_drop_points),
        Mistake("that is the drop as a share of the clean accuracy; the task asks for the difference in points, "
                "(clean - occluded) * 100.", lambda ctx: _drop_points(ctx) / _accuracy(ctx, "clean")),
    ),
)

LADDER = {"q1": WARM_UP, "q2": CORE, "q3": WARM_UP, "q4": CORE, "q5": CORE}

EXERCISES = [q1, q2, q3, q4, q5]
