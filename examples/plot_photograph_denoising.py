"""
=======================================================
Denoising a photograph with a model trained on patches
=======================================================

A convolutional denoiser learns from small patches and then cleans whole photographs of
any size. This example trains :class:`~skdae.ConvDenoisingAutoencoder` on 40x40
patches cut from some of the photographs scikit-image ships, with Gaussian noise whose
level varies from patch to patch (blind denoising), then denoises a photograph it never
saw with :func:`skdae.image.denoise_image`, next to scikit-image's classical denoisers
and BM3D.

It needs the ``images`` extra: ``pip install 'skdae[images]'`` (scikit-image, bm3d).
"""

# %%
# Patches of photographs to learn from
# ------------------------------------
# ``extract_patches_2d`` cuts patches at random; each row of ``X`` is one patch,
# flattened. The test photograph, the camera man, is not among the training images.
import os
import time

import bm3d
import matplotlib.pyplot as plt
import numpy as np
from skimage import color, data, util
from skimage.restoration import denoise_nl_means, denoise_tv_chambolle, denoise_wavelet
from sklearn.feature_extraction.image import extract_patches_2d

from skdae import ConvDenoisingAutoencoder, GaussianNoise
from skdae.image import denoise_image
from skdae.metrics import peak_signal_noise_ratio

# SKDAE_EXAMPLES_SMOKE=1 (set by the tests) shrinks the run to seconds.
SMOKE = os.environ.get("SKDAE_EXAMPLES_SMOKE") == "1"


def grey(name):
    image = util.img_as_float32(getattr(data, name)())
    if image.ndim == 3:
        image = color.rgb2gray(image[..., :3])
    return image.astype(np.float32)


training_images = ["astronaut", "rocket", "hubble_deep_field", "brick", "grass", "text"]
per_image, epochs = 1000, 6
# sphinx_gallery_start_ignore
if SMOKE:
    per_image, epochs = 100, 1
    print(
        "Smoke mode (SKDAE_EXAMPLES_SMOKE=1): a few patches, so the scores are not representative."
    )
# sphinx_gallery_end_ignore
X = np.concatenate(
    [
        extract_patches_2d(grey(name), (40, 40), max_patches=per_image, random_state=i)
        for i, name in enumerate(training_images)
    ]
).reshape(-1, 40 * 40)
print(f"{X.shape[0]} patches of 40x40 from {len(training_images)} photographs")

# %%
# Train a blind denoiser
# ----------------------
# The setting the user guide documents for photographs: purely convolutional
# (``latent_dim=None``), one stage of 64 channels with two residual blocks on each
# side, sub-pixel upsampling, a linear output and MSE. ``GaussianNoise(std=(low,
# high))`` gives every patch its own noise level, so that one model denoises any level
# in the range without being told which.
dae = ConvDenoisingAutoencoder(
    latent_dim=None,
    image_shape=(40, 40),
    channels=(64,),
    bottleneck_layers=0,
    residual_blocks=2,
    upsampling="pixel_shuffle",
    output_activation="identity",
    loss="mse",
    learning_rate_init=2e-3,
    corruption=GaussianNoise(std=(5 / 255, 55 / 255)),
    max_iter=epochs,
    random_state=0,
)
started = time.perf_counter()
dae.fit(X)
print(f"trained {epochs} epoch(s) in {time.perf_counter() - started:.0f} s")

# %%
# Denoise a whole photograph
# --------------------------
# :func:`~skdae.image.denoise_image` runs the network on the 512x512 image itself (in
# tiles whose margins cover what each output pixel sees, so no seam shows). With
# ``shifts=2, orientations=2`` it averages eight passes: the image at both phases of
# the network's stride-2 grid along each axis, as it is and turned upside down. Noise
# of sigma 25 (of 255), not clipped; the classical denoisers get their documented
# settings and the true sigma.
clean = grey("camera")
# sphinx_gallery_start_ignore
if SMOKE:
    clean = clean[64:192, 192:320]  # the camera man's head and camera
# sphinx_gallery_end_ignore
sigma = 25 / 255
noisy = clean + np.random.default_rng(0).normal(0, sigma, clean.shape).astype(np.float32)

results = {"noisy": noisy}
seconds = {}
for name, denoise in {
    "skdae": lambda x: denoise_image(dae, x),
    "skdae, 8 passes": lambda x: denoise_image(dae, x, shifts=2, orientations=2),
    "non-local means": lambda x: denoise_nl_means(
        x, h=0.8 * sigma, sigma=sigma, patch_size=5, patch_distance=6, fast_mode=True
    ),
    "wavelet": lambda x: denoise_wavelet(
        x, sigma=sigma, method="BayesShrink", mode="soft", rescale_sigma=True
    ),
    "total variation": lambda x: denoise_tv_chambolle(x, weight=0.1),
    "BM3D": lambda x: bm3d.bm3d(x, sigma_psd=sigma),
}.items():
    started = time.perf_counter()
    results[name] = np.clip(denoise(noisy), 0, 1)
    seconds[name] = time.perf_counter() - started

for name, image in results.items():
    score = peak_signal_noise_ratio(clean, np.clip(image, 0, 1))
    took = f", {seconds[name]:.2f} s" if name in seconds else ""
    print(f"{name:>16}: {score:.2f} dB{took}")

# %%
# Side by side
# ------------
panels = [("clean", clean), *results.items()]
fig, axes = plt.subplots(2, 4, figsize=(13, 8))
for ax in axes.ravel()[len(panels) :]:
    ax.axis("off")
for ax, (name, image) in zip(axes.ravel(), panels, strict=False):
    ax.imshow(np.clip(image, 0, 1), cmap="gray", vmin=0, vmax=1)
    title = (
        name
        if name == "clean"
        else f"{name}\n{peak_signal_noise_ratio(clean, np.clip(image, 0, 1)):.2f} dB"
    )
    ax.set_title(title)
    ax.axis("off")
fig.suptitle(f"Gaussian noise of sigma 25; skdae trained {epochs} epoch(s) on {X.shape[0]} patches")
fig.tight_layout()
plt.show()

# %%
# A colour photograph, with the same grey model
# ---------------------------------------------
# ``colour="opponent"`` denoises an RGB image with a grey model, one channel at a time
# in the opponent colour space BM3D's colour version works in: the mean of R, G and B
# (which carries a third of the noise's variance) and two colour differences. The
# transform is orthonormal, so the noise stays white and Gaussian, and a model trained
# across noise levels handles each channel's level.
cat = util.img_as_float32(data.chelsea())
# sphinx_gallery_start_ignore
if SMOKE:
    cat = cat[64:192, 128:256]
# sphinx_gallery_end_ignore
noisy_cat = cat + np.random.default_rng(1).normal(0, sigma, cat.shape).astype(np.float32)
colour_results = {
    "noisy": noisy_cat,
    "skdae (opponent colours)": denoise_image(
        dae, noisy_cat, colour="opponent", shifts=2, orientations=2
    ),
    "BM3D (colour)": bm3d.bm3d_rgb(noisy_cat, sigma),
}
fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
for ax, (name, image) in zip(axes, [("clean", cat), *colour_results.items()], strict=True):
    ax.imshow(np.clip(image, 0, 1))
    # skdae's PSNR scores rows: one per image row, its pixels' R, G and B in turn.
    score = peak_signal_noise_ratio(
        cat.reshape(len(cat), -1), np.clip(image, 0, 1).reshape(len(cat), -1)
    )
    ax.set_title(name if name == "clean" else f"{name}\n{score:.2f} dB")
    ax.axis("off")
fig.tight_layout()
plt.show()

# %%
# How far it goes
# ---------------
# A few minutes on a CPU buy a denoiser in the league of the classical ones, not past
# the best of them: ``benchmarks/bench_images.py`` trains the same setting for ten
# minutes on 21,000 patches and measures it on four held-out photographs (two grey, two
# colour) at three noise levels against these denoisers (``benchmarks/IMAGES.md``).
# The user guide's section on photographs says what that run gave and what limits it.
