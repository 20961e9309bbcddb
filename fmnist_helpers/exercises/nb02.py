"""Exercises of notebook 02 (preprocessing): one-hot labels, a stratified hold-out, batches per epoch, what k-fold
cross-validation costs, and whether scaling the pixels matters.

Usage:
    ex = exercises.for_notebook("02_preprocessing"); ex.q3.check(430)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .common import fraction_for_points, need_int_tuple, need_number, seeded_rng, sign_error
from .core import Answer, Function, Mistake

TITLE = "Preprocessing"

# ------------------------------------------------------------------------------------------------ q1


def _one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    return np.eye(n_classes, dtype="float32")[np.asarray(labels)]


def _one_hot_cases() -> list[tuple]:
    rng = seeded_rng(3)
    # the last case never uses its top classes, so n_classes cannot be read off the labels
    return [(rng.integers(0, 3, 8), 3), (rng.integers(0, 10, 50), 10), (rng.integers(0, 9, 30), 12)]


q1 = Function(
    key="q1", title="One-hot labels", kind="code", minutes=8, difficulty="easy",
    task="Write `one_hot(labels, n_classes)`: a float array of shape (number of labels, n_classes) whose row i is "
         "all zeros except a 1 in column `labels[i]`.",
    hints=("`np.eye(n_classes)` is a square array whose row k is the one-hot vector of label k.",
           "Index the rows of the identity with the labels: `np.eye(n_classes, dtype='float32')[labels]`."),
    solution_code=("def one_hot(labels, n_classes):\n"
                   "    return np.eye(n_classes, dtype='float32')[labels]   # row k of the identity is label k"),
    name="one_hot", cases=_one_hot_cases, reference=_one_hot, solution_example=_one_hot,
    mistakes=(
        Mistake("the array is transposed: one row per label and one column per class, shape (n, n_classes).",
                lambda labels, n: _one_hot(labels, n).T),
        Mistake("off by one: label k must set column k, because labels start at 0, not at 1.",
                lambda labels, n: np.eye(n, dtype="float32")[np.asarray(labels) - 1]),
        Mistake("there is one column too many: labels 0 to n_classes - 1 need exactly n_classes columns.",
                lambda labels, n: np.eye(n + 1, dtype="float32")[labels]),
        Mistake("the number of columns came from the labels (`labels.max() + 1`); use `n_classes`, since a batch "
                "need not contain every class.",
                lambda labels, n: np.eye(int(np.max(labels)) + 1, dtype="float32")[labels]),
        Mistake("that returns the labels unchanged; build a 2-D array with one 0/1 row per label.",
                lambda labels, n: np.asarray(labels)),
    ),
)

# ------------------------------------------------------------------------------------------------ q2


def _stratified_holdout(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    val = []
    for k in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == k))
        val.append(members[: round(val_fraction * len(members))])
    val_idx = np.sort(np.concatenate(val))
    return np.setdiff1d(np.arange(len(labels)), val_idx), val_idx


def _holdout_cases() -> list[tuple]:
    rng = seeded_rng(4)
    cases = []
    for n, n_classes, fraction, seed in [(1_000, 10, 0.2, 0), (600, 4, 0.1, 1), (90, 3, 0.25, 2)]:
        weights = rng.dirichlet(np.full(n_classes, 2.0))  # unbalanced classes
        cases.append((rng.choice(n_classes, n, p=weights), fraction, seed))
    return cases


def _parts(output: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The two index arrays of a split, or None when `output` is not a pair of 1-D integer arrays."""
    if not isinstance(output, (tuple, list)) or len(output) != 2:
        return None
    try:
        train, val = (np.asarray(part) for part in output)
    except Exception:  # noqa: BLE001 - any malformed output
        return None
    if train.ndim != 1 or val.ndim != 1:
        return None
    if not all(np.issubdtype(p.dtype, np.integer) or p.size == 0 for p in (train, val)):
        return None
    return train.astype(np.int64), val.astype(np.int64)


def _masks(output: Any) -> bool:
    """Whether `output` is a pair of boolean masks."""
    try:
        return len(output) == 2 and all(np.asarray(part).dtype == bool for part in output)
    except Exception:  # noqa: BLE001 - any malformed output
        return False


def _class_problem(labels: np.ndarray, val: np.ndarray, fraction: float) -> str | None:
    for k in np.unique(labels):
        total = int(np.sum(labels == k))
        got = int(np.sum(labels[val] == k))
        if abs(got - fraction * total) > 1 + 1e-9:
            return (f"class {k} has {got} validation images, but val_fraction x its {total} images is "
                    f"{fraction * total:g}")
    return None


def _holdout_problem(output: Any, args: tuple) -> str | None:
    labels, fraction, _ = args
    labels, n = np.asarray(labels), len(args[0])
    parts = _parts(output)
    if parts is None and _masks(output):
        return "return arrays of indices, not boolean masks: `np.flatnonzero(mask)` turns a mask into indices."
    if parts is None:
        return "return a tuple of two 1-D arrays of integer indices, (train_idx, val_idx)."
    train, val = parts
    both = np.concatenate([train, val])
    if both.size and (both.min() < 0 or both.max() >= n):
        return f"every index must lie between 0 and {n - 1}."
    if np.intersect1d(train, val).size:
        return f"{np.intersect1d(train, val).size} indices are in both parts."
    if len(np.unique(both)) != len(both):
        return "some index appears twice."
    if len(both) != n:
        return f"{n - len(both)} of the {n} indices are in neither part."
    return _class_problem(labels, val, fraction)


def _disjoint_and_complete(output: Any, args: tuple) -> bool:
    parts = _parts(output)
    if parts is None:
        return False
    train, val = parts
    both = np.concatenate([train, val])
    return len(both) == len(args[0]) and np.array_equal(np.sort(both), np.arange(len(args[0])))


def _plain_random(labels, val_fraction, seed):
    order = np.random.default_rng(seed).permutation(len(labels))
    n_val = round(val_fraction * len(labels))
    return order[n_val:], order[:n_val]


q2 = Function(
    key="q2", title="A stratified hold-out", kind="code", minutes=15, difficulty="medium",
    task="Write `stratified_holdout(labels, val_fraction, seed)`: it returns `(train_idx, val_idx)`, two disjoint "
         "index arrays that together hold every index once, with about `val_fraction` of each class in `val_idx`.",
    hints=("Work class by class: `np.flatnonzero(labels == k)` gives the indices of class k; shuffle them with "
           "`rng = np.random.default_rng(seed)` and `rng.permutation(...)`.",
           "Take the first `round(val_fraction * len(members))` shuffled indices of each class for validation, "
           "`np.concatenate` them, and put every other index in training: "
           "`np.setdiff1d(np.arange(len(labels)), val_idx)`."),
    solution_code=("def stratified_holdout(labels, val_fraction, seed):\n"
                   "    rng = np.random.default_rng(seed)\n"
                   "    val = []\n"
                   "    for k in np.unique(labels):\n"
                   "        members = rng.permutation(np.flatnonzero(labels == k))\n"
                   "        val.append(members[: round(val_fraction * len(members))])\n"
                   "    val_idx = np.sort(np.concatenate(val))\n"
                   "    return np.setdiff1d(np.arange(len(labels)), val_idx), val_idx\n"
                   "# or: sklearn.model_selection.train_test_split(np.arange(len(labels)), test_size=val_fraction,\n"
                   "#                                              stratify=labels, random_state=seed)"),
    name="stratified_holdout", cases=_holdout_cases, verify=_holdout_problem, solution_example=_stratified_holdout,
    describe=lambda args: (f"labels of {len(args[0])} images in {len(np.unique(args[0]))} unbalanced classes, "
                           f"val_fraction={args[1]}, seed={args[2]}"),
    mistakes=(
        Mistake("the two parts share indices: an image used for training must not be used for validation too "
                "(remove the validation indices from the training part).",
                lambda labels, f, seed: (np.arange(len(labels)), _stratified_holdout(labels, f, seed)[1]),
                detect=lambda out, args: _parts(out) is not None and np.intersect1d(*_parts(out)).size > 0),
        Mistake("the parts are swapped: return (train_idx, val_idx), the small validation part second.",
                lambda labels, f, seed: _stratified_holdout(labels, f, seed)[::-1],
                detect=lambda out, args: _disjoint_and_complete(out, args)
                and len(_parts(out)[1]) > len(_parts(out)[0])),
        Mistake("that is a plain random split, not a stratified one: some class gets too many or too few "
                "validation images. Draw the validation images class by class.", _plain_random,
                detect=lambda out, args: _disjoint_and_complete(out, args)
                and len(_parts(out)[1]) <= len(_parts(out)[0])
                and _class_problem(np.asarray(args[0]), _parts(out)[1], args[1]) is not None),
    ),
)

# ------------------------------------------------------------------------------------------------ q3

q3 = Answer(
    key="q3", title="Batches per epoch", kind="compute", minutes=3, difficulty="easy",
    task="The `uw` split trains on 55,000 images; how many batches (weight updates) does one epoch take at batch "
         "size 128? Give one whole number.",
    hints=("Divide the number of training images by the batch size. Does it come out whole?",
           "55,000 / 128 = 429.7: Keras does not drop the 88 images left over, they form one last, smaller batch. "
           "Round up."),
    solution_code="answer_q3 = math.ceil(55_000 / 128)   # 429 full batches and one of 88 images",
    expected=430, validate=need_number, solution_example=430,
    on_correct=lambda a, ctx: "429 full batches and a last one of 88 images: Keras keeps the partial batch.",
    mistakes=(
        Mistake("that rounds down, dropping the last 88 images; Keras trains on them as one smaller batch, so round "
                "up.", 429),
        Mistake("that uses all 60,000 training images; the `uw` split holds 5,000 of them back for validation.", 469),
        Mistake("a number of batches is a whole number: the 88 images left over form one more batch.", 55_000 / 128),
    ),
)

# ------------------------------------------------------------------------------------------------ q4

q4 = Answer(
    key="q4", title="What k-fold cross-validation costs", kind="compute", minutes=4, difficulty="easy",
    task="In 3-fold cross-validation on the 60,000 training images, how many images does each of the 3 models "
         "train on, and how many times does each image serve for validation? Give a tuple of two whole numbers.",
    hints=("The 60,000 images are cut into 3 folds of equal size; each model validates on one fold.",
           "Each model trains on the other two folds (2 x 20,000 images); over the three models every fold "
           "validates exactly once."),
    solution_code="answer_q4 = (2 * 60_000 // 3, 1)   # two folds of 20,000 train; each fold validates once",
    expected=(40_000, 1), validate=need_int_tuple(2), solution_example=(40_000, 1),
    on_correct=lambda a, ctx: ("three models of 40,000 images each cost about twice one hold-out run, and every "
                               "image gets one validation score."),
    mistakes=(
        Mistake("20,000 is the size of one fold, the validation part; each model trains on the other two folds.",
                (20_000, 1)),
        Mistake("each image is in the validation fold of one model only, so it validates once, not k times.",
                (40_000, 3)),
        Mistake("an image is in the training part of two models but validates in only one: the second number is "
                "1.", (40_000, 2)),
    ),
)

# ------------------------------------------------------------------------------------------------ q5


def _gain_points(ctx: dict[str, Any]) -> float:
    return (ctx["acc_scaled"] - ctx["acc_raw"]) * 100


def _demo_q5() -> dict[str, Any]:
    return {"acc_scaled": 0.842, "acc_raw": 0.781}


def _scaling_reveal(a: float, ctx: dict[str, Any]) -> str:
    if a > 0:
        return (f"scaled pixels gave {a:.1f} more points after the same training: on raw bytes the first layer's "
                f"outputs start 255 times larger, and the optimizer's small steps are slow to undo that.")
    return (f"raw pixels did as well or better here ({-a:.1f} points): with Adam and a small network the damage "
            f"can be small, but scaled inputs are the safe default.")


q5 = Answer(
    key="q5", title="Does scaling the pixels matter?", kind="experiment", minutes=12, difficulty="medium",
    task="Train the same small MLP twice, same seed and epochs, on raw 0-255 pixels (`acc_raw`) and on pixels scaled "
         "to [0, 1] (`acc_scaled`), and report the difference in final validation accuracy in points, scaled minus "
         "raw.",
    hints=("Write one function that seeds Keras, builds, compiles and fits the model on the arrays it is given and "
           "returns `history.history['val_accuracy'][-1]`; call it once with `x.astype('float32')` and once with "
           "`x.astype('float32') / 255`.",
           "Call `keras.utils.set_random_seed(run.seed)` at the start of the function, so both models start from "
           "the same weights. The answer is `(acc_scaled - acc_raw) * 100`."),
    solution_code=("def final_val_accuracy(x_train, x_val):\n"
                   "    keras.utils.set_random_seed(run.seed)   # the same initial weights for both runs\n"
                   "    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),\n"
                   "                              keras.layers.Dense(64, activation='relu'),\n"
                   "                              keras.layers.Dense(ds.num_classes, activation='softmax')])\n"
                   "    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
                   "    history = model.fit(x_train, y_small, validation_data=(x_val, y_val_small), epochs=epochs,\n"
                   "                        batch_size=128, verbose=0)\n"
                   "    return history.history['val_accuracy'][-1]\n"
                   "acc_raw = final_val_accuracy(x_small.astype('float32'), x_val_small.astype('float32'))\n"
                   "acc_scaled = final_val_accuracy(x_small.astype('float32') / 255,\n"
                   "                                x_val_small.astype('float32') / 255)\n"
                   "answer_q5 = (acc_scaled - acc_raw) * 100"),
    context=("acc_scaled", "acc_raw"), demo_context=_demo_q5, solution_example=_gain_points,
    expected=_gain_points, validate=need_number, same=lambda a, b: abs(a - b) < 0.01, on_correct=_scaling_reveal,
    mistakes=(
        sign_error("the task asks for scaled minus raw", _gain_points),
        fraction_for_points(_gain_points),
        Mistake("that is one model's accuracy, not the difference; subtract: scaled minus raw, in points.",
                lambda ctx: ctx["acc_scaled"] * 100),
    ),
)

EXERCISES = [q1, q2, q3, q4, q5]
