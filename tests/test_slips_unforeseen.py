"""Slips a student makes that no exercise lists as a mistake still get a message that names them: the given they
misread, the part they left out, or how their output relates to the right one. One case per slip, across the nine
lessons; each was tried as a student would, `ex.qN.check(answer)`, before the checks learnt to name it."""
import math

import numpy as np
import pytest

from fmnist_helpers import exercises
from fmnist_helpers.exercises import nb00  # 00 q4: the jump times the kernel is one of its named versions now
from fmnist_helpers.exercises.core import INCORRECT


def _receptive_field_from_zero(layers):
    size, jump = 0, 1
    for kernel, stride in layers:
        size += (kernel - 1) * jump
        jump *= stride
    return size


def _error_rate(y_train, y_test):
    return 1 - float(np.mean(y_test == np.bincount(y_train).argmax()))


def _count_right(y_train, y_test):
    return int(np.sum(y_test == np.bincount(y_train).argmax()))


def _class_sums(images, labels, n_classes):
    return np.stack([images[labels == k].astype("float64").sum(axis=0) for k in range(n_classes)])


def _dropout_no_return_in_training(x, rate, training, rng):
    if not training:
        return x.copy()
    keep = rng.random(x.shape) >= rate
    np.where(keep, x / (1 - rate), 0.0)  # the slip: computed, never returned


def _split_skipping_last_class(y, val_fraction, seed):
    rng = np.random.default_rng(seed)
    val = [rng.permutation(np.flatnonzero(y == k))[:int(round(val_fraction * np.sum(y == k)))]
           for k in range(y.max())]  # the slip: range(y.max()) never reaches the largest label
    val_idx = np.sort(np.concatenate(val))
    return np.setdiff1d(np.arange(len(y)), val_idx), val_idx


def _same_by_round(size, kernel, stride=1, padding="valid"):
    return round(size / stride) if padding == "same" else (size - kernel) // stride + 1


def _class_means_no_axis(images, labels, n_classes):
    return np.array([images[labels == k].astype("float64").mean() for k in range(n_classes)])


def _split_of_positions(y, val_fraction, seed):
    rng = np.random.default_rng(seed)
    val = [rng.permutation(np.sum(y == k))[:int(round(val_fraction * np.sum(y == k)))] for k in np.unique(y)]
    val_idx = np.sort(np.concatenate(val))  # the slip: positions within each class, not indices into y
    return np.setdiff1d(np.arange(len(y)), val_idx), val_idx


def _callbacks_with_mode(mode):
    def make_callbacks(path):
        import keras

        return [keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=3, restore_best_weights=True,
                                              mode=mode),
                keras.callbacks.ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True, mode=mode)]
    return make_callbacks


def _bootstrap_quantile_in_percent(y_true, pred_a, pred_b, n_boot, seed):
    rng = np.random.default_rng(seed)
    right_a, right_b = pred_a == y_true, pred_b == y_true
    idx = rng.integers(0, len(y_true), (n_boot, len(y_true)))
    diffs = (right_b[idx].mean(axis=1) - right_a[idx].mean(axis=1)) * 100
    low, high = np.quantile(diffs, [2.5, 97.5])  # the slip: np.quantile takes fractions
    return float(low), float(high)


def _class_sums_over_all(images, labels, n_classes):
    return np.stack([images[labels == k].astype("float64").sum(axis=0) / len(labels) for k in range(n_classes)])


def _mcnemar_without_brackets(y_true, pred_a, pred_b):
    return int(np.sum(pred_a == y_true & pred_b != y_true)), int(np.sum(pred_a != y_true & pred_b == y_true))


def _mcnemar_no_return(y_true, pred_a, pred_b):
    b = int(np.sum((pred_a == y_true) & (pred_b != y_true)))  # noqa: F841 - the slip: no return line


def _optimizer_with_floor(alpha):
    def make_optimizer(total_steps):
        import keras

        warm = int(0.3 * total_steps)
        schedule = keras.optimizers.schedules.CosineDecay(5e-3 / 25, decay_steps=total_steps - warm, alpha=alpha,
                                                          warmup_target=5e-3, warmup_steps=warm)
        return keras.optimizers.AdamW(schedule, weight_decay=1e-4)
    return make_optimizer


def _class_means_scaled(images, labels, n_classes):
    return np.stack([images[labels == k].astype("float64").mean(axis=0) / 255 for k in range(n_classes)])


def _class_means_wrong_axes(images, labels, n_classes):
    return np.stack([images[labels == k].astype("float64").mean(axis=(0, 1)) for k in range(n_classes)])


def _class_means_transposed(images, labels, n_classes):
    return np.stack([images[labels == k].astype("float64").mean(axis=0).T for k in range(n_classes)])


def _conv_rounded_to_nearest(size, kernel, stride=1, padding="valid"):
    return math.ceil(size / stride) if padding == "same" else round((size - kernel) / stride + 1e-9) + 1


def _mcnemar_percentages(y_true, pred_a, pred_b):
    right_a, right_b = pred_a == y_true, pred_b == y_true
    return 100 * np.sum(right_a & ~right_b) / len(y_true), 100 * np.sum(~right_a & right_b) / len(y_true)


def _class_means_one_class_short(images, labels, n_classes):
    return np.stack([images[labels == k].astype("float64").mean(axis=0) for k in range(n_classes - 1)])


def _occlude_one_short(images, size):
    out = images.copy()
    top, left = (out.shape[1] - size) // 2, (out.shape[2] - size) // 2
    out[:, top:top + size - 1, left:left + size - 1] = 0.0
    return out


def _occlude_from_half_size(images, size):
    out = images.copy()
    out[:, size // 2:size // 2 + size, size // 2:size // 2 + size] = 0.0
    return out


def _rf_reversed(layers):
    size, jump = 1, 1
    for kernel, stride in reversed(layers):
        size += (kernel - 1) * jump
        jump *= stride
    return size


def _baseline_of_argmax_labels(y_train, y_test):
    return float(np.mean(y_test == np.argmax(y_train)))


def _baseline_of_least_common(y_train, y_test):
    return float(np.mean(y_test == np.bincount(y_train).argmin()))


def _baseline_over_training_labels(y_train, y_test):
    return float(np.sum(y_test == np.bincount(y_train).argmax()) / len(y_train))


def _class_medians(images, labels, n_classes):
    return np.stack([np.median(images[labels == k].astype("float64"), axis=0) for k in range(n_classes)])


def _counts_b_every_a_right(y_true, pred_a, pred_b):
    right_a, right_b = pred_a == y_true, pred_b == y_true
    return int(np.sum(right_a)), int(np.sum(~right_a & right_b))


def _standardise_test_own_std(x_train, x_test):
    train, test = x_train.astype("float32"), x_test.astype("float32")
    mean, std, test_std = train.mean(axis=0), train.std(axis=0), test.std(axis=0)
    return (train - mean) / np.where(std == 0, 1.0, std), (test - mean) / np.where(test_std == 0, 1.0, test_std)


def _search(draw_rate, keep_first=False):
    def search(score, n_trials, seed):
        rng = np.random.default_rng(seed)
        best, best_score = None, -np.inf
        for trial in range(n_trials):
            setting = {"learning_rate": draw_rate(rng), "units": int(rng.choice(range(32, 257, 32))),
                       "dropout": float(rng.uniform(0.0, 0.5))}
            value = score(setting)
            if value > best_score and (not keep_first or trial == 0):
                best, best_score = setting, value
        return best, best_score
    return search


def _bootstrap(one_draw=False, b_only=False):
    def bootstrap(y_true, pred_a, pred_b, n_boot, seed):
        rng = np.random.default_rng(seed)
        right_a, right_b = pred_a == y_true, pred_b == y_true
        fixed = rng.integers(0, len(y_true), len(y_true))
        diffs = []
        for _ in range(n_boot):
            idx = fixed if one_draw else rng.integers(0, len(y_true), len(y_true))
            diffs.append(right_b[idx].mean() * 100 if b_only else (right_b[idx].mean() - right_a[idx].mean()) * 100)
        return tuple(float(v) for v in np.percentile(diffs, [2.5, 97.5]))
    return bootstrap


SLIPS = [  # (notebook, exercise, answer, the slip, words of the message that name it)
    ("00", "q1", (32, 28, 28, 1), "Keras's default batch of 32", "batches of 32 (Keras's default), but the task has "
                                                                  "batches of 64"),
    ("00", "q1", (64, 32, 32, 1), "the capstone's 32 x 32 digits", "32 x 32 images (the capstone's digits)"),
    ("00", "q1", (1, 28, 28, 1), "one image with a batch axis", "batches of 1 (one image)"),
    ("00", "q1", (64, 784, 1), "the image flattened, the channel kept", "28 x 28 = 784: that is the shape flattened"),
    ("00", "q2", (0.4, 0.8, 0.0, 1.6), "the third value dropped", "the third value dropped, but the task drops the "
                                                                   "second"),
    ("00", "q2", (0.6, 0.0, 1.8, 2.4), "divided by 0.5", "Dropout(0.5), but the task has Dropout(0.25)"),
    ("00", "q4", _receptive_field_from_zero, "the size started at 0", "off by one (one less"),
    ("01", "q1", 60_000 * 784 * 3, "three colour channels", "3 values a pixel (a colour image's channels)"),
    ("01", "q1", 10_000 * 784, "the test set", "10,000 images (the test images), but the training set has 60,000"),
    ("01", "q1", 55_000 * 784, "uw's training split", "55,000 images (uw's training split)"),
    ("01", "q1", 47.04, "in millions", "the answer in millions"),
    ("01", "q2", _error_rate, "the error rate", "1 minus the right answer"),
    ("01", "q2", _count_right, "the count of right answers", "50 being the length of `y_test`: a sum (or a count) "
                                                               "where a mean (or a share) is asked"),
    ("01", "q3", _class_sums, "sums instead of means", "a sum where a mean is asked"),
    ("01", "q3", _class_means_scaled, "means scaled to [0, 1]", "divided by 255: pixel values scaled to [0, 1]"),
    ("01", "q3", _class_means_wrong_axes, "averaged over the wrong axes", "a reduction over the wrong axis"),
    ("01", "q3", _class_means_transposed, "each mean transposed", "each entry is the right one transposed"),
    ("01", "q3", _class_means_one_class_short, "range(n_classes - 1)", "one entry too few along axis 0"),
    ("02", "q1", math.ceil(55_000 / 32), "batches of 32", "batches of 32 (Keras's default), but the task has batches "
                                                         "of 128"),
    ("02", "q1", math.ceil(55_000 / 256), "batches of 256", "batches of 256"),
    ("02", "q1", 60_000 // 128, "all 60,000 images, rounded down", "60,000 images (all the training images), but the "
                                                                   "`uw` split trains on 55,000 images, and it rounds "
                                                                   "down"),
    ("02", "q2", (45_000, 1), "4 folds", "the answer for 4 folds, but the task has 3 folds"),
    ("02", "q2", (48_000, 1), "5 folds", "the answer for 5 folds"),
    ("03", "q1", 784 * 128 + 128, "128 units", "the answer for 128 units, but `Dense(256)` has 256 units"),
    ("03", "q1", 784 * 10 + 10, "the output layer's 10 units", "10 units (the output layer's)"),
    ("03", "q3", math.ceil(60_000 / 32) * 20, "batches of 32", "batches of 32 (Keras's default)"),
    ("03", "q3", math.ceil(48_000 / 64) * 20, "a 20% validation split", "48,000 images (the training part of a 20% "
                                                                        "validation split)"),
    ("03", "q3", 938 * 10, "10 epochs", "the answer for 10 epochs, but the task has 20 epochs"),
    ("03", "q3", 938 * 21, "21 epochs", "the answer for 21 epochs"),
    ("04", "q1", (14, 14, 48), "filters times input channels", "multiplies 16 filters by the input's 3 channels"),
    ("04", "q2", 3 * 3 * 3 * 64 + 64, "a colour input", "3 input channels (a colour image), but the task has 32"),
    ("04", "q2", 5 * 5 * 32 * 64 + 64, "exercise 1's 5 x 5 kernel", "a 5 x 5 kernel, but the task has a 3 x 3 kernel"),
    ("04", "q2", 3 * 32 * 64 + 64, "the kernel's side not squared", "the kernel's side (3) where its square"),
    ("04", "q3", _conv_rounded_to_nearest, "rounded to the nearest", "that rounds up: a window that would stick out "
                                                                     "past the border is dropped"),
    ("04", "q6", [0.02, 0.02, 0.82, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02], "label smoothing read as 0.2",
     "label_smoothing=0.2, but the task has label_smoothing=0.1"),
    ("05", "q2", 3 * 2 * 2 * 2, "dropout rates read as 2", "2 dropout rates, but the task has 3"),
    ("05", "q2", 3 * 2 * 2, "dropout rates left out", "leaves out 3 dropout rates"),
    ("05", "q3", 100 * math.sqrt(0.25 / 12_000), "p = 0.5", "p = 0.5 (the widest), but the task has p = 0.9"),
    ("05", "q4", (8, 6), "both epochs one too many", "each number that differs is off by one"),
    ("06", "q1", 19 ** 2 / 15, "divided by b only", "leaves out c from b + c"),
    ("06", "q1", 19 ** 2 / 35, "divided by c only", "leaves out b from b + c"),
    ("06", "q1", 19 / math.sqrt(50), "the square root of the statistic", "the square root of the right answer"),
    ("06", "q1", 19.5 ** 2 / 50, "Yates's correction of 0.5", "a continuity correction of 0.5"),
    ("06", "q2", _mcnemar_percentages, "percentages, not counts", "a percentage of the length of `y_true`"),
    ("06", "q4", _occlude_one_short, "a square one pixel short", "a 7 x 7 block at rows 10-16"),
    ("06", "q4", _occlude_from_half_size, "the square not centred", "an 8 x 8 block at rows 4-11"),
    ("07", "q1", 1_200, "three statistics per channel", "the answer for 3 statistics per channel"),
    ("07", "q1", 2 * (2 * 48 + 2 * 96 + 256), "batch norm after every convolution", "2 batch norm layers per block"),
    ("08", "q1", math.ceil(1_079 / 32), "batches of 32", "batches of 32 (Keras's default), but the task has batches "
                                                        "of 64"),
    ("08", "q1", 1_438 // 64, "every file, rounded down", "leaves out the validation files, and it rounds down"),
    ("08", "q3", 200 * math.sqrt(0.96 / 359), "1 - p left out", "leaves out the factor 1 - p"),
    ("08", "q3", 200 * 0.96 * 0.04 / 359, "the variance, no square root", "leaves out the square root"),
    ("08", "q3", 200 * math.sqrt(0.96 * 0.04 / 1_079), "the 1,079 training files", "n = 1,079 images (the training "
                                                                                   "files at validation_split=0.25)"),
    ("08", "q3", 2 * 2.0684659852251452, "four standard errors", "the answer for 4 standard errors"),
    ("08", "q3", 2.0684659852251452 / math.sqrt(2), "the 2 inside the square root (divided by √2)",
     "multiplies by 2 standard errors inside the square root"),
    # the second round of slips, each named by a mechanism that knows no single exercise: a batch axis written as
    # None, a wrong version of a function among its named alternatives, brackets dropped, a part moved across a
    # square root or a rounding, a term of a sum added once outside its product, a term a student adds
    ("00", "q1", (None, 28, 28), "None for the batch, no channel", "None is what Keras prints for the batch axis"),
    ("00", "q1", (None, 784), "the summary's flattened shape", "that is a flattened batch"),
    ("00", "q2", (0.4, 0.8, 1.2, 1.6), "nothing dropped, all rescaled", "every entry is right but entry 2"),
    ("00", "q4", nb00._jump_by_kernel, "the jump times the kernel", "the jump is multiplied by the kernel"),
    ("00", "q4", _rf_reversed, "the layers walked last to first", "walks the layers in the wrong direction"),
    ("00", "q4", lambda layers: 1 + sum((k - 1) * s for k, s in layers), "each layer's own stride",
     "times its own stride"),
    ("01", "q1", 60_000 * 784 + 60_000 * 10, "one-hot labels counted", "adds the labels one-hot"),
    ("01", "q2", _baseline_of_argmax_labels, "np.argmax of the labels", "the position of the largest label"),
    ("01", "q2", _baseline_of_least_common, "the least common class", "the least common class"),
    ("01", "q2", _baseline_over_training_labels, "divided by the training labels", "by the number of training "
                                                                                   "labels"),
    ("01", "q3", _class_medians, "the median image", "median image"),
    ("02", "q6", _standardise_test_own_std, "the test images' own std", "divided by their own standard deviation"),
    ("03", "q1", 512 * 256 + 256, "the kh ANN's 512 inputs", "the answer for 512 inputs"),
    ("04", "q1", (1, 14, 14, 16), "a batch axis of one image", "is a batch axis"),
    ("04", "q2", 3 * 3 * 32 * 64 + 1, "one bias for the layer", "adds the bias of each filter once"),
    ("04", "q2", 3 * 3 * (32 + 1) * 64, "a bias per input channel", "3^2 x (32 + 1) x 64"),
    ("05", "q3", 100 * math.sqrt(0.9 * 0.1) / 12_000, "n outside the square root", "divides by n outside the "
                                                                                   "square root"),
    ("05", "q3", math.sqrt(100 * 0.9 * 0.1 / 12_000), "100 inside the square root", "multiplies by 100 inside the "
                                                                                    "square root"),
    ("05", "q7", _search(lambda rng: float(10.0 ** rng.integers(-4, -2))), "whole-number exponents",
     "the exponent is drawn as a whole number"),
    ("05", "q7", _search(lambda rng: float(10 ** rng.uniform(-4, -2)), keep_first=True), "the first trial kept",
     "keeps the first trial"),
    ("06", "q1", abs(15 - 35) - 1 ** 2 / (15 + 35), "brackets dropped around |b - c| - 1",
     "drops the brackets around |b - c| - 1"),
    ("06", "q2", _counts_b_every_a_right, "b counts all A gets right", "b counts every image A gets right"),
    ("06", "q6", _bootstrap(one_draw=True), "one draw for every resample", "the indices are drawn once"),
    ("06", "q6", _bootstrap(b_only=True), "B's accuracy alone", "an interval of B's accuracy alone"),
    ("08", "q1", math.ceil(1_438 - 0.25 * 1_438 / 64), "brackets dropped", "drops the brackets around 1,438 - "),
    ("08", "q3", 2 * math.sqrt(0.96 * 0.04) / 359 * 100, "n outside the square root", "divides by n outside the "
                                                                                      "square root"),
    ("08", "q3", 2 * math.sqrt(0.96 * 0.04 / 359 * 100), "100 inside the square root", "multiplies by 100 inside "
                                                                                       "the square root"),
    # the third round, from the sealed trial6 (its unlisted slips) and mechanisms that know no single exercise: an
    # error explained, a per-class factor that is each class's share of the labels, one number of a pair named by
    # the quantity it is, a CosineDecay floor
    ("01", "q3", _class_sums_over_all, "class sums divided by all images", "the share of `labels` equal to k"),
    ("02", "q2", (20_000, 2), "the fold size and the training turns", "the first number, 20,000: that is the fold "
                                                                      "each model validates on"),
    ("06", "q2", _mcnemar_without_brackets, "& without brackets", "each comparison in its own brackets"),
    ("06", "q2", _mcnemar_no_return, "no return line", "a function without a `return` line"),
    ("07", "q2", _optimizer_with_floor(0.1), "CosineDecay alpha of 10%", "`alpha` is the floor"),
    # from the sealed trial7
    ("00", "q5", _dropout_no_return_in_training, "no return in one branch", "is a `return` missing"),
    ("02", "q7", _split_skipping_last_class, "range(y.max()) skips a class", "`range(y.max())` stops before it"),
    ("04", "q3", _same_by_round, "round() for 'same'", "'same' rounds up"),
    ("04", "q6", [0.1] * 2 + [1.0] + [0.1] * 7, "0.1 added to every class", "adds the whole 0.1 to every class"),
    ("05", "q2", 3 * 3, "two hyperparameters left out", "leaves out 2 batch sizes, and it leaves out 2 learning rates"),
    ("08", "q3", (95.0 - 2.0684659852251452, 95.0 + 2.0684659852251452), "the interval's two ends",
     "the margin, which is half its width"),
    # from the sealed trial8
    ("01", "q1", 6_000 * 784, "a zero dropped", "6,000 images (a zero dropped)"),
    ("01", "q3", _class_means_no_axis, "the mean without an axis", "the reduction ran over those axes too"),
    ("02", "q7", _split_of_positions, "positions within each class", "positions within each class"),
    ("04", "q2", (3 * 3 * 64 + 1) * 32, "channels and filters swapped", "the two givens swapped"),
    ("04", "q6", [1.0, 1.0, 91.0] + [1.0] * 7, "the target in percent", "written as a percentage"),
    ("07", "q3", _callbacks_with_mode("min"), "mode='min' for an accuracy", "`mode='min'` for 'val_accuracy'"),
    # from the sealed trial9
    ("02", "q2", (120_000, 1), "all three models' images together", "3 times the right answer, 3 being the number "
                                                                    "of folds"),
    ("05", "q3", 100 * math.sqrt(0.9 / 12_000), "1 - p left out", "leaves out the factor 1 - p"),
    ("06", "q6", _bootstrap_quantile_in_percent, "np.quantile given percents", "`np.quantile` takes fractions"),
    ("08", "q3", float("nan"), "NaN from a share in percent", "a share in percent where 1 - p needs a fraction"),
]



@pytest.mark.parametrize("stem, key, answer, slip, words", SLIPS,
                         ids=[f"{s}-{k}-{slip}" for s, k, _, slip, _ in SLIPS])
def test_an_unlisted_slip_gets_a_message_that_names_it(stem, key, answer, slip, words):
    exercise = exercises.lesson(stem).exercises[key]
    verdict = exercise.evaluate(answer, **exercise.demo())
    assert verdict.status == INCORRECT and words in verdict.message, verdict.message


def test_the_slips_span_every_lesson():
    assert {stem for stem, *_ in SLIPS} == {f"{i:02d}" for i in range(9)}


def _toy_check(alternative):
    from fmnist_helpers.exercises.core import Function, Mistake

    return Function(key="q1", title="toy", kind="code", minutes=1, difficulty="easy", task="return x",
                    hints=("", ""), name="f", cases=lambda: [(-1,), (0,), (2,), (3,)], reference=lambda x: x,
                    mistakes=(Mistake("minus", lambda x: -x), Mistake("twice", lambda x: 2 * x)),
                    alternatives=((alternative, "that adds one to a positive x."),))


def test_a_named_alternative_is_said_when_it_matches_every_case():
    verdict = _toy_check(lambda x: x + 1 if x > 0 else x).evaluate(lambda x: x + 1 if x > 0 else x)
    assert verdict.status == INCORRECT and "that adds one to a positive x" in verdict.message, verdict.message


def test_an_alternative_that_fits_only_the_failing_cases_is_not_said():
    # the alternative returns 5 where x <= 0; the student's function is right there, so it is another function
    verdict = _toy_check(lambda x: x + 1 if x > 0 else 5).evaluate(lambda x: x + 1 if x > 0 else x)
    assert verdict.status == INCORRECT and "adds one" not in verdict.message, verdict.message


def test_same_padding_of_kernel_halves_on_each_side_is_caught_on_even_kernels_and_named():
    from fmnist_helpers import exercises

    e = exercises.lesson("04").exercises["q3"]
    answer = lambda size, kernel, stride=1, padding="valid": (  # noqa: E731
        (size + 2 * (kernel // 2) - kernel) // stride + 1 if padding == "same" else (size - kernel) // stride + 1)
    verdict = e.evaluate(answer, **e.demo())
    assert verdict.status == "incorrect" and "pads an even kernel one pixel too many" in verdict.message


def test_a_random_search_whose_units_range_leaves_out_its_end_is_not_correct():
    import numpy as np
    from fmnist_helpers import exercises

    def search(score, n_trials, seed):
        rng = np.random.default_rng(seed)
        trials = [{"learning_rate": float(10 ** rng.uniform(-4, -2)), "units": int(rng.choice(range(32, 256, 32))),
                   "dropout": float(rng.uniform(0.0, 0.5))} for _ in range(n_trials)]
        values = [score(t) for t in trials]
        return trials[int(np.argmax(values))], max(values)

    e = exercises.lesson("05").exercises["q7"]
    verdict = e.evaluate(search, **e.demo())
    assert verdict.status == "incorrect" and "never took 256" in verdict.message


def _size_check(mistakes=()):
    from fmnist_helpers.exercises.core import Function, Mistake

    def windows(size, kernel, stride=1):
        return (size - kernel) // stride + 1

    return Function(key="q1", title="toy", kind="code", minutes=1, difficulty="easy", task="count windows",
                    hints=("", ""), name="windows", reference=windows,
                    cases=lambda: [(28, 3, 2), (32, 5, 2), (10, 2, 3), (9, 3, 1)],
                    mistakes=mistakes or (Mistake("minus", lambda *a: -windows(*a)),
                                          Mistake("twice", lambda *a: 2 * windows(*a))))


def test_a_function_that_ignores_an_argument_is_told_it_gives_the_answer_for_the_default():
    verdict = _size_check().evaluate(lambda size, kernel, stride=1: size - kernel + 1)
    assert "for `stride` = 1 (its default)" in verdict.message, verdict.message


def test_a_function_with_two_arguments_swapped_is_told_so():
    verdict = _size_check().evaluate(lambda size, kernel, stride=1: (kernel - size) // stride + 1)
    assert "`size` and `kernel` the other way round" in verdict.message, verdict.message


def test_a_function_off_by_one_in_an_argument_is_told_which():
    from fmnist_helpers.exercises.core import Function, Mistake

    def first_k(values, k):
        return sum(values[:k])

    check = Function(key="q1", title="toy", kind="code", minutes=1, difficulty="easy", task="sum the first k",
                     hints=("", ""), name="first_k", reference=first_k,
                     cases=lambda: [((3, 5, 7, 11), 2), ((2, 9, 4, 6, 1), 3), ((8, 4, 6), 1)],
                     mistakes=(Mistake("all", lambda v, k: sum(v)), Mistake("none", lambda v, k: 0)))
    verdict = check.evaluate(lambda values, k: sum(values[:k + 1]))
    assert "for `k` = 3, one more than the case's 2" in verdict.message, verdict.message


def test_a_changed_argument_is_not_named_when_it_fits_only_some_failing_cases():
    # wrong by one on two cases in a way no single changed argument gives on both
    def answer(size, kernel, stride=1):
        right = (size - kernel) // stride + 1
        return right + 1 if size == 28 else right - 1 if size == 10 else right

    verdict = _size_check().evaluate(answer)
    assert verdict.status == INCORRECT and "it returns the right answer for" not in verdict.message, verdict.message


def test_an_error_a_beginner_meets_is_explained_after_the_error_itself():
    verdict = _size_check().evaluate(lambda size, kernel, stride=1: [0, 1, 2][size / stride])
    assert "raised TypeError" in verdict.message and "`//` or `int()`" in verdict.message, verdict.message


def test_an_error_the_checks_do_not_know_is_shown_without_a_guess():
    from fmnist_helpers.exercises.errors import explain_error

    assert explain_error("OSError: [Errno 5] Input/output error") is None


@pytest.mark.parametrize("text, words", [
    ("ValueError: The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()",
     "`&`, `|` and `~`"),
    ("TypeError: 'NoneType' object is not subscriptable", "without `return`"),
    ("ValueError: operands could not be broadcast together with shapes (3,4) (3,)", "`keepdims=True`"),
    ("IndexError: index 10 is out of bounds for axis 0 with size 10", "the last of n entries is n - 1"),
    ("numpy._core._exceptions._UFuncOutputCastingError: Cannot cast ufunc 'divide' output from dtype('float64') to "
     "dtype('uint8') with casting rule 'same_kind'", "x.astype('float32') / 255"),
    ("TypeError: f() missing 1 required positional argument: 'k'", "the signature the task gives"),
    ("ValueError: No gradients provided for any variable.", "inside that block"),
    ("TypeError: '>' not supported between instances of 'float' and 'NoneType'", "`-np.inf`"),
    ("TypeError: object of type 'method' has no len()", "add the brackets"),
    ("ValueError: Could not interpret activation function identifier: Relu", "lower case strings"),
])
def test_each_common_error_gets_its_likely_cause(text, words):
    from fmnist_helpers.exercises.errors import explain_error

    assert words in explain_error(text)


def test_a_function_like_the_solution_with_one_operator_changed_is_told_which_expression():
    from fmnist_helpers import exercises

    e = exercises.lesson("06").exercises["q2"]
    verdict = e.evaluate(lambda y, a, b: (int(np.sum((a == y) | (b != y))), int(np.sum((a != y) & (b == y)))),
                         **e.demo())
    assert "written as `int(np.sum(right_a | ~right_b))`" in verdict.message, verdict.message


def test_a_function_like_the_solution_with_a_line_left_out_is_told_which_line():
    from fmnist_helpers.exercises.mutants import mutants
    from fmnist_helpers.exercises import nb00

    says = [s for _, s in mutants(nb00._receptive_field)]
    assert "`jump *= stride` left out" in says


def test_mutants_are_made_only_of_plain_functions_whose_source_is_read():
    from fmnist_helpers.exercises.mutants import mutants

    assert mutants(lambda x: x + 1) == [] and mutants(print) == []


def test_a_build_check_names_the_mutant_its_runs_match():
    from fmnist_helpers import exercises
    from fmnist_helpers.exercises import nb04

    def conv2d(images, kernels, bias, stride=1):  # the solution with its bias subtracted
        return nb04._conv2d(images, kernels, bias, stride) - 2 * np.asarray(bias)

    e = exercises.lesson("04").exercises["q7"]
    verdict = e.evaluate(conv2d, **e.demo())
    assert "written as `out - np.asarray(bias, dtype='float64')`" in verdict.message, verdict.message


def test_callbacks_on_their_default_monitor_val_loss_are_not_correct():
    from fmnist_helpers import exercises

    def make_callbacks(path):
        import keras

        return [keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True),
                keras.callbacks.ModelCheckpoint(path, save_best_only=True)]

    e = exercises.lesson("07").exercises["q3"]
    verdict = e.evaluate(make_callbacks, **e.demo())
    assert verdict.status == INCORRECT and "watches 'val_loss'" in verdict.message, verdict.message


def test_a_warm_up_from_zero_is_not_correct():
    from fmnist_helpers import exercises

    def make_optimizer(total_steps):
        import keras

        warm = int(0.3 * total_steps)
        schedule = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=total_steps - warm, alpha=0.001,
                                                          warmup_target=5e-3, warmup_steps=warm)
        return keras.optimizers.AdamW(schedule, weight_decay=1e-4)

    e = exercises.lesson("07").exercises["q2"]
    verdict = e.evaluate(make_optimizer, **e.demo())
    assert verdict.status == INCORRECT and "should start at 5e-3 / 25" in verdict.message, verdict.message


def test_a_standardisation_that_zeroes_the_test_images_where_training_never_changes_is_not_correct():
    from fmnist_helpers import exercises

    def standardise_fixed(x_train, x_test):
        train = x_train.astype("float32")
        mean, std = train.mean(axis=0), train.std(axis=0)
        safe = np.where(std == 0, 1.0, std)
        out = [np.where(std == 0, 0.0, (x.astype("float32") - mean) / safe).astype("float32")
               for x in (x_train, x_test)]
        return out[0], out[1]

    e = exercises.lesson("02").exercises["q6"]
    verdict = e.evaluate(standardise_fixed, **e.demo())
    assert verdict.status == INCORRECT and "the test images came out 0" in verdict.message, verdict.message


# -- trial 10's misses (sealed trial, 2026-12-07), named by general means ---------------------------------------


def _receptive_field_as_written(start_at_first_layer: bool = False, returned: str = "size"):
    """A student's receptive field: the solution's loop, started from the first layer's window (so the loop counts
    it again) or returning another of its variables."""
    def receptive_field(layers):
        size, jump = layers[0] if start_at_first_layer else (1, 1)
        for kernel, stride in layers:
            size += (kernel - 1) * jump
            jump *= stride
        return {"size": size, "jump": jump}[returned]
    return receptive_field


def test_a_function_that_returns_an_intermediate_variable_of_the_solution_is_told_which():
    e = exercises.lesson("00").exercises["q4"]
    verdict = e.evaluate(_receptive_field_as_written(returned="jump"), **e.demo())
    assert "what the solution holds in `jump` when it returns `size`" in verdict.message, verdict.message
    assert "1/3" not in verdict.message  # the exact match stands alone, without the coincidental factor


def test_intermediates_leave_out_the_variable_the_solution_returns():
    from fmnist_helpers.exercises.mutants import intermediates

    says = [s for _, s in intermediates(nb00._receptive_field)]
    assert any("`jump`" in s for s in says) and not any("holds in `size`" in s for s in says)


def test_a_mutant_swaps_the_two_sides_of_a_power():
    from fmnist_helpers.exercises.mutants import mutants

    def scale(x):
        return 10 ** x

    assert any("written as `x ** 10`" in s for _, s in mutants(scale))


def test_a_mutant_pulls_an_added_term_inside_a_sum():
    from fmnist_helpers.exercises.mutants import mutants

    def neuron(x, w, b):
        return np.sum(x * w) + b

    assert any("written as `np.sum(x * w + b)`" in s for _, s in mutants(neuron))


def test_a_dropout_that_indexes_with_its_mask_is_told_the_values_came_back_flat():
    def dropout(x, rate, training, rng):
        if not training:
            return x.copy()
        keep = rng.random(x.shape) >= rate
        return x[keep] / (1 - rate)

    e = exercises.lesson("00").exercises["q5"]
    verdict = e.evaluate(dropout, **e.demo())
    assert verdict.status == INCORRECT and "[keep]" in verdict.message, verdict.message


def test_an_accuracy_cut_to_zero_by_floor_division_is_named():
    e = exercises.lesson("01").exercises["q2"]
    verdict = e.evaluate(lambda y_train, y_test: np.sum(y_test == np.bincount(y_train).argmax()) // len(y_test),
                         **e.demo())
    assert "cut to 0" in verdict.message and "`//`" in verdict.message, verdict.message


def test_class_means_of_images_cast_to_int8_are_told_the_values_wrapped():
    def class_means(images, labels, n_classes):
        return np.stack([images[labels == k].astype("int8").mean(axis=0) for k in range(n_classes)])

    e = exercises.lesson("01").exercises["q3"]
    verdict = e.evaluate(class_means, **e.demo())
    assert "cast to int8" in verdict.message and "wrap around" in verdict.message, verdict.message


def test_counts_that_are_the_length_of_a_mask_are_told_len_counts_every_entry():
    def mcnemar_counts(y_true, pred_a, pred_b):
        return len((pred_a == y_true) & (pred_b != y_true)), len((pred_a != y_true) & (pred_b == y_true))

    e = exercises.lesson("06").exercises["q2"]
    verdict = e.evaluate(mcnemar_counts, **e.demo())
    assert "`len()` of a boolean mask" in verdict.message, verdict.message


def test_a_convolution_that_adds_the_bias_to_every_product_is_told_so():
    from fmnist_helpers.exercises import nb04

    def conv2d(images, kernels, bias, stride=1):
        k, c = kernels.shape[0], kernels.shape[2]
        return nb04._conv2d(images, kernels, np.asarray(bias) * k * k * c, stride)

    e = exercises.lesson("04").exercises["q7"]
    verdict = e.evaluate(conv2d, **e.demo())
    assert "inside the window's sum" in verdict.message, verdict.message


@pytest.mark.parametrize("text, words", [
    ("TypeError: only 0-dimensional arrays can be converted to Python scalars", "`x[start:start + batch_size]`"),
    ("ValueError: When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must end in "
     "`.weights.h5` (Keras weights format). Received: filepath=/tmp/best.keras", "leave `save_weights_only`"),
])
def test_errors_from_trial_10_get_their_likely_cause(text, words):
    from fmnist_helpers.exercises.errors import explain_error

    assert words in explain_error(text)


def test_an_augmentation_that_shifts_one_way_only_is_not_correct():
    def make_augment(max_shift, flip):
        import keras

        f = max_shift / 28
        layers = [keras.layers.RandomFlip("horizontal")] if flip else []
        layers.append(keras.layers.RandomTranslation((0, f), (0, f), fill_mode="constant"))
        return keras.Sequential(layers)

    e = exercises.lesson("02").exercises["q4"]
    verdict = e.evaluate(make_augment, **e.demo())
    assert verdict.status == INCORRECT and "one way only" in verdict.message, verdict.message


# -- trial 11's misses (sealed trial, 2026-12-07) ----------------------------------------------------------------


def test_a_mutant_drops_the_brackets_around_a_difference():
    from fmnist_helpers.exercises.mutants import mutants

    def rescale(x, rate):
        return x / (1 - rate)

    assert any("written as `x / 1 - rate`" in s for _, s in mutants(rescale))


def test_a_mutant_leaves_out_a_factor_everywhere_it_multiplies():
    from fmnist_helpers.exercises.mutants import mutants

    def window(x, i, j, stride, size):
        return x[i * stride:i * stride + size, j * stride:j * stride + size]

    assert any(s == "every `* stride` left out (4 times)" for _, s in mutants(window))


def test_an_occlusion_map_whose_squares_ignore_the_stride_is_told_where():
    def occlusion_map(predict_proba, image, label, size, stride):
        rows, cols = (image.shape[0] - size) // stride + 1, (image.shape[1] - size) // stride + 1
        base = predict_proba(image[None])[0, label]
        out = np.zeros((rows, cols))
        for i in range(rows):
            for j in range(cols):
                hidden = image.copy()
                hidden[i:i + size, j:j + size] = 0
                out[i, j] = base - predict_proba(hidden[None])[0, label]
        return out

    e = exercises.lesson("06").exercises["q7"]
    verdict = e.evaluate(occlusion_map, **e.demo())
    assert "every `* stride` left out" in verdict.message, verdict.message


def test_a_p_value_given_for_the_statistic_is_named():
    e = exercises.lesson("06").exercises["q1"]
    verdict = e.evaluate(math.erfc(math.sqrt(((abs(15 - 35) - 1) ** 2 / 50) / 2)), **e.demo())
    assert "p-value" in verdict.message, verdict.message


def test_a_dropout_without_brackets_around_one_minus_the_rate_is_told_so():
    def dropout(x, rate, training, rng):
        if not training:
            return x.copy()
        keep = rng.random(x.shape) >= rate
        return x * keep / 1 - rate

    e = exercises.lesson("00").exercises["q5"]
    verdict = e.evaluate(dropout, **e.demo())
    assert "needs its brackets" in verdict.message, verdict.message


def test_a_pipeline_whose_map_drops_the_labels_is_told_where_they_went():
    def make_pipeline(x, y, batch_size, training):
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices((x, y)).map(
            lambda image, label: tf.cast(image, tf.float32)[..., tf.newaxis] / 255.0)
        return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    e = exercises.lesson("02").exercises["q3"]
    verdict = e.evaluate(make_pipeline, **e.demo())
    assert "return image, label" in verdict.message, verdict.message


def test_an_mlp_built_for_flat_inputs_is_told_to_flatten_the_images():
    def build_mlp(hidden=(128,)):
        import keras

        layers = [keras.Input((784,))] + [keras.layers.Dense(n, activation="relu") for n in hidden]
        return keras.Sequential(layers + [keras.layers.Dense(10, activation="softmax")])

    e = exercises.lesson("03").exercises["q2"]
    verdict = e.evaluate(build_mlp, **e.demo())
    assert "`Flatten()`" in verdict.message and "[1m" not in verdict.message, verdict.message


def _random_search_drawing_dropout(draw):
    """A student's random search, right but for how it draws the dropout rate: `draw(rng)`."""
    def random_search(score, n_trials, seed):
        rng = np.random.default_rng(seed)
        best, best_setting = -np.inf, None
        for _ in range(n_trials):
            setting = {"learning_rate": float(10 ** rng.uniform(-4, -2)),
                       "units": int(rng.choice([32, 64, 96, 128, 160, 192, 224, 256])), "dropout": float(draw(rng))}
            value = score(setting)
            if value > best:
                best, best_setting = value, setting
        return best_setting, best
    return random_search


def test_dropout_rates_drawn_with_one_argument_to_uniform_are_named():
    e = exercises.lesson("05").exercises["q7"]
    verdict = e.evaluate(_random_search_drawing_dropout(lambda rng: rng.uniform(0.5)), **e.demo())
    assert "`rng.uniform(0.5)`" in verdict.message, verdict.message


def test_a_convolution_summed_over_the_batch_too_is_told_so():
    from fmnist_helpers.exercises import nb04

    e = exercises.lesson("04").exercises["q7"]
    verdict = e.evaluate(nb04._conv_batch_summed, **e.demo())
    assert "adds up the batch axis too" in verdict.message, verdict.message


def test_the_wide_cnns_dense_layer_scaled_with_the_filters_is_named():
    e = exercises.lesson("07").exercises["q1"]
    verdict = e.evaluate(2 * (48 + 96 + 384), **e.demo())
    assert "384 dense units" in verdict.message, verdict.message


# -- trial 12's finds (sealed trial, 2026-12-07) -----------------------------------------------------------------


def test_a_dropout_that_drops_exactly_rate_times_n_values_is_not_correct():
    def dropout(x, rate, training, rng):
        if not training:
            return x.copy()
        flat = np.ones(x.size, dtype=bool)
        flat[rng.permutation(x.size)[:round(rate * x.size)]] = False
        return np.where(flat.reshape(x.shape), x / (1 - rate), 0.0)

    e = exercises.lesson("00").exercises["q5"]
    verdict = e.evaluate(dropout, **e.demo())
    assert verdict.status == INCORRECT and "exactly 5,000" in verdict.message, verdict.message


def test_a_search_that_picks_dropout_from_a_list_is_not_correct():
    e = exercises.lesson("05").exercises["q7"]
    verdict = e.evaluate(_random_search_drawing_dropout(lambda rng: rng.choice([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])),
                         **e.demo())
    assert verdict.status == INCORRECT and "picked from a list" in verdict.message, verdict.message


def test_an_occlusion_that_mixes_up_height_and_width_fails_on_images_taller_than_wide():
    def occlude(images, size):
        out = images.copy()
        n, width, height = images.shape
        r0, c0 = (height - size) // 2, (width - size) // 2
        out[:, r0:r0 + size, c0:c0 + size] = 0
        return out

    e = exercises.lesson("06").exercises["q4"]
    verdict = e.evaluate(occlude, **e.demo())
    assert verdict.status == INCORRECT and "(2, 20, 12)" in verdict.message, verdict.message


def test_a_receptive_field_that_counts_the_first_layer_twice_is_told_so():
    e = exercises.lesson("00").exercises["q4"]
    verdict = e.evaluate(_receptive_field_as_written(start_at_first_layer=True), **e.demo())
    assert "its first entry counted twice" in verdict.message, verdict.message


def test_an_augmentation_with_no_shift_when_not_flipping_is_told_the_shift_does_not_depend_on_flip():
    def make_augment(max_shift, flip):
        import keras

        if not flip:
            return keras.Sequential([keras.layers.Identity()])
        return keras.Sequential([keras.layers.RandomFlip("horizontal"),
                                 keras.layers.RandomTranslation(max_shift / 28, max_shift / 28, fill_mode="constant")])

    e = exercises.lesson("02").exercises["q4"]
    verdict = e.evaluate(make_augment, **e.demo())
    assert "never moved" in verdict.message, verdict.message


def test_a_standardisation_by_the_root_mean_square_is_named():
    from fmnist_helpers.exercises import nb02

    e = exercises.lesson("02").exercises["q6"]
    verdict = e.evaluate(nb02._standardise_with(scale="rms"), **e.demo())
    assert "root mean square" in verdict.message, verdict.message


@pytest.mark.parametrize("target, words", [
    ([0.05] * 2 + [0.95] + [0.05] * 7, "the 0.1 shared among 2 classes"),
    ([0.0] * 2 + [0.9] + [0.0] * 7, "went to no class"),
])
def test_a_smoothed_target_that_shares_the_point_one_wrongly_is_told_how(target, words):
    e = exercises.lesson("04").exercises["q6"]
    verdict = e.evaluate(target, **e.demo())
    assert words in verdict.message, verdict.message


def test_a_best_weights_callback_that_compares_with_the_previous_epoch_is_told_so():
    import keras

    class BestWeights(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.best, self.best_epoch, self.best_weights = -np.inf, None, None

        def on_epoch_end(self, epoch, logs=None):
            if logs["val_accuracy"] > self.best:
                self.best_epoch, self.best_weights = epoch + 1, self.model.get_weights()
            self.best = logs["val_accuracy"]

        def on_train_end(self, logs=None):
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    e = exercises.lesson("07").exercises["q7"]
    verdict = e.evaluate(BestWeights, **e.demo())
    assert "compared with the one before it" in verdict.message, verdict.message


def test_a_nearest_neighbour_vote_weighted_by_distance_is_named():
    from fmnist_helpers.exercises import nb01

    e = exercises.lesson("01").exercises["q6"]
    verdict = e.evaluate(nb01._knn_weighted(0.5), **e.demo())
    assert "1 / distance" in verdict.message, verdict.message
