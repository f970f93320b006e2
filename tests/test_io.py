"""skdae._io: the command line's data files (.npy, .csv, .png, IDX)."""

import numpy as np
import pytest

from skdae._io import data_format, read_array, write_array
from skdae.datasets import write_idx
from skdae.exceptions import DataFileError


@pytest.mark.parametrize(
    "name, fmt",
    [
        ("x.npy", "npy"),
        ("X.CSV", "csv"),
        ("digit.png", "png"),
        ("t10k-images-idx3-ubyte.gz", "idx"),
        ("data.idx3", "idx"),
    ],
)
def test_the_format_comes_from_the_name(name, fmt):
    assert data_format(name) == fmt


def test_an_unknown_format_says_which_ones_exist():
    with pytest.raises(DataFileError, match=r"\.npy, \.csv, \.png"):
        data_format("data.parquet")


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_rows_round_trip(tmp_path, suffix):
    X = np.random.RandomState(0).rand(4, 6)
    write_array(tmp_path / f"x{suffix}", X)
    back, image_shape, _ = read_array(tmp_path / f"x{suffix}")
    np.testing.assert_allclose(back, X, rtol=1e-5)
    assert image_shape is None


def test_8_bit_images_are_scaled_and_flattened_keeping_their_shape(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4) * 10
    write_idx(tmp_path / "images-idx3-ubyte", images)
    X, image_shape, _ = read_array(tmp_path / "images-idx3-ubyte")
    assert X.shape == (2, 12) and image_shape == (3, 4)
    np.testing.assert_allclose(X, images.reshape(2, 12) / 255, rtol=1e-6)


def test_a_png_round_trips(tmp_path):
    pytest.importorskip("PIL")
    X = np.linspace(0, 1, 12).reshape(1, 12)
    write_array(tmp_path / "d.png", X, image_shape=(3, 4))
    back, image_shape, _ = read_array(tmp_path / "d.png")
    assert image_shape == (3, 4)
    np.testing.assert_allclose(back, X, atol=1 / 255)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: None, "does not exist"),
        (lambda p: np.save(p, np.array([[1.0, np.nan]])), "NaN or infinite"),
        (lambda p: np.save(p, np.array([["a", "b"]])), "needs real numbers"),
        (lambda p: p.write_bytes(b"not a numpy file"), "Could not read"),
    ],
)
def test_unreadable_files_are_refused_with_the_reason(tmp_path, make, match):
    path = tmp_path / "x.npy"
    make(path)
    with pytest.raises(DataFileError, match=match):
        read_array(path)


def test_writing_into_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        write_array(tmp_path / "missing" / "x.npy", np.zeros((1, 2)))


def test_a_compressed_file_is_read_within_the_memory_its_data_need(tmp_path):
    """20,000 blank 28x28 images gzip to 20 KB; reading them once peaked at about 7x
    their float32 size (0.3: a million of them, 0.73 MB, peaked at 7.1 GB). Now: the
    uint8 images and their float32 copy, and nothing else."""
    import subprocess
    import sys

    path = write_idx(tmp_path / "blank-idx3-ubyte.gz", np.zeros((20_000, 28, 28), np.uint8))
    assert path.stat().st_size < 100_000
    probe = (
        "import resource, sys\n"
        "from skdae._io import read_array\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "X = read_array(sys.argv[1]).X\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, check=True
    )
    needed_mb = 20_000 * 784 * (1 + 4) / 2**20  # uint8 in, float32 out: 75 MB
    assert int(result.stdout) < 1.2 * needed_mb, result.stdout


@pytest.mark.parametrize(
    "shape, match",
    [
        ((10**6, 10**5), "declares shape \\(1000000, 100000\\) of float64, 800,000,000,000"),
        ((10, 1000), "truncated or damaged"),
    ],
)
def test_an_npy_header_that_declares_more_than_the_file_holds_is_refused(tmp_path, shape, match):
    """A 100-byte file whose header declares 800 GB once failed allocating them."""
    with open(tmp_path / "x.npy", "wb") as stream:
        header = {"descr": "<f8", "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(stream, header)
        stream.write(bytes(64))
    with pytest.raises(DataFileError, match=match):
        read_array(tmp_path / "x.npy")


def test_an_npy_file_beyond_memory_is_refused_before_it_is_read(tmp_path, monkeypatch):
    import skdae._io

    np.save(tmp_path / "x.npy", np.zeros((4, 1000)))
    monkeypatch.setattr(skdae._io, "physical_memory_bytes", lambda: 10_000)
    with pytest.raises(DataFileError, match="more than half of this machine's memory"):
        read_array(tmp_path / "x.npy")


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_every_npy_version_is_read(tmp_path, version):
    X = np.random.RandomState(0).rand(3, 4)
    with open(tmp_path / "x.npy", "wb") as stream:
        np.lib.format.write_array(stream, np.asfortranarray(X), version=version)
    np.testing.assert_array_equal(read_array(tmp_path / "x.npy").X, X)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: p.mkdir(), "is a folder, not a file"),
        (lambda p: __import__("os").mkfifo(p), "is a FIFO \\(named pipe\\), not a file"),
        (lambda p: p.symlink_to(p.parent / "gone.npy"), "symbolic link to a file that does not"),
    ],
)
def test_an_input_that_is_no_file_says_what_it_is(tmp_path, make, match):
    """A folder or a FIFO was reported as missing; reading a FIFO would block."""
    make(tmp_path / "x.npy")
    with pytest.raises(DataFileError, match=match):
        read_array(tmp_path / "x.npy")


@pytest.mark.parametrize("side", [10_000, 100_000])  # past Pillow's warning, past its error
def test_a_png_decompression_bomb_is_refused(tmp_path, side):
    import struct
    import zlib

    pytest.importorskip("PIL")

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    (tmp_path / "bomb.png").write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(100)))
        + chunk(b"IEND", b"")
    )
    with pytest.raises(DataFileError, match=f"bomb.png declares an image too large.*{side**2}"):
        read_array(tmp_path / "bomb.png")
