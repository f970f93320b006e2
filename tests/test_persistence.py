"""Pickling: identical outputs, CPU tensors only, loads without CUDA, training goes on."""

import io
import pickle

import joblib
import numpy as np
import pytest
import torch

from skdae import DenoisingAutoencoder
from skdae.exceptions import DeviceWarning

from fast_settings import FAST


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


def test_joblib_round_trip_gives_identical_outputs(small_X, tmp_path):
    dae = DenoisingAutoencoder(**FAST).fit(small_X)
    joblib.dump(dae, tmp_path / "dae.joblib")
    loaded = joblib.load(tmp_path / "dae.joblib")
    for method in ("transform", "predict"):
        np.testing.assert_array_equal(getattr(loaded, method)(small_X), getattr(dae, method)(small_X))
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


def test_training_resumes_after_loading_exactly(small_X):
    params = dict(FAST, max_iter=2, warm_start=True)
    dae = DenoisingAutoencoder(**params).fit(small_X)
    resumed = pickle.loads(pickle.dumps(dae)).fit(small_X)
    straight = DenoisingAutoencoder(**dict(params, max_iter=4)).fit(small_X)
    assert resumed.loss_curve_ == straight.loss_curve_
    np.testing.assert_array_equal(resumed.predict(small_X), straight.predict(small_X))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_cuda_model_loads_on_the_cpu_with_a_warning(small_X, monkeypatch):
    """Fit 'on CUDA' (device resolution patched), then load where CUDA is missing."""
    import skdae._estimator as estimator_module

    monkeypatch.setattr(
        estimator_module, "resolve_device", lambda device, **kw: torch.device("cpu")
    )
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
