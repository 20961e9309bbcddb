"""Turn uint8 images and labels into model inputs, and build `tf.data` input pipelines.

Usage:
    x = to_model_input(split.x_train)        # float32 in [0, 1], shape (N, 28, 28, 1)
    y = one_hot(split.y_train)               # (N, 10) float32
    train = make_dataset(x, split.y_train, batch_size=128, shuffle=True, seed=42,
                         augment=augmentation(flip=True, shift=0.1, seed=42))
"""
from __future__ import annotations

import numpy as np


def scale(images: np.ndarray) -> np.ndarray:
    """uint8 pixels 0-255 -> float32 in [0, 1]."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"scale expects uint8 pixels 0-255, got dtype {images.dtype}; scale each array once")
    return images.astype(np.float32) / np.float32(255.0)


def add_channel(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) -> (N, 28, 28, 1): Conv2D layers expect a channel axis."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        return images
    if images.ndim != 3:
        raise ValueError(f"expected images of shape (N, height, width), got {images.shape}")
    return images[..., np.newaxis]


def to_model_input(images: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] and add the channel axis: what every model in the pack takes."""
    return add_channel(scale(images))


def one_hot(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Integer labels (N,) -> one-hot float32 (N, num_classes), for `categorical_crossentropy`."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"expected a 1-D array of integer labels, got shape {labels.shape}, dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, found {labels.min()}..{labels.max()}")
    return np.eye(num_classes, dtype=np.float32)[labels]


def flips_suit(dataset: str) -> bool:
    """Whether a mirror image is still an image of its class: clothes yes, digits no (a flipped 2 is no 2).

    Usage:
        augmentation(flip=flips_suit(ds.name))
    """
    return dataset != "mnist"


def augmentation(flip: bool = True, shift: float = 0.1, rotate: float = 0.0, seed: int = 42, erase: float = 0.0):
    """A Keras preprocessing block of random flips, shifts, rotations and erasing (active only in training).

    Horizontal flips suit clothes but not digits: pass `flip=False` for MNIST.
    `shift` is a fraction of the image size, `rotate` a fraction of a full turn, `erase` the chance that an image
    has a random patch (2-33% of it) set to 0, the background.
    """
    import keras

    for name, value, high in (("shift", shift, 0.5), ("rotate", rotate, 0.5), ("erase", erase, 1.0)):
        if not 0.0 <= value <= high:
            raise ValueError(f"{name} must lie in [0, {high:g}] (a fraction), got {value!r}")
    layers: list = []
    if flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed))
    if shift:
        layers.append(keras.layers.RandomTranslation(shift, shift, fill_mode="constant", seed=seed + 1))
    if rotate:
        layers.append(keras.layers.RandomRotation(rotate, fill_mode="constant", seed=seed + 2))
    if erase:
        layers.append(keras.layers.RandomErasing(erase, fill_value=0.0, value_range=(0, 1), seed=seed + 3))
    return keras.Sequential(layers, name="augmentation")


def shift_images(x: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The images (N x H x W x C) moved `dy` pixels down and `dx` right; the uncovered border is 0, the background.

    Usage:
        up_one = shift_images(x_test, -1, 0)
    """
    h, w = x.shape[1:3]
    if abs(dy) >= h or abs(dx) >= w:
        raise ValueError(f"a shift of ({dy}, {dx}) pixels moves {h}x{w} images out of view; "
                         f"accepted: |dy| < {h}, |dx| < {w}")
    out = np.zeros_like(x)
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = x[:, max(-dy, 0):h + min(-dy, 0),
                                                                     max(-dx, 0):w + min(-dx, 0)]
    return out


ONE_PIXEL_SHIFTS = ((-1, 0), (1, 0), (0, -1), (0, 1))
"""The four one-pixel moves of shift test-time augmentation: up, down, left, right."""


TF_DATA_AUTOTUNE = False
"""Whether tf.data's autotuner runs in `make_dataset`'s pipelines. Off: on the course's 2-core CPU it made about a
third of the epochs after the first take twice as long, the extra seconds spent before the epoch's first step, for
no faster steady epochs (benchmarks/bench_autotune.py)."""

AUGMENT_IN_ORDER = True
"""Whether `make_dataset` augments one batch after another (on) or several at once (off, `tf.data.AUTOTUNE`).
Keras's random layers draw from one stateful seed generator; batches augmented at once take its draws in whatever
order their threads reach it, so two runs with one seed trained different models (`pack_cnn` in `smoke`: 50.1%
and 51.1%). In order, a seed gives one model, for no measurable time (docs/package.md)."""


def make_dataset(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int = 128,
    shuffle: bool = False,
    seed: int = 42,
    cache: bool = True,
    augment=None,
    num_classes: int | None = None,
):
    """A `tf.data` pipeline: cache -> shuffle -> batch -> augment -> prefetch.

    `x` is model input (float32, N x 28 x 28 x 1). Labels stay integers unless `num_classes` is given,
    in which case they are one-hot encoded. Augmentation runs on whole batches after caching, so
    every epoch sees fresh random transformations of the cached images, one batch after another so that a seed
    gives the same batches every time (`AUGMENT_IN_ORDER`). tf.data's autotuner is off unless `TF_DATA_AUTOTUNE`
    is set.
    """
    import tensorflow as tf

    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} images but y has {len(y)} labels")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    labels = one_hot(y, num_classes) if num_classes else np.asarray(y)
    ds = tf.data.Dataset.from_tensor_slices((x, labels))
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment is not None:
        calls = None if AUGMENT_IN_ORDER else tf.data.AUTOTUNE
        ds = ds.map(lambda xb, yb: (augment(xb, training=True), yb), num_parallel_calls=calls)
    options = tf.data.Options()
    options.autotune.enabled = TF_DATA_AUTOTUNE
    return ds.prefetch(tf.data.AUTOTUNE).with_options(options)
