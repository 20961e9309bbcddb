"""Test images under distribution shift: shifted, rotated, noised and colour-inverted copies, and the
accuracy of models as the shift grows.

The `bu` study saw its model fall to 11% on fashion photos from elsewhere. Without outside data we can still
ask the same question in a controlled way: move the test images away from the training distribution, one kind
of change at a time, and watch each model's accuracy.

Every transformation takes float images in [0, 1] of shape (N, 28, 28) or (N, 28, 28, 1), returns an array of
the same shape and dtype in [0, 1], and returns the images unchanged at strength 0.

| transformation | strength | what it does |
|---|---|---|
| `shift` | pixels | moves the picture right and down by that many pixels (the background fills in black) |
| `rotate` | degrees | turns the picture about its centre (the corners fill in black) |
| `noise` | standard deviation | adds Gaussian noise (seeded), then clips to [0, 1] |
| `invert` | share of images, 0 to 1 | turns that share of the images, chosen at random (seeded), into their negative 1 - x: dark clothes on a white background; the rest stay as they are |

An inverted image is a whole negative, never a blend: a blend halfway, 0.5 x + 0.5 (1 - x), would be the same flat
grey for every image, and no model could be scored on it. The shares are nested: at the same seed, the images
inverted at 0.25 are among those inverted at 0.5, so a curve over shares changes only by the images added.

Usage:
    x = preprocess.scale(ds.x_test)
    rotated = transform(x, "rotate", 30)
    table = robustness_table({"MLP": mlp_predict, "CNN": cnn_predict}, x, ds.y_test)
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

TRANSFORMS = ("shift", "rotate", "noise", "invert")
STRENGTHS: dict[str, tuple[float, ...]] = {
    "shift": (0, 1, 2, 3, 4, 6),
    "rotate": (0, 10, 20, 30, 45, 60, 90),
    "noise": (0, 0.05, 0.1, 0.2, 0.3, 0.5),
    "invert": (0, 0.25, 0.5, 0.75, 1.0),
}
"""The strengths each curve is drawn at (0 first: the untouched test set)."""
UNITS = {"shift": "pixels", "rotate": "degrees", "noise": "noise sd", "invert": "share of images inverted"}


def _check(images: np.ndarray, kind: str, strength: float) -> np.ndarray:
    if kind not in TRANSFORMS:
        raise ValueError(f"transformation {kind!r} is not accepted; choose one of: {', '.join(TRANSFORMS)}")
    images = np.asarray(images)
    if not (images.ndim == 3 or (images.ndim == 4 and images.shape[-1] == 1)):
        raise ValueError(f"expected images of shape (N, 28, 28) or (N, 28, 28, 1), got {images.shape}")
    if not np.issubdtype(images.dtype, np.floating):
        raise TypeError(f"expected float images in [0, 1], got dtype {images.dtype}; scale uint8 images first "
                        f"(preprocess.scale)")
    if not np.isfinite(strength) or strength < 0:
        raise ValueError(f"strength must be a number >= 0, got {strength!r}")
    if kind == "invert" and strength > 1:
        raise ValueError(f"invert strength is a share from 0 to 1, got {strength!r}")
    return images


def transform(images: np.ndarray, kind: str, strength: float, seed: int = 0) -> np.ndarray:
    """`images` changed by transformation `kind` at `strength` (see the module table); a new array."""
    images = _check(images, kind, strength)
    if strength == 0:
        return images.copy()
    from scipy import ndimage

    squeeze = images.ndim == 4
    x = images[..., 0] if squeeze else images
    if kind == "shift":
        out = ndimage.shift(x, (0, strength, strength), order=1, mode="constant", cval=0.0)
    elif kind == "rotate":
        out = ndimage.rotate(x, strength, axes=(2, 1), reshape=False, order=1, mode="constant", cval=0.0)
    elif kind == "noise":
        out = x + np.random.default_rng(seed).normal(0.0, strength, size=x.shape)
    else:
        out = x.copy()
        chosen = inverted_images(len(x), strength, seed)
        out[chosen] = 1.0 - x[chosen]
    out = np.clip(out, 0.0, 1.0).astype(images.dtype)
    return out[..., np.newaxis] if squeeze else out


def inverted_images(n: int, share: float, seed: int = 0) -> np.ndarray:
    """The indices of the images `transform(..., "invert", share, seed)` inverts: share * n of the n (rounded half
    up), the first ones of one seeded random order, so a larger share at the same seed keeps the smaller share's
    images."""
    return np.sort(np.random.default_rng(seed).permutation(n)[:int(np.floor(share * n + 0.5))])


def robustness_table(predictors: Mapping[str, Callable[[np.ndarray], np.ndarray]], images: np.ndarray,
                     labels: np.ndarray, strengths: Mapping[str, Sequence[float]] | None = None,
                     seed: int = 0) -> pd.DataFrame:
    """Accuracy of every model on every transformation and strength: a tidy table.

    `predictors` maps a model's name to a function from float images (N, 28, 28) in [0, 1] to predicted labels.
    Returns columns transformation, strength, model, accuracy; each model sees the very same transformed images.
    """
    labels = np.asarray(labels)
    if len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    strengths = strengths or STRENGTHS
    rows = []
    for kind, levels in strengths.items():
        for strength in levels:
            shifted = transform(images, kind, strength, seed=seed)
            for name, predict in predictors.items():
                accuracy = float(np.mean(np.asarray(predict(shifted)) == labels))
                rows.append({"transformation": kind, "strength": float(strength), "model": name,
                             "accuracy": accuracy})
    return pd.DataFrame(rows, columns=["transformation", "strength", "model", "accuracy"])


def keras_predictor(model, batch_size: int = 1024) -> Callable[[np.ndarray], np.ndarray]:
    """A function from float images (N, 28, 28) in [0, 1] to the Keras model's predicted labels."""

    from fmnist_helpers.training.fit import predict_proba

    def predict(images: np.ndarray) -> np.ndarray:
        x = images if images.ndim == 4 else images[..., np.newaxis]
        return predict_proba(model, x, batch_size=batch_size).argmax(axis=1)

    return predict


def retention(table: pd.DataFrame) -> pd.DataFrame:
    """Each model's accuracy at the strongest level of each transformation as a share of its accuracy on the
    untouched images (strength 0): 1 means nothing lost, 0.1 / clean accuracy is chance."""
    clean = table[table["strength"] == 0].groupby("model", sort=False)["accuracy"].first()
    strongest = table.loc[table.groupby(["transformation", "model"], sort=False)["strength"].idxmax()]
    kept = strongest.pivot(index="model", columns="transformation", values="accuracy")
    kept = kept.reindex(index=list(clean.index), columns=[k for k in TRANSFORMS if k in kept.columns])
    return kept.div(clean.replace(0, np.nan), axis=0)


def top_class_share(predictions: np.ndarray, num_classes: int = 10) -> float:
    """The share of predictions that go to the single most predicted class (1 / num_classes when even)."""
    predictions = np.asarray(predictions)
    if predictions.size == 0:
        raise ValueError("no predictions given")
    return float(np.bincount(predictions, minlength=num_classes).max() / predictions.size)
