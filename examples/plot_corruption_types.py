"""
==========================
Comparing corruption types
==========================

What a denoising autoencoder learns depends on the noise it is trained against. This
example trains one model per corruption strategy (additive Gaussian noise,
salt-and-pepper noise and masking noise), shows what each does to the same digits and
how each model repairs it, and then tries every model on every kind of noise.
"""

# %%
# Load the data
# -------------
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skdae import DenoisingAutoencoder, GaussianNoise, MaskingNoise, SaltAndPepperNoise
from skdae.datasets import load_mnist
from skdae.plotting import CorruptionDisplay

# SKDAE_EXAMPLES_SMOKE=1 (set by the tests) shrinks the run to seconds.
SMOKE = os.environ.get("SKDAE_EXAMPLES_SMOKE") == "1"

# Full MNIST if $SKDAE_DATA/mnist/ has it, else the bundled sample (with a printed note).
# Full MNIST from $SKDAE_DATA, else the bundled sample (with a SampleDataWarning).
mnist = load_mnist(fallback="sample")
if mnist.source == "bundled sample":
    print("Note: full MNIST was not found; this run uses the sample bundled with skdae.")

# Three models to train: on full MNIST a third of the training set is plenty.
n_train = 2_000 if SMOKE else 20_000
X_train, X_test = mnist.X_train[:n_train], mnist.X_test
# sphinx_gallery_start_ignore
if SMOKE:
    print(
        "Smoke mode (SKDAE_EXAMPLES_SMOKE=1): fewer images and epochs, so the scores "
        "and figures below are not representative."
    )
# sphinx_gallery_end_ignore

# %%
# One model per corruption
# ------------------------
# The strengths are chosen so that each noise visibly damages the digits. Salt and
# pepper sets 20% of the pixels to black or white; masking zeroes half of them, which
# erases strokes rather than adding speckles.
corruptions = {
    "gaussian": GaussianNoise(std=0.4, clip=(0, 1)),
    "salt & pepper": SaltAndPepperNoise(amount=0.2),
    "masking": MaskingNoise(fraction=0.5),
}
models = {
    name: DenoisingAutoencoder(
        corruption=corruption, max_iter=8 if SMOKE else 30, random_state=0
    ).fit(X_train)
    for name, corruption in corruptions.items()
}

# %%
# Denoising error
# ---------------
# Each noise is applied once to the test set (seeded). The table gives the mean squared
# error to the clean digits of the noisy images, then of each model's output; the
# diagonal is each model on its own noise.
noisy = {name: c.corrupt(X_test, random_state=0) for name, c in corruptions.items()}
rows = {"(noisy input)": {noise: np.mean((X - X_test) ** 2) for noise, X in noisy.items()}}
for model, dae in models.items():
    rows[model] = {noise: np.mean((dae.predict(X) - X_test) ** 2) for noise, X in noisy.items()}
mse = pd.DataFrame(rows).T
mse.index.name, mse.columns.name = "trained on", "test noise"
print(mse.round(4))

# %%
# Each model removes much of the noise it was trained on. How well it transfers depends
# on what that noise taught it: the models trained on added speckles (Gaussian, salt and
# pepper) cope with each other's noise but help much less against masking; the masking
# model, which only learnt to fill in missing strokes, leaves speckles it never saw
# worse than it found them.
#
# What the noise looks like, and each model's repair
# --------------------------------------------------
# :class:`~skdae.plotting.CorruptionDisplay` draws one row per labelled array: the clean
# digits, then for each corruption the noisy digits and that model's output.
n_images = 8
images = {"original": X_test[:n_images]}
for name, X in noisy.items():
    images[name] = X[:n_images]
    images[f"{name},\ndenoised"] = models[name].predict(X[:n_images])
CorruptionDisplay(images).plot()
plt.show()
