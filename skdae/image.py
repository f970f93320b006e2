"""Denoise whole images of any size with a model trained on patches.

An autoencoder of the family sees fixed-size rows: ``ConvDenoisingAutoencoder`` a patch
of ``image_shape_``, ``DenoisingAutoencoder`` a flattened patch. :func:`denoise_image`
takes a photograph of any size to either:

- **fully convolutional**, where the code is spatial (``ConvDenoisingAutoencoder(
  latent_dim=None)``): the network runs on the image itself, in tiles whose margins
  cover its receptive field and whose corners sit on the grid of its stride-2 stages,
  so the result is the one a single pass over the whole image gives, in bounded memory;
- **overlapping patches** otherwise: patches of the trained size, every ``stride``
  pixels, denoised with :meth:`predict` in batches and blended with a tapered window
  (heaviest at a patch's centre, never zero), so no seam shows where patches meet.

Images are laid out as scikit-image and matplotlib hold them: ``(height, width)`` for
one channel, ``(height, width, channels)`` otherwise. A grey model also denoises colour
images, one channel at a time in an opponent colour space (``colour="opponent"``).
"""

import math
from numbers import Integral

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from skdae._base import inference_block_rows
from skdae._conv_network import ConvAutoencoder, _Residual, _SubPixelUpsample
from skdae._precision import full_precision
from skdae.exceptions import InputError

__all__ = ["denoise_image"]

_MODES = ("auto", "fully_convolutional", "patches")
_COLOURS = (None, "opponent")
# The turns of the image averaged over, for each ``orientations``: how many times
# numpy.rot90 turns it, and whether it is then transposed (mirrored). 2 turns it upside
# down only, which keeps horizontal lines horizontal (a model learns the orientations
# of its photographs' structure); 8 is every rotation and mirror image.
_ORIENTATIONS = {
    1: [(0, False)],
    2: [(0, False), (2, False)],
    8: [(turns, mirror) for mirror in (False, True) for turns in range(4)],
}

# The opponent colour transform CBM3D denoises in: a luminance and two colour
# differences, as the rows of an orthonormal matrix, so Gaussian noise of one sigma in
# R, G and B stays white with that sigma in each of the three.
_OPPONENT = np.array([[1, 1, 1], [1, 0, -1], [1, -2, 1]], dtype=np.float64)
_OPPONENT /= np.linalg.norm(_OPPONENT, axis=1, keepdims=True)
# What the grey model sees of each opponent channel, as scale and offset: the mean of
# R, G and B (the luminance row over sqrt(3): in [0, 1] like a grey image, with the
# noise's sigma / sqrt(3)) and the colour differences around 0.5 (mostly within [0, 1]).
_OPPONENT_SCALE = np.array([1 / np.sqrt(3), 1.0, 1.0])
_OPPONENT_OFFSET = np.array([0.0, 0.5, 0.5])


def denoise_image(
    model,
    image,
    *,
    mode="auto",
    patch_shape=None,
    stride=None,
    tile_size=512,
    batch_size=None,
    colour=None,
    luminance_model=None,
    shifts=1,
    orientations=1,
):
    """Denoise an image of any size with a model trained on patches of it (or its kind).

    Parameters
    ----------
    model : ConvDenoisingAutoencoder or DenoisingAutoencoder
        A fitted autoencoder whose rows are image patches, flattened channels first (as
        ``patches.reshape(n, -1)`` of an ``(n, channels, height, width)`` array gives).

    image : ndarray of shape (height, width) or (height, width, channels)
        The noisy image, on the scale the model was trained on (``skimage.util.
        img_as_float`` gives [0, 1]), channels last. Integer images are refused: their
        scale is not the model's unless said so by converting them.

    mode : {'auto', 'fully_convolutional', 'patches'}, default='auto'
        ``'fully_convolutional'`` runs the network on the image itself; only a
        ``ConvDenoisingAutoencoder`` with ``latent_dim=None`` can. ``'patches'`` denoises
        overlapping patches of the trained size and blends them, for any model.
        ``'auto'`` takes the first where it can.

    patch_shape : tuple of int, default=None
        ``(channels, height, width)`` of the patches a ``DenoisingAutoencoder`` was
        trained on. None reads it from the model: ``image_shape_`` for the
        convolutional estimator, one square channel for a dense model whose width is a
        perfect square.

    stride : int, default=None
        Pixels between successive patches (``'patches'`` mode): None takes half the
        patch's side. A smaller stride blends more patches per pixel, denoising a
        little better at a proportionally higher cost.

    tile_size : int, default=512
        Side of the tiles the fully convolutional mode runs on, margins excluded: with
        the memory they take (about ``tile_size ** 2 * channels[0] * 48`` bytes for the
        widest feature maps and their copies), it bounds the memory of any image.

    batch_size : int, default=None
        Patches denoised per call of the model (``'patches'`` mode). None takes the
        rows of the model's own inference blocks (1,024 patches of up to 64x64 values,
        fewer of larger ones: about 16 MB of input), which it computes whole however
        few rows come in.

    colour : {None, 'opponent'}, default=None
        None: the image has the model's channels. ``'opponent'``: a one-channel (grey)
        model denoises an RGB image one channel at a time in the opponent colour space
        BM3D's colour version works in: the mean of R, G and B, and two colour
        differences, ``(R - B) / sqrt(2)`` and ``(R - 2G + B) / sqrt(6)``, shifted by
        0.5. The transform is orthonormal, so the noise stays white and Gaussian: the
        colour differences carry the image's sigma, the mean sigma / sqrt(3). A model
        trained across noise levels (``GaussianNoise(std=(low, high))``) suits it; one
        trained at a single level sees the mean at a third of that level's variance,
        and wants a second model for it (``luminance_model``). A
        grey model learns from every photograph's structure, where a colour model learns
        from a few colour photographs: in the benchmark's ten-minute fits, the grey one
        in this mode denoised held-out colour photographs 0.1 to 0.5 dB better than a
        colour model trained as long on the same photographs.

    luminance_model : ConvDenoisingAutoencoder or DenoisingAutoencoder, default=None
        With ``colour='opponent'``, a second grey model for the mean of R, G and B,
        ``model`` denoising the colour differences. When sigma is known, the mean
        carries sigma / sqrt(3) and the colour differences sigma, so a model trained
        at each level can denoise its own channels: in the benchmark's ten-minute fits,
        a model trained at 25 / sqrt(3) for the mean and one trained at 25 for the rest
        denoised the held-out colour photographs at sigma 25 0.25 and 0.73 dB better
        than the blind model alone. None: ``model`` denoises all three. It is run as
        ``model`` is (``mode``, ``patch_shape``, ``stride``, ``tile_size``,
        ``batch_size``, ``shifts``, ``orientations``).

    shifts : int, default=1
        Also denoise the image shifted by 0 to ``shifts - 1`` pixels down and right
        (extended by reflection at the top and left), every combination, undo each
        shift and average the results (cycle spinning): ``shifts ** 2`` passes.
        ``shifts=2`` puts each pixel at both phases of a stride-2 stage, which evens
        out what the grid of a strided network leaves.

    orientations : {1, 2, 8}, default=1
        Average over the image turned as well (a self-ensemble): 1, as it is; 2, also
        upside down (turned by 180 degrees), which keeps horizontal lines horizontal; 8,
        every rotation by 90 degrees and their mirror images, for a model trained on
        patches in every orientation. A model trained on photographs as they were taken
        learns their orientations: the benchmark's grey model denoised ``coffee`` 0.7 to
        0.8 dB worse turned by 90 degrees or mirrored, and its held-out photographs 0.07
        to 0.11 dB better with 2. ``shifts ** 2 * orientations`` passes in all: with
        ``shifts=2, orientations=2``, eight, the benchmark's photographs came out 0.10
        to 0.24 dB better than in one pass at sigma 15, 25 and 50.

    Returns
    -------
    denoised : ndarray of the shape of ``image``
        The denoised image, in the dtype of ``image``.

    Raises
    ------
    InputError
        If the image has the wrong number of dimensions or channels, is an integer
        image, holds NaN or infinite pixels, or (in ``'patches'`` mode) is smaller than
        a patch or, with ``orientations=8``, the patches are not square; if
        ``colour='opponent'`` is asked of a model (or ``luminance_model``) with more
        than one channel or of an image without three; if ``luminance_model`` is given
        without ``colour='opponent'``; or if a parameter is out of range.

    See Also
    --------
    skdae.ConvDenoisingAutoencoder : The estimator to train on patches.
    sklearn.feature_extraction.image.extract_patches_2d : Patches to train on.

    Examples
    --------
    >>> import numpy as np
    >>> from skdae import ConvDenoisingAutoencoder
    >>> from skdae.image import denoise_image
    >>> rng = np.random.RandomState(0)
    >>> patches = rng.rand(64, 16 * 16)  # 64 patches of 16x16, one channel
    >>> dae = ConvDenoisingAutoencoder(None, channels=(4,), max_iter=1,
    ...                                random_state=0).fit(patches)
    >>> photo = rng.rand(50, 70)
    >>> denoise_image(dae, photo).shape
    (50, 70)
    >>> denoise_image(dae, photo, mode="patches").shape
    (50, 70)
    >>> denoise_image(dae, rng.rand(50, 70, 3), colour="opponent").shape
    (50, 70, 3)
    """
    check_is_fitted(model)
    if luminance_model is not None:
        check_is_fitted(luminance_model)
        if colour != "opponent":
            raise InputError(
                "luminance_model denoises the mean of R, G and B of an RGB image in "
                f"opponent colours: pass colour='opponent' with it (got colour={colour!r})."
            )
    if mode not in _MODES:
        raise InputError(f"mode must be one of {_MODES}; got {mode!r}.")
    if colour not in _COLOURS:
        raise InputError(f"colour must be one of {_COLOURS}; got {colour!r}.")
    _check_count("tile_size", tile_size, 1)
    if batch_size is not None:
        _check_count("batch_size", batch_size, 1)
    _check_count("shifts", shifts, 1)
    if isinstance(orientations, bool) or orientations not in tuple(_ORIENTATIONS):
        raise InputError(
            f"orientations must be one of {tuple(_ORIENTATIONS)}; got {orientations!r}."
        )
    channels = _patch_shape(model, patch_shape)[0]
    image = np.asarray(image)
    for name, grey in (("model", model), ("luminance_model", luminance_model)):
        grey_channels = None if grey is None else _patch_shape(grey, patch_shape)[0]
        if colour == "opponent" and grey_channels not in (None, 1):
            raise InputError(
                f"colour='opponent' denoises an RGB image with one-channel (grey) models, "
                f"one opponent channel at a time; this {name} denoises {grey_channels} "
                "channels. Leave colour=None to denoise the image's channels together."
            )
    if colour == "opponent" and (image.ndim != 3 or image.shape[2] != 3):
        raise InputError(
            "colour='opponent' denoises RGB images, (height, width, 3); got an array of "
            f"shape {image.shape}. Leave colour=None for a grey image."
        )
    image_chw = _validate_image(image, 3 if colour == "opponent" else channels)

    def averaged(denoiser):
        one_pass = _one_pass(
            denoiser, mode, patch_shape, stride, tile_size, batch_size, orientations
        )
        return _averaged(one_pass, shifts, orientations)

    denoise = averaged(model)
    if colour == "opponent":
        luminance = denoise if luminance_model is None else averaged(luminance_model)
        denoised = _denoise_opponent(denoise, image_chw, luminance)
    else:
        denoised = denoise(image_chw)
    out = np.moveaxis(denoised, 0, -1) if image.ndim == 3 else denoised[0]
    return out.astype(image.dtype, copy=False)


def _one_pass(model, mode, patch_shape, stride, tile_size, batch_size, orientations):
    """One pass of ``model`` over a ``(channels, height, width)`` array, in ``mode``,
    checked against the ``orientations`` it will be averaged over."""
    channels, height, width = _patch_shape(model, patch_shape)
    module = getattr(model, "module_", None)
    fully_convolutional = isinstance(module, ConvAutoencoder) and module.spatial_code
    if mode == "fully_convolutional" and not fully_convolutional:
        raise InputError(
            "mode='fully_convolutional' needs a ConvDenoisingAutoencoder with "
            "latent_dim=None, whose code is a feature map; this model's code has a fixed "
            "size. Use mode='patches' (or 'auto')."
        )
    if mode == "patches" or not fully_convolutional:
        stride = max(1, min(height, width) // 2) if stride is None else stride
        _check_count("stride", stride, 1)
        if batch_size is None:
            batch_size = inference_block_rows(channels * height * width)
        if orientations == 8 and height != width:
            raise InputError(
                f"orientations=8 turns the image by 90 degrees, which needs square "
                f"patches; this model's are {height}x{width}. Pass orientations=1 or 2."
            )

        def one_pass(chw):
            return _denoise_patches(model, chw, (height, width), stride, batch_size)
    else:

        def one_pass(chw):
            return _denoise_fully_convolutional(model, chw, tile_size)

    return one_pass


def _averaged(denoise, shifts, orientations):
    """``denoise`` (of a ``(channels, height, width)`` array), averaged over the image
    turned, mirrored and shifted as ``orientations`` and ``shifts`` say, each result
    returned to the image's own frame first."""
    views = [
        (turns, mirror, dy, dx)
        for turns, mirror in _ORIENTATIONS[orientations]
        for dy in range(shifts)
        for dx in range(shifts)
    ]
    if len(views) == 1:
        return denoise

    def averaged(chw):
        total = np.zeros(chw.shape, dtype=np.float64)
        for turns, mirror, dy, dx in views:
            seen = np.rot90(chw, turns, axes=(1, 2))
            seen = seen.transpose(0, 2, 1) if mirror else seen
            seen = np.pad(seen, ((0, 0), (dy, 0), (dx, 0)), mode="symmetric")
            out = denoise(np.ascontiguousarray(seen))[:, dy:, dx:]
            out = out.transpose(0, 2, 1) if mirror else out
            total += np.rot90(out, -turns, axes=(1, 2))
        return (total / len(views)).astype(np.float32)

    return averaged


def _denoise_opponent(denoise, rgb, denoise_luminance):
    """``denoise_luminance`` applied to the mean of ``rgb`` ``(3, height, width)``,
    ``denoise`` to its colour differences (each of a one-channel ``(1, height, width)``
    array), back in RGB."""
    opponent = np.tensordot(_OPPONENT, rgb, axes=1)
    out = np.empty_like(opponent)
    for c, (scale, offset) in enumerate(zip(_OPPONENT_SCALE, _OPPONENT_OFFSET, strict=True)):
        seen = (opponent[c : c + 1] * scale + offset).astype(np.float32)
        channel_denoiser = denoise_luminance if c == 0 else denoise
        out[c] = (channel_denoiser(seen)[0] - offset) / scale
    return np.tensordot(_OPPONENT.T, out, axes=1).astype(np.float32)


# -------------------------------------------------------------------- validation


def _check_count(name, value, minimum):
    if not isinstance(value, Integral | np.integer) or isinstance(value, bool) or value < minimum:
        raise InputError(f"{name} must be an integer of at least {minimum}; got {value!r}.")


def _patch_shape(model, patch_shape):
    """``(channels, height, width)`` of the model's rows."""
    n_features = model.n_features_in_
    if patch_shape is None:
        shape = getattr(model, "image_shape_", None)
        if shape is None:
            side = math.isqrt(n_features)
            if side * side != n_features:
                raise InputError(
                    f"The model's rows hold {n_features} values, not a square patch of "
                    "one channel: pass patch_shape=(channels, height, width), the shape "
                    "of the patches it was trained on."
                )
            shape = (1, side, side)
    else:
        shape = tuple(patch_shape)
        if len(shape) == 2:
            shape = (1, *shape)
        if len(shape) != 3 or not all(
            isinstance(s, Integral | np.integer) and not isinstance(s, bool) and s > 0
            for s in shape
        ):
            raise InputError(
                "patch_shape must be (channels, height, width) (or (height, width)) of "
                f"positive integers; got {patch_shape!r}."
            )
        if math.prod(shape) != n_features:
            raise InputError(
                f"patch_shape={patch_shape!r} holds {math.prod(shape)} values, but the "
                f"model's rows hold {n_features}."
            )
    if len(shape) != 3:
        raise InputError(
            f"The model reads its rows as 1-D signals (image_shape_={shape}); "
            "denoise_image needs a model trained on 2-D patches."
        )
    return tuple(int(s) for s in shape)


def _validate_image(image, channels):
    """The image as a float ``(channels, height, width)`` array, or a clear error."""
    array = np.asarray(image)
    if array.dtype.kind not in "f":
        hint = (
            " Convert it to the scale the model was trained on, e.g. "
            "skimage.util.img_as_float(image) for [0, 1]."
            if array.dtype.kind in "iub"
            else ""
        )
        raise InputError(f"image must hold floating-point pixels; got dtype {array.dtype}.{hint}")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise InputError(
            "image must be (height, width) or (height, width, channels), channels last; "
            f"got an array of shape {array.shape}."
        )
    if array.shape[2] != channels:
        fix = (
            "skimage.color.rgb2gray(image), or colour='opponent' to denoise the colour "
            "image with this grey model"
            if channels == 1 and array.shape[2] == 3
            else "skimage.color.rgb2gray(image)"
            if channels == 1
            else "skimage.color.gray2rgb(image)"
            if array.shape[2] == 1 and channels == 3
            else f"an image of {channels} channels"
        )
        raise InputError(
            f"The model denoises images of {channels} channel(s), but image has "
            f"{array.shape[2]} (shape {np.shape(image)}, channels last). Pass {fix}."
        )
    if min(array.shape[:2]) == 0:
        raise InputError(f"image is empty (shape {np.shape(image)}).")
    finite = np.isfinite(array)
    if not finite.all():
        bad = int(array.size - np.count_nonzero(finite))
        raise InputError(
            f"image holds {bad} NaN or infinite pixel value(s); denoise_image needs "
            "finite pixels (fill missing ones first, e.g. with skimage.restoration."
            "inpaint_biharmonic)."
        )
    return np.ascontiguousarray(np.moveaxis(array, -1, 0), dtype=np.float32)


# ------------------------------------------------------------- overlapping patches


def _positions(length, patch, stride):
    """Starts of patches every ``stride`` pixels, the last one flush with the end."""
    starts = list(range(0, length - patch + 1, stride))
    if starts[-1] != length - patch:
        starts.append(length - patch)
    return starts


def _taper(length):
    """A window heaviest at the centre and positive at the edges (a sine lobe), so that
    every pixel has weight and patches fade into each other."""
    return np.sin(np.pi * (np.arange(length) + 0.5) / length).astype(np.float32)


def _denoise_patches(model, image, patch, stride, batch_size):
    channels, height, width = image.shape
    ph, pw = patch
    if height < ph or width < pw:
        raise InputError(
            f"image is {height}x{width} pixels, smaller than the {ph}x{pw} patches the "
            "model was trained on. Pad it (numpy.pad(image, ..., mode='reflect')) or use "
            "a fully convolutional model (ConvDenoisingAutoencoder(latent_dim=None))."
        )
    window = _taper(ph)[:, None] * _taper(pw)[None, :]
    total = np.zeros_like(image)
    weight = np.zeros((height, width), dtype=np.float32)
    corners = [
        (y, x) for y in _positions(height, ph, stride) for x in _positions(width, pw, stride)
    ]
    for first in range(0, len(corners), batch_size):
        batch = corners[first : first + batch_size]
        rows = np.stack([image[:, y : y + ph, x : x + pw].reshape(-1) for y, x in batch])
        denoised = model.predict(rows).reshape(len(batch), channels, ph, pw)
        for (y, x), patch_out in zip(batch, denoised, strict=True):
            total[:, y : y + ph, x : x + pw] += patch_out * window
            weight[y : y + ph, x : x + pw] += window
    return total / weight


# ----------------------------------------------------------- fully convolutional


def receptive_radius(module):
    """Pixels on each side of an output pixel that can change it, at most.

    Each convolution adds its half kernel times the spacing of the map it reads (in
    image pixels); an upsampling adds its half kernel at the coarse spacing and one
    coarse pixel for where in it the fine pixel falls. A tile extended by this margin
    (rounded up to the stages' grid) computes its interior as a pass over the whole
    image does.
    """
    radius, spacing = 0, 1
    for layer in [*module.encoder[1:-1], *module.decoder[1:-1]]:
        if isinstance(layer, _Residual):
            radius += 2 * (layer.conv1.kernel_size[0] // 2) * spacing
        elif isinstance(layer, _SubPixelUpsample):
            radius += (layer.conv.kernel_size[0] // 2 + 1) * spacing
            spacing //= 2
        elif isinstance(layer, torch.nn.modules.conv._ConvNd) and layer.transposed:
            radius += (layer.kernel_size[0] // 2 + 1) * spacing
            spacing //= 2
        elif isinstance(layer, torch.nn.modules.conv._ConvNd):
            radius += (layer.kernel_size[0] // 2) * spacing
            spacing *= layer.stride[0]
    return radius


def _denoise_fully_convolutional(model, image, tile_size):
    module = model.module_
    grid = 2**module.n_stages  # tile corners on the grid of every stage
    margin = -(-receptive_radius(module) // grid) * grid
    tile = -(-tile_size // grid) * grid
    channels, height, width = image.shape
    out = np.empty_like(image)
    device = model.device_
    module.eval()
    with torch.no_grad(), full_precision(device):
        for y in range(0, height, tile):
            for x in range(0, width, tile):
                top, left = max(0, y - margin), max(0, x - margin)
                bottom = min(height, y + tile + margin)
                right = min(width, x + tile + margin)
                piece = torch.from_numpy(image[None, :, top:bottom, left:right]).to(device)
                result = module.forward_images(piece)[0].cpu().numpy()
                h, w = min(tile, height - y), min(tile, width - x)
                out[:, y : y + h, x : x + w] = result[
                    :, y - top : y - top + h, x - left : x - left + w
                ]
    return out
