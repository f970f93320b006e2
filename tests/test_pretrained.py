import numpy as np
import pytest

from skdae import DenoisingAutoencoder, GaussianNoise
from skdae.datasets import load_mnist_sample
from skdae.pretrained import PRETRAINED_MODELS, load_pretrained


def test_the_pretrained_model_denoises_the_bundled_sample():
    X = load_mnist_sample().X_test
    noisy = GaussianNoise(0.4, clip=(0, 1)).corrupt(X, random_state=0)
    model = load_pretrained("mnist-gaussian-0.4")
    assert isinstance(model, DenoisingAutoencoder) and model.n_features_in_ == 784
    noisy_mse = np.mean((noisy - X) ** 2)
    denoised_mse = np.mean((model.predict(noisy) - X) ** 2)
    assert denoised_mse < 0.5 * noisy_mse
    assert model.n_iter_ == 50


def test_every_listed_model_loads():
    for name in PRETRAINED_MODELS:
        assert load_pretrained(name).latent_dim == 64


def test_pretrained_models_can_be_fine_tuned():
    model = load_pretrained("mnist-gaussian-0.4").set_params(warm_start=True, max_iter=1)
    model.fit(load_mnist_sample().X_train[:256])
    assert model.n_iter_ == 51


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="mnist-gaussian-0.4"):
        load_pretrained("imagenet")
