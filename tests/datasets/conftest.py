"""Fixtures for the dataset tests: tiny IDX folders and the official files when available."""

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from skdae.datasets import write_idx

NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


@pytest.fixture(autouse=True)
def _no_data_home_env(monkeypatch):
    """Tests start without SKDAE_DATA; those that need it set it themselves."""
    monkeypatch.delenv("SKDAE_DATA", raising=False)


@pytest.fixture
def make_idx_folder():
    """Return ``write(folder, n_train=6, n_test=4, shape=(28, 28), compress=True)``.

    It writes four small IDX files with MNIST's names into ``folder`` (created
    if needed) and returns ``(arrays, md5)``: the arrays written, by role, and
    the MD5 of each file's uncompressed content, by file name.
    """

    def write(folder, *, n_train=6, n_test=4, shape=(28, 28), compress=True, seed=0):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(seed)
        arrays = {
            "train_images": rng.integers(0, 256, size=(n_train, *shape), dtype=np.uint8),
            "train_labels": (np.arange(n_train) % 10).astype(np.uint8),
            "test_images": rng.integers(0, 256, size=(n_test, *shape), dtype=np.uint8),
            "test_labels": (np.arange(n_test) % 10)[::-1].astype(np.uint8),
        }
        md5 = {}
        for role, array in arrays.items():
            name = NAMES[role] + (".gz" if compress else "")
            write_idx(folder / name, array, compress=compress)
            md5[NAMES[role]] = idx_md5(array)
        return arrays, md5

    return write


def idx_md5(array):
    """MD5 of the uncompressed IDX encoding of a uint8 array (header + payload)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    return hashlib.md5(header + array.tobytes()).hexdigest()


# Read once at import, before the autouse fixture above removes SKDAE_DATA from each test.
_SKDAE_DATA = os.environ.get("SKDAE_DATA")


@pytest.fixture(scope="session")
def official_data_home():
    """The data home that holds the official MNIST files, or skip with a reason."""
    if not _SKDAE_DATA:
        pytest.skip("full MNIST not available: set SKDAE_DATA to the folder that contains mnist/")
    folder = Path(_SKDAE_DATA).expanduser() / "mnist"
    absent = [
        name
        for name in NAMES.values()
        if not (folder / name).is_file() and not (folder / f"{name}.gz").is_file()
    ]
    if absent:
        pytest.skip(
            f"full MNIST not available: {', '.join(absent)} missing in {folder}; "
            "set SKDAE_DATA to the folder that contains mnist/"
        )
    return Path(_SKDAE_DATA)
