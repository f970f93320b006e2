"""The convolutional torch module: strided convolutions down, transposed (or sub-pixel)
ones back up, with optional residual blocks at every resolution.

Rows come in as scikit-learn has them, ``(n_samples, n_features)``, and leave the same
way: the module views each row as an image of ``image_shape`` (channels first, then
height and width, or a length for 1-D signals), so the training loop, the corruptions
and the losses see flat rows exactly as for the dense network.

Each encoder stage is one convolution of stride 2 (it halves the resolution: strided
convolutions learn their downsampling, and cost a quarter of a stride-1 convolution
followed by pooling); ``bottleneck_layers`` stride-1 convolutions at the coarsest
resolution add depth where it is cheapest. The decoder mirrors it with transposed
convolutions of stride 2, whose output padding restores odd sizes exactly. With
``latent_dim`` a dense layer maps the coarsest feature map to the code, as in the dense
network; with ``latent_dim=None`` the code is that feature map itself, flattened.

Images travel in the channels-last memory format, which oneDNN's CPU convolutions run
about 1.4x faster than channels-first (2 cores, MNIST batch 128); the weights of 2-D
convolutions are kept channels-last for the same reason.
"""

import math
from numbers import Integral

import numpy as np
import torch
from torch import nn

from skdae._network import OUTPUT_ACTIVATIONS, _activation_layer, init_glorot
from skdae._warnings import warn
from skdae.exceptions import ImageShapeWarning, InputError


class _PointSafe:
    """A strided (transposed) convolution that runs in float32 on a one-point input
    under autocast.

    oneDNN's bfloat16 kernels (torch 2.13, CPU) read memory they never wrote for a
    stride-2 convolution or transposed convolution of a 1-pixel input: the output
    turned NaN or garbage in about half of the calls, which is what a network whose
    last stage is one pixel wide gets. Such a layer is tiny; in float32 it is exact.
    The layer's parameters and their names are those of the torch class it extends.
    """

    def forward(self, X, *args, **kwargs):
        device = X.device.type
        if (
            max(self.stride) > 1
            and all(size == 1 for size in X.shape[2:])
            and torch.is_autocast_enabled(device)
        ):
            with torch.autocast(device, enabled=False):
                return super().forward(X.float(), *args, **kwargs)
        return super().forward(X, *args, **kwargs)


class _Conv1d(_PointSafe, nn.Conv1d):
    pass


class _Conv2d(_PointSafe, nn.Conv2d):
    pass


class _ConvTranspose1d(_PointSafe, nn.ConvTranspose1d):
    pass


class _ConvTranspose2d(_PointSafe, nn.ConvTranspose2d):
    """A 2-D transposed convolution that infers to a few channels by a matrix product.

    oneDNN's deconvolution to an image's 1 to 4 channels (the decoder's last layer) is
    slow on a CPU: in the MNIST conv default's float32 ``predict`` it took about a third
    of the time for 3% of the multiply-adds (2 cores, AMD EPYC Zen 4). Without autograd,
    in float32 on a CPU, such a layer runs instead as one product of every input pixel
    with all the kernel's taps, whose results are added into the output at their
    strided positions: the same sums (to float32 rounding), in 6.7 ms per 1,024 digits
    against 14 to 18, and ``predict`` 17% to 23% faster (Zen 4, and emulating an
    AVX2-only CPU). Training keeps oneDNN's kernels, whose backward pass the product
    does not beat.
    """

    # An image's channels. To 32 channels the product was 3x slower than oneDNN; to 3
    # channels from 64 (a colour photograph's last layer) the two took the same time.
    _MAX_PRODUCT_CHANNELS = 4

    def forward(self, X, output_size=None):
        if (
            self.out_channels <= self._MAX_PRODUCT_CHANNELS
            and X.device.type == "cpu"
            and X.dtype == torch.float32
            and X.dim() == 4
            and not torch.is_grad_enabled()
            and not torch.is_autocast_enabled("cpu")
            and self.groups == 1
            and self.dilation == (1, 1)
        ):
            output_padding = self._output_padding(
                X, output_size, self.stride, self.padding, self.kernel_size, 2, self.dilation
            )
            return _transposed_by_product(
                X, self.weight, self.bias, self.stride, self.padding, output_padding
            )
        return super().forward(X, output_size)


def _transposed_by_product(X, weight, bias, stride, padding, output_padding):
    """``conv_transpose2d`` (no groups, no dilation) as a matrix product and strided
    additions: input pixel ``(i, j)`` adds ``x[i, j] @ weight[:, :, a, b]`` to output
    pixel ``(s i + a - p, s j + b - p)``. Returns a channels-last map."""
    n, channels, height, width = X.shape
    _, out_channels, kh, kw = weight.shape
    (sh, sw), (ph, pw), (oh, ow) = stride, padding, output_padding
    pixels = X.permute(0, 2, 3, 1).reshape(-1, channels)  # a view when channels-last
    taps = weight.permute(0, 2, 3, 1).reshape(channels, kh * kw * out_channels)
    products = (pixels @ taps).view(n, height, width, kh, kw, out_channels)
    # Every output position a tap reaches, before the padding is cropped away. These
    # strided additions are what F.fold (col2im) does, which took 1.5x as long here
    # (9.3 against 6.3 ms per 1,024 MNIST digits, float32, AMD EPYC Zen 4).
    full = X.new_zeros(n, (height - 1) * sh + kh + oh, (width - 1) * sw + kw + ow, out_channels)
    for a in range(kh):
        for b in range(kw):
            full[:, a : a + (height - 1) * sh + 1 : sh, b : b + (width - 1) * sw + 1 : sw] += (
                products[:, :, :, a, b]
            )
    out_height = (height - 1) * sh - 2 * ph + kh + oh
    out_width = (width - 1) * sw - 2 * pw + kw + ow
    out = full[:, ph : ph + out_height, pw : pw + out_width]
    if bias is not None:
        out = out + bias
    return out.permute(0, 3, 1, 2)


_CONV = {1: _Conv1d, 2: _Conv2d}
_CONV_TRANSPOSE = {1: _ConvTranspose1d, 2: _ConvTranspose2d}
MAX_STAGES = 8  # each halves the image: 8 reduce 256 pixels to one


def resolve_image_shape(image_shape, n_features, *, warn=False):
    """``(channels, *spatial)`` of the image each row of ``n_features`` values holds.

    ``'auto'`` is a square single-channel image when ``n_features`` is a perfect square
    and a single-channel 1-D signal otherwise, with an :class:`ImageShapeWarning` when
    ``warn`` (the shapes the row could be are named). A tuple is ``(length,)``,
    ``(height, width)`` or ``(channels, height, width)``; its values must multiply to
    ``n_features``.
    """
    if isinstance(image_shape, str):  # 'auto', the only string the constraints allow
        side = math.isqrt(n_features)
        if side * side == n_features:
            return (1, side, side)
        if warn:
            warn_of_a_signal(n_features)
        return (1, n_features)
    try:
        shape = tuple(image_shape)
    except TypeError:
        shape = ()
    if not 1 <= len(shape) <= 3 or not all(
        isinstance(s, Integral | np.integer) and not isinstance(s, bool) for s in shape
    ):
        raise InputError(
            "image_shape must be (length,), (height, width) or (channels, height, width) "
            f"of positive integers, or 'auto'; got {image_shape!r}."
        )
    shape = tuple(int(s) for s in shape)
    if min(shape) < 1:
        raise InputError(f"image_shape must hold positive integers; got {image_shape!r}.")
    if math.prod(shape) != n_features:
        raise InputError(
            f"image_shape={image_shape!r} holds {math.prod(shape)} values per image, but X "
            f"has {n_features} features. Pass the shape of the image one row holds "
            "(channels first), or image_shape='auto'."
        )
    return shape if len(shape) == 3 else (1, *shape)


# Up to RGBA: the channel counts of images that a flat row plausibly holds.
_IMAGE_CHANNELS = (1, 2, 3, 4)


def square_image_shapes(n_features):
    """The ``(channels, side, side)`` images of 1 to 4 channels, sides of at least 2,
    that hold ``n_features`` values: ``[(3, 32, 32)]`` for 3072."""
    shapes = []
    for channels in _IMAGE_CHANNELS:
        side = math.isqrt(n_features // channels)
        if side >= 2 and channels * side * side == n_features:
            shapes.append((channels, side, side))
    return shapes


def warn_of_a_signal(n_features):
    """Say that ``image_shape='auto'`` read rows of ``n_features`` values as 1-D
    signals, and which images they could be (stack: resolve_image_shape, the
    estimator's ``_make_architecture``, ``_initialize``, ``_fit``, ``fit`` and its
    ``fit_context`` wrapper)."""
    shapes = square_image_shapes(n_features)
    if shapes:
        could_be = (
            f"They could be images of image_shape={' or '.join(map(str, shapes))}: pass "
            "that shape, or another (channels, height, width)"
        )
    else:
        could_be = (
            "If they are images, pass image_shape=(channels, height, width) (or (height, width))"
        )
    warn(
        f"image_shape='auto' read each row of {n_features} values as a 1-D signal of "
        f"length {n_features} (image_shape_ = (1, {n_features})): {n_features} is not a "
        f"perfect square, and 'auto' infers only square single-channel images. "
        f"{could_be}. To keep the 1-D reading and silence this warning, pass "
        f"image_shape=({n_features},).",
        ImageShapeWarning,
    )


def stage_sizes(spatial, n_stages):
    """The spatial size at the input and after each stride-2 stage (odd sizes round up)."""
    sizes = [tuple(spatial)]
    for _ in range(n_stages):
        sizes.append(tuple((s + 1) // 2 for s in sizes[-1]))
    return sizes


class _ToImage(nn.Module):
    """Flat rows -> images of ``image_shape`` (channels first), channels-last in memory
    for 2-D images.

    ``rows_channels_last`` says how a row is ordered: channels first (``(C, H, W)``
    flattened, as users' images and the reconstruction are), or channels last, as
    :class:`_Flatten` leaves the network's own feature maps. Read channels-last rows
    are a view of the memory the next convolution wants: no copy either way.
    """

    def __init__(self, image_shape, *, rows_channels_last=False):
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.rows_channels_last = rows_channels_last

    def forward(self, X):
        if len(self.image_shape) != 3:  # 1-D signals: (n, channels, length)
            return X.reshape(X.shape[0], *self.image_shape)
        channels, height, width = self.image_shape
        if self.rows_channels_last:
            return X.reshape(X.shape[0], height, width, channels).permute(0, 3, 1, 2)
        images = X.reshape(X.shape[0], channels, height, width)
        return images.contiguous(memory_format=torch.channels_last)

    def extra_repr(self):
        return f"image_shape={self.image_shape}, rows_channels_last={self.rows_channels_last}"


class _Flatten(nn.Flatten):
    """Feature maps -> flat rows, channels last for 2-D maps (a view of their memory)."""

    def forward(self, maps):
        if maps.dim() == 4:
            return maps.permute(0, 2, 3, 1).reshape(maps.shape[0], -1)
        return maps.reshape(maps.shape[0], -1)


class _Residual(nn.Module):
    """A residual block: ``x + conv(act(conv(x)))`` at one resolution and width.

    The block's second convolution starts at zero weights, so that a new block is the
    identity and a deep stack trains as a shallow one does at first (as in Fixup and
    ReZero); its gradient is not zero, so it learns from the first step.
    """

    def __init__(self, conv, width, kernel_size, activation):
        super().__init__()
        padding = kernel_size // 2
        self.conv1 = conv(width, width, kernel_size, padding=padding)
        self.activation = _activation_layer(activation)
        self.conv2 = conv(width, width, kernel_size, padding=padding)

    def forward(self, X):
        return X + self.conv2(self.activation(self.conv1(X)))


class _SubPixelUpsample(nn.Module):
    """Stride-2 upsampling by a sub-pixel convolution (``PixelShuffle``): a stride-1
    convolution to ``2 ** d`` times the output channels, whose channels are rearranged
    into a map of twice the size, cropped to the target size (odd sizes).

    Unlike a transposed convolution of stride 2 with an odd kernel, every output pixel
    sees the same number of weights, which avoids the checkerboard pattern (Shi et al.,
    2016; Odena et al., 2016).
    """

    def __init__(self, conv, in_channels, out_channels, kernel_size, size):
        super().__init__()
        self.factor = 2 ** len(size)
        self.out_channels = out_channels
        self.conv = conv(
            in_channels, out_channels * self.factor, kernel_size, padding=kernel_size // 2
        )
        self.size = tuple(size)

    def forward(self, X, output_size=None):
        size = self.size if output_size is None else tuple(output_size)
        maps = self.conv(X)
        if maps.dim() == 4:
            maps = nn.functional.pixel_shuffle(maps, 2)
            return maps[:, :, : size[0], : size[1]]
        n, _, length = maps.shape  # 1-D: channel 2c + i goes to position 2l + i of c
        maps = maps.reshape(n, self.out_channels, 2, length).transpose(2, 3)
        return maps.reshape(n, self.out_channels, 2 * length)[:, :, : size[0]]

    def extra_repr(self):
        return f"size={self.size}"


UPSAMPLINGS = ("transpose", "pixel_shuffle")


class ConvAutoencoder(nn.Module):
    """Strided convolutional encoder, optional dense code layer, mirrored decoder.

    ``encoder`` maps flat rows to codes, ``decoder`` maps codes to flat logits (the
    reconstruction before ``output_activation``), as in
    :class:`~skdae._dense_network.DenseAutoencoder`. Each encoder stage is a stride-2
    convolution and its activation followed by ``residual_blocks`` residual blocks;
    each decoder stage is as many residual blocks followed by a stride-2 upsampling
    (``upsampling``: a transposed convolution or a sub-pixel one) and its activation.
    """

    def __init__(
        self,
        n_features,
        image_shape,
        channels,
        kernel_size,
        bottleneck_layers,
        latent_dim,
        activation,
        latent_activation,
        output_activation,
        residual_blocks=0,
        upsampling="transpose",
    ):
        super().__init__()
        n_channels, *spatial = image_shape
        conv, conv_transpose = _CONV[len(spatial)], _CONV_TRANSPOSE[len(spatial)]
        padding = kernel_size // 2
        sizes = stage_sizes(spatial, len(channels))
        feature_shape = (channels[-1], *sizes[-1])

        def act():
            return _activation_layer(activation)

        def residuals(width):
            return [_Residual(conv, width, kernel_size, activation) for _ in range(residual_blocks)]

        self.spatial_code = latent_dim is None
        self.n_stages = len(channels)
        encoder = [_ToImage(image_shape)]
        width = n_channels
        for out in channels:
            encoder += [conv(width, out, kernel_size, stride=2, padding=padding), act()]
            encoder += residuals(out)
            width = out
        for _ in range(bottleneck_layers):
            encoder += [conv(width, width, kernel_size, padding=padding), act()]
        decoder = []
        if latent_dim is None:
            # The code's own activation, in place of the last one (or after the last
            # residual block, whose sum has none).
            if isinstance(encoder[-1], _Residual):
                encoder.append(_activation_layer(latent_activation))
            else:
                encoder[-1] = _activation_layer(latent_activation)
            encoder.append(_Flatten())
            decoder.append(_ToImage(feature_shape, rows_channels_last=True))
        else:
            encoder += [
                _Flatten(),
                nn.Linear(math.prod(feature_shape), latent_dim),
                _activation_layer(latent_activation),
            ]
            decoder += [
                nn.Linear(latent_dim, math.prod(feature_shape)),
                act(),
                _ToImage(feature_shape, rows_channels_last=True),
            ]
        for _ in range(bottleneck_layers):
            decoder += [conv(width, width, kernel_size, padding=padding), act()]
        for i, out in enumerate([*channels[-2::-1], n_channels]):
            target = sizes[-2 - i]
            decoder += residuals(width)
            if upsampling == "pixel_shuffle":
                decoder.append(_SubPixelUpsample(conv, width, out, kernel_size, target))
            else:
                decoder.append(
                    conv_transpose(
                        width,
                        out,
                        kernel_size,
                        stride=2,
                        padding=padding,
                        output_padding=tuple(1 - t % 2 for t in target),
                    )
                )
            decoder.append(act())
            width = out
        decoder[-1] = nn.Flatten()  # logits: no activation after the last layer
        self.encoder = nn.Sequential(*encoder)
        self.decoder = nn.Sequential(*decoder)
        self.output_activation = OUTPUT_ACTIVATIONS[output_activation]()

    def forward(self, X):
        return self.output_activation(self.logits(X))

    def logits(self, X):
        """The reconstruction before the output activation (what the BCE loss takes)."""
        if self.spatial_code:
            # The code's flattening and unflattening, skipped: the feature map goes on
            # in its channels-last layout (they cost copies both ways, and a backward
            # pass through mixed layouts ran the ReLU gradients slower).
            return self.decoder[1:](self.encoder[:-1](X))
        return self.decoder(self.encoder(X))

    def encode(self, X):
        return self.encoder(X)

    def decode(self, codes):
        return self.output_activation(self.decoder(codes))

    def forward_images(self, images):
        """Reconstruct images of any size, ``(n, channels, *spatial)`` in and out.

        Only a purely convolutional network (``latent_dim=None``) has no size of its
        own: its layers run on the images as they are, each upsampling restoring the
        size its stage had (odd sizes included), so one call denoises a whole
        photograph the network saw only as patches.
        """
        if not self.spatial_code:
            raise InputError(
                "forward_images needs a purely convolutional network (latent_dim=None): "
                "a dense code layer fixes the image size to the one it was trained on."
            )
        if images.dim() == 4:
            images = images.contiguous(memory_format=torch.channels_last)
        upsampled_sizes = iter(stage_sizes(images.shape[2:], self.n_stages)[-2::-1])
        maps = self.encoder[1:-1](images)  # neither the row-to-image view nor the flattening
        for layer in self.decoder[1:-1]:
            if isinstance(layer, _SubPixelUpsample | nn.ConvTranspose1d | nn.ConvTranspose2d):
                maps = layer(maps, output_size=next(upsampled_sizes))
            else:
                maps = layer(maps)
        return self.output_activation(maps)


def build_conv_autoencoder(*, generator=None, **architecture):
    """Build a :class:`ConvAutoencoder` with Glorot-uniform weights and zero biases.

    Glorot-uniform, as for the dense network and as Keras initializes its layers; drawn
    from ``generator`` (see :func:`~skdae._network.init_glorot`).
    """
    with torch.device("meta"):
        module = ConvAutoencoder(**architecture)
    module = init_glorot(module, generator)
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, _Residual):
                layer.conv2.weight.zero_()
    if len(architecture["image_shape"]) == 3:
        module = module.to(memory_format=torch.channels_last)
    return module


def conv_parameter_count(
    image_shape,
    channels,
    kernel_size,
    bottleneck_layers,
    latent_dim,
    residual_blocks=0,
    upsampling="transpose",
    **_,
):
    """Parameters of the network :func:`build_conv_autoencoder` makes, counted before
    building (arithmetic only, so that a huge architecture is refused unbuilt)."""
    n_channels, *spatial = image_shape
    taps = kernel_size ** len(spatial)
    widths = [n_channels, *channels]
    pairs = list(zip(widths[:-1], widths[1:], strict=True))
    encoder_stages = sum(a * b * taps + b for a, b in pairs)
    # Each stage's upsampling maps b channels back to a; a sub-pixel one makes 2 ** d
    # times a channels.
    factor = 2 ** len(spatial) if upsampling == "pixel_shuffle" else 1
    decoder_stages = sum(b * a * factor * taps + a * factor for a, b in pairs)
    # Residual blocks (two convolutions each) at every stage's width, in the encoder
    # and again in the decoder; so too the bottleneck layers at the last width.
    residual = 2 * residual_blocks * sum(2 * (b * b * taps + b) for b in channels)
    bottleneck = 2 * bottleneck_layers * (channels[-1] ** 2 * taps + channels[-1])
    total = encoder_stages + decoder_stages + residual + bottleneck
    if latent_dim is not None:
        features = channels[-1] * math.prod(stage_sizes(spatial, len(channels))[-1])
        total += 2 * features * latent_dim + latent_dim + features
    return total


def conv_code_width(image_shape, channels, latent_dim, **_):
    """The width of the codes ``transform`` returns for this architecture."""
    if latent_dim is not None:
        return latent_dim
    return channels[-1] * math.prod(stage_sizes(image_shape[1:], len(channels))[-1])
