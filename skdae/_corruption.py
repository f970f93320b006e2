"""Corruption strategies: how the clean input is damaged before the network sees it.

Each strategy is a small scikit-learn estimator (``get_params`` / ``set_params`` /
``clone``), so a grid search can reach ``dae__corruption__std``. The single extension
point is the public ``corrupt_tensor(X, generator)``: it works on a torch tensor on any
device with an explicit generator, so noise is drawn where the data lives, with no host
round trip. ``corrupt`` (numpy in, numpy out) comes for free from it.
"""

import math

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_array, gen_batches
from sklearn.utils.sparsefuncs import mean_variance_axis

from skdae._doc_links import DocLinkMixin
from skdae._random import make_generator, seed_from_random_state
from skdae._validation import Interval, Real, has_missing_values
from skdae.exceptions import InputError

__all__ = [
    "BaseCorruption",
    "Compose",
    "GaussianNoise",
    "IdentityCorruption",
    "MaskingNoise",
    "SaltAndPepperNoise",
]


# A finite number: NaN or infinity as a fill value would poison the training loss.
_FINITE = Interval(Real, None, None, closed="neither")


class BaseCorruption(DocLinkMixin, BaseEstimator):
    """Base class for corruption strategies; subclass it to write your own.

    A subclass stores its parameters in ``__init__`` (as every scikit-learn estimator
    does), declares them in ``_parameter_constraints`` if it wants them checked by
    :meth:`validate`, and implements :meth:`corrupt_tensor`. The estimators call
    :meth:`corrupt_tensor` on every training batch, on the training device; users call
    :meth:`corrupt` on numpy arrays.

    Examples
    --------
    >>> import torch
    >>> from skdae import BaseCorruption
    >>> class Invert(BaseCorruption):
    ...     def corrupt_tensor(self, X, generator):
    ...         return 1.0 - X
    >>> Invert().corrupt([[0.0, 0.25]])
    array([[1.  , 0.75]])
    """

    _parameter_constraints: dict = {}

    def corrupt(self, X, *, random_state=None):
        """Return a corrupted copy of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Clean data, NaN where a value is missing, as everywhere in skdae. It is not
            modified.

        random_state : int, RandomState instance or None, default=None
            Seeds the noise. Pass an int for a reproducible noisy copy.

        Returns
        -------
        X_noisy : {ndarray, sparse matrix} of shape (n_samples, n_features)
            Corrupted data, float32 if ``X`` is float32, else float64. A missing value
            stays missing (NaN), never corrupted; a value that a corruption takes
            from a missing one (:class:`SwapNoise` from a row where the feature is
            missing) is NaN too: a hidden input, as ``fit(X, X_noisy=...)`` reads it.
            The noise drawn is the same whether or not values are missing.

            A sparse ``X`` gives a CSR matrix (or array, as ``X`` is), corrupted 1,024
            rows at a time as the estimators corrupt their batches: masking drops stored
            values, :class:`SwapNoise` takes values from other rows of the same block,
            and corruptions that change zeros (:class:`GaussianNoise`,
            :class:`SaltAndPepperNoise`) store those values too, so their result is
            much denser than ``X``.
        """
        self.validate()
        X = check_array(
            X,
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan",
            accept_sparse=("csr", "csc"),
        )
        self.prepare(X)
        generator = make_generator(seed_from_random_state(random_state), "cpu")
        if sp.issparse(X):
            return self._corrupt_sparse(X.tocsr(), generator)
        return self._corrupt_dense(X, generator)

    def _corrupt_dense(self, X, generator):
        with torch.no_grad():
            noisy = self.corrupt_tensor(torch.from_numpy(X), generator)
            if has_missing_values(X):
                noisy = noisy.masked_fill(torch.from_numpy(np.isnan(X)), float("nan"))
        return noisy.numpy()

    def _corrupt_sparse(self, X, generator, block=1024):
        blocks = [
            sp.csr_matrix(self._corrupt_dense(X[rows].toarray(), generator))
            for rows in gen_batches(X.shape[0], block)
        ]
        stacked = sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix(X.shape)
        return stacked if isinstance(X, sp.spmatrix) else sp.csr_array(stacked)

    def validate(self):
        """Check the parameters; raise ``ValueError`` naming the bad one.

        The estimator calls this at ``fit``, because scikit-learn does not validate
        objects passed as parameters.

        Returns
        -------
        self : BaseCorruption
            The corruption, unchanged.
        """
        self._validate_params()
        return self

    def prepare(self, X):
        """Learn what the corruption needs from the clean training data.

        The estimators call this once per :meth:`~skdae.DenoisingAutoencoder.fit` or
        ``partial_fit`` call, on their own copy (``corruption_``), before the first
        batch is corrupted; :meth:`corrupt` calls it on the data it corrupts. The
        default learns nothing. Override it to learn, say, each feature's spread.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            The clean training data, NaN where a value is missing: a CSR matrix when
            the estimator was given sparse data.

        Returns
        -------
        self : BaseCorruption
            The corruption, prepared.
        """
        return self

    def corrupt_tensor(self, X, generator):
        """Return a corrupted copy of the float tensor ``X``: the method to implement.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)
            A batch of clean data, float32 or float64, on any device. It must not be
            modified in place: the estimator reuses it as the training target. Missing
            values arrive as 0 in training (and are hidden again afterwards) and as
            NaN from :meth:`corrupt` (which sets them back to NaN afterwards).

        generator : torch.Generator
            A generator on ``X.device``. Draw every random number from it (pass
            ``generator=generator, device=X.device`` to ``torch.rand`` and friends), so
            that ``random_state`` makes training reproducible.

        Returns
        -------
        X_noisy : torch.Tensor of shape (n_samples, n_features)
            The corrupted batch, of the dtype and on the device of ``X``.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement corrupt_tensor(X, generator)."
        )


class IdentityCorruption(BaseCorruption):
    """Leave the input unchanged: a plain (not denoising) autoencoder.

    Also the test double of the family: with it the training loop is deterministic
    apart from shuffling.

    Examples
    --------
    >>> from skdae import IdentityCorruption
    >>> IdentityCorruption().corrupt([[0.5, 1.0]])
    array([[0.5, 1. ]])
    """

    def corrupt_tensor(self, X, generator):
        """Return a copy of ``X``, unchanged.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)
            Clean data, on any device; not modified.

        generator : torch.Generator
            The source of every random number, on ``X.device``.

        Returns
        -------
        X_noisy : torch.Tensor of shape (n_samples, n_features)
            The corrupted copy, of the dtype and on the device of ``X``.
        """
        return X.clone()


class GaussianNoise(BaseCorruption):
    """Add zero-mean Gaussian noise, optionally clipped to a range.

    Parameters
    ----------
    std : float or tuple of (float, float), default=0.1
        Standard deviation of the noise, in the units of the data (or, with
        ``relative=True``, in units of each feature's standard deviation). A pair
        ``(low, high)`` draws each sample's own standard deviation uniformly from that
        range, every time it is corrupted: a network trained so denoises any level in
        the range without being told which (blind denoising), where one trained at a
        single level does best at that level only.

    clip : tuple of (float, float) or None, default=None
        If given, the noisy values are clipped to ``[clip[0], clip[1]]``; for images in
        [0, 1] pass ``(0, 1)`` as in the Keras denoising tutorial.

    relative : bool, default=False
        Scale the noise of each feature by that feature's standard deviation in the
        training data (learned at every fit, NaN ignored), so that one ``std`` suits
        columns of any scale: ``std=0.1`` is a tenth of each column's spread. A
        constant feature gets no noise.

    Attributes
    ----------
    feature_scale_ : ndarray of shape (n_features,)
        With ``relative=True``, each feature's standard deviation learned by
        :meth:`prepare`.

    See Also
    --------
    SaltAndPepperNoise : Replace a fraction of the values by extremes.
    MaskingNoise : Zero a fraction of the values.
    SwapNoise : Replace a fraction of the values by other rows' (for tables).

    Examples
    --------
    >>> import numpy as np
    >>> from skdae import GaussianNoise
    >>> X = np.full((1000, 50), 0.5)
    >>> noisy = GaussianNoise(std=0.4, clip=(0, 1)).corrupt(X, random_state=0)
    >>> bool(noisy.min() >= 0 and noisy.max() <= 1)
    True

    Each row's own level, between 5 and 50 (of 255):

    >>> blind = GaussianNoise(std=(5 / 255, 50 / 255)).corrupt(X, random_state=0)
    >>> levels = (blind - X).std(axis=1)
    >>> bool(0.01 < levels.min() and levels.max() < 0.25)
    True
    """

    _parameter_constraints: dict = {
        "std": [Interval(Real, 0, None, closed="left"), tuple, list],
        "clip": [tuple, list, None],
        "relative": ["boolean"],
    }

    def __init__(self, std=0.1, *, clip=None, relative=False):
        self.std = std
        self.clip = clip
        self.relative = relative

    def prepare(self, X):
        """With ``relative=True``, learn each feature's standard deviation from ``X``.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            The clean training data, NaN where a value is missing: a CSR matrix when
            the estimator was given sparse data.

        Returns
        -------
        self : GaussianNoise
            The corruption, prepared.
        """
        if self.relative and sp.issparse(X):
            # NaN (missing) left out, implicit zeros counted: the spread of the values.
            _, variances = mean_variance_axis(X.astype(np.float64), axis=0)
            self.feature_scale_ = np.sqrt(variances)
            self._scale_on = {}
        elif self.relative:
            X = np.asarray(X, dtype=np.float64)
            observed = ~np.isnan(X)
            counts = np.maximum(observed.sum(axis=0), 1)
            means = np.sum(X, axis=0, where=observed) / counts
            spread = np.sum((X - means) ** 2, axis=0, where=observed) / counts
            self.feature_scale_ = np.sqrt(spread)
            self._scale_on = {}
        return self

    def validate(self):
        """Check the parameters; raise ``ValueError`` naming the bad one.

        Returns
        -------
        self : GaussianNoise
            The corruption, unchanged.
        """
        super().validate()
        if isinstance(self.std, tuple | list):
            _check_range("std", self.std)
            if not all(0 <= float(v) < math.inf for v in self.std):
                raise InputError(
                    "std=(low, high) must hold finite standard deviations of at least 0, "
                    f"e.g. (0.02, 0.2); got {self.std!r}."
                )
        if self.clip is not None:
            _check_range("clip", self.clip)
        return self

    def corrupt_tensor(self, X, generator):
        """Return ``X`` plus Gaussian noise (clipped if ``clip`` is set).

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)
            Clean data, on any device; not modified.

        generator : torch.Generator
            The source of every random number, on ``X.device``.

        Returns
        -------
        X_noisy : torch.Tensor of shape (n_samples, n_features)
            The corrupted copy, of the dtype and on the device of ``X``.
        """
        # Scaled, shifted and clipped in place: no temporaries of the batch's size.
        noisy = torch.randn(X.shape, generator=generator, device=X.device, dtype=X.dtype)
        if self.relative:
            noisy.mul_(self._feature_scale(X))
        if isinstance(self.std, tuple | list):  # each row's own level
            low, high = (float(v) for v in self.std)
            levels = torch.rand(
                (X.shape[0], 1), generator=generator, device=X.device, dtype=X.dtype
            )
            noisy.mul_(levels.mul_(high - low).add_(low)).add_(X)
        else:
            torch.add(X, noisy, alpha=self.std, out=noisy)
        if self.clip is not None:
            noisy.clamp_(float(self.clip[0]), float(self.clip[1]))
        return noisy

    def _feature_scale(self, X):
        if not hasattr(self, "feature_scale_"):
            raise InputError(
                "GaussianNoise(relative=True) learns each feature's spread in prepare(X), "
                "which the estimators and corrupt() call; call it before corrupt_tensor."
            )
        if self.feature_scale_.shape[0] != X.shape[1]:
            raise InputError(
                f"GaussianNoise(relative=True) learned {self.feature_scale_.shape[0]} "
                f"features' spreads but X has {X.shape[1]} features."
            )
        key = (X.device, X.dtype)
        if key not in self._scale_on:  # one transfer per device, not one per batch
            self._scale_on[key] = torch.as_tensor(self.feature_scale_, dtype=X.dtype).to(X.device)
        return self._scale_on[key]


class SwapNoise(BaseCorruption):
    """Replace a fraction of the values by the same feature's value in another row.

    The corruption of choice for tables, whose columns have different scales and kinds
    (counts, categories one-hot encoded, measurements): a swapped-in value is always
    one the feature really takes, where Gaussian noise would invent values. It won
    Porto Seguro's Kaggle competition and is pytorch_tabular's default. The other row
    is drawn from the same training batch, on the training device: with shuffling (the
    default) a batch is a random sample of the training set, so the swapped-in values
    follow each feature's distribution at no cost beyond one gather per batch.

    Parameters
    ----------
    fraction : float, default=0.15
        Probability that each value is replaced, in [0, 1].

    See Also
    --------
    MaskingNoise : Zero a fraction of the values.
    GaussianNoise : Additive noise; ``relative=True`` scales it to each feature.

    Examples
    --------
    >>> import numpy as np
    >>> from skdae import SwapNoise
    >>> X = np.arange(12.0).reshape(4, 3)
    >>> noisy = SwapNoise(0.5).corrupt(X, random_state=0)
    >>> all(set(noisy[:, j]) <= set(X[:, j]) for j in range(3))  # values of the same column
    True
    """

    _parameter_constraints: dict = {"fraction": [Interval(Real, 0, 1, closed="both")]}

    def __init__(self, fraction=0.15):
        self.fraction = fraction

    def corrupt_tensor(self, X, generator):
        """Return ``X`` with a fraction of its values taken from other rows.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)
            Clean data, on any device; not modified.

        generator : torch.Generator
            The source of every random number, on ``X.device``.

        Returns
        -------
        X_noisy : torch.Tensor of shape (n_samples, n_features)
            The corrupted copy, of the dtype and on the device of ``X``.
        """
        n_rows = X.shape[0]
        if n_rows < 2 or self.fraction == 0:
            return X.clone()  # no other row to take a value from, or nothing to swap
        # One uniform draw per value decides both: u < fraction swaps it, and for those
        # u / fraction (uniform in [0, 1)) picks the donor, this row plus an offset in
        # 1..n-1, wrapped around. A second draw (randint) cost 2.7x the time.
        u = torch.rand(X.shape, generator=generator, device=X.device, dtype=torch.float32)
        swapped = u < self.fraction
        offsets = u.mul_((n_rows - 1) / self.fraction).long().clamp_(max=n_rows - 2).add_(1)
        rows = torch.arange(n_rows, device=X.device).unsqueeze(1)
        donors = offsets.add_(rows).remainder_(n_rows)
        return torch.where(swapped, torch.gather(X, 0, donors), X)


class SaltAndPepperNoise(BaseCorruption):
    """Replace a random fraction of the values by ``low`` (pepper) or ``high`` (salt).

    Parameters
    ----------
    amount : float, default=0.1
        Fraction of the values replaced, in [0, 1].

    salt_ratio : float, default=0.5
        Fraction of the replaced values set to ``high``; the rest are set to ``low``.

    low : float, default=0.0
        The pepper value.

    high : float, default=1.0
        The salt value.

    Examples
    --------
    >>> import numpy as np
    >>> from skdae import SaltAndPepperNoise
    >>> X = np.full((200, 100), 0.5)
    >>> noisy = SaltAndPepperNoise(amount=0.2).corrupt(X, random_state=0)
    >>> round(float(np.mean(noisy != 0.5)), 2)
    0.2
    """

    _parameter_constraints: dict = {
        "amount": [Interval(Real, 0, 1, closed="both")],
        "salt_ratio": [Interval(Real, 0, 1, closed="both")],
        "low": [_FINITE],
        "high": [_FINITE],
    }

    def __init__(self, amount=0.1, *, salt_ratio=0.5, low=0.0, high=1.0):
        self.amount = amount
        self.salt_ratio = salt_ratio
        self.low = low
        self.high = high

    def validate(self):
        """Check the parameters; raise ``ValueError`` naming the bad one.

        Returns
        -------
        self : SaltAndPepperNoise
            The corruption, unchanged.
        """
        super().validate()
        _check_range("(low, high)", (self.low, self.high))
        return self

    def corrupt_tensor(self, X, generator):
        """Return ``X`` with a fraction of its values set to ``low`` or ``high``.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)
            Clean data, on any device; not modified.

        generator : torch.Generator
            The source of every random number, on ``X.device``.

        Returns
        -------
        X_noisy : torch.Tensor of shape (n_samples, n_features)
            The corrupted copy, of the dtype and on the device of ``X``.
        """
        hit = torch.rand(X.shape, generator=generator, device=X.device) < self.amount
        salt = torch.rand(X.shape, generator=generator, device=X.device) < self.salt_ratio
        extremes = torch.where(salt, self.high, self.low).to(X.dtype)
        return torch.where(hit, extremes, X)


class MaskingNoise(BaseCorruption):
    """Set a random fraction of the values to ``value`` (masking / dropout noise).

    Parameters
    ----------
    fraction : float, default=0.25
        Fraction of the values masked, in [0, 1].

    value : float, default=0.0
        What masked values are replaced with.

    Examples
    --------
    >>> import numpy as np
    >>> from skdae import MaskingNoise
    >>> noisy = MaskingNoise(fraction=0.3).corrupt(np.ones((200, 100)), random_state=0)
    >>> round(float(np.mean(noisy == 0)), 2)
    0.3
    """

    _parameter_constraints: dict = {
        "fraction": [Interval(Real, 0, 1, closed="both")],
        "value": [_FINITE],
    }

    def __init__(self, fraction=0.25, *, value=0.0):
        self.fraction = fraction
        self.value = value

    def corrupt_tensor(self, X, generator):
        """Return ``X`` with a fraction of its values set to ``value``.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)
            Clean data, on any device; not modified.

        generator : torch.Generator
            The source of every random number, on ``X.device``.

        Returns
        -------
        X_noisy : torch.Tensor of shape (n_samples, n_features)
            The corrupted copy, of the dtype and on the device of ``X``.
        """
        masked = torch.rand(X.shape, generator=generator, device=X.device) < self.fraction
        return X.masked_fill(masked, float(self.value))


class Compose(BaseCorruption):
    """Apply several corruptions one after the other.

    Parameters
    ----------
    corruptions : list of BaseCorruption
        Applied in order, each to the output of the previous one.

    Examples
    --------
    >>> import numpy as np
    >>> from skdae import Compose, GaussianNoise, MaskingNoise
    >>> noise = Compose([GaussianNoise(0.1, clip=(0, 1)), MaskingNoise(0.5)])
    >>> noise.corrupt(np.full((3, 4), 0.5), random_state=0).shape
    (3, 4)
    """

    _parameter_constraints: dict = {"corruptions": [list, tuple]}

    def __init__(self, corruptions):
        self.corruptions = corruptions

    def validate(self):
        """Check every corruption in the list; raise ``ValueError`` on a bad one.

        Returns
        -------
        self : Compose
            The corruption, unchanged.
        """
        super().validate()
        if len(self.corruptions) == 0:
            raise InputError("Compose needs at least one corruption; got an empty list.")
        for step in self.corruptions:
            if not isinstance(step, BaseCorruption):
                raise InputError(
                    f"Compose takes corruption objects such as GaussianNoise(0.2); got {step!r}."
                )
            step.validate()
        return self

    def prepare(self, X):
        """Prepare every corruption in the list on ``X``.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            The clean training data, NaN where a value is missing: a CSR matrix when
            the estimator was given sparse data.

        Returns
        -------
        self : Compose
            The corruption, prepared.
        """
        for step in self.corruptions:
            step.prepare(X)
        return self

    def corrupt_tensor(self, X, generator):
        """Return ``X`` corrupted by each corruption in turn.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)
            Clean data, on any device; not modified.

        generator : torch.Generator
            The source of every random number, on ``X.device``.

        Returns
        -------
        X_noisy : torch.Tensor of shape (n_samples, n_features)
            The corrupted copy, of the dtype and on the device of ``X``.
        """
        for step in self.corruptions:
            X = step.corrupt_tensor(X, generator)
        return X


# String shortcuts for the ``corruption`` parameter. Classes, never instances, so a
# shortcut can never be mutated through set_params.
CORRUPTION_ALIASES = {
    "gaussian": GaussianNoise,
    "salt_and_pepper": SaltAndPepperNoise,
    "masking": MaskingNoise,
    "swap": SwapNoise,
    "none": IdentityCorruption,
}


def make_corruption(corruption):
    """Resolve the estimator's ``corruption`` parameter into a validated, fresh object."""
    if corruption is None:
        return IdentityCorruption()
    if isinstance(corruption, str):
        return CORRUPTION_ALIASES[corruption]()
    # A clone, so that training never shares state with the user's object.
    return clone(corruption).validate()


def _check_range(name, value):
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise InputError(
            f"{name} must be a pair (low, high) of numbers, e.g. (0, 1); got {value!r}."
        ) from None
    if not low <= high:
        raise InputError(f"{name} must satisfy low <= high; got {value!r}.")
