"""skdae.image.denoise_image: whole images from models trained on patches, in both
modes, on a real photograph; seams, bounded memory and the errors a user can cause."""

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator
from sklearn.datasets import load_sample_image
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.image import extract_patches_2d

from skdae import ConvDenoisingAutoencoder, DenoisingAutoencoder, GaussianNoise
from skdae.exceptions import InputError
from skdae.image import _OPPONENT, denoise_image, receptive_radius
from skdae.metrics import peak_signal_noise_ratio as psnr

SIGMA = 25 / 255


def _gray(name):
    """One of scikit-learn's two sample photographs, grey, in [0, 1], float32."""
    rgb = load_sample_image(name).astype(np.float32) / 255
    return rgb @ np.array([0.2125, 0.7154, 0.0721], dtype=np.float32)


@pytest.fixture(scope="module")
def china():
    return _gray("china.jpg")


@pytest.fixture(scope="module")
def photo_model(china):
    """A small fully convolutional denoiser trained briefly on 16x16 patches of one
    photograph, across noise levels (blind)."""
    patches = extract_patches_2d(china, (16, 16), max_patches=3000, random_state=0)
    return ConvDenoisingAutoencoder(
        None,
        channels=(16,),
        bottleneck_layers=0,
        residual_blocks=1,
        upsampling="pixel_shuffle",
        loss="mse",
        corruption=GaussianNoise((10 / 255, 40 / 255)),
        learning_rate_init=2e-3,
        max_iter=12,
        random_state=0,
    ).fit(patches.reshape(len(patches), -1))


def _noisy(image, seed=0):
    return image + np.random.default_rng(seed).normal(0, SIGMA, image.shape).astype(np.float32)


# ---------------------------------------------------------------- on a photograph


@pytest.mark.parametrize("mode", ["fully_convolutional", "patches"])
def test_a_held_out_photograph_is_denoised_in_either_mode(photo_model, mode):
    """Trained on patches of one photograph, it denoises a crop of the other."""
    flower = _gray("flower.jpg")[100:260, 200:390]  # 160x190, not a multiple of 16
    noisy = _noisy(flower)
    denoised = denoise_image(photo_model, noisy, mode=mode)
    assert denoised.shape == flower.shape and denoised.dtype == np.float32
    before, after = psnr(flower, noisy), psnr(flower, denoised)
    assert after > before + 3, (before, after)


def test_fully_convolutional_tiles_equal_one_pass_over_the_whole_image(photo_model, china):
    """Tiles with margins on the stages' grid compute what one pass computes: no seam."""
    image = _noisy(china[:75, :101])
    whole = denoise_image(photo_model, image, tile_size=512)
    tiled = denoise_image(photo_model, image, tile_size=16)
    np.testing.assert_allclose(tiled, whole, atol=2e-6)


@pytest.mark.parametrize(
    "params",
    [
        dict(channels=(3, 4), bottleneck_layers=1, residual_blocks=0),
        dict(channels=(3, 4, 5), kernel_size=5, bottleneck_layers=2, residual_blocks=2),
        dict(channels=(4,), bottleneck_layers=0, upsampling="pixel_shuffle", residual_blocks=1),
    ],
)
def test_the_tiles_margins_cover_every_networks_reach(params):
    """Untrained networks of several depths: tiled and whole agree, RGB and odd sizes."""
    rng = np.random.default_rng(0)
    X = rng.random((16, 3 * 16 * 16), dtype=np.float32)
    dae = ConvDenoisingAutoencoder(None, image_shape=(3, 16, 16), max_iter=1, **params)
    dae.fit(X)
    image = rng.random((45, 37, 3), dtype=np.float32)
    whole = denoise_image(dae, image, tile_size=1024)
    for tile in (8, 24):
        np.testing.assert_allclose(denoise_image(dae, image, tile_size=tile), whole, atol=2e-6)


def test_the_receptive_radius_is_where_a_pixels_change_stops(photo_model):
    """Changing one pixel changes outputs within the radius and none beyond it."""
    image = np.zeros((96, 96), dtype=np.float32) + 0.5
    changed = image.copy()
    changed[48, 48] = 1.0
    diff = np.abs(denoise_image(photo_model, changed) - denoise_image(photo_model, image))
    rows, cols = np.nonzero(diff > 0)
    reach = max(np.abs(rows - 48).max(), np.abs(cols - 48).max())
    assert 0 < reach <= receptive_radius(photo_model.module_)


def test_memory_is_bounded_by_the_tile(photo_model, monkeypatch):
    seen = []
    forward = type(photo_model.module_).forward_images

    def spy(module, images):
        seen.append(tuple(images.shape[2:]))
        return forward(module, images)

    monkeypatch.setattr(type(photo_model.module_), "forward_images", spy)
    out = denoise_image(photo_model, np.full((300, 200), 0.5, np.float32), tile_size=64)
    assert out.shape == (300, 200)
    margin = receptive_radius(photo_model.module_)
    assert len(seen) == 5 * 4
    assert max(max(shape) for shape in seen) <= 64 + 2 * (margin + 2)


# ------------------------------------------------------------- overlapping patches


class _PatchModel(BaseEstimator):
    """A stand-in fitted model whose predict applies ``fn`` to each flattened patch."""

    def __init__(self, fn, shape=(1, 8, 8)):
        self.fn = fn
        self.shape = shape

    def fit(self, X=None):
        self.image_shape_ = self.shape
        self.n_features_in_ = int(np.prod(self.shape))
        self.calls = []
        return self

    def predict(self, X):
        self.calls.append(X.shape)
        return self.fn(X)


@pytest.mark.parametrize("shape", [(8, 8), (8, 30), (21, 13), (40, 41)])
@pytest.mark.parametrize("stride", [None, 1, 3, 8])
def test_blending_covers_every_pixel_with_weights_that_sum_to_one(shape, stride):
    image = np.random.default_rng(0).random(shape).astype(np.float32)
    identity = _PatchModel(lambda X: X).fit()
    np.testing.assert_allclose(denoise_image(identity, image, stride=stride), image, atol=1e-6)
    doubled = _PatchModel(lambda X: 2 * X + 0.25).fit()
    np.testing.assert_allclose(
        denoise_image(doubled, image, stride=stride), 2 * image + 0.25, atol=1e-5
    )


def test_overlapping_patches_blend_without_seams():
    """A model that flattens each patch to its mean: side by side, the patches' edges
    show as steps; overlapped and tapered, the steps are a fraction of that."""
    ramp = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (32, 1))
    means = _PatchModel(lambda X: np.repeat(X.mean(axis=1, keepdims=True), X.shape[1], 1)).fit()
    tiled = denoise_image(means, ramp, stride=8)
    blended = denoise_image(means, ramp)  # stride 4: half a patch
    steps = np.abs(np.diff(tiled, axis=1)).max()
    assert steps > 0.1
    assert np.abs(np.diff(blended, axis=1)).max() < 0.4 * steps


def test_patches_go_to_the_model_in_batches_of_batch_size():
    model = _PatchModel(lambda X: X).fit()
    denoise_image(model, np.zeros((40, 40), np.float32), batch_size=7)
    assert max(n for n, _ in model.calls) == 7
    assert sum(n for n, _ in model.calls) == 9 * 9  # (40 - 8) / 4 + 1 per axis


def test_a_dense_model_denoises_square_patches_and_colour_ones_with_their_shape():
    rng = np.random.default_rng(0)
    gray = DenoisingAutoencoder(4, hidden_layer_sizes=(16,), max_iter=1, random_state=0)
    gray.fit(rng.random((50, 64), dtype=np.float32))
    assert denoise_image(gray, rng.random((20, 30))).shape == (20, 30)
    colour = DenoisingAutoencoder(4, hidden_layer_sizes=(16,), max_iter=1, random_state=0)
    colour.fit(rng.random((50, 3 * 8 * 8), dtype=np.float32))
    with pytest.raises(InputError, match="patch_shape=\\(channels, height, width\\)"):
        denoise_image(colour, rng.random((20, 30, 3)))
    assert denoise_image(colour, rng.random((20, 30, 3)), patch_shape=(3, 8, 8)).shape == (
        20,
        30,
        3,
    )


def test_float64_images_come_back_float64_and_the_input_is_not_changed(photo_model):
    image = np.random.default_rng(0).random((20, 20))
    before = image.copy()
    for mode in ("fully_convolutional", "patches"):
        assert denoise_image(photo_model, image, mode=mode).dtype == np.float64
    np.testing.assert_array_equal(image, before)


# ------------------------------------------------------------------ colour images


def test_the_opponent_transform_keeps_gaussian_noise_white_with_its_sigma():
    np.testing.assert_allclose(_OPPONENT @ _OPPONENT.T, np.eye(3), atol=1e-12)
    noise = np.random.default_rng(0).normal(0, SIGMA, (200_000, 3))
    covariance = np.cov(noise @ _OPPONENT.T, rowvar=False)
    np.testing.assert_allclose(covariance, SIGMA**2 * np.eye(3), atol=0.02 * SIGMA**2)


def test_opponent_colour_gives_the_grey_model_each_opponent_channel_and_inverts_it():
    rng = np.random.default_rng(0)
    identity = _PatchModel(lambda X: X).fit()
    rgb = rng.random((21, 30, 3)).astype(np.float32)
    np.testing.assert_allclose(denoise_image(identity, rgb, colour="opponent"), rgb, atol=1e-5)
    # A grey photograph as RGB: the model sees its grey, then two flat colour
    # differences at 0.5; whatever it returns comes back through the inverse.
    seen = []

    def record(X):
        seen.append(X.copy())
        return X

    grey = rng.random((16, 16)).astype(np.float32)
    model = _PatchModel(record).fit()
    out = denoise_image(model, np.repeat(grey[:, :, None], 3, axis=2), colour="opponent")
    assert len(seen) == 3
    np.testing.assert_allclose(seen[0][0].reshape(8, 8), grey[:8, :8], atol=1e-6)
    np.testing.assert_allclose(seen[1], 0.5, atol=1e-6)
    np.testing.assert_allclose(seen[2], 0.5, atol=1e-6)
    np.testing.assert_allclose(out, np.repeat(grey[:, :, None], 3, axis=2), atol=1e-5)


@pytest.mark.parametrize("averaging", [{}, dict(shifts=2, orientations=2)])
def test_a_luminance_model_takes_the_mean_of_rgb_and_the_model_the_colour_differences(
    averaging,
):
    rng = np.random.default_rng(1)
    grey = rng.random((16, 16)).astype(np.float32)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    luminance = _PatchModel(lambda X: X + 0.125).fit()  # brightens what it is given
    differences = _PatchModel(lambda X: X).fit()
    out = denoise_image(differences, rgb, colour="opponent", luminance_model=luminance, **averaging)
    passes = 8 if averaging else 1
    assert len(luminance.calls) == passes and len(differences.calls) == 2 * passes
    # The mean of R, G and B brightened by 0.125 is each channel brightened by 0.125; the
    # colour differences (flat 0.5 here) come back as they were.
    np.testing.assert_allclose(out, rgb + 0.125, atol=1e-5)
    # Without a luminance model, the one model takes all three.
    alone = _PatchModel(lambda X: X + 0.125).fit()
    denoise_image(alone, rgb, colour="opponent", **averaging)
    assert len(alone.calls) == 3 * passes


@pytest.mark.parametrize("mode", ["fully_convolutional", "patches"])
def test_a_grey_model_denoises_a_colour_photograph_in_opponent_colours(photo_model, mode):
    """The small grey model on a held-out colour photograph: well above the noisy
    image, and no worse than R, G and B denoised one by one (a wrong scale or offset of
    an opponent channel would cost decibels; what the transform gains with a real model
    is measured by benchmarks/bench_images.py)."""
    flower = load_sample_image("flower.jpg").astype(np.float32)[100:260, 200:390] / 255
    noisy = _noisy(flower)
    opponent = denoise_image(photo_model, noisy, mode=mode, colour="opponent")
    assert opponent.shape == flower.shape and opponent.dtype == np.float32
    one_by_one = np.stack(
        [denoise_image(photo_model, noisy[:, :, c], mode=mode) for c in range(3)], axis=2
    )

    def score(image):  # skdae's PSNR takes rows: one per image row, its pixels' RGB
        clipped = np.clip(image, 0, 1)
        return psnr(flower.reshape(len(flower), -1), clipped.reshape(len(image), -1))

    assert score(opponent) > score(noisy) + 3, (score(opponent), score(noisy))
    assert score(opponent) > score(one_by_one) - 0.1, (score(opponent), score(one_by_one))


# ------------------------------------------------- shifts and orientations averaged


@pytest.mark.parametrize("shape", [(8, 8), (21, 13), (13, 21, 3)])
@pytest.mark.parametrize("shifts", [1, 2, 3])
@pytest.mark.parametrize("orientations", [1, 2, 8])
def test_every_shifted_and_turned_view_comes_back_to_the_images_frame(shape, shifts, orientations):
    """A model that returns its input returns the image, whatever is averaged over: a
    view undone in the wrong order or direction would move or turn pixels."""
    image = np.random.default_rng(0).random(shape).astype(np.float32)
    identity = _PatchModel(lambda X: X).fit()
    colour = "opponent" if image.ndim == 3 else None
    out = denoise_image(identity, image, shifts=shifts, orientations=orientations, colour=colour)
    np.testing.assert_allclose(out, image, atol=1e-5)


def test_it_averages_the_passes_over_the_views_one_pass_each(photo_model, china):
    image = _noisy(china[:45, :61])

    def one(x):
        return denoise_image(photo_model, np.ascontiguousarray(x))

    upside_down = (one(image) + one(image[::-1, ::-1])[::-1, ::-1]) / 2
    np.testing.assert_allclose(
        denoise_image(photo_model, image, orientations=2), upside_down, atol=1e-6
    )
    shifted = np.mean(
        [
            one(np.pad(image, ((dy, 0), (dx, 0)), mode="symmetric"))[dy:, dx:]
            for dy in (0, 1)
            for dx in (0, 1)
        ],
        axis=0,
    )
    np.testing.assert_allclose(denoise_image(photo_model, image, shifts=2), shifted, atol=1e-6)
    counted = _PatchModel(lambda X: X).fit()
    denoise_image(counted, np.zeros((16, 16), np.float32), shifts=3, orientations=8)
    assert len(counted.calls) == 3 * 3 * 8


def test_averaging_over_views_denoises_a_held_out_photograph_better(photo_model):
    flower = _gray("flower.jpg")[100:260, 200:390]
    noisy = _noisy(flower)
    one_pass = psnr(flower, denoise_image(photo_model, noisy))
    averaged = psnr(flower, denoise_image(photo_model, noisy, shifts=2, orientations=2))
    assert averaged > one_pass + 0.5, (one_pass, averaged)  # 1.3 dB when written


# ---------------------------------------------------------------------- errors


def _spatial(shape=(1, 8, 8), latent_dim=None):
    X = np.random.default_rng(0).random((8, int(np.prod(shape))), dtype=np.float32)
    return ConvDenoisingAutoencoder(latent_dim, image_shape=shape, channels=(2,), max_iter=1).fit(X)


GRAY, RGB = _spatial(), _spatial((3, 8, 8))


@pytest.mark.parametrize(
    "model, image, params, match",
    [
        (GRAY, np.zeros((5, 5, 5, 1)), {}, "must be \\(height, width\\) or"),
        (GRAY, np.zeros(10), {}, "must be \\(height, width\\) or"),
        (GRAY, np.zeros((10, 10, 3)), {}, "1 channel\\(s\\), but image has 3.*rgb2gray"),
        (GRAY, np.zeros((10, 10, 3)), {}, "or colour='opponent'"),
        (GRAY, np.zeros((10, 10, 3)), dict(colour="ycbcr"), "colour must be one of"),
        (GRAY, np.zeros((10, 10)), dict(colour="opponent"), "RGB images.*\\(10, 10\\)"),
        (GRAY, np.zeros((10, 10, 4)), dict(colour="opponent"), "RGB images"),
        (RGB, np.zeros((10, 10, 3)), dict(colour="opponent"), "one-channel.*3 channels"),
        (GRAY, np.full((9, 9, 3), np.nan), dict(colour="opponent"), "243 NaN"),
        (GRAY, np.zeros((9, 9, 3)), dict(luminance_model=GRAY), "pass colour='opponent'"),
        (
            GRAY,
            np.zeros((9, 9, 3)),
            dict(colour="opponent", luminance_model=RGB),
            "this luminance_model denoises 3 channels",
        ),
        (RGB, np.zeros((10, 10)), {}, "3 channel\\(s\\), but image has 1.*gray2rgb"),
        (RGB, np.zeros((10, 10, 4)), {}, "3 channel\\(s\\), but image has 4"),
        (GRAY, np.zeros((10, 10), np.uint8), {}, "dtype uint8.*img_as_float"),
        (GRAY, np.zeros((10, 10), bool), {}, "dtype bool"),
        (GRAY, np.array([["a"]]), {}, "floating-point"),
        (GRAY, np.full((10, 10), np.nan), {}, "100 NaN or infinite"),
        (GRAY, np.pad(np.zeros((3, 3)), 1, constant_values=np.inf), {}, "16 NaN or infinite"),
        (GRAY, np.zeros((0, 10)), {}, "empty"),
        (GRAY, np.zeros((5, 20)), dict(mode="patches"), "5x20 pixels, smaller than the 8x8"),
        (GRAY, np.zeros((9, 9)), dict(mode="tiles"), "mode must be one of"),
        (GRAY, np.zeros((9, 9)), dict(tile_size=0), "tile_size must be an integer"),
        (GRAY, np.zeros((9, 9)), dict(batch_size=2.5), "batch_size must be an integer"),
        (GRAY, np.zeros((9, 9)), dict(mode="patches", stride=0), "stride must be"),
        (GRAY, np.zeros((9, 9)), dict(stride=True, mode="patches"), "stride must be"),
        (GRAY, np.zeros((9, 9)), dict(patch_shape=(1, 4, 4)), "holds 16 values.*64"),
        (GRAY, np.zeros((9, 9)), dict(shifts=0), "shifts must be an integer of at least 1"),
        (GRAY, np.zeros((9, 9)), dict(shifts=1.5), "shifts must be an integer"),
        (GRAY, np.zeros((9, 9)), dict(orientations=4), "orientations must be one of"),
        (GRAY, np.zeros((9, 9)), dict(orientations=True), "orientations must be one of"),
        (GRAY, np.zeros((9, 9)), dict(orientations=[2]), "orientations must be one of"),
        (
            _PatchModel(lambda X: X, shape=(1, 4, 8)).fit(),
            np.zeros((9, 9)),
            dict(orientations=8),
            "square patches; this model's are 4x8",
        ),
        (GRAY, np.zeros((9, 9)), dict(patch_shape=(1, -8, -8)), "positive integers"),
        (_spatial(latent_dim=3), np.zeros((9, 9)), dict(mode="fully_convolutional"), "patches"),
        (_spatial((16,)), np.zeros((9, 9)), {}, "1-D signals"),
    ],
)
def test_bad_input_gets_a_clear_error(model, image, params, match):
    with pytest.raises(InputError, match=match):
        denoise_image(model, image, **params)


def test_an_unfitted_model_is_refused():
    with pytest.raises(NotFittedError):
        denoise_image(ConvDenoisingAutoencoder(None), np.zeros((8, 8)))
    with pytest.raises(NotFittedError):
        unfitted = ConvDenoisingAutoencoder(None)
        denoise_image(GRAY, np.zeros((8, 8, 3)), colour="opponent", luminance_model=unfitted)


def test_small_images_go_through_a_fully_convolutional_model():
    for shape in [(1, 1), (3, 2), (7, 9)]:
        assert denoise_image(GRAY, np.zeros(shape, np.float32)).shape == shape


def test_it_runs_in_float32_whatever_a_fit_elsewhere_runs_at(photo_model):
    image = np.random.default_rng(0).random((24, 24), dtype=np.float32)
    expected = denoise_image(photo_model, image)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        np.testing.assert_array_equal(denoise_image(photo_model, image), expected)
