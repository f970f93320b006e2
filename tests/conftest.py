import socket
from urllib.parse import urlsplit

import numpy as np
import pytest
from fast_settings import DIGITS_NOISE
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skdae import DenoisingAutoencoder
from skdae.datasets import _download, _mnist


def _closed_local_port():
    """A port on 127.0.0.1 that nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Where MNIST "downloads" go in every test that does not serve files itself: a closed
# local port, so that `skdae train` and load_mnist(download=True) fail at once and fall
# back to the sample, and no test ever reaches the public mirrors.
DEAD_MIRROR = f"http://127.0.0.1:{_closed_local_port()}/mnist/"


@pytest.fixture(scope="session", autouse=True)
def _no_download_from_the_internet():
    """Tests never download from the internet, in this process or in the ones they start.

    SKDAE_MNIST_MIRROR (inherited by subprocesses) and the public mirror list both
    point at a closed local port, and any URL beyond 127.0.0.1 or a file:// URL fails
    the test. Download tests serve files from 127.0.0.1 (tests/mirror_server.py).
    Session-wide, so that module fixtures (a `skdae train` run shared by tests) are
    covered too; a test's own monkeypatch changes are undone back to this.
    """
    urlopen = _download._urlopen

    def local_only(request, timeout):
        parts = urlsplit(request.full_url)
        if parts.scheme != "file" and parts.hostname not in ("127.0.0.1", "localhost"):
            pytest.fail(f"a test tried to download from {request.full_url}")
        return urlopen(request, timeout=timeout)

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(_mnist.MIRROR_ENV, DEAD_MIRROR)
        patch.setattr(_mnist, "MNIST_MIRRORS", (DEAD_MIRROR,))
        patch.setattr(_download, "_urlopen", local_only)
        yield


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
