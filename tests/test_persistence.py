"""Pickling: identical outputs, CPU tensors only, loads without CUDA, training goes on."""

import io
import pickle

import joblib
import numpy as np
import pytest
import torch
from fast_settings import FAST
from model_file_helpers import forge, read_raw

from skdae import ConvDenoisingAutoencoder, DenoisingAutoencoder
from skdae.exceptions import DeviceWarning


def _tensors_in(obj):
    """Every torch tensor reachable through dicts, lists and tuples."""
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _tensors_in(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from _tensors_in(value)


def _same_tree(a, b):
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a.cpu(), b.cpu())
    if isinstance(a, dict):
        return (
            isinstance(b, dict) and a.keys() == b.keys() and all(_same_tree(a[k], b[k]) for k in a)
        )
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same_tree(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def assert_same_fitted_state(loaded, original):
    """Every attribute that fit set, found by looking (not from a list kept by hand),
    is equal in ``loaded``: weights, optimizer state, curves, names, corruption."""
    params = set(original.get_params(deep=False))
    fitted = {name for name in vars(original) if name not in params}
    assert fitted == {name for name in vars(loaded) if name not in params}
    assert {"module_", "_optimizer", "corruption_", "loss_curve_"} <= fitted
    for name in fitted:
        mine, theirs = getattr(loaded, name), getattr(original, name)
        if isinstance(mine, torch.nn.Module):
            mine, theirs = mine.state_dict(), theirs.state_dict()
        elif isinstance(mine, torch.optim.Optimizer):
            mine, theirs = mine.state_dict(), theirs.state_dict()
        elif hasattr(mine, "get_params"):
            assert type(mine) is type(theirs), name
            mine, theirs = repr(mine), repr(theirs)
        assert _same_tree(mine, theirs), name


def _fitted_with_everything(X):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])
    return DenoisingAutoencoder(**FAST, early_stopping=True).fit(frame)


@pytest.mark.parametrize("fmt", ["pickle", "safe file"])
def test_a_round_trip_keeps_every_fitted_attribute(small_X, tmp_path, fmt):
    dae = _fitted_with_everything(small_X)
    if fmt == "pickle":
        loaded = pickle.loads(pickle.dumps(dae))
    else:
        loaded = DenoisingAutoencoder.load(dae.save(tmp_path / "m.skdae"))
    assert_same_fitted_state(loaded, dae)


def test_joblib_round_trip_gives_identical_outputs(small_X, tmp_path):
    dae = DenoisingAutoencoder(**FAST).fit(small_X)
    joblib.dump(dae, tmp_path / "dae.joblib")
    loaded = joblib.load(tmp_path / "dae.joblib")
    for method in ("transform", "predict"):
        np.testing.assert_array_equal(
            getattr(loaded, method)(small_X), getattr(dae, method)(small_X)
        )
    assert loaded.loss_curve_ == dae.loss_curve_
    assert loaded.get_params() == dae.get_params()


def test_the_pickle_holds_cpu_tensors_and_no_module(small_X):
    dae = DenoisingAutoencoder(**FAST).fit(small_X)
    state = dae.__getstate__()
    assert "module_" not in state and "_optimizer" not in state
    tensors = list(_tensors_in(state))
    assert tensors and all(t.device.type == "cpu" for t in tensors)
    assert not any(isinstance(v, torch.nn.Module) for v in state.values())


def test_saving_does_not_alter_the_estimator(small_X):
    dae = DenoisingAutoencoder(**FAST).fit(small_X)
    before = dict(vars(dae))
    pickle.dumps(dae)
    assert vars(dae).keys() == before.keys()
    assert all(vars(dae)[k] is before[k] for k in before)


def test_an_unfitted_estimator_pickles():
    loaded = pickle.loads(pickle.dumps(DenoisingAutoencoder(latent_dim=3)))
    assert loaded.latent_dim == 3 and not hasattr(loaded, "module_")


def _two_partial_fits(X, params):
    dae = DenoisingAutoencoder(**params)
    for _ in range(2):
        dae.partial_fit(X)
    return dae


def test_training_resumes_after_loading_exactly(small_X):
    # Mid-way through the learning-rate schedule: the optimizer state and the
    # schedule's position travel with the model.
    params = dict(FAST, max_iter=4, learning_rate="cosine")
    resumed = pickle.loads(pickle.dumps(_two_partial_fits(small_X, params)))
    for _ in range(2):
        resumed.partial_fit(small_X)
    straight = DenoisingAutoencoder(**params).fit(small_X)
    assert resumed.loss_curve_ == straight.loss_curve_
    np.testing.assert_array_equal(resumed.predict(small_X), straight.predict(small_X))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_cuda_model_loads_on_the_cpu_with_a_warning(small_X, monkeypatch):
    """Fit 'on CUDA' (device resolution patched), then load where CUDA is missing."""
    import skdae._base as base_module

    monkeypatch.setattr(base_module, "resolve_device", lambda device, **kw: torch.device("cpu"))
    dae = DenoisingAutoencoder(**FAST, device="cuda").fit(small_X)
    blob = io.BytesIO()
    joblib.dump(dae, blob)
    monkeypatch.undo()
    blob.seek(0)
    with pytest.warns(DeviceWarning, match="CUDA is not available; using the CPU"):
        loaded = joblib.load(blob)
    assert loaded.device_ == torch.device("cpu")
    assert loaded.device == "cuda"  # the user's parameter is kept as given
    np.testing.assert_array_equal(loaded.predict(small_X), dae.predict(small_X))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_model_fitted_on_cuda_pickles_to_cpu_tensors(small_X):
    dae = DenoisingAutoencoder(**FAST, device="cuda").fit(small_X)
    assert next(dae.module_.parameters()).device.type == "cuda"
    state = dae.__getstate__()
    assert all(t.device.type == "cpu" for t in _tensors_in(state))
    loaded = pickle.loads(pickle.dumps(dae))
    np.testing.assert_allclose(loaded.predict(small_X), dae.predict(small_X), rtol=1e-5)


# ------------------------------------------------------- version stamps


def test_a_pickle_from_another_version_warns(small_X, monkeypatch):
    from skdae.exceptions import InconsistentVersionWarning

    dae = DenoisingAutoencoder(**FAST).fit(small_X)
    state = dae.__getstate__()
    assert state["_skdae_versions"]["torch"] == torch.__version__
    state["_skdae_versions"] = {**state["_skdae_versions"], "skdae": "0.0.1"}
    restored = DenoisingAutoencoder.__new__(DenoisingAutoencoder)
    with pytest.warns(InconsistentVersionWarning, match="saved with skdae 0.0.1"):
        restored.__setstate__(state)
    np.testing.assert_array_equal(restored.predict(small_X), dae.predict(small_X))


# ------------------------------------------------------- the safe format


@pytest.fixture
def saved(small_X, tmp_path):
    from skdae import GaussianNoise, MaskingNoise
    from skdae._corruption import Compose

    corruption = Compose([GaussianNoise(0.2, clip=(0, 1)), MaskingNoise(0.1)])
    dae = DenoisingAutoencoder(**FAST, corruption=corruption, early_stopping=True).fit(small_X)
    return dae, dae.save(tmp_path / "model.skdae")


def test_safe_format_round_trip_is_bit_identical(saved, small_X):
    dae, path = saved
    loaded = DenoisingAutoencoder.load(path)
    for method in ("transform", "predict"):
        np.testing.assert_array_equal(
            getattr(loaded, method)(small_X), getattr(dae, method)(small_X)
        )
    assert loaded.get_params(deep=True).keys() == dae.get_params(deep=True).keys()
    assert repr(loaded) == repr(dae)
    for name in ("loss_curve_", "validation_scores_", "n_iter_", "best_epoch_", "loss_"):
        assert getattr(loaded, name) == getattr(dae, name)
    assert loaded.corruption_.get_params()["corruptions"][0].clip == (0, 1)


def test_safe_format_keeps_training_exactly(small_X, tmp_path):
    params = dict(FAST, max_iter=4, learning_rate="cosine")
    dae = _two_partial_fits(small_X, params)
    resumed = DenoisingAutoencoder.load(dae.save(tmp_path / "m.skdae"))
    for _ in range(2):
        resumed.partial_fit(small_X)
    straight = DenoisingAutoencoder(**params).fit(small_X)
    assert resumed.loss_curve_ == straight.loss_curve_


def test_safe_format_keeps_feature_names(small_X, tmp_path):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(small_X, columns=[f"c{i}" for i in range(10)])
    dae = DenoisingAutoencoder(**FAST).fit(frame)
    loaded = DenoisingAutoencoder.load(dae.save(tmp_path / "m.skdae"))
    assert list(loaded.feature_names_in_) == list(frame.columns)
    loaded.transform(frame)  # no feature-name warning (warnings are errors here)


def test_the_safe_file_is_safetensors_with_a_json_document(saved):
    _, path = saved
    document, tensors = read_raw(path)
    assert document["params"]["corruption"]["class"] == "Compose"
    assert document["versions"]["torch"] == torch.__version__
    assert document["format_version"] == 2
    assert {name.split(".")[0] for name in tensors} == {"module", "optimizer"}
    assert all(t.dtype == torch.float32 for t in tensors.values())


def test_a_custom_corruption_cannot_use_the_safe_format(small_X, tmp_path):
    from skdae import BaseCorruption

    class Invert(BaseCorruption):
        def corrupt_tensor(self, X, generator):
            return 1 - X

    dae = DenoisingAutoencoder(**FAST, corruption=Invert()).fit(small_X)
    with pytest.raises(ValueError, match="Save with joblib.dump instead"):
        dae.save(tmp_path / "m.skdae")
    assert not (tmp_path / "m.skdae").exists()


def test_save_before_fit_is_refused(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        DenoisingAutoencoder().save(tmp_path / "m.skdae")


def test_a_file_from_skdae_0_1_0_goes_on_training_at_a_constant_rate(small_X, tmp_path):
    """0.1.0 files have no learning-rate schedule: neither the parameter nor its origin."""

    def strip_schedule(config, tensors):
        del config["params"]["learning_rate"]
        del config["params"]["latent_activation"]
        del config["params"]["matmul_precision"]
        del config["fitted"]["_schedule_origin"]
        del config["fitted"]["matmul_precision_"]
        del config["fitted"]["_architecture"]["latent_activation"]
        config["params"]["learning_rate_init"] = 1e-3

    path = DenoisingAutoencoder(**FAST).fit(small_X).save(tmp_path / "old.skdae")
    forge(path, strip_schedule)
    loaded = DenoisingAutoencoder.load(path)
    assert (loaded.learning_rate, loaded._schedule_origin) == ("constant", 0)
    assert loaded.latent_activation == "auto"
    assert (loaded.matmul_precision, loaded.matmul_precision_) == ("float32", "float32")
    assert isinstance(loaded.module_.encoder[-1], torch.nn.ReLU)
    loaded.partial_fit(small_X)
    assert loaded._optimizer.param_groups[0]["lr"] == 1e-3
    assert loaded.matmul_precision_ == "float32"


def _flat_pickle_state(dae):
    """The pickled state as skdae 0.1 to 0.3 wrote it: every attribute at the top level,
    the weights and optimizer state as CPU tensors beside them."""
    state = {
        name: value for name, value in vars(dae).items() if name not in ("module_", "_optimizer")
    }
    state["_module_state"] = {k: v.detach().clone() for k, v in dae.module_.state_dict().items()}
    state["_optimizer_state"] = dae._optimizer.state_dict()
    state["device_"] = torch.device("cpu")
    return state


def test_a_pickle_from_skdae_0_1_0_loads_and_predicts_as_it_did(small_X):
    fitted = DenoisingAutoencoder(**FAST).fit(small_X)
    state = _flat_pickle_state(fitted)
    for name in (
        "learning_rate",
        "latent_activation",
        "_schedule_origin",
        "matmul_precision",
        "matmul_precision_",
        "max_grad_norm",
        "max_time",
        "_schedule_length",
    ):
        del state[name]
    state["_architecture"] = {
        k: v for k, v in state["_architecture"].items() if k != "latent_activation"
    }
    old = DenoisingAutoencoder.__new__(DenoisingAutoencoder)
    old.__setstate__(state)
    params = old.get_params()
    assert (params["learning_rate"], params["latent_activation"]) == ("constant", "auto")
    assert (params["matmul_precision"], old.matmul_precision_) == ("float32", "float32")
    assert params["max_grad_norm"] is params["max_time"] is None
    np.testing.assert_array_equal(old.predict(small_X), fitted.predict(small_X))
    old.partial_fit(small_X)  # and goes on training


def test_a_pickle_from_skdae_0_3_loads_with_every_fitted_attribute(small_X):
    fitted = DenoisingAutoencoder(**FAST, early_stopping=True).fit(small_X)
    old = DenoisingAutoencoder.__new__(DenoisingAutoencoder)
    old.__setstate__(_flat_pickle_state(fitted))
    assert_same_fitted_state(old, fitted)


def test_a_conv_pickle_from_before_gradient_clipping_and_time_limits_loads_without_them():
    X = np.random.RandomState(0).rand(40, 64)
    fitted = ConvDenoisingAutoencoder(latent_dim=4, channels=(4,), max_iter=1, random_state=0)
    fitted.fit(X)
    state = fitted.__getstate__()
    del state["max_grad_norm"], state["max_time"]  # pickles of 0.3 lack them
    old = ConvDenoisingAutoencoder.__new__(ConvDenoisingAutoencoder)
    old.__setstate__(state)
    assert old.get_params()["max_grad_norm"] is old.get_params()["max_time"] is None
    np.testing.assert_array_equal(old.predict(X), fitted.predict(X))
