"""The saved-run store: a model file, its test-set probabilities, and a record that vouches for both.

A saved run is trusted only when it verifies. The record (JSON) holds the size and SHA-256 of the model file and
of the probabilities file; `check_files` compares both before anything is loaded, so a swapped, truncated or
half-written file is never used. Every failed check raises `UnusableRun`, whose text is one line naming the file
and the reason; the caller trains again and shows that line.

Saving removes the old record first, then writes the model and the probabilities under unique temporary names
(each renamed into place once complete), and the record last: a kill at any point leaves either a complete,
verifiable run or none, and two processes saving the same name never share a temporary file.

Usage:
    record = save_run(paths, model, proba, record)   # the record as written, with its files' sizes and SHA-256
    record = read_record(paths["record"])            # raises UnusableRun if missing or unreadable
    check_files(record, paths)                       # raises UnusableRun on any size or SHA-256 mismatch
    proba = load_proba(paths["proba"], (10_000, 10))
    model = load_model_file(paths["model"])
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from fmnist_helpers.base.atomic import atomic_write, write_json_atomic

FILE_ROLES = ("model", "proba")  # the files a record vouches for, as keys of the paths dict


class UnusableRun(Exception):
    """A saved run that must not be used; `str()` is the one-line reason, naming the file."""


class OtherSettings(UnusableRun):
    """A saved run that is intact but was made with other settings or data (normal: train again)."""


# ---------------------------------------------------------------- hashing


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 (hex) of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def array_sha256(array: np.ndarray) -> str:
    """The SHA-256 (hex) of an array's content, dtype and shape (so a reshaped copy hashes differently)."""
    a = np.ascontiguousarray(array)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(memoryview(a).cast("B"))
    return h.hexdigest()


# ---------------------------------------------------------------- writing


def _file_entry(digest: str, size: int) -> dict[str, Any]:
    return {"sha256": digest, "bytes": size}


def remove_record(path: Path) -> None:
    """Delete a record (first step of a save: from here on the old files no longer count as a run)."""
    path.unlink(missing_ok=True)


def write_model(model: Any, path: Path) -> dict[str, Any]:
    """Save a Keras model as `path` through a unique temporary `.keras` file beside it (removed on any failure).

    Returns the file's record entry: {"sha256", "bytes"}.
    """
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp.keras")
    os.close(fd)
    tmp = Path(name)
    try:
        model.save(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; saved runs are meant to be read by others
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        entry = _file_entry(file_sha256(tmp), tmp.stat().st_size)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return entry


def write_proba(proba: np.ndarray, path: Path) -> dict[str, Any]:
    """Save test-set probabilities as `.npy`, atomically. Returns the file's record entry: {"sha256", "bytes"}."""
    buffer = io.BytesIO()
    np.save(buffer, proba, allow_pickle=False)
    data = buffer.getvalue()
    atomic_write(path, lambda fh: fh.write(data))
    return _file_entry(hashlib.sha256(data).hexdigest(), len(data))


def write_record(path: Path, record: dict[str, Any]) -> None:
    """Write the record, atomically (the last step of a save: it marks the run as complete)."""
    write_json_atomic(path, record)


def save_run(paths: dict[str, Path], model: Any, proba: np.ndarray, record: dict[str, Any]) -> dict[str, Any]:
    """Save a run: old record out, model and probabilities in, record (with their sizes and SHA-256) last.

    Returns the record as written (`record` plus a "files" entry).
    """
    paths["record"].parent.mkdir(parents=True, exist_ok=True)
    remove_record(paths["record"])
    files = {"model": write_model(model, paths["model"]), "proba": write_proba(proba, paths["proba"])}
    record = {**record, "files": files}
    write_record(paths["record"], record)
    return record


# ---------------------------------------------------------------- reading and checking


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200]}" if text else type(error).__name__


def read_record(path: Path) -> dict[str, Any]:
    """The record at `path`; UnusableRun if it is missing, unreadable or not a JSON object."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UnusableRun(f"{path} is missing (an interrupted save?)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UnusableRun(f"{path} is unreadable ({_one_line(e)})") from None
    if not isinstance(record, dict):
        raise UnusableRun(f"{path} holds {type(record).__name__}, not a record (a JSON object)")
    return record


def check_files(record: dict[str, Any], paths: dict[str, Path]) -> None:
    """UnusableRun unless the model and probabilities files have the size and SHA-256 their record holds."""
    files = record.get("files")
    for role in FILE_ROLES:
        path = paths[role]
        entry = files.get(role) if isinstance(files, dict) else None
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            raise UnusableRun(f"{paths['record']} holds no SHA-256 for {path.name}")
        if not path.is_file():
            raise UnusableRun(f"{path} is missing")
        size = path.stat().st_size
        if size != entry.get("bytes"):
            raise UnusableRun(f"{path} has {size:,} bytes where its record {paths['record'].name} says "
                              f"{entry.get('bytes')!r} (truncated or replaced)")
        digest = file_sha256(path)
        if digest != entry["sha256"]:
            raise UnusableRun(f"{path} does not match its record {paths['record'].name} (SHA-256 {digest[:12]}..., "
                              f"recorded {entry['sha256'][:12]}...: replaced or changed after saving)")


def load_proba(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """Test-set probabilities of the given shape (images x classes), finite floats; else UnusableRun."""
    try:
        proba = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise UnusableRun(f"{path} is unreadable ({_one_line(e)})") from None
    if proba.shape != tuple(shape):
        raise UnusableRun(f"{path} holds shape {proba.shape}; its record expects {tuple(shape)} "
                          "(test images x classes)")
    if not np.issubdtype(proba.dtype, np.floating) or not np.isfinite(proba).all():
        raise UnusableRun(f"{path} holds {proba.dtype} values that are not all finite probabilities")
    return proba


def load_model_file(path: Path) -> Any:
    """The Keras model saved at `path` (uncompiled); UnusableRun if Keras cannot load it."""
    import keras

    try:
        return keras.models.load_model(path, compile=False)
    except Exception as e:  # Keras raises many kinds here (ValueError, OSError, zipfile errors, ...)
        raise UnusableRun(f"{path} cannot be loaded ({_one_line(e)})") from None
