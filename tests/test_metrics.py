"""skdae.metrics: PSNR and the denoising report."""

import numpy as np
import pytest

from skdae.exceptions import InputError
from skdae.metrics import denoising_report, peak_signal_noise_ratio


def test_psnr_follows_its_definition():
    clean = np.zeros((3, 5))
    assert peak_signal_noise_ratio(clean, clean + 0.1) == pytest.approx(20.0)
    assert peak_signal_noise_ratio(clean, clean + 25.5, data_range=255) == pytest.approx(20.0)
    assert peak_signal_noise_ratio(clean, clean) == float("inf")


def test_report_compares_noisy_and_denoised_with_the_clean_data():
    clean = np.zeros((2, 4))
    report = denoising_report(clean, clean + 0.1, clean + 0.01)
    assert report["noisy_mse"] == pytest.approx(0.01)
    assert report["denoised_mse"] == pytest.approx(1e-4)
    assert report["denoised_psnr"] - report["noisy_psnr"] == pytest.approx(20.0)


def test_shapes_must_match():
    with pytest.raises(InputError, match="same shape"):
        peak_signal_noise_ratio(np.zeros((2, 4)), np.zeros((2, 5)))
