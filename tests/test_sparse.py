"""Sparse input: every format, every method, the same model as dense input, memory that
follows the nonzeros, and tables with categorical columns."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.compose import make_column_transformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import skdae._sparse
import skdae._validation
from skdae import (
    ConvDenoisingAutoencoder,
    DenoisingAutoencoder,
    GaussianNoise,
    IdentityCorruption,
    MaskingNoise,
    SaltAndPepperNoise,
    SwapNoise,
)
from skdae.exceptions import EmptyFeatureWarning, InputError

FAST = dict(latent_dim=3, hidden_layer_sizes=(8,), max_iter=3, batch_size=16, random_state=0)
FAST_CONV = dict(latent_dim=3, channels=(4,), max_iter=2, batch_size=16, random_state=0)


def _sparse_X(n_rows=120, n_columns=36, density=0.15, seed=0):
    return sp.random(
        n_rows, n_columns, density=density, format="csr", random_state=seed, dtype=np.float64
    )


def _estimators():
    return [DenoisingAutoencoder(**FAST), ConvDenoisingAutoencoder(**FAST_CONV)]


FORMATS = {
    "csr": sp.csr_matrix,
    "csc": sp.csc_matrix,
    "coo": sp.coo_matrix,
    "lil": sp.lil_matrix,
    "dok": sp.dok_matrix,
    "dia": sp.dia_matrix,
    "bsr": sp.bsr_matrix,
    "csr_array": sp.csr_array,
    "csc_array": sp.csc_array,
}


def _with_64bit_indices(X):
    X = sp.csr_matrix(X)
    X.indices = X.indices.astype(np.int64)
    X.indptr = X.indptr.astype(np.int64)
    return X


# Making a DIA matrix of random data warns that DIA suits it badly: true, and not skdae's.
@pytest.mark.filterwarnings("ignore::scipy.sparse.SparseEfficiencyWarning")
@pytest.mark.parametrize("estimator", _estimators(), ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("fmt", [*FORMATS, "csr 64-bit indices"])
def test_every_format_gives_the_model_of_the_dense_data(estimator, fmt):
    X = _sparse_X()
    sparse = _with_64bit_indices(X) if fmt == "csr 64-bit indices" else FORMATS[fmt](X)
    dense = X.toarray()
    from_sparse = estimator.__class__(**estimator.get_params()).fit(sparse)
    from_dense = estimator.__class__(**estimator.get_params()).fit(dense)
    # The same batches of the same values: the same training, step for step.
    np.testing.assert_allclose(from_sparse.loss_curve_, from_dense.loss_curve_, rtol=1e-6)
    codes = from_sparse.transform(sparse)
    assert isinstance(codes, np.ndarray) and codes.shape == (X.shape[0], 3)
    np.testing.assert_allclose(codes, from_dense.transform(dense), rtol=1e-5, atol=1e-6)
    reconstruction = from_sparse.predict(sparse)
    assert isinstance(reconstruction, np.ndarray) and reconstruction.shape == X.shape
    np.testing.assert_allclose(reconstruction, from_dense.predict(dense), rtol=1e-5, atol=1e-6)
    assert from_sparse.score(sparse) == pytest.approx(from_dense.score(dense), rel=1e-6)
    np.testing.assert_allclose(
        from_sparse.score_samples(sparse), from_dense.score_samples(dense), rtol=1e-6
    )
    decoded = from_sparse.inverse_transform(codes)
    np.testing.assert_allclose(decoded, from_sparse.predict(sparse), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_keep_the_dtype_of_sparse_X(dtype):
    X = _sparse_X().astype(dtype)
    dae = DenoisingAutoencoder(**FAST).fit(X)
    assert dae.transform(X).dtype == dtype
    assert dae.predict(X).dtype == dtype


def test_partial_fit_takes_sparse_chunks_and_dense_ones_alike():
    X = _sparse_X(n_rows=200)
    by_chunks = DenoisingAutoencoder(**FAST)
    dense_chunks = DenoisingAutoencoder(**FAST)
    for start in range(0, 200, 50):
        by_chunks.partial_fit(X[start : start + 50])
        dense_chunks.partial_fit(X[start : start + 50].toarray())
    np.testing.assert_allclose(by_chunks.loss_curve_, dense_chunks.loss_curve_, rtol=1e-6)


def test_missing_values_in_a_sparse_matrix_are_missing_and_stored_zeros_are_values():
    X = _sparse_X()
    X.data[::5] = np.nan
    dense = X.toarray()
    params = dict(FAST, corruption=GaussianNoise(0.1, relative=True))
    from_sparse = DenoisingAutoencoder(**params).fit(X)
    from_dense = DenoisingAutoencoder(**params).fit(dense)
    np.testing.assert_allclose(from_sparse.loss_curve_, from_dense.loss_curve_, rtol=1e-6)
    np.testing.assert_allclose(
        from_sparse.score_samples(X), from_dense.score_samples(dense), rtol=1e-6
    )
    # An explicit zero is the value 0: the same as an implicit one, and counted.
    explicit = sp.csr_matrix(np.array([[0.0, 1.0], [0.5, 0.0]]))
    explicit.data[0] = 0.0  # row 0 now stores a 0.0 where it stored 1.0
    assert explicit.nnz == 2
    implicit = sp.csr_matrix(explicit.toarray())
    two = DenoisingAutoencoder(latent_dim=1, hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    a = two.fit(explicit).score_samples(explicit)
    b = two.fit(implicit).score_samples(implicit)
    np.testing.assert_allclose(a, b, rtol=1e-6)
    assert not np.isnan(a).any()


def test_a_column_missing_everywhere_warns_as_for_dense_data():
    X = _sparse_X().tolil()
    X[:, 4] = np.nan
    with pytest.warns(EmptyFeatureWarning, match=r"columns \[4\]"):
        DenoisingAutoencoder(**FAST).fit(X.tocsr())


def test_sample_weights_and_pre_corrupted_inputs_in_every_combination():
    X = _sparse_X()
    noisy = MaskingNoise(0.3).corrupt(X, random_state=1)
    assert sp.issparse(noisy)
    weights = np.linspace(0.1, 1.0, X.shape[0])
    reference = DenoisingAutoencoder(**FAST).fit(
        X.toarray(), X_noisy=noisy.toarray(), sample_weight=weights
    )
    for clean in (X, X.toarray()):
        for pre_corrupted in (noisy, noisy.toarray()):
            dae = DenoisingAutoencoder(**FAST).fit(
                clean, X_noisy=pre_corrupted, sample_weight=weights
            )
            np.testing.assert_allclose(dae.loss_curve_, reference.loss_curve_, rtol=1e-6)
    with pytest.raises(InputError, match="X_noisy must have the same shape as X"):
        DenoisingAutoencoder(**FAST).fit(X, X_noisy=noisy[:10])
    inf = noisy.copy()
    inf.data[0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        DenoisingAutoencoder(**FAST).fit(X, X_noisy=inf)


def test_early_stopping_on_sparse_data_scores_the_same_inputs_every_epoch():
    X = _sparse_X(n_rows=200)
    params = dict(FAST, max_iter=4, early_stopping=True, n_iter_no_change=10)
    # Without noise the validation inputs are the targets: a corrupted copy made at
    # every evaluation must then score as the dense data's kept copy.
    plain = dict(params, corruption=IdentityCorruption())
    np.testing.assert_allclose(
        DenoisingAutoencoder(**plain).fit(X).validation_scores_,
        DenoisingAutoencoder(**plain).fit(X.toarray()).validation_scores_,
        rtol=1e-6,
    )
    first = DenoisingAutoencoder(**params).fit(X)
    second = DenoisingAutoencoder(**params).fit(X)
    assert first.validation_scores_ == second.validation_scores_
    assert all(np.isfinite(first.validation_scores_))


def test_the_whole_matrix_is_never_densified(monkeypatch):
    """Every dense block is at most a batch (training) or an inference block."""
    X = _sparse_X(n_rows=3000, n_columns=50)
    largest = []
    for cls in (sp.csr_matrix, sp.csc_matrix, sp.coo_matrix):
        original = cls.toarray

        def recording(self, *args, _original=original, **kwargs):
            largest.append(self.shape[0])
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "toarray", recording)
    dae = DenoisingAutoencoder(**dict(FAST, early_stopping=True, batch_size=64))
    dae.fit(X)
    dae.transform(X)
    dae.predict(X)
    dae.score(X)
    dae.score_samples(X)
    assert largest and max(largest) <= skdae._base.inference_block_rows(50) < X.shape[0]


def test_a_dense_result_too_large_for_memory_is_refused_before_computing(monkeypatch):
    X = _sparse_X(n_rows=400)
    dae = DenoisingAutoencoder(**FAST).fit(X)
    # 400 x 36 float64 values are 115 kB: pretend only 40 kB are free.
    monkeypatch.setattr(skdae._validation, "available_memory_bytes", lambda: 40_000)
    for method, data in (("predict", X), ("inverse_transform", dae.transform(X))):
        with pytest.raises(InputError, match=rf"{method} returns a dense array of 400 x 36") as e:
            getattr(dae, method)(data)
        assert "69 rows at a time fit" in str(e.value)
    assert dae.transform(X).shape == (400, 3)  # codes are small: not refused
    assert np.isfinite(dae.score(X))  # scored block by block: nothing large is kept


def test_a_huge_column_count_is_refused_before_anything_is_allocated():
    X = sp.csr_matrix(([1.0, 2.0], ([0, 1], [3, 10**10])), shape=(2, 10**10 + 1))
    X.data[1] = np.nan  # the missing-value check must not build arrays of that width
    with pytest.raises(InputError, match="GiB to train; this machine has"):
        DenoisingAutoencoder(latent_dim=2, hidden_layer_sizes=(8,)).fit(X)


def test_all_zero_rows_are_ordinary_rows():
    X = _sparse_X().tolil()
    X[:20] = 0.0
    dae = DenoisingAutoencoder(**FAST).fit(X.tocsr())
    assert np.isfinite(dae.score_samples(X.tocsr())).all()


@pytest.mark.parametrize(
    "corruption, keeps_zeros",
    [(MaskingNoise(0.5), True), (SwapNoise(0.5), False), (GaussianNoise(0.2), False)],
    ids=["masking", "swap", "gaussian"],
)
def test_corruptions_keep_their_meaning_on_sparse_data(corruption, keeps_zeros):
    X = _sparse_X(n_rows=300, density=0.2)
    noisy = corruption.corrupt(X, random_state=0)
    assert sp.issparse(noisy) and noisy.shape == X.shape
    dense, noisy_dense = X.toarray(), noisy.toarray()
    if keeps_zeros:  # masking drops stored values, never adds one
        stored = noisy_dense != 0
        assert not (stored & (dense == 0)).any()
        np.testing.assert_array_equal(noisy_dense[stored], dense[stored])
        assert 0.3 < 1 - noisy.nnz / X.nnz < 0.7
    elif isinstance(corruption, SwapNoise):  # values come from the same column
        for j in range(X.shape[1]):
            assert set(noisy_dense[:, j]) <= set(dense[:, j])
    else:  # Gaussian noise fills the zeros too
        assert noisy.nnz > 0.9 * np.prod(X.shape)
    assert isinstance(MaskingNoise(0.5).corrupt(sp.csr_array(X)), sp.csr_array)
    salt = SaltAndPepperNoise(0.1).corrupt(X, random_state=0)
    assert salt.nnz > X.nnz


# ---------------------------------------------------------------- pipelines and tables


def _table(n=240, seed=0):
    pandas = pytest.importorskip("pandas")
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue", "black"], n)
    size = rng.choice(["S", "M", "L"], n)
    price = rng.normal(20, 5, n) + (colour == "red") * 10
    weight = rng.normal(1.0, 0.2, n)
    y = (colour == "red") | (size == "L")
    table = pandas.DataFrame({"colour": colour, "size": size, "price": price, "weight": weight})
    table["size"] = table["size"].astype("category")
    return table, y.astype(int)


def test_the_tables_recipe_runs_with_every_default_sparse_output_included():
    table, y = _table()
    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["colour", "size"]),
        (StandardScaler(), ["price", "weight"]),
        sparse_threshold=1.0,  # sparse output whatever the density
    )
    assert sp.issparse(encode.fit_transform(table))
    pipe = make_pipeline(
        encode,
        DenoisingAutoencoder(latent_dim=4, max_iter=5, random_state=0),
        LogisticRegression(max_iter=500),
    )
    pipe.fit(table, y)
    majority = max(y.mean(), 1 - y.mean())
    assert pipe.score(table, y) > majority + 0.1
    search = GridSearchCV(pipe, {"denoisingautoencoder__latent_dim": [2, 4]}, cv=2)
    search.fit(table, y)
    assert search.best_params_["denoisingautoencoder__latent_dim"] in (2, 4)
    # One-hot columns alone (OneHotEncoder's default output is sparse).
    one_hot = make_pipeline(OneHotEncoder(), DenoisingAutoencoder(**FAST))
    assert one_hot.fit_transform(table[["colour", "size"]]).shape == (len(table), 3)


def test_text_through_a_vectorizer():
    documents = [
        f"{word} {other} sample text {i % 7}"
        for i, (word, other) in enumerate(
            zip(["cat", "dog", "bird", "fish"] * 30, ["red", "blue", "green"] * 40, strict=True)
        )
    ]
    codes = make_pipeline(TfidfVectorizer(), DenoisingAutoencoder(**FAST)).fit_transform(documents)
    assert codes.shape == (120, 3) and np.isfinite(codes).all()


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_a_table_with_text_or_categorical_columns_is_refused_by_name(library):
    table, _ = _table()
    if library == "polars":
        polars = pytest.importorskip("polars")
        table = polars.from_pandas(table)
    for estimator in _estimators():
        with pytest.raises(InputError, match=r"2 non-numeric column\(s\): 'colour', 'size'") as e:
            estimator.fit(table)
        assert "Tables with categorical columns" in str(e.value)
        assert "OneHotEncoder" in str(e.value)
    fitted = DenoisingAutoencoder(**dict(FAST, latent_dim=1)).fit(table[["price", "weight"]])
    with pytest.raises(InputError, match="'colour'"):
        fitted.predict(table[["colour", "weight"]])


def test_the_imputer_refuses_sparse_input_saying_so():
    from skdae import DenoisingAutoencoderImputer

    X = _sparse_X()
    X.data[::4] = np.nan
    with pytest.raises(TypeError, match="Sparse data was passed.*toarray"):
        DenoisingAutoencoderImputer(DenoisingAutoencoder(**FAST)).fit(X)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_on_a_gpu_batches_travel_sparse_and_the_model_is_the_cpu_one():
    X = _sparse_X()
    X.data[::6] = np.nan
    batch = skdae._sparse.densify(X, slice(10, 50), "cuda")
    assert batch.device.type == "cuda"
    np.testing.assert_array_equal(batch.cpu().numpy(), X[10:50].toarray().astype(np.float32))
    # No noise and no shuffling: nothing drawn from the devices' different generators.
    same = dict(FAST, corruption=IdentityCorruption(), shuffle=False, matmul_precision="float32")
    on_gpu = DenoisingAutoencoder(**dict(same, device="cuda")).fit(X)
    assert np.isfinite(on_gpu.score_samples(X)).all()
    on_cpu = DenoisingAutoencoder(**dict(same, device="cpu")).fit(X)
    np.testing.assert_allclose(on_gpu.loss_curve_, on_cpu.loss_curve_, rtol=1e-3)


@pytest.mark.parametrize("method", ["transform", "predict", "score", "score_samples"])
def test_sparse_rows_of_another_width_are_refused_by_every_method(method):
    dae = DenoisingAutoencoder(**FAST).fit(_sparse_X())
    with pytest.raises(
        ValueError, match="X has 35 features, but DenoisingAutoencoder is expecting"
    ):
        getattr(dae, method)(_sparse_X(n_columns=35))
