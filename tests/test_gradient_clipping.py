"""max_grad_norm: every step the optimizer takes has a gradient of at most that norm."""

import numpy as np
import pytest
import torch
from fast_settings import FAST
from sklearn.utils._param_validation import InvalidParameterError

from skdae import ConvDenoisingAutoencoder, DenoisingAutoencoder


def _step_norms(estimator_class, monkeypatch):
    """The norm of the gradient (all the weights together) at each optimizer step of
    the fits that follow, as the optimizer sees it."""
    norms = []
    build = estimator_class._build_optimizer

    def recording(self):
        optimizer = build(self)
        step = optimizer.step

        def recorded_step(*args, **kwargs):
            grads = [p.grad for group in optimizer.param_groups for p in group["params"]]
            norms.append(float(torch.linalg.vector_norm(torch.cat([g.flatten() for g in grads]))))
            return step(*args, **kwargs)

        optimizer.step = recorded_step
        return optimizer

    monkeypatch.setattr(estimator_class, "_build_optimizer", recording)
    return norms


def _dense(**params):
    return DenoisingAutoencoder(**{**FAST, "max_iter": 4, **params})


def _conv(**params):
    settings = dict(latent_dim=4, channels=(4,), max_iter=2, batch_size=16, random_state=0)
    return ConvDenoisingAutoencoder(**{**settings, **params})


def _images():
    return np.random.RandomState(0).rand(64, 64)  # 8x8 images, as rows


@pytest.mark.parametrize("make", [_dense, _conv], ids=["dense", "conv"])
def test_every_step_is_clipped_to_the_norm(make, monkeypatch):
    X = _images()
    norms = _step_norms(type(make()), monkeypatch)
    make().fit(X)
    free = np.array(norms)
    limit = float(np.quantile(free, 0.25))  # most steps have more than this
    norms.clear()
    make(max_grad_norm=limit).fit(X)
    clipped = np.array(norms)
    assert len(clipped) == len(free)
    assert clipped.max() <= limit * (1 + 1e-5)
    assert np.isclose(clipped, limit, rtol=1e-3).mean() > 0.5  # clipping acted


@pytest.mark.parametrize("make", [_dense, _conv], ids=["dense", "conv"])
def test_a_norm_above_every_gradient_changes_nothing(make):
    X = _images()
    free = make().fit(X)
    loose = make(max_grad_norm=1e9).fit(X)
    np.testing.assert_array_equal(free.loss_curve_, loose.loss_curve_)
    np.testing.assert_array_equal(free.predict(X), loose.predict(X))


def test_partial_fit_and_sparse_inputs_clip_too(monkeypatch):
    sparse = pytest.importorskip("scipy.sparse")
    X = sparse.random(80, 30, density=0.1, format="csr", random_state=0)
    norms = _step_norms(DenoisingAutoencoder, monkeypatch)
    dae = _dense(max_grad_norm=1e-4, corruption="masking")
    dae.partial_fit(X)
    dae.fit(X)
    assert norms and max(norms) <= 1e-4 * (1 + 1e-5)


@pytest.mark.parametrize("value", [0, -1.0, "1", float("nan")])
def test_a_bad_norm_is_refused(value):
    with pytest.raises(InvalidParameterError, match="'max_grad_norm' parameter"):
        _dense(max_grad_norm=value).fit(_images())
