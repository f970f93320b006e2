import numpy as np
import pytest
from fast_settings import DIGITS_NOISE
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skdae import DenoisingAutoencoder


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 8x8 digits scaled to [0, 1], split 70/30, stratified."""
    data = load_digits()
    X = (data.data / 16.0).astype(np.float64)
    X_train, X_test, y_train, y_test = train_test_split(
        X, data.target, test_size=0.3, random_state=0, stratify=data.target
    )
    return X_train, X_test, y_train, y_test


@pytest.fixture(scope="session")
def digits_noisy_test(digits):
    return DIGITS_NOISE.corrupt(digits[1], random_state=1)


@pytest.fixture(scope="session")
def trained_dae(digits):
    """A DAE fitted properly on digits; shared, so tests must not modify it."""
    X_train = digits[0]
    return DenoisingAutoencoder(
        latent_dim=32,
        hidden_layer_sizes=(128,),
        corruption=DIGITS_NOISE,
        max_iter=100,
        batch_size=32,
        learning_rate_init=3e-3,
        random_state=0,
    ).fit(X_train)


@pytest.fixture
def small_X():
    return np.random.RandomState(0).rand(60, 10)
