"""Exercises of notebook 06 (ANN vs CNN): McNemar's statistic by hand and in code, where the CNN gains on the
other dataset, a new distribution shift (occlusion) and what it costs the lesson's CNN.

Usage:
    ex = exercises.for_notebook("06_ann_vs_cnn"); ex.q1.check(7.22)
"""
from __future__ import annotations

import numbers
from functools import lru_cache
from typing import Any, Callable

import numpy as np

from .builds import Build, Finding, Found, number_finding, predict_proba, run_student, runs_on
from .common import is_number, need_number, seeded_rng
from .core import Answer, Function, Mistake, NotAnswered, Prediction, _short
from .givens import Formula, Given, absolute
from .ladder import CORE, STRETCH, WARM_UP

TITLE = "ANN vs CNN on MNIST and Fashion-MNIST"

# ------------------------------------------------------------------------------------------------ q1

_B, _C, _N = 15, 35, 1_000
_CHI2 = (abs(_B - _C) - 1) ** 2 / (_B + _C)  # 7.22
_B_GIVEN = Given("b", _B, "b = {}", symbol="b", noun="b")
_C_GIVEN = Given("c", _C, "c = {}", symbol="c", noun="c")
_CORRECTION = Given("correction", 1, "a continuity correction of {}", others={0.5: "Yates's, for a 2 x 2 table"},
                    has="McNemar's subtracts 1")
_Q1_FORMULA = Formula((absolute(_B_GIVEN - _C_GIVEN) - _CORRECTION) ** 2 / (_B_GIVEN + _C_GIVEN),
                      also=(Given("n", _N, "all {:,} images", noun="the number of images"),))

q1 = Answer(
    key="q1", title="McNemar's statistic by hand", kind="compute", minutes=5, difficulty="easy",
    task="Two models are scored on the same 1,000 test images: only A is right on 15, only B on 35, and they agree "
         "on the other 950. Compute McNemar's chi-square statistic with continuity correction.",
    hints=("Only the disagreements count: the 950 images on which the models agree play no part.",
           "The statistic is (|b - c| - 1)^2 / (b + c) with b = 15 and c = 35."),
    expected=_CHI2, validate=need_number, solution_example=_CHI2, same=lambda a, b: abs(a - b) < 0.01,
    formula=_Q1_FORMULA,
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
        Mistake("square the corrected difference: (|b - c| - 1)^2 / (b + c), 19^2 / 50.",
                (abs(_B - _C) - 1) / (_B + _C)),
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


_KINDS = {"both right": lambda a, b: a & b, "only A right": lambda a, b: a & ~b,
          "only B right": lambda a, b: ~a & b, "both wrong": lambda a, b: ~a & ~b, "A right": lambda a, b: a,
          "B right": lambda a, b: b, "A wrong": lambda a, b: ~a, "B wrong": lambda a, b: ~b}
_SAYS_KIND = {"both right": "the images both models get right", "both wrong": "the images both models get wrong",
              "A right": "every image A gets right, whatever B does", "B right": "every image B gets right, whatever "
              "A does", "A wrong": "every image A gets wrong", "B wrong": "every image B gets wrong"}


def _counts_of(kind_b: str, kind_c: str):
    def counts(y_true, pred_a, pred_b):
        right_a, right_b = np.asarray(pred_a) == np.asarray(y_true), np.asarray(pred_b) == np.asarray(y_true)
        return int(np.sum(_KINDS[kind_b](right_a, right_b))), int(np.sum(_KINDS[kind_c](right_a, right_b)))
    return counts


def _counts_alternatives() -> tuple:
    """One count of the pair replaced by another kind of image: both right, both wrong, one model's right or wrong
    images whatever the other does."""
    out = []
    for kind, says in _SAYS_KIND.items():
        out.append((_counts_of(kind, "only B right"), f"b counts {says}; b counts the images only A gets right "
                                                      f"(A right and B wrong)."))
        out.append((_counts_of("only A right", kind), f"c counts {says}; c counts the images only B gets right "
                                                      f"(B right and A wrong)."))
    return tuple(out)


q2 = Function(
    key="q2", title="McNemar's counts", kind="code", minutes=10, difficulty="easy",
    task="Write `mcnemar_counts(y_true, pred_a, pred_b)`: the pair (b, c), where b counts the images that only "
         "model A gets right and c those that only model B gets right.",
    hints=("Start with two boolean arrays, `right_a = pred_a == y_true` and `right_b = pred_b == y_true`.",
           "b is `np.sum(right_a & ~right_b)` and c is `np.sum(~right_a & right_b)`; return `(int(b), int(c))`."),
    name="mcnemar_counts", cases=_counts_cases, reference=_mcnemar_counts, solution_example=_mcnemar_counts,
    describe=lambda args: f"y_true, pred_a, pred_b of {len(args[0])} images", alternatives=_counts_alternatives(),
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
    # images taller than wide: the task's shape is (n, height, width), and only here does mixing the two show
    cases.append((rng.uniform(0.05, 1.0, (2, 20, 12)).astype("float32"), 4))
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
        where = _zeros_against(output, expected)
        return (f"{int(np.sum(expected == 0))} pixels should be 0 ({_a(size)} {size} x {size} square per image); "
                f"got {zeros}" + (f": {where}" if where else "."))
    return None


def _zero_box(image: np.ndarray) -> str | None:
    """Where an image's zeros lie, as rows and columns counted from 0, when they fill one rectangle; else None."""
    rows, cols = np.nonzero(image == 0)
    if rows.size == 0:
        return None
    r0, r1, c0, c1 = rows.min(), rows.max(), cols.min(), cols.max()
    if rows.size != (r1 - r0 + 1) * (c1 - c0 + 1):
        return None
    height, width = r1 - r0 + 1, c1 - c0 + 1
    return f"{_a(height)} {height} x {width} block at rows {r0}-{r1}, columns {c0}-{c1}"


def _a(number: int) -> str:
    """The article before a number said aloud: an 8, an 11, an 18; a 7."""
    return "an" if str(number).startswith("8") or number in (11, 18) else "a"


def _zeros_against(output: np.ndarray, expected: np.ndarray) -> str | None:
    """The zeros of the first image that came out against those of the right one, when both fill a rectangle."""
    if len(output) == 0:
        return None
    got, want = _zero_box(output[0]), _zero_box(expected[0])
    square = expected[0] == 0
    inside = np.unique(output[0][square])
    if square.any() and np.allclose(output[0][~square], expected[0][~square]) and inside.size == 1:
        return f"the square is in place, but its pixels are set to {inside[0]:g}, not 0."
    if got is None or want is None or got == want:
        return None
    return f"the zeros of the first image are {got}; the centred square is {want}."


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

_OCCLUSION = 8


def _accuracies(model: Any, images: np.ndarray, labels: np.ndarray, size: int = _OCCLUSION) -> tuple[float, float]:
    """(clean, occluded) accuracy of a Keras model on the images, the centre size x size square hidden."""
    images = np.asarray(images, dtype="float32")

    def predict(x: np.ndarray) -> np.ndarray:
        return predict_proba(model, x if x.ndim == 4 else x[..., None]).argmax(axis=1)

    return (float(np.mean(predict(images) == labels)), float(np.mean(predict(_occlude(images, size)) == labels)))


def _scores(ctx: dict[str, Any], role: str = "cnn", size: int = _OCCLUSION) -> tuple[float, float]:
    """(clean, occluded) accuracy of `ctx[role]`, computed once per check (kept in the check's own context)."""
    memo = ctx.setdefault("_scores", {})
    if (role, size) not in memo:
        memo[role, size] = _accuracies(ctx[role], ctx["images"], ctx["labels"], size)
    return memo[role, size]


def _drop(ctx: dict[str, Any], role: str = "cnn", size: int = _OCCLUSION) -> float:
    clean, occluded = _scores(ctx, role, size)
    return (clean - occluded) * 100


def _diagnose_occlusion(answer: Any, ctx: dict[str, Any]) -> Finding | None:
    expected = _drop(ctx)
    found = number_finding(answer, expected, "points", what="clean minus occluded, the CNN")
    if found is None or found.code != "wrong":
        return found
    a = float(answer)
    clean, occluded = _scores(ctx)
    if abs(a - _drop(ctx, "ann")) < 0.01:
        return Finding("ann", f"{a:.2f} points is the ANN's drop; the CNN's is {expected:.2f}")
    if clean and (abs(a - expected / clean) < 0.01 or abs(a - expected / clean / 100) < 1e-4):
        return Finding("relative", f"{a:.4g} is the drop as a share of the clean accuracy, {clean:.3f}")
    if any(abs(a - v) < 0.01 for v in (clean * 100, occluded * 100)) or any(abs(a - v) < 1e-4
                                                                             for v in (clean, occluded)):
        return Finding("accuracy", f"{a:g} is one of the two accuracies ({clean:.3f} clean, {occluded:.3f} occluded)")
    for size in (4, 6, 7, 9, 10, 12, 16):
        if abs(a - _drop(ctx, "cnn", size)) < 0.01:
            return Finding("size", f"{a:.2f} points is the drop with a {size} x {size} square")
    return found


def _drop_reveal(answer: Any, ctx: dict[str, Any]) -> str:
    clean, occluded = _scores(ctx)
    ann = _drop(ctx, "ann")
    kept = occluded / clean if clean else float("nan")
    effect = (f"costs the CNN {answer:.1f} points" if answer >= 0 else
              f"raises the CNN's accuracy by {-answer:.1f} points")
    return (f"the check scored the CNN itself: hiding the centre 8 x 8 pixels {effect}; it keeps {kept:.0%} of its "
            f"clean accuracy. The ANN loses {ann:.1f} points: "
            f"{'the CNN relies more on the centre' if answer > ann else 'the ANN relies at least as much on the centre'}.")


def _linear_classifier(weights: np.ndarray):
    """A softmax layer on the flattened image with set weights (the tests' models; no training)."""
    import keras

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    model.layers[-1].set_weights([weights.astype("float32"), np.zeros(10, dtype="float32")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@lru_cache(maxsize=1)
def _demo_occlusion() -> dict[str, Any]:
    """A "CNN" that reads only the centre of the image and an "ANN" that reads all of it, and 80 images labelled
    by the CNN's own answers on them (the tests)."""
    rng = np.random.default_rng(5)
    centre = np.zeros((28, 28, 10))
    centre[10:18, 10:18] = rng.normal(0, 1, (8, 8, 10))
    cnn = _linear_classifier(centre.reshape(784, 10))
    ann = _linear_classifier(rng.normal(0, 0.3, (784, 10)))
    images = rng.random((80, 28, 28)).astype("float32")
    labels = predict_proba(cnn, images[..., None]).argmax(axis=1)
    labels[:20] = (labels[:20] + 1) % 10  # the CNN right on 60 of 80 clean images
    return {"cnn": cnn, "ann": ann, "images": images, "labels": labels}


def _demo_q5() -> dict[str, Any]:
    return dict(_demo_occlusion())


q5 = Build(
    key="q5", title="What does occlusion cost?", kind="experiment", minutes=10, difficulty="medium",
    task="Score the lesson's ANN and CNN on the shift-test images, clean and occluded by your `occlude` with size "
         "8, and report the CNN's drop in accuracy points, clean minus occluded; the check scores the models "
         "itself.",
    hints=("`shifts.keras_predictor(cnn)` gives a function from float images to predicted labels; the images are "
           "`x_test[subset]` and their labels `ds.y_test[subset]`.",
           "Accuracy is `np.mean(predict(images) == labels)`; the drop in points is `(clean - occluded) * 100`."),
    context=("cnn", "ann", "images", "labels"), demo_context=_demo_q5, solution_example=lambda ctx: _drop(ctx),
    diagnose=_diagnose_occlusion, reveal=_drop_reveal,
    mistakes=(
        Mistake("the sign is reversed: the task asks for clean minus occluded. Subtract in the order the task "
                "gives.", lambda ctx: -_drop(ctx), detect=Found("sign")),
        Mistake("that is a fraction of 1; the task asks for accuracy points (multiply by 100: 0.012 is 1.2 points).",
                lambda ctx: _drop(ctx) / 100, detect=Found("fraction_for_points")),
        Mistake("that is the drop as a share of the clean accuracy; the task asks for the difference in points, "
                "(clean - occluded) * 100.",
                lambda ctx: _drop(ctx) / _accuracies(ctx["cnn"], ctx["images"], ctx["labels"])[0],
                detect=Found("relative")),
        Mistake("that is the ANN's drop; the task asks for the CNN's (`cnn`).", lambda ctx: _drop(ctx, "ann"),
                detect=Found("ann")),
        Mistake("that is an accuracy, not the drop: subtract, clean minus occluded, in points.",
                lambda ctx: _accuracies(ctx["cnn"], ctx["images"], ctx["labels"])[0] * 100,
                detect=Found("accuracy")),
        Mistake("the square hidden is not 8 x 8: call `occlude(images, 8)`.", lambda ctx: _drop(ctx, "cnn", 4),
                detect=Found("size")),
    ),
)

# ------------------------------------------------------------------------------------------------ q6


def _bootstrap_diffs(y, pred_a, pred_b, n_boot, seed, paired=True):
    y, right_a, right_b = np.asarray(y), np.asarray(pred_a) == np.asarray(y), np.asarray(pred_b) == np.asarray(y)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(y), (n_boot, len(y)))
    other = idx if paired else rng.integers(0, len(y), (n_boot, len(y)))
    return (right_b[other].mean(axis=1) - right_a[idx].mean(axis=1)) * 100


def _paired_bootstrap(y_true, pred_a, pred_b, n_boot, seed) -> tuple[float, float]:
    """The 95% percentile bootstrap interval of accuracy(B) - accuracy(A), in points, resampling images."""
    low, high = np.percentile(_bootstrap_diffs(y_true, pred_a, pred_b, n_boot, seed), [2.5, 97.5])
    return float(low), float(high)


def _boot_unpaired(y, a, b, n, seed):
    return tuple(float(v) for v in np.percentile(_bootstrap_diffs(y, a, b, n, seed, paired=False), [2.5, 97.5]))


def _boot_ninety(y, a, b, n, seed):
    return tuple(float(v) for v in np.percentile(_bootstrap_diffs(y, a, b, n, seed), [5, 95]))


def _boot_fraction_percentiles(y, a, b, n, seed):
    return tuple(float(v) for v in np.percentile(_bootstrap_diffs(y, a, b, n, seed), [0.025, 0.975]))


def _boot_no_replacement(y, a, b, n, seed):
    rng = np.random.default_rng(seed)
    right_a, right_b = np.asarray(a) == y, np.asarray(b) == y
    diffs = [(right_b[p].mean() - right_a[p].mean()) * 100 for p in (rng.permutation(len(y)) for _ in range(n))]
    return tuple(float(v) for v in np.percentile(diffs, [2.5, 97.5]))


def _bootstrap_with(size: Callable[[int, int], int] | None = None, draw_once: bool = False, rng_each: bool = False,
                    score: str = "difference") -> Callable:
    """A bootstrap that resamples `size(n, n_boot)` images, draws its indices once for every resample, makes its
    generator anew for each resample, or keeps B's accuracy ("b") or the difference of counts ("counts")."""
    def bootstrap(y_true, pred_a, pred_b, n_boot, seed):
        y = np.asarray(y_true)
        right_a, right_b = np.asarray(pred_a) == y, np.asarray(pred_b) == y
        rng = np.random.default_rng(seed)
        k = size(len(y), n_boot) if size else len(y)
        fixed = rng.integers(0, len(y), k) if draw_once else None
        diffs = []
        for _ in range(n_boot):
            if rng_each:
                rng = np.random.default_rng(seed)
            idx = fixed if draw_once else rng.integers(0, len(y), k)
            if score == "b":
                diffs.append(right_b[idx].mean() * 100)
            elif score == "counts":
                diffs.append(float(right_b[idx].sum() - right_a[idx].sum()))
            else:
                diffs.append((right_b[idx].mean() - right_a[idx].mean()) * 100)
        low, high = np.percentile(diffs, [2.5, 97.5])
        return float(low), float(high)
    return bootstrap


def _boot_percentiles_subtracted(y_true, pred_a, pred_b, n_boot, seed):
    """Each model's own percentiles, subtracted: B's 2.5th minus A's 2.5th, B's 97.5th minus A's 97.5th."""
    y = np.asarray(y_true)
    right_a, right_b = np.asarray(pred_a) == y, np.asarray(pred_b) == y
    idx = np.random.default_rng(seed).integers(0, len(y), (n_boot, len(y)))
    a, b = right_a[idx].mean(axis=1) * 100, right_b[idx].mean(axis=1) * 100
    return (float(np.percentile(b, 2.5) - np.percentile(a, 2.5)), float(np.percentile(b, 97.5) - np.percentile(a, 97.5)))


_BOOTSTRAP_ALTERNATIVES = (
    (_boot_percentiles_subtracted, "that subtracts A's percentiles from B's; the interval of a difference is the "
                                   "percentiles of the differences: keep B's accuracy minus A's in every resample, "
                                   "then take the 2.5th and 97.5th percentiles of those."),
    (_bootstrap_with(size=lambda n, n_boot: n_boot), "each resample draws `n_boot` images; it draws as many as the "
                                                     "test set holds, `rng.integers(0, n, n)` with "
                                                     "`n = len(y_true)`."),
    (_bootstrap_with(draw_once=True), "the indices are drawn once, before the loop, so every resample is the same: "
                                      "draw new indices in every resample."),
    (_bootstrap_with(rng_each=True), "the generator is made anew in every resample, so each draws the same images: "
                                     "make it once, before the loop."),
    (_bootstrap_with(score="b"), "that is an interval of B's accuracy alone; each resample keeps B's accuracy minus "
                                 "A's, on the same images."),
    (_bootstrap_with(score="counts"), "that is an interval of the difference in the number of images right; the "
                                      "task asks for accuracy points: the difference of the means, times 100."),
)


def _bootstrap_runs(function: Callable) -> list:
    """What a bootstrap returns on the check's cases with 400 resamples (for the alternatives)."""
    return [function(y, a, b, 400, seed) for y, a, b, _, seed in _bootstrap_cases()]


def _bootstrap_cases() -> list[tuple]:
    rng = seeded_rng(21)
    cases = []
    for n, acc_a, acc_b in [(1_000, 0.85, 0.88), (800, 0.92, 0.90)]:
        y = rng.integers(0, 10, n)
        shared = rng.random(n)  # the two models err mostly on the same hard images, as real models do
        pred_a = np.where(shared < acc_a, y, (y + 1) % 10)
        pred_b = np.where(shared + rng.normal(0, 0.03, n) < acc_b, y, (y + 2) % 10)
        cases.append((y, pred_a, pred_b, 10_000, 0))
    return cases


def _close(a: tuple[float, float], b: tuple[float, float], tolerance: float) -> bool:
    return abs(a[0] - b[0]) <= tolerance and abs(a[1] - b[1]) <= tolerance


def _diagnose_bootstrap(function: Any, ctx: dict[str, Any]) -> Finding | None:
    for args in _bootstrap_cases():
        y, pred_a, pred_b, n_boot, seed = args
        out, again = (run_student(function, args, "paired_bootstrap") for _ in range(2))
        where = f"{len(y)} images, accuracies {np.mean(pred_a == y):.3f} (A) and {np.mean(pred_b == y):.3f} (B)"
        if not isinstance(out, (tuple, list)) or len(out) != 2 or not all(is_number(v) for v in out):
            return Finding("form", f"return the interval as a pair of numbers `(low, high)`; got {_short(out)}")
        got = (float(out[0]), float(out[1]))
        if isinstance(again, (tuple, list)) and len(again) == 2 and tuple(float(v) for v in again) != got:
            return Finding("not_reproducible", f"{where}: two calls with seed {seed} gave {got} and {tuple(again)}")
        want = _paired_bootstrap(*args)
        observed = (np.mean(pred_b == y) - np.mean(pred_a == y)) * 100
        tolerance = 0.05 * (want[1] - want[0]) / 2 + 0.04
        if _close(got, want, tolerance):
            continue
        if _close(got, want[::-1], tolerance):
            return Finding("order", f"{where}: got {got}")
        if _close(got, (want[0] / 100, want[1] / 100), tolerance / 100):
            return Finding("fraction", f"{where}: got ({got[0]:.4f}, {got[1]:.4f}); in points it is "
                                       f"({want[0]:.2f}, {want[1]:.2f})")
        if _close(got, (-want[1], -want[0]), tolerance) or _close(got, (-want[0], -want[1]), tolerance):
            return Finding("sign", f"{where}: got ({got[0]:.2f}, {got[1]:.2f}); B minus A gives "
                                   f"({want[0]:.2f}, {want[1]:.2f})")
        if abs(got[1] - got[0]) < 1e-9:
            return Finding("no_replacement", f"{where}: the interval has width 0")
        unpaired = _boot_unpaired(*args)
        if _close(got, unpaired, 0.05 * (unpaired[1] - unpaired[0]) / 2 + 0.04):
            return Finding("unpaired", f"{where}: your interval ({got[0]:.2f}, {got[1]:.2f}) is as wide as "
                                       f"resampling each model on its own gives; paired it is ({want[0]:.2f}, "
                                       f"{want[1]:.2f})")
        if _close(got, _boot_fraction_percentiles(*args), tolerance):
            return Finding("percentile_scale", f"{where}: got ({got[0]:.2f}, {got[1]:.2f}), the 0.025th and "
                                               f"0.975th percentiles")
        if _close(got, _boot_ninety(*args), tolerance):
            return Finding("ninety", f"{where}: got ({got[0]:.2f}, {got[1]:.2f}); the 95% interval is "
                                     f"({want[0]:.2f}, {want[1]:.2f})")
        return Finding("values", f"{where}: got ({got[0]:.2f}, {got[1]:.2f}); the paired bootstrap gives about "
                                 f"({want[0]:.2f}, {want[1]:.2f}) around the observed {observed:+.2f} points")
    return None


q6 = Build(
    key="q6", title="A paired bootstrap interval", kind="code", minutes=25, difficulty="hard",
    task="Write `paired_bootstrap(y_true, pred_a, pred_b, n_boot, seed)`: the 95% percentile bootstrap interval, in "
         "accuracy points, of B's accuracy minus A's, resampling the test images with replacement (the same images "
         "for both models) `n_boot` times with `np.random.default_rng(seed)`.",
    hints=("One resample draws `len(y_true)` image indices with replacement, `rng.integers(0, n, n)`, and scores "
           "both models on those same images: the difference of their accuracies is one bootstrap value.",
           "Compute `right_a = pred_a == y_true` and `right_b` once; for each of `n_boot` index arrays `idx`, keep "
           "`(right_b[idx].mean() - right_a[idx].mean()) * 100`; return `tuple(np.percentile(diffs, [2.5, 97.5]))`."),
    solution_example=lambda ctx: _paired_bootstrap, diagnose=_diagnose_bootstrap, time_limit=60.0,
    alternatives=_BOOTSTRAP_ALTERNATIVES, runs=_bootstrap_runs,
    reveal=lambda a, ctx: ("your intervals match the paired bootstrap's on every hidden case (within the noise of "
                           "10,000 resamples). Pairing matters: two models err mostly on the same hard images, so "
                           "resampling the images once for both cancels that shared luck, and the interval is "
                           "narrower than two separate resamplings give. McNemar's test uses the same pairing."),
    mistakes=(
        Mistake("the two models were resampled on different images: a paired bootstrap draws one set of indices "
                "per resample and scores both models on it, so their shared hard images cancel out.",
                lambda ctx: _boot_unpaired, detect=Found("unpaired")),
        Mistake("that is a fraction of 1; the task asks for accuracy points (multiply the differences by 100).",
                lambda ctx: (lambda *args: tuple(v / 100 for v in _paired_bootstrap(*args))),
                detect=Found("fraction")),
        Mistake("the sign is reversed: the task asks for B's accuracy minus A's.",
                lambda ctx: (lambda y, a, b, n, s: _paired_bootstrap(y, b, a, n, s)), detect=Found("sign")),
        Mistake("the interval has width 0: drawing without replacement (a permutation) gives back the same images "
                "every time. Draw with replacement, `rng.integers(0, n, n)`.",
                lambda ctx: _boot_no_replacement, detect=Found("no_replacement")),
        Mistake("that is a 90% interval (the 5th and 95th percentiles); a 95% interval cuts 2.5% off each end.",
                lambda ctx: _boot_ninety, detect=Found("ninety")),
        Mistake("`np.percentile` takes percents, 0 to 100: the 95% interval is `[2.5, 97.5]`, not `[0.025, "
                "0.975]`.", lambda ctx: _boot_fraction_percentiles, detect=Found("percentile_scale")),
        Mistake("return `(low, high)`, the lower bound first.",
                lambda ctx: (lambda *args: _paired_bootstrap(*args)[::-1]), detect=Found("order")),
        Mistake("two calls with the same seed gave different intervals: draw with `np.random.default_rng(seed)`.",
                lambda ctx: (lambda y, a, b, n, s: _paired_bootstrap(y, a, b, n, int(np.random.randint(2**31)))),
                detect=Found("not_reproducible")),
    ),
)

# ------------------------------------------------------------------------------------------------ q7

_REGION = (slice(4, 10), slice(15, 23))  # the pixels the check's model looks at: off centre, wider than tall
_CLASS = 3


def _region_model(images: np.ndarray) -> np.ndarray:
    """The check's classifier: class 3's score grows with the brightness of one region; probabilities (n, 10)."""
    x = np.asarray(images, dtype="float64")
    x = x[..., 0] if x.ndim == 4 else x
    logits = np.zeros((len(x), 10))
    logits[:, _CLASS] = 4 * x[:, _REGION[0], _REGION[1]].mean(axis=(1, 2))
    logits[:, 7] = 3.5 + 0.5 * x.mean(axis=(1, 2))  # class 7 leads on the untouched image
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _occlusion_map(predict_proba, image, label, size, stride) -> np.ndarray:
    """How much hiding each size x size square (moved by stride) lowers the probability of `label`."""
    image = np.asarray(image, dtype="float32")
    rows, cols = (image.shape[0] - size) // stride + 1, (image.shape[1] - size) // stride + 1
    batch = np.repeat(image[None], rows * cols, axis=0)
    for i in range(rows):
        for j in range(cols):
            batch[i * cols + j, i * stride:i * stride + size, j * stride:j * stride + size] = 0
    base = np.asarray(predict_proba(image[None]))[0, label]
    return (base - np.asarray(predict_proba(batch))[:, label]).reshape(rows, cols)


def _occlusion_map_filled(predict_proba, image, label, size, stride, fill=0.0) -> np.ndarray:
    image = np.asarray(image, dtype="float32")
    rows, cols = (image.shape[0] - size) // stride + 1, (image.shape[1] - size) // stride + 1
    batch = np.repeat(image[None], rows * cols, axis=0)
    for i in range(rows):
        for j in range(cols):
            batch[i * cols + j, i * stride:i * stride + size, j * stride:j * stride + size] = fill
    base = np.asarray(predict_proba(image[None]))[0, label]
    return (base - np.asarray(predict_proba(batch))[:, label]).reshape(rows, cols)


def _map_cumulative(predict_proba, image, label, size, stride):
    image = np.array(image, dtype="float32")
    base = np.asarray(predict_proba(image[None]))[0, label]
    rows, cols = (image.shape[0] - size) // stride + 1, (image.shape[1] - size) // stride + 1
    out = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            image[i * stride:i * stride + size, j * stride:j * stride + size] = 0  # never put back
            out[i, j] = base - np.asarray(predict_proba(image[None]))[0, label]
    return out


def _map_predicted(predict_proba, image, label, size, stride):
    return _occlusion_map(predict_proba, image, int(np.argmax(predict_proba(np.asarray(image)[None])[0])), size,
                          stride)


def _map_probability(predict_proba, image, label, size, stride):
    base = np.asarray(predict_proba(np.asarray(image)[None]))[0, label]
    return base - _occlusion_map(predict_proba, image, label, size, stride)


def _map_in_place(predict_proba, image, label, size, stride):
    out = _occlusion_map(predict_proba, image, label, size, stride)
    image[:size, :size] = 0
    return out


def _map_stride_ignored(predict_proba, image, label, size, stride):
    return _occlusion_map(predict_proba, image, label, size, 1)


_MAP_VARIANTS = {"transposed": lambda *a: _occlusion_map(*a).T, "sign": lambda *a: -_occlusion_map(*a),
                 "probability": _map_probability, "predicted_label": _map_predicted,
                 "cumulative": _map_cumulative}


def _map_cases() -> list[tuple]:
    rng = seeded_rng(22)
    image = rng.uniform(0.3, 1.0, (28, 28)).astype("float32")
    return [(_region_model, image, _CLASS, 8, 4), (_region_model, image.copy(), _CLASS, 6, 2)]


def _diagnose_map(function: Any, ctx: dict[str, Any]) -> Finding | None:
    for args in _map_cases():
        _, image, label, size, stride = args
        kept = image.copy()
        out = run_student(function, args, "occlusion_map")
        where = f"square {size}, stride {stride}"
        if not np.array_equal(image, kept):
            return Finding("in_place", f"{where}: the image passed in came back changed")
        try:
            out = np.asarray(out, dtype="float64")
        except (TypeError, ValueError):
            return Finding("form", f"return a 2-D array of numbers; got {_short(out)}")
        want = _occlusion_map(*args)
        if out.shape == want.shape and np.allclose(out, want, atol=1e-5):
            continue
        for code, variant in _MAP_VARIANTS.items():
            wrong = variant(*args)
            if out.shape == wrong.shape and np.allclose(out, wrong, atol=1e-5):
                return Finding(code, where)
        if out.shape == _map_stride_ignored(*args).shape:
            return Finding("stride_ignored", f"{where}: the map has shape {out.shape}, {want.shape} with the stride")
        if out.ndim == 2 and all(abs(a - b) == 1 for a, b in zip(out.shape, want.shape)):
            return Finding("off_by_one", f"{where}: the map has shape {out.shape}; (28 - {size}) // {stride} + 1 "
                                         f"positions give {want.shape}")
        if out.shape != want.shape:
            return Finding("shape", f"{where}: the map has shape {out.shape}; expected {want.shape}")
        for fill in (1.0, float(np.mean(image))):
            other = _occlusion_map_filled(*args, fill=fill)
            if np.allclose(out, other, atol=1e-5):
                return Finding("fill", f"{where}: the square was filled with {fill:.3g}")
        ratio = out[np.abs(want) > 1e-6] / want[np.abs(want) > 1e-6]
        if ratio.size and np.allclose(ratio, ratio[0], rtol=1e-4) and not np.isclose(ratio[0], 1):
            return Finding("scaled", f"{where}: the map is {ratio[0]:.3g} times the drops in probability")
        return Finding("values", f"{where}: the values differ from the drops in probability by up to "
                                 f"{np.abs(out - want).max():.3g}")
    return None


q7 = Build(
    key="q7", title="Where does the CNN look?", kind="code", minutes=25, difficulty="hard",
    task="Write `occlusion_map(predict_proba, image, label, size, stride)`: for every position of a size x size "
         "square of zeros moved `stride` pixels at a time over the image, how much hiding it lowers the "
         "probability of `label`; a 2-D array, one value per position.",
    hints=("The map has `(height - size) // stride + 1` rows and as many columns by the same rule. For the square "
           "at row i, column j, copy the image, set `[i*stride:i*stride+size, j*stride:j*stride+size]` to 0 and ask "
           "for the probability of `label`.",
           "`predict_proba` takes a batch, shape (n, 28, 28): put every occluded copy into one batch, call it once, "
           "and subtract each copy's probability of `label` from the untouched image's, "
           "`predict_proba(image[None])[0, label]`. Start each copy from the original image."),
    solution_example=lambda ctx: _occlusion_map, diagnose=_diagnose_map, time_limit=60.0, runs=runs_on(_map_cases),
    reveal=lambda a, ctx: ("your map finds what the check's model looks at: the largest drops sit over the region "
                           "its class depends on, and nowhere else. Below, the same function shows where your CNN "
                           "looks on one test image."),
    mistakes=(
        Mistake("rows and columns are swapped: the first index of the map is the square's row (its vertical "
                "position), the second its column.", lambda ctx: (lambda *a: _occlusion_map(*a).T),
                detect=Found("transposed")),
        Mistake("the sign is reversed: the map holds the untouched image's probability minus the occluded one's, "
                "so a square that hides what matters gives a large positive value.",
                lambda ctx: (lambda *a: -_occlusion_map(*a)), detect=Found("sign")),
        Mistake("that is the occluded images' probability itself; the map holds the drop from the untouched "
                "image's probability.", lambda ctx: _map_probability, detect=Found("probability")),
        Mistake("the squares pile up: each position must start from the original image (a copy), or every later "
                "square also hides all the earlier ones.", lambda ctx: _map_cumulative,
                detect=Found("cumulative", "in_place")),
        Mistake("that follows the model's predicted class; the map is about `label`, the class asked for.",
                lambda ctx: _map_predicted, detect=Found("predicted_label")),
        Mistake("the drops are rescaled (divided by the untouched probability, or in percent): the map holds the "
                "plain difference, untouched minus occluded probability of `label`.",
                lambda ctx: (lambda *a: _occlusion_map(*a) * 100), detect=Found("scaled")),
        Mistake("the square must be set to 0 (black, as `occlude` does), not to another value.",
                lambda ctx: (lambda *a: _occlusion_map_filled(*a, fill=1.0)), detect=Found("fill")),
        Mistake("the stride is ignored: the square moves `stride` pixels at a time, so the map has "
                "(28 - size) // stride + 1 positions per side.", lambda ctx: _map_stride_ignored,
                detect=Found("stride_ignored")),
    ),
)

LADDER = {"q1": WARM_UP, "q2": CORE, "q3": WARM_UP, "q4": CORE, "q5": CORE, "q6": STRETCH, "q7": STRETCH}

EXERCISES = [q1, q2, q3, q4, q5, q6, q7]
