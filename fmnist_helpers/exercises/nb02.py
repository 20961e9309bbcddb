"""Exercises of notebook 02 (preprocessing): batches per epoch, what k-fold cross-validation costs, a `tf.data`
input pipeline, an augmentation block of Keras layers, and whether scaling the pixels matters.

The two code exercises run the student's function on hidden inputs: the pipeline on small arrays of images whose
every byte is known, so each image that comes out is traced back to its input and its label; the augmentation
block on images of one bright dot, whose centre shows how far each draw shifted it and whether it was mirrored.

Usage:
    ex = exercises.for_notebook("02_preprocessing"); ex.q1.check(430)
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

import numpy as np

from .builds import Attempt, Build, Finding, Found, fake_history, layer_types, number_finding, read_fit, \
    run_student, runs_on, scores_match
from .common import is_number, need_int_tuple, need_number, seeded_rng
from .core import Answer, Function, Mistake, _short
from .givens import BATCH_SIZES, IMAGE_COUNTS, Formula, Given, ceil, named
from .ladder import CORE, STRETCH, WARM_UP

TITLE = "Preprocessing"

# ------------------------------------------------------------------------------------------------ q1

_Q1_FORMULA = Formula(ceil(Given("images", 55_000, "{:,} images", others=IMAGE_COUNTS, noun="the number of images",
                                 has="the `uw` split trains on {}")
                           / Given("batch", 128, "batches of {}", others=BATCH_SIZES, noun="the batch size"),
                           "`.batch` keeps the last, smaller batch"))

q1 = Answer(
    key="q1", title="Batches per epoch", kind="compute", minutes=3, difficulty="easy",
    task="The `uw` split trains on 55,000 images; how many batches (weight updates) does one epoch of a pipeline "
         "ending in `.batch(128)` give? Give one whole number.",
    hints=("Divide the number of training images by the batch size. Does it come out whole?",
           "55,000 / 128 = 429.7: `.batch` does not drop the 88 images left over, they form one last, smaller batch. "
           "Round up."),
    expected=430, validate=need_number, solution_example=430, formula=_Q1_FORMULA,
    on_correct=lambda a, ctx: "429 full batches and a last one of 88 images: `.batch` keeps the partial batch.",
    mistakes=(
        Mistake("that rounds down, dropping the last 88 images; `.batch` keeps them as one smaller batch (unless "
                "you ask for `drop_remainder=True`), so round up.", 429),
        Mistake("that uses all 60,000 training images; the `uw` split holds 5,000 of them back for validation.", 469),
        Mistake("a number of batches is a whole number: the 88 images left over form one more batch.", 55_000 / 128),
        Mistake("that counts the 5,000 validation images' batches; an epoch goes through the 55,000 training images.",
                40),
    ),
)

# ------------------------------------------------------------------------------------------------ q2

_IMAGES = Given("images", 60_000, "{:,} images", others=IMAGE_COUNTS, noun="the number of training images",
                has="the task has {}")
_FOLDS = Given("folds", 3, "{} folds", others={2: "", 4: "", 5: "", 10: ""}, noun="the number of folds")
_Q2_FORMULA = Formula((_IMAGES - named(_IMAGES / _FOLDS, "the fold each model validates on"),
                       named(_FOLDS / _FOLDS, "its own fold's turn")))

q2 = Answer(
    key="q2", title="What k-fold cross-validation costs", kind="compute", minutes=4, difficulty="easy",
    task="In 3-fold cross-validation on the 60,000 training images, how many images does each of the 3 models "
         "train on, and how many times does each image serve for validation? Give a tuple of two whole numbers.",
    hints=("The 60,000 images are cut into 3 folds of equal size; each model validates on one fold.",
           "Each model trains on the other two folds (2 x 20,000 images); over the three models every fold "
           "validates exactly once."),
    expected=(40_000, 1), validate=need_int_tuple(2), solution_example=(40_000, 1), formula=_Q2_FORMULA,
    on_correct=lambda a, ctx: ("three models of 40,000 images each train on 120,000 images in all, 2.5 times one "
                               "run on the wits hold-out's 48,000, and every image gets one validation score."),
    mistakes=(
        Mistake("20,000 is the size of one fold, the validation part; each model trains on the other two folds.",
                (20_000, 1)),
        Mistake("each image is in the validation fold of one model only, so it validates once, not k times.",
                (40_000, 3)),
        Mistake("an image is in the training part of two models but validates in only one: the second number is "
                "1.", (40_000, 2)),
        Mistake("every image validates exactly once over the 3 models (its own fold's turn): the second number is 1.",
                (40_000, 0), detect=lambda a, ctx: isinstance(a, (tuple, list)) and len(a) == 2 and a[1] not in (1, 2, 3)),
    ),
)

# ------------------------------------------------------------------------------------------------ q3

_PIPELINE_CASES = [(50, 16, False), (50, 16, True), (37, 10, True), (24, 8, False)]  # (images, batch, training)
_MAX_ELEMENTS = 200  # more than any case can give: a dataset that repeats is read no further


def _pipeline_cases() -> list[tuple]:
    import tensorflow  # noqa: F401 - imported here, so its first import never runs inside the time limit

    rng = seeded_rng(6)
    cases = []
    for n, batch_size, training in _PIPELINE_CASES:
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)  # random bytes: no two images alike
        cases.append((x, rng.integers(0, 10, n), batch_size, training))
    return cases


def _make_pipeline(x, y, batch_size, training, dtype="float32", scale=True, channel=True, shuffle=None,
                   batch=True, batch_first=False, drop_remainder=False, apart=False, prefetch=True):
    """The solution (the defaults) and, through its switches, the wrong pipelines students write."""
    import tensorflow as tf

    shuffle = training if shuffle is None else shuffle

    def prepare(image, label):
        image = tf.cast(image, dtype)
        if scale:
            image = image / tf.constant(255, dtype)
        return (image[..., tf.newaxis] if channel else image), label

    if apart and shuffle:  # images and labels shuffled each on its own
        images = tf.data.Dataset.from_tensor_slices(x).shuffle(len(x), seed=1)
        labels = tf.data.Dataset.from_tensor_slices(y).shuffle(len(y), seed=2)
        ds = tf.data.Dataset.zip((images, labels)).map(prepare)
    else:
        ds = tf.data.Dataset.from_tensor_slices((x, y)).map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
        if shuffle and not batch_first:
            ds = ds.shuffle(len(x), seed=42)
    if batch:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if shuffle and batch_first:
        ds = ds.shuffle(len(x), seed=42)
    return ds.prefetch(tf.data.AUTOTUNE) if prefetch else ds


def _read(output: Any) -> tuple[list[np.ndarray], list[np.ndarray]] | str:
    """The images and labels of every element of a dataset, or a message saying why they cannot be read."""
    import tensorflow as tf

    if not isinstance(output, tf.data.Dataset):
        return f"return the `tf.data.Dataset` itself, not {type(output).__name__}."
    images, labels = [], []
    try:
        for element in output.take(_MAX_ELEMENTS):
            if not isinstance(element, (tuple, list)) or len(element) != 2:
                shape = tuple(getattr(element, "shape", ()))
                if len(shape) >= 3:  # a batch of images alone: the labels were lost on the way
                    return (f"each element holds images alone, shape {shape}, where a pair (images, labels) "
                            f"belongs: the labels were lost on the way. A function given to `map` receives "
                            f"(image, label) and must return both, `return image, label`; and the dataset starts "
                            f"from `tf.data.Dataset.from_tensor_slices((x, y))`.")
                return ("each element must be a pair (images, labels): start from "
                        "`tf.data.Dataset.from_tensor_slices((x, y))`.")
            images.append(np.asarray(element[0]))
            labels.append(np.asarray(element[1]))
    except Exception as err:  # noqa: BLE001 - the student's pipeline may fail in any way
        return f"reading the dataset raised {type(err).__name__}: {str(err)[:150]}"
    return images, labels


def _has_prefetch(dataset: Any) -> bool | None:
    """Whether a prefetch step is among the dataset's steps; None where its chain of steps cannot be read."""
    steps = 0
    while dataset is not None and steps < 100:
        if "prefetch" in type(dataset).__name__.lower():
            return True
        dataset, steps = getattr(dataset, "_input_dataset", None), steps + 1
    return False if steps > 1 else None


def _whole_batches_moved(index: np.ndarray, sizes: list[int], batch_size: int) -> bool:
    """Whether every batch holds a run of consecutive inputs in their order: the batches, not the images,
    were shuffled."""
    chunks = np.split(index, np.cumsum(sizes)[:-1])
    return all(c[0] % batch_size == 0 and np.array_equal(c, np.arange(c[0], c[0] + len(c))) for c in chunks)


def _trace(images: np.ndarray, x: np.ndarray) -> np.ndarray | None:
    """The input index of every image that came out (scaled, with a channel axis), or None when some image is
    not an input divided by 255."""
    lookup = {image.tobytes(): i for i, image in enumerate(x)}
    index = []
    for image in images[..., 0]:
        i = lookup.get(np.rint(image * 255).astype(np.uint8).tobytes())
        if i is None or not np.allclose(image, x[i] / 255, atol=1e-6):
            return None
        index.append(i)
    return np.array(index)


_LAST: list = [None, None, None]  # the output and arguments last diagnosed, and the diagnosis (read once)


def _pipeline_diagnosis(output: Any, args: tuple) -> tuple[str, str] | None:
    """(what went wrong, a message) for the dataset `make_pipeline(*args)` returned, or None when it is right."""
    if _LAST[0] is output and _LAST[1] is args:
        return _LAST[2]
    found = _diagnose_pipeline(output, args)
    _LAST[:] = [output, args, found]
    return found


def _diagnose_pipeline(output: Any, args: tuple) -> tuple[str, str] | None:
    x, y, batch_size, training = args
    n, image_shape = len(x), x.shape[1:]
    read = _read(output)
    if isinstance(read, str):
        return "form", read
    images, labels = read
    if not images:
        return "form", "the dataset is empty."
    first = images[0]
    if first.shape in (image_shape, (*image_shape, 1)):
        return "unbatched", f"each element holds one image of shape {first.shape}, not a batch of them."
    if first.ndim == 3 and first.shape[1:] == image_shape:
        return "no_channel", f"a batch of images has shape {first.shape}, without a channel axis."
    if first.ndim != 4 or first.shape[1:] != (*image_shape, 1):
        return "form", f"a batch of images has shape {first.shape}; expected (batch, 28, 28, 1)."
    if any(b.shape[1:] != first.shape[1:] for b in images) or [len(b) for b in labels] != [len(b) for b in images]:
        return "form", "every batch must hold images of one shape and as many labels as images."
    if first.dtype == np.uint8:
        return "uint8", "the images are still uint8 bytes from 0 to 255."
    if first.dtype != np.float32:
        return "float64" if first.dtype == np.float64 else "dtype", f"the images are {first.dtype}, not float32."
    pixels = np.concatenate(images)
    if pixels.max() > 1 + 1e-6:
        return "unscaled", f"pixel values reach {pixels.max():g}; they should lie between 0 and 1."
    if pixels.min() < 0:
        return "form", (f"pixel values go down to {pixels.min():.3g}: scale the bytes to [0, 1] by dividing by 255 "
                        "(standardising is a separate step, a `Normalization` layer).")
    sizes = [len(b) for b in images]
    expected = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    if sizes == expected[:-1] and n % batch_size:
        return "drop_remainder", (f"the batches hold {sum(sizes)} of the {n} images: the last {n % batch_size} "
                                  "are missing.")
    if sorted(sizes) == sorted(expected) and sizes != expected:  # the partial batch moved: batches were shuffled
        if training:
            return "batch_first", "the smaller, last batch came out in the middle: whole batches were shuffled."
        return "shuffled_test", "with training=False the batches came out in a new order."
    if sizes != expected:
        return "form", (f"the batches hold {sizes[:8]}{'...' if len(sizes) > 8 else ''} images; {n} images at "
                        f"batch_size={batch_size} give {expected}. Does the dataset repeat?")
    index = _trace(pixels, x)
    if index is None:
        return "form", "some image that came out is not an input image divided by 255."
    if len(set(index.tolist())) != n:
        return "form", "some images come out twice in one epoch and others not at all."
    got = np.concatenate(labels)
    if got.shape != (n,):
        return "form", f"the labels come out with shape {got.shape[1:]} each; keep them as integers, one per image."
    if not np.array_equal(got, np.asarray(y)[index]):
        return "apart", f"{int(np.sum(got != np.asarray(y)[index]))} of {n} labels are not their image's label."
    in_order = np.array_equal(index, np.arange(n))
    if not training and not in_order:
        return "shuffled_test", "with training=False the images came out in a new order."
    if training and in_order:
        return "unshuffled", "with training=True the images came out in their input order."
    if training and _whole_batches_moved(index, sizes, batch_size):
        return "batch_first", "each batch holds consecutive input images in their order; only the batches moved."
    if _has_prefetch(output) is False:
        return "no_prefetch", "the dataset has no prefetch step."
    return None


def _pipeline_problem(output: Any, args: tuple) -> str | None:
    found = _pipeline_diagnosis(output, args)
    return None if found is None else found[1]


def _pipeline_is(what: str):
    return lambda output, args: (_pipeline_diagnosis(output, args) or ("", ""))[0] == what


def _describe_pipeline(args: tuple) -> str:
    x, y, batch_size, training = args
    return (f"x of {len(x)} uint8 images {x.shape[1]}x{x.shape[2]}, y of {len(y)} labels, batch_size={batch_size}, "
            f"training={training}")


q3 = Function(
    key="q3", title="An input pipeline", kind="code", minutes=15, difficulty="medium",
    task="Write `make_pipeline(x, y, batch_size, training)`: a `tf.data.Dataset` of (images, labels) batches, images "
         "float32 in [0, 1] with a channel axis, shuffled before batching only when `training`, the last partial "
         "batch kept, ending in `prefetch`.",
    hints=("Start from `tf.data.Dataset.from_tensor_slices((x, y))`, `map` a function of (image, label) that returns "
           "`tf.cast(image, tf.float32)[..., tf.newaxis] / 255.0` and the label, then `batch` and `prefetch`.",
           "Put the shuffle between `map` and `batch`, inside `if training:`, so evaluation keeps its order: "
           "`ds = ds.shuffle(len(x), seed=42)`. A buffer as large as the data gives a full shuffle."),
    name="make_pipeline", cases=_pipeline_cases, verify=_pipeline_problem, solution_example=_make_pipeline,
    describe=_describe_pipeline,
    mistakes=(
        Mistake("the dataset is not batched: add `.batch(batch_size)` after the shuffle, so each element is a "
                "batch of images and their labels.",
                lambda x, y, b, t: _make_pipeline(x, y, b, t, batch=False), detect=_pipeline_is("unbatched")),
        Mistake("the channel axis is missing: a batch must have shape (batch, 28, 28, 1); add it in the map with "
                "`image[..., tf.newaxis]`.",
                lambda x, y, b, t: _make_pipeline(x, y, b, t, channel=False), detect=_pipeline_is("no_channel")),
        Mistake("the images were neither cast nor scaled: `tf.cast(image, tf.float32) / 255.0` turns bytes into "
                "float32 between 0 and 1.",
                lambda x, y, b, t: _make_pipeline(x, y, b, t, dtype="uint8", scale=False),
                detect=_pipeline_is("uint8")),
        Mistake("the images are float64: NumPy's `x / 255` gives float64, twice the memory, and Keras casts it to "
                "float32 at every step anyway. Cast with `tf.cast(image, tf.float32)` (or `x.astype('float32')`).",
                lambda x, y, b, t: _make_pipeline(x, y, b, t, dtype="float64"), detect=_pipeline_is("float64")),
        Mistake("you forgot to scale: the images are float32 but still 0 to 255. Divide by 255.0 in the map.",
                lambda x, y, b, t: _make_pipeline(x, y, b, t, scale=False), detect=_pipeline_is("unscaled")),
        Mistake("the last partial batch was dropped (`drop_remainder=True`): keep it, so every image is used once "
                "per epoch, as Keras does with arrays.",
                lambda x, y, b, t: _make_pipeline(x, y, b, t, drop_remainder=True),
                detect=_pipeline_is("drop_remainder")),
        Mistake("the labels no longer match their images: images and labels were shuffled apart. Shuffle the "
                "(image, label) pairs of `from_tensor_slices((x, y))` together.",
                lambda x, y, b, t: _make_pipeline(x, y, b, t, apart=True), detect=_pipeline_is("apart")),
        Mistake("you shuffled the test pipeline: with `training=False` keep the order (no shuffle), so that "
                "predictions line up with the labels and every evaluation reads the data the same way.",
                lambda x, y, b, t: _make_pipeline(x, y, b, t, shuffle=True), detect=_pipeline_is("shuffled_test")),
        Mistake("the training pipeline does not shuffle: with `training=True` add `.shuffle(buffer, seed=...)` "
                "before `batch` (a buffer of 1 does not shuffle; `len(x)` shuffles fully).",
                lambda x, y, b, t: _make_pipeline(x, y, b, t, shuffle=False), detect=_pipeline_is("unshuffled")),
        Mistake("you batched before shuffling: that shuffles whole batches, so the same images always share a "
                "batch. Shuffle the single images, then batch.",
                lambda x, y, b, t: _make_pipeline(x, y, b, t, batch_first=True), detect=_pipeline_is("batch_first")),
        Mistake("the pipeline does not end with `.prefetch(tf.data.AUTOTUNE)`, which prepares the next batch while "
                "the model trains on this one.",
                lambda x, y, b, t: _make_pipeline(x, y, b, t, prefetch=False), detect=_pipeline_is("no_prefetch")),
    ),
)

# ------------------------------------------------------------------------------------------------ q4

_DOT = (8, 6)  # the row and column of the one bright pixel in the probe images: off centre both ways
_DRAWS = 256  # random draws per case: each probe image gets its own


def _probe_images() -> np.ndarray:
    images = np.zeros((_DRAWS, 28, 28, 1), dtype="float32")
    images[:, _DOT[0], _DOT[1], 0] = 1.0
    return images


def _augment_cases() -> list[tuple]:
    import keras  # noqa: F401 - imported here, so its first import never runs inside the time limit

    return [(2, True), (3, False), (4, True)]


def _make_augment(max_shift, flip, flips="horizontal", always_flip=False, shift=None, sideways=True,
                  at_inference=False, one_way=False):
    """The solution (the defaults) and, through its switches, the wrong blocks students build."""
    import keras

    layers = []
    if at_inference and flip:  # a plain TensorFlow op in a Lambda layer acts whatever `training` says
        import tensorflow as tf

        layers.append(keras.layers.Lambda(tf.image.random_flip_left_right))
    elif flip or always_flip:
        layers.append(keras.layers.RandomFlip(flips))
    factor = max_shift / 28 if shift is None else shift
    if one_way:  # a pair (0, f) draws from 0 to f only
        factor = (0.0, factor)
    layers.append(keras.layers.RandomTranslation(factor, factor if sideways else 0.0, fill_mode="constant"))
    return keras.Sequential(layers)


def _diagnose_augment(block: Any, args: tuple) -> tuple[str, str] | None:
    """(what went wrong, a message) for the block `make_augment(*args)` returned, or None when it is right.

    Each of the probe images holds one bright pixel; where its centre lands after a draw shows how far the draw
    shifted the image and whether it mirrored it left to right or turned it upside down."""
    import keras

    max_shift, flip = args
    if not isinstance(block, keras.layers.Layer):
        return "form", f"return a Keras layer or model (a `keras.Sequential`), not {type(block).__name__}."
    probe = _probe_images()
    try:
        still = np.asarray(block(probe, training=False), dtype="float32")
        moved = np.asarray(block(probe, training=True), dtype="float32")
    except Exception as err:  # noqa: BLE001 - the student's block may fail in any way
        return "form", f"calling it on images of shape {probe.shape} raised {type(err).__name__}: {str(err)[:150]}"
    if still.shape != probe.shape or moved.shape != probe.shape:
        return "form", f"it turned images of shape {probe.shape[1:]} into {moved.shape[1:]}; keep their shape."
    if not np.allclose(still, probe, atol=1e-6):
        return "inference", "with training=False it still changed the images."
    mass = moved.sum(axis=(1, 2, 3))
    if np.mean(mass < 0.5) > 0.05:
        return "far", f"{np.mean(mass < 0.5):.0%} of the draws shifted the image's content out of the frame."
    grid = np.arange(28)
    rows, cols = moved.sum(axis=(2, 3)) @ grid / mass, moved.sum(axis=(1, 3)) @ grid / mass
    upside_down, mirrored = rows > 13.5, cols > 13.5
    dy = rows - np.where(upside_down, 27 - _DOT[0], _DOT[0])
    dx = cols - np.where(mirrored, 27 - _DOT[1], _DOT[1])
    if upside_down.any():
        return "vertical", f"{upside_down.mean():.0%} of {_DRAWS} draws turned the image upside down."
    if flip and not 0.2 <= mirrored.mean() <= 0.8:
        return "no_flip", f"{mirrored.mean():.0%} of {_DRAWS} draws mirrored the image; a random flip mirrors half."
    if not flip and mirrored.any():
        return "flip_off", f"with flip=False, {mirrored.mean():.0%} of {_DRAWS} draws mirrored the image."
    furthest = float(max(np.abs(dy).max(), np.abs(dx).max()))
    if furthest > max_shift + 0.25:
        return "far", f"a draw shifted the image by {furthest:.1f} pixels; max_shift={max_shift} allows {max_shift}."
    if max(np.abs(dx).max(), np.abs(dy).max()) < max_shift / 2:
        return "no shift", (f"in {_DRAWS} draws with flip={flip} the image never moved: the shift belongs in the "
                            f"block whatever `flip` says; only the flip depends on it")
    for moves, way in ((dx, "sideways"), (dy, "up or down")):
        if np.abs(moves).max() < max_shift / 2:
            return f"no shift {way}", (f"in {_DRAWS} draws no shift {way} went beyond {np.abs(moves).max():.1f} "
                                       f"pixels; max_shift={max_shift} should reach nearly {max_shift}.")
    for moves, way, ends in ((dx, "sideways", "left and right"), (dy, "up or down", "up and down")):
        if moves.min() > -max_shift / 2 or moves.max() < max_shift / 2:
            return "one way", (f"in {_DRAWS} draws the shifts {way} ran from {moves.min():+.1f} to {moves.max():+.1f} "
                               f"pixels: one way only, where the task shifts {ends}")
    return None


def _augment_problem(block: Any, args: tuple) -> str | None:
    found = _diagnose_augment(block, args)
    return None if found is None else found[1]


def _augment_is(what: str):
    return lambda block, args: (_diagnose_augment(block, args) or ("", ""))[0] == what


q4 = Function(
    key="q4", title="An augmentation block", kind="code", minutes=10, difficulty="medium",
    task="Write `make_augment(max_shift, flip)`: a `keras.Sequential` of Keras's random layers that, in training "
         "only, mirrors 28 x 28 images left to right at random when `flip` is true and shifts them by up to "
         "`max_shift` pixels up, down and sideways.",
    hints=("Two layers: `keras.layers.RandomFlip('horizontal')` (only when `flip`) and "
           "`keras.layers.RandomTranslation(height_factor, width_factor)`.",
           "RandomTranslation's factors are fractions of the image's height and width, not pixels: "
           "`max_shift / 28` for both. Build the list of layers, then `keras.Sequential(layers)`."),
    name="make_augment", cases=_augment_cases, verify=_augment_problem,
    solution_example=_make_augment, describe=lambda args: f"max_shift={args[0]}, flip={args[1]}",
    mistakes=(
        Mistake("it flips vertically too: an upside-down shirt or 6 is no image of the dataset. Use "
                "`RandomFlip('horizontal')`.",
                lambda s, f: _make_augment(s, f, flips="horizontal_and_vertical"), detect=_augment_is("vertical")),
        Mistake("with flip=True about half the draws should be mirrored left to right: add "
                "`keras.layers.RandomFlip('horizontal')` when `flip` is true.",
                lambda s, f: _make_augment(s, False), detect=_augment_is("no_flip")),
        Mistake("it flips even with flip=False: a mirrored 3 is no digit, so leave RandomFlip out when `flip` is "
                "false.", lambda s, f: _make_augment(s, f, always_flip=True), detect=_augment_is("flip_off")),
        Mistake("it shifts further than max_shift: RandomTranslation's factors are fractions of the image size, so "
                "a shift of max_shift pixels is `max_shift / 28`.",
                lambda s, f: _make_augment(s, f, shift=0.1), detect=_augment_is("far")),
        Mistake("it never shifts sideways: give RandomTranslation a `width_factor` as well as a `height_factor`.",
                lambda s, f: _make_augment(s, f, sideways=False), detect=_augment_is("no shift sideways")),
        Mistake("it shifts one way only: a factor given as a pair, `(0, f)`, draws shifts from 0 to f (down or right "
                "only); a single number `f` draws from -f to +f, both ways, as the task asks.",
                lambda s, f: _make_augment(s, f, one_way=True), detect=_augment_is("one way")),
        Mistake("it changes images at inference (training=False): build it from Keras's random layers, which pass "
                "images through unchanged outside training; a plain TensorFlow op in a Lambda layer always acts.",
                lambda s, f: _make_augment(s, f, at_inference=True), detect=_augment_is("inference")),
    ),
)

# ------------------------------------------------------------------------------------------------ q5


def _q5_fits(ctx: dict[str, Any]):
    return read_fit(ctx["raw"], "raw_history"), read_fit(ctx["scaled"], "scaled_history")


def _gain_points(ctx: dict[str, Any]) -> float:
    raw, scaled = _q5_fits(ctx)
    return (scaled.last("val_accuracy") - raw.last("val_accuracy")) * 100


def _diagnose_scaling(answer: Any, ctx: dict[str, Any]) -> Finding | None:
    raw, scaled = _q5_fits(ctx)
    epochs = int(ctx["epochs"])
    for fit in (raw, scaled):
        if fit.epochs != epochs:
            return Finding("not_same", f"`{fit.name}` trained for {fit.epochs} epoch(s); the task asks for {epochs}")
    if raw.steps != scaled.steps:
        return Finding("not_same", f"the two runs took {raw.steps} and {scaled.steps} steps per epoch: the same "
                                   f"images and batch size for both")
    if layer_types(raw.model) != layer_types(scaled.model) or raw.model.count_params() != scaled.model.count_params():
        return Finding("not_same", f"the two models differ: {layer_types(raw.model)} and "
                                   f"{layer_types(scaled.model)}")
    x_val, y_val = ctx["validation"]
    raw_images, scaled_images = np.asarray(x_val, dtype="float32"), np.asarray(x_val, dtype="float32") / 255
    raw_ok, scaled_ok = scores_match(raw, raw_images, y_val), scores_match(scaled, scaled_images, y_val)
    if not (raw_ok and scaled_ok):
        if scores_match(raw, scaled_images, y_val) and scores_match(scaled, raw_images, y_val):
            return Finding("swapped", "`raw_history`'s model reproduces its validation scores on scaled images, and "
                                      "`scaled_history`'s on raw ones")
        if not scaled_ok and scores_match(scaled, raw_images, y_val):
            return Finding("val_unscaled", "`scaled_history`'s validation scores are its model's scores on the raw "
                                           "0-255 validation images")
        if not raw_ok and scores_match(raw, scaled_images, y_val):
            return Finding("raw_scaled", "`raw_history`'s model was validated on scaled images")
        return Finding("other_validation", "a model does not reproduce its last `val_accuracy` on "
                                           "`x_val_small`: validate on it, and do not train a model again after "
                                           "`fit`")
    expected = _gain_points(ctx)
    best = (max(scaled.curves["val_accuracy"]) - max(raw.curves["val_accuracy"])) * 100
    if is_number(answer) and abs(float(answer) - best) < 0.01 and abs(best - expected) >= 0.01:
        return Finding("best_epoch", f"{float(answer):.2f} compares each run's best epoch; the task compares the "
                                     f"final validation accuracies, `[-1]`: {expected:.2f}")
    for fit in (raw, scaled):
        if isinstance(answer, (int, float)) and abs(answer - fit.last("val_accuracy") * 100) < 0.01:
            return Finding("one_model", f"{answer:g} is {fit.name}'s accuracy in points")
    return number_finding(answer, expected, "points", what="scaled minus raw")


def _scaling_reveal(a: float, ctx: dict[str, Any]) -> str:
    raw, scaled = _q5_fits(ctx)
    text = (f"both runs trained as asked (the same model, {raw.epochs} epoch(s), {raw.steps} steps each) and "
            f"validated on the right images: raw {raw.last('val_accuracy'):.4f}, scaled "
            f"{scaled.last('val_accuracy'):.4f}. ")
    if a > 0:
        return text + (f"Scaled pixels scored {a:.1f} points higher after the same training. On raw bytes the first "
                       f"layer's outputs start 255 times larger (the lesson measured it), which the optimizer's small "
                       f"steps must undo first; how much that costs depends on the optimizer, the network and the "
                       f"epochs.")
    return text + (f"Raw pixels did as well or better here ({-a:.1f} points): with Adam and a small network the damage "
                   f"can be small, but scaled inputs are the safe default.")


def _tiny_mlp(seed: int):
    """An untrained MLP with random biases (the tests' models: its answers depend on the pixels' scale)."""
    import keras

    keras.utils.set_random_seed(seed)
    init = keras.initializers.RandomNormal(stddev=0.5, seed=seed)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(16, activation="relu", bias_initializer=init),
                              keras.layers.Dense(10, activation="softmax", bias_initializer=init)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@lru_cache(maxsize=1)
def _demo_scaling() -> dict[str, Any]:
    rng = np.random.default_rng(4)
    x = rng.integers(0, 256, (40, 28, 28)).astype("uint8")
    raw, scaled = _tiny_mlp(1), _tiny_mlp(2)
    y = np.asarray(scaled(x.astype("float32") / 255, training=False)).argmax(axis=1)
    y[:10] = (y[:10] + 3) % 10  # the scaled model right on 30 of 40
    return {"raw": raw, "scaled": scaled, "x": x, "y": y}


def _scaling_history(model: str, scale: float) -> Callable[[dict[str, Any]], Any]:
    def make(ctx: dict[str, Any]) -> Any:
        demo = _demo_scaling()
        return fake_history(demo[model], (demo["x"].astype("float32") / scale, demo["y"]), epochs=2)

    return make


def _demo_q5() -> dict[str, Any]:
    demo = _demo_scaling()
    return {"raw": _scaling_history("raw", 1.0)({}), "scaled": _scaling_history("scaled", 255.0)({}), "epochs": 2,
            "validation": (demo["x"], demo["y"])}


def _q5_attempt(answer: Any = None, **histories: Callable) -> Callable[[dict[str, Any]], Attempt]:
    """A mistake's example: an answer (the right one unless given) with other histories."""
    def make(ctx: dict[str, Any]) -> Attempt:
        changed = {name: build(ctx) for name, build in histories.items()}
        new = {**ctx, **changed}
        value = _gain_points(new) if answer is None else answer(new)
        return Attempt(value, changed)

    return make


q5 = Build(
    key="q5", title="Does scaling the pixels matter?", kind="experiment", minutes=12, difficulty="medium",
    task="Train the same small MLP twice, same seed and epochs, on raw 0-255 pixels and on pixels scaled to [0, 1], "
         "keep what `fit` returns (`raw_history`, `scaled_history`), and report the difference in final validation "
         "accuracy in points, scaled minus raw; the check reads both histories and their models.",
    hints=("Write one function that seeds Keras, builds, compiles and fits the model on the arrays it is given and "
           "returns what `fit` returns; call it once with `x.astype('float32')` and once with "
           "`x.astype('float32') / 255`, for the training and the validation images alike.",
           "Call `keras.utils.set_random_seed(run.seed)` at the start of the function, so both models start from "
           "the same weights. The answer is `(scaled_history.history['val_accuracy'][-1] - "
           "raw_history.history['val_accuracy'][-1]) * 100`."),
    context=("raw", "scaled", "epochs", "validation"), demo_context=_demo_q5, solution_example=_gain_points,
    diagnose=_diagnose_scaling, reveal=_scaling_reveal,
    mistakes=(
        Mistake("the sign is reversed: the task asks for scaled minus raw. Subtract in the order the task gives.",
                lambda ctx: -_gain_points(ctx), detect=Found("sign")),
        Mistake("that is a fraction of 1; the task asks for accuracy points (multiply by 100: 0.012 is 1.2 "
                "points).", lambda ctx: _gain_points(ctx) / 100, detect=Found("fraction_for_points")),
        Mistake("that is one model's accuracy, not the difference; subtract: scaled minus raw, in points.",
                lambda ctx: read_fit(ctx["scaled"], "scaled").last("val_accuracy") * 100,
                detect=Found("one_model")),
        Mistake("the validation images of the scaled run were left at 0-255: a model trained on 0-1 pixels must be "
                "scored on 0-1 pixels too. Scale `x_val_small` the same way as `x_small`.",
                _q5_attempt(scaled=_scaling_history("scaled", 1.0)), detect=Found("val_unscaled")),
        Mistake("the two histories are swapped: `raw_history` is the run on 0-255 pixels, `scaled_history` the run "
                "on pixels divided by 255.",
                _q5_attempt(raw=_scaling_history("raw", 255.0), scaled=_scaling_history("scaled", 1.0)),
                detect=Found("swapped")),
        Mistake("the raw run was scaled too: train and validate `raw_history`'s model on `x.astype('float32')`, "
                "without dividing by 255.", _q5_attempt(raw=_scaling_history("raw", 255.0)),
                detect=Found("raw_scaled")),
        Mistake("pass what `fit` returned (History objects), not their `.history` dictionaries or numbers: the "
                "check reads the models and the settings they were trained with.",
                _q5_attempt(lambda ctx: 1.0, raw=lambda ctx: ctx["raw"].history),
                detect=Found("history_dict", "not_history")),
        Mistake("train both runs the same way: the same model, epochs, images and batch size; only the pixels' "
                "scale differs.", _q5_attempt(raw=lambda ctx: fake_history(_demo_scaling()["raw"], (
                    _demo_scaling()["x"].astype("float32"), _demo_scaling()["y"]), epochs=3)),
                detect=Found("not_same")),
    ),
)

# ------------------------------------------------------------------------------------------------ q6


def _standardise(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel position standardised with the training images' mean and standard deviation of that pixel."""
    train = np.asarray(x_train, dtype="float32")
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std == 0, 1.0, std).astype("float32")
    return (train - mean) / std, (np.asarray(x_test, dtype="float32") - mean) / std


def _standardise_buggy(x_train, x_test):
    """The function the task hands out, with its three bugs."""
    x_all = np.concatenate([x_train, x_test]).astype("float32")
    mean, std = x_all.mean(axis=0), x_all.std(axis=0)
    return (x_train - mean) / std, (x_test - x_test.mean(axis=0)) / std


def _standardise_leak(x_train, x_test):
    x_all = np.concatenate([x_train, x_test]).astype("float32")
    mean, std = x_all.mean(axis=0), x_all.std(axis=0)
    std = np.where(std == 0, 1.0, std)
    return (x_train - mean) / std, (x_test - mean) / std


def _standardise_own_test(x_train, x_test):
    train, _ = _standardise(x_train, x_test)
    test, _ = _standardise(x_test, x_test)
    return train, test


def _standardise_global(x_train, x_test):
    train = np.asarray(x_train, dtype="float32")
    mean, std = train.mean(), train.std()
    return (train - mean) / std, (np.asarray(x_test, dtype="float32") - mean) / std


def _standardise_per_image(x_train, x_test):
    def each(x):
        x = np.asarray(x, dtype="float32")
        mean, std = x.mean(axis=(1, 2), keepdims=True), x.std(axis=(1, 2), keepdims=True)
        return (x - mean) / np.where(std == 0, 1.0, std)
    return each(x_train), each(x_test)


def _standardise_nan(x_train, x_test):
    train = np.asarray(x_train, dtype="float32")
    mean, std = train.mean(axis=0), train.std(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (train - mean) / std, (np.asarray(x_test, dtype="float32") - mean) / std


def _standardise_in_place(x_train, x_test):
    train, test = _standardise(x_train, x_test)
    x_train -= x_train.mean(axis=0)
    return train, test


def _standardise_with(mean_of: str = "train", std_of: str = "train", scale: str = "std", ddof: int = 0) -> Callable:
    """Standardisation with the test images' mean or standard deviation taken from `mean_of` / `std_of` ("train",
    "test" or "none"), dividing by the standard deviation (with `ddof`), the variance or the range (`scale`)."""
    def standardise(x_train, x_test):
        train, test = np.asarray(x_train, dtype="float32"), np.asarray(x_test, dtype="float32")
        stats = {"train": train, "test": test}
        mean = {"none": 0.0, **{k: v.mean(axis=0) for k, v in stats.items()}}
        if scale == "range":
            spread = {k: v.max(axis=0) - v.min(axis=0) for k, v in stats.items()}
        elif scale == "rms":  # the root mean square, not centred on the mean
            spread = {k: np.sqrt((v ** 2).mean(axis=0)) for k, v in stats.items()}
        else:
            spread = {k: v.var(axis=0) if scale == "var" else v.std(axis=0, ddof=ddof) for k, v in stats.items()}
        spread = {k: np.where(v == 0, 1.0, v).astype("float32") for k, v in spread.items()}
        spread["none"] = np.float32(1.0)
        lows = {"train": train.min(axis=0), "test": test.min(axis=0)}
        centre = (lambda k: lows[k]) if scale == "range" else (lambda k: mean[k])
        train_out = (train - (centre("train") if mean_of != "none" else 0.0)) / spread["train" if std_of != "none"
                                                                                      else "none"]
        test_out = (test - (centre(mean_of) if mean_of != "none" else 0.0)) / spread[std_of]
        return train_out, test_out
    return standardise


def _standardise_precedence(x_train, x_test):
    train = np.asarray(x_train, dtype="float32")
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std == 0, 1.0, std).astype("float32")
    return train - mean / std, np.asarray(x_test, dtype="float32") - mean / std  # the slip: no brackets


_STANDARDISE_ALTERNATIVES = (
    (_standardise_precedence, "that computes `x - mean / std`: Python divides before it subtracts, so only the mean "
                              "is divided; bracket the difference, `(x - mean) / std`."),
    (_standardise_with(mean_of="test"), "the test images are centred on their own mean (only the standard deviation "
                                        "comes from the training images); subtract the training mean from both."),
    (_standardise_with(std_of="test"), "the test images are divided by their own standard deviation (only the mean "
                                       "comes from the training images); divide both by the training standard "
                                       "deviation."),
    (lambda a, b: _standardise(b, a)[::-1], "the statistics come from the test images and are applied to both "
                                            "splits; they must come from `x_train`."),
    (_standardise_with(scale="var"), "that divides by the variance; standardising divides by the standard "
                                     "deviation, `std`, its square root."),
    (_standardise_with(std_of="none"), "the images are only centred: divide by the training standard deviation "
                                       "too (1 where it is 0)."),
    (_standardise_with(mean_of="none"), "the images are divided by the standard deviation but not centred: "
                                        "subtract the training mean first."),
    (_standardise_with(scale="range"), "that is min-max scaling (to [0, 1]); the task standardises: subtract the "
                                       "training mean, divide by the training standard deviation."),
    (lambda a, b: (_standardise(a, b)[0], np.asarray(b, dtype="float32")),
     "the test images are left as they are; standardise them with the training statistics too."),
)


def _standardise_runs(function: Callable) -> list:
    """What a standardisation returns on the check's cases (for comparing with the alternatives)."""
    return [function(x_train.copy(), x_test.copy()) for x_train, x_test in _standardise_cases()]


_STANDARDISE_VARIANTS = {"leak": _standardise_leak, "test_own_stats": _standardise_own_test,
                         "global": _standardise_global, "per_image": _standardise_per_image,
                         "rms": _standardise_with(scale="rms")}


def _standardise_cases() -> list[tuple]:
    rng = seeded_rng(12)
    cases = []
    for n_train, n_test, dtype in [(200, 80, "uint8"), (150, 60, "float32")]:
        x_train = rng.integers(0, 200, (n_train, 6, 6)).astype(dtype)
        x_test = (rng.integers(0, 200, (n_test, 6, 6)) + 50).astype(dtype)  # brighter: a leak shows
        for x in (x_train, x_test):
            x[:, 0, 0] = 0  # an always-black corner
            x[:, 5, 5] = 7  # and a pixel that never changes
        x_train[:, 0, 5] = 30  # constant in training only: the test images differ there, and must keep it
        if dtype == "float32":
            x_train, x_test = x_train / 255, x_test / 255
            x_train[:, 5, 5] = x_test[:, 5, 5] = 0.5  # exact in float32: its standard deviation is exactly 0
        cases.append((x_train, x_test))
    return cases


def _diagnose_standardise(fixed: Any, ctx: dict[str, Any]) -> Finding | None:
    for x_train, x_test in _standardise_cases():
        kept = x_train.copy(), x_test.copy()
        try:
            out = run_student(fixed, (x_train, x_test), "standardise_fixed")
        except TypeError as err:
            if "Cannot cast ufunc" not in str(err):
                raise
            return Finding("in_place", f"subtracting in place from {x_train.dtype} images raised: {err}")
        except ValueError as err:
            if "broadcast" not in str(err):
                raise
            return Finding("axis", f"the statistics do not fit the images' shape ({err})")
        if not np.array_equal(x_train, kept[0]) or not np.array_equal(x_test, kept[1]):
            return Finding("in_place", f"the {x_train.dtype} images given to it were changed")
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            return Finding("form", f"return the pair `(train, test)`; got {_short(out)}")
        where = f"{len(x_train)} training and {len(x_test)} test images of {x_train.dtype}"
        try:
            train, test = (np.asarray(a, dtype="float64") for a in out)
        except (TypeError, ValueError):
            return Finding("form", f"return two arrays of numbers; got {_short(out)}")
        if train.shape == x_test.shape and test.shape == x_train.shape and x_train.shape != x_test.shape:
            return Finding("order", f"{where}: the first array has the test images' shape {train.shape}")
        if train.shape != x_train.shape or test.shape != x_test.shape:
            return Finding("form", f"{where}: the arrays come back with shapes {train.shape} and {test.shape}; "
                                   f"keep the inputs' shapes")
        if not (np.all(np.isfinite(train)) and np.all(np.isfinite(test))):
            return Finding("nan", f"{where}: {int(np.sum(~np.isfinite(train)) + np.sum(~np.isfinite(test)))} "
                                  f"values are NaN or infinite")
        want = _standardise(x_train, x_test)
        if np.allclose(train, want[0], atol=1e-4) and np.allclose(test, want[1], atol=1e-4):
            if any(np.asarray(a).dtype != np.float32 for a in out):
                return Finding("float64", f"the arrays are {np.asarray(out[0]).dtype}, not float32")
            continue
        for code, variant in _STANDARDISE_VARIANTS.items():
            wrong = variant(x_train, x_test)
            if np.allclose(train, wrong[0], atol=1e-4) and np.allclose(test, wrong[1], atol=1e-4):
                return Finding(code, f"first failing case: {where}")
        varying = np.asarray(x_train, dtype="float64").std(axis=0) > 0
        if np.allclose(train, want[0], atol=1e-4) and np.allclose(test[:, varying], want[1][:, varying], atol=1e-4) \
                and np.allclose(test[:, ~varying], 0) and not np.allclose(want[1][:, ~varying], 0):
            return Finding("constant_zeroed", f"{where}: where a pixel never changes in the training images, the "
                                              f"test images came out 0, though they differ there; divide by 1 at "
                                              f"those pixels instead (`np.where(std == 0, 1, std)`), so that a test "
                                              f"image keeps how it differs from the training mean")
        if not np.allclose(train.mean(axis=0), 0, atol=1e-3):
            return Finding("not_centred", f"{where}: the standardised training images do not average 0 at each "
                                          f"pixel (up to {np.abs(train.mean(axis=0)).max():.3g})")
        spread = train.std(axis=0)[varying]
        n = len(x_train)
        if spread.size and np.allclose(spread, np.sqrt((n - 1) / n), atol=1e-4):
            return Finding("ddof1", f"{where}: every pixel ends with standard deviation {spread[0]:.4f}, "
                                    f"sqrt({n - 1}/{n})")
        if not np.allclose(train.std(axis=0)[varying], 1, atol=1e-3):
            return Finding("std_axis", f"{where}: the standardised training images' standard deviation at a pixel "
                                       f"ranges from {train.std(axis=0)[varying].min():.3g} to "
                                       f"{train.std(axis=0)[varying].max():.3g}, not 1")
        part = "training" if not np.allclose(train, want[0], atol=1e-4) else "test"
        return Finding("values", f"{where}: the {part} images differ from the training statistics' standardisation "
                                 f"by up to {np.abs((train if part == 'training' else test) - want[part == 'test']).max():.3g}")
    return None


q6 = Build(
    key="q6", title="Find the leak", kind="code", minutes=20, difficulty="hard",
    task="`standardise_per_pixel` runs without an error and has three bugs; write `standardise_fixed(x_train, "
         "x_test)`, which standardises each pixel position with the training images' mean and standard deviation "
         "of that pixel (1 where that is 0) and returns float32 `(train, test)`, its inputs unchanged.",
    hints=("Look at where each statistic comes from, and at which images each one is applied to. Then think of "
           "the corners of an MNIST digit: what is their standard deviation over the training images?",
           "`x = x_train.astype('float32')`; `mean, std = x.mean(axis=0), x.std(axis=0)`; `std = np.where(std == 0, "
           "1, std)`; then `(x - mean) / std` and `(x_test.astype('float32') - mean) / std`: the test images use "
           "the training images' statistics, never their own."),
    solution_example=lambda ctx: _standardise, diagnose=_diagnose_standardise, time_limit=30.0,
    alternatives=_STANDARDISE_ALTERNATIVES, runs=_standardise_runs,
    reveal=lambda a, ctx: ("every hidden case comes out as the training statistics make it: a test image that is "
                           "brighter than the training images stays brighter after standardising, as it must, and "
                           "pixels that never change become 0 instead of NaN."),
    mistakes=(
        Mistake("the statistics include the test images: that leaks the test set into the preprocessing, so the "
                "test score no longer measures images the pipeline never saw. Compute them from `x_train` only.",
                lambda ctx: _standardise_leak, detect=Found("leak")),
        Mistake("the test images are standardised with their own mean (or statistics): every split must use the "
                "training statistics, or a test set that is brighter than the training set would be made to look "
                "like it.", lambda ctx: _standardise_own_test, detect=Found("test_own_stats")),
        Mistake("some values are NaN or infinite: a pixel that is the same in every training image has standard "
                "deviation 0, and 0 / 0 is NaN. Divide by 1 there: `np.where(std == 0, 1, std)`.",
                lambda ctx: _standardise_nan, detect=Found("nan")),
        Mistake("that uses one mean and one standard deviation for all pixels (`axis=None`); the task asks for one "
                "per pixel position: `axis=0`, over the images.", lambda ctx: _standardise_global,
                detect=Found("global")),
        Mistake("that standardises each image by its own statistics (`axis=(1, 2)`, the wrong axis): per pixel "
                "position means over the images, `axis=0`.", lambda ctx: _standardise_per_image,
                detect=Found("per_image")),
        Mistake("each pixel must be centred on its own training mean (`x_train.mean(axis=0)`), so that the "
                "standardised training images average 0 at every pixel.",
                lambda ctx: (lambda a, b: tuple(v + 1.0 for v in _standardise(a, b))), detect=Found("not_centred")),
        Mistake("that divides by the sample standard deviation (`ddof=1`, as pandas' `.std()` or `statistics.stdev` "
                "give), which divides the squares by n - 1; NumPy's `x_train.std(axis=0)` divides by n, and with "
                "it every training pixel ends with standard deviation exactly 1.",
                lambda ctx: _standardise_with(ddof=1),
                detect=Found("ddof1")),
        Mistake("that divides by each pixel's root mean square, `np.sqrt((x_train ** 2).mean(axis=0))`, which is not "
                "centred: the standard deviation subtracts the mean before squaring, `x_train.std(axis=0)`.",
                lambda ctx: _standardise_with(scale="rms"), detect=Found("rms")),
        Mistake("the standard deviation is not taken per pixel: divide by `x_train.std(axis=0)`, so that every "
                "pixel of the training images ends with standard deviation 1.",
                lambda ctx: (lambda a, b: tuple(v * 2 for v in _standardise(a, b))), detect=Found("std_axis")),
        Mistake("the statistics were taken over the wrong axis: per pixel position means over the images, "
                "`axis=0`, which gives one (28, 28) mean image that fits every image.",
                lambda ctx: (lambda a, b: (a - a.mean(axis=1), b)), detect=Found("axis")),
        Mistake("return `(train, test)`, the training images first.",
                lambda ctx: (lambda a, b: _standardise(a, b)[::-1]), detect=Found("order")),
        Mistake("the function changed the arrays it was given (`x_train -= ...`); compute new arrays instead.",
                lambda ctx: _standardise_in_place, detect=Found("in_place")),
        Mistake("the arrays are float64: NumPy's statistics are float64, so cast the result (or the inputs first) "
                "to float32, half the memory and what Keras computes in.",
                lambda ctx: (lambda a, b: tuple(np.asarray(v, dtype="float64") for v in _standardise(a, b))),
                detect=Found("float64")),
    ),
)

# ------------------------------------------------------------------------------------------------ q7


def _stratified_split(y: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    val = []
    for k in np.unique(y):
        members = np.flatnonzero(y == k)
        val.append(rng.permutation(members)[: int(round(val_fraction * len(members)))])
    val_idx = np.sort(np.concatenate(val))
    return np.setdiff1d(np.arange(len(y)), val_idx), val_idx


def _split_with_replacement(y, val_fraction, seed):
    rng = np.random.default_rng(seed)
    val = np.concatenate([rng.choice(np.flatnonzero(y == k), int(round(val_fraction * np.sum(y == k))))
                          for k in np.unique(y)])  # replace=True is rng.choice's default
    val = np.sort(val)
    return np.setdiff1d(np.arange(len(y)), val), val


def _split_first(y, val_fraction, seed):
    val = np.concatenate([np.flatnonzero(y == k)[: int(round(val_fraction * np.sum(y == k)))] for k in np.unique(y)])
    return np.setdiff1d(np.arange(len(y)), val), np.sort(val)


def _split_floor(y, val_fraction, seed):
    rng = np.random.default_rng(seed)
    val = np.concatenate([rng.permutation(np.flatnonzero(y == k))[: int(val_fraction * np.sum(y == k))]
                          for k in np.unique(y)])
    return np.setdiff1d(np.arange(len(y)), val), np.sort(val)


def _split_random(y, val_fraction, seed):
    order = np.random.default_rng(seed).permutation(len(y))
    n_val = int(round(val_fraction * len(y)))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def _split_unseeded(y, val_fraction, seed):
    return _stratified_split(y, val_fraction, int(np.random.randint(0, 2**31)))


def _split_cases() -> list[tuple]:
    rng = seeded_rng(13)
    y = rng.permutation(np.repeat(np.arange(5), [50, 30, 17, 8, 3]))  # imbalanced, with small classes
    z = rng.integers(0, 10, 400)
    return [(y, 0.2), (z, 0.3)]


def _diagnose_split(split: Any, ctx: dict[str, Any]) -> Finding | None:
    for y, fraction in _split_cases():
        out = run_student(split, (y, fraction, 0), "stratified_split")
        where = f"{len(y)} labels, val_fraction={fraction}"
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            return Finding("form", f"return the pair `(train_idx, val_idx)`; got {_short(out)}")
        train, val = (np.asarray(a) for a in out)
        if train.dtype == bool or val.dtype == bool:
            return Finding("masks", f"{where}: the arrays are boolean masks")
        if train.ndim != 1 or val.ndim != 1 or not (np.issubdtype(train.dtype, np.integer)
                                                    and np.issubdtype(val.dtype, np.integer)):
            return Finding("form", f"{where}: return two 1-D arrays of whole numbers (indices into y); got "
                                   f"{train.dtype} {train.shape} and {val.dtype} {val.shape}")
        counts = {int(k): int(round(fraction * np.sum(y == k))) for k in np.unique(y)}
        if len(val) == len(y) - sum(counts.values()) and len(train) == sum(counts.values()):
            return Finding("swapped", f"{where}: the first array has {len(train)} indices and the second "
                                      f"{len(val)}")
        repeated = [name for name, part in (("validation", val), ("training", train))
                    if len(np.unique(part)) < len(part)]
        largest = int(max(np.sum(y == k) for k in np.unique(y)))
        if repeated and len(val) and int(val.max()) < largest and len(np.unique(y)) > 1:
            return Finding("positions", f"{where}: every validation index is below {largest}, the size of the "
                                        f"largest class: those look like positions within each class (0 to n_k - 1), "
                                        f"not indices into y. Turn them into indices with the class's members, "
                                        f"`members = np.flatnonzero(y == k)`, then `members[positions]`")
        if repeated:
            part = val if repeated[0] == "validation" else train
            return Finding("repeats", f"{where}: the {repeated[0]} part holds {len(part) - len(np.unique(part))} "
                                      f"indices more than once")
        if np.intersect1d(train, val).size:
            return Finding("overlap", f"{where}: {np.intersect1d(train, val).size} indices are in both parts")
        if not np.array_equal(np.sort(np.concatenate([train, val])), np.arange(len(y))):
            return Finding("missing", f"{where}: together the two parts should hold every index 0 to {len(y) - 1} "
                                      f"once")
        got = {int(k): int(np.sum(y[val] == k)) for k in np.unique(y)}
        if got != counts:
            floor = {k: int(fraction * np.sum(y == k)) for k in counts}
            ceil = {k: int(np.ceil(fraction * np.sum(y == k))) for k in counts}
            if got in (floor, ceil):
                way = "down" if got == floor else "up"
                return Finding("floor", f"{where}: validation holds {got} per class, rounded {way}; round() gives "
                                        f"{counts}")
            empty = [k for k in counts if got[k] == 0 and counts[k] > 0 and all(got[j] == counts[j] for j in counts
                                                                                if j != k)]
            if empty:
                last = " (the largest label: `range(y.max())` stops before it; `np.unique(y)` lists every class)" \
                    if empty[0] == max(counts) else ""
                return Finding("class_left_out", f"{where}: class {empty[0]}{last} has none of its {counts[empty[0]]} "
                                                 f"validation images; every other class is right")
            if len(val) == int(round(fraction * len(y))):
                return Finding("not_stratified", f"{where}: validation holds {got} images per class; "
                                                 f"round(val_fraction x class count) gives {counts}")
            return Finding("counts", f"{where}: validation holds {got} images per class; each class k gives "
                                     f"round(val_fraction x n_k) of its own: {counts}")
        again = run_student(split, (y, fraction, 0), "stratified_split")
        if not np.array_equal(np.sort(np.asarray(again[1])), np.sort(val)):
            return Finding("not_reproducible", f"{where}: two calls with seed 0 drew different validation images")
        other = run_student(split, (y, fraction, 1), "stratified_split")
        if np.array_equal(np.sort(np.asarray(other[1])), np.sort(val)):
            first = _split_first(y, fraction, 0)[1]
            code = "first_n" if np.array_equal(np.sort(val), first) else "ignores_seed"
            return Finding(code, f"{where}: seeds 0 and 1 give the same validation images")
    return None


q7 = Build(
    key="q7", title="A stratified split of your own", kind="code", minutes=20, difficulty="hard",
    task="Write `stratified_split(y, val_fraction, seed)`: index arrays `(train_idx, val_idx)` that put "
         "`round(val_fraction x n_k)` images of each class k, drawn at random with `np.random.default_rng(seed)`, "
         "into validation and the rest into training.",
    hints=("Work class by class: `np.flatnonzero(y == k)` lists the indices of class k; shuffle them with the "
           "generator and take the first `round(val_fraction * len(members))` for validation.",
           "`rng = np.random.default_rng(seed)`; for each k in `np.unique(y)`: `members = "
           "rng.permutation(np.flatnonzero(y == k))`, `val.append(members[:int(round(val_fraction * "
           "len(members)))])`. Then `val_idx = np.concatenate(val)` and `train_idx = "
           "np.setdiff1d(np.arange(len(y)), val_idx)`."),
    solution_example=lambda ctx: _stratified_split, diagnose=_diagnose_split, time_limit=30.0,
    runs=runs_on(lambda: [(y, fraction, 0) for y, fraction in _split_cases()]),
    reveal=lambda a, ctx: ("every class keeps its share in validation, the smallest classes included, the two parts "
                           "cover every image once, and the seed fixes the draw. `splits.holdout_split` and "
                           "scikit-learn's `train_test_split(..., stratify=y)` do the same."),
    mistakes=(
        Mistake("that split is not stratified: drawn from all images at once, the small classes get a share in "
                "validation only by luck. Draw each class's validation images from that class.",
                lambda ctx: _split_random, detect=Found("not_stratified")),
        Mistake("the per-class counts are rounded the wrong way: `int(...)` truncates (a class of 8 at 0.2 gets 1 "
                "instead of round(1.6) = 2) and `math.ceil` rounds up; use `round(val_fraction * n_k)`.",
                lambda ctx: _split_floor, detect=Found("floor")),
        Mistake("the validation images are the first of each class, the same whatever the seed: shuffle each class "
                "with the seeded generator before taking its share.", lambda ctx: _split_first,
                detect=Found("first_n")),
        Mistake("the split does not depend on the seed: every seed gives the same validation images. Draw them "
                "with `np.random.default_rng(seed)`, shuffling each class before taking its share.",
                lambda ctx: (lambda y, f, s: _stratified_split(y, f, 0)), detect=Found("ignores_seed")),
        Mistake("two calls with the same seed gave different splits: draw with `np.random.default_rng(seed)`, not "
                "with NumPy's global random functions.", lambda ctx: _split_unseeded,
                detect=Found("not_reproducible")),
        Mistake("the two parts are swapped: return `(train_idx, val_idx)`, the larger training part first.",
                lambda ctx: (lambda y, f, s: _stratified_split(y, f, s)[::-1]), detect=Found("swapped")),
        Mistake("return index arrays (`np.flatnonzero(mask)` turns a boolean mask into indices), not boolean masks.",
                lambda ctx: (lambda y, f, s: tuple(np.isin(np.arange(len(y)), part)
                                                   for part in _stratified_split(y, f, s))),
                detect=Found("masks")),
        Mistake("some indices come twice in one part, as drawing with replacement gives (`rng.choice` draws with "
                "replacement unless told `replace=False`): draw each class's validation images without "
                "replacement, `rng.permutation(members)[:n]` or `rng.choice(members, n, replace=False)`.",
                lambda ctx: _split_with_replacement, detect=Found("repeats")),
        Mistake("some indices are in both parts: the training part is every index not in validation, "
                "`np.setdiff1d(np.arange(len(y)), val_idx)`.",
                lambda ctx: (lambda y, f, s: (np.arange(len(y)), _stratified_split(y, f, s)[1])),
                detect=Found("overlap")),
    ),
)

LADDER = {"q1": WARM_UP, "q2": WARM_UP, "q3": CORE, "q4": CORE, "q5": CORE, "q6": STRETCH, "q7": STRETCH}

EXERCISES = [q1, q2, q3, q4, q5, q6, q7]
