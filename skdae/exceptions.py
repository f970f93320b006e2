"""Exceptions and warnings raised by skdae.

The tree, in one place::

    SkdaeError(Exception)                  base class of every skdae error
    ├── DivergenceError(SkdaeError, ValueError)
    │                                      training produced a non-finite loss
    └── ModelFileError(SkdaeError, ValueError)
                                           a model file is not one, is damaged or altered
    DeviceWarning(UserWarning)             a requested device is not available; CPU used
    OvercompleteWarning(UserWarning)       latent_dim >= n_features (legal, often unintended)
    InconsistentVersionWarning(UserWarning)
                                           a model saved with another skdae or torch version

scikit-learn's own ``NotFittedError`` and ``ConvergenceWarning`` are reused where they
fit, so code that already catches them keeps working.
"""

__all__ = [
    "DeviceWarning",
    "DivergenceError",
    "InconsistentVersionWarning",
    "ModelFileError",
    "OvercompleteWarning",
    "SkdaeError",
]


class SkdaeError(Exception):
    """Base class for the errors skdae raises itself."""


class DivergenceError(SkdaeError, ValueError):
    """Training produced a non-finite loss.

    Raised with the epoch at which it happened and a hint (lower ``learning_rate_init``,
    scale the data). It subclasses ``ValueError`` as scikit-learn's MLP does for
    non-finite weights. The estimator keeps the weights of the last finite epoch.
    """


class DeviceWarning(UserWarning):
    """The requested device is not available, so the model runs on the CPU."""


class OvercompleteWarning(UserWarning):
    """The code layer is at least as wide as the input.

    An overcomplete denoising autoencoder is legal (the corruption stops it from
    learning the identity), but it is more often a mistake than a choice.
    """


class ModelFileError(SkdaeError, ValueError):
    """A model file is not an skdae model, is truncated, or was altered after saving."""


class InconsistentVersionWarning(UserWarning):
    """A model is loaded with another skdae or torch version than it was saved with.

    scikit-learn warns the same way (with its own class) for its version.
    """
