"""The IDX reader and writer, and the atomic-write and hashing helpers under them."""

import gzip
import hashlib
import re
import struct

import numpy as np
import pytest

from skdae.datasets import IDXFormatError, read_idx, write_idx
from skdae.datasets._base import atomic_write, md5_file

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def _write_raw(path, raw, *, gz=False):
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def _header(code, *dims):
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("shape", [(7,), (3, 4, 5), (2, 0)])
def test_round_trip(tmp_path, dtype, compress, shape):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal(shape) * 100).astype(dtype)
    path = write_idx(tmp_path / "array-idx", array, compress=compress)
    result = read_idx(path)
    assert result.dtype == dtype and result.dtype.isnative
    assert result.shape == shape
    np.testing.assert_array_equal(result, array)
    assert result.flags.writeable


def test_big_endian_encoding_matches_the_specification(tmp_path):
    path = write_idx(tmp_path / "x-idx1-int", np.array([1, -2], dtype=np.int32))
    assert path.read_bytes() == _header(0x0C, 2) + b"\x00\x00\x00\x01\xff\xff\xff\xfe"


@pytest.mark.parametrize(
    "name, compress, gzipped",
    [
        ("a.gz", None, True),  # compression follows the suffix by default
        ("a", None, False),
        ("a", True, True),  # ... and can be forced either way
        ("a.gz", False, False),
    ],
)
def test_gzip_is_detected_by_content_not_name(tmp_path, name, compress, gzipped):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    path = write_idx(tmp_path / name, array, compress=compress)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") is gzipped
    np.testing.assert_array_equal(read_idx(path), array)


def test_gzipped_output_is_deterministic(tmp_path):
    array = np.arange(100, dtype=np.float32)
    first = write_idx(tmp_path / "a.gz", array).read_bytes()
    second = write_idx(tmp_path / "b.gz", array).read_bytes()
    assert first == second


def test_read_real_header_and_payload_bytes(tmp_path):
    raw = _header(0x08, 2, 3) + bytes(range(6))
    for gz in (False, True):
        path = _write_raw(tmp_path / f"labels{gz}", raw, gz=gz)
        np.testing.assert_array_equal(read_idx(path), np.arange(6, dtype=np.uint8).reshape(2, 3))


@pytest.mark.parametrize(
    "raw, match",
    [
        (b"", "expected at least a 4-byte IDX header, found 0 bytes"),
        (b"<!DOCTYPE html><html>", "bad magic number; expected the first two bytes to be 00 00"),
        (b"\x01\x00\x08\x01" + b"\x00\x00\x00\x01" + b"\x05", "found 01 00"),
        (b"\x00\x00\x07\x01" + b"\x00\x00\x00\x01" + b"\x05", "unknown IDX type code 0x07"),
        (b"\x00\x00\x08\x00", "declares 0 dimensions"),
        (b"\x00\x00\x08\x03" + b"\x00\x00\x00\x01", "truncated header; 3 dimensions need 16"),
        # Wrong dims: the header promises 2 x 3 values of uint8, the payload holds 5 or 7.
        (
            _header(0x08, 2, 3) + bytes(5),
            r"expected 6 payload bytes for shape \(2, 3\) of uint8, "
            r"found 5 \(truncated by 1 bytes\)",
        ),
        (_header(0x08, 2, 3) + bytes(7), r"found 7 \(1 trailing bytes\)"),
        (_header(0x0E, 4) + bytes(31), r"expected 32 payload bytes .* of float64"),
    ],
)
@pytest.mark.parametrize("gz", [False, True])
def test_malformed_files_raise_naming_the_file(tmp_path, raw, match, gz):
    path = _write_raw(tmp_path / "broken-idx1-ubyte", raw, gz=gz)
    with pytest.raises(IDXFormatError, match=match) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_damaged_gzip_stream_is_a_format_error(tmp_path):
    good = gzip.compress(_header(0x08, 1000) + bytes(1000))
    path = _write_raw(tmp_path / "cut.gz", good[: len(good) // 2])
    with pytest.raises(IDXFormatError, match=re.escape(f"{path} could not be decompressed")):
        read_idx(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")


@pytest.mark.parametrize(
    "array, match",
    [
        (np.zeros(3, dtype=np.int64), "IDX cannot store dtype int64"),
        (np.zeros(3, dtype=bool), "supported dtypes are uint8, int8"),
        (np.float32(1.0), "IDX stores 1 to 255 dimensions; the array has 0"),
    ],
)
def test_write_rejects_what_idx_cannot_store(tmp_path, array, match):
    with pytest.raises(ValueError, match=match):
        write_idx(tmp_path / "x", array)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fail_in", ["body", "validate"])
def test_atomic_write_leaves_old_file_and_no_temp_on_failure(tmp_path, fail_in):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")

    def reject(tmp):
        raise ValueError("rejected")

    with pytest.raises(ValueError, match="rejected"):
        with atomic_write(target, validate=reject if fail_in == "validate" else None) as out:
            out.write(b"new, partial")
            if fail_in == "body":
                raise ValueError("rejected")
    assert target.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_write_replaces_on_success(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    with atomic_write(target) as out:
        out.write(b"new")
    assert target.read_bytes() == b"new"
    assert list(tmp_path.iterdir()) == [target]


def test_write_into_a_missing_folder_says_so(tmp_path):
    folder = tmp_path / "absent"
    with pytest.raises(FileNotFoundError, match=f"the folder {re.escape(str(folder))} does not"):
        write_idx(folder / "x", np.zeros(2, dtype=np.uint8))


def test_md5_is_of_the_uncompressed_bytes(tmp_path):
    raw = b"skdae" * 1000
    expected = hashlib.md5(raw).hexdigest()
    assert md5_file(_write_raw(tmp_path / "plain", raw)) == expected
    assert md5_file(_write_raw(tmp_path / "packed.gz", raw, gz=True)) == expected


@pytest.mark.parametrize(
    "dims",
    [(2**32 - 1, 2**32 - 1, 2**32 - 1), (2**31, 2**31, 16)],
    ids=["beyond int64", "wraps to zero in int64"],
)
def test_dimensions_whose_product_overflows_are_refused_before_reading(tmp_path, dims):
    path = _write_raw(tmp_path / "huge-idx3-ubyte", _header(0x08, *dims) + bytes(8))
    with pytest.raises(IDXFormatError, match="more than half of this machine's memory"):
        read_idx(path)


def test_a_gzip_bomb_inflates_no_further_than_its_header_declares(tmp_path):
    """A small .gz whose header declares 10 values but whose stream inflates to 256 MB:
    refused after reading only what the header declared and a little more."""
    path = tmp_path / "bomb-idx1-ubyte.gz"
    with gzip.open(path, "wb") as stream:
        stream.write(_header(0x08, 10))
        block = bytes(2**24)
        for _ in range(16):
            stream.write(block)
    assert path.stat().st_size < 2**20
    with pytest.raises(IDXFormatError, match=r"found 65546 \(65536\+ trailing bytes\)"):
        read_idx(path)


def test_random_flips_and_truncations_of_a_gzipped_file_are_refused_or_harmless(tmp_path):
    """gzip's CRC covers the payload, so each change ends in IDXFormatError or, where the
    byte did not matter (the gzip header's time stamp, flags), in the very same array.
    An uncompressed IDX file has no checksum: a flipped pixel there is a new pixel."""
    images = np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8)
    good = write_idx(tmp_path / "good-idx3-ubyte.gz", images).read_bytes()
    rng = np.random.default_rng(1)
    target = tmp_path / "fuzzed-idx3-ubyte.gz"
    refused = 0
    candidates = [good[:cut] for cut in rng.integers(0, len(good), 300)]
    for position in rng.integers(0, len(good), 2000):
        damaged = bytearray(good)
        damaged[position] ^= 1 << int(rng.integers(8))
        candidates.append(bytes(damaged))
    for content in candidates:
        target.write_bytes(content)
        try:
            result = read_idx(target)
        except IDXFormatError:
            refused += 1
            continue
        np.testing.assert_array_equal(result, images)
    assert refused >= 0.95 * len(candidates)
