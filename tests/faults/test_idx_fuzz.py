"""Property-based fuzzing of `parse_idx`: whatever the bytes, it returns the array the header and body
describe, or raises `IDXFormatError`; never another exception, never a wrong array.

Bounded for the test suite: 200 examples per property, no deadline, no example database written.
"""
from __future__ import annotations

import math
import struct

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from fmnist_helpers.data.idx import IDXFormatError, encode_idx, parse_idx

FUZZ = settings(max_examples=200, deadline=None, database=None)
UINT32 = st.integers(0, 2**32 - 1)
DIM = st.integers(0, 5) | UINT32 | st.sampled_from([2**16, 2**31, 2**32 - 1])


def parse_or_none(raw: bytes) -> np.ndarray | None:
    """parse_idx's array, checked against what the header and body say; None when it raises IDXFormatError."""
    try:
        array = parse_idx(raw, name="fuzz.idx")
    except IDXFormatError as err:
        assert str(err).startswith("fuzz.idx: ")
        return None
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    assert raw[:3] == b"\x00\x00\x08"
    assert array.dtype == np.uint8 and array.shape == dims
    assert array.tobytes() == raw[4 + 4 * ndim:]
    return array


@st.composite
def idx_like(draw) -> bytes:
    """Bytes shaped like an IDX file: usually a plausible header, sometimes a wrong field or length."""
    dims = draw(st.lists(DIM, max_size=70))
    ndim = draw(st.just(len(dims) % 256) | st.integers(0, 255))
    zeros = draw(st.just(b"\x00\x00") | st.binary(min_size=2, max_size=2))
    type_code = draw(st.just(0x08) | st.integers(0, 255))
    count = math.prod(dims)
    near_count = st.sampled_from([count, max(count - 1, 0), count + 1]) if count <= 512 else st.nothing()
    length = draw(near_count | st.integers(0, 64))
    body = draw(st.binary(min_size=length, max_size=length))
    return zeros + bytes([type_code, ndim]) + b"".join(struct.pack(">I", d) for d in dims) + body


SMALL_ARRAYS = arrays(np.uint8, array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6))


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_the_described_array_or_an_idx_format_error(raw):
    parse_or_none(raw)


@FUZZ
@given(idx_like())
def test_idx_like_bytes_give_the_described_array_or_an_idx_format_error(raw):
    parse_or_none(raw)


@FUZZ
@given(SMALL_ARRAYS, st.data())
def test_a_valid_file_with_edited_values_parses_to_the_edited_values(array, data):
    raw = bytearray(encode_idx(array))
    header = 4 + 4 * array.ndim
    if len(raw) > header:
        at = data.draw(st.integers(header, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    parsed = parse_or_none(bytes(raw))
    assert parsed is not None and parsed.tobytes() == bytes(raw[header:])


@FUZZ
@given(SMALL_ARRAYS, st.integers(-50, 50).filter(bool), st.data())
def test_a_valid_file_with_a_changed_length_is_rejected(array, change, data):
    raw = encode_idx(array)
    header = 4 + 4 * array.ndim
    if change < 0:
        raw = raw[:max(header, len(raw) + change)]
    else:
        raw += data.draw(st.binary(min_size=change, max_size=change))
    if len(raw) != len(encode_idx(array)):
        assert parse_or_none(raw) is None


@FUZZ
@given(SMALL_ARRAYS, st.data())
def test_a_valid_file_with_an_edited_dimension_parses_only_when_sizes_still_match(array, data):
    dims = list(array.shape)
    dims[data.draw(st.integers(0, array.ndim - 1))] = data.draw(DIM)
    raw = encode_idx(array)
    raw = raw[:4] + struct.pack(f">{array.ndim}I", *dims) + raw[4 + 4 * array.ndim:]
    parsed = parse_or_none(raw)
    if math.prod(dims) != array.size:
        assert parsed is None
    elif all(dims):
        assert parsed is not None and parsed.tobytes() == array.tobytes()
