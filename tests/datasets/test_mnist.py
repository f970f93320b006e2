"""Data home, MNIST-layout loaders, checksums, the bundled sample, full MNIST.

Downloads are tested in test_download.py.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils import Bunch

import skdae.datasets as datasets
from skdae.datasets import (
    ChecksumError,
    IDXFormatError,
    SampleDataWarning,
    _sample,
    get_data_home,
    load_idx_dataset,
    load_mnist,
    load_mnist_sample,
    write_idx,
)

FILE_NAMES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]
# Label counts of the official files (stated in the MNIST literature, checked below on the files).
OFFICIAL_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
OFFICIAL_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_public_names():
    assert sorted(datasets.__all__) == [
        "ChecksumError",
        "DownloadError",
        "IDXFormatError",
        "SampleDataWarning",
        "get_data_home",
        "load_idx_dataset",
        "load_mnist",
        "load_mnist_sample",
        "read_idx",
        "write_idx",
    ]
    for name in datasets.__all__:
        assert getattr(datasets, name).__doc__


# --- data home -----------------------------------------------------------------------------


def test_data_home_resolution_order(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert get_data_home() == tmp_path / "home" / "skdae_data"
    monkeypatch.setenv("SKDAE_DATA", str(tmp_path / "env"))
    assert get_data_home() == tmp_path / "env"
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert get_data_home("~/x") == tmp_path / "home" / "x"
    assert not (tmp_path / "home").exists()  # reading never creates folders


def test_empty_env_var_counts_as_unset(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SKDAE_DATA", "")
    assert get_data_home() == tmp_path / "skdae_data"


def test_relative_data_home_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SKDAE_DATA", "data")
    assert get_data_home() == tmp_path / "data"


# --- load_idx_dataset ----------------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
def test_load_idx_dataset_bunch(tmp_path, make_idx_folder, compress):
    arrays, _ = make_idx_folder(tmp_path, compress=compress)
    bunch = load_idx_dataset(tmp_path)
    assert isinstance(bunch, Bunch)
    assert bunch.data.shape == (10, 784) and bunch.data.dtype == np.float32
    assert bunch.target.shape == (10,) and bunch.target.dtype == np.int64
    assert bunch.X_train.shape == (6, 784) and bunch.X_test.shape == (4, 784)
    # pixel / 255 computed in float32, exactly as `x.astype("float32") / 255`
    expected = arrays["train_images"].reshape(6, -1).astype(np.float32) / 255
    np.testing.assert_array_equal(bunch.X_train, expected)
    np.testing.assert_array_equal(bunch.y_test, arrays["test_labels"])
    assert np.shares_memory(bunch.X_train, bunch.data)  # views, not copies
    assert bunch.images.shape == (10, 28, 28) and bunch.image_shape == (28, 28)
    assert len(bunch.feature_names) == 784
    assert bunch.feature_names[:2] == ["pixel_0_0", "pixel_0_1"]
    assert bunch.feature_names[-1] == "pixel_27_27"
    assert bunch.source == str(tmp_path)
    suffix = ".gz" if compress else ""
    assert bunch.files["train_images"] == tmp_path / f"train-images-idx3-ubyte{suffix}"
    assert "6 training and 4 test images of 28 x 28" in bunch.DESCR


def test_load_idx_dataset_options(tmp_path, make_idx_folder):
    arrays, _ = make_idx_folder(tmp_path, shape=(5, 3))
    X_train, y_train, X_test, y_test = load_idx_dataset(
        tmp_path, return_X_y=True, flatten=False, as_float=False
    )
    assert X_train.dtype == np.uint8 and X_train.shape == (6, 5, 3)
    np.testing.assert_array_equal(X_test, arrays["test_images"])
    assert y_train.dtype == np.int64 and y_test.shape == (4,)


def test_uncompressed_file_wins_over_gz(tmp_path, make_idx_folder):
    make_idx_folder(tmp_path, compress=True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.full(4, 7, dtype=np.uint8))
    bunch = load_idx_dataset(tmp_path)
    assert bunch.files["test_labels"].name == "t10k-labels-idx1-ubyte"
    assert set(bunch.y_test.tolist()) == {7}


def test_load_idx_dataset_verifies_only_given_checksums(tmp_path, make_idx_folder):
    _, md5 = make_idx_folder(tmp_path)
    load_idx_dataset(tmp_path, checksums=md5)  # all correct
    wrong = {"t10k-images-idx3-ubyte": "0" * 32}
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    match = re.escape(f"MD5 of the uncompressed content of {path}")
    with pytest.raises(ChecksumError, match=match):
        load_idx_dataset(tmp_path, checksums=wrong)


def test_load_idx_dataset_rejects_unknown_checksum_keys(tmp_path, make_idx_folder):
    make_idx_folder(tmp_path)
    with pytest.raises(ValueError, match=r"checksums names unknown files \['train-images.gz'\]"):
        load_idx_dataset(tmp_path, checksums={"train-images.gz": "0" * 32})


def test_load_idx_dataset_missing_files(tmp_path, make_idx_folder):
    make_idx_folder(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    match = f"Missing in {re.escape(str(tmp_path))}: train-labels-idx1-ubyte\\.\n"
    with pytest.raises(FileNotFoundError, match=match):
        load_idx_dataset(tmp_path)


@pytest.mark.parametrize(
    "role, array, match",
    [
        ("train_labels", np.zeros(5, np.uint8), "expected 6 integer labels .* shape \\(5,\\)"),
        ("test_labels", np.zeros(4, np.float32), "found shape \\(4,\\) of float32"),
        ("train_images", np.zeros((6, 784), np.uint8), "expected 3-D uint8 images"),
        ("test_images", np.zeros((4, 28, 28), np.float32), "found shape .* of float32"),
        ("test_images", np.zeros((4, 5, 5), np.uint8), "expected images of \\(28, 28\\)"),
    ],
)
def test_files_that_do_not_fit_together(tmp_path, make_idx_folder, role, array, match):
    make_idx_folder(tmp_path)
    name = {
        "train_images": "train-images-idx3-ubyte",
        "train_labels": "train-labels-idx1-ubyte",
        "test_images": "t10k-images-idx3-ubyte",
        "test_labels": "t10k-labels-idx1-ubyte",
    }[role]
    write_idx(tmp_path / f"{name}.gz", array)
    with pytest.raises(IDXFormatError, match=match) as info:
        load_idx_dataset(tmp_path)
    assert name in str(info.value)


# --- load_mnist without the official files -------------------------------------------------


def test_missing_mnist_lists_files_folder_and_remedies(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(data_home=tmp_path)
    message = str(info.value)
    folder = tmp_path / "mnist"
    assert f"Put these four files in {folder}/" in message
    for name in FILE_NAMES:
        assert f"    {name}.gz\n" in message + "\n"
    assert "SKDAE_DATA" in message
    assert "download=True" in message
    assert "given by the data_home argument" in message
    assert not folder.exists()


def test_missing_message_names_the_env_var_value(tmp_path, monkeypatch):
    monkeypatch.setenv("SKDAE_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=re.escape(f"taken from SKDAE_DATA='{tmp_path}'")):
        load_mnist()


def test_only_the_missing_file_is_named(tmp_path, make_idx_folder):
    make_idx_folder(tmp_path / "mnist")
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=": t10k-labels-idx1-ubyte\\.\n"):
        load_mnist(data_home=tmp_path)


def test_checksum_mismatch_names_file_and_remedy(tmp_path, make_idx_folder):
    make_idx_folder(tmp_path / "mnist")
    with pytest.raises(ChecksumError) as info:
        load_mnist(data_home=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "mnist" / "train-images-idx3-ubyte.gz") in message
    assert "expected 6bbc9ace898e44ae57da46a324031adb" in message
    assert "download=True" in message and "verify=False" in message


def test_verify_false_loads_non_official_files(tmp_path, make_idx_folder, monkeypatch):
    make_idx_folder(tmp_path / "mnist")
    monkeypatch.setenv("SKDAE_DATA", str(tmp_path))  # found through the environment
    X_train, y_train, X_test, y_test = load_mnist(return_X_y=True, verify=False)
    assert X_train.shape == (6, 784) and X_test.shape == (4, 784)


def test_fallback_sample_warns_and_says_how_to_get_the_full_set(tmp_path):
    with pytest.warns(SampleDataWarning, match="bundled sample") as record:
        bunch = load_mnist(data_home=tmp_path, fallback="sample")
    message = str(record[0].message)
    assert str(tmp_path / "mnist") in message
    assert "SKDAE_DATA" in message and "download=True" in message
    assert record[0].filename == __file__  # stacklevel points at the caller
    assert bunch.source == "bundled sample"
    assert bunch.X_train.shape == (2000, 784)


def test_fallback_sample_with_return_X_y(tmp_path):
    with pytest.warns(SampleDataWarning):
        X_train, y_train, X_test, y_test = load_mnist(
            data_home=tmp_path, fallback="sample", return_X_y=True, flatten=False
        )
    assert X_train.shape == (2000, 28, 28) and y_test.shape == (500,)


def test_fallback_does_not_hide_a_damaged_file(tmp_path, make_idx_folder):
    make_idx_folder(tmp_path / "mnist")
    with pytest.raises(ChecksumError):
        load_mnist(data_home=tmp_path, fallback="sample")


def test_bad_fallback_value(tmp_path):
    with pytest.raises(ValueError, match=r"fallback must be one of \('error', 'sample'\); got 'x'"):
        load_mnist(data_home=tmp_path, fallback="x")


# --- bundled sample ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample():
    return load_mnist_sample()


def test_sample_shapes_dtypes_and_range(sample):
    assert sample.X_train.shape == (2000, 784) and sample.X_test.shape == (500, 784)
    assert sample.data.dtype == np.float32 and sample.target.dtype == np.int64
    assert sample.data.min() == 0.0 and sample.data.max() == 1.0
    assert sample.source == "bundled sample"
    assert sample.files["sample"].name == "mnist_sample.npz"
    assert "CC BY-SA 3.0" in sample.DESCR and "bundled sample" in sample.DESCR
    np.testing.assert_array_equal(sample.target_names, np.arange(10))


def test_sample_raw_pixels():
    X_train, y_train, X_test, y_test = load_mnist_sample(
        return_X_y=True, flatten=False, as_float=False
    )
    assert X_train.dtype == np.uint8 and X_train.shape == (2000, 28, 28)
    assert X_train.max() == 255
    float_X_train = load_mnist_sample(return_X_y=True)[0]
    np.testing.assert_array_equal(float_X_train, X_train.reshape(2000, -1).astype(np.float32) / 255)


@pytest.mark.parametrize(
    "part, official", [("train", OFFICIAL_TRAIN_COUNTS), ("test", OFFICIAL_TEST_COUNTS)]
)
def test_sample_is_stratified(sample, part, official):
    labels = sample[f"y_{part}"]
    counts = np.bincount(labels, minlength=10)
    assert len(counts) == 10 and counts.min() > 0  # every digit present
    proportional = len(labels) * np.array(official) / sum(official)
    assert np.all(np.abs(counts - proportional) < 1)


def test_sample_sizes_quoted_in_messages_match_the_file(sample):
    quoted = (_sample.SAMPLE_N_TRAIN, _sample.SAMPLE_N_TEST)
    assert (len(sample.y_train), len(sample.y_test)) == quoted


def test_sample_indices_are_distinct_official_rows(sample):
    for index, n in [(sample.train_index, 60_000), (sample.test_index, 10_000)]:
        assert np.all(np.diff(index) > 0)  # sorted, no repeats
        assert index[0] >= 0 and index[-1] < n


def test_provenance_file_is_shipped():
    text = (Path(datasets.__file__).parent / "data" / "PROVENANCE.md").read_text()
    needles = ["LeCun", "Cortes", "Burges", "CC BY-SA 3.0", "default_rng(0)", "make_mnist_sample"]
    for needle in needles:
        assert needle in text


# --- full MNIST (needs SKDAE_DATA) ---------------------------------------------------------


@pytest.fixture(scope="module")
def full_mnist(official_data_home):
    return load_mnist(data_home=official_data_home)


def test_full_mnist_shapes_dtypes_range(full_mnist):
    assert full_mnist.X_train.shape == (60_000, 784)
    assert full_mnist.X_test.shape == (10_000, 784)
    assert full_mnist.data.dtype == np.float32
    assert full_mnist.data.min() == 0.0 and full_mnist.data.max() == 1.0
    assert full_mnist.y_train.dtype == np.int64
    assert full_mnist.source.endswith("mnist")


def test_full_mnist_label_counts(full_mnist):
    train_counts = np.bincount(full_mnist.y_train, minlength=10)
    test_counts = np.bincount(full_mnist.y_test, minlength=10)
    assert train_counts.tolist() == OFFICIAL_TRAIN_COUNTS and train_counts.sum() == 60_000
    assert test_counts.tolist() == OFFICIAL_TEST_COUNTS and test_counts.sum() == 10_000


def test_sample_rows_are_the_official_rows(full_mnist, sample):
    np.testing.assert_array_equal(sample.X_train, full_mnist.X_train[sample.train_index])
    np.testing.assert_array_equal(sample.y_train, full_mnist.y_train[sample.train_index])
    np.testing.assert_array_equal(sample.X_test, full_mnist.X_test[sample.test_index])
    np.testing.assert_array_equal(sample.y_test, full_mnist.y_test[sample.test_index])
