"""ConvDenoisingAutoencoder: image shapes, the network's sizes, gradients, learning on
real digits, persistence, reproducibility and the errors a user can cause."""

import math
import pickle
import re
import warnings

import joblib
import numpy as np
import pytest
import torch
from fast_settings import DIGITS_NOISE
from model_file_helpers import forge
from sklearn.datasets import load_digits

from skdae import ConvDenoisingAutoencoder, DenoisingAutoencoder
from skdae._conv_network import (
    build_conv_autoencoder,
    conv_code_width,
    conv_parameter_count,
    resolve_image_shape,
)
from skdae.exceptions import ImageShapeWarning, InputError, ModelFileError, OvercompleteWarning
from skdae.metrics import peak_signal_noise_ratio as psnr

FAST_CONV = dict(latent_dim=4, channels=(4, 8), max_iter=3, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def digits():
    """scikit-learn's 8x8 digits in [0, 1]: small real images."""
    return load_digits().data.astype(np.float32) / 16.0


@pytest.fixture(scope="module")
def fitted(digits):
    return ConvDenoisingAutoencoder(**FAST_CONV).fit(digits[:300])


# ------------------------------------------------------------------ image shapes


@pytest.mark.parametrize(
    "image_shape, n_features, expected",
    [
        ("auto", 784, (1, 28, 28)),
        ("auto", 64, (1, 8, 8)),
        ("auto", 1, (1, 1, 1)),
        ("auto", 10, (1, 10)),  # not a square: a 1-D signal
        ("auto", 2, (1, 2)),
        ((28, 28), 784, (1, 28, 28)),
        ([28, 28], 784, (1, 28, 28)),
        ((1, 28, 28), 784, (1, 28, 28)),
        ((3, 32, 32), 3072, (3, 32, 32)),
        ((784,), 784, (1, 784)),
        ((4, 7), 28, (1, 4, 7)),
        ((np.int64(2), 3), 6, (1, 2, 3)),
    ],
)
def test_image_shape_is_resolved_to_channels_first(image_shape, n_features, expected):
    assert resolve_image_shape(image_shape, n_features) == expected


@pytest.mark.parametrize(
    "n_features, could_be",
    [
        (3072, r"image_shape=\(3, 32, 32\)"),  # a colour CIFAR image, not a signal
        (1200, r"image_shape=\(3, 20, 20\)"),
        (2, r"If they are images, pass image_shape=\(channels, height, width\)"),
        (10, r"If they are images, pass image_shape=\(channels, height, width\)"),
        (48, r"image_shape=\(3, 4, 4\)"),
        (72, r"image_shape=\(2, 6, 6\)"),
    ],
)
def test_auto_says_it_read_a_width_that_is_not_square_as_a_signal(n_features, could_be):
    X = np.random.RandomState(0).rand(8, n_features)
    dae = ConvDenoisingAutoencoder(latent_dim=1, channels=(2,), max_iter=1, random_state=0)
    with pytest.warns(ImageShapeWarning, match=f"1-D signal of length {n_features}") as seen:
        dae.fit(X)
    assert len(seen) == 1
    assert seen[0].filename == __file__  # points at the caller's line
    message = str(seen[0].message)
    assert re.search(could_be, message)
    assert f"pass image_shape=({n_features},)" in message
    assert dae.image_shape_ == (1, n_features)
    # Said once per model: continuing, warm-starting and loading say nothing more.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dae.partial_fit(X)
        dae.set_params(warm_start=True).fit(X)
        pickle.loads(pickle.dumps(dae))
    # An explicit shape says what 'auto' guessed, silently; a fresh partial_fit warns.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explicit = ConvDenoisingAutoencoder(
            latent_dim=1, channels=(2,), max_iter=1, image_shape=(n_features,)
        ).fit(X)
    assert explicit.image_shape_ == (1, n_features)
    with pytest.warns(ImageShapeWarning):
        ConvDenoisingAutoencoder(latent_dim=1, channels=(2,)).partial_fit(X)


@pytest.mark.parametrize("n_features", [1, 4, 64, 784, 1024, 3136])
def test_auto_reads_a_square_width_as_one_channel_silently(n_features):
    """Even squares are also 4-channel images of half the side (784: 4x14x14; RGBA
    28x28 is 3136 = 56**2): 'auto' cannot tell, reads one channel, and the docstring
    asks for the shape of colour images."""
    X = np.random.RandomState(0).rand(4, n_features)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OvercompleteWarning)
        warnings.simplefilter("error", ImageShapeWarning)
        dae = ConvDenoisingAutoencoder(latent_dim=2, channels=(2,), max_iter=1).fit(X)
    side = math.isqrt(n_features)
    assert dae.image_shape_ == (1, side, side)
    rgba = ConvDenoisingAutoencoder(
        latent_dim=2, channels=(2,), max_iter=1, image_shape=(4, 28, 28)
    )
    assert rgba.fit(X[:, :1] * np.ones(3136)).image_shape_ == (4, 28, 28)


@pytest.mark.parametrize(
    "image_shape, match",
    [
        ((28, 27), "holds 756 values per image, but X has 784 features"),
        ((3, 28, 28), "holds 2352 values per image, but X has 784 features"),
        ((), "must be \\(length,\\)"),
        ((1, 1, 28, 28), "must be \\(length,\\)"),
        ((28.0, 28), "must be \\(length,\\)"),
        ((True, 784), "must be \\(length,\\)"),
        ((0, 28), "positive integers"),
        ((-28, -28), "positive integers"),
    ],
)
def test_a_wrong_image_shape_is_a_clear_error_at_fit(image_shape, match):
    X = np.random.RandomState(0).rand(10, 784)
    with pytest.raises(InputError, match=match):
        ConvDenoisingAutoencoder(image_shape=image_shape, max_iter=1).fit(X)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(kernel_size=4), "kernel_size must be odd"),
        (dict(channels=()), "channels must give 1 to 8 stages"),
        (dict(channels=(2,) * 9), "channels must give 1 to 8 stages"),
        (dict(channels=(4, 0)), "channels must contain only positive integers"),
        (dict(channels=(4, 2.5)), "channels must contain only positive integers"),
        (dict(channels=(True,)), "channels must contain only positive integers"),
        (dict(kernel_size=True), "kernel_size=True is a bool"),
        (dict(bottleneck_layers=-1), "bottleneck_layers"),
        (dict(latent_dim=0), "latent_dim"),
    ],
)
def test_bad_network_parameters_are_refused_with_the_parameter_named(params, match):
    X = np.random.RandomState(0).rand(10, 16)
    with pytest.raises(ValueError, match=match):
        ConvDenoisingAutoencoder(max_iter=1, **params).fit(X)


# ------------------------------------------------------------------ the network


ARCHITECTURES = [
    dict(image_shape=(1, 28, 28), channels=(32, 64), kernel_size=3, bottleneck_layers=1),
    dict(image_shape=(1, 8, 8), channels=(4, 8, 16), kernel_size=5, bottleneck_layers=2),
    dict(image_shape=(3, 7, 5), channels=(4,), kernel_size=3, bottleneck_layers=0),
    dict(image_shape=(2, 9, 4), channels=(3, 5), kernel_size=1, bottleneck_layers=1),
    dict(image_shape=(1, 13), channels=(4, 4, 4), kernel_size=3, bottleneck_layers=1),
    dict(image_shape=(1, 1, 1), channels=(2,), kernel_size=3, bottleneck_layers=0),
    # Residual blocks and sub-pixel upsampling, to odd sizes, in 2-D and 1-D.
    dict(
        image_shape=(3, 7, 5),
        channels=(4, 6),
        kernel_size=3,
        bottleneck_layers=0,
        residual_blocks=2,
        upsampling="pixel_shuffle",
    ),
    dict(
        image_shape=(1, 8, 8), channels=(4,), kernel_size=5, bottleneck_layers=1, residual_blocks=1
    ),
    dict(
        image_shape=(2, 13),
        channels=(3, 5),
        kernel_size=3,
        bottleneck_layers=1,
        residual_blocks=1,
        upsampling="pixel_shuffle",
    ),
]


def _arch(latent_dim, **shape):
    n_features = int(np.prod(shape["image_shape"]))
    return dict(
        n_features=n_features,
        latent_dim=latent_dim,
        activation="relu",
        latent_activation="relu",
        output_activation="sigmoid",
        **shape,
    )


@pytest.mark.parametrize("latent_dim", [6, None])
@pytest.mark.parametrize("shape", ARCHITECTURES, ids=lambda a: str(a["image_shape"]))
def test_the_network_restores_every_size_and_is_counted_before_building(shape, latent_dim):
    arch = _arch(latent_dim, **shape)
    module = build_conv_autoencoder(**arch)
    X = torch.rand(3, arch["n_features"])
    codes = module.encode(X)
    assert codes.shape == (3, conv_code_width(**arch))
    assert module(X).shape == X.shape
    assert module.decode(codes).shape == X.shape
    assert conv_parameter_count(**arch) == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(
    "extra",
    [{}, dict(residual_blocks=1, upsampling="pixel_shuffle")],
    ids=["transposed", "residual, sub-pixel"],
)
def test_the_whole_network_differentiates_correctly(extra):
    """Autograd's gradient through the reshapes, memory formats, convolutions and
    their transposes (or residual blocks and sub-pixel upsampling) agrees with finite
    differences (in float64)."""
    torch.manual_seed(0)
    for latent_dim in (3, None):
        arch = _arch(latent_dim, image_shape=(2, 5, 6), channels=(3, 4), kernel_size=3)
        module = build_conv_autoencoder(bottleneck_layers=1, **arch, **extra).double()
        with torch.no_grad():  # zero biases put ReLUs exactly at their kink on zeros
            for parameter in module.parameters():
                if parameter.dim() == 1:
                    parameter.normal_(0, 0.3)
        X = torch.rand(2, arch["n_features"], dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(module.logits, (X,), eps=1e-6, atol=1e-5)
        # And with respect to every weight: a loss of the output, through each layer.
        params = list(module.parameters())
        probe = torch.rand(2, arch["n_features"], dtype=torch.float64)

        def loss_of(*weights, params=params, module=module, probe=probe):
            state = {
                name: w for (name, _), w in zip(module.named_parameters(), weights, strict=True)
            }
            return torch.func.functional_call(module, state, (probe,)).square().sum()

        assert torch.autograd.gradcheck(
            loss_of, tuple(p.detach().requires_grad_() for p in params), eps=1e-6, atol=1e-5
        )


def test_a_new_residual_block_is_the_identity():
    arch = _arch(None, image_shape=(1, 8, 8), channels=(4,), kernel_size=3)
    module = build_conv_autoencoder(bottleneck_layers=0, residual_blocks=2, **arch)
    blocks = [layer for layer in module.modules() if type(layer).__name__ == "_Residual"]
    assert len(blocks) == 4
    maps = torch.rand(2, 4, 4, 4)
    for block in blocks:
        torch.testing.assert_close(block(maps), maps)


@pytest.mark.parametrize("upsampling", ["transpose", "pixel_shuffle"])
@pytest.mark.parametrize("image_shape", [(1, 9, 7), (3, 8, 8), (2, 11)])
def test_a_spatial_code_network_reconstructs_images_of_any_size(image_shape, upsampling):
    """forward_images on the trained size is the network on rows; on other sizes (odd
    and even, larger and smaller) it keeps the size."""
    arch = _arch(None, image_shape=image_shape, channels=(3, 4), kernel_size=3)
    module = build_conv_autoencoder(
        bottleneck_layers=1, residual_blocks=1, upsampling=upsampling, **arch
    )
    rows = torch.rand(3, arch["n_features"])
    images = rows.reshape(3, *image_shape)
    with torch.no_grad():
        torch.testing.assert_close(module.forward_images(images).reshape(3, -1), module(rows))
        for delta in (-3, 1, 6):
            spatial = [max(1, s + delta) for s in image_shape[1:]]
            other = torch.rand(2, image_shape[0], *spatial)
            assert module.forward_images(other).shape == other.shape


def test_a_dense_code_network_refuses_images_of_any_size():
    arch = _arch(4, image_shape=(1, 8, 8), channels=(3,), kernel_size=3)
    module = build_conv_autoencoder(bottleneck_layers=0, **arch)
    with pytest.raises(InputError, match="latent_dim=None"):
        module.forward_images(torch.rand(1, 1, 8, 8))


def test_summary_shows_residual_blocks_and_sub_pixel_upsampling(digits):
    dae = ConvDenoisingAutoencoder(
        **{**FAST_CONV, "max_iter": 1},
        residual_blocks=1,
        upsampling="pixel_shuffle",
    ).fit(digits[:64])
    text = dae.summary()
    assert "CONV2D 4x4x4 -> 4x4x4 [ReLU]" in text
    assert "CONV2D 4x4x4 -> 4x4x4 [+ input]" in text
    assert "SUBPIXEL2D 8x2x2 -> 4x4x4 [ReLU]" in text
    assert "SUBPIXEL2D 4x4x4 -> 1x8x8 [Sigmoid]" in text
    total = sum(p.numel() for p in dae.module_.parameters())
    assert text.splitlines()[-1].split()[-1] == str(total)


def test_summary_lists_each_layer_with_its_shapes(fitted):
    text = fitted.summary()
    assert "CONV2D 1x8x8 -> 4x4x4 [ReLU]" in text
    assert "CONV2D 4x4x4 -> 8x2x2 [ReLU]" in text
    assert "DENSE 32 -> 4 [ReLU]" in text
    assert "CONVT2D 4x4x4 -> 1x8x8 [Sigmoid]" in text
    total = sum(p.numel() for p in fitted.module_.parameters())
    assert text.splitlines()[-1].split()[-1] == str(total)


# ------------------------------------------------------------------ the estimator


@pytest.mark.parametrize(
    "params, gain",
    # The dense code's gain is 1.6-1.8 dB over seeds and precisions: the bar is below it.
    [(dict(latent_dim=None, channels=(32,)), 3.0), (dict(latent_dim=32, channels=(32, 64)), 1.5)],
    ids=["spatial code", "dense code"],
)
def test_it_learns_to_denoise_real_digits(digits, params, gain):
    """On scikit-learn's 8x8 digits (12.9 dB noisy; the dense default reaches 16.3)."""
    train, test = digits[:1400], digits[1400:]
    noisy = DIGITS_NOISE.corrupt(test, random_state=1)
    dae = ConvDenoisingAutoencoder(
        **params, corruption=DIGITS_NOISE, max_iter=40, random_state=0
    ).fit(train)
    before, after = psnr(test, noisy), psnr(test, dae.predict(noisy))
    assert after > before + gain, (before, after)
    assert dae.loss_curve_[-1] < 0.8 * dae.loss_curve_[0]


def test_codes_have_latent_dim_or_the_feature_map_width(digits):
    spatial = ConvDenoisingAutoencoder(**{**FAST_CONV, "latent_dim": None, "max_iter": 1})
    spatial.fit(digits[:100])
    assert spatial.transform(digits[:5]).shape == (5, 8 * 2 * 2)
    assert spatial.inverse_transform(spatial.transform(digits[:5])).shape == (5, 64)
    assert list(spatial.get_feature_names_out())[:2] == [
        "convdenoisingautoencoder0",
        "convdenoisingautoencoder1",
    ]
    with pytest.raises(ValueError, match="codes of width 32"):
        spatial.inverse_transform(np.zeros((2, 4)))


def test_a_fixed_random_state_reproduces_the_fit_bit_for_bit(digits):
    a, b = (ConvDenoisingAutoencoder(**FAST_CONV).fit(digits[:200]) for _ in range(2))
    assert a.loss_curve_ == b.loss_curve_
    np.testing.assert_array_equal(a.predict(digits[:50]), b.predict(digits[:50]))


def test_a_row_denoises_the_same_alone_or_among_others(fitted, digits):
    together = fitted.predict(digits[:300])
    for i in (0, 7, 299):
        np.testing.assert_array_equal(fitted.predict(digits[i : i + 1])[0], together[i])


def test_rgb_images_flattened_channels_first_are_read_as_images():
    rng = np.random.RandomState(0)
    images = rng.rand(40, 3, 6, 6).astype(np.float32)
    dae = ConvDenoisingAutoencoder(image_shape=(3, 6, 6), **FAST_CONV).fit(images.reshape(40, -1))
    assert dae.image_shape_ == (3, 6, 6)
    assert dae.module_.encoder[1].in_channels == 3
    assert dae.predict(images.reshape(40, -1)).shape == (40, 108)


def test_missing_values_and_sample_weights_train(digits):
    X = digits[:200].copy()
    X[::7, 5] = np.nan
    dae = ConvDenoisingAutoencoder(**FAST_CONV).fit(X, sample_weight=np.linspace(0.5, 2, 200))
    assert np.isfinite(dae.predict(X)).all()
    assert np.isfinite(dae.score(X))


def test_warm_start_refuses_a_changed_network(digits):
    dae = ConvDenoisingAutoencoder(**FAST_CONV, warm_start=True).fit(digits[:100])
    dae.set_params(channels=(4, 16))
    with pytest.raises(InputError, match="other values of channels"):
        dae.fit(digits[:100])
    dae.set_params(channels=(4, 8), max_iter=1)
    assert dae.fit(digits[:100]).n_iter_ == 4  # continues where it stood


def test_bfloat16_reaches_the_convolutions(digits, monkeypatch):
    """matmul_precision governs the convolutions too, through autocast, on any CPU (where
    bfloat16 is not native torch emulates it: the same rounding): bfloat16 and float32
    fits of the same seed differ, and each records what it measured."""
    monkeypatch.setattr("skdae._precision.native_bfloat16", lambda device: True)
    runs = {
        precision: ConvDenoisingAutoencoder(
            **FAST_CONV, device="cpu", matmul_precision=precision
        ).fit(digits[:200])
        for precision in ("float32", "bfloat16")
    }
    assert runs["float32"].matmul_precision_ == "float32"
    assert runs["bfloat16"].matmul_precision_ == "bfloat16"
    assert runs["float32"].loss_curve_ != runs["bfloat16"].loss_curve_


@pytest.mark.parametrize(
    "layer, shape",
    [
        ("_Conv1d", (24, 16, 1)),
        ("_Conv2d", (24, 16, 1, 1)),
        ("_ConvTranspose1d", (24, 16, 1)),
        ("_ConvTranspose2d", (24, 16, 1, 1)),
    ],
)
def test_strided_layers_on_one_pixel_are_exact_under_bfloat16_autocast(layer, shape):
    """oneDNN's bfloat16 kernels read unwritten memory for these (NaN or garbage in about
    half of the calls): skdae's layers run them in float32, exactly, whatever the
    allocator hands out."""
    import skdae._conv_network as conv_network

    module = getattr(conv_network, layer)(16, 8, 3, stride=2, padding=1)
    X = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    expected = module(X)
    for _ in range(10):
        garbage = [torch.full((1 << 16,), float("nan")) for _ in range(20)]
        del garbage  # the next allocations reuse NaN-filled memory
        with torch.autocast("cpu", dtype=torch.bfloat16):
            got = module(X)
        torch.testing.assert_close(got, expected, rtol=0, atol=0)


@pytest.fixture
def product_calls(monkeypatch):
    """A list that grows by one each time a transposed convolution infers by a product."""
    import skdae._conv_network as conv_network

    calls = []
    product = conv_network._transposed_by_product
    monkeypatch.setattr(
        conv_network, "_transposed_by_product", lambda *args: calls.append(1) or product(*args)
    )
    return calls


@pytest.mark.parametrize(
    "out_channels, kernel_size, stride, padding, size, output_size, bias",
    [
        (1, 3, 2, 1, (14, 14), (28, 28), True),  # MNIST's last layer
        (1, 3, 2, 1, (4, 4), (7, 7), True),  # an odd size (output_size drops a row)
        (3, 5, 2, 2, (5, 9), (10, 17), False),  # colour, a wider kernel, no bias
        (4, 3, 3, 0, (3, 2), None, True),  # stride 3, no padding
        (2, 1, 2, 0, (6, 6), (12, 12), True),  # a 1x1 kernel leaves gaps of zeros
        (3, (5, 3), (2, 1), (2, 1), (5, 9), None, True),  # rows and columns differ
    ],
)
def test_transposed_convolutions_to_few_channels_infer_by_a_product_to_the_same_sums(
    out_channels, kernel_size, stride, padding, size, output_size, bias, product_calls
):
    """The matrix-product inference of a transposed convolution to an image's channels
    gives oneDNN's result (float32 rounding apart), for any kernel, stride, padding,
    bias and output size; it runs only without autograd, where training never is."""
    import skdae._conv_network as conv_network

    generator = torch.Generator().manual_seed(0)
    layer = conv_network._ConvTranspose2d(
        6, out_channels, kernel_size, stride=stride, padding=padding, bias=bias
    )
    X = torch.randn(5, 6, *size, generator=generator).contiguous(memory_format=torch.channels_last)
    expected = torch.nn.functional.conv_transpose2d(
        X,
        layer.weight,
        layer.bias,
        stride=stride,
        padding=padding,
        output_padding=layer._output_padding(
            X, output_size, layer.stride, layer.padding, layer.kernel_size, 2, layer.dilation
        ),
    )
    with torch.no_grad():
        got = layer(X, output_size)
    assert product_calls == [1]
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    trained = layer(X, output_size)  # with autograd: oneDNN's kernel
    assert product_calls == [1] and trained.requires_grad
    torch.testing.assert_close(trained, expected)


def test_predict_of_a_fitted_network_is_the_same_with_the_product_as_with_onednn(
    digits, monkeypatch, product_calls
):
    """A fitted network predicts the same through the product as through oneDNN's
    kernel alone (the product switched off)."""
    import skdae._conv_network as conv_network

    dae = ConvDenoisingAutoencoder(**FAST_CONV).fit(digits[:200])
    fast = dae.predict(digits[200:300])
    assert product_calls  # the last layer, 8 channels to 1
    monkeypatch.setattr(conv_network._ConvTranspose2d, "_MAX_PRODUCT_CHANNELS", 0)
    np.testing.assert_allclose(dae.predict(digits[200:300]), fast, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ persistence


@pytest.mark.parametrize(
    "extra",
    [
        dict(latent_dim=4),
        dict(latent_dim=None),
        dict(residual_blocks=1, upsampling="pixel_shuffle"),
    ],
    ids=["dense code", "spatial code", "residual, sub-pixel"],
)
def test_the_safe_format_round_trip_is_bit_identical(digits, tmp_path, extra):
    dae = ConvDenoisingAutoencoder(**{**FAST_CONV, **extra}).fit(digits[:200])
    loaded = ConvDenoisingAutoencoder.load(dae.save(tmp_path / "conv.skdae"))
    assert repr(loaded) == repr(dae)
    assert loaded.image_shape_ == dae.image_shape_
    for method in ("transform", "predict"):
        np.testing.assert_array_equal(
            getattr(loaded, method)(digits[200:260]), getattr(dae, method)(digits[200:260])
        )


@pytest.mark.parametrize("via", ["safe file", "pickle", "joblib"])
def test_training_resumes_after_loading_exactly(digits, tmp_path, via):
    """The optimizer state comes back laid out as the channels-last weights are: with
    contiguous moments torch's fused Adam paired the wrong elements (silently)."""
    params = dict(FAST_CONV, max_iter=4, learning_rate="cosine")
    X = digits[:200]
    half = ConvDenoisingAutoencoder(**params)
    half.partial_fit(X)
    half.partial_fit(X)
    if via == "safe file":
        resumed = ConvDenoisingAutoencoder.load(half.save(tmp_path / "m.skdae"))
    elif via == "pickle":
        resumed = pickle.loads(pickle.dumps(half))
    else:
        joblib.dump(half, tmp_path / "m.joblib")
        resumed = joblib.load(tmp_path / "m.joblib")
    for dae in (half, resumed):
        dae.partial_fit(X)
        dae.partial_fit(X)
    assert resumed.loss_curve_ == half.loss_curve_
    np.testing.assert_array_equal(resumed.predict(X), half.predict(X))


def test_a_model_file_holds_its_class_and_refuses_the_other(fitted, tmp_path):
    path = fitted.save(tmp_path / "conv.skdae")
    with pytest.raises(ModelFileError, match="holds a ConvDenoisingAutoencoder.*load it with"):
        DenoisingAutoencoder.load(path)
    dense = DenoisingAutoencoder(latent_dim=2, hidden_layer_sizes=(4,), max_iter=1)
    dense_path = dense.fit(np.random.rand(20, 64)).save(tmp_path / "dense.skdae")
    with pytest.raises(ModelFileError, match="holds a DenoisingAutoencoder"):
        ConvDenoisingAutoencoder.load(dense_path)


def _set(section, name, value):
    def edit(document, tensors):
        document[section][name] = value

    return edit


def _set_architecture(name, value):
    def edit(document, tensors):
        document["fitted"]["_architecture"][name] = value

    return edit


@pytest.mark.parametrize(
    "edit, match",
    [
        # Parameters go through the constraint table. (A parameter that differs from the
        # architecture is a legal state, as after set_params on a fitted model; only the
        # architecture describes the network, and fit checks the parameters.)
        (_set("params", "channels", "wide"), "parameter skdae refuses"),
        (_set("params", "kernel_size", 0), "parameter skdae refuses"),
        (_set("params", "bottleneck_layers", -1), "parameter skdae refuses"),
        (_set("params", "image_shape", "square"), "parameter skdae refuses"),
        (_set("params", "kernel_size", True), "is a bool"),
        # The architecture must be one the estimator builds, for the file's tensors.
        (_set_architecture("kernel_size", 4), "not one skdae builds: kernel_size must be odd"),
        (_set_architecture("image_shape", [7, 7]), "not one skdae builds: .*49 values"),
        (_set_architecture("channels", [4] * 9), "not one skdae builds: .*1 to 8 stages"),
        (_set_architecture("channels", [4, 16]), "parameters but the file stores"),
        (_set_architecture("image_shape", [4, 4, 4]), "parameters but the file stores"),
        (_set_architecture("bottleneck_layers", 0), "parameters but the file stores"),
        (_set_architecture("latent_dim", None), "parameters but the file stores"),
        (_set_architecture("latent_dim", 10**9), "parameters but the file stores"),
        (_set_architecture("channels", [10**6, 10**6]), "parameters but the file stores"),
        (_set_architecture("residual_blocks", 1), "parameters but the file stores"),
        (_set_architecture("upsampling", "pixel_shuffle"), "parameters but the file stores"),
        (_set_architecture("upsampling", "nearest"), "not one skdae builds"),
        (_set_architecture("residual_blocks", -1), "not one skdae builds"),
    ],
)
def test_edits_of_a_conv_model_file_are_refused(fitted, tmp_path, edit, match):
    path = forge(fitted.save(tmp_path / "conv.skdae"), edit)
    with pytest.raises(ModelFileError, match=match):
        ConvDenoisingAutoencoder.load(path)


def test_a_file_from_before_residual_blocks_loads_with_the_old_network(fitted, tmp_path):
    def drop_new_entries(document, tensors):
        for name in ("residual_blocks", "upsampling"):
            del document["fitted"]["_architecture"][name]

    path = forge(fitted.save(tmp_path / "conv.skdae"), drop_new_entries)
    loaded = ConvDenoisingAutoencoder.load(path)
    X = load_digits().data[:20].astype(np.float32) / 16
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))


# ------------------------------------------------------------------ around it


def test_the_displays_take_a_conv_model_unchanged(fitted, digits):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skdae.plotting import LatentSpaceDisplay, LossCurveDisplay, ReconstructionDisplay

    try:
        grid = ReconstructionDisplay.from_estimator(fitted, digits[:5], DIGITS_NOISE, n_images=5)
        assert grid.axes_.shape == (3, 5)
        denoised = grid.axes_[2][0].get_images()[0].get_array().ravel()
        np.testing.assert_allclose(denoised, fitted.predict(grid.noisy[:1])[0], rtol=1e-6)
        assert len(LossCurveDisplay.from_estimator(fitted).lines_) == 1
        labels = load_digits().target[:40]
        latent = LatentSpaceDisplay.from_estimator(fitted, digits[:40], labels)
        assert latent.embedding.shape == (40, 2)
    finally:
        plt.close("all")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_devices_resolve_as_for_the_dense_estimator(digits):
    dae = ConvDenoisingAutoencoder(**FAST_CONV, device="cpu").fit(digits[:50])
    assert dae.device_ == torch.device("cpu")
    assert next(dae.module_.parameters()).device == torch.device("cpu")
    with pytest.raises(ValueError, match="CUDA is not available"):
        ConvDenoisingAutoencoder(**FAST_CONV, device="cuda").fit(digits[:50])
    with pytest.raises(ValueError, match="device"):
        ConvDenoisingAutoencoder(**FAST_CONV, device="tpu").fit(digits[:50])
    assert not hasattr(ConvDenoisingAutoencoder(**FAST_CONV), "module_")
