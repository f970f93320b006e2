"""Models trained by skdae and shipped with it, loaded by name.

The files live in ``skdae/pretrained_models/`` in the pickle-free format of
:meth:`DenoisingAutoencoder.save`; ``benchmarks/make_pretrained.py`` made them, and
``skdae/pretrained_models/README.md`` records how and with what result.
"""

from importlib import resources

from skdae._architectures import AUTOENCODERS
from skdae._persistence import load_estimator
from skdae.exceptions import InputError

__all__ = ["PRETRAINED_MODELS", "load_pretrained"]

PRETRAINED_MODELS = {
    "mnist-gaussian-0.4": (
        "The reference network (784-256-128-64-128-256-784, ReLU, sigmoid, BCE) trained "
        "50 epochs on the 60,000 MNIST training digits with Gaussian noise of std 0.4 "
        "clipped to [0, 1]. Input: pixels / 255, flattened to 784."
    ),
    "mnist-conv-gaussian-0.4": (
        "ConvDenoisingAutoencoder at 0.3's defaults (stride-2 convolutions of 32 and 64 "
        "channels, a 64-d dense code) trained 20 epochs on the MNIST training digits with "
        "the same noise. Input: pixels / 255, flattened to 784."
    ),
    "mnist-conv-spatial-gaussian-0.4": (
        "ConvDenoisingAutoencoder(latent_dim=None, channels=(32, 64)): the purely "
        "convolutional network (codes are its 64x7x7 feature maps), trained 20 "
        "epochs with the same noise. Input: pixels / 255, flattened to 784."
    ),
}


def load_pretrained(name):
    """Load a pretrained model shipped with skdae.

    Parameters
    ----------
    name : str
        One of ``PRETRAINED_MODELS``, e.g. ``"mnist-gaussian-0.4"``.

    Returns
    -------
    model : DenoisingAutoencoder or ConvDenoisingAutoencoder
        A fitted model, ready for ``predict`` and ``transform``; ``fit`` with
        ``warm_start=True`` fine-tunes it (with a fresh optimizer).

    Examples
    --------
    >>> from skdae.pretrained import load_pretrained
    >>> from skdae.datasets import load_mnist_sample
    >>> from skdae import GaussianNoise
    >>> X = load_mnist_sample().X_test[:100]
    >>> model = load_pretrained("mnist-gaussian-0.4")
    >>> noisy = GaussianNoise(0.4, clip=(0, 1)).corrupt(X, random_state=0)
    >>> bool(((model.predict(noisy) - X) ** 2).mean() < 0.5 * ((noisy - X) ** 2).mean())
    True
    """
    if name not in PRETRAINED_MODELS:
        raise InputError(
            f"Unknown pretrained model {name!r}; choose one of {sorted(PRETRAINED_MODELS)}."
        )
    resource = resources.files("skdae.pretrained_models").joinpath(f"{name}.skdae")
    with resources.as_file(resource) as path:
        return load_estimator(AUTOENCODERS, path)
