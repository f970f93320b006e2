"""DenoisingAutoencoderImputer: missing values filled by a denoising autoencoder.

The imputer owns no training code: it fits a :class:`~skdae.DenoisingAutoencoder`
(which leaves missing values out of its loss and sees them as masked inputs) and fills
each missing entry with the autoencoder's reconstruction of it, as scikit-learn's
imputers fill them with a statistic or a regression.
"""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.impute import MissingIndicator
from sklearn.utils.validation import check_is_fitted, validate_data

from skdae._corruption import MaskingNoise
from skdae._dense_estimator import DenoisingAutoencoder
from skdae._doc_links import DocLinkMixin
from skdae._interrupts import interrupts_deferred
from skdae._validation import HasMethods, check_feature_names_in, fit_context
from skdae.exceptions import FitInterrupted, OvercompleteWarning

# What fit learns: a fit that fails or is interrupted puts these back as they were.
_FITTED = ("n_features_in_", "feature_names_in_", "autoencoder_", "indicator_", "_empty_features")


def default_autoencoder():
    """The autoencoder the imputer trains unless given one.

    Masking noise is the corruption that matches the task: hiding known values and
    learning to restore them is imputation practised on the observed data. The code is
    allowed to be wider than a narrow table (no warning): with masking, the network
    cannot learn the identity, and a wide code imputes better than a narrow one. Small
    batches: tables are often small, and more steps per epoch learn them better
    (benchmarks/TABULAR.md; on MNIST the fit is then about as fast as KNNImputer).
    """
    return DenoisingAutoencoder(
        latent_dim=64,
        hidden_layer_sizes=(256,),
        corruption=MaskingNoise(0.25),
        batch_size=32,
        max_iter=100,
    )


class DenoisingAutoencoderImputer(DocLinkMixin, TransformerMixin, BaseEstimator):
    """Impute missing values with a denoising autoencoder trained on the observed ones.

    ``fit`` trains ``autoencoder`` on ``X`` with its missing values (NaN) left out of the
    loss and presented to the network as masked entries; ``transform`` returns ``X``
    with each missing entry replaced by the network's reconstruction of it, and every
    observed entry untouched. It follows scikit-learn's imputers: it fits inside a
    :class:`~sklearn.pipeline.Pipeline` before a classifier, and ``add_indicator``
    appends the missing-value indicator as :class:`~sklearn.impute.SimpleImputer` does.

    Parameters
    ----------
    autoencoder : DenoisingAutoencoder, default=None
        The autoencoder to train (cloned). None uses
        ``DenoisingAutoencoder(latent_dim=64, hidden_layer_sizes=(256,),
        corruption=MaskingNoise(0.25), batch_size=32, max_iter=100)``. Its parameters are searchable
        as ``autoencoder__<name>``. Scale the columns first (e.g. with
        :class:`~sklearn.preprocessing.StandardScaler`, which ignores NaN): the loss
        weighs all columns alike.

    add_indicator : bool, default=False
        Append a :class:`~sklearn.impute.MissingIndicator` of the features that had
        missing values at fit time to the output.

    random_state : int, RandomState instance or None, default=None
        When not None, the autoencoder's ``random_state``: seeds its weights, shuffling
        and noise, so that with an int the imputation is reproducible.

    Attributes
    ----------
    autoencoder_ : DenoisingAutoencoder
        The fitted autoencoder.

    indicator_ : MissingIndicator
        The fitted indicator, when ``add_indicator=True``.

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, when ``X`` has string column names.

    See Also
    --------
    sklearn.impute.SimpleImputer : Fill with a column statistic.
    sklearn.impute.KNNImputer : Fill from the nearest rows.
    sklearn.impute.IterativeImputer : Fill by regressing each column on the others.

    Notes
    -----
    One imputation is made, the network's reconstruction; it is deterministic once
    fitted. For multiple imputation (as MIDAS draws several), fit several imputers
    with different ``random_state`` values and pool the analyses. A feature that is
    missing in every training sample cannot be learned: it is imputed with 0, as
    ``SimpleImputer(keep_empty_features=True)`` does, with an
    :class:`~skdae.exceptions.EmptyFeatureWarning` at fit. A row with no observed value
    gets the network's reconstruction of an all-masked input. NaN in a feature that
    had none at fit time is imputed like any other. A ``fit`` that fails (a diverging
    autoencoder, data refused late) or is interrupted with Ctrl-C leaves the imputer
    exactly as it was before the call, fitted or not; it keeps no partly trained
    autoencoder.

    Examples
    --------
    >>> import numpy as np
    >>> from skdae import DenoisingAutoencoder, DenoisingAutoencoderImputer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.rand(200, 4)
    >>> X[:, 3] = X[:, 0]  # the last column repeats the first
    >>> X_missing = X.copy()
    >>> X_missing[rng.rand(200) < 0.2, 3] = np.nan
    >>> imputer = DenoisingAutoencoderImputer(
    ...     DenoisingAutoencoder(latent_dim=3, hidden_layer_sizes=(16,), max_iter=100),
    ...     random_state=0,
    ... )
    >>> X_filled = imputer.fit_transform(X_missing)
    >>> bool(np.isnan(X_filled).any())
    False
    >>> observed = ~np.isnan(X_missing)
    >>> bool(np.array_equal(X_filled[observed], X_missing[observed]))
    True
    """

    _parameter_constraints: dict = {
        "autoencoder": [HasMethods(["fit", "predict"]), None],
        "add_indicator": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, autoencoder=None, *, add_indicator=False, random_state=None):
        self.autoencoder = autoencoder
        self.add_indicator = add_indicator
        self.random_state = random_state

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, *, sample_weight=None):
        """Train the autoencoder on the observed values of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing values as NaN.

        y : None
            Ignored; present for API consistency.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the autoencoder's loss.

        Returns
        -------
        self : DenoisingAutoencoderImputer
            The fitted imputer.
        """
        # Ctrl-C lands inside the autoencoder's batches, where it can stop cleanly.
        with interrupts_deferred():
            saved = {name: self.__dict__[name] for name in _FITTED if name in self.__dict__}
            try:
                self._fit(X, sample_weight)
            except BaseException as error:
                # validate_data has already reset n_features_in_ and feature_names_in_:
                # put every fitted attribute back as it was (or absent, as it was).
                for name in _FITTED:
                    self.__dict__.pop(name, None)
                self.__dict__.update(saved)
                if isinstance(error, KeyboardInterrupt):
                    raise FitInterrupted(
                        "fit interrupted: the imputer is left as it was before this call "
                        "(an imputer keeps no partly trained autoencoder).",
                        model_kept=False,
                    ) from None
                raise
        return self

    def _fit(self, X, sample_weight):
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_all_finite="allow-nan")
        if self.autoencoder is None:
            autoencoder = default_autoencoder()
        else:
            autoencoder = clone(self.autoencoder)
        if self.random_state is not None:
            autoencoder.set_params(random_state=self.random_state)
        with warnings.catch_warnings():
            if self.autoencoder is None:
                warnings.simplefilter("ignore", OvercompleteWarning)
            autoencoder.fit(X, sample_weight=sample_weight)
        indicator = MissingIndicator(error_on_new=False).fit(X) if self.add_indicator else None
        empty_features = np.flatnonzero(np.isnan(X).all(axis=0))
        # Nothing below can fail: the imputer changes all at once.
        self.autoencoder_ = autoencoder
        self._empty_features = empty_features
        if indicator is None:
            self.__dict__.pop("indicator_", None)  # from an earlier fit with add_indicator
        else:
            self.indicator_ = indicator

    def transform(self, X):
        """Fill the missing values of ``X``; leave the observed ones as they are.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing values as NaN.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features) or \
(n_samples, n_features + n_indicator_features)
            ``X`` with its missing values filled, in the dtype of ``X``, followed by
            the missing-value indicator when ``add_indicator=True``.
        """
        check_is_fitted(self)
        X = validate_data(
            self, X, reset=False, dtype=[np.float64, np.float32], ensure_all_finite="allow-nan"
        )
        missing = np.isnan(X)
        imputed = X
        if missing.any():
            reconstruction = self.autoencoder_.predict(X)
            reconstruction[:, self._empty_features] = 0.0
            imputed = np.where(missing, reconstruction, X)
        if self.add_indicator:
            indicator = self.indicator_.transform(X).astype(imputed.dtype)
            imputed = np.hstack([imputed, indicator])
        return imputed

    def get_feature_names_out(self, input_features=None):
        """Get the names of the output features: the input's, then the indicator's.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; by default ``feature_names_in_`` or ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The names of the columns :meth:`transform` returns.
        """
        check_is_fitted(self)
        names = check_feature_names_in(self, input_features)
        if not self.add_indicator:
            return names
        return np.concatenate([names, self.indicator_.get_feature_names_out(names)])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
