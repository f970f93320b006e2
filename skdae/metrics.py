"""Denoising quality measures, numpy in and float out."""

import numpy as np
from sklearn.utils import check_array

from skdae.exceptions import InputError

__all__ = ["denoising_report", "peak_signal_noise_ratio"]


def peak_signal_noise_ratio(X_clean, X_estimate, *, data_range=1.0):
    """Peak signal-to-noise ratio of an estimate of clean data, in decibels.

    Computed from the mean squared error over all values of the set,
    ``10 * log10(data_range ** 2 / mse)``, as the MNIST denoising literature reports it.

    Parameters
    ----------
    X_clean : array-like of shape (n_samples, n_features)
        The clean data.

    X_estimate : array-like of shape (n_samples, n_features)
        A noisy or denoised version of ``X_clean``.

    data_range : float, default=1.0
        Distance between the smallest and largest possible values (1 for pixels in
        [0, 1], 255 for 8-bit pixels).

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
    if mse == 0:
        return float("inf")
    return float(10 * np.log10(data_range**2 / mse))


def denoising_report(X_clean, X_noisy, X_denoised, *, data_range=1.0):
    """MSE and PSNR of the noisy and the denoised data against the clean data.

    Parameters
    ----------
    X_clean : array-like of shape (n_samples, n_features)
        The clean data.

    X_noisy : array-like of shape (n_samples, n_features)
        The corrupted data given to the model.

    X_denoised : array-like of shape (n_samples, n_features)
        The model's output for ``X_noisy``.

    data_range : float, default=1.0
        See :func:`peak_signal_noise_ratio`.

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
