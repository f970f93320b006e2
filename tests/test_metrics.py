"""skdae.metrics: PSNR and the denoising report."""

import numpy as np
import pytest

from skdae.exceptions import InputError
from skdae.metrics import data_range_of, denoising_report, peak_signal_noise_ratio


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


@pytest.mark.parametrize(
    "clean, expected",
    [
        (np.array([[0.0, 0.5, 1.0]]), 1.0),  # pixels / 255
        (np.array([[0, 17, 255]], dtype=np.uint8), 255.0),  # 8-bit pixels
        (np.array([[0, 17, 200]], dtype=np.int64), 255.0),
        (np.array([[0.0, 17.0, 255.0]]), 255.0),  # 8-bit values as floats: their range
        (np.array([[-2.0, 0.0, 3.0]]), 5.0),  # standardized data
        (np.array([[0, 1000]]), 1000.0),
        (np.full((2, 2), 7.0), 1.0),  # constant data: no range to take
    ],
)
def test_the_data_range_comes_from_the_clean_data(clean, expected):
    """0..255 data once scored 7.9 dB against a range of 1 where the truth is ~56 dB."""
    assert data_range_of(clean) == expected
    estimate = clean + 0.01 * expected
    assert peak_signal_noise_ratio(clean, estimate) == pytest.approx(40.0)
