"""Faults in the data loader: a tampered cache, a decompression bomb, an IDX header that overflows.

Each test uses the small generated `tiny` dataset of `tests/conftest.py`, never the real files.
"""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from fmnist_helpers.data import datasets as data
from fmnist_helpers.data.datasets import DataFileError, load_dataset
from fmnist_helpers.data.idx import IDXFormatError, encode_idx, parse_idx


def _cache_file(tiny, stem: str, dataset_key: str = "tiny") -> Path:
    return tiny.default_dir / ".cache" / dataset_key / f"{stem}.npy"


def _load_twice_after(tiny, tmp_path, tamper) -> data.Dataset:
    """Load once to build the cache, tamper with it, load again; return the second load."""
    folder = tiny.write(tmp_path / "src")
    load_dataset("tiny", data_dir=folder, download=False)
    tamper()
    return load_dataset("tiny", data_dir=folder, download=False)


def _edit_cached_array(path: Path, edit) -> None:
    array = np.load(path)
    edit(array)
    np.save(path, array)


def _assert_one_line_naming(output: str, stem: str) -> None:
    lines = output.strip().splitlines()
    assert len(lines) == 1, lines
    assert f"{stem}.npy: not used" in lines[0] and "rebuilding it" in lines[0]


def test_edited_cache_pixels_are_detected_and_rebuilt_from_the_source(tiny, tmp_path, capsys):
    cached = _cache_file(tiny, "train-images-idx3-ubyte")

    def zero_pixels(images):
        images[:5] = 0

    ds = _load_twice_after(tiny, tmp_path, lambda: _edit_cached_array(cached, zero_pixels))
    assert np.array_equal(ds.x_train, tiny.arrays["x_train"])
    assert np.array_equal(np.load(cached), tiny.arrays["x_train"])
    _assert_one_line_naming(capsys.readouterr().out, "train-images-idx3-ubyte")


def test_edited_cache_labels_are_detected_and_rebuilt_from_the_source(tiny, tmp_path, capsys):
    cached = _cache_file(tiny, "t10k-labels-idx1-ubyte")

    def relabel(labels):
        labels[0] = (labels[0] + 1) % 10

    ds = _load_twice_after(tiny, tmp_path, lambda: _edit_cached_array(cached, relabel))
    assert np.array_equal(ds.y_test, tiny.arrays["y_test"])
    _assert_one_line_naming(capsys.readouterr().out, "t10k-labels-idx1-ubyte")


def _cache_another_dataset(tiny, tmp_path, monkeypatch) -> Path:
    """Register and load `other`, a dataset shaped like `tiny` with other train labels; return their cache file."""
    labels = ((np.arange(60) * 7 + 3) % 10).astype(np.uint8)
    raw = {**tiny.raw, "y_train": encode_idx(labels)}
    spec_file = dataclasses.replace(tiny.spec.files["y_train"], sha256=hashlib.sha256(raw["y_train"]).hexdigest())
    spec = dataclasses.replace(tiny.spec, key="other", title="Other", files={**tiny.spec.files, "y_train": spec_file})
    monkeypatch.setitem(data.DATASETS, "other", spec)
    folder = tmp_path / "other"
    folder.mkdir()
    for role, f in spec.files.items():
        (folder / f"{f.name}.gz").write_bytes(gzip.compress(raw[role]))
    assert np.array_equal(load_dataset("other", data_dir=folder, download=False).y_train, labels)
    return _cache_file(tiny, "train-labels-idx1-ubyte", dataset_key="other")


def test_another_datasets_labels_copied_into_the_cache_are_detected(tiny, tmp_path, monkeypatch, capsys):
    foreign = _cache_another_dataset(tiny, tmp_path, monkeypatch)
    capsys.readouterr()
    cached = _cache_file(tiny, "train-labels-idx1-ubyte")
    ds = _load_twice_after(tiny, tmp_path, lambda: cached.write_bytes(foreign.read_bytes()))
    assert np.array_equal(ds.y_train, tiny.arrays["y_train"])
    _assert_one_line_naming(capsys.readouterr().out, "train-labels-idx1-ubyte")


def test_a_cache_file_claiming_a_huge_shape_is_rebuilt_without_allocating_it(tiny, tmp_path, capsys):
    cached = _cache_file(tiny, "train-labels-idx1-ubyte")

    def claim_a_terabyte():
        with open(cached, "wb") as fh:
            np.lib.format.write_array_header_1_0(fh, {"descr": "|u1", "fortran_order": False, "shape": (2**40,)})
            fh.write(bytes(100))

    tracemalloc.start()
    try:
        ds = _load_twice_after(tiny, tmp_path, claim_a_terabyte)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, f"{peak:,} bytes allocated for a 228-byte cache file"
    assert np.array_equal(ds.y_train, tiny.arrays["y_train"])
    _assert_one_line_naming(capsys.readouterr().out, "train-labels-idx1-ubyte")


def test_a_gzip_bomb_is_stopped_at_the_expected_size_with_bounded_memory(tiny, tmp_path):
    folder = tiny.write(tmp_path / "bomb")
    chunk = bytes(1 << 20)
    with gzip.open(folder / "train-images-idx3-ubyte.gz", "wb") as fh:  # 32 MiB of zeros in about 32 KB
        for _ in range(32):
            fh.write(chunk)
    tracemalloc.start()
    try:
        with pytest.raises(DataFileError) as err:
            load_dataset("tiny", data_dir=folder, download=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, f"{peak:,} bytes allocated while reading a 32 MiB bomb"
    expected = 16 + 60 * 28 * 28  # the IDX header of 3 dimensions, then one byte per pixel
    assert f"train-images-idx3-ubyte.gz: decompresses to more than the expected {expected:,} bytes" in str(err.value)


@pytest.mark.parametrize("dims", [
    (65536, 65536, 65536, 65536),  # 2**64 values: an int64 product wraps round to 0
    (0, 2**32 - 1, 2**32 - 1),  # no values, but sizes numpy cannot hold
    (0,) + (1,) * 64,  # 65 dimensions, more than numpy allows
], ids=["product-wraps-to-zero", "empty-but-huge", "too-many-dimensions"])
def test_idx_dimensions_that_overflow_raise_the_parsers_own_error(dims):
    raw = bytes([0, 0, 8, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
    with pytest.raises(IDXFormatError, match=r"^bad\.idx: .*accepted"):
        parse_idx(raw, name="bad.idx")

