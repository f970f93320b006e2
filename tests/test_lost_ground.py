"""A fit whose loss rose and stayed up says so (DivergenceWarning), and only then."""

import warnings

import numpy as np
import pytest
import torch
from fast_settings import FAST

from skdae import BaseCorruption, DenoisingAutoencoder
from skdae._training import LOST_GROUND_RATIO, lost_ground
from skdae.exceptions import DivergenceWarning


@pytest.mark.parametrize(
    "losses",
    [
        [0.5, 0.2, 0.1, 0.09],  # healthy
        [0.5, 0.2, 0.1, 0.11, 0.1, 0.12],  # the wobble of a fit on fresh noise each epoch
        [0.5, 0.1, 30.0, 0.14],  # a spike the fit came back from
        [0.1, 0.9],  # too few epochs to judge
        [0.0, 0.0, 0.1],  # a perfect epoch is no scale to measure by
        [0.3, 0.3, 0.3 * LOST_GROUND_RATIO],  # the ratio itself is not beyond it
    ],
)
def test_a_fit_that_kept_its_ground_is_not_flagged(losses):
    assert lost_ground(losses, first_epoch=1) is None


def test_a_rise_that_stayed_is_described_with_its_epochs():
    rise = lost_ground([0.5, 0.1, 0.08, 9.0, 0.4, 0.3], first_epoch=11)
    assert rise.startswith("The training loss ended at 0.3, 3.8 times the lowest")
    assert "(0.08, epoch 13)" in rise and "rose to 9 at epoch 14" in rise


class _TurnsWild(BaseCorruption):
    """No corruption for the first ``calm`` batches, then noise a hundred times the
    data's scale: the loss rises and cannot come back down."""

    def __init__(self, calm=20):
        self.calm = calm

    def corrupt_tensor(self, X, generator):
        self.batches_ = getattr(self, "batches_", 0) + 1
        if self.batches_ <= self.calm:
            return X.clone()
        noise = torch.randn(X.shape, generator=generator, device=X.device, dtype=X.dtype)
        return X + 100 * noise


def _structured(n=200, n_features=16):
    rng = np.random.RandomState(0)
    return rng.rand(n, 2) @ rng.rand(2, n_features) / 2  # rank 2: easy to reconstruct


def _dae(**params):
    settings = {**FAST, "max_iter": 6, "loss": "mse", "corruption": _TurnsWild(calm=14)}
    return DenoisingAutoencoder(**{**settings, **params})


def test_fit_warns_when_its_loss_rose_and_stayed_up():
    with pytest.warns(DivergenceWarning, match=r"ended at .* times the lowest") as record:
        dae = _dae().fit(_structured())  # 7 batches an epoch: calm for two epochs
    message = str(record[0].message)
    assert "learning_rate_init" in message and "max_grad_norm" in message
    assert dae.loss_curve_[-1] > LOST_GROUND_RATIO * min(dae.loss_curve_)


def test_early_stopping_keeps_the_best_weights_so_there_is_nothing_to_say():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        _dae(early_stopping=True, validation_fraction=0.2).fit(_structured())


def test_a_healthy_fit_is_quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        _dae(corruption="gaussian", max_iter=10).fit(_structured())
