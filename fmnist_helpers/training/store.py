"""The saved-run store: where a run is saved, the fingerprint that says which settings and data made it, the
record that vouches for its files, and the checks before a saved run is reused.

A saved run is trusted only when it verifies. The record (JSON) holds the size and SHA-256 of the model file and
of the probabilities file; `check_files` compares both before anything is loaded, so a swapped, truncated or
half-written file is never used. Every failed check raises `UnusableRun`, whose text is one line naming the file
and the reason; the caller trains again and shows that line.

Saving removes the old record first, then writes the model and the probabilities under unique temporary names
(each renamed into place once complete), and the record last: a kill at any point leaves either a complete,
verifiable run or none, and two processes saving the same name never share a temporary file.

The fingerprint covers the model's architecture and recipe, the split, the seed, the profile and the content
(SHA-256) of every training, validation and test image and label, so a run is never reused for other data.

Usage:
    paths = model_paths("build/quick", "wits_cnn")   # model, record and probabilities files
    key = fingerprint(settings)                       # 16 hex digits
    record = save_run(paths, model, proba, record)   # the record as written, with its files' sizes and SHA-256
    run = load_trained("build/quick", "wits_cnn")    # the verified TrainResult, or None (saying why)
    record = read_record(paths["record"])            # raises UnusableRun if missing or unreadable
    check_files(record, paths)                       # raises UnusableRun on any size or SHA-256 mismatch
    proba = load_proba(paths["proba"], (10_000, 10))
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from fmnist_helpers.base.atomic import atomic_write, write_json_atomic
from fmnist_helpers.base.results import to_jsonable
from fmnist_helpers.data.splits import Split
from fmnist_helpers.models.registry import ModelSpec, get_spec
from fmnist_helpers.training.history import COLUMNS, kept_epoch

FILE_ROLES = ("model", "proba")  # the files a record vouches for, as keys of the paths dict
RECORD_VERSION = 2  # 2: the record holds its files' SHA-256 and the data's content hashes
SPLIT_ARRAYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")


@dataclass
class TrainResult:
    """A trained (or reloaded) model with its record, history and test-set probabilities."""

    name: str
    spec: ModelSpec
    model: Any
    record: dict[str, Any]
    test_proba: np.ndarray
    reused: bool

    @property
    def history(self) -> pd.DataFrame:
        """Per-epoch metrics as a tidy DataFrame with columns epoch, split, metric, value."""
        return pd.DataFrame(self.record["history"], columns=COLUMNS)

    @property
    def test_accuracy(self) -> float:
        return self.record["test_accuracy"]

    @property
    def test_predictions(self) -> np.ndarray:
        return self.test_proba.argmax(axis=1)


class UnusableRun(Exception):
    """A saved run that must not be used; `str()` is the one-line reason, naming the file."""


class OtherSettings(UnusableRun):
    """A saved run that is intact but was made with other settings or data (normal: train again)."""


# ---------------------------------------------------------------- hashing, fingerprints and paths


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


def indices_sha256(indices: np.ndarray) -> str:
    """The SHA-256 (hex) of a split's training-set indices (their bytes only; a search folder's fingerprint)."""
    return hashlib.sha256(indices.tobytes()).hexdigest()


def fingerprint(settings: dict[str, Any]) -> str:
    """A short hash of everything that determines a training run (or a search)."""
    return hashlib.sha256(json.dumps(to_jsonable(settings), sort_keys=True).encode()).hexdigest()[:16]


def architecture_signature(model) -> str:
    """A hash of the model's layers and their settings (layer names left out: Keras numbers them per session)."""
    layers = []
    for layer in model.layers:
        config = {k: v for k, v in layer.get_config().items() if k != "name"}
        layers.append([type(layer).__name__, config])
    return hashlib.sha256(json.dumps(to_jsonable(layers), sort_keys=True, default=str).encode()).hexdigest()[:16]


_DATA_SIGNATURES: dict[int, dict[str, str]] = {}


def data_signature(split: Split) -> dict[str, str]:
    """The SHA-256 of the content of the split's six arrays (train, validation and test images and labels).

    It tells any two datasets apart (MNIST from Fashion-MNIST, inverted images from plain ones) even where
    labels and indices agree. Computed once per Split object (some 30 ms for the full data set on one CPU
    core); a split's arrays are taken as fixed once it has been used for training.
    """
    found = _DATA_SIGNATURES.get(id(split))
    if found is None:
        found = {role: array_sha256(getattr(split, role)) for role in SPLIT_ARRAYS}
        _DATA_SIGNATURES[id(split)] = found
        weakref.finalize(split, _DATA_SIGNATURES.pop, id(split), None)
    return found


def model_paths(output_dir: str | os.PathLike, name: str) -> dict[str, Path]:
    """Where a trained model, its record and its test probabilities are saved."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"model name must be a plain name like 'wits_cnn', got {name!r}")
    folder = Path(output_dir) / "models"
    return {"model": folder / f"{name}.keras", "record": folder / f"{name}.json",
            "proba": folder / f"{name}.test_proba.npy"}


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


def make_record(spec: ModelSpec, name: str, key: str, settings: dict[str, Any], parameters: int,
                history: pd.DataFrame, epoch_times: list[float], train_time: float, data: Split,
                scores: dict[str, Any]) -> dict[str, Any]:
    """The record of a finished run: its settings, sizes, history, timings and scores (`scores`: test accuracy
    and loss, the accuracy without test-time augmentation, and whether it was used)."""
    val_acc, train_acc = (history.query(f"split == '{s}' and metric == 'accuracy'").set_index("epoch")["value"]
                          for s in ("validation", "train"))
    model_epoch = kept_epoch(history, spec.recipe)
    n_train = len(data.y_train)
    steady = epoch_times[1:] or epoch_times  # the first epoch also builds the graph
    return {**to_jsonable({
        "version": RECORD_VERSION, "name": name, "key": spec.key, "study": spec.study, "kind": spec.kind,
        "title": spec.title, "fingerprint": key, **settings, "parameters": parameters,
        "reported_params": spec.reported_params, "reported": spec.reported,
        "epochs_run": int(history["epoch"].max()), "best_epoch": model_epoch,
        "val_accuracy": float(val_acc[model_epoch]), "max_val_accuracy": float(val_acc.max()),
        "final_train_accuracy": float(train_acc.iloc[-1]), "final_val_accuracy": float(val_acc.iloc[-1]),
        "test_accuracy": scores["test_accuracy"], "test_loss": scores["test_loss"], "n_train": n_train,
        "n_val": len(data.y_val), "n_test": len(data.y_test), "train_time_s": round(train_time, 2),
        "epoch_times_s": [round(t, 3) for t in epoch_times],
        "images_per_second": n_train * len(steady) / sum(steady) if sum(steady) else None,
        "history": history.to_dict(orient="split")["data"],
    }), "test_accuracy_without_tta": scores["test_accuracy_without_tta"], "flip_tta": scores["flip_tta"],
        **({"shift_tta": True} if scores.get("shift_tta") else {})}


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

    from fmnist_helpers.models.layers import FusedBatchNormalization  # noqa: F401  (registers it for loading)

    try:
        return keras.models.load_model(path, compile=False)
    except Exception as e:  # Keras raises many kinds here (ValueError, OSError, zipfile errors, ...)
        raise UnusableRun(f"{path} cannot be loaded ({_one_line(e)})") from None


def _record_field(record: dict[str, Any], field: str, path: Path) -> Any:
    if field not in record:
        raise UnusableRun(f"{path} lacks the field {field!r}")
    return record[field]


def verified_run(output_dir: str | os.PathLike, name: str, expected: str | None = None,
                 spec: ModelSpec | None = None) -> TrainResult | None:
    """The saved run `name` once every check passes; None when nothing is saved under that name.

    Raises `OtherSettings` when its fingerprint differs from `expected`, and `UnusableRun` (one line naming the
    file) when any file is missing, unreadable, of the wrong shape, or does not match the record.
    """
    paths = model_paths(output_dir, name)
    if not any(p.exists() for p in paths.values()):
        return None
    record = read_record(paths["record"])
    version = record.get("version")
    if version != RECORD_VERSION:
        raise OtherSettings(f"{paths['record']} has record version {version!r}; this code reads "
                            f"{RECORD_VERSION} (written by an older version)")
    if expected is not None and record.get("fingerprint") != expected:
        raise OtherSettings(f"{paths['record']} was made with other settings or data "
                            f"(fingerprint {record.get('fingerprint')}, now {expected})")
    check_files(record, paths)
    n_test, classes = (_record_field(record, f, paths["record"]) for f in ("n_test", "num_classes"))
    proba = load_proba(paths["proba"], (n_test, classes))
    key = _record_field(record, "key", paths["record"])
    if spec is None or spec.key != key:
        try:
            spec = get_spec(key)
        except (KeyError, ValueError):
            raise UnusableRun(f"{paths['record']} names model {key!r}, which is not in the registry "
                              "(pass its spec)") from None
    model = load_model_file(paths["model"])
    architecture, parameters = architecture_signature(model), int(model.count_params())
    if architecture != record.get("architecture") or parameters != record.get("parameters"):
        raise UnusableRun(f"{paths['model']} holds another architecture ({parameters:,} parameters, "
                          f"signature {architecture}) than its record ({record.get('parameters')!r} "
                          f"parameters, signature {record.get('architecture')})")
    return TrainResult(name, spec, model, record, proba, reused=True)


def load_trained(output_dir: str | os.PathLike, name: str, expected: str | None = None,
                 spec: ModelSpec | None = None, say: Callable[[str], Any] | None = print) -> TrainResult | None:
    """A saved run by name once it verifies, or None: when there is none, when its fingerprint differs from
    `expected`, or when any check fails (then `say` gets one line naming the file and the reason).

    `spec` is the model's spec when it is not in the registry (e.g. a search winner).
    """
    try:
        return verified_run(output_dir, name, expected, spec)
    except UnusableRun as why:
        if say is not None:
            say(f"{name}: the saved run is not used: {why}")
        return None


def find_saved(output_dir: str | os.PathLike, names: Sequence[str], expected: str, spec: ModelSpec,
               say: Callable[[str], Any]) -> TrainResult | None:
    """The first of `names` whose saved run verifies with fingerprint `expected`, or None.

    A damaged run is reported whichever name it is under; other settings only under the first name (the others
    are just places to look).
    """
    for i, name in enumerate(dict.fromkeys(names)):
        try:
            found = verified_run(output_dir, name, expected, spec)
        except OtherSettings as why:
            if i == 0:
                say(f"{name}: the saved run is not used: {why}")
            continue
        except UnusableRun as why:
            say(f"{name}: the saved run is not used: {why}")
            continue
        if found is not None:
            return found
    return None
