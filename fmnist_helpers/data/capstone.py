"""The capstone's data: scikit-learn's handwritten digits as a folder of PNG files, with a held-out part kept back.

Notebook 08 hands the student images the course has not used: the 1,797 digits of 8 x 8 pixels that ship with
scikit-learn (`sklearn.datasets.load_digits`, no download), upscaled to 32 x 32 greyscale. A fixed, seeded,
stratified split keeps a fifth of them back. `write_image_folder` writes the rest as
`<folder>/train/<class>/<index>.png`, the layout `keras.utils.image_dataset_from_directory` reads; the held-out
images are never written there, and `held_out()` gives them (as arrays) only to the check that scores the
student's saved model. The split does not depend on the notebook's `seed` or `dataset` parameters.

Writes are atomic (a file is whole or absent) and idempotent: a second call leaves identical files untouched,
rewrites a changed one and removes PNG files that do not belong to the split.

Usage:
    folder = write_image_folder(run.output_dir)          # <output_dir>/capstone, with train/0 ... train/9
    x, y = held_out()                                    # (359, 32, 32, 1) uint8 pixels 0-255, labels 0-9
"""
from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from fmnist_helpers.base.atomic import atomic_write, write_json_atomic

SPLIT_SEED = 2024
"""The seed of the held-out split: fixed, so that every student's check scores the same images."""
HELD_OUT_FRACTION = 0.2
"""The share of each class kept back for the check (rounded per class)."""
IMAGE_SIZE = 32
"""The side of the written images in pixels (the source images have 8)."""
NUM_CLASSES = 10
FOLDER_NAME = "capstone"
"""The folder under a run's output folder that `write_image_folder` fills."""
TRAIN_FOLDER = "train"
"""The sub-folder the student loads: one folder per class, `0` to `9`."""
MANIFEST = "capstone.json"


@dataclass(frozen=True)
class Split:
    """Indices into `load_digits()` of the images the student gets (`train`) and those kept back (`held_out`)."""

    train: np.ndarray
    held_out: np.ndarray


@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images.astype(np.float64), digits.target.astype(np.int64)


def labels() -> np.ndarray:
    """The class (0-9) of each of the 1,797 source images, in scikit-learn's order."""
    return _digits()[1].copy()


def split(seed: int = SPLIT_SEED, fraction: float = HELD_OUT_FRACTION) -> Split:
    """A stratified split: round(`fraction` x class size) images of each class held out, chosen with `seed`."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie strictly between 0 and 1, got {fraction!r}")
    y = _digits()[1]
    rng = np.random.default_rng(seed)
    held = []
    for digit in range(NUM_CLASSES):
        members = np.flatnonzero(y == digit)
        held.append(rng.permutation(members)[: int(round(fraction * len(members)))])
    held_out = np.sort(np.concatenate(held))
    train = np.setdiff1d(np.arange(len(y)), held_out)
    return Split(train=train, held_out=held_out)


def upscale(images: np.ndarray, size: int = IMAGE_SIZE) -> np.ndarray:
    """8 x 8 images of values 0-16 -> (N, size, size, 1) uint8 pixels 0-255, resized bilinearly (Pillow)."""
    from PIL import Image

    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3:
        raise ValueError(f"expected images of shape (N, height, width), got {images.shape}")
    pixels = np.clip(np.round(images * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    out = np.empty((len(pixels), size, size, 1), dtype=np.uint8)
    for i, image in enumerate(pixels):
        out[i, :, :, 0] = np.asarray(Image.fromarray(image, mode="L").resize((size, size), Image.BILINEAR))
    return out


@lru_cache(maxsize=4)
def _images(size: int) -> np.ndarray:
    images = upscale(_digits()[0], size)
    images.setflags(write=False)
    return images


def held_out(seed: int = SPLIT_SEED, size: int = IMAGE_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """The held-out images and labels: (N, size, size, 1) uint8 pixels 0-255 (as `image_dataset_from_directory`
    reads the written PNG files, before any rescaling) and (N,) labels 0-9."""
    idx = split(seed).held_out
    return _images(size)[idx].copy(), _digits()[1][idx].copy()


def student_images(seed: int = SPLIT_SEED, size: int = IMAGE_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """The images and labels `write_image_folder` writes, in index order."""
    idx = split(seed).train
    return _images(size)[idx].copy(), _digits()[1][idx].copy()


def png_bytes(image: np.ndarray) -> bytes:
    """One (H, W) or (H, W, 1) uint8 image as greyscale PNG bytes (lossless: reading them gives the pixels back)."""
    from PIL import Image

    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim != 2 or image.dtype != np.uint8:
        raise ValueError(f"expected one uint8 greyscale image, got shape {image.shape}, dtype {image.dtype}")
    buffer = io.BytesIO()
    Image.fromarray(image, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def file_name(index: int) -> str:
    """The file name of source image `index`: its position in `load_digits()`, e.g. `0042.png`."""
    return f"{index:04d}.png"


def write_image_folder(output_dir: str | os.PathLike, seed: int = SPLIT_SEED, size: int = IMAGE_SIZE) -> Path:
    """Write the student's images as `<output_dir>/capstone/train/<class>/<index>.png` and return
    `<output_dir>/capstone`.

    Each file is written atomically, and only when it is missing or differs; PNG files in the class folders that
    are not part of the split (from an older split, or a held-out image copied in) are removed. A manifest,
    `capstone.json`, records the source, the split and the counts.
    """
    folder = Path(output_dir) / FOLDER_NAME
    train_dir = folder / TRAIN_FOLDER
    idx = split(seed).train
    images, y = _images(size), _digits()[1]
    wanted: set[Path] = set()
    written = 0
    for i in idx:
        path = train_dir / str(int(y[i])) / file_name(int(i))
        wanted.add(path)
        data = png_bytes(images[i])
        if path.is_file() and path.read_bytes() == data:
            continue
        atomic_write(path, lambda fh, data=data: fh.write(data))
        written += 1
    for stale in train_dir.glob("*/*.png"):
        if stale not in wanted:
            stale.unlink()
    counts = {str(d): int(np.sum(y[idx] == d)) for d in range(NUM_CLASSES)}
    manifest = {"source": "sklearn.datasets.load_digits (8 x 8, values 0-16)", "image_size": [size, size],
                "color_mode": "grayscale", "split_seed": seed, "held_out_fraction": HELD_OUT_FRACTION,
                "n_train_folder": int(len(idx)), "n_held_out": int(len(split(seed).held_out)),
                "class_counts": counts, "layout": f"{TRAIN_FOLDER}/<class>/<index>.png"}
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file() or json.loads(manifest_path.read_text(encoding="utf-8")) != manifest:
        write_json_atomic(manifest_path, manifest)
    return folder


def class_counts(folder: str | os.PathLike) -> dict[str, int]:
    """The number of PNG files in each class folder of `<folder>/train`, by class name."""
    train_dir = Path(folder) / TRAIN_FOLDER
    return {d.name: len(list(d.glob("*.png"))) for d in sorted(train_dir.iterdir()) if d.is_dir()}
