"""Named, measured configurations of skdae's estimators.

The defaults are tuned for denoising. A preset is a set of parameters tuned for another
job, with the figures that justify it in ``benchmarks/RESULTS.md`` (and
``benchmarks/CONV.md`` for the convolutional one). :func:`make_preset` returns an
ordinary, unfitted estimator: every parameter can be overridden, searched over and
cloned as usual.
"""

from collections.abc import Callable
from dataclasses import dataclass

from skdae._conv_estimator import ConvDenoisingAutoencoder
from skdae._corruption import Compose, GaussianNoise, MaskingNoise
from skdae._dense_estimator import DenoisingAutoencoder
from skdae.exceptions import InputError

__all__ = ["PRESETS", "make_preset"]


@dataclass(frozen=True)
class Preset:
    """A named configuration: what it is for, the estimator it configures, and a
    function building its parameters.

    The parameters are built afresh on every call, so two estimators made from one
    preset never share a corruption object.
    """

    description: str
    params: Callable[[], dict]
    estimator: type = DenoisingAutoencoder


def _features_params():
    return {
        "hidden_layer_sizes": (512, 256),
        "latent_activation": "identity",
        "corruption": Compose([MaskingNoise(0.5), GaussianNoise(0.4, clip=(0.0, 1.0))]),
    }


def _conv_features_params():
    return {
        "channels": (32, 64),
        "residual_blocks": 1,
        "max_iter": 30,
        "latent_activation": "identity",
        "corruption": Compose([MaskingNoise(0.375), GaussianNoise(0.4, clip=(0.0, 1.0))]),
    }


PRESETS = {
    "features": Preset(
        description=(
            "Codes for a downstream classifier, for data scaled to [0, 1] such as "
            "images. A wider encoder (512, 256), linear codes (no unit of the code can "
            "die) and a harder corruption: half of the pixels masked to 0, then "
            "Gaussian noise of std 0.4 clipped to [0, 1]. Masking forces the network to "
            "infer digits from parts of them, which puts more of the class into the "
            "code. On MNIST, logistic regression on its 64-d codes reaches about 96% "
            "(clean) and 93% (noisy test digits), against 93% and 85% with the "
            "defaults. Its reconstructions of Gaussian-noisy inputs are worse than "
            "the defaults' (it was not trained for them): use the defaults to denoise."
        ),
        params=_features_params,
    ),
    "conv_features": Preset(
        description=(
            "Codes for a downstream classifier from a ConvDenoisingAutoencoder, for "
            "images scaled to [0, 1]. The widths of the former default (32, 64) with a "
            "residual block at every stage, linear codes, and a corruption that hides "
            "part of each image yet keeps the test noise in view: three pixels in eight "
            "masked to 0, then Gaussian noise of std 0.4 clipped to [0, 1]; 30 epochs. "
            "On MNIST, logistic regression on its 64-d codes reaches 97.1% (clean) and "
            "95.4% (noisy test digits), against 93.7% and 89.9% with the convolutional "
            "defaults. It denoises worse than the defaults: use them to denoise."
        ),
        params=_conv_features_params,
        estimator=ConvDenoisingAutoencoder,
    ),
}


def make_preset(name, **params):
    """Build an unfitted estimator from a named preset.

    Parameters
    ----------
    name : str
        One of ``PRESETS``; ``PRESETS[name].description`` says what it is for.

    **params
        Estimator parameters that override the preset's or set others, such as
        ``random_state`` or ``max_iter``.

    Returns
    -------
    estimator : DenoisingAutoencoder or ConvDenoisingAutoencoder
        An ordinary estimator of the preset's class (``PRESETS[name].estimator``),
        whose parameters are the preset's, then ``params``.

    Examples
    --------
    >>> from skdae.presets import make_preset
    >>> dae = make_preset("features", max_iter=20, random_state=0)
    >>> dae.get_params()["hidden_layer_sizes"], dae.latent_activation
    ((512, 256), 'identity')
    """
    if name not in PRESETS:
        raise InputError(f"Unknown preset {name!r}; choose one of {sorted(PRESETS)}.")
    preset = PRESETS[name]
    return preset.estimator(**{**preset.params(), **params})
