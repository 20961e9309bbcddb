"""Exercises of notebook 01 (exploring the data): sizes, a baseline, class means, look-alikes, a small experiment.

Usage:
    ex = exercises.for_notebook("01_exploration"); ex.q1.check(60_000 * 28 * 28)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from functools import lru_cache
from typing import Callable

from .builds import Attempt, Build, Finding, Found, number_finding, run_student, runs_on
from .common import class_name_problem, is_number, need_number, seeded_rng
from .core import Answer, Function, Mistake, Prediction, _short
from .givens import IMAGE_COUNTS, Formula, Given
from .ladder import CORE, STRETCH, WARM_UP

TITLE = "Exploring Fashion-MNIST and MNIST"

# ------------------------------------------------------------------------------------------------ q1

_PIXELS = 60_000 * 28 * 28
_SIDE = Given("side", 28, "{0} x {0} pixels an image", others={32: "the capstone's digits"},
              noun="the side of an image")
_Q1_FORMULA = Formula(Given("images", 60_000, "{:,} images", others=IMAGE_COUNTS, noun="the number of training images",
                            has="the training set has {}") * _SIDE * _SIDE
                      * Given("channels", 1, lambda c: f"{c} value{'s' if c != 1 else ''} a pixel",
                              others={3: "a colour image's channels"}, has="a greyscale pixel holds 1"),
                      extra=((60_000, "the 60,000 labels; the task counts the pixel values only"),
                             (600_000, "the labels one-hot, 10 numbers for each of the 60,000 images; the task "
                                       "counts the pixel values only")))

q1 = Answer(
    key="q1", title="How many numbers?", kind="compute", minutes=3, difficulty="easy",
    task="How many pixel values does the training set hold in all? Give one whole number.",
    hints=("Every training image is a 28 x 28 grid of numbers.",
           "Multiply the number of training images by the number of pixels in one image (28 * 28 = 784)."),
    expected=_PIXELS, validate=need_number, solution_example=_PIXELS, formula=_Q1_FORMULA,
    on_correct=lambda a, ctx: "47,040,000 numbers: 45 MiB as bytes, four times that once scaled to float32.",
    mistakes=(
        Mistake("that counts the 10,000 test images too; the task asks for the training set only (60,000).",
                70_000 * 28 * 28),
        Mistake("an image has 28 x 28 pixels, not 28: multiply by both sides.", 60_000 * 28),
        Mistake("that is one image; multiply by the number of training images.", 28 * 28),
        Mistake("that counts bytes (a float32 value takes 4, a float64 8); the task counts the values themselves.",
                _PIXELS * 8, detect=lambda a, ctx: is_number(a) and a in (_PIXELS * 4, _PIXELS * 8)),
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
    # a small one where the commonest class's count (3) is itself a class of the test labels, so answering the
    # count as a class scores above 0 here, unlike an accuracy cut to 0 by `//`; and the majority class is most
    # of the test labels, so a median of the matches is 1, not the accuracy
    cases.append((np.array([1, 1, 0, 2, 3, 4, 1, 5]), np.array([1, 1, 0, 1, 5, 1, 3, 1, 4, 1])))
    return cases


def _baseline_of(choose: Callable[[np.ndarray], Any], share: Callable[[np.ndarray, np.ndarray], float] | None = None):
    """A baseline that answers the class `choose(y_train)`, scored by `share` (the mean by default)."""
    def baseline(y_train, y_test):
        guess = choose(np.asarray(y_train))
        right = np.asarray(y_test) == guess
        return float(share(right, y_train) if share else np.mean(right))
    return baseline


_BASELINE_ALTERNATIVES = (
    (_baseline_of(lambda y: np.bincount(y).max()),
     "that answers `np.bincount(y_train).max()`, the count of the commonest class, as if it were a class; "
     "`.argmax()` gives the class itself."),
    (_baseline_of(np.argmax), "that answers `np.argmax(y_train)`, the position of the largest label; the commonest "
                              "class is the argmax of the counts, `np.bincount(y_train).argmax()`."),
    (_baseline_of(lambda y: np.bincount(y).argmin()), "that answers the least common class (`argmin`); the baseline "
                                                       "answers the commonest, `np.bincount(y_train).argmax()`."),
    (_baseline_of(np.max), "that answers the largest label, `y_train.max()`; the baseline answers the commonest "
                           "class, `np.bincount(y_train).argmax()`."),
    (_baseline_of(lambda y: int(np.median(y))), "that answers the median label; the baseline answers the commonest "
                                                 "class, `np.bincount(y_train).argmax()`."),
    (_baseline_of(lambda y: int(round(float(np.mean(y))))), "that answers the mean label, rounded; the baseline "
                                                             "answers the commonest class, "
                                                             "`np.bincount(y_train).argmax()`."),
    (_baseline_of(lambda y: np.bincount(y).argmax(), lambda right, y_train: right.sum() / len(y_train)),
     "that divides the test images answered right by the number of training labels; an accuracy divides by the "
     "number of test labels, `np.mean(y_test == majority)`."),
)


q2 = Function(
    key="q2", title="The majority-class baseline", kind="code", minutes=10, difficulty="easy",
    task="Write `majority_baseline(y_train, y_test)`: the test accuracy (a fraction) of always answering the most "
         "common class of the training labels.",
    hints=("`np.bincount(y_train)` counts each label; `.argmax()` gives the most common one.",
           "Compare every test label with that class, `y_test == majority`, and take the mean of the result."),
    name="majority_baseline", cases=_baseline_cases, reference=_majority_baseline,
    solution_example=_majority_baseline, alternatives=_BASELINE_ALTERNATIVES,
    mistakes=(
        Mistake("the class was chosen by the test labels: a baseline may only learn from the training labels.",
                lambda y_train, y_test: float(np.mean(y_test == np.bincount(y_test).argmax()))),
        Mistake("that is scored on the training labels; score the choice on the test labels.",
                lambda y_train, y_test: float(np.mean(y_train == np.bincount(y_train).argmax()))),
        Mistake("that assumes balanced classes (1 / number of classes); count the labels instead.",
                lambda y_train, y_test: 1 / (max(y_train.max(), y_test.max()) + 1)),
        Mistake("that is a class label, not an accuracy: compare every test label with the majority class and "
                "return the share that match, `np.mean(y_test == majority)`.",
                lambda y_train, y_test: int(np.bincount(y_train).argmax()) + 5,
                # a whole number other than the count of right answers (a count, not a label: its slip names it)
                detect=lambda out, args: isinstance(out, (int, np.integer)) and not isinstance(out, bool)
                and out not in (0, 1) and out != round(_majority_baseline(*args) * len(args[1]))),
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


def _per_class(reduce: Callable[[np.ndarray], np.ndarray], pick=lambda labels, k: labels == k):
    def means(images, labels, n_classes):
        return np.stack([reduce(images[pick(labels, k)].astype("float64")) for k in range(n_classes)])
    return means


_MEANS_ALTERNATIVES = (
    (_per_class(lambda x: np.median(x, axis=0)), "that is each class's median image; the task asks for the mean, "
                                                  "`.mean(axis=0)`."),
    (_per_class(lambda x: x.mean(axis=0), lambda labels, k: labels != k),
     "each entry averages the images of every class but k (`labels != k`); the class's own images are "
     "`images[labels == k]`."),
    (_per_class(lambda x: x.mean(axis=0), lambda labels, k: labels == k + 1),
     "entry k averages the images of class k + 1: the classes are shifted by one (count them from 0, "
     "`range(n_classes)`, and pick `labels == k`)."),
    (_per_class(lambda x: x.max(axis=0)), "that is each class's brightest value at every pixel (`max`); the task "
                                           "asks for the mean, `.mean(axis=0)`."),
)


q3 = Function(
    key="q3", title="The average image of each class", kind="code", minutes=10, difficulty="medium",
    task="Write `class_means(images, labels, n_classes)`: an array of shape (n_classes, height, width) whose k-th "
         "entry is the mean of the images of class k.",
    hints=("`images[labels == k]` picks the images of class k; `.mean(axis=0)` averages them pixel by pixel.",
           "Build one mean per class in a list and `np.stack` it; convert to float before adding bytes up."),
    name="class_means", cases=_means_cases, reference=_class_means, solution_example=_class_means,
    alternatives=_MEANS_ALTERNATIVES,
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
        Mistake("a class name must match the dataset's exactly, capitals and punctuation included (e.g. "
                "'T-shirt/top', 'Ankle boot'): copy it from `ds.class_names`.", ("shirt", "t-shirt"),
                detect=lambda a, ctx: isinstance(a, (tuple, list)) and len(a) == 2
                and all(isinstance(v, str) for v in a)
                and any(v not in ctx["class_names"] and v.lower() in {n.lower() for n in ctx["class_names"]}
                        or v not in ctx["class_names"] and any(v.lower() in n.lower() for n in ctx["class_names"])
                        for v in a)),
    ),
)

# ------------------------------------------------------------------------------------------------ q5


def _nearest_mean_accuracy(means: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    flat, m = np.asarray(x, dtype="float32").reshape(len(x), -1), np.asarray(means, dtype="float32").reshape(len(means), -1)
    distances = (flat ** 2).sum(axis=1)[:, None] - 2 * flat @ m.T + (m ** 2).sum(axis=1)[None, :]
    return float(np.mean(distances.argmin(axis=1) == y))


def _first_per_class(y: np.ndarray, n: int = 100) -> np.ndarray:
    return np.concatenate([np.flatnonzero(y == k)[:n] for k in range(int(y.max()) + 1)])


def _reference_means(ctx: dict[str, Any]) -> dict[str, np.ndarray]:
    """The means the task asks for, and those of the usual slips, computed once per check."""
    memo = ctx.setdefault("_means", {})
    if not memo:
        x, y = ctx["training"]
        x_test, y_test = ctx["test"]
        n = int(np.max(y)) + 1
        first = _first_per_class(y)
        memo.update(full=_class_means(x, y, n), small=_class_means(x[first], y[first], n),
                    first_1000=_class_means(x[:1_000], y[:1_000], n), first_100=_class_means(x[:100], y[:100], n),
                    test=_class_means(x_test, y_test, n))
    return memo


def _same(a: Any, b: np.ndarray) -> bool:
    return np.shape(a) == b.shape and bool(np.allclose(a, b, atol=1e-3))


def _drop_points(ctx: dict[str, Any]) -> float:
    x_test, y_test = ctx["test"]
    return (_nearest_mean_accuracy(ctx["means_full"], x_test, y_test)
            - _nearest_mean_accuracy(ctx["means_small"], x_test, y_test)) * 100


def _diagnose_data(answer: Any, ctx: dict[str, Any]) -> Finding | None:
    ref = _reference_means(ctx)
    for name, want in (("means_full", ref["full"]), ("means_small", ref["small"])):
        got = ctx[name]
        if np.shape(got) != want.shape:
            return Finding("form", f"`{name}` has shape {np.shape(got)}; one mean image per class is {want.shape}")
        if not _same(got, want):
            if _same(got, ref["test"]):
                return Finding("test_means", f"`{name}` holds the means of the test images")
            for n_first in (1_000, 100):
                if name == "means_small" and _same(got, ref[f"first_{n_first}"]):
                    return Finding("first_1000", f"`means_small` holds the means of the first {n_first:,} training "
                                                 f"images")
            if name == "means_small" and _same(got, ref["full"]):
                return Finding("same_means", "`means_small` holds the means of all training images")
            return Finding("means", f"`{name}` is not what `class_means` gives on the images the task names")
    x_test, y_test = ctx["test"]
    full, small = (_nearest_mean_accuracy(ref[k], x_test, y_test) for k in ("full", "small"))
    if is_number(answer) and any(abs(float(answer) - v) < 0.01 for v in (full * 100, small * 100)):
        return Finding("one_accuracy", f"{float(answer):g} is one accuracy in points ({full:.4f} full, "
                                       f"{small:.4f} small)")
    return number_finding(answer, (full - small) * 100, "points", what="full minus small")


def _data_reveal(answer: Any, ctx: dict[str, Any]) -> str:
    """What 60 times more images bought this rule in the student's run; true whatever the size of the drop."""
    x_test, y_test = ctx["test"]
    full, small = (_nearest_mean_accuracy(ctx[k], x_test, y_test) for k in ("means_full", "means_small"))
    if answer > 0:
        text = (f"the check scored your means itself: with 1/60 of the data the rule loses {answer:.2f} points "
                f"({full:.1%} with all images, {small:.1%} with 100 per class): 60 times more images bought "
                f"{answer:.2f} points here.")
    else:
        text = (f"the check scored your means itself: the small set scored {-answer:.2f} points higher ({small:.1%} "
                f"against {full:.1%}): 60 times more images bought nothing here.")
    return text + (" More images can only make each of the ten averages more exact; one average per class stays one "
                   "template per class, however many images go into it, so the rule's errors on images unlike their "
                   "class average remain.")


@lru_cache(maxsize=1)
def _demo_data() -> dict[str, Any]:
    """Small synthetic images (the tests): 1,500 training images of 3 classes and 200 test images, each class a
    slightly brighter band in noise, so that 100 images per class give less exact means."""
    rng = np.random.default_rng(31)

    def images(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 3, n)
        x = rng.integers(0, 200, (n, 8, 8)).astype("uint8")
        for k in range(3):
            x[y == k, 2 * k:2 * k + 3] += 12
        return x, y

    training, test = images(1_500), images(200)
    first = _first_per_class(training[1])
    return {"training": training, "test": test, "means_full": _class_means(*training, 3),
            "means_small": _class_means(training[0][first], training[1][first], 3)}


def _demo_q5() -> dict[str, Any]:
    return dict(_demo_data())


def _q5_attempt(**means: Callable) -> Callable[[dict[str, Any]], Attempt]:
    def make(ctx: dict[str, Any]) -> Attempt:
        changed = {name: build(ctx) for name, build in means.items()}
        return Attempt(_drop_points({**ctx, **changed}), changed)

    return make


q5 = Build(
    key="q5", title="How much data does the nearest-mean rule need?", kind="experiment", minutes=15,
    difficulty="medium",
    task="Compute the class means twice with your `class_means`, from all training images (`means_full`) and from "
         "only the first 100 training images of each class (`means_small`), score the nearest-mean rule with each on "
         "the test images, and report the drop in accuracy points, full minus small; the check scores your means "
         "itself.",
    hints=("Use your `class_means` from exercise 3 on all images, and on the images at `np.concatenate` of the first "
           "100 indices of each class (`np.flatnonzero(y == k)[:100]`).",
           "To predict, measure each test image's squared distance to each mean, "
           "`((x - means[k]) ** 2).sum(axis=(1, 2))` for k in 0..9, stack the ten columns and take the `argmin` "
           "over classes; accuracy is the mean of `pred == y_test`. The drop is `(full - small) * 100`."),
    context=("means_full", "means_small", "training", "test"), demo_context=_demo_q5, solution_example=_drop_points,
    diagnose=_diagnose_data, reveal=_data_reveal,
    mistakes=(
        Mistake("the sign is reversed: the task asks for full minus small. Subtract in the order the task gives.",
                lambda ctx: -_drop_points(ctx), detect=Found("sign")),
        Mistake("that is a fraction of 1; the task asks for accuracy points (multiply by 100: 0.012 is 1.2 points).",
                lambda ctx: _drop_points(ctx) / 100, detect=Found("fraction_for_points")),
        Mistake("that is one accuracy, not the drop: subtract, full minus small, in points.",
                lambda ctx: _nearest_mean_accuracy(ctx["means_full"], *ctx["test"]) * 100,
                detect=Found("one_accuracy")),
        Mistake("`means_small` comes from the first images of the training set, not from the first 100 of each "
                "class: those are not 100 per class (the classes come in no order). Pick them class by class.",
                _q5_attempt(means_small=lambda ctx: _reference_means(ctx)["first_1000"]),
                detect=Found("first_1000", "same_means")),
        Mistake("those are the means of the test images: the rule may only learn from training images, or its test "
                "score measures nothing.", _q5_attempt(means_full=lambda ctx: _reference_means(ctx)["test"]),
                detect=Found("test_means")),
    ),
)

# ------------------------------------------------------------------------------------------------ q6

KNN_BUDGET_S = 20.0
"""How long exercise 6's classifier may take for 500 test images against 5,000 training images."""


def _knn_predict(x_train: np.ndarray, y_train: np.ndarray, x_query: np.ndarray, k: int) -> np.ndarray:
    """The most common label among each query's k nearest training images (squared distance; ties to the smallest
    label), in chunks of queries."""
    train = np.asarray(x_train, dtype="float32").reshape(len(x_train), -1)
    norms = (train ** 2).sum(axis=1)
    out = []
    for start in range(0, len(x_query), 256):
        q = np.asarray(x_query[start:start + 256], dtype="float32").reshape(-1, train.shape[1])
        d = norms[None, :] - 2 * q @ train.T
        nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
        votes = np.asarray(y_train)[nearest]
        out.append(np.array([np.bincount(v, minlength=int(np.max(y_train)) + 1).argmax() for v in votes]))
    return np.concatenate(out) if out else np.zeros(0, dtype=int)


def _knn_uint8(x_train, y_train, x_query, k):
    out = []
    for q in x_query:
        d = ((x_train - q) ** 2).reshape(len(x_train), -1).sum(axis=1)  # uint8: the differences wrap around
        out.append(np.bincount(y_train[np.argsort(d, kind="stable")[:k]]).argmax())
    return np.array(out)


def _distances(x_train, x_query, train_norms: bool = True) -> np.ndarray:
    """Squared distances of each query to each training image, |q|^2 - 2 q.t + |t|^2 (|t|^2 left out when
    `train_norms` is false, one of the slips)."""
    train = np.asarray(x_train, dtype="float32").reshape(len(x_train), -1)
    q = np.asarray(x_query, dtype="float32").reshape(len(x_query), -1)
    d = (q ** 2).sum(1)[:, None] - 2 * q @ train.T
    return d + (train ** 2).sum(1)[None, :] if train_norms else d


def _vote(y_train, nearest: np.ndarray) -> np.ndarray:
    return np.array([np.bincount(y_train[row]).argmax() for row in nearest])


def _knn_farthest(x_train, y_train, x_query, k):
    return _vote(y_train, np.argsort(-_distances(x_train, x_query), axis=1)[:, :k])


def _knn_nearest_only(x_train, y_train, x_query, k):
    return _knn_predict(x_train, y_train, x_query, 1)


def _knn_skip_first(x_train, y_train, x_query, k):
    return _vote(y_train, np.argsort(_distances(x_train, x_query), axis=1)[:, 1:k + 1])


def _knn_no_train_norms(x_train, y_train, x_query, k):
    return _vote(y_train, np.argsort(_distances(x_train, x_query, train_norms=False), axis=1, kind="stable")[:, :k])


def _knn_argmax_positions(x_train, y_train, x_query, k):
    nearest = np.argsort(_distances(x_train, x_query), axis=1, kind="stable")[:, :k]
    return np.argmax(np.asarray(y_train)[nearest], axis=1)


def _knn_manhattan(x_train, y_train, x_query, k):
    train = np.asarray(x_train, dtype="float32").reshape(len(x_train), -1)
    q = np.asarray(x_query, dtype="float32").reshape(len(x_query), -1)
    d = np.abs(q[:, None, :] - train[None, :, :]).sum(axis=2)
    return _vote(y_train, np.argsort(d, axis=1, kind="stable")[:, :k])


def _knn_weighted(power: float):
    def knn(x_train, y_train, x_query, k):
        d = np.maximum(_distances(x_train, x_query), 0.0)
        nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
        near = np.take_along_axis(d, nearest, axis=1)
        return np.array([np.bincount(y_train[row], weights=1.0 / (dist ** power + 1e-6)).argmax()
                         for row, dist in zip(nearest, near)])
    return knn


_KNN_VARIANTS = {"weighted": _knn_weighted(0.5), "weighted_squared": _knn_weighted(1.0), "manhattan": _knn_manhattan, "argmax_positions": _knn_argmax_positions, "uint8": _knn_uint8, "farthest": _knn_farthest,
                 "k_ignored": _knn_nearest_only, "skips_nearest": _knn_skip_first,
                 "no_train_norms": _knn_no_train_norms}


def _knn_cases() -> list[tuple]:
    """Small uint8 cases whose answers the usual slips change: random images over the whole 0-255 range (so that
    uint8 differences wrap); two classes and an odd k (no vote ties), then five classes (a vote by the task's tie
    rule, not an average of labels)."""
    rng = seeded_rng(41)
    cases = []
    for n, q, k, classes in [(60, 25, 5, 2), (90, 30, 3, 2), (120, 40, 5, 5)]:
        cases.append((rng.integers(0, 256, (n, 6, 6)).astype("uint8"), rng.integers(0, classes, n),
                      rng.integers(0, 256, (q, 6, 6)).astype("uint8"), k))
    return cases


def _diagnose_knn(knn: Any, ctx: dict[str, Any]) -> Finding | None:
    import time

    for args in _knn_cases():
        out = run_student(knn, args, "knn_predict")
        where = f"{len(args[0])} training and {len(args[2])} query images, k={args[3]}"
        try:
            out = np.asarray(out)
        except (TypeError, ValueError):
            return Finding("form", f"return one label per query image; got {_short(out)}")
        if out.shape != (len(args[2]),):
            return Finding("form", f"{where}: the output has shape {out.shape}; one label per query is "
                                   f"({len(args[2])},)")
        want = _knn_predict(*args)
        if np.array_equal(out, want):
            continue
        for code, variant in _KNN_VARIANTS.items():
            if np.array_equal(out, variant(*args)) and not np.array_equal(variant(*args), want):
                return Finding(code, where)
        return Finding("labels", f"{where}: {int(np.sum(out != want))} of {len(want)} labels differ from the k "
                                 f"nearest neighbours' vote")
    x_train, y_train = ctx["training"]
    x_test, y_test = ctx["test"]
    start = time.perf_counter()
    out = np.asarray(run_student(knn, (x_train, y_train, x_test, 5), "knn_predict"))
    seconds, budget = time.perf_counter() - start, float(ctx.get("budget_s", KNN_BUDGET_S))
    if seconds > budget:
        return Finding("slow", f"{seconds:.2g} s for {len(x_test):,} test images against {len(x_train):,} training "
                               f"images; the budget is {budget:g} s")
    accuracy = float(np.mean(out == y_test))
    baseline = _nearest_mean_accuracy(_class_means(x_train, y_train, int(np.max(y_train)) + 1), x_test, y_test)
    if accuracy <= baseline:
        return Finding("not_better", f"{accuracy:.1%} on the test images, the nearest-mean rule {baseline:.1%}")
    ctx["_knn"] = (accuracy, baseline, seconds)
    return None


def _knn_reveal(answer: Any, ctx: dict[str, Any]) -> str:
    accuracy, baseline, seconds = ctx["_knn"]
    return (f"5 nearest neighbours: {accuracy:.1%} on the {len(ctx['test'][1]):,} test images against the nearest-mean "
            f"rule's {baseline:.1%} with the same {len(ctx['training'][1]):,} training images, in {seconds:.1f} s. "
            f"Keeping every training image instead of one average per class buys the difference; the price is a "
            f"distance to every training image for each prediction.")


@lru_cache(maxsize=1)
def _demo_knn() -> dict[str, Any]:
    rng = np.random.default_rng(42)

    def images(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 3, n)
        centres = np.where(rng.random((n, 1, 1)) < 0.5, 60, 140)  # two kinds of image in each class
        x = np.clip(rng.normal(centres, 30, (n, 8, 8)) + 20 * y[:, None, None], 0, 255).astype("uint8")
        return x, y

    return {"training": images(400), "test": images(100)}


q6 = Build(
    key="q6", title="Nearest neighbours on a budget", kind="code", minutes=25, difficulty="hard",
    task="Write `knn_predict(x_train, y_train, x_query, k)`: for each query image the most common label among its k "
         "nearest training images (squared pixel distance; a tied vote goes to the smallest label). With k = 5 it "
         "must beat the nearest-mean rule and label 500 test images against 5,000 training images within 20 "
         "seconds.",
    hints=("Work in float32 (uint8 differences wrap around: 3 - 5 is 254). For one query, `((x_train - q) ** 2)."
           "sum(axis=(1, 2))` gives its distances, `np.argsort(d)[:k]` its k nearest, `np.bincount(y_train[...])."
           "argmax()` their vote.",
           "For speed, flatten the images and compute all distances at once: `|q|^2 - 2 q.t + |t|^2` with `q @ t.T` "
           "(a (500, 5000) matrix), then `np.argsort(d, axis=1)[:, :k]`."),
    context=("training", "test"), demo_context=lambda: dict(_demo_knn()), runs=runs_on(_knn_cases), solution_example=lambda ctx: _knn_predict,
    diagnose=_diagnose_knn, reveal=_knn_reveal, time_limit=60.0,
    mistakes=(
        Mistake("the distances were computed in uint8, where differences wrap around (3 - 5 is 254): convert the "
                "images to float32 first.", lambda ctx: _knn_uint8, detect=Found("uint8")),
        Mistake("that weighs each neighbour's vote by 1 / distance; the task's vote is one per neighbour, each of the "
                "k nearest counting the same, `np.bincount(labels).argmax()`.", lambda ctx: _knn_weighted(0.5),
                detect=Found("weighted", "weighted_squared")),
        Mistake("that ranks the neighbours by the sum of absolute differences (the L1 or Manhattan distance); the "
                "task's nearest neighbours are by Euclidean distance, the sum of squared differences, which can rank "
                "them otherwise.", lambda ctx: _knn_manhattan, detect=Found("manhattan")),
        Mistake("that votes among the farthest images: `np.argsort` sorts from the smallest distance up, so take "
                "the first k.", lambda ctx: _knn_farthest, detect=Found("farthest")),
        Mistake("k is ignored: that is the single nearest neighbour. Vote among the first k of the sorted "
                "distances.", lambda ctx: _knn_nearest_only, detect=Found("k_ignored")),
        Mistake("off by one: the nearest training image was skipped, as if the query were one of the training "
                "images. Queries are test images: take `[:k]`, not `[1:k + 1]`.", lambda ctx: _knn_skip_first,
                detect=Found("skips_nearest")),
        Mistake("those are positions among the k neighbours (0 to k - 1), not labels: `np.argmax` of the "
                "neighbours' labels says where the largest label sits. The vote is the most common label, "
                "`np.bincount(labels).argmax()`.", lambda ctx: _knn_argmax_positions, detect=Found("argmax_positions")),
        Mistake("the distances leave out |t|^2, the training image's own squared length: it is the same for every "
                "query but not for every training image, so without it bright training images look near. Only "
                "|q|^2 may be dropped (it is one number per query).", lambda ctx: _knn_no_train_norms,
                detect=Found("no_train_norms")),
        Mistake("too slow: compute the distances for all queries at once, `|q|^2 - 2 q.t + |t|^2` with a matrix "
                "product, rather than image by image in Python.",
                # the tests' budget is 0.05 s instead of 20 s, and this version sleeps 0.1 s on the large case
                lambda ctx: Attempt(lambda *args: (__import__("time").sleep(0.1), _knn_predict(*args))[1],
                                    {"budget_s": 0.05}),
                detect=Found("slow")),
    ),
)

LADDER = {"q1": WARM_UP, "q2": CORE, "q3": CORE, "q4": WARM_UP, "q5": CORE, "q6": STRETCH}

EXERCISES = [q1, q2, q3, q4, q5, q6]
