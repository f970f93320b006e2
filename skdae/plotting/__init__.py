"""Figures of a denoising autoencoder, in scikit-learn's Display style.

Importing this module does not import matplotlib; drawing does.
"""

from skdae.plotting._corruption import CorruptionDisplay
from skdae.plotting._latent_space import LatentSpaceDisplay
from skdae.plotting._loss_curve import LossCurveDisplay
from skdae.plotting._reconstruction import ReconstructionDisplay

__all__ = ["CorruptionDisplay", "LatentSpaceDisplay", "LossCurveDisplay", "ReconstructionDisplay"]
