"""Denoising quality measures, numpy in and float out."""

import numpy as np
from sklearn.utils import check_array

from skdae.exceptions import InputError

__all__ = ["data_range_of", "denoising_report", "peak_signal_noise_ratio"]


def peak_signal_noise_ratio(X_clean, X_estimate, *, data_range=None):
    """Peak signal-to-noise ratio of an estimate of clean data, in decibels.

    Computed from the mean squared error over all values of the set,
    ``10 * log10(data_range ** 2 / mse)``, as the MNIST denoising literature reports it.
    The data range is taken from the clean data unless given (see ``data_range``).

    Parameters
    ----------
    X_clean : array-like of shape (n_samples, n_features)
        The clean data.

    X_estimate : array-like of shape (n_samples, n_features)
        A noisy or denoised version of ``X_clean``.

    data_range : float, default=None
        Distance between the smallest and largest possible values. None takes it from
        ``X_clean``: 1 for floats within [0, 1] (pixels / 255), 255 for integers within
        0..255 (8-bit pixels), and otherwise the distance between the smallest and the
        largest clean value.

    Returns
    -------
    psnr : float
        In dB; ``inf`` when the estimate is exact.

    Examples
    --------
    >>> import numpy as np
    >>> from skdae.metrics import peak_signal_noise_ratio
    >>> clean = np.zeros((2, 4))
    >>> round(peak_signal_noise_ratio(clean, clean + 0.1), 2)
    20.0
    """
    mse = _mse(X_clean, X_estimate)
    if data_range is None:
        data_range = data_range_of(X_clean)
    if mse == 0:
        return float("inf")
    return float(10 * np.log10(data_range**2 / mse))


def data_range_of(X):
    """The range PSNR measures against, read from clean data ``X``.

    See :func:`peak_signal_noise_ratio` for the rule.

    Parameters
    ----------
    X : array-like
        The clean data.

    Returns
    -------
    data_range : float
        1.0, 255.0, or ``max(X) - min(X)`` (1.0 for constant data).

    Examples
    --------
    >>> import numpy as np
    >>> from skdae.metrics import data_range_of
    >>> data_range_of(np.array([0.0, 0.5, 1.0])), data_range_of(np.array([0, 17, 200]))
    (1.0, 255.0)
    >>> data_range_of(np.array([-3.0, 5.0]))
    8.0
    """
    X = np.asarray(X)
    low, high = (float(X.min()), float(X.max())) if X.size else (0.0, 0.0)
    if np.issubdtype(X.dtype, np.integer) and 0 <= low and high <= 255:
        return 255.0
    if np.issubdtype(X.dtype, np.floating) and 0 <= low and high <= 1:
        return 1.0
    return high - low if high > low else 1.0


def denoising_report(X_clean, X_noisy, X_denoised, *, data_range=None):
    """MSE and PSNR of the noisy and the denoised data against the clean data.

    Parameters
    ----------
    X_clean : array-like of shape (n_samples, n_features)
        The clean data.

    X_noisy : array-like of shape (n_samples, n_features)
        The corrupted data given to the model.

    X_denoised : array-like of shape (n_samples, n_features)
        The model's output for ``X_noisy``.

    data_range : float, default=None
        See :func:`peak_signal_noise_ratio`; None takes it from ``X_clean``.

    Returns
    -------
    report : dict
        ``noisy_mse``, ``denoised_mse``, ``noisy_psnr``, ``denoised_psnr`` (floats).

    Examples
    --------
    >>> import numpy as np
    >>> from skdae.metrics import denoising_report
    >>> clean = np.zeros((2, 4))
    >>> report = denoising_report(clean, clean + 0.1, clean + 0.01)
    >>> round(report["noisy_psnr"], 1), round(report["denoised_psnr"], 1)
    (20.0, 40.0)
    """
    return {
        "noisy_mse": _mse(X_clean, X_noisy),
        "denoised_mse": _mse(X_clean, X_denoised),
        "noisy_psnr": peak_signal_noise_ratio(X_clean, X_noisy, data_range=data_range),
        "denoised_psnr": peak_signal_noise_ratio(X_clean, X_denoised, data_range=data_range),
    }


def _mse(X_clean, X_estimate):
    X_clean = check_array(X_clean, dtype=np.float64, input_name="X_clean")
    X_estimate = check_array(X_estimate, dtype=np.float64, input_name="X_estimate")
    if X_clean.shape != X_estimate.shape:
        raise InputError(
            f"X_clean and the estimate must have the same shape; got {X_clean.shape} and "
            f"{X_estimate.shape}."
        )
    return float(np.mean((X_clean - X_estimate) ** 2))
