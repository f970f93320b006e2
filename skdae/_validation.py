"""The one module that imports scikit-learn's private validation API.

scikit-learn's parameter-validation helpers live in private modules; keeping every such
import here means an upgrade that moves them breaks one file, not the package.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions

from skdae.exceptions import InputError

__all__ = [
    "Integral",
    "Interval",
    "InvalidParameterError",
    "Real",
    "StrOptions",
    "check_bce_target",
    "check_hidden_layer_sizes",
    "fit_context",
]

fit_context = _fit_context


def check_hidden_layer_sizes(hidden_layer_sizes):
    """Return ``hidden_layer_sizes`` as a tuple of positive ints, or raise ValueError."""
    if isinstance(hidden_layer_sizes, (Integral, np.integer)):
        hidden_layer_sizes = (hidden_layer_sizes,)
    try:
        sizes = tuple(hidden_layer_sizes)
    except TypeError:
        raise InputError(
            "hidden_layer_sizes must be a sequence of positive integers, e.g. (256, 128); "
            f"got {hidden_layer_sizes!r}."
        ) from None
    bad = [s for s in sizes if not isinstance(s, (Integral, np.integer)) or s < 1]
    if bad:
        raise InputError(
            "hidden_layer_sizes must contain only positive integers, e.g. (256, 128); "
            f"got {hidden_layer_sizes!r}."
        )
    return tuple(int(s) for s in sizes)


def check_bce_target(X):
    """Binary cross-entropy compares against targets in [0, 1]; refuse anything else."""
    low, high = float(np.min(X)), float(np.max(X))
    if low < 0.0 or high > 1.0:
        raise InputError(
            f"loss='bce' needs the clean X in [0, 1]; got values in [{low:.3g}, {high:.3g}]. "
            "Scale X (e.g. with sklearn.preprocessing.MinMaxScaler) or pass loss='mse'."
        )
