"""Exceptions and warnings raised by skdae.

Every error that skdae raises itself derives from :class:`SkdaeError` and from the
standard type that code already catches for that kind of problem (``ValueError`` for
bad content, ``OSError`` for failed I/O). The tree, in one place::

    SkdaeError(Exception)                  base class of every skdae error
    ├── DivergenceError(SkdaeError, ValueError)
    │                                      training produced a non-finite loss
    ├── InputError(SkdaeError, ValueError) data or parameters skdae cannot use
    ├── ModelFileError(SkdaeError, ValueError)
    │                                      a model file is not one, is damaged or invalid
    ├── DataFileError(SkdaeError, ValueError)
    │   │                                  a data file cannot be read or written as data
    │   ├── IDXFormatError(DataFileError)  a file is not well-formed IDX
    │   └── ChecksumError(DataFileError)   a file's MD5 is not the expected one
    ├── DownloadError(SkdaeError, OSError) no mirror delivered a data file
    └── WriteError(SkdaeError, OSError)    an output cannot be written (no permission,
                                           read-only, disk full)

    DeviceWarning(UserWarning)             a requested device is not available; CPU used
    OvercompleteWarning(UserWarning)       latent_dim >= n_features (legal, often unintended)
    InconsistentVersionWarning(UserWarning)
                                           a model saved with another skdae or torch version
    SampleDataWarning(UserWarning)         the bundled MNIST sample stands in for the full set
    IntegerDataWarning(UserWarning)        integer X beyond [0, 1] (8-bit images not / 255?)
    EmptyFeatureWarning(UserWarning)       a feature is missing (NaN) in every training sample
    PrecisionWarning(UserWarning)          the products do not run at the precision asked for
    ImageShapeWarning(UserWarning)         image_shape='auto' read rows as 1-D signals
    DivergenceWarning(UserWarning)         a fit's loss rose and stayed up: the model got worse

    FitInterrupted(KeyboardInterrupt)      Ctrl-C stopped a fit; says what the model kept

scikit-learn's own ``NotFittedError`` and ``ConvergenceWarning`` are reused where they
fit, so code that already catches them keeps working.
"""

__all__ = [
    "ChecksumError",
    "DataFileError",
    "DeviceWarning",
    "DivergenceError",
    "DivergenceWarning",
    "DownloadError",
    "EmptyFeatureWarning",
    "FitInterrupted",
    "IDXFormatError",
    "ImageShapeWarning",
    "InconsistentVersionWarning",
    "InputError",
    "IntegerDataWarning",
    "ModelFileError",
    "OvercompleteWarning",
    "PrecisionWarning",
    "SampleDataWarning",
    "SkdaeError",
    "WriteError",
]


class SkdaeError(Exception):
    """Base class for the errors skdae raises itself."""


class DivergenceError(SkdaeError, ValueError):
    """Training produced a non-finite loss.

    Raised with the epoch at which it happened and a hint (lower ``learning_rate_init``,
    scale the data). It subclasses ``ValueError`` as scikit-learn's MLP does for
    non-finite weights. The estimator is left as it was before the call to ``fit``.
    """


class InputError(SkdaeError, ValueError):
    """Data or parameters that skdae cannot use; the message says why and what to do.

    Raised by skdae's own checks (data outside the range a loss needs, a device that is
    missing, a corruption parameter out of range, ...). scikit-learn's own validation
    (``InvalidParameterError``, the checks of ``X``) raises its usual errors.
    """


class ModelFileError(SkdaeError, ValueError):
    """A model file cannot be loaded; the message names the file and the problem.

    The one error of :meth:`~skdae.DenoisingAutoencoder.load`, whatever is wrong: not a
    model file, truncated or damaged (the digest), a value the estimator's validation
    refuses, tensors that do not fit the architecture, optimizer state that does not
    fit the network, or a missing or wrong signature when a key is given.
    """


class DataFileError(SkdaeError, ValueError):
    """A data file could not be read or written; the message says why and what to do."""


class IDXFormatError(DataFileError):
    """A file is not a well-formed IDX file.

    Raised with the file name, what was expected and what was found (bad magic
    number, unknown type code, truncated payload, trailing bytes, undecodable
    gzip stream).
    """


class ChecksumError(DataFileError):
    """A file's MD5 digest differs from the expected one: it exists, its content is wrong."""


class DownloadError(SkdaeError, OSError):
    """No mirror delivered a file with the expected checksum.

    The message lists each URL tried with its error and says where to put the
    file by hand. Subclasses :class:`OSError`, like the network errors it wraps.
    """


class WriteError(SkdaeError, OSError):
    """An output file or folder cannot be written; the message names it and says why.

    Raised by the command line for an output folder it cannot create or write in (no
    permission, a read-only file system, a file where a folder is needed) and for a
    write that fails half way (a full disk). Whatever was there before is kept.
    Subclasses :class:`OSError`, like the errors it wraps.
    """


class DeviceWarning(UserWarning):
    """The requested device is not available, so the model runs on the CPU."""


class OvercompleteWarning(UserWarning):
    """The code layer is at least as wide as the input.

    An overcomplete denoising autoencoder is legal (the corruption stops it from
    learning the identity), but it is more often a mistake than a choice.
    """


class InconsistentVersionWarning(UserWarning):
    """A model is loaded with another skdae or torch version than it was saved with.

    scikit-learn warns the same way (with its own class) for its version.
    """


class SampleDataWarning(UserWarning):
    """Data come from the bundled MNIST sample, not the full data set.

    Emitted by :func:`skdae.datasets.load_mnist` with ``fallback="sample"`` when the
    official files are missing. The message says how to get the full set. Silence it
    with ``warnings.simplefilter("ignore", SampleDataWarning)`` when the sample is what
    you want, or call :func:`skdae.datasets.load_mnist_sample` directly; the returned
    Bunch's ``source`` says which data were loaded.
    """


class FitInterrupted(KeyboardInterrupt):
    """Ctrl-C (``KeyboardInterrupt``) stopped ``fit`` or ``partial_fit``.

    The estimator is always left consistent. If the call completed at least one epoch,
    it keeps the model at the end of the last completed epoch (weights, optimizer state,
    ``n_iter_``, the curves and the best epoch agree), as skorch does, and
    ``model_kept`` is True; otherwise it is exactly as it was before the call
    (``model_kept`` False). The message says which. During a fit, Ctrl-C takes
    effect at the start of the next batch, so it never lands between two updates of
    the model's state; a second Ctrl-C before that stops at once. It subclasses
    ``KeyboardInterrupt``, so the interrupt still stops the program unless caught.

    Parameters
    ----------
    message : str
        What happened and what the estimator kept.

    model_kept : bool
        True when the estimator keeps the epochs that the call completed.
    """

    def __init__(self, message, *, model_kept):
        super().__init__(message)
        self.model_kept = model_kept


class IntegerDataWarning(UserWarning):
    """``fit`` got integer-typed data with values beyond 1.

    skdae's estimators use integers as numbers, as every scikit-learn estimator does.
    If they are 8-bit images, the network wants them divided by 255 (the command line
    does that itself); pass ``X.astype(float)`` to keep them as they are and silence this.
    """


class PrecisionWarning(UserWarning):
    """What a fit's matrix products run at is not what ``matmul_precision`` asked for.

    Raised when the requested format is not computed natively here (skdae trains in
    float32 instead), when it exists in torch only as a process-wide switch (``'tf32'``),
    and when a probe finds a process-wide switch set by the user changing the products.
    ``matmul_precision_`` always says what ran.
    """


class EmptyFeatureWarning(UserWarning):
    """A feature is missing (NaN) in every sample ``fit`` was given.

    Nothing can be learned about it: its reconstructions (and the imputer's fills) carry
    no information about the data.
    """


class ImageShapeWarning(UserWarning):
    """``image_shape='auto'`` read each row as a 1-D signal.

    :class:`~skdae.ConvDenoisingAutoencoder` infers only square single-channel images
    (``n_features`` a perfect square); any other width is read as a 1-D signal, which
    is wrong for colour images (3,072 values are a 3x32x32 image). The message names
    the shapes the width could be. Pass ``image_shape`` explicitly: ``(channels,
    height, width)`` for images, ``(n_features,)`` to keep the 1-D reading and silence
    this warning.
    """


class DivergenceWarning(UserWarning):
    """A fit's training loss rose and stayed up: the model got worse.

    Raised at the end of ``fit`` when the last epoch's loss is more than 1.5 times the
    lowest of that call (three epochs or more; not when early stopping restored the best
    epoch's weights): the model it leaves is worse than one it had. One step with an
    outsized update threw the weights far off, and the rest of the fit did not bring
    them back: the finite cousin of :class:`DivergenceError`. The message gives the
    epochs and what to change (``learning_rate_init``, ``max_grad_norm``,
    ``early_stopping``).
    """
