"""For tables: swap noise, relative Gaussian noise, missing values, the imputer, anomaly
scores and sample weights (routed through Pipeline and GridSearchCV)."""

import numpy as np
import pytest
import sklearn
import torch
from fast_settings import FAST
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, make_scorer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

import skdae._base
import skdae._imputer
from skdae import (
    Compose,
    DenoisingAutoencoder,
    DenoisingAutoencoderImputer,
    GaussianNoise,
    IdentityCorruption,
    MaskingNoise,
    SaltAndPepperNoise,
    SwapNoise,
)
from skdae.exceptions import DivergenceError, EmptyFeatureWarning, FitInterrupted, InputError

# ------------------------------------------------------------------------ swap noise


def test_swap_noise_replaces_the_fraction_with_other_rows_values_of_the_same_column():
    # Every value distinct, so a swapped value is recognisable and its donor row known.
    X = np.arange(2000 * 6, dtype=np.float64).reshape(2000, 6)
    noisy = SwapNoise(0.3).corrupt(X, random_state=0)
    swapped = noisy != X
    assert swapped.mean() == pytest.approx(0.3, abs=0.01)
    for j in range(6):
        assert set(noisy[:, j]) <= set(X[:, j])  # only the column's own values
    # never the row's own value: a swap always changes it (values are distinct)
    donors = (noisy[swapped] - np.nonzero(swapped)[1]) / 6
    assert not np.any(donors == np.nonzero(swapped)[0])


def test_swap_noise_takes_the_donor_evenly_from_the_other_rows():
    rows = np.repeat(np.arange(4.0)[:, None], 20000, axis=1)  # each row holds its index
    noisy = SwapNoise(0.5).corrupt(rows, random_state=0)
    swapped = noisy != rows
    offsets = (noisy - rows)[swapped] % 4
    shares = np.bincount(offsets.astype(int), minlength=4) / swapped.sum()
    np.testing.assert_allclose(shares, [0, 1 / 3, 1 / 3, 1 / 3], atol=0.01)


def test_swap_noise_is_searchable_reproducible_and_a_string_shortcut(small_X):
    dae = DenoisingAutoencoder(**FAST, corruption=SwapNoise())
    assert dae.get_params()["corruption__fraction"] == 0.15
    a = SwapNoise(0.2).corrupt(small_X, random_state=3)
    np.testing.assert_array_equal(a, SwapNoise(0.2).corrupt(small_X, random_state=3))
    assert isinstance(
        DenoisingAutoencoder(**FAST, corruption="swap").fit(small_X).corruption_, SwapNoise
    )
    with pytest.raises(ValueError, match="fraction"):
        DenoisingAutoencoder(**FAST, corruption=SwapNoise(1.5)).fit(small_X)


def test_swap_noise_on_a_single_row_changes_nothing():
    X = np.array([[1.0, 2.0]])
    np.testing.assert_array_equal(SwapNoise(1.0).corrupt(X, random_state=0), X)


# ------------------------------------------------------------- relative Gaussian noise


def test_relative_gaussian_noise_follows_each_features_spread():
    rng = np.random.RandomState(0)
    X = rng.randn(20000, 3) * np.array([1.0, 100.0, 0.0]) + np.array([0.0, 5.0, 7.0])
    noise = GaussianNoise(0.1, relative=True)
    noisy = noise.corrupt(X, random_state=1)
    np.testing.assert_allclose((noisy - X).std(axis=0)[:2], [0.1, 10.0], rtol=0.03)
    np.testing.assert_array_equal(noisy[:, 2], X[:, 2])  # a constant column: no noise
    np.testing.assert_allclose(noise.feature_scale_, [1.0, 100.0, 0.0], rtol=0.03)


def test_relative_noise_is_learned_at_fit_from_the_observed_values(small_X):
    X = small_X * np.array([1, 10, 100, 1, 1, 1, 1, 1, 1, 1000])
    X[0, 0] = np.nan
    dae = DenoisingAutoencoder(**FAST, corruption=GaussianNoise(0.2, relative=True)).fit(X)
    np.testing.assert_allclose(dae.corruption_.feature_scale_, np.nanstd(X, axis=0))


def test_relative_noise_unprepared_says_how():
    with pytest.raises(InputError, match="prepare"):
        GaussianNoise(relative=True).corrupt_tensor(torch.zeros(2, 2), torch.Generator())


# ---------------------------------------------------------------------- missing values


def _with_missing(X, fraction, seed=0):
    X = X.copy()
    X[np.random.RandomState(seed).rand(*X.shape) < fraction] = np.nan
    return X


def test_missing_values_never_reach_the_network_or_the_loss(small_X):
    X = _with_missing(small_X, 0.3)
    dae = DenoisingAutoencoder(**FAST).fit(X)
    assert np.isfinite(dae.loss_curve_).all()
    for method in ("transform", "predict"):
        assert np.isfinite(getattr(dae, method)(X)).all()
    assert np.isfinite(dae.score(X))


def test_score_and_score_samples_leave_missing_values_out(small_X):
    dae = DenoisingAutoencoder(**FAST).fit(small_X)
    X = small_X.copy()
    X[0, :5] = np.nan
    X[1, :] = np.nan
    errors = (dae.predict(np.nan_to_num(X)) - X) ** 2
    scores = dae.score_samples(X)
    assert scores[0] == pytest.approx(-np.mean(errors[0, 5:]))
    assert np.isnan(scores[1])  # nothing observed: nothing to score
    np.testing.assert_allclose(scores[2:], -np.mean(errors[2:], axis=1))
    assert dae.score(X) == pytest.approx(-np.nanmean(errors))


def test_a_feature_missing_everywhere_gets_a_warning(small_X):
    X = small_X.copy()
    X[:, 3] = np.nan
    with pytest.warns(EmptyFeatureWarning, match=r"1 feature\(s\) of X are missing in every"):
        DenoisingAutoencoder(**FAST).fit(X)


CORRUPTIONS = [
    IdentityCorruption(),
    GaussianNoise(0.3),
    GaussianNoise(0.3, clip=(0, 1)),
    GaussianNoise(0.3, relative=True),
    SaltAndPepperNoise(0.2),
    MaskingNoise(0.3),
    SwapNoise(0.3),
    Compose([SwapNoise(0.2), GaussianNoise(0.1)]),
]


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("clean_missing", [True, False], ids=["X-missing", "X-complete"])
@pytest.mark.parametrize("corruption", CORRUPTIONS, ids=repr)
def test_nan_in_x_noisy_is_a_hidden_input(small_X, corruption, clean_missing, method):
    """NaN means missing everywhere: corrupt() keeps it, and fit takes it in X_noisy as
    an input the network sees masked (0), exactly as if the 0 had been passed."""
    X = _with_missing(small_X, 0.2) if clean_missing else small_X
    hidden = _with_missing(small_X, 0.2, seed=5)  # NaN where X may be observed too
    X_noisy = corruption.corrupt(hidden, random_state=0)
    assert np.isnan(X_noisy).any()
    params = {**FAST, "early_stopping": method == "fit"}  # the held-out inputs too

    def trained(X_noisy):
        dae = DenoisingAutoencoder(**params)
        return getattr(dae, method)(X, X_noisy=X_noisy)

    with_nan = trained(X_noisy)
    with_zero = trained(np.nan_to_num(X_noisy, nan=0.0))
    assert np.isfinite(with_nan.loss_curve_).all()
    assert with_nan.loss_curve_ == with_zero.loss_curve_
    assert with_nan.validation_scores_ == with_zero.validation_scores_
    np.testing.assert_array_equal(with_nan.predict(X), with_zero.predict(X))


def test_x_noisy_still_refuses_infinity(small_X):
    X_noisy = small_X.copy()
    X_noisy[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        DenoisingAutoencoder(**FAST).fit(small_X, X_noisy=X_noisy)


# ----------------------------------------------------------------------------- imputer


@pytest.fixture(scope="module")
def digits_missing(digits):
    X_train, X_test = digits[0], digits[1]
    return X_train, X_test, _with_missing(X_train, 0.2, 1), _with_missing(X_test, 0.2, 2)


@pytest.fixture(scope="module")
def imputer(digits_missing):
    _, _, X_train_missing, _ = digits_missing
    autoencoder = DenoisingAutoencoder(
        latent_dim=32, hidden_layer_sizes=(128,), corruption=MaskingNoise(0.25), max_iter=60
    )
    return DenoisingAutoencoderImputer(autoencoder, random_state=0).fit(X_train_missing)


def test_the_imputer_fills_the_gaps_and_leaves_the_rest(imputer, digits_missing):
    _, X_test, _, X_test_missing = digits_missing
    filled = imputer.transform(X_test_missing)
    observed = ~np.isnan(X_test_missing)
    assert not np.isnan(filled).any()
    np.testing.assert_array_equal(filled[observed], X_test_missing[observed])
    np.testing.assert_array_equal(imputer.transform(X_test), X_test)  # nothing to fill


def test_the_imputer_learns_more_than_the_column_means(imputer, digits_missing):
    _, X_test, X_train_missing, X_test_missing = digits_missing
    hidden = np.isnan(X_test_missing)

    def rmse(filled):
        return np.sqrt(np.mean((filled[hidden] - X_test[hidden]) ** 2))

    mean = SimpleImputer().fit(X_train_missing).transform(X_test_missing)
    assert rmse(imputer.transform(X_test_missing)) < 0.7 * rmse(mean)


def test_the_indicator_and_feature_names_follow_simple_imputer(small_X):
    pd = pytest.importorskip("pandas")
    X = small_X.copy()
    X[:5, 2] = np.nan
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(10)])
    imputer = DenoisingAutoencoderImputer(
        DenoisingAutoencoder(**FAST), add_indicator=True, random_state=0
    ).fit(frame)
    out = imputer.transform(frame)
    assert out.shape == (60, 11)
    np.testing.assert_array_equal(out[:, 10], np.isnan(X[:, 2]))
    reference = SimpleImputer(add_indicator=True).fit(frame)
    assert list(imputer.get_feature_names_out()) == list(reference.get_feature_names_out())
    imputer.set_output(transform="pandas")
    assert list(imputer.transform(frame).columns) == list(reference.get_feature_names_out())


def test_an_empty_feature_is_imputed_with_zero_and_new_gaps_are_filled(small_X):
    X = small_X.copy()
    X[:, 4] = np.nan
    with pytest.warns(EmptyFeatureWarning):
        imputer = DenoisingAutoencoderImputer(DenoisingAutoencoder(**FAST)).fit(X)
    test = small_X[:5].copy()
    test[:, 4] = np.nan
    test[:, 7] = np.nan  # observed everywhere at fit, missing now
    filled = imputer.transform(test)
    assert (filled[:, 4] == 0).all()
    assert np.isfinite(filled[:, 7]).all()


def test_a_row_with_nothing_observed_gets_the_reconstruction_of_a_masked_input(small_X):
    imputer = DenoisingAutoencoderImputer(DenoisingAutoencoder(**FAST), random_state=0)
    imputer.fit(_with_missing(small_X, 0.2))
    empty = np.full((1, 10), np.nan)
    filled = imputer.transform(empty)
    np.testing.assert_array_equal(filled, imputer.autoencoder_.predict(np.zeros((1, 10))))


def test_the_imputer_sits_in_a_pipeline_before_a_classifier(digits_missing, digits):
    X_train, _, X_train_missing, X_test_missing = digits_missing
    pipe = Pipeline(
        [
            ("impute", DenoisingAutoencoderImputer(DenoisingAutoencoder(**FAST), random_state=0)),
            ("clf", LogisticRegression(max_iter=500)),
        ]
    ).fit(X_train_missing, digits[2])
    assert pipe.score(X_test_missing, digits[3]) > 0.8


def test_the_imputer_is_reproducible(small_X):
    X = _with_missing(small_X, 0.2)
    a = DenoisingAutoencoderImputer(DenoisingAutoencoder(**FAST), random_state=1).fit(X)
    b = DenoisingAutoencoderImputer(DenoisingAutoencoder(**FAST), random_state=1).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


# A second fit that fails in each way a fit can: each returns the X to fit (7 columns,
# no names, so a half-updated imputer would show it) and makes that fit fail.
def _diverges(imputer, monkeypatch):
    X = np.random.RandomState(3).rand(40, 7) * 1e30  # within float32; its squares are not
    X[0, 0] = np.nan
    return X, DivergenceError


def _nothing_observed(imputer, monkeypatch):  # refused inside the autoencoder's fit
    return np.full((40, 7), np.nan), InputError


def _bce_target_beyond_one(imputer, monkeypatch):  # refused after the network is built
    imputer.set_params(autoencoder__loss="bce")
    return np.random.RandomState(3).rand(40, 7) * 3, InputError


def _training_raises(imputer, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("injected")

    monkeypatch.setattr(skdae._base, "fit_loop", broken)
    return np.random.RandomState(3).rand(40, 7), RuntimeError


def _indicator_raises(imputer, monkeypatch):  # after the autoencoder trained
    def broken(*args, **kwargs):
        raise MemoryError("injected")

    imputer.set_params(add_indicator=True)
    monkeypatch.setattr(skdae._imputer.MissingIndicator, "fit", broken)
    return np.random.RandomState(3).rand(40, 7), MemoryError


def _ctrl_c_after_an_epoch(imputer, monkeypatch):  # the autoencoder would keep the epoch
    def interrupted(*args, **kwargs):
        raise FitInterrupted("stopped after epoch 1", model_kept=True)

    monkeypatch.setattr(skdae._base, "fit_loop", interrupted)
    return np.random.RandomState(3).rand(40, 7), FitInterrupted


def _ctrl_c_outside_training(imputer, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(skdae._imputer.MissingIndicator, "fit", interrupted)
    imputer.set_params(add_indicator=True)
    return np.random.RandomState(3).rand(40, 7), FitInterrupted


FAILED_REFITS = [
    _diverges,
    _nothing_observed,
    _bce_target_beyond_one,
    _training_raises,
    _indicator_raises,
    _ctrl_c_after_an_epoch,
    _ctrl_c_outside_training,
]


@pytest.mark.parametrize("fitted", [True, False], ids=["fitted", "unfitted"])
@pytest.mark.parametrize("make_fail", FAILED_REFITS, ids=lambda f: f.__name__.strip("_"))
def test_a_failed_fit_leaves_the_imputer_as_it_was(small_X, monkeypatch, fitted, make_fail):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(_with_missing(small_X, 0.2), columns=[f"c{i}" for i in range(10)])
    imputer = DenoisingAutoencoderImputer(
        DenoisingAutoencoder(**FAST), add_indicator=fitted, random_state=0
    )
    if fitted:
        imputer.fit(frame)
        filled = imputer.transform(frame)
        inner = imputer.autoencoder_
        weights = {k: v.clone() for k, v in inner.module_.state_dict().items()}
        curve = list(inner.loss_curve_)
    before = dict(vars(imputer))
    X_bad, error = make_fail(imputer, monkeypatch)
    params = imputer.get_params(deep=False)
    with pytest.raises(error) as raised:
        imputer.fit(X_bad)
    if error is FitInterrupted:
        assert not raised.value.model_kept and "left as it was" in str(raised.value)
    monkeypatch.undo()
    # Every attribute as it was, the same objects: only the parameters set above differ.
    after = dict(vars(imputer))
    assert {k: after[k] for k in after if k not in params} == {
        k: before[k] for k in before if k not in params
    }
    assert not hasattr(imputer.autoencoder, "module_")  # the parameter is never fitted
    if not fitted:
        with pytest.raises(NotFittedError):
            imputer.transform(frame)
        return
    assert imputer.autoencoder_ is inner
    assert inner.loss_curve_ == curve
    for name, value in inner.module_.state_dict().items():
        torch.testing.assert_close(value, weights[name], rtol=0, atol=0)
    assert imputer.n_features_in_ == 10
    assert list(imputer.feature_names_in_) == list(frame.columns)
    imputer.set_params(add_indicator=True)
    np.testing.assert_array_equal(imputer.transform(frame), filled)


def test_a_refit_without_the_indicator_drops_it(small_X):
    X = _with_missing(small_X, 0.2)
    imputer = DenoisingAutoencoderImputer(DenoisingAutoencoder(**FAST), add_indicator=True)
    imputer.fit(X).set_params(add_indicator=False).fit(X)
    assert not hasattr(imputer, "indicator_")
    assert imputer.transform(X).shape == X.shape


# ---------------------------------------------------------------------- anomaly scores


def test_score_samples_ranks_planted_outliers_last(digits):
    X_train, X_test = digits[0], digits[1]
    dae = DenoisingAutoencoder(
        latent_dim=16, hidden_layer_sizes=(64,), max_iter=60, random_state=0
    ).fit(X_train)
    outliers = np.random.RandomState(0).rand(20, X_test.shape[1])  # uniform noise images
    scores = dae.score_samples(np.vstack([X_test, outliers]))
    assert scores.shape == (len(X_test) + 20,)
    # every planted outlier scores below every real digit
    assert scores[len(X_test) :].max() < scores[: len(X_test)].min()


# ---------------------------------------------------------------------- sample weights


def _full_batch(**params):
    """One batch per epoch, no shuffling, no noise, float32 products: weighting is then
    repetition up to float32 rounding."""
    return DenoisingAutoencoder(
        **{
            **FAST,
            "batch_size": 1000,
            "max_iter": 5,
            "corruption": "none",
            "shuffle": False,
            "matmul_precision": "float32",
        },
        **params,
    )


def test_integer_weights_equal_repeated_rows(small_X):
    weights = np.random.RandomState(0).randint(0, 4, len(small_X))
    weights[0] = 1
    weighted = _full_batch().fit(small_X, sample_weight=weights)
    repeated = _full_batch().fit(np.repeat(small_X, weights, axis=0))
    np.testing.assert_allclose(weighted.predict(small_X), repeated.predict(small_X), atol=2e-5)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-5)


def test_weights_of_one_change_nothing_but_rounding(small_X):
    plain = DenoisingAutoencoder(**FAST).fit(small_X)
    ones = DenoisingAutoencoder(**FAST).fit(small_X, sample_weight=np.ones(len(small_X)))
    np.testing.assert_allclose(ones.predict(small_X), plain.predict(small_X), atol=1e-5)


def test_weights_make_the_model_fit_the_heavy_rows_better(digits):
    """Digits 0-4 weighted 10x, or 5-9: each model reconstructs its heavy half better
    than the other model does (same data, same number of steps)."""
    X, y = digits[0], digits[2]
    low = y < 5
    params = dict(latent_dim=4, hidden_layer_sizes=(32,), max_iter=20, random_state=0)
    favours_low = DenoisingAutoencoder(**params).fit(X, sample_weight=np.where(low, 10.0, 1.0))
    favours_high = DenoisingAutoencoder(**params).fit(X, sample_weight=np.where(low, 1.0, 10.0))
    assert favours_low.score(X[low]) > favours_high.score(X[low])
    assert favours_high.score(X[~low]) > favours_low.score(X[~low])


# Weights are a weighted mean: their scale means nothing, from 1e-300 to 1e300.
SCALES = [1e-300, 1e-200, 1e-100, 1e-50, 1e-20, 1e-5, 1e5, 1e20, 1e50, 1e100, 1e200, 1e300]


def _weights(n):
    return np.random.RandomState(1).uniform(0.1, 10.0, n)


def _weighted_fit(method, X, weights):
    if method == "fit":  # early stopping: the held-out loss is weighted too
        return DenoisingAutoencoder(**FAST, early_stopping=True).fit(X, sample_weight=weights)
    if method == "partial_fit":
        dae = DenoisingAutoencoder(**FAST)
        for _ in range(3):
            dae.partial_fit(X, sample_weight=weights)
        return dae
    X_missing = X.copy()
    X_missing[np.random.RandomState(2).rand(*X.shape) < 0.2] = np.nan
    return DenoisingAutoencoderImputer(DenoisingAutoencoder(**FAST)).fit(
        X_missing, sample_weight=weights
    )


@pytest.fixture(scope="module")
def unscaled_fits():
    X = np.random.RandomState(0).rand(60, 10)  # small_X's data
    return {m: _weighted_fit(m, X, _weights(60)) for m in ("fit", "partial_fit", "imputer")}


@pytest.mark.parametrize("method", ["fit", "partial_fit", "imputer"])
@pytest.mark.parametrize("scale", SCALES)
def test_scaling_every_weight_changes_nothing(small_X, unscaled_fits, method, scale):
    """Tiny weights used to become 0 in float32, silently stopping training."""
    reference = unscaled_fits[method]
    scaled = _weighted_fit(method, small_X, _weights(60) * scale)
    dae = getattr(scaled, "autoencoder_", scaled)
    ref = getattr(reference, "autoencoder_", reference)
    assert all(loss > 0 for loss in dae.loss_curve_)
    np.testing.assert_allclose(dae.loss_curve_, ref.loss_curve_, rtol=1e-6)
    if ref.validation_scores_ is not None:
        np.testing.assert_allclose(dae.validation_scores_, ref.validation_scores_, rtol=1e-6)
    X_missing = small_X.copy()
    X_missing[:, 3] = np.nan
    transform = "transform" if method == "imputer" else "predict"
    np.testing.assert_allclose(
        getattr(scaled, transform)(X_missing),
        getattr(reference, transform)(X_missing),
        rtol=1e-6,
        atol=1e-7,
    )


def test_tiny_weights_train_the_model(small_X):
    initial = DenoisingAutoencoder(**{**FAST, "max_iter": 1}).partial_fit(small_X)
    tiny = DenoisingAutoencoder(**FAST).fit(small_X, sample_weight=np.full(60, 1e-50))
    plain = DenoisingAutoencoder(**FAST).fit(small_X)
    assert tiny.loss_curve_[-1] > 0
    assert not np.allclose(tiny.predict(small_X), initial.predict(small_X))
    np.testing.assert_allclose(tiny.predict(small_X), plain.predict(small_X), atol=1e-5)


@pytest.mark.parametrize(
    "weights, match",
    [
        (np.zeros(60), "only zeros|non-zero"),
        (0.0, "only zeros|non-zero"),
        (-np.ones(60), "negative"),
        (np.r_[-1e-300, np.ones(59)], "negative"),
        (np.ones(59), "sample_weight.shape"),
        (np.ones((60, 1)), "1D array"),
        (np.full(60, np.nan), "NaN"),
        (np.r_[np.inf, np.ones(59)], "infinity"),
        (np.nan, "NaN"),
        (np.inf, "infinity"),
        (["a"] * 60, "string"),
        # the positive weights must fit in float32 together
        (np.r_[1e-31, np.ones(59)], "ratio beyond 1e30"),
        (np.r_[1.0, 1e300, np.ones(58)], "ratio beyond 1e30"),
    ],
)
def test_bad_weights_are_refused_before_training(small_X, weights, match):
    dae = DenoisingAutoencoder(**FAST)
    with pytest.raises(InputError, match=match):
        dae.fit(small_X, sample_weight=weights)
    assert not hasattr(dae, "module_")
    with pytest.raises(InputError, match=match):
        dae.partial_fit(small_X, sample_weight=weights)
    assert not hasattr(dae, "module_")


def test_weights_as_far_apart_as_float32_allows_are_kept(small_X):
    weights = np.r_[1e-30, 1e-10, np.ones(58)] * 1e-200
    dae = DenoisingAutoencoder(**FAST).fit(small_X, sample_weight=weights)
    assert np.all(np.isfinite(dae.loss_curve_)) and dae.loss_curve_[-1] > 0


def test_weights_reach_the_autoencoder_through_a_pipeline(small_X):
    zeros = np.zeros(len(small_X))
    pipe = Pipeline([("dae", DenoisingAutoencoder(**FAST))])
    with pytest.raises(ValueError, match="non-zero|only zeros"):
        pipe.fit(small_X, dae__sample_weight=zeros)
    pipe.fit(small_X, dae__sample_weight=np.ones(len(small_X)))


def test_weights_are_routed_by_metadata_routing_in_a_search(digits):
    X, y = digits[0], digits[2]
    with sklearn.config_context(enable_metadata_routing=True):
        dae = DenoisingAutoencoder(**FAST).set_fit_request(sample_weight=True)
        clf = LogisticRegression(max_iter=2000).set_fit_request(sample_weight=False)
        pipe = Pipeline([("dae", dae), ("clf", clf)])
        scoring = make_scorer(accuracy_score).set_score_request(sample_weight=False)
        search = GridSearchCV(
            pipe, {"dae__latent_dim": [4, 8]}, scoring=scoring, cv=2, error_score="raise"
        )
        with pytest.raises(ValueError, match="non-zero|only zeros"):
            search.fit(X, y, sample_weight=np.zeros(len(X)))
        search.fit(X, y, sample_weight=np.ones(len(X)))
        assert search.best_params_["dae__latent_dim"] in (4, 8)


def test_the_mixed_table_recipe_runs_and_names_flow_through():
    """The user guide's recipe: ColumnTransformer -> autoencoder -> classifier."""
    pd = pytest.importorskip("pandas")
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.RandomState(0)
    frame = pd.DataFrame(
        {
            "colour": rng.choice(["red", "green", "blue"], 120),
            "size": rng.choice(["S", "M", "L"], 120),
            "weight": rng.rand(120) * 50,
            "price": rng.rand(120) * 1000,
        }
    )
    y = (frame["weight"] > 25).astype(int)
    columns = ColumnTransformer(
        [
            ("categories", OneHotEncoder(sparse_output=False), ["colour", "size"]),
            ("numbers", StandardScaler(), ["weight", "price"]),
        ]
    )
    dae = DenoisingAutoencoder(**{**FAST, "latent_dim": 3}, corruption=SwapNoise(0.15))
    pipe = Pipeline([("columns", columns), ("dae", dae), ("clf", LogisticRegression())])
    pipe.set_output(transform="pandas").fit(frame, y)
    assert list(pipe[:-1].get_feature_names_out()) == [f"denoisingautoencoder{i}" for i in range(3)]
    assert list(pipe["dae"].feature_names_in_[:2]) == [
        "categories__colour_blue",
        "categories__colour_green",
    ]
    assert pipe.score(frame, y) > 0.5
