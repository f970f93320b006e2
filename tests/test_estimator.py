"""Behaviour of DenoisingAutoencoder: learning, state, reproducibility, bad input."""

import math
import re
import sys

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from fast_settings import FAST
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

import skdae._base as base_module
from skdae import (
    DenoisingAutoencoder,
    DenoisingAutoencoderImputer,
    GaussianNoise,
    IdentityCorruption,
    MaskingNoise,
    SaltAndPepperNoise,
)
from skdae.exceptions import DivergenceError, InputError, OvercompleteWarning

# ------------------------------------------------------------------- learning


def test_denoises_digits_to_under_half_the_noisy_error(trained_dae, digits, digits_noisy_test):
    X_test = digits[1]
    noisy_mse = np.mean((digits_noisy_test - X_test) ** 2)
    denoised_mse = np.mean((trained_dae.predict(digits_noisy_test) - X_test) ** 2)
    assert denoised_mse < 0.5 * noisy_mse


def test_codes_feed_a_classifier(trained_dae, digits):
    # Floor 0.93: codes of the same network with untrained (random) weights reach
    # 0.83-0.87 with this classifier (seeds 0-2), and PCA with 8 components 0.91; the
    # trained codes reach about 0.96. Passing means the encoder learned the digits.
    X_train, X_test, y_train, y_test = digits
    clf = LogisticRegression(max_iter=2000).fit(trained_dae.transform(X_train), y_train)
    assert clf.score(trained_dae.transform(X_test), y_test) >= 0.93


def test_training_lowers_the_loss(trained_dae):
    curve = trained_dae.loss_curve_
    assert len(curve) == trained_dae.n_iter_ == 100
    assert curve[-1] < 0.8 * curve[0]
    assert trained_dae.best_loss_ == min(curve)
    assert trained_dae.best_epoch_ == 100
    assert trained_dae.validation_scores_ is None
    assert len(trained_dae.epoch_times_) == 100


def test_score_is_negative_reconstruction_mse(trained_dae, digits):
    X_test = digits[1]
    expected = -np.mean((trained_dae.predict(X_test) - X_test) ** 2)
    assert trained_dae.score(X_test) == pytest.approx(expected)
    untrained = DenoisingAutoencoder(**{**FAST, "max_iter": 1}).fit(digits[0])
    assert trained_dae.score(X_test) > untrained.score(X_test)


# ------------------------------------------------------------- outputs and API


def test_output_shapes(small_X):
    dae = DenoisingAutoencoder(**FAST).fit(small_X)
    codes = dae.transform(small_X)
    assert codes.shape == (60, 4)
    assert dae.predict(small_X).shape == (60, 10)
    assert dae.inverse_transform(codes).shape == (60, 10)
    np.testing.assert_allclose(dae.inverse_transform(codes), dae.predict(small_X), rtol=1e-5)
    np.testing.assert_array_equal(dae.fit_transform(small_X), codes)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_keep_the_input_dtype(small_X, dtype):
    X = small_X.astype(dtype)
    dae = DenoisingAutoencoder(**FAST).fit(X)
    assert dae.transform(X).dtype == dtype
    assert dae.predict(X).dtype == dtype
    assert dae.inverse_transform(dae.transform(X)).dtype == dtype


def test_loss_auto_picks_bce_for_unit_range_and_mse_otherwise(small_X):
    bce = DenoisingAutoencoder(**FAST).fit(small_X)
    assert (bce.loss_, bce.output_activation_) == ("bce", "sigmoid")
    assert 0 <= bce.predict(small_X).min() and bce.predict(small_X).max() <= 1
    mse = DenoisingAutoencoder(**FAST).fit(small_X * 10 - 5)
    assert (mse.loss_, mse.output_activation_) == ("mse", "identity")


def test_defaults_build_the_reference_network():
    X = np.random.RandomState(0).rand(8, 784).astype(np.float32)
    dae = DenoisingAutoencoder(max_iter=1, random_state=0).fit(X)
    lines = dae.summary().splitlines()[1:-1]
    assert [re.search(r"DENSE (\d+ -> \d+ \[\w+\])", line).group(1) for line in lines] == [
        "784 -> 256 [ReLU]",
        "256 -> 128 [ReLU]",
        "128 -> 64 [ReLU]",
        "64 -> 128 [ReLU]",
        "128 -> 256 [ReLU]",
        "256 -> 784 [Sigmoid]",
    ]
    assert isinstance(dae._optimizer, torch.optim.Adam)
    assert (dae.learning_rate, dae._optimizer.defaults["lr"]) == ("auto", 3e-3)
    assert dae.learning_rate_ == "cosine"
    assert dae._optimizer.defaults["fused"]  # torch >= 2.4 has the CPU kernel
    assert (dae.loss_, dae.batch_size) == ("bce", 128)


def test_every_setting_reaches_the_network(small_X):
    dae = DenoisingAutoencoder(
        latent_dim=3,
        hidden_layer_sizes=(7, 5),
        activation="tanh",
        output_activation="identity",
        loss="mse",
        solver="sgd",
        learning_rate_init=0.05,
        alpha=0.01,
        max_iter=2,
        random_state=0,
    ).fit(small_X)
    encoder_widths = [m.out_features for m in dae.module_.encoder if hasattr(m, "out_features")]
    assert encoder_widths == [7, 5, 3]
    assert isinstance(dae.module_.encoder[1], torch.nn.Tanh)
    assert isinstance(dae.module_.output_activation, torch.nn.Identity)
    assert isinstance(dae._optimizer, torch.optim.SGD)
    assert dae._optimizer.defaults["lr"] == 0.05
    assert dae._optimizer.defaults["weight_decay"] == 0.01
    assert dae.n_iter_ == 2


def test_latent_activation_sets_the_code_layer_and_auto_follows_activation(small_X):
    params = dict(FAST, activation="tanh")
    auto = DenoisingAutoencoder(**params).fit(small_X)
    assert isinstance(auto.module_.encoder[-1], torch.nn.Tanh)
    linear = DenoisingAutoencoder(**params, latent_activation="identity").fit(small_X)
    assert isinstance(linear.module_.encoder[-1], torch.nn.Identity)
    assert isinstance(linear.module_.encoder[1], torch.nn.Tanh)
    # Linear codes take negative values, which a ReLU code layer never does.
    relu_codes = DenoisingAutoencoder(**FAST).fit(small_X).transform(small_X)
    linear_codes = (
        DenoisingAutoencoder(**FAST, latent_activation="identity").fit(small_X).transform(small_X)
    )
    assert relu_codes.min() >= 0 and linear_codes.min() < 0


def test_y_is_ignored(small_X):
    y = np.arange(60) % 3
    a = DenoisingAutoencoder(**FAST).fit(small_X, y)
    b = DenoisingAutoencoder(**FAST).fit(small_X)
    np.testing.assert_array_equal(a.transform(small_X), b.transform(small_X))


def test_pandas_output_and_feature_names(small_X):
    pd = pytest.importorskip("pandas")
    columns = [f"pixel{i}" for i in range(10)]
    frame = pd.DataFrame(small_X, columns=columns)
    dae = DenoisingAutoencoder(**FAST).set_output(transform="pandas").fit(frame)
    np.testing.assert_array_equal(dae.feature_names_in_, columns)
    codes = dae.transform(frame)
    assert isinstance(codes, pd.DataFrame)
    assert list(codes.columns) == [f"denoisingautoencoder{i}" for i in range(4)]
    assert list(dae.get_feature_names_out()) == list(codes.columns)
    assert list(codes.index) == list(frame.index)


def test_polars_input_and_output(small_X):
    """A polars frame in, polars out (scikit-learn's set_output), names kept; the
    imputer too, with its missing values given as nulls turned NaN by scikit-learn."""
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame(small_X, schema=[f"pixel{i}" for i in range(10)])
    dae = DenoisingAutoencoder(**FAST).set_output(transform="polars").fit(frame)
    assert list(dae.feature_names_in_) == frame.columns
    codes = dae.transform(frame)
    assert isinstance(codes, pl.DataFrame)
    assert codes.columns == [f"denoisingautoencoder{i}" for i in range(4)]
    on_numpy = DenoisingAutoencoder(**FAST).fit(small_X)  # the same model, from numpy
    np.testing.assert_array_equal(codes.to_numpy(), on_numpy.transform(small_X))
    np.testing.assert_array_equal(dae.predict(frame), on_numpy.predict(small_X))
    X = small_X.copy()
    X[:5, 2] = np.nan
    imputer = DenoisingAutoencoderImputer(DenoisingAutoencoder(**FAST), random_state=0)
    filled = imputer.set_output(transform="polars").fit_transform(pl.from_numpy(X))
    assert isinstance(filled, pl.DataFrame) and filled.null_count().sum_horizontal()[0] == 0
    assert not np.isnan(filled.to_numpy()).any()


def test_inference_in_chunks_matches_one_pass(small_X, monkeypatch):
    dae = DenoisingAutoencoder(**FAST).fit(small_X)
    whole = dae.predict(small_X)
    monkeypatch.setattr(base_module, "_MAX_INFERENCE_BLOCK_ROWS", 7)
    chunked_calls = []
    original = dae.module_.forward
    monkeypatch.setattr(
        dae.module_, "forward", lambda X: chunked_calls.append(len(X)) or original(X)
    )
    # Another block size is another kernel: equal to float32 rounding, not bit for bit.
    np.testing.assert_allclose(dae.predict(small_X), whole, rtol=1e-6)
    assert chunked_calls == [7] * 9  # 60 rows: 9 blocks of 7, the last one padded


@pytest.mark.parametrize("method", ["transform", "predict", "inverse_transform"])
def test_a_rows_output_does_not_depend_on_the_rows_beside_it(method):
    """Bit for bit, at the default architecture: whole, in two uneven parts, row by row
    and shifted. BLAS kernels differ with the number of rows (on AVX2 CPUs whole and
    row-by-row results differed by up to 3e-6 before inference used fixed-size blocks)."""
    from skdae.datasets import load_mnist_sample

    X = load_mnist_sample().X_test[:300]
    dae = DenoisingAutoencoder(max_iter=1, random_state=0).fit(X)
    if method == "inverse_transform":
        X = dae.transform(X)
    run = getattr(dae, method)
    whole = run(X)
    np.testing.assert_array_equal(np.concatenate([run(X[:177]), run(X[177:])]), whole)
    np.testing.assert_array_equal(
        np.concatenate([run(X[i : i + 1]) for i in range(40)]), whole[:40]
    )
    np.testing.assert_array_equal(run(X[3:]), whole[3:])


def test_fit_does_not_touch_the_users_corruption_object(small_X):
    noise = GaussianNoise(0.2)
    dae = DenoisingAutoencoder(**{**FAST, "corruption": noise}).fit(small_X)
    assert dae.corruption is noise
    assert dae.corruption_ is not noise
    assert dae.corruption_.get_params() == noise.get_params()


# ---------------------------------------------------------- reproducibility


def test_same_random_state_gives_identical_results(small_X):
    a = DenoisingAutoencoder(**FAST).fit(small_X)
    b = DenoisingAutoencoder(**FAST).fit(small_X)
    assert a.loss_curve_ == b.loss_curve_
    np.testing.assert_array_equal(a.transform(small_X), b.transform(small_X))


def test_different_random_state_gives_different_results(small_X):
    a = DenoisingAutoencoder(**FAST).fit(small_X)
    b = DenoisingAutoencoder(**{**FAST, "random_state": 1}).fit(small_X)
    assert a.loss_curve_ != b.loss_curve_


def test_fit_leaves_the_global_torch_rng_alone(small_X):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    DenoisingAutoencoder(**FAST).fit(small_X)
    assert torch.equal(torch.rand(3), expected)


# --------------------------------------- early stopping, warm start, partial_fit


def test_early_stopping_stops_and_restores_the_best_epoch(digits):
    X_train = digits[0]
    # A constant rate: a run with a different max_iter then takes the same steps.
    params = dict(
        FAST,
        learning_rate="constant",
        learning_rate_init=0.03,
        early_stopping=True,
        n_iter_no_change=3,
        tol=10.0,
    )
    # A huge tol: after the first epoch none counts as an improvement, so patience
    # runs out at epoch 1 + 3.
    dae = DenoisingAutoencoder(**{**params, "max_iter": 50}).fit(X_train)
    assert dae.n_iter_ == 4
    assert len(dae.validation_scores_) == len(dae.loss_curve_) == 4
    best = int(np.argmax(dae.validation_scores_)) + 1
    assert dae.best_epoch_ == best
    assert dae.best_loss_ == -max(dae.validation_scores_)
    # The same run cut at the best epoch holds exactly the weights that were restored.
    reference = DenoisingAutoencoder(**{**params, "max_iter": best}).fit(X_train)
    np.testing.assert_array_equal(dae.predict(X_train), reference.predict(X_train))


def test_early_stopping_restores_best_when_the_last_epoch_is_worse(digits):
    # A high constant rate makes the validation loss bumpy; the first seed whose last
    # epoch is not its best shows that the best one, not the last, is restored.
    X_train = digits[0]
    for seed in range(5):
        params = dict(FAST, learning_rate="constant", learning_rate_init=0.05, random_state=seed)
        dae = DenoisingAutoencoder(
            **dict(params, max_iter=30), early_stopping=True, n_iter_no_change=30
        ).fit(X_train)
        assert dae.best_epoch_ == int(np.argmax(dae.validation_scores_)) + 1
        if dae.best_epoch_ < dae.n_iter_:
            break
    else:
        pytest.fail("every seed's best validation epoch was its last: no case to check")
    reference = DenoisingAutoencoder(
        **dict(params, max_iter=dae.best_epoch_), early_stopping=True, n_iter_no_change=30
    ).fit(X_train)
    np.testing.assert_array_equal(dae.transform(X_train), reference.transform(X_train))


def test_warm_start_continues_exactly_at_a_constant_rate(small_X):
    params = dict(FAST, max_iter=2, warm_start=True, learning_rate="constant")
    warm = DenoisingAutoencoder(**params).fit(small_X).fit(small_X)
    straight = DenoisingAutoencoder(**dict(params, max_iter=4)).fit(small_X)
    assert warm.n_iter_ == 4
    assert warm.loss_curve_ == straight.loss_curve_
    np.testing.assert_array_equal(warm.transform(small_X), straight.transform(small_X))


def test_without_warm_start_fit_starts_afresh(small_X):
    dae = DenoisingAutoencoder(**dict(FAST, max_iter=2)).fit(small_X)
    first = dae.loss_curve_
    dae.fit(small_X)
    assert dae.n_iter_ == 2 and dae.loss_curve_ == first


def test_partial_fit_epochs_equal_fit_epochs(small_X):
    # With the cosine asked for, max_iter partial_fit calls are the epochs of one fit.
    params = dict(FAST, learning_rate="cosine")
    dae = DenoisingAutoencoder(**params)
    for _ in range(3):
        dae.partial_fit(small_X)
    straight = DenoisingAutoencoder(**params).fit(small_X)
    assert dae.n_iter_ == 3
    assert dae.loss_curve_ == straight.loss_curve_
    np.testing.assert_array_equal(dae.transform(small_X), straight.transform(small_X))


def test_partial_fit_continues_after_fit(small_X):
    dae = DenoisingAutoencoder(**FAST).fit(small_X)
    dae.partial_fit(small_X[:20])
    assert dae.n_iter_ == 4 and len(dae.loss_curve_) == 4


def test_partial_fit_rejects_a_new_width(small_X):
    dae = DenoisingAutoencoder(**FAST).partial_fit(small_X)
    with pytest.raises(
        ValueError, match="X has 5 features, but DenoisingAutoencoder is expecting 10"
    ):
        dae.partial_fit(small_X[:, :5])


def test_pre_corrupted_pairs_are_used_as_given(small_X):
    noisy = MaskingNoise(0.3).corrupt(small_X, random_state=0)
    # With identity corruption and X_noisy=X, the pairs path must equal ordinary training.
    plain = DenoisingAutoencoder(**FAST, corruption=IdentityCorruption()).fit(small_X)
    pairs = DenoisingAutoencoder(**FAST, corruption="gaussian").fit(small_X, X_noisy=small_X)
    assert plain.loss_curve_ == pairs.loss_curve_
    learned = DenoisingAutoencoder(**FAST).fit(small_X, X_noisy=noisy)
    assert learned.loss_curve_ != pairs.loss_curve_
    DenoisingAutoencoder(**FAST).partial_fit(small_X, X_noisy=noisy)


def test_pre_corrupted_pairs_with_early_stopping(small_X):
    noisy = MaskingNoise(0.3).corrupt(small_X, random_state=0)
    dae = DenoisingAutoencoder(**FAST, early_stopping=True).fit(small_X, X_noisy=noisy)
    assert len(dae.validation_scores_) == dae.n_iter_


# ------------------------------------------------------------------ verbose


def test_silent_by_default(small_X, capsys):
    DenoisingAutoencoder(**FAST).fit(small_X)
    assert capsys.readouterr() == ("", "")


def test_verbose_prints_one_line_per_epoch(small_X, capsys):
    DenoisingAutoencoder(**FAST, verbose=1, early_stopping=True).fit(small_X)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert re.fullmatch(r"epoch 1/3  loss \d\.\d{6}  val_loss \d\.\d{6}  \d+\.\d\ds", lines[0])


def test_verbose_2_shows_live_progress_on_a_terminal(small_X, capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    DenoisingAutoencoder(**FAST, verbose=2).fit(small_X)
    captured = capsys.readouterr()
    assert "\r  60/60 samples (100%)" in captured.err
    assert len(captured.out.splitlines()) == 3


def test_verbose_2_keeps_logs_clean(small_X, capsys):
    DenoisingAutoencoder(**FAST, verbose=2).fit(small_X)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.full((2, 2), np.nan), ValueError, "holds no observed value"),
        (np.array([[np.inf, 1.0], [0.5, 0.5]]), ValueError, "infinity"),
        (np.ones(5), ValueError, "Expected 2D array"),
        (np.empty((0, 3)), ValueError, "0 sample"),
        (np.array([["a", "b"], ["c", "d"]]), ValueError, "could not convert|dtype='numeric'"),
        (sp.csr_matrix(np.full((2, 2), np.nan)), ValueError, "holds no observed value"),
        (sp.csr_matrix(np.array([[np.inf, 0.0], [0.5, 0.0]])), ValueError, "infinity"),
        (sp.csr_matrix((0, 3)), ValueError, "0 sample"),
        (sp.csc_matrix((3, 0)), ValueError, "0 feature"),
    ],
    ids=[
        "all missing",
        "inf",
        "1d",
        "empty",
        "strings",
        "sparse all missing",
        "sparse inf",
        "sparse no rows",
        "sparse no columns",
    ],
)
def test_fit_rejects_bad_X(X, error, match):
    with pytest.raises(error, match=match):
        DenoisingAutoencoder(**FAST).fit(X)


@pytest.mark.parametrize("method", ["transform", "predict", "score"])
def test_methods_reject_a_different_width(small_X, method):
    dae = DenoisingAutoencoder(**FAST).fit(small_X)
    with pytest.raises(
        ValueError, match="X has 9 features, but DenoisingAutoencoder is expecting 10"
    ):
        getattr(dae, method)(small_X[:, :9])


@pytest.mark.parametrize("method", ["transform", "predict", "inverse_transform", "score"])
def test_methods_refuse_before_fit(small_X, method):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(DenoisingAutoencoder(), method)(small_X)


def test_inverse_transform_rejects_the_wrong_code_width(small_X):
    dae = DenoisingAutoencoder(**FAST).fit(small_X)
    with pytest.raises(ValueError, match="codes of width 4.*got 10 columns"):
        dae.inverse_transform(small_X)


@pytest.mark.parametrize("method", ["fit", "transform", "predict", "score", "inverse_transform"])
def test_values_beyond_float32_are_refused_at_the_edge(small_X, method):
    """Finite in float64, infinite in the network's float32: an error, never NaN rows."""
    dae = DenoisingAutoencoder(**FAST, loss="mse").fit(small_X)
    width = FAST["latent_dim"] if method == "inverse_transform" else small_X.shape[1]
    huge = np.full((3, width), 1e39)
    with pytest.raises(InputError, match="beyond float32's range"):
        getattr(dae, method)(huge)


def test_x_noisy_must_match_x(small_X):
    with pytest.raises(ValueError, match="X_noisy must have the same shape as X"):
        DenoisingAutoencoder(**FAST).fit(small_X, X_noisy=small_X[:10])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"latent_dim": 0}, "'latent_dim' parameter"),
        ({"hidden_layer_sizes": (16, 0)}, "hidden_layer_sizes must contain only positive"),
        ({"hidden_layer_sizes": (-3,)}, "hidden_layer_sizes must contain only positive"),
        ({"hidden_layer_sizes": "wide"}, "'hidden_layer_sizes' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"max_iter": 0}, "'max_iter' parameter"),
        ({"learning_rate_init": 0.0}, "'learning_rate_init' parameter"),
        ({"learning_rate": "step"}, "'learning_rate' parameter"),
        ({"loss": "hinge"}, "'loss' parameter"),
        ({"activation": "swish"}, "'activation' parameter"),
        ({"solver": "lbfgs"}, "'solver' parameter"),
        ({"corruption": "blur"}, "'corruption' parameter"),
        ({"corruption": GaussianNoise(std=-1)}, "'std' parameter of GaussianNoise"),
        ({"corruption": GaussianNoise(clip=(1, 0))}, "clip must satisfy low <= high"),
        ({"validation_fraction": 1.0}, "'validation_fraction' parameter"),
        ({"device": "quantum"}, "device='quantum' is not a device torch understands"),
        ({"loss": "bce", "output_activation": "identity"}, "loss='bce' needs output_activation"),
        ({"latent_dim": True}, "latent_dim=True is a bool"),
        ({"batch_size": True}, "batch_size=True is a bool"),
        ({"max_iter": True}, "max_iter=True is a bool"),
        ({"hidden_layer_sizes": (10**12,)}, "parameters, which needs about .* GiB to train"),
        ({"corruption": SaltAndPepperNoise(low=float("nan"))}, "'low' parameter"),
        ({"corruption": SaltAndPepperNoise(high=float("inf"))}, "'high' parameter"),
        ({"corruption": SaltAndPepperNoise(low=2, high=1)}, r"\(low, high\) must satisfy"),
        ({"corruption": MaskingNoise(value=float("nan"))}, "'value' parameter"),
    ],
)
def test_invalid_parameters_are_refused_at_fit(small_X, params, match):
    with pytest.raises(ValueError, match=match):
        DenoisingAutoencoder(**{**FAST, **params}).fit(small_X)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_requesting_missing_cuda_is_an_error_at_fit(small_X):
    with pytest.raises(ValueError, match="CUDA is not available. Pass device='auto'"):
        DenoisingAutoencoder(**FAST, device="cuda").fit(small_X)


def test_overcomplete_code_warns(small_X):
    with pytest.warns(OvercompleteWarning, match="latent_dim=10 is not smaller than the 10"):
        DenoisingAutoencoder(**{**FAST, "latent_dim": 10}).fit(small_X)


def test_bce_refuses_data_outside_unit_range(small_X):
    with pytest.raises(ValueError, match=r"loss='bce' needs the clean X in \[0, 1\].*loss='mse'"):
        DenoisingAutoencoder(**FAST, loss="bce").fit(small_X * 3)


def test_bce_model_refuses_later_data_outside_unit_range(small_X):
    dae = DenoisingAutoencoder(**FAST).fit(small_X)
    with pytest.raises(ValueError, match=r"got values in \[-0.992, 2\]"):
        dae.partial_fit(small_X * 3 - 1)


def test_early_stopping_needs_more_than_one_sample():
    with pytest.raises(ValueError, match="n_samples = 1"):
        DenoisingAutoencoder(**FAST, early_stopping=True).fit(np.ones((1, 10)) / 2)


def test_one_sample_fits_without_early_stopping():
    dae = DenoisingAutoencoder(**FAST).fit(np.full((1, 10), 0.5))
    assert dae.n_iter_ == 3


def test_divergence_is_reported_and_the_model_stays_finite(small_X):
    dae = DenoisingAutoencoder(**FAST, loss="mse").fit(small_X)
    before = dae.predict(small_X)
    dae.set_params(warm_start=True)
    with pytest.raises(DivergenceError, match="diverged at epoch 4.*Lower learning_rate_init"):
        dae.fit(small_X * 1e25)  # the squared error overflows float32
    assert dae.n_iter_ == 3 and len(dae.loss_curve_) == 3
    np.testing.assert_array_equal(dae.predict(small_X), before)
    assert all(torch.isfinite(p).all() for p in dae.module_.parameters())
    # The model is the one from before the call, so training goes on from it.
    dae.fit(small_X)
    assert dae.n_iter_ == 6 and all(math.isfinite(v) for v in dae.loss_curve_)


def test_clone_keeps_parameters_and_drops_fitted_state(small_X):
    dae = DenoisingAutoencoder(**FAST, corruption=GaussianNoise(0.3)).fit(small_X)
    copy = clone(dae)
    assert not hasattr(copy, "module_")
    assert copy.get_params()["corruption__std"] == 0.3
    assert copy.corruption is not dae.corruption


@pytest.mark.parametrize("dtype", [np.uint8, np.int64])
def test_integer_images_beyond_one_get_a_warning_that_says_what_to_do(small_X, dtype):
    """0..255 integers once trained silently with MSE and a negligible default noise."""
    from skdae.exceptions import IntegerDataWarning

    pixels = np.round(small_X * 255).astype(dtype)
    with pytest.warns(IntegerDataWarning, match=r"up to 25\d.*pass X / 255.*X.astype\(float\)"):
        DenoisingAutoencoder(**FAST).fit(pixels)


@pytest.mark.parametrize(
    "make", [lambda X: np.round(X * 255), lambda X: (X > 0.5).astype(np.int64)]
)
def test_floats_and_binary_integers_train_without_that_warning(small_X, make):
    DenoisingAutoencoder(**FAST).fit(make(small_X))  # warnings are errors in this suite


def test_html_repr_shows_parameters_and_fitted_attributes(small_X):
    """What Jupyter draws (scikit-learn 1.9): the parameter table, and once fitted the
    fitted-attributes table with skdae's own attributes, torch objects included."""
    dae = DenoisingAutoencoder(**FAST)
    # (The parameter tooltips quote the docstring, which names fitted attributes too.)
    assert "latent_dim" in dae._repr_html_() and "Fitted attributes" not in dae._repr_html_()
    html = dae.fit(small_X)._repr_html_()
    assert "Fitted attributes" in html
    for name in ("n_iter_", "loss_curve_", "best_loss_", "module_", "n_features_in_"):
        assert name in html, name
