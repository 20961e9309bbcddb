"""Load MNIST and Fashion-MNIST from their official IDX files, verified, offline-first, cached.

Where the files are looked for, in order:
1. the `data_dir` argument,
2. the folder in the environment variable `FMNIST_DATA_DIR`,
3. `data/<dataset>/` in the project (`~/.cache/fmnist_helpers/data/<dataset>/` for an installed package).
Each folder may hold the four files itself or in a sub-folder named after the dataset
(`fashion_mnist` or `fashion-mnist`, `mnist`); files may be gzipped or not. If no folder has them,
the official files are downloaded into folder 3 (unless `download=False`).

Every file is checked against the SHA-256 of its *decompressed* content, so any faithful copy
works whatever its gzip wrapper; decompression stops as soon as a file expands past the size its
shape allows, so a damaged or hostile file cannot fill the memory. The verified arrays are cached
as `.npy` files under `<default data folder>/.cache/<dataset>/`, keyed on each source file's path,
size and modification time. A cached array is trusted only when the official SHA-256 of its IDX
encoding matches again, so later loads skip decompression but not verification (tens of
milliseconds instead of about a second); a cache that fails is rebuilt from the source, with a
one-line message saying why.

Usage:
    ds = load_dataset("fashion_mnist")
    ds.x_train.shape, ds.y_train.shape, ds.class_names[ds.y_train[0]]  # (60000, 28, 28) (60000,) 'Ankle boot'
"""
from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from fmnist_helpers.base.atomic import atomic_write, write_json_atomic
from fmnist_helpers.data.download import DownloadError, download_file
from fmnist_helpers.data.idx import IDXFormatError, parse_idx
from fmnist_helpers.base.paths import DATA_DIR_ENV, default_data_dir


class DataFileError(ValueError):
    """A dataset file is missing, unreadable, corrupted or not the official one."""


@dataclass(frozen=True)
class FileSpec:
    """One official IDX file: its name, IDX magic, shape and decompressed SHA-256."""

    name: str
    magic: int
    shape: tuple[int, ...]
    sha256: str

    @property
    def header(self) -> bytes:
        """The file's IDX header: its magic number, then one 32-bit size per dimension."""
        return struct.pack(f">I{len(self.shape)}I", self.magic, *self.shape)

    @property
    def size(self) -> int:
        """The decompressed file's size in bytes: header plus one byte per value."""
        return len(self.header) + math.prod(self.shape)


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
CHUNK = 1 << 20  # bytes decompressed and hashed per step


def _read_bounded(fh: BinaryIO, path: Path, limit: int, verb: str) -> tuple[bytearray, str]:
    """Read at most `limit` bytes from `fh`, hashing as they come; one byte more is an error."""
    buffer = bytearray(limit + 1)
    view = memoryview(buffer)
    hasher = hashlib.sha256()
    total = 0
    while total <= limit:
        n = fh.readinto(view[total:min(total + CHUNK, limit + 1)])
        if not n:
            break
        hasher.update(view[total:total + n])
        total += n
    view.release()
    if total > limit:
        raise DataFileError(
            f"{path}: {verb} more than the expected {limit:,} bytes (IDX header plus data for its "
            f"shape); stopped reading there: the file is not the official one (or is a decompression bomb)."
        )
    del buffer[total:]
    return buffer, hasher.hexdigest()


def _read_decompressed(path: Path, limit: int) -> tuple[bytearray, str]:
    """(bytes, SHA-256) of the file, gunzipped when it starts with the gzip magic (whatever its name).

    At most `limit` bytes are decompressed: a file that expands further raises DataFileError at once.
    """
    try:
        with open(path, "rb") as fh:
            gzipped = fh.read(2) == GZIP_MAGIC
            fh.seek(0)
            if not gzipped:
                return _read_bounded(fh, path, limit, "holds")
        with gzip.open(path, "rb") as fh:
            return _read_bounded(fh, path, limit, "decompresses to")
    except (OSError, EOFError, zlib.error) as err:
        raise DataFileError(f"{path}: cannot be decompressed ({err}); the file is truncated or corrupted.") from err


def _identify(digest: str) -> str | None:
    for ds in DATASETS.values():
        for f in ds.files.values():
            if f.sha256 == digest:
                return f"the {ds.title} file {f.name}"
    return None


def read_verified(path: Path, spec: FileSpec, title: str = "") -> tuple[np.ndarray, str]:
    """Decompress (at most `spec.size` bytes), check the SHA-256 and the IDX header; return (array, sha256)."""
    raw, digest = _read_decompressed(path, spec.size)
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


def encoded_sha256(array: np.ndarray, spec: FileSpec) -> str:
    """The SHA-256 of `array` written as the IDX file `spec` describes (comparable to `spec.sha256`)."""
    hasher = hashlib.sha256(spec.header)
    hasher.update(np.ascontiguousarray(array).data)
    return hasher.hexdigest()


def _load_cached(source: Path, spec: FileSpec, dataset_key: str) -> tuple[np.ndarray | None, str]:
    """(the cached array, "") when it verifies; else (None, why it cannot be used, "" when there is no cache)."""
    array_path, meta_path = cache_paths(source, dataset_key)
    if not meta_path.exists():
        return None, ""  # no cache yet (or its writing was interrupted before the metadata)
    try:
        meta = json.loads(meta_path.read_text())
        stamp, now = meta.get("stamp") or {}, _source_stamp(source)
        if stamp.get("source") != now["source"]:
            return None, f"it was made from {stamp.get('source')}"
        if stamp != now:
            return None, "the source file changed since (size or modification time)"
        if meta.get("sha256") != spec.sha256:
            return None, "it was made for another official file"
        mapped = np.load(array_path, mmap_mode="r", allow_pickle=False)  # header checked before any data is read
        if mapped.dtype != np.uint8 or mapped.shape != spec.shape:
            return None, f"it holds {mapped.dtype} {mapped.shape}, expected uint8 {spec.shape}"
        array = np.array(mapped)
        del mapped
    except (OSError, ValueError, EOFError, AttributeError) as err:
        return None, f"it cannot be read ({err})"
    if encoded_sha256(array, spec) != spec.sha256:
        return None, "its content no longer matches the official SHA-256 (edited or corrupted)"
    return array, ""


def _store_cache(source: Path, spec: FileSpec, dataset_key: str, array: np.ndarray) -> None:
    array_path, meta_path = cache_paths(source, dataset_key)
    try:
        meta_path.unlink(missing_ok=True)  # the metadata vouches for the array: never beside a half-replaced one
        atomic_write(array_path, lambda fh: np.save(fh, array, allow_pickle=False))
        meta = {"stamp": _source_stamp(source), "sha256": spec.sha256}
        write_json_atomic(meta_path, meta)
    except OSError:
        pass  # a cache we cannot write only costs speed


def load_file(source: Path, spec: FileSpec, dataset_key: str, title: str = "") -> np.ndarray:
    """One verified array: from the cache when it still matches the official SHA-256, else from the source."""
    cached, why = _load_cached(source, spec, dataset_key)
    if cached is not None:
        return cached
    if why:
        print(f"{cache_paths(source, dataset_key)[0]}: not used, {why}; rebuilding it from {source}.")
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
