"""Shared fixtures: a tiny generated dataset in real IDX files, a loopback HTTP mirror, and the real data."""
from __future__ import annotations

import gzip
import hashlib
import http.server
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from fmnist_helpers.data import datasets as data
from fmnist_helpers.data.datasets import DATASETS, Dataset, DatasetSpec, FileSpec
from fmnist_helpers.data.idx import encode_idx
from fmnist_helpers.base.paths import DATA_DIR_ENV

ROLES = {"x_train": ("train-images-idx3-ubyte", 2051), "y_train": ("train-labels-idx1-ubyte", 2049),
         "x_test": ("t10k-images-idx3-ubyte", 2051), "y_test": ("t10k-labels-idx1-ubyte", 2049)}


@dataclass
class TinyData:
    """A generated 10-class dataset registered as `tiny`, with helpers to write its files anywhere."""

    spec: DatasetSpec
    arrays: dict[str, np.ndarray]
    raw: dict[str, bytes]
    default_dir: Path

    def write(self, folder: Path, gz: bool = True, roles=None) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for role in roles or ROLES:
            name = ROLES[role][0]
            if gz:
                (folder / f"{name}.gz").write_bytes(gzip.compress(self.raw[role]))
            else:
                (folder / name).write_bytes(self.raw[role])
        return folder


@pytest.fixture
def tiny(tmp_path, monkeypatch) -> TinyData:
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (60, 28, 28), dtype=np.uint8),
        "y_train": (np.arange(60) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "y_test": (np.arange(20) % 10).astype(np.uint8),
    }
    raw = {role: encode_idx(a) for role, a in arrays.items()}
    files = {role: FileSpec(ROLES[role][0], ROLES[role][1], arrays[role].shape, hashlib.sha256(raw[role]).hexdigest())
             for role in ROLES}
    spec = DatasetSpec(key="tiny", title="Tiny", files=files, class_names=tuple(f"c{i}" for i in range(10)),
                       mirrors=("http://127.0.0.1:9/",), folder_names=("tiny-set",))
    default = tmp_path / "default-data"
    monkeypatch.setitem(DATASETS, "tiny", spec)
    monkeypatch.setattr(data, "default_data_dir", lambda: default)
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    return TinyData(spec, arrays, raw, default)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(tmp_path):
    """A loopback HTTP server over a temporary folder; yields (folder, base URL)."""
    root = tmp_path / "mirror"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def fashion() -> Dataset:
    """The real Fashion-MNIST (from $FMNIST_DATA_DIR in CI, verified by checksum)."""
    return data.load_dataset("fashion_mnist", progress=False)


@pytest.fixture(scope="session")
def mnist() -> Dataset:
    return data.load_dataset("mnist", progress=False)


def synthetic_dataset(n_train: int = 600, n_test: int = 100, seed: int = 0) -> Dataset:
    """An in-memory balanced dataset for split and preprocessing tests."""
    rng = np.random.default_rng(seed)
    return Dataset("synthetic", rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
                   (np.arange(n_train) % 10).astype(np.uint8), rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
                   (np.arange(n_test) % 10).astype(np.uint8), tuple(f"c{i}" for i in range(10)), Path("."))


def write_course_notebook(folder: Path, name: str, parameters: str, *cells: str) -> Path:
    """Write `folder/<name>.ipynb`: a `parameters` cell with `parameters`, then one code cell per source."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    params = new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(new_notebook(cells=[params, *(new_code_cell(c) for c in cells)], metadata=kernel), path)
    return path


BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str):
    """Import `benchmarks/<name>.py` as a module (the benchmarks are scripts, not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
