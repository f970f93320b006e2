"""The one module that imports scikit-learn's private validation API.

scikit-learn's parameter-validation helpers live in private modules; keeping every such
import here means an upgrade that moves them breaks one file, not the package.
"""

import math
import os
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_array
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.validation import _check_feature_names_in, _check_sample_weight, validate_data

from skdae._doc_links import docs_root
from skdae._sparse import ACCEPTED_FORMATS, as_csr, is_sparse, missing_counts, observed_range
from skdae._warnings import warn
from skdae.exceptions import (
    EmptyFeatureWarning,
    InputError,
    IntegerDataWarning,
    OvercompleteWarning,
)

__all__ = [
    "HasMethods",
    "Integral",
    "Interval",
    "InvalidParameterError",
    "Real",
    "StrOptions",
    "check_bce_target",
    "check_counts_are_not_bools",
    "check_float32_range",
    "check_network_fits_in_memory",
    "check_hidden_layer_sizes",
    "fit_context",
]

fit_context = _fit_context


def check_positive_sizes(sizes, name, *, example):
    """Return ``sizes`` (a sequence of widths, or one) as a tuple of positive ints, or
    raise InputError naming the parameter ``name``."""
    if isinstance(sizes, (Integral, np.integer)) and not isinstance(sizes, bool):
        sizes = (sizes,)
    try:
        values = tuple(sizes)
    except TypeError:
        raise InputError(
            f"{name} must be a sequence of positive integers, e.g. {example}; got {sizes!r}."
        ) from None
    bad = [
        s
        for s in values
        if not isinstance(s, (Integral, np.integer)) or isinstance(s, bool) or s < 1
    ]
    if bad:
        raise InputError(
            f"{name} must contain only positive integers, e.g. {example}; got {sizes!r}."
        )
    return tuple(int(s) for s in values)


def check_hidden_layer_sizes(hidden_layer_sizes):
    """Return ``hidden_layer_sizes`` as a tuple of positive ints, or raise ValueError."""
    return check_positive_sizes(hidden_layer_sizes, "hidden_layer_sizes", example="(256, 128)")


def warn_if_overcomplete(latent_dim, n_features):
    """Warn when a code of ``latent_dim`` is not narrower than the input (stack: called
    from an estimator's ``_make_architecture``, under ``fit``)."""
    if latent_dim is not None and latent_dim >= n_features:
        warn(
            f"latent_dim={latent_dim} is not smaller than the {n_features} input "
            "features: this overcomplete autoencoder relies on the corruption alone to "
            "avoid learning the identity. Pass a smaller latent_dim if that is not what "
            "you want.",
            OvercompleteWarning,
        )


def check_bce_target(low, high):
    """Binary cross-entropy compares against targets in [0, 1]; refuse anything else
    (``low`` and ``high``: the observed range of the clean X)."""
    if low < 0.0 or high > 1.0:
        raise InputError(
            f"loss='bce' needs the clean X in [0, 1]; got values in [{low:.3g}, {high:.3g}]. "
            "Scale X (e.g. with sklearn.preprocessing.MinMaxScaler) or pass loss='mse'."
        )


def check_counts_are_not_bools(estimator, names):
    """Refuse ``True``/``False`` for integer parameters such as ``latent_dim``.

    scikit-learn's ``Interval(Integral, ...)`` accepts bools (``True`` is the int 1), which
    would build a network with a one-unit layer: almost always a mistake.
    """
    for name in names:
        value = getattr(estimator, name)
        if isinstance(value, (bool, np.bool_)):
            raise InputError(f"{name}={value!r} is a bool; {name} takes a positive integer.")


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_float32_range(X, name="X"):
    """The network computes in float32: refuse values beyond its range, which would
    turn into infinities (NaN outputs, a diverging fit) instead of an error. Missing
    values (NaN) are not values here."""
    if X.size and X.dtype.itemsize > 4:
        largest = float(np.max(np.abs(X), where=~np.isnan(X), initial=0.0))
        _check_magnitude(largest, X.dtype, name)


def _check_magnitude(largest, dtype, name):
    if dtype.itemsize > 4 and largest > _FLOAT32_MAX:
        raise InputError(
            f"{name} holds values up to {largest:.3g} in magnitude, beyond float32's range "
            f"({_FLOAT32_MAX:.3g}), in which the network computes. Scale {name} (e.g. with "
            "sklearn.preprocessing.StandardScaler) first."
        )


def available_memory_bytes():
    """Memory this machine can give now (Linux's MemAvailable), else its physical
    memory, or None where the OS says neither."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return physical_memory_bytes()


def physical_memory_bytes():
    """This machine's physical memory in bytes, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        return None


def check_network_fits_in_memory(n_parameters, described):
    """Refuse a network whose training state cannot fit in this machine's memory.

    Training keeps about six float32 copies of the weights (weights, gradients, Adam's
    two moments, the epoch checkpoint and the rollback snapshot). Refusing before
    anything is allocated gives a clear error instead of an allocator failure or the
    out-of-memory killer.
    """
    needed = 6 * 4 * n_parameters
    available = physical_memory_bytes()
    if available is not None and needed > available:
        raise InputError(
            f"{described} make a network of {n_parameters:,} parameters, which needs about "
            f"{needed / 2**30:,.1f} GiB to train; this machine has {available / 2**30:,.1f} "
            "GiB. Pass smaller layer sizes."
        )


def is_integer_typed(X):
    """True when ``X`` (an array or a DataFrame) holds integers only; False for lists."""
    try:
        if hasattr(X, "dtype"):
            return np.issubdtype(X.dtype, np.integer)
        if hasattr(X, "dtypes"):
            return len(X.dtypes) > 0 and all(np.issubdtype(d, np.integer) for d in X.dtypes)
    except TypeError:  # extension dtypes numpy does not know
        return False
    return False


def _warn_on_integer_data(high):
    """Warn when training data that came in as integers go beyond [0, 1]."""
    if high > 1:
        warn(
            f"X holds integers up to {high:.0f}. skdae uses them as numbers: loss='auto' "
            "picks MSE for data beyond [0, 1], and the corruption's parameters (a Gaussian "
            "std, ...) are in these units. If X holds 8-bit images, pass X / 255 (the "
            "skdae command line does that itself); to use the integers as they are and "
            "silence this warning, pass X.astype(float).",
            IntegerDataWarning,
        )


def has_missing_values(X):
    """Whether ``X`` holds a NaN, in one reduction and no mask the size of ``X``: a
    minimum is NaN exactly when a value is (full MNIST, float32: 15 ms against 35 ms for
    ``np.isnan(X).any()``, which the fit used to pay three times)."""
    return bool(X.size) and bool(np.isnan(np.min(X)))


def _check_observed(missing, name="X"):
    """Refuse data with no observed value; warn about features never observed
    (``missing``: the NaN mask of the data)."""
    _check_unobserved_columns(np.flatnonzero(missing.all(axis=0)), missing.shape[1], name)


def _check_unobserved_columns(never, n_features, name="X"):
    """Refuse data whose every column is ``never`` observed; warn about those that are."""
    if never.size == n_features:
        raise InputError(
            f"{name} holds no observed value (every entry is NaN); there is nothing to learn from."
        )
    if never.size:
        warn(
            f"{never.size} feature(s) of {name} are missing in every sample (columns "
            f"{never[:10].tolist()}{' ...' if never.size > 10 else ''}): the network cannot "
            "learn them, so their reconstructions carry no information. Drop them, or "
            "fit on data where they are observed.",
            EmptyFeatureWarning,
        )


# The user guide's section that shows how to feed a table with categorical columns.
TABLES_RECIPE = "user_guide.html#tables-with-categorical-columns"


def check_numeric_columns(X):
    """Refuse a DataFrame (pandas or polars) with text or categorical columns, naming
    them and pointing to the recipe that one-hot encodes them; anything else passes."""
    names = _non_numeric_columns(X)
    if not names:
        return
    shown = ", ".join(repr(str(name)) for name in names[:10])
    more = f" and {len(names) - 10} more" if len(names) > 10 else ""
    raise InputError(
        f"X has {len(names)} non-numeric column(s): {shown}{more}. The autoencoder takes "
        "numbers only: one-hot encode these columns and scale the numeric ones first, e.g. "
        "make_pipeline(make_column_transformer((OneHotEncoder(handle_unknown='ignore'), "
        "categorical_columns), (StandardScaler(), numeric_columns)), "
        "DenoisingAutoencoder()), as the user guide's 'Tables with categorical columns' "
        f"shows ({docs_root()}/{TABLES_RECIPE}). The encoder's sparse output is taken as it "
        "is."
    )


def _non_numeric_columns(X):
    module = type(X).__module__.split(".")[0]
    if module == "pandas" and hasattr(X, "dtypes"):
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        return [
            name
            for name, dtype in X.dtypes.items()
            if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype))
        ]
    if module == "polars" and hasattr(X, "schema"):
        return [
            name
            for name, dtype in X.schema.items()
            if not (dtype.is_numeric() or dtype == _polars_boolean())
        ]
    return []


def _polars_boolean():
    import polars

    return polars.Boolean


@dataclass(frozen=True)
class TrainingInput:
    """One call's training data, validated and scanned once.

    Everything a fit needs to know about ``X`` is here: later steps (the loss, the BCE
    check, the data on the device) read it and never scan ``X`` again. ``X`` is
    float32 or float64 as given, a NumPy array or a CSR matrix (see ``skdae._sparse``);
    ``missing`` is the NaN mask of a dense ``X``, or None when nothing is missing (for a
    sparse ``X``, ``sparse_missing`` says whether a stored value is NaN); ``low`` and
    ``high`` are the range of the observed values; ``integer_typed`` says that ``X`` came
    in as integers. ``X_noisy`` and ``sample_weight`` are validated against ``X`` (the
    weights scaled, float64).
    """

    X: np.ndarray
    low: float
    high: float
    missing: np.ndarray | None = None
    integer_typed: bool = False
    X_noisy: np.ndarray | None = None
    sample_weight: np.ndarray | None = None
    sparse_missing: bool = False

    @property
    def in_unit_range(self):
        return self.X.shape[0] * self.X.shape[1] > 0 and self.low >= 0.0 and self.high <= 1.0

    @property
    def is_sparse(self):
        return is_sparse(self.X)


def validate_data_X(estimator, X, *, reset):
    """scikit-learn's checks of ``X`` for every method of the family: numbers (a
    DataFrame's text or categorical columns refused by name), float32 or float64, NaN
    allowed (missing), dense or sparse (CSR as it is, CSC converted to CSR, other
    formats converted by scikit-learn), of the fitted width unless ``reset``."""
    check_numeric_columns(X)
    X = validate_data(
        estimator,
        X,
        reset=reset,
        dtype=[np.float32, np.float64],
        ensure_all_finite="allow-nan",
        accept_sparse=ACCEPTED_FORMATS,
    )
    return as_csr(X) if is_sparse(X) else X


def validate_training_input(estimator, X, X_noisy=None, sample_weight=None, *, reset):
    """Validate a fit's ``X`` (scikit-learn's checks, its width when fitted), ``X_noisy``
    and ``sample_weight`` into one :class:`TrainingInput`.

    ``X`` is reduced twice (its minimum and maximum) beyond scikit-learn's own check:
    a minimum is NaN exactly when a value is missing, and only then is a NaN mask made
    (a sparse ``X`` is reduced over its stored values only). Refuses values beyond
    float32's range and data with no observed value; warns about features never
    observed and about integers beyond [0, 1].
    """
    integer_typed = is_integer_typed(X)
    X = validate_data_X(estimator, X, reset=reset)
    missing = None
    sparse_missing = False
    if is_sparse(X):
        low, high, sparse_missing = observed_range(X)
        if sparse_missing:
            _check_observed_sparse(X)
    else:
        low, high = float(np.min(X)), float(np.max(X))
        if math.isnan(low):
            missing = np.isnan(X)
            _check_observed(missing)
            low = float(np.min(X, where=~missing, initial=np.inf))
            high = float(np.max(X, where=~missing, initial=-np.inf))
    _check_magnitude(max(abs(low), abs(high)), X.dtype, "X")
    if integer_typed:
        _warn_on_integer_data(high)
    if X_noisy is not None:
        X_noisy = _check_X_noisy(X_noisy, X)
    sample_weight = check_sample_weight(sample_weight, X)
    return TrainingInput(
        X, low, high, missing, integer_typed, X_noisy, sample_weight, sparse_missing
    )


def _check_X_noisy(X_noisy, X):
    """``X_noisy`` validated against ``X``: dense or sparse whatever ``X`` is (each is
    read a batch at a time), of the same shape, within float32's range."""
    X_noisy = check_array(
        X_noisy,
        dtype=[np.float32, np.float64],
        ensure_all_finite="allow-nan",
        accept_sparse=ACCEPTED_FORMATS,
        input_name="X_noisy",
    )
    if X_noisy.shape != X.shape:
        raise InputError(
            f"X_noisy must have the same shape as X; got {X_noisy.shape} and "
            f"{X.shape}. Pass one noisy row for each clean row."
        )
    if is_sparse(X_noisy):
        X_noisy = as_csr(X_noisy)
        check_float32_range(X_noisy.data, "X_noisy")
    else:
        check_float32_range(X_noisy, "X_noisy")
    return X_noisy


def _check_observed_sparse(X):
    """:func:`_check_observed` for a sparse ``X`` whose stored values include NaN."""
    columns, counts = missing_counts(X)
    _check_unobserved_columns(columns[counts == X.shape[0]], X.shape[1])


# Training computes in float32 and guards a batch's total weight below by 1e-30: positive
# weights that span more than this ratio cannot all count as given (float32 flushes
# the smallest to 0 below 1.2e-38, and a batch holding only those would be mis-scaled).
_WEIGHT_RANGE = 1e30


def check_sample_weight(sample_weight, X):
    """``sample_weight`` as float64 of one weight per row of ``X``, scaled so that the
    largest is 1; or None.

    Weights enter the loss as a weighted mean, so their scale means nothing; training
    casts them to float32, where weights such as 1e-50 would all become 0 (and 1e50
    infinity). Dividing by the largest in float64 first makes the fit the same for
    ``w`` and ``w * c`` for every ``c > 0``. Refused with an
    :class:`~skdae.exceptions.InputError`: a wrong shape, NaN or infinity, a negative
    weight, only zeros (as scikit-learn 1.9 does, whatever its version), and positive
    weights more than 1e30 apart, which float32 cannot hold together.
    """
    if sample_weight is None:
        return None
    hint = "Give each sample of X one finite, non-negative weight, at least one of them positive."
    try:
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
    except (TypeError, ValueError) as error:  # shape, NaN, infinity, text, all zeros (1.9)
        reason = str(error).rstrip(".!")
        raise InputError(f"sample_weight is not usable: {reason}. {hint}") from None
    if not np.all(np.isfinite(sample_weight)):  # a scalar NaN or infinity
        raise InputError(f"sample_weight holds NaN or infinity. {hint}")
    if np.any(sample_weight < 0):
        raise InputError(
            f"sample_weight holds negative values (the smallest is "
            f"{float(sample_weight.min()):.3g}); a weight says how much a sample counts, "
            f"from 0 (not at all) up. {hint}"
        )
    largest = float(sample_weight.max())
    if largest == 0:
        raise InputError(
            "sample_weight holds only zeros: no sample would count. Give at least one "
            "sample a positive weight."
        )
    sample_weight = sample_weight / largest
    smallest = float(np.min(sample_weight, where=sample_weight > 0, initial=1.0))
    if smallest < 1 / _WEIGHT_RANGE:
        raise InputError(
            f"sample_weight's positive weights span from {smallest * largest:.3g} to "
            f"{largest:.3g}, a ratio beyond 1e30: training computes in "
            "float32, in which the smallest would count as 0 or be mis-scaled. Set the "
            "weights of samples that should not count to 0, or compress the range "
            "(e.g. w ** 0.5)."
        )
    return sample_weight


def check_feature_names_in(estimator, input_features):
    """scikit-learn's resolution of ``input_features`` for ``get_feature_names_out``."""
    return _check_feature_names_in(estimator, input_features)
