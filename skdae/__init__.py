"""Denoising autoencoders for scikit-learn, powered by PyTorch."""

from skdae._corruption import (
    BaseCorruption,
    Compose,
    GaussianNoise,
    IdentityCorruption,
    MaskingNoise,
    SaltAndPepperNoise,
)
from skdae._estimator import DenoisingAutoencoder
from skdae._version import __version__

__all__ = [
    "BaseCorruption",
    "Compose",
    "DenoisingAutoencoder",
    "GaussianNoise",
    "IdentityCorruption",
    "MaskingNoise",
    "SaltAndPepperNoise",
    "__version__",
]
