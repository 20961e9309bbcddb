"""Exercises of notebook 01 (exploring the data): sizes, a baseline, class means, look-alikes, a small experiment.

Usage:
    ex = exercises.for_notebook("01_exploration"); ex.q1.check(60_000 * 28 * 28)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .common import class_name_problem, fraction_for_points, need_number, seeded_rng, sign_error
from .ladder import CORE, STRETCH, WARM_UP
from .core import Answer, Function, Mistake, Prediction

TITLE = "Exploring Fashion-MNIST and MNIST"

# ------------------------------------------------------------------------------------------------ q1

_PIXELS = 60_000 * 28 * 28

q1 = Answer(
    key="q1", title="How many numbers?", kind="compute", minutes=3, difficulty="easy",
    task="How many pixel values does the training set hold in all? Give one whole number.",
    hints=("Every training image is a 28 x 28 grid of numbers.",
           "Multiply the number of training images by the number of pixels in one image (28 * 28 = 784)."),
    solution_code="answer_q1 = 60_000 * 28 * 28   # 47,040,000 bytes: 45 MiB as uint8, 180 MiB as float32",
    expected=_PIXELS, validate=need_number, solution_example=_PIXELS,
    on_correct=lambda a, ctx: "47,040,000 numbers: 45 MiB as bytes, four times that once scaled to float32.",
    mistakes=(
        Mistake("that counts the 10,000 test images too; the task asks for the training set only (60,000).",
                70_000 * 28 * 28),
        Mistake("an image has 28 x 28 pixels, not 28: multiply by both sides.", 60_000 * 28),
        Mistake("that is one image; multiply by the number of training images.", 28 * 28),
    ),
)

# ------------------------------------------------------------------------------------------------ q2


def _majority_baseline(y_train: np.ndarray, y_test: np.ndarray) -> float:
    majority = np.bincount(y_train).argmax()
    return float(np.mean(y_test == majority))


def _baseline_cases() -> list[tuple]:
    rng = seeded_rng(1)
    cases = []
    for n_train, n_test, n_classes in [(200, 50, 3), (1_000, 300, 10), (57, 19, 4)]:
        weights = rng.dirichlet(np.ones(n_classes))
        y_train = rng.choice(n_classes, n_train, p=weights)
        # the test set's most common class differs from the training set's, so a peek at the test labels shows
        y_test = rng.choice(n_classes, n_test, p=np.roll(weights, 1))
        cases.append((y_train, y_test))
    return cases


q2 = Function(
    key="q2", title="The majority-class baseline", kind="code", minutes=10, difficulty="easy",
    task="Write `majority_baseline(y_train, y_test)`: the test accuracy (a fraction) of always answering the most "
         "common class of the training labels.",
    hints=("`np.bincount(y_train)` counts each label; `.argmax()` gives the most common one.",
           "Compare every test label with that class, `y_test == majority`, and take the mean of the result."),
    solution_code=("def majority_baseline(y_train, y_test):\n"
                   "    majority = np.bincount(y_train).argmax()   # chosen from the training labels only\n"
                   "    return float(np.mean(y_test == majority))"),
    name="majority_baseline", cases=_baseline_cases, reference=_majority_baseline,
    solution_example=_majority_baseline,
    mistakes=(
        Mistake("the class was chosen by the test labels: a baseline may only learn from the training labels.",
                lambda y_train, y_test: float(np.mean(y_test == np.bincount(y_test).argmax()))),
        Mistake("that is scored on the training labels; score the choice on the test labels.",
                lambda y_train, y_test: float(np.mean(y_train == np.bincount(y_train).argmax()))),
        Mistake("that assumes balanced classes (1 / number of classes); count the labels instead.",
                lambda y_train, y_test: 1 / (max(y_train.max(), y_test.max()) + 1)),
        Mistake("return a fraction between 0 and 1, not a percentage.",
                lambda y_train, y_test: 100 * _majority_baseline(y_train, y_test)),
    ),
)

# ------------------------------------------------------------------------------------------------ q3


def _class_means(images: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    return np.stack([images[labels == k].astype("float64").mean(axis=0) for k in range(n_classes)])


def _means_uint8_total(images, labels, n_classes):
    out = []
    for k in range(n_classes):
        total = np.zeros_like(images[0])  # uint8: wraps around above 255
        for img in images[labels == k]:
            total += img
        out.append(total / max((labels == k).sum(), 1))
    return np.stack(out)


def _means_cases() -> list[tuple]:
    rng = seeded_rng(2)
    cases = []
    for n, side, n_classes in [(40, 4, 3), (120, 6, 5), (300, 28, 10)]:
        images = rng.integers(0, 256, (n, side, side), dtype=np.uint8)
        labels = np.arange(n) % n_classes
        rng.shuffle(labels)
        cases.append((images, labels, n_classes))
    return cases


q3 = Function(
    key="q3", title="The average image of each class", kind="code", minutes=10, difficulty="medium",
    task="Write `class_means(images, labels, n_classes)`: an array of shape (n_classes, height, width) whose k-th "
         "entry is the mean of the images of class k.",
    hints=("`images[labels == k]` picks the images of class k; `.mean(axis=0)` averages them pixel by pixel.",
           "Build one mean per class in a list and `np.stack` it; convert to float before adding bytes up."),
    solution_code=("def class_means(images, labels, n_classes):\n"
                   "    return np.stack([images[labels == k].astype('float64').mean(axis=0)\n"
                   "                     for k in range(n_classes)])"),
    name="class_means", cases=_means_cases, reference=_class_means, solution_example=_class_means,
    same=lambda a, b: np.shape(a) == np.shape(b) and np.allclose(a, b, atol=1e-6),
    describe=lambda args: f"images {args[0].shape} uint8, labels {args[1].shape}, n_classes={args[2]}",
    mistakes=(
        Mistake("your sums wrapped around: uint8 holds 0-255 and 250 + 10 gives 4. Convert the images to float "
                "before adding them up.", _means_uint8_total),
        Mistake("every class got the same mean: average only the images whose label is k, `images[labels == k]`.",
                lambda images, labels, n: np.stack([images.astype("float64").mean(axis=0)] * n)),
        Mistake("keep each mean as an image of shape (height, width), not a flat vector.",
                detect=lambda out, args: np.ndim(out) == 2 and np.shape(out)[1] == args[0].shape[1] ** 2,
                example=lambda images, labels, n: _class_means(images, labels, n).reshape(n, -1)),
    ),
)

# ------------------------------------------------------------------------------------------------ q4


def _pair_counts(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    counts = np.zeros((n, n), dtype=int)
    np.add.at(counts, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    both = counts + counts.T
    np.fill_diagonal(both, -1)
    return both


def _most_confused(ctx: dict[str, Any]) -> frozenset:
    names = tuple(ctx["class_names"])
    both = _pair_counts(ctx["y_true"], ctx["y_pred"], len(names))
    i, j = np.unravel_index(np.argmax(both), both.shape)
    return frozenset({names[i], names[j]})


def _pair_problem(answer: Any, ctx: dict[str, Any]) -> str | None:
    if not isinstance(answer, (tuple, list, set, frozenset)) or len(answer) != 2:
        return f"give a pair of two class names, e.g. ('Coat', 'Bag'); got {answer!r}."
    for name in answer:
        problem = class_name_problem(name, tuple(ctx["class_names"]))
        if problem:
            return problem
    return None


def _confusion_reveal(answer: Any, ctx: dict[str, Any]) -> str:
    names = tuple(ctx["class_names"])
    both = _pair_counts(ctx["y_true"], ctx["y_pred"], len(names))
    a, b = sorted(_most_confused(ctx))
    i, j = names.index(a), names.index(b)
    mine = [names.index(n) for n in answer]
    return (f"the nearest-mean rule mixes up {a} and {b} most, {both[i, j]:,} test images in either direction; "
            f"your pair: {both[mine[0], mine[1]]:,}.")


def _demo_q4() -> dict[str, Any]:
    names = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
             "Ankle boot")
    y_true = np.repeat(np.arange(10), 10)
    y_pred = y_true.copy()
    y_pred[[60, 61, 62, 63]] = 0  # Shirt -> T-shirt/top
    y_pred[[20, 21]] = 4  # Pullover -> Coat
    return {"y_true": y_true, "y_pred": y_pred, "class_names": names}


q4 = Prediction(
    key="q4", title="Which classes will be confused?", kind="predict", minutes=5, difficulty="easy",
    task="Before running the check, predict the pair of classes that the nearest-mean rule confuses most often, "
         "as a tuple of two class names; the check then reveals what this run shows.",
    hints=("Look back at the mean images and their correlation table: which two averages look most alike?",
           "On clothes, think of the upper-body garments; on digits, of digits drawn with similar strokes."),
    solution_code=("prediction = ('Shirt', 'T-shirt/top') if dataset == 'fashion_mnist' else ('4', '9')\n"
                   "# any pair of two different classes is a valid prediction; the check reveals the answer"),
    context=("y_true", "y_pred", "class_names"), demo_context=_demo_q4, solution_example=("Shirt", "T-shirt/top"),
    expected=_most_confused, same=lambda a, b: frozenset(a) == b, validate=_pair_problem,
    on_correct=_confusion_reveal,
    mistakes=(
        Mistake("a pair needs two different classes; a class confused with itself is a right answer.",
                ("Shirt", "Shirt"),
                detect=lambda a, ctx: isinstance(a, (tuple, list)) and len(a) == 2 and a[0] == a[1]),
        Mistake("use the class names, e.g. 'Shirt', not the label numbers (the names of digits are '0' to '9').",
                (6, 0),
                detect=lambda a, ctx: isinstance(a, (tuple, list)) and len(a) == 2
                and all(isinstance(v, (int, np.integer)) for v in a)),
    ),
)

# ------------------------------------------------------------------------------------------------ q5


def _drop_points(ctx: dict[str, Any]) -> float:
    return (ctx["full"] - ctx["small"]) * 100


def _data_reveal(answer: Any, ctx: dict[str, Any]) -> str:
    """What 60 times more images bought this rule in the student's run; true whatever the size of the drop."""
    full, small = ctx["full"], ctx["small"]
    if answer > 0:
        text = (f"with 1/60 of the data the rule loses {answer:.2f} points ({full:.1%} with all images, {small:.1%} "
                f"with 100 per class): 60 times more images bought {answer:.2f} points here.")
    else:
        text = (f"the small set scored {-answer:.2f} points higher ({small:.1%} against {full:.1%}): 60 times more "
                f"images bought nothing here.")
    return text + (" More images can only make each of the ten averages more exact; one average per class stays one "
                   "template per class, however many images go into it, so the rule's errors on images unlike their "
                   "class average remain.")


def _demo_q5() -> dict[str, Any]:
    return {"full": 0.6855, "small": 0.6620}


q5 = Answer(
    key="q5", title="How much data does the nearest-mean rule need?", kind="experiment", minutes=15,
    difficulty="medium",
    task="Compute the nearest-mean rule's test accuracy twice: with means from all training images (`full`), and "
         "from only the first 100 training images of each class (`small`). Report the drop in accuracy points, "
         "full minus small.",
    hints=("Use your `class_means` from exercise 3 on all images, and on `np.concatenate` of the first 100 indices "
           "of each class (`np.flatnonzero(y == k)[:100]`).",
           "To predict, measure each test image's squared distance to each mean, "
           "`((x - means[k]) ** 2).sum(axis=(1, 2))` for k in 0..9, stack the ten columns and take the `argmin` "
           "over classes; accuracy is the mean of `pred == y_test`. The drop is `(full - small) * 100`."),
    solution_code=("def nearest_mean_accuracy(means, x, y):\n"
                   "    x = x.astype('float32')\n"
                   "    d = np.stack([((x - m) ** 2).sum(axis=(1, 2)) for m in means], axis=1)\n"
                   "    return float(np.mean(d.argmin(axis=1) == y))\n"
                   "first_100 = np.concatenate([np.flatnonzero(ds.y_train == k)[:100] for k in range(10)])\n"
                   "full = nearest_mean_accuracy(class_means(ds.x_train, ds.y_train, 10), ds.x_test, ds.y_test)\n"
                   "small = nearest_mean_accuracy(class_means(ds.x_train[first_100], ds.y_train[first_100], 10),\n"
                   "                              ds.x_test, ds.y_test)\n"
                   "answer_q5 = (full - small) * 100"),
    context=("full", "small"), demo_context=_demo_q5, solution_example=lambda ctx: _drop_points(ctx),
    expected=_drop_points, validate=need_number, same=lambda a, b: abs(a - b) < 0.01,
    on_correct=_data_reveal,
    mistakes=(sign_error("the task asks for full minus small", _drop_points), fraction_for_points(_drop_points)),
)

LADDER = {"q1": WARM_UP, "q2": CORE, "q3": CORE, "q4": WARM_UP, "q5": CORE}

EXERCISES = [q1, q2, q3, q4, q5]
