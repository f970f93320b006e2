import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skdae import DenoisingAutoencoder, GaussianNoise, MaskingNoise  # noqa: E402
from skdae.plotting import (  # noqa: E402
    CorruptionDisplay,
    LatentSpaceDisplay,
    LossCurveDisplay,
    ReconstructionDisplay,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fitted(digits):
    dae = DenoisingAutoencoder(
        latent_dim=8, hidden_layer_sizes=(16,), max_iter=4, early_stopping=True, random_state=0
    )
    return dae.fit(digits[0])


def test_reconstruction_grid_shows_original_noisy_denoised(fitted, digits):
    X = digits[1]
    noise = GaussianNoise(0.3, clip=(0, 1))
    display = ReconstructionDisplay.from_estimator(fitted, X, noise, n_images=6, random_state=2)
    assert display.axes_.shape == (3, 6)
    shown = [[ax.get_images()[0].get_array().ravel() for ax in row] for row in display.axes_]
    np.testing.assert_allclose(shown[0][0], X[0])
    expected_noisy = noise.corrupt(X[:6], random_state=2)
    np.testing.assert_allclose(shown[1][5], expected_noisy[5])
    np.testing.assert_allclose(shown[2][5], fitted.predict(expected_noisy)[5], rtol=1e-6)
    assert [row[0].get_ylabel() for row in display.axes_] == ["original", "noisy", "denoised"]


def test_reconstruction_draws_on_given_axes():
    images = np.random.RandomState(0).rand(2, 12)
    fig, axes = plt.subplots(3, 2)
    display = ReconstructionDisplay(images, images, images, image_shape=(3, 4)).plot(ax=axes)
    assert display.figure_ is fig
    assert display.axes_[0, 0].get_images()[0].get_array().shape == (3, 4)


def test_non_square_images_need_a_shape():
    images = np.zeros((2, 12))
    with pytest.raises(ValueError, match="pass image_shape"):
        ReconstructionDisplay(images, images, images).plot()
    with pytest.raises(ValueError, match=r"image_shape=\(5, 5\) holds 25 pixels"):
        ReconstructionDisplay(images, images, images, image_shape=(5, 5)).plot()


def test_loss_curves_from_estimator(fitted):
    display = LossCurveDisplay.from_estimator(fitted)
    train, validation = display.lines_
    np.testing.assert_allclose(train.get_ydata(), fitted.loss_curve_)
    np.testing.assert_allclose(validation.get_ydata(), [-s for s in fitted.validation_scores_])
    assert display.ax_.get_yscale() == "log"
    assert display.ax_.get_ylabel() == "binary cross-entropy"


def test_loss_curve_without_validation(digits):
    dae = DenoisingAutoencoder(latent_dim=4, hidden_layer_sizes=(8,), max_iter=2).fit(digits[0])
    assert len(LossCurveDisplay.from_estimator(dae).lines_) == 1


def test_corruption_comparison_rows(fitted, digits):
    corruptions = {"gaussian": GaussianNoise(0.3), "masking": MaskingNoise(0.4)}
    display = CorruptionDisplay.from_corruptions(
        digits[1], corruptions, estimator=fitted, n_images=4
    )
    labels = [row[0].get_ylabel() for row in display.axes_]
    assert labels == ["original", "gaussian", "gaussian, denoised", "masking", "masking, denoised"]
    assert display.axes_.shape == (5, 4)


def test_latent_space_projects_wide_codes_to_2d(fitted, digits):
    X, y = digits[1], digits[3]
    display = LatentSpaceDisplay.from_estimator(fitted, X, y)
    assert display.embedding.shape == (len(X), 2)
    assert display.scatter_.get_offsets().shape == (len(X), 2)
    assert "first 2 principal components" in display.ax_.get_title()


def test_latent_space_draws_1d_codes_on_a_line(digits):
    """Codes of width 1 once failed with an IndexError (and so did ``skdae train
    --latent-dim 1``, after the model was written)."""
    X = digits[0][:40]
    dae = DenoisingAutoencoder(latent_dim=1, hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    display = LatentSpaceDisplay.from_estimator(dae.fit(X), X)
    assert display.embedding.shape == (40, 2) and not display.embedding[:, 1].any()
    assert display.ax_.get_title() == "Latent codes (1-d)"


def test_importing_plotting_does_not_import_matplotlib():
    code = "import sys, skdae.plotting; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plotting_without_matplotlib_says_how_to_install():
    code = (
        "import sys; sys.modules['matplotlib'] = None; sys.modules['matplotlib.pyplot'] = None\n"
        "from skdae.plotting import LossCurveDisplay\n"
        "try:\n    LossCurveDisplay([1.0]).plot()\n"
        "except ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'skdae[plot]'" in out.stdout
