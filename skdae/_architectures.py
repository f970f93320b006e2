"""The autoencoder estimators, by the name ``skdae train --architecture`` gives them.

One table for the command line (which trains any of them and reads a model of any of
them) and for :mod:`skdae.pretrained` (whose files each say which class they hold).
"""

from skdae._conv_estimator import ConvDenoisingAutoencoder
from skdae._dense_estimator import DenoisingAutoencoder

ARCHITECTURES = {"dense": DenoisingAutoencoder, "conv": ConvDenoisingAutoencoder}
AUTOENCODERS = tuple(ARCHITECTURES.values())
