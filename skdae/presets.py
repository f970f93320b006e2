"""Named parameter sets for :class:`~skdae.DenoisingAutoencoder`, measured in benchmarks/.

``"default"`` is the estimator's defaults (the Keras tutorial's network and training).
Every preset keeps that network; presets change only how it is trained.
"""

from copy import deepcopy

__all__ = ["PRESETS", "get_preset"]

PRESETS = {
    "default": {},
}


def get_preset(name):
    """Return a fresh copy of the parameters of preset ``name``.

    Parameters
    ----------
    name : str
        One of ``PRESETS``.

    Returns
    -------
    params : dict
        Keyword arguments for :class:`~skdae.DenoisingAutoencoder`.

    Examples
    --------
    >>> from skdae import DenoisingAutoencoder
    >>> from skdae.presets import get_preset
    >>> DenoisingAutoencoder(**get_preset("default"))
    DenoisingAutoencoder()
    """
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}; choose one of {sorted(PRESETS)}.")
    return deepcopy(PRESETS[name])
