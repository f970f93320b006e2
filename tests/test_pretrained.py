import numpy as np
import pytest

from skdae import ConvDenoisingAutoencoder, DenoisingAutoencoder, GaussianNoise
from skdae.datasets import load_mnist_sample
from skdae.metrics import peak_signal_noise_ratio
from skdae.pretrained import PRETRAINED_MODELS, load_pretrained

# name -> (class, epochs, the least PSNR gain on the bundled sample's test digits)
EXPECTED = {
    "mnist-gaussian-0.4": (DenoisingAutoencoder, 50, 8.0),
    "mnist-conv-gaussian-0.4": (ConvDenoisingAutoencoder, 20, 8.0),
    "mnist-conv-spatial-gaussian-0.4": (ConvDenoisingAutoencoder, 20, 10.0),
}


def test_every_shipped_model_is_listed_and_described():
    assert set(PRETRAINED_MODELS) == set(EXPECTED)
    assert all(len(text) > 40 for text in PRETRAINED_MODELS.values())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_pretrained_model_denoises_the_bundled_sample(name):
    cls, epochs, gain = EXPECTED[name]
    X = load_mnist_sample().X_test
    noisy = GaussianNoise(0.4, clip=(0, 1)).corrupt(X, random_state=0)
    model = load_pretrained(name)
    assert type(model) is cls and model.n_features_in_ == 784 and model.n_iter_ == epochs
    before = peak_signal_noise_ratio(X, noisy)
    assert peak_signal_noise_ratio(X, model.predict(noisy)) > before + gain


def test_the_conv_models_codes():
    assert load_pretrained("mnist-conv-gaussian-0.4").transform(np.zeros((2, 784))).shape == (
        2,
        64,
    )
    spatial = load_pretrained("mnist-conv-spatial-gaussian-0.4")
    assert spatial.latent_dim is None and spatial.transform(np.zeros((2, 784))).shape == (
        2,
        64 * 7 * 7,
    )


def test_pretrained_models_can_be_fine_tuned():
    model = load_pretrained("mnist-gaussian-0.4").set_params(warm_start=True, max_iter=1)
    model.fit(load_mnist_sample().X_train[:256])
    assert model.n_iter_ == 51


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="mnist-gaussian-0.4"):
        load_pretrained("imagenet")
