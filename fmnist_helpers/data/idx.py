"""Read the IDX format of MNIST and Fashion-MNIST, checking every header field.

An IDX file is a big-endian header (two zero bytes, a type code, the number of dimensions,
then one 32-bit size per dimension) followed by the data in row-major order. The four files
of each dataset use type 0x08 (unsigned byte): magic 2051 for images (3 dims), 2049 for labels.

Usage:
    images = parse_idx(raw_bytes, name="train-images-idx3-ubyte")  # -> uint8 array (N, 28, 28)
"""
from __future__ import annotations

import math
import struct

import numpy as np

UBYTE = 0x08
MAX_DIMS = 32  # numpy 1.x's limit (numpy 2 allows 64); the dataset files have 1 or 3
MAX_VALUES = int(np.iinfo(np.intp).max)  # numpy refuses shapes whose non-zero sizes multiply past this


class IDXFormatError(ValueError):
    """The bytes are not a well-formed IDX file of the expected kind."""


def parse_idx(
    raw: bytes,
    name: str = "IDX data",
    expected_magic: int | None = None,
    expected_shape: tuple[int, ...] | None = None,
) -> np.ndarray:
    """Decode IDX bytes into a read-only-safe uint8 array, checking magic, dimensions and length."""
    if len(raw) < 4:
        raise IDXFormatError(f"{name}: only {len(raw)} bytes, too short for an IDX header")
    magic = struct.unpack(">I", raw[:4])[0]
    zeros, type_code, ndim = raw[0] | raw[1], raw[2], raw[3]
    if zeros != 0 or type_code != UBYTE or ndim == 0:
        raise IDXFormatError(
            f"{name}: magic number {magic} is not an unsigned-byte IDX header "
            f"(expected 2049 for labels or 2051 for images)"
        )
    if expected_magic is not None and magic != expected_magic:
        raise IDXFormatError(f"{name}: magic number {magic}, expected {expected_magic}")
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise IDXFormatError(f"{name}: header declares {ndim} dimensions but the file ends at byte {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:header_len])
    if expected_shape is not None and tuple(shape) != tuple(expected_shape):
        raise IDXFormatError(f"{name}: dimensions {tuple(shape)}, expected {tuple(expected_shape)}")
    _check_representable(shape, name)
    count = math.prod(shape)  # Python integers: exact, whatever the header says
    body = len(raw) - header_len
    if body != count:
        problem = "truncated" if body < count else "has trailing bytes"
        raise IDXFormatError(
            f"{name}: {problem}: header promises {count:,} data bytes for shape {tuple(shape)}, found {body:,}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(shape).copy()


def _check_representable(shape: tuple[int, ...], name: str) -> None:
    """Raise IDXFormatError for a shape numpy cannot hold (too many dimensions, or sizes that overflow)."""
    if len(shape) > MAX_DIMS:
        raise IDXFormatError(f"{name}: header declares {len(shape)} dimensions; accepted: 1 to {MAX_DIMS}")
    if math.prod(d for d in shape if d) > MAX_VALUES:
        raise IDXFormatError(
            f"{name}: dimensions {tuple(shape)} multiply past {MAX_VALUES:,} values; "
            f"accepted: sizes whose product fits in a numpy array"
        )


def encode_idx(array: np.ndarray) -> bytes:
    """Encode a uint8 array as IDX bytes (the inverse of `parse_idx`; used to make test files)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, UBYTE, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()
