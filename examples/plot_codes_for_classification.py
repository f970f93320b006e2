"""
=======================================
Denoising-autoencoder codes as features
=======================================

:meth:`~skdae.DenoisingAutoencoder.transform` turns each image into a short code. Here a
logistic regression is trained on four representations of the same digits: the 784 raw
pixels, 64 PCA components, the 64-wide code of a denoising autoencoder with the default
settings (tuned for denoising), and that of the ``features`` preset of
:mod:`skdae.presets` (tuned for codes). Each is scored on the clean test set and on a
noisy copy of it (Gaussian noise, std 0.4, clipped to [0, 1]) that none of the models saw
during training.
"""

# %%
# Load the data
# -------------
import os

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdae import GaussianNoise
from skdae.datasets import load_mnist
from skdae.presets import PRESETS, make_preset
from skdae.pretrained import load_pretrained

# SKDAE_EXAMPLES_SMOKE=1 (set by the tests) shrinks the run to seconds.
SMOKE = os.environ.get("SKDAE_EXAMPLES_SMOKE") == "1"

# Full MNIST from $SKDAE_DATA, else the bundled sample (with a SampleDataWarning).
mnist = load_mnist(fallback="sample")
if mnist.source == "bundled sample":
    print("Note: full MNIST was not found; this run uses the sample bundled with skdae.")

X_train, y_train, X_test, y_test = mnist.X_train, mnist.y_train, mnist.X_test, mnist.y_test
# sphinx_gallery_start_ignore
if SMOKE:  # a quick look: at most 2,000 training images, fewer epochs
    X_train, y_train, X_test, y_test = X_train[:2000], y_train[:2000], X_test[:500], y_test[:500]
    print(
        "Smoke mode (SKDAE_EXAMPLES_SMOKE=1): fewer images and epochs, so the scores "
        "and figures below are not representative."
    )
# sphinx_gallery_end_ignore
X_test_noisy = GaussianNoise(std=0.4, clip=(0, 1)).corrupt(X_test, random_state=0)

# %%
# Four feature extractors, one classifier
# ---------------------------------------
# Each model ends in the same logistic regression. The autoencoders are unsupervised:
# inside the pipeline they receive the labels and ignore them, learning from the images
# alone. The codes are standardized first: their scale is arbitrary, and the solver
# converges faster on standardized features.
#
# The default autoencoder is the pretrained ``mnist-gaussian-0.4`` shipped with skdae:
# exactly ``DenoisingAutoencoder(corruption=GaussianNoise(0.4, clip=(0, 1)),
# max_iter=50, random_state=0)`` fitted on the 60,000 training digits, so this page
# does not train it again. :class:`~sklearn.frozen.FrozenEstimator` keeps the pipeline
# from refitting it. The ``features`` preset is trained here; it differs from the
# defaults in three ways:
print(PRESETS["features"].description)

dae = load_pretrained("mnist-gaussian-0.4")
features_dae = make_preset("features", max_iter=10 if SMOKE else 50, random_state=0)
models = {
    "raw pixels": LogisticRegression(max_iter=1000),
    "PCA(64)": make_pipeline(PCA(64, random_state=0), LogisticRegression(max_iter=1000)),
    "DAE codes": make_pipeline(
        FrozenEstimator(dae), StandardScaler(), LogisticRegression(max_iter=1000)
    ),
    "DAE codes, 'features' preset": make_pipeline(
        features_dae, StandardScaler(), LogisticRegression(max_iter=1000)
    ),
}
accuracy = {}
for name, model in models.items():
    model.fit(X_train, y_train)
    accuracy[name] = [model.score(X_test, y_test), model.score(X_test_noisy, y_test)]

# %%
# The autoencoder can also be used the other way round: denoise the test images with
# :meth:`~skdae.DenoisingAutoencoder.predict`, then hand them to the raw-pixel model.
# That model was trained on clean images only and is not retrained.
raw_pixels = models["raw pixels"]
accuracy["denoised pixels"] = [
    raw_pixels.score(dae.predict(X_test), y_test),
    raw_pixels.score(dae.predict(X_test_noisy), y_test),
]
accuracy = pd.DataFrame(accuracy, index=["clean test", "noisy test"]).T
print(accuracy.round(3))

# %%
# On clean digits the default codes do about as well as the 784 pixels, and the
# ``features`` codes better. Under noise the raw-pixel model suffers most: it never saw
# noise, and every speckle, even in the empty border, moves its decision. Denoising the
# images before the pixel classifier is about as robust as the ``features`` codes under
# noise, as that is exactly the task the default autoencoder was trained on; the
# ``features`` codes are also the best on clean digits. (On the 2,000 images of the
# bundled sample the preset has far less to learn from, and the gaps shrink.)
ax = accuracy.plot.bar(rot=0, figsize=(10, 4), ylim=(0, 1.15))
ax.set(ylabel="accuracy", title="Logistic regression on five representations")
ax.legend(loc="upper right", ncols=2)
for container in ax.containers:
    ax.bar_label(container, fmt="%.2f", fontsize=8)
plt.tight_layout()
plt.show()
