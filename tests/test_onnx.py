"""ONNX export (skdae.onnx): onnxruntime computes what skdae computes.

Every estimator and method is run by onnxruntime and by skdae on MNIST test digits, on
rows with missing values, on a single row and on 10,000 rows, and must agree within
1e-5 (float32). MNIST comes from $SKDAE_DATA when it holds the full set (CI's), else
from the bundled sample, whose 500 test digits are then repeated to 10,000 rows.
"""

import warnings

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skdae import (
    ConvDenoisingAutoencoder,
    DenoisingAutoencoder,
    DenoisingAutoencoderImputer,
    MaskingNoise,
)
from skdae.datasets import SampleDataWarning, load_mnist
from skdae.exceptions import (
    DataFileError,
    EmptyFeatureWarning,
    InputError,
    ModelFileError,
    SkdaeError,
)
from skdae.pretrained import PRETRAINED_MODELS, load_pretrained

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")

import skdae.onnx  # noqa: E402  (registers the converters)
from skdae.onnx import export_model_file, to_onnx  # noqa: E402

TOLERANCE = 1e-5
METHODS = ("transform", "predict", "inverse_transform", "score_samples")


def session(model):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def run(model, X):
    """The one output of ``model`` for ``X`` (fed to its one input)."""
    runner = session(model)
    (output,) = runner.run(None, {runner.get_inputs()[0].name: X})
    return output


def assert_close(actual, expected):
    """Within TOLERANCE everywhere, NaN exactly where skdae has NaN."""
    expected = np.asarray(expected)
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    finite = ~np.isnan(expected)
    assert np.max(np.abs(actual[finite] - expected[finite]), initial=0.0) <= TOLERANCE


@pytest.fixture(scope="module")
def mnist():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SampleDataWarning)
        data = load_mnist(fallback="sample")
    X_test, y_test = data.X_test, data.y_test
    if len(X_test) < 10_000:  # the bundled sample: its test digits, repeated
        X_test, y_test = np.resize(X_test, (10_000, 784)), np.resize(y_test, 10_000)
    return {"X_train": data.X_train[:400], "y_train": data.y_train[:400], "X_test": X_test}


@pytest.fixture(scope="module")
def with_missing(mnist):
    """200 test digits, 30% of their pixels missing, one row entirely missing."""
    X = mnist["X_test"][:200].copy()
    X[np.random.default_rng(0).random(X.shape) < 0.3] = np.nan
    X[7] = np.nan
    return X


# Small networks, fitted briefly: the export copies weights, whatever their values.
ESTIMATORS = {
    "dense": lambda: DenoisingAutoencoder(latent_dim=16, hidden_layer_sizes=(64,)),
    "conv": lambda: ConvDenoisingAutoencoder(latent_dim=16, channels=(4, 8)),
    "conv-spatial": lambda: ConvDenoisingAutoencoder(latent_dim=None, channels=(4, 8)),
}


@pytest.fixture(scope="module")
def fitted(mnist):
    return {
        name: make().set_params(max_iter=1, random_state=0).fit(mnist["X_train"])
        for name, make in ESTIMATORS.items()
    }


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_onnxruntime_matches_skdae_for_each_estimator_and_method(
    fitted, mnist, with_missing, name, method
):
    estimator = fitted[name]
    model = to_onnx(estimator, method)
    onnx.checker.check_model(model)
    runner = session(model)
    input_name = runner.get_inputs()[0].name

    def check(X):
        if method == "inverse_transform":
            X = estimator.transform(X)
        (output,) = runner.run(None, {input_name: X})
        assert output.dtype == np.float32
        assert_close(output, getattr(estimator, method)(X))

    check(mnist["X_test"][:1000])  # MNIST test digits
    check(mnist["X_test"][:1])  # a single row
    check(mnist["X_test"])  # 10,000 rows, in one call
    if method != "inverse_transform":  # codes have no missing values
        check(with_missing)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_float64_inputs_give_float64_outputs_as_in_skdae(fitted, with_missing, name):
    estimator = fitted[name]
    X = with_missing.astype(np.float64)
    for method in ("transform", "predict", "score_samples"):
        output = run(to_onnx(estimator, method, X=X[:1]), X)
        assert output.dtype == np.float64
        assert_close(output, getattr(estimator, method)(X))


@pytest.mark.parametrize(
    "params",
    [
        dict(activation="leaky_relu", latent_activation="identity"),
        dict(activation="elu", latent_activation="tanh"),
        dict(activation="gelu", latent_activation="sigmoid"),
        dict(activation="tanh", output_activation="tanh", loss="mse"),
        dict(activation="sigmoid", output_activation="identity", loss="mse"),
        dict(activation="identity", hidden_layer_sizes=()),
    ],
    ids=lambda params: "-".join(str(value) for value in params.values()),
)
def test_every_activation_exports(params, with_missing, mnist):
    params = {"latent_dim": 8, "hidden_layer_sizes": (32, 16), **params}
    X = mnist["X_train"][:200] * 2 - 1 if params.get("loss") == "mse" else mnist["X_train"][:200]
    dae = DenoisingAutoencoder(max_iter=1, random_state=0, **params).fit(X)
    rows = np.concatenate([X[:50], with_missing[:50]])
    for method in ("transform", "predict"):
        assert_close(run(to_onnx(dae, method), rows), getattr(dae, method)(rows))


PS = "pixel_shuffle"


@pytest.mark.parametrize(
    "params, n_features",
    [
        (dict(image_shape=(2, 7, 5), channels=(3, 4, 5), kernel_size=5), 70),  # odd sizes
        (dict(image_shape=(2, 7, 5), channels=(3,), latent_dim=None, bottleneck_layers=2), 70),
        (dict(image_shape=(33,), channels=(4, 4), activation="elu"), 33),  # 1-D signals
        (dict(image_shape=(3, 11), channels=(4,), latent_dim=None, bottleneck_layers=0), 33),
        # Residual blocks and sub-pixel upsampling: cropped to odd sizes, or not; 1-D.
        (dict(image_shape=(2, 7, 5), channels=(3, 4), residual_blocks=1, upsampling=PS), 70),
        (dict(image_shape=(1, 8, 8), channels=(4,), latent_dim=None, residual_blocks=2), 64),
        (dict(image_shape=(1, 8, 8), channels=(3, 4), latent_dim=None, upsampling=PS), 64),
        (
            dict(
                image_shape=(3, 11),
                channels=(4,),
                latent_dim=None,
                residual_blocks=1,
                upsampling=PS,
            ),
            33,
        ),
    ],
)
def test_convolutional_networks_of_every_shape_export(params, n_features):
    rng = np.random.default_rng(0)
    X = rng.random((120, n_features), dtype=np.float32)
    conv = ConvDenoisingAutoencoder(max_iter=1, random_state=0, **{"latent_dim": 6, **params})
    conv.fit(X)
    X[:10, ::3] = np.nan
    for method in METHODS:
        rows = conv.transform(X) if method == "inverse_transform" else X
        assert_close(run(to_onnx(conv, method), rows), getattr(conv, method)(rows))


@pytest.mark.parametrize("name", sorted(PRETRAINED_MODELS))
def test_the_pretrained_models_export_and_match(name, mnist, with_missing):
    model = load_pretrained(name)
    X = np.concatenate([mnist["X_test"][:1000], with_missing])
    for method in METHODS:
        rows = model.transform(X[:1000]) if method == "inverse_transform" else X
        assert_close(run(to_onnx(model, method), rows), getattr(model, method)(rows))


def test_a_pipeline_of_codes_and_a_classifier_gives_the_same_labels_and_probabilities(
    fitted, mnist
):
    pipeline = make_pipeline(fitted["dense"], LogisticRegression(max_iter=500))
    # The autoencoder is fitted already: only the classifier is fitted here.
    pipeline[-1].fit(fitted["dense"].transform(mnist["X_train"]), mnist["y_train"])
    X = mnist["X_test"]  # all 10,000 test digits
    model = skl2onnx.to_onnx(pipeline, X[:1], options={LogisticRegression: {"zipmap": False}})
    labels, probabilities = session(model).run(None, {"X": X})
    np.testing.assert_array_equal(labels, pipeline.predict(X))
    assert np.abs(probabilities - pipeline.predict_proba(X)).max() <= TOLERANCE


def test_the_autoencoder_stands_for_its_codes_in_a_column_transformer(mnist):
    X = mnist["X_train"][:300]
    y = mnist["y_train"][:300]
    model = make_pipeline(
        ColumnTransformer(
            [
                (
                    "dae",
                    DenoisingAutoencoder(latent_dim=8, hidden_layer_sizes=(32,)),
                    slice(0, 700),
                ),
                ("scaled", StandardScaler(), slice(700, 784)),
            ]
        ),
        LogisticRegression(max_iter=300),
    )
    model.set_params(columntransformer__dae__max_iter=1, columntransformer__dae__random_state=0)
    model.fit(X, y)
    onx = skl2onnx.to_onnx(model, X[:1], options={LogisticRegression: {"zipmap": False}})
    labels, probabilities = session(onx).run(None, {"X": mnist["X_test"][:2000]})
    np.testing.assert_array_equal(labels, model.predict(mnist["X_test"][:2000]))
    assert np.abs(probabilities - model.predict_proba(mnist["X_test"][:2000])).max() <= TOLERANCE


def test_to_onnx_exports_the_last_steps_method_of_a_pipeline(mnist, with_missing):
    pipeline = make_pipeline(
        MinMaxScaler(), DenoisingAutoencoder(latent_dim=8, hidden_layer_sizes=(32,), max_iter=1)
    ).fit(mnist["X_train"])
    X = mnist["X_test"][:500]
    for method in ("transform", "predict", "score_samples"):
        assert_close(run(to_onnx(pipeline, method), X), getattr(pipeline, method)(X))


@pytest.fixture(scope="module")
def imputation_data(mnist):
    rng = np.random.default_rng(1)
    X = mnist["X_train"][:300].copy()
    X[rng.random(X.shape) < 0.2] = np.nan
    return X


@pytest.mark.parametrize("add_indicator", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_imputer_keeps_observed_values_and_fills_the_rest_as_skdae_does(
    imputation_data, with_missing, mnist, add_indicator, dtype
):
    X = imputation_data.copy()
    X[:, 5] = np.nan  # a feature never observed: imputed with 0
    imputer = DenoisingAutoencoderImputer(
        DenoisingAutoencoder(latent_dim=16, hidden_layer_sizes=(64,), max_iter=1),
        add_indicator=add_indicator,
        random_state=0,
    )
    with pytest.warns(EmptyFeatureWarning):
        imputer.fit(X)
    rows = np.concatenate([with_missing, mnist["X_test"][:100], with_missing[:1]]).astype(dtype)
    model = skl2onnx.to_onnx(imputer, rows[:1])
    imputed = run(model, rows)
    expected = imputer.transform(rows)
    assert imputed.dtype == dtype and not np.isnan(imputed).any()
    assert_close(imputed, expected)
    observed = ~np.isnan(rows)
    np.testing.assert_array_equal(imputed[:, :784][observed], rows[observed])  # exactly
    assert (imputed[np.isnan(rows[:, 5]), 5] == 0).all()
    # to_onnx says what the output is
    assert run(to_onnx(imputer, X=rows[:1]), rows).shape == expected.shape
    assert to_onnx(imputer).graph.output[0].name == "imputed"


def test_an_imputer_fitted_without_missing_values_exports_an_empty_indicator():
    X = np.random.default_rng(0).random((60, 5), dtype=np.float32)
    imputer = DenoisingAutoencoderImputer(
        DenoisingAutoencoder(latent_dim=2, hidden_layer_sizes=(4,), max_iter=1),
        add_indicator=True,
        random_state=0,
    ).fit(X)
    X[0, 1] = np.nan
    assert_close(run(to_onnx(imputer), X), imputer.transform(X))  # no indicator column


def test_an_imputer_in_a_pipeline_and_one_on_a_convolutional_autoencoder(
    imputation_data, with_missing, mnist
):
    imputer = DenoisingAutoencoderImputer(
        ConvDenoisingAutoencoder(latent_dim=8, channels=(4,), corruption=MaskingNoise(0.2)),
        random_state=0,
    )
    imputer.autoencoder.set_params(max_iter=1)
    pipeline = make_pipeline(imputer, LogisticRegression(max_iter=200))
    pipeline.fit(imputation_data, mnist["y_train"][:300])
    model = skl2onnx.to_onnx(
        pipeline, with_missing[:1], options={LogisticRegression: {"zipmap": False}}
    )
    labels, probabilities = session(model).run(None, {"X": with_missing})
    np.testing.assert_array_equal(labels, pipeline.predict(with_missing))
    assert np.abs(probabilities - pipeline.predict_proba(with_missing)).max() <= TOLERANCE


def test_the_graph_is_plain_onnx_with_a_dynamic_batch_and_says_what_it_holds(fitted):
    for name, estimator in fitted.items():
        for method in METHODS:
            model = to_onnx(estimator, method)
            assert {node.domain for node in model.graph.node} <= {""}, (name, method)
            (graph_input,) = model.graph.input
            assert graph_input.name == "X"
            batch = graph_input.type.tensor_type.shape.dim[0]
            assert not batch.HasField("dim_value")  # any number of rows
            (output,) = model.graph.output
            expected = {"transform": "codes", "score_samples": "scores"}
            assert output.name == expected.get(method, "reconstruction")
            props = {p.key: p.value for p in model.metadata_props}
            assert props["method"] == method
            assert props["estimator"] == type(estimator).__name__
            assert props["skdae_version"] == skdae.__version__


@pytest.mark.parametrize("opset", [9, 12, 13, 17])
def test_older_opsets(fitted, with_missing, opset):
    """ReduceSum took its axes as an attribute before opset 13, as an input after."""
    dae = fitted["conv"]
    for method in ("score_samples", "predict"):
        model = to_onnx(dae, method, target_opset=opset)
        assert max(o.version for o in model.opset_import if o.domain == "") <= opset
        assert_close(run(model, with_missing), getattr(dae, method)(with_missing))


@pytest.mark.parametrize("opset", [9, 13])
def test_sub_pixel_upsampling_to_odd_sizes_in_older_opsets(opset):
    """Slice took its bounds as attributes before opset 10, as inputs after."""
    X = np.random.default_rng(0).random((60, 63), dtype=np.float32)
    conv = ConvDenoisingAutoencoder(
        8, image_shape=(7, 9), channels=(3, 4), upsampling=PS, max_iter=1, random_state=0
    ).fit(X)
    model = to_onnx(conv, "predict", target_opset=opset)
    assert_close(run(model, X), conv.predict(X))


def test_clear_errors():
    dae = DenoisingAutoencoder(latent_dim=2, hidden_layer_sizes=(4,), max_iter=1)
    X = np.random.default_rng(0).random((30, 6), dtype=np.float32)
    with pytest.raises(NotFittedError):
        to_onnx(dae)
    with pytest.raises(NotFittedError):
        skl2onnx.to_onnx(dae, X[:1])
    with pytest.raises(NotFittedError):
        to_onnx(DenoisingAutoencoderImputer())
    dae.fit(X)
    with pytest.raises(InputError, match="Unknown method 'fit'"):
        to_onnx(dae, "fit")
    with pytest.raises(InputError, match="float32 or float64"):
        skl2onnx.to_onnx(dae, X.astype(np.int64)[:1])
    with pytest.raises(InputError, match=r"shape \(n_samples, 6\)"):
        skl2onnx.to_onnx(dae, X[:1, :3])
    with pytest.raises(InputError, match="skl2onnx.to_onnx"):
        to_onnx(LogisticRegression().fit(X, X[:, 0] > 0.5))
    with pytest.raises(InputError, match="last step"):
        to_onnx(make_pipeline(MinMaxScaler(), dae), "inverse_transform")
    imputer = DenoisingAutoencoderImputer(dae).fit(X)
    with pytest.raises(InputError, match="no 'predict' to export"):
        to_onnx(imputer, "predict")
    imputer.autoencoder_ = LogisticRegression()  # an autoencoder skdae did not make
    with pytest.raises(InputError, match="cannot export"):
        to_onnx(imputer)
    for error in (InputError, DataFileError, ModelFileError):
        assert issubclass(error, SkdaeError) and issubclass(error, ValueError)


def test_export_model_file_writes_a_checked_graph_atomically(tmp_path, fitted, mnist):
    dae = fitted["conv"]
    model_path = dae.save(tmp_path / "model.skdae")
    onnx_path = export_model_file(model_path, tmp_path / "model.onnx")
    assert onnx_path == tmp_path / "model.onnx"
    X = mnist["X_test"][:200]
    assert_close(run(onnx.load(onnx_path), X), dae.predict(X))  # predict by default
    export_model_file(str(model_path), str(onnx_path), method="transform")  # replaced
    assert_close(run(onnx.load(onnx_path), X), dae.transform(X))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "model.skdae"]


def test_export_model_file_refuses_what_it_cannot_do(tmp_path, fitted, monkeypatch):
    model_path = fitted["dense"].save(tmp_path / "model.skdae", key="secret")
    before = model_path.read_bytes()
    with pytest.raises(DataFileError, match="model file itself"):
        export_model_file(model_path, tmp_path / "." / "model.skdae")
    with pytest.raises(DataFileError, match="folder"):
        export_model_file(model_path, tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export_model_file(tmp_path / "missing.skdae", tmp_path / "out.onnx")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export_model_file(model_path, tmp_path / "no-folder" / "out.onnx")
    with pytest.raises(InputError, match="Unknown method"):
        export_model_file(model_path, tmp_path / "out.onnx", method="denoise")
    with pytest.raises(ModelFileError):
        export_model_file(model_path, tmp_path / "out.onnx", key="another secret")
    (tmp_path / "junk.skdae").write_bytes(b"not a model")
    with pytest.raises(ModelFileError):
        export_model_file(tmp_path / "junk.skdae", tmp_path / "out.onnx")
    assert model_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.skdae", "model.skdae"]

    # A graph that fails its check replaces nothing and leaves no partial file.
    existing = tmp_path / "out.onnx"
    existing.write_bytes(b"the previous export")

    def refuse(path):
        raise onnx.checker.ValidationError("refused")

    monkeypatch.setattr(skdae.onnx, "_check_onnx_file", refuse)
    with pytest.raises(onnx.checker.ValidationError):
        export_model_file(model_path, existing, key="secret")
    assert existing.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.skdae", "model.skdae", "out.onnx"]
