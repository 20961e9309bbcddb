import numpy as np
import pytest

from fmnist_helpers.data.idx import IDXFormatError, encode_idx, parse_idx


def test_round_trip_preserves_images_and_labels():
    images = np.arange(2 * 28 * 28, dtype=np.uint32).reshape(2, 28, 28).astype(np.uint8)
    assert np.array_equal(parse_idx(encode_idx(images), expected_magic=2051), images)
    labels = np.array([9, 0, 3], dtype=np.uint8)
    assert np.array_equal(parse_idx(encode_idx(labels), expected_magic=2049), labels)


def test_wrong_magic_for_the_role_is_rejected():
    labels = encode_idx(np.zeros(5, dtype=np.uint8))
    with pytest.raises(IDXFormatError, match="magic number 2049, expected 2051"):
        parse_idx(labels, expected_magic=2051)


def test_non_idx_bytes_are_rejected_with_the_accepted_magics():
    with pytest.raises(IDXFormatError, match="2049 for labels or 2051 for images"):
        parse_idx(b"\x1f\x8b\x08\x00" + bytes(100), name="x.gz")


def test_truncated_data_is_reported_with_byte_counts():
    raw = encode_idx(np.zeros((3, 28, 28), dtype=np.uint8))
    with pytest.raises(IDXFormatError, match="truncated.*2,352 data bytes.*found 2,351"):
        parse_idx(raw[:-1])


def test_trailing_bytes_are_rejected():
    with pytest.raises(IDXFormatError, match="trailing bytes"):
        parse_idx(encode_idx(np.zeros(4, dtype=np.uint8)) + b"\x00")


def test_unexpected_dimensions_are_rejected():
    with pytest.raises(IDXFormatError, match=r"dimensions \(2, 28, 28\), expected \(3, 28, 28\)"):
        parse_idx(encode_idx(np.zeros((2, 28, 28), dtype=np.uint8)), expected_shape=(3, 28, 28))


def test_header_shorter_than_its_dimensions_is_rejected():
    with pytest.raises(IDXFormatError, match="header declares 3 dimensions"):
        parse_idx(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(IDXFormatError, match="too short"):
        parse_idx(b"\x00\x00")
