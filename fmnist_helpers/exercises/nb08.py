"""Exercises of notebook 08 (the capstone): the batches of a split folder, the leak of two seeds, the margin of error of
the held-out score, and the capstone itself: a saved CNN scored on digits only the package holds.

The capstone's check (`q4`) loads the student's `.keras` file with `keras.models.load_model`, feeds it the held-out
images as `image_dataset_from_directory` would read them (32 x 32 x 1, pixels 0-255) and takes the largest of its
10 outputs as the prediction, so probabilities and logits both count. Every problem (no file, not a model file, a
Lambda layer, the wrong input shape, not 10 outputs, rescaling left outside the saved model, a score below the
target) is a verdict that says what to do, never an exception.

Usage:
    ex = exercises.for_notebook("08_capstone"); ex.q1.check(17); ex.q4.check("build/quick/capstone/my_cnn.keras")
"""
from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np

from fmnist_helpers.data import capstone

from .common import is_number, need_number
from .ladder import CORE, STRETCH, WARM_UP
from .core import CORRECT, INCORRECT, Answer, Exercise, Mistake, NotAnswered, Verdict
from .givens import BATCH_SIZES, Formula, Given, ceil, floor, named, sqrt

TITLE = "Capstone: a CNN on images the course has not seen"

TARGET = 0.96
"""The held-out accuracy the capstone asks for."""
INPUT_SHAPE = (capstone.IMAGE_SIZE, capstone.IMAGE_SIZE, 1)


def n_files() -> int:
    """How many images the student's folder holds."""
    return int(len(capstone.split().train))


def n_validation(validation_split: float = 0.2) -> int:
    """How many of the folder's images Keras puts into validation at `validation_split`."""
    return int(validation_split * n_files())


def n_held_out() -> int:
    """How many images the check scores a model on."""
    return int(len(capstone.split().held_out))


def _whole(answer: Any, context: dict[str, Any] | None = None) -> str | None:
    problem = need_number(answer, context)
    if problem:
        return problem
    if float(answer) != int(answer):
        return f"give a whole number; {answer!r} is not one."
    return None


# ------------------------------------------------------------------------------------------------ q1

_Q1_SPLIT, _Q1_BATCH = 0.25, 64


def _q1_sizes() -> tuple[int, int]:
    """(training files, validation files) of the folder at validation_split=0.25, as Keras cuts it."""
    n_val = int(_Q1_SPLIT * n_files())
    return n_files() - n_val, n_val


def _q1_batches(ctx: dict[str, Any] | None = None) -> int:
    return math.ceil(_q1_sizes()[0] / _Q1_BATCH)


_FILES = Given("files", n_files, "{:,} files", noun="the number of files in the folder")
_Q1_FORMULA = Formula(ceil((_FILES - named(floor(Given("split", _Q1_SPLIT, "validation_split={}",
                                                       others={0.75: "the training share"}) * _FILES),
                                           "the validation files"))
                           / Given("batch", _Q1_BATCH, "batches of {}", others=BATCH_SIZES, noun="the batch size"),
                           "the last, smaller batch counts too"))


q1 = Answer(
    key="q1", title="Batches per epoch from a folder", kind="compute", minutes=3, difficulty="easy",
    task="How many batches does `image_dataset_from_directory` give per epoch for the training subset of the "
         "capstone folder with `validation_split=0.25` and `batch_size=64`?",
    hints=("Keras puts int(0.25 x the number of files) into validation and the rest into training; the last "
           "batch may be smaller than 64.",
           "Training files: 1,438 - int(0.25 * 1,438) = 1,079; batches: `math.ceil(1079 / 64)`."),
    expected=_q1_batches, validate=_whole, solution_example=_q1_batches, formula=_Q1_FORMULA,
    on_correct=lambda a, ctx: (f"{_q1_sizes()[0]:,} training files make {_q1_batches()} batches: "
                               f"{_q1_batches() - 1} of 64 and a last one of "
                               f"{_q1_sizes()[0] - 64 * (_q1_batches() - 1)}. `len(train_ds)` says the same."),
    mistakes=(
        Mistake("that counts every file of the folder; the training subset leaves out the quarter that "
                "`validation_split=0.25` keeps for validation.", lambda ctx: math.ceil(n_files() / _Q1_BATCH)),
        Mistake("rounded down: the last, smaller batch counts too, so round up (`math.ceil`).",
                lambda ctx: _q1_sizes()[0] // _Q1_BATCH),
        Mistake("that is the validation subset's number of batches; the task asks for the training subset.",
                lambda ctx: math.ceil(_q1_sizes()[1] / _Q1_BATCH)),
        Mistake("that is a number of images; the task asks for batches of 64.", lambda ctx: _q1_sizes()[0]),
        Mistake("that is one batch too many, or it uses another validation split: the task's is 0.25, so "
                "int(0.25 x 1,438) = 359 files go to validation and the rest, in batches of 64, train.", lambda ctx: math.ceil((n_files() - int(0.2 * n_files())) / _Q1_BATCH),
                detect=lambda a, ctx: is_number(a) and any(
                    a == math.ceil((n_files() - int(f * n_files())) / _Q1_BATCH) for f in (0.1, 0.2, 0.3, 0.5))
                and a != _q1_batches()),
    ),
)

# ------------------------------------------------------------------------------------------------ q2

_Q2_SEEDS = (1, 2)


def _quiet_load(directory: Path, **kwargs: Any) -> Any:
    import keras

    with contextlib.redirect_stdout(io.StringIO()):  # Keras prints "Found ... files" even with verbose=False
        return keras.utils.image_dataset_from_directory(directory, color_mode="grayscale",
                                                        image_size=INPUT_SHAPE[:2], verbose=False, **kwargs)


def seed_overlap(folder: str | os.PathLike, seeds: tuple[int, int] = _Q2_SEEDS,
                 validation_split: float = 0.2) -> tuple[int, int]:
    """(files in both subsets, validation files) when the training subset is drawn with `seeds[0]` and the
    validation subset with `seeds[1]`, by Keras itself."""
    directory = Path(folder) / capstone.TRAIN_FOLDER
    if not directory.is_dir():
        raise NotAnswered(f"there is no folder {directory}; run the notebook's start cell, which writes it, and pass "
                          f"`folder=folder`")
    train = _quiet_load(directory, validation_split=validation_split, subset="training", seed=seeds[0])
    val = _quiet_load(directory, validation_split=validation_split, subset="validation", seed=seeds[1])
    return len(set(train.file_paths) & set(val.file_paths)), len(val.file_paths)


_Q2_FRACTION = "that is a fraction; the task asks for a number of files."


def _q2_validate(answer: Any, context: dict[str, Any] | None = None) -> str | None:
    problem = need_number(answer, context)
    if problem is None and 0 < float(answer) < 1:
        return _Q2_FRACTION
    return problem or _whole(answer, context)


def _q2_overlap(ctx: dict[str, Any]) -> int:
    return seed_overlap(ctx["folder"])[0]


def _q2_reveal(answer: Any, ctx: dict[str, Any]) -> str:
    shared, n_val = seed_overlap(ctx["folder"])
    return (f"{shared} of the {n_val} validation files ({shared / n_val:.0%}) are also training files. A model "
            f"scored on them is scored on images it learned from, so its validation accuracy flatters it. Give both "
            f"calls the same seed, or make one call with `subset='both'`, as the notebook does: then no file is in "
            f"both.")


@lru_cache(maxsize=1)
def _demo_folder() -> Path:
    """The capstone folder, written once per process into a temporary folder (the exercises' tests), removed when
    the process ends."""
    import atexit
    import shutil

    folder = Path(tempfile.mkdtemp(prefix="capstone-demo-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return capstone.write_image_folder(folder)


q2 = Answer(
    key="q2", title="Two seeds, one leak", kind="experiment", minutes=10, difficulty="medium",
    task="Load the training subset with `seed=1` and the validation subset with `seed=2` (two calls, "
         "`validation_split=0.2`), and count the validation files that are also training files.",
    hints=("Each dataset that `image_dataset_from_directory` returns lists its files in `.file_paths`.",
           "`len(set(train_1.file_paths) & set(val_2.file_paths))`, where `train_1` was made with "
           "`subset='training', seed=1` and `val_2` with `subset='validation', seed=2`."),
    context=("folder",), demo_context=lambda: {"folder": _demo_folder()}, solution_example=_q2_overlap,
    expected=_q2_overlap, validate=_q2_validate, on_correct=_q2_reveal,
    mistakes=(
        Mistake("0 is what one seed gives: the task asks for two different seeds, 1 for the training subset and 2 "
                "for the validation subset.", 0),
        Mistake("that is the size of the validation subset; count only its files that are also in the training "
                "subset.", lambda ctx: seed_overlap(ctx["folder"])[1]),
        Mistake(_Q2_FRACTION, lambda ctx: _q2_overlap(ctx) / seed_overlap(ctx["folder"])[1],
                detect=lambda answer, ctx: _q2_validate(answer) == _Q2_FRACTION),
    ),
)

# ------------------------------------------------------------------------------------------------ q3


def _band(p: float, n: int, standard_errors: float = 2.0) -> float:
    return standard_errors * 100 * math.sqrt(p * (1 - p) / n)


def _q3_band(ctx: dict[str, Any] | None = None) -> float:
    return _band(TARGET, n_held_out())


def _q3_counts() -> dict[int, str]:
    """The other numbers of images of the capstone folder, for a misread n."""
    training = n_files() - int(_Q1_SPLIT * n_files())
    return {n_files(): "every file of the folder", n_validation(): "the validation files at validation_split=0.2",
            n_files() - n_validation(): "the training files at validation_split=0.2",
            training: "the training files at validation_split=0.25"}


_Q3_P = Given("p", TARGET, "p = {}", others={0.5: "the widest margin"}, symbol="p", noun="the accuracy p")
_Q3_FORMULA = Formula(Given("z", 2, lambda z: f"{z:g} standard error{'s' if z != 1 else ''}", steps=True,
                            has="a margin of error is 2")
                      * 100 * sqrt(_Q3_P * (1 - _Q3_P) / Given("n", n_held_out, "n = {:,} images", others=_q3_counts,
                                                                symbol="n", noun="the number of held-out images n"),
                                   "a standard error is the square root of p (1 - p) / n"))


def _q3_reveal(answer: Any, ctx: dict[str, Any]) -> str:
    band = _q3_band()
    return (f"{band:.2f} points: a model whose accuracy on such digits is exactly {TARGET:.0%} scores anywhere "
            f"from about {TARGET * 100 - band:.1f}% to {TARGET * 100 + band:.1f}% on {n_held_out()} images, by the "
            f"luck of which images were kept back. Aim well above the target on validation, whose {n_validation()} images are "
            f"as noisy, and the verdict will not hinge on that luck.")


q3 = Answer(
    key="q3", title="How exact is the held-out score?", kind="compute", minutes=5, difficulty="medium",
    task="The check scores your model on the 359 held-out images. If the model's true accuracy is exactly 96%, how "
         "wide is the margin of error of that score: two binomial standard errors (the half-width of an approximate "
         "95% interval), in accuracy points?",
    hints=("One standard error of an accuracy p measured on n images is sqrt(p (1 - p) / n), as a fraction.",
           "`2 * math.sqrt(0.96 * 0.04 / 359) * 100`."),
    expected=_q3_band, validate=need_number, solution_example=_q3_band, formula=_Q3_FORMULA,
    # within 0.05 points of 2.07 (2.4%): relative, so that a wrong answer near 0 (the variance) is not taken for
    # the fraction 0.0207
    same=lambda a, b: abs(float(a) - float(b)) < 0.024 * abs(float(b)), on_correct=_q3_reveal,
    mistakes=(
        Mistake("that is one standard error (or the margin on 1,438 images); the margin of error is two standard "
                "errors of a score on the 359 held-out images.", lambda ctx: _band(TARGET, n_held_out(), 1.0)),
        Mistake("that is a fraction of 1; the task asks for accuracy points (multiply by 100).",
                lambda ctx: _q3_band() / 100),
        Mistake("that uses the 287 validation images; the check scores the 359 held-out images.",
                lambda ctx: _band(TARGET, n_validation())),
        Mistake("that uses p = 0.5, the widest margin; use the accuracy the task gives, p = 0.96.",
                lambda ctx: _band(0.5, n_held_out())),
    ),
)

# ------------------------------------------------------------------------------------------------ q4

_NOT_A_PATH = ("pass the path of your saved file, e.g. `ex.q4.check(model_path)` after `model.save(model_path)`, "
               "not the model itself.")
_NO_FILE = ("there is no file at that path. Save the model first with `model.save(model_path)`, where "
            "`model_path` ends in `.keras`, and pass the same path.")
_A_FOLDER = ("that is a folder, not a model file: `model.save(model_path)` with a path ending in `.keras` writes "
             "one file (`model.export` writes a folder for serving, which `load_model` cannot read).")
_NOT_KERAS = ("Keras cannot load that file as a model: save the whole model with `model.save(model_path)` and a "
              "path ending in `.keras` (`save_weights` keeps the weights without the layers).")
_LAMBDA = ("the model has a Lambda layer, which `keras.models.load_model` refuses to load from a file (its code "
           "could do anything): rescale with `keras.layers.Rescaling(1 / 255)` instead.")
_INPUT_SHAPE = ("the model's input does not fit the capstone images, which are (32, 32, 1): start it with "
                "`keras.Input((32, 32, 1))` and load the folder with `image_size=(32, 32)` and "
                "`color_mode='grayscale'`.")
_OUTPUTS = ("the model must give 10 numbers per image, one per digit: end it with `keras.layers.Dense(10)` "
            "(with a softmax or without).")
_RESCALED_OUTSIDE = ("the model was trained on pixels scaled to 0-1, but the saved file does not scale them itself, "
                     "so on raw images (0-255, as `image_dataset_from_directory` gives them) it fails. Put "
                     "`keras.layers.Rescaling(1 / 255)` in the model as its first layer and train it on the raw "
                     "images.")
_BELOW = "below the target"
_RAISED = "the model raised an error on the held-out images"


@dataclass(frozen=True)
class Score:
    """A saved model's held-out score: right answers of `n`, and the same on images divided by 255."""

    right: int
    n: int
    right_if_scaled: int

    @property
    def accuracy(self) -> float:
        return self.right / self.n


class _Problem(Exception):
    """A saved model the check cannot score; the message is the verdict."""


def _input_shapes(model: Any) -> list[tuple]:
    try:
        return [tuple(t.shape) for t in model.inputs]
    except Exception:  # noqa: BLE001 - a model without a known input
        shape = getattr(model, "input_shape", None)
        return [tuple(shape)] if shape else []


def _fits(shape: tuple, want: tuple = (None, *INPUT_SHAPE)) -> bool:
    return len(shape) == len(want) and all(s is None or w is None or s == w for s, w in zip(shape, want))


def _predict(model: Any, x: np.ndarray) -> np.ndarray:
    try:
        out = model(x, training=False)  # one call: 359 small images, and no tf.function to trace
    except Exception as err:  # noqa: BLE001 - the student's model may raise anything
        raise _Problem(f"{_RAISED}: {type(err).__name__}: {str(err).strip()[:300]}") from None
    if isinstance(out, (list, tuple, dict)) and len(out) != 1:
        raise _Problem(f"{_OUTPUTS} It has {len(out)} outputs; give it one.")
    if isinstance(out, dict):
        out = next(iter(out.values()))
    elif isinstance(out, (list, tuple)):
        out = out[0]
    out = np.asarray(out).astype(np.float32)
    if out.ndim != 2 or out.shape[1] != capstone.NUM_CLASSES:
        raise _Problem(f"{_OUTPUTS} It gives an output of shape {out.shape[1:]} per image.")
    if not np.all(np.isfinite(out)):
        raise _Problem("the model's outputs contain NaN or infinite values: training diverged. Train it again, "
                       "with a smaller learning rate and the pixels rescaled inside the model.")
    return out


def _load(path: Path) -> Any:
    import keras

    try:
        return keras.models.load_model(path, compile=False)
    except Exception as err:  # noqa: BLE001 - any file can be passed
        text = f"{type(err).__name__}: {str(err).strip()}"
        if "Lambda" in text or "lambda" in text:
            raise _Problem(_LAMBDA) from None
        raise _Problem(f"{_NOT_KERAS} (Keras said: {text[:240]})") from None


def score_saved_model(path: Any) -> Score:
    """Load the model saved at `path` and score it on the held-out images; a `_Problem` says why it cannot be."""
    if hasattr(path, "predict") and hasattr(path, "layers"):
        raise _Problem(_NOT_A_PATH)
    if not isinstance(path, (str, os.PathLike)):
        raise _Problem(f"give the path of your saved file as a string, e.g. 'my_cnn.keras'; got "
                       f"{type(path).__name__} {path!r}.")
    path = Path(path)
    if path.is_dir():
        raise _Problem(f"{_A_FOLDER} ({path})")
    if not path.is_file():
        raise _Problem(f"{_NO_FILE} (looked for {path.resolve()})")
    model = _load(path)
    shapes = _input_shapes(model)
    if len(shapes) != 1:
        raise _Problem(f"{_INPUT_SHAPE} It has {len(shapes)} inputs; give it one.")
    if not _fits(shapes[0]):
        shown = tuple(shapes[0][1:])
        extra = " It expects colour images: 3 channels." if shown[-1:] == (3,) else ""
        raise _Problem(f"{_INPUT_SHAPE} It expects {shown}.{extra}")
    x, y = capstone.held_out()
    x = x.astype(np.float32)
    right = int(np.sum(_predict(model, x).argmax(axis=1) == y))
    right_scaled = right if right / len(y) >= TARGET else int(np.sum(_predict(model, x / 255.0).argmax(axis=1) == y))
    return Score(right, len(y), right_scaled)


def _verdict_text(score: Score) -> tuple[bool, str]:
    acc = score.accuracy
    if acc >= TARGET:
        return True, (f"held-out accuracy {acc:.1%} ({score.right} of {score.n} images the model never saw), target "
                      f"{TARGET:.0%}: met, by {(acc - TARGET) * 100:.1f} points.")
    scaled = score.right_if_scaled / score.n
    if scaled >= TARGET or scaled - acc >= 0.2:
        return False, (f"{_RESCALED_OUTSIDE} On raw pixels it scores {acc:.1%}; on pixels divided by 255, "
                       f"{scaled:.1%}.")
    return False, (f"held-out accuracy {acc:.1%} ({score.right} of {score.n}), {_BELOW} of {TARGET:.0%} by "
                   f"{(TARGET - acc) * 100:.1f} points. Train more epochs, or add a convolution block or augmentation, and "
                   f"watch `val_accuracy` until it is well above {TARGET:.0%}. `ex.q4.hint()` gives a hint.")


@dataclass(frozen=True)
class SavedModelCheck(Exercise):
    """The capstone: the answer is the path of a saved Keras model, scored on the held-out images."""

    def _evaluate(self, answer: Any, context: dict[str, Any]) -> Verdict:
        try:
            met, text = _verdict_text(score_saved_model(answer))
        except _Problem as problem:
            return Verdict(INCORRECT, self.label, str(problem))
        return Verdict(CORRECT if met else INCORRECT, self.label, text)


# --- the demo context: saved models, good and bad, built without training (the exercises' tests)


def _nearest_neighbour_model(rescale: bool = True) -> Any:
    """A 1-nearest-neighbour classifier written as Keras layers, from the student folder's images: good on the
    held-out images without any training. Without `rescale` it expects pixels already divided by 255."""
    import keras

    x, y = capstone.student_images()
    per_class = int(np.bincount(y).min())
    pick = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(capstone.NUM_CLASSES)])
    templates = x[pick].reshape(len(pick), -1).astype(np.float32) / 255.0
    layers = [keras.Input(INPUT_SHAPE)] + ([keras.layers.Rescaling(1 / 255)] if rescale else [])
    dense = keras.layers.Dense(len(pick))  # 2 x . t - |t|^2: largest for the nearest template
    model = keras.Sequential(layers + [keras.layers.Flatten(), dense,
                                       keras.layers.Reshape((capstone.NUM_CLASSES, per_class)),
                                       keras.layers.Permute((2, 1)), keras.layers.GlobalMaxPooling1D()])
    dense.set_weights([2 * templates.T, -np.sum(templates ** 2, axis=1)])
    return model


def _small_model(input_shape: tuple = INPUT_SHAPE, outputs: int = 10, lam: bool = False) -> Any:
    import keras

    keras.utils.set_random_seed(0)
    first = keras.layers.Lambda(lambda t: t / 255.0) if lam else keras.layers.Rescaling(1 / 255)
    return keras.Sequential([keras.Input(input_shape), first, keras.layers.GlobalAveragePooling2D(),
                             keras.layers.Dense(outputs)])


@lru_cache(maxsize=1)
def _demo_models() -> dict[str, str]:
    folder = Path(tempfile.mkdtemp(prefix="capstone-models-"))
    paths = {name: str(folder / f"{name}.keras") for name in
             ("good", "rescaled_outside", "untrained", "big_input", "nine_outputs", "lambda")}
    _nearest_neighbour_model().save(paths["good"])
    _nearest_neighbour_model(rescale=False).save(paths["rescaled_outside"])
    _small_model().save(paths["untrained"])
    _small_model(input_shape=(256, 256, 1)).save(paths["big_input"])
    _small_model(outputs=9).save(paths["nine_outputs"])
    _small_model(lam=True).save(paths["lambda"])
    (folder / "notes.keras").write_text("not a model\n")
    paths.update(not_keras=str(folder / "notes.keras"), missing=str(folder / "missing.keras"), folder=str(folder))
    return paths


def _demo_path(name: str) -> Callable[[dict[str, Any]], str]:
    return lambda ctx: _demo_models()[name]


class _DemoModel:
    """Stands for a Keras model passed where its path belongs (it has `predict` and `layers`)."""

    layers: list = []

    def predict(self, x: Any) -> None:  # pragma: no cover - never called
        return None


q4 = SavedModelCheck(
    key="q4", title="The capstone: a CNN for new digits", kind="code", minutes=35, difficulty="hard",
    task="In plain Keras, train a CNN on the capstone folder that reaches at least 96% held-out accuracy, save it "
         "with `model.save(model_path)` (a path ending in `.keras`) and check the path.",
    hints=("Start from notebook 04's CNN: `keras.Input((32, 32, 1))`, `Rescaling(1 / 255)`, two blocks of `Conv2D` "
           "and `MaxPooling2D`, `Flatten`, `Dense(10, activation='softmax')`; compile with Adam and "
           "`'sparse_categorical_crossentropy'` (the labels are integers), and fit on `train_ds` with "
           "`validation_data=val_ds`.",
           "If `val_accuracy` stays below about 97%, train more epochs (15 take seconds here) or add "
           "`keras.layers.RandomTranslation(0.1, 0.1)` after the rescaling: shifted copies of 1,151 images teach "
           "more than the same images again. Save with `model.save(folder / 'my_cnn.keras')`."),
    solution_example=_demo_path("good"),
    mistakes=(
        Mistake(_NOT_A_PATH, lambda ctx: _DemoModel()),
        Mistake(_NO_FILE, _demo_path("missing")),
        Mistake(_A_FOLDER, _demo_path("folder")),
        Mistake(_NOT_KERAS, _demo_path("not_keras")),
        Mistake(_LAMBDA, _demo_path("lambda")),
        Mistake(_INPUT_SHAPE, _demo_path("big_input")),
        Mistake(_OUTPUTS, _demo_path("nine_outputs")),
        Mistake(_RESCALED_OUTSIDE, _demo_path("rescaled_outside")),
        Mistake(_BELOW, _demo_path("untrained")),
    ),
)

LADDER = {"q1": WARM_UP, "q2": CORE, "q3": WARM_UP, "q4": STRETCH}

EXERCISES = [q1, q2, q3, q4]
