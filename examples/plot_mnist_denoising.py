"""
===========================================
Denoising MNIST digits (the Keras tutorial)
===========================================

This example reproduces the classic Keras denoising-autoencoder tutorial with
:class:`~skdae.DenoisingAutoencoder`: MNIST pixels scaled to [0, 1], Gaussian noise
with standard deviation 0.4 clipped back to [0, 1], a dense 784-256-128-64-128-256-784
network with a sigmoid output trained with binary cross-entropy, Adam and batches of
128. These are the estimator's defaults, so only the noise needs to be spelled out.
"""

# %%
# Load the data
# -------------
# :func:`~skdae.datasets.load_mnist` reads full MNIST from ``$SKDAE_DATA/mnist/``.
# Without it, ``fallback="sample"`` uses the 2,000 + 500 images bundled with skdae and
# warns; here the warning is printed as a note so that the example still runs.
import os

import matplotlib.pyplot as plt
import numpy as np

from skdae import DenoisingAutoencoder, GaussianNoise
from skdae.datasets import load_mnist
from skdae.plotting import LossCurveDisplay, ReconstructionDisplay

# SKDAE_EXAMPLES_SMOKE=1 (set by the tests) shrinks the run to seconds.
SMOKE = os.environ.get("SKDAE_EXAMPLES_SMOKE") == "1"

# Full MNIST from $SKDAE_DATA, else the bundled sample (with a SampleDataWarning).
mnist = load_mnist(fallback="sample")
source = "the bundled sample" if mnist.source == "bundled sample" else "full MNIST"
if mnist.source == "bundled sample":
    print("Note: full MNIST was not found; this run uses the sample bundled with skdae.")

X_train, X_test = mnist.X_train, mnist.X_test
# sphinx_gallery_start_ignore
if SMOKE:  # a quick look: at most 2,000 training images, fewer epochs
    X_train, X_test = X_train[:2000], X_test[:500]
    print(
        "Smoke mode (SKDAE_EXAMPLES_SMOKE=1): fewer images and epochs, so the scores "
        "and figures below are not representative."
    )
# sphinx_gallery_end_ignore
print(f"{source}: {X_train.shape[0]:,} training and {X_test.shape[0]:,} test images")

# %%
# Train the denoising autoencoder
# -------------------------------
# ``fit`` only sees clean images: every epoch it corrupts each batch afresh, so the
# network never sees the same noise twice. ``early_stopping=True`` holds out 10% of the
# training images to draw a validation curve, stops when that curve stops improving
# and keeps the best weights. 50 epochs is the tutorial's budget.
noise = GaussianNoise(std=0.4, clip=(0, 1))
dae = DenoisingAutoencoder(
    corruption=noise,
    max_iter=15 if SMOKE else 50,
    early_stopping=True,
    random_state=0,
)
dae.fit(X_train)
print(dae.summary())
print(f"trained {dae.n_iter_} epochs, kept epoch {dae.best_epoch_}")

# %%
# How much noise is removed?
# --------------------------
# A fixed noisy copy of the test set (seeded, so the numbers are reproducible) is
# denoised with :meth:`~skdae.DenoisingAutoencoder.predict` and compared with the clean
# images. PSNR is ``10 log10(peak**2 / MSE)`` with a peak of 1 for pixels in [0, 1]:
# higher is better.
X_test_noisy = noise.corrupt(X_test, random_state=42)
X_test_denoised = dae.predict(X_test_noisy)

for name, X_hat in [("noisy", X_test_noisy), ("denoised", X_test_denoised)]:
    mse = np.mean((X_hat - X_test) ** 2)
    print(f"{name:>8}: test MSE {mse:.4f}, PSNR {10 * np.log10(1.0 / mse):.1f} dB")

# %%
# For reference, with the default settings the denoised test MSE is about 0.026
# (PSNR 16 dB) on the bundled sample and about 0.011 (PSNR 20 dB) on full MNIST, down
# from 0.080 (11 dB) for the noisy images.

# %%
# Original, noisy and denoised digits
# -----------------------------------
# :class:`~skdae.plotting.ReconstructionDisplay` corrupts the first test images with the
# same noise, denoises them and shows the three rows. The title says what this run
# trained on, and for how long.
display = ReconstructionDisplay.from_estimator(dae, X_test, noise, n_images=10)
display.figure_.suptitle(
    f"Test digits: original, noisy, denoised by a DAE trained {dae.n_iter_} epochs "
    f"on {len(X_train):,} images of {source}"
)
plt.show()

# %%
# Loss curves
# -----------
# Training and validation binary cross-entropy per epoch. The validation images are
# corrupted once, so their curve is smooth; the training loss is measured on fresh noise.
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
LossCurveDisplay.from_estimator(dae, ax=ax)
plt.show()
