"""Denoising autoencoders for scikit-learn, powered by PyTorch."""

from skdae._conv_estimator import ConvDenoisingAutoencoder
from skdae._corruption import (
    BaseCorruption,
    Compose,
    GaussianNoise,
    IdentityCorruption,
    MaskingNoise,
    SaltAndPepperNoise,
    SwapNoise,
)
from skdae._dense_estimator import DenoisingAutoencoder
from skdae._imputer import DenoisingAutoencoderImputer
from skdae._version import __version__

__all__ = [
    "BaseCorruption",
    "Compose",
    "ConvDenoisingAutoencoder",
    "DenoisingAutoencoder",
    "DenoisingAutoencoderImputer",
    "GaussianNoise",
    "IdentityCorruption",
    "MaskingNoise",
    "SaltAndPepperNoise",
    "SwapNoise",
    "__version__",
]
