"""Exercises of notebook 02 (preprocessing): batches per epoch, what k-fold cross-validation costs, a `tf.data`
input pipeline, an augmentation block of Keras layers, and whether scaling the pixels matters.

The two code exercises run the student's function on hidden inputs: the pipeline on small arrays of images whose
every byte is known, so each image that comes out is traced back to its input and its label; the augmentation
block on images of one bright dot, whose centre shows how far each draw shifted it and whether it was mirrored.

Usage:
    ex = exercises.for_notebook("02_preprocessing"); ex.q1.check(430)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .common import fraction_for_points, need_int_tuple, need_number, seeded_rng, sign_error
from .ladder import CORE, STRETCH, WARM_UP
from .core import Answer, Function, Mistake

TITLE = "Preprocessing"

# ------------------------------------------------------------------------------------------------ q1

q1 = Answer(
    key="q1", title="Batches per epoch", kind="compute", minutes=3, difficulty="easy",
    task="The `uw` split trains on 55,000 images; how many batches (weight updates) does one epoch of a pipeline "
         "ending in `.batch(128)` give? Give one whole number.",
    hints=("Divide the number of training images by the batch size. Does it come out whole?",
           "55,000 / 128 = 429.7: `.batch` does not drop the 88 images left over, they form one last, smaller batch. "
           "Round up."),
    solution_code="answer_q1 = math.ceil(55_000 / 128)   # 429 full batches and one of 88 images",
    expected=430, validate=need_number, solution_example=430,
    on_correct=lambda a, ctx: "429 full batches and a last one of 88 images: `.batch` keeps the partial batch.",
    mistakes=(
        Mistake("that rounds down, dropping the last 88 images; `.batch` keeps them as one smaller batch (unless "
                "you ask for `drop_remainder=True`), so round up.", 429),
        Mistake("that uses all 60,000 training images; the `uw` split holds 5,000 of them back for validation.", 469),
        Mistake("a number of batches is a whole number: the 88 images left over form one more batch.", 55_000 / 128),
    ),
)

# ------------------------------------------------------------------------------------------------ q2

q2 = Answer(
    key="q2", title="What k-fold cross-validation costs", kind="compute", minutes=4, difficulty="easy",
    task="In 3-fold cross-validation on the 60,000 training images, how many images does each of the 3 models "
         "train on, and how many times does each image serve for validation? Give a tuple of two whole numbers.",
    hints=("The 60,000 images are cut into 3 folds of equal size; each model validates on one fold.",
           "Each model trains on the other two folds (2 x 20,000 images); over the three models every fold "
           "validates exactly once."),
    solution_code="answer_q2 = (2 * 60_000 // 3, 1)   # two folds of 20,000 train; each fold validates once",
    expected=(40_000, 1), validate=need_int_tuple(2), solution_example=(40_000, 1),
    on_correct=lambda a, ctx: ("three models of 40,000 images each train on 120,000 images in all, 2.5 times one "
                               "run on the wits hold-out's 48,000, and every image gets one validation score."),
    mistakes=(
        Mistake("20,000 is the size of one fold, the validation part; each model trains on the other two folds.",
                (20_000, 1)),
        Mistake("each image is in the validation fold of one model only, so it validates once, not k times.",
                (40_000, 3)),
        Mistake("an image is in the training part of two models but validates in only one: the second number is "
                "1.", (40_000, 2)),
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
    solution_code=("def make_pipeline(x, y, batch_size, training):\n"
                   "    def prepare(image, label):\n"
                   "        return tf.cast(image, tf.float32)[..., tf.newaxis] / 255.0, label\n"
                   "    ds = tf.data.Dataset.from_tensor_slices((x, y))\n"
                   "    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)\n"
                   "    if training:\n"
                   "        ds = ds.shuffle(len(x), seed=42)     # before batch: new batches every epoch\n"
                   "    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)"),
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
                  at_inference=False):
    """The solution (the defaults) and, through its switches, the wrong blocks students build."""
    import keras

    layers = []
    if at_inference and flip:  # a plain TensorFlow op in a Lambda layer acts whatever `training` says
        import tensorflow as tf

        layers.append(keras.layers.Lambda(tf.image.random_flip_left_right))
    elif flip or always_flip:
        layers.append(keras.layers.RandomFlip(flips))
    factor = max_shift / 28 if shift is None else shift
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
    for moves, way in ((dx, "sideways"), (dy, "up or down")):
        if np.abs(moves).max() < max_shift / 2:
            return f"no shift {way}", (f"in {_DRAWS} draws no shift {way} went beyond {np.abs(moves).max():.1f} "
                                       f"pixels; max_shift={max_shift} should reach nearly {max_shift}.")
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
    solution_code=("def make_augment(max_shift, flip):\n"
                   "    layers = [keras.layers.RandomFlip('horizontal')] if flip else []\n"
                   "    layers.append(keras.layers.RandomTranslation(max_shift / 28, max_shift / 28,\n"
                   "                                                 fill_mode='constant'))   # a fraction of 28\n"
                   "    return keras.Sequential(layers)"),
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
        Mistake("it changes images at inference (training=False): build it from Keras's random layers, which pass "
                "images through unchanged outside training; a plain TensorFlow op in a Lambda layer always acts.",
                lambda s, f: _make_augment(s, f, at_inference=True), detect=_augment_is("inference")),
    ),
)

# ------------------------------------------------------------------------------------------------ q5


def _gain_points(ctx: dict[str, Any]) -> float:
    return (ctx["acc_scaled"] - ctx["acc_raw"]) * 100


def _demo_q5() -> dict[str, Any]:
    return {"acc_scaled": 0.842, "acc_raw": 0.781}


def _scaling_reveal(a: float, ctx: dict[str, Any]) -> str:
    if a > 0:
        return (f"scaled pixels scored {a:.1f} points higher after the same training. On raw bytes the first "
                f"layer's outputs start 255 times larger (the lesson measured it), which the optimizer's small steps "
                f"must undo first; how much that costs depends on the optimizer, the network and the epochs.")
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

LADDER = {"q1": WARM_UP, "q2": WARM_UP, "q3": CORE, "q4": CORE, "q5": CORE}

EXERCISES = [q1, q2, q3, q4, q5]
