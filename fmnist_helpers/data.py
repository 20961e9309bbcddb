"""Load MNIST and Fashion-MNIST from their official IDX files, verified, offline-first, cached.

Where the files are looked for, in order:
1. the `data_dir` argument,
2. the folder in the environment variable `FMNIST_DATA_DIR`,
3. `data/<dataset>/` in the project (`~/.cache/fmnist_helpers/data/<dataset>/` for an installed package).
Each folder may hold the four files itself or in a sub-folder named after the dataset
(`fashion_mnist` or `fashion-mnist`, `mnist`); files may be gzipped or not. If no folder has them,
the official files are downloaded into folder 3 (unless `download=False`).

Every file is checked against the SHA-256 of its *decompressed* content, so any faithful copy
works whatever its gzip wrapper. The verified arrays are cached as `.npy` files under
`<default data folder>/.cache/<dataset>/`, keyed on each source file's path, size and modification
time, so later loads skip decompression and hashing (milliseconds instead of about a second).

Usage:
    ds = load_dataset("fashion_mnist")
    ds.x_train.shape, ds.y_train.shape, ds.class_names[ds.y_train[0]]  # (60000, 28, 28) (60000,) 'Ankle boot'
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .atomic import atomic_write, write_json_atomic
from .download import DownloadError, download_file
from .idx import IDXFormatError, parse_idx
from .paths import DATA_DIR_ENV, default_data_dir


class DataFileError(ValueError):
    """A dataset file is missing, unreadable, corrupted or not the official one."""


@dataclass(frozen=True)
class FileSpec:
    """One official IDX file: its name, IDX magic, shape and decompressed SHA-256."""

    name: str
    magic: int
    shape: tuple[int, ...]
    sha256: str


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset's four files, its class names, folder names and download mirrors."""

    key: str
    title: str
    files: dict[str, FileSpec]  # roles: x_train, y_train, x_test, y_test
    class_names: tuple[str, ...]
    mirrors: tuple[str, ...]
    folder_names: tuple[str, ...] = ()

    @property
    def folders(self) -> tuple[str, ...]:
        return (self.key, *self.folder_names)


def _files(train_img: str, train_lbl: str, test_img: str, test_lbl: str) -> dict[str, FileSpec]:
    return {
        "x_train": FileSpec("train-images-idx3-ubyte", 2051, (60000, 28, 28), train_img),
        "y_train": FileSpec("train-labels-idx1-ubyte", 2049, (60000,), train_lbl),
        "x_test": FileSpec("t10k-images-idx3-ubyte", 2051, (10000, 28, 28), test_img),
        "y_test": FileSpec("t10k-labels-idx1-ubyte", 2049, (10000,), test_lbl),
    }


DATASETS: dict[str, DatasetSpec] = {
    "fashion_mnist": DatasetSpec(
        key="fashion_mnist",
        title="Fashion-MNIST",
        files=_files(
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
        class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        mirrors=(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        folder_names=("fashion-mnist", "fashion"),
    ),
    "mnist": DatasetSpec(
        key="mnist",
        title="MNIST",
        files=_files(
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ),
        class_names=tuple(str(d) for d in range(10)),
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
    ),
}


@dataclass(frozen=True)
class Dataset:
    """Train and test images (uint8, N x 28 x 28) and labels (uint8) in the official order."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: Path = field(compare=False)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def dataset_spec(name: str) -> DatasetSpec:
    """The spec of a dataset by key; a clear error lists the accepted keys."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; accepted: {', '.join(map(repr, DATASETS))}")
    return DATASETS[name]


# ---------------------------------------------------------------- finding the files

def _find_file(folder: Path, spec: FileSpec) -> Path | None:
    for candidate in (folder / f"{spec.name}.gz", folder / spec.name):
        if candidate.is_file():
            return candidate
    return None


def _candidate_folders(spec: DatasetSpec, data_dir: str | os.PathLike | None) -> list[tuple[str, Path]]:
    roots: list[tuple[str, Path]] = []
    if data_dir is not None:
        roots.append(("data_dir argument", Path(data_dir)))
    if os.environ.get(DATA_DIR_ENV):
        roots.append((f"${DATA_DIR_ENV}", Path(os.environ[DATA_DIR_ENV])))
    roots.append(("default data folder", default_data_dir()))
    folders = []
    for label, root in roots:
        folders.append((label, root))
        folders.extend((label, root / sub) for sub in spec.folders)
    return folders


def locate_files(spec: DatasetSpec, data_dir: str | os.PathLike | None = None) -> dict[str, Path] | None:
    """The first folder holding all four files, as {role: path}; None if no folder has any of them.

    A folder with only some of the files is an error: it usually means an interrupted copy.
    """
    for label, folder in _candidate_folders(spec, data_dir):
        found = {role: _find_file(folder, f) for role, f in spec.files.items()}
        present = {role: p for role, p in found.items() if p is not None}
        if len(present) == len(spec.files):
            return present
        if present:
            missing = [spec.files[r].name for r in spec.files if r not in present]
            raise DataFileError(
                f"{spec.title}: {folder} ({label}) holds only some of the dataset files; missing: "
                f"{', '.join(missing)} (.gz or uncompressed). Add them, or remove the partial set."
            )
    return None


def _not_found_message(spec: DatasetSpec, data_dir, reason: str) -> str:
    looked = "\n".join(f"  - {folder} ({label})" for label, folder in _candidate_folders(spec, data_dir))
    names = ", ".join(f"{f.name}.gz" for f in spec.files.values())
    return (
        f"{spec.title} files not found and {reason}.\n"
        f"Needed: {names} (gzipped or not).\n"
        f"Looked in:\n{looked}\n"
        f"Put the files in {default_data_dir() / spec.key}, or set {DATA_DIR_ENV} to the folder that holds them."
    )


# ---------------------------------------------------------------- verifying and decoding

GZIP_MAGIC = b"\x1f\x8b"
KEEP_ADVICE = "Replace it with the official file (it was left untouched)."


def _read_decompressed(path: Path) -> bytes:
    """The file's bytes, gunzipped when they start with the gzip magic (whatever the file's name)."""
    try:
        with open(path, "rb") as fh:
            gzipped = fh.read(2) == GZIP_MAGIC
        if gzipped:
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as err:
        raise DataFileError(f"{path}: cannot be decompressed ({err}); the file is truncated or corrupted.") from err


def _identify(digest: str) -> str | None:
    for ds in DATASETS.values():
        for f in ds.files.values():
            if f.sha256 == digest:
                return f"the {ds.title} file {f.name}"
    return None


def read_verified(path: Path, spec: FileSpec, title: str = "") -> tuple[np.ndarray, str]:
    """Decompress, check the SHA-256 and the IDX header of one file; return (array, sha256)."""
    raw = _read_decompressed(path)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != spec.sha256:
        other = _identify(digest)
        what = f"it is {other}" if other else "it is corrupted, truncated or not the official file"
        raise DataFileError(
            f"{path}: content does not match the official {title} {spec.name} "
            f"(SHA-256 of the decompressed data is {digest[:16]}…, expected {spec.sha256[:16]}…): {what}."
        )
    try:
        array = parse_idx(raw, name=str(path), expected_magic=spec.magic, expected_shape=spec.shape)
    except IDXFormatError as err:  # only reachable when a spec's checksum and header disagree
        raise DataFileError(str(err)) from err
    return array, digest


# ---------------------------------------------------------------- the .npy cache

def cache_paths(source: Path, dataset_key: str) -> tuple[Path, Path]:
    """(array file, metadata file) of the cache for one source file.

    The cache always lives under the default data folder, never beside files in a folder the user
    pointed to, so a shared or read-only data folder is never written to.
    """
    folder = default_data_dir() / ".cache" / dataset_key
    stem = source.name.removesuffix(".gz")
    return folder / f"{stem}.npy", folder / f"{stem}.npy.json"


def _source_stamp(source: Path) -> dict:
    st = source.stat()
    return {"source": str(source.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _load_cached(source: Path, spec: FileSpec, dataset_key: str) -> np.ndarray | None:
    array_path, meta_path = cache_paths(source, dataset_key)
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("stamp") != _source_stamp(source) or meta.get("sha256") != spec.sha256:
            return None
        array = np.load(array_path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None  # no cache yet, or a damaged one: decode the source again
    if array.dtype != np.uint8 or array.shape != spec.shape:
        return None
    return array


def _store_cache(source: Path, spec: FileSpec, dataset_key: str, array: np.ndarray) -> None:
    array_path, meta_path = cache_paths(source, dataset_key)
    try:
        atomic_write(array_path, lambda fh: np.save(fh, array, allow_pickle=False))
        meta = {"stamp": _source_stamp(source), "sha256": spec.sha256}
        write_json_atomic(meta_path, meta)
    except OSError:
        pass  # a cache we cannot write only costs speed


def load_file(source: Path, spec: FileSpec, dataset_key: str, title: str = "") -> np.ndarray:
    """One verified array, from the cache when the source file is unchanged since it was verified."""
    cached = _load_cached(source, spec, dataset_key)
    if cached is not None:
        return cached
    try:
        array, _ = read_verified(source, spec, title)
    except DataFileError as err:
        raise DataFileError(f"{err} {KEEP_ADVICE}") from None
    _store_cache(source, spec, dataset_key, array)
    return array


# ---------------------------------------------------------------- the entry point

def load_dataset(
    name: str = "fashion_mnist",
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    progress: bool = True,
) -> Dataset:
    """Load a dataset's train and test arrays (see the module docstring for where files come from)."""
    spec = dataset_spec(name)
    paths = locate_files(spec, data_dir)
    if paths is None:
        if not download:
            raise DataFileError(_not_found_message(spec, data_dir, "downloading is switched off"))
        target = default_data_dir() / spec.key
        paths = {}
        try:
            for role, f in spec.files.items():
                paths[role] = download_file(
                    [m + f.name + ".gz" for m in spec.mirrors], target / f"{f.name}.gz",
                    verify=lambda p, f=f: read_verified(p, f, spec.title), progress=progress,
                )
        except DownloadError as err:
            raise DataFileError(_not_found_message(spec, data_dir, f"the download failed ({err})")) from err
    arrays = {role: load_file(paths[role], f, spec.key, spec.title) for role, f in spec.files.items()}
    return Dataset(name=spec.key, class_names=spec.class_names, source=paths["x_train"].parent, **arrays)
