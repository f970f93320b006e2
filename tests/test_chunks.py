"""Out-of-core training: chunk readers, and partial_fit on chunks against fit."""

import numpy as np
import pytest

from skdae import DenoisingAutoencoder, GaussianNoise
from skdae.chunks import iter_chunks

X = np.random.RandomState(0).rand(25, 4).astype(np.float32)


def _rows(chunks):
    chunks = list(chunks)
    assert all(c.dtype == np.float32 and c.flags.writeable for c in chunks)
    return [len(c) for c in chunks], np.vstack(chunks)


def test_npy_file(tmp_path):
    np.save(tmp_path / "x.npy", X)
    sizes, rows = _rows(iter_chunks(tmp_path / "x.npy", chunk_size=10))
    assert sizes == [10, 10, 5]
    np.testing.assert_array_equal(rows, X)


def test_list_of_npy_files(tmp_path):
    np.save(tmp_path / "a.npy", X[:12])
    np.save(tmp_path / "b.npy", X[12:])
    sizes, rows = _rows(iter_chunks([tmp_path / "a.npy", str(tmp_path / "b.npy")], chunk_size=10))
    assert sizes == [10, 2, 10, 3]
    np.testing.assert_array_equal(rows, X)


def test_array_and_memmap(tmp_path):
    np.testing.assert_array_equal(_rows(iter_chunks(X.astype(np.float64), 7))[1], X)
    np.save(tmp_path / "x.npy", X)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    np.testing.assert_array_equal(_rows(iter_chunks(mapped, 7))[1], X)


def test_dask_array():
    da = pytest.importorskip("dask.array")
    sizes, rows = _rows(iter_chunks(da.from_array(X, chunks=(6, 4)), chunk_size=10))
    assert sizes == [10, 10, 5]
    np.testing.assert_array_equal(rows, X)


@pytest.mark.parametrize(
    "source, error, match",
    [
        ("missing.npy", FileNotFoundError, "does not exist"),
        (object(), TypeError, "got object"),
        (np.zeros(5), TypeError, "2-D"),
    ],
)
def test_bad_sources(tmp_path, source, error, match):
    if isinstance(source, str):
        source = tmp_path / source
    with pytest.raises(error, match=match):
        list(iter_chunks(source))


def test_a_npy_file_that_is_not_2d(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="expected 2-D rows"):
        list(iter_chunks(tmp_path / "x.npy"))


def test_chunk_size_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        list(iter_chunks(X, chunk_size=0))


def test_partial_fit_on_chunks_matches_fit_in_quality(digits, tmp_path):
    """Same epochs over the same data, in 3 chunks from a file: within 15% of fit's MSE.

    Chunks shuffle only within themselves, so the two runs differ; the tolerance says
    how much that may cost.
    """
    X_train, X_test = digits[0].astype(np.float32), digits[1]
    np.save(tmp_path / "train.npy", X_train)
    noise = GaussianNoise(0.3, clip=(0, 1))
    params = dict(
        latent_dim=32,
        hidden_layer_sizes=(128,),
        corruption=noise,
        batch_size=32,
        learning_rate_init=3e-3,
        random_state=0,
    )
    epochs = 40
    whole = DenoisingAutoencoder(**params, max_iter=epochs).fit(X_train)
    # Each partial_fit call is one epoch of the learning-rate schedule: with the cosine
    # asked for, max_iter says how many calls there will be, so that it spans them all.
    chunked = DenoisingAutoencoder(**params, max_iter=3 * epochs, learning_rate="cosine")
    for _ in range(epochs):
        for chunk in iter_chunks(tmp_path / "train.npy", chunk_size=420):
            chunked.partial_fit(chunk)
    assert chunked.n_iter_ == 3 * epochs
    X_noisy = noise.corrupt(X_test, random_state=1)
    mse_whole = np.mean((whole.predict(X_noisy) - X_test) ** 2)
    mse_chunked = np.mean((chunked.predict(X_noisy) - X_test) ** 2)
    assert abs(mse_chunked - mse_whole) <= 0.15 * mse_whole
    assert mse_chunked < 0.5 * np.mean((X_noisy - X_test) ** 2)
