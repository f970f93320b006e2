"""
==================================================
Dense and convolutional autoencoders on the digits
==================================================

The Keras tutorial this project started from ends by pointing the way: for images,
convolutional autoencoders do better, because they respect the spatial structure of
the data. :class:`~skdae.ConvDenoisingAutoencoder` is that network with the same
scikit-learn contract as :class:`~skdae.DenoisingAutoencoder`. This example puts the
two side by side on the same noisy MNIST digits (Gaussian noise of std 0.4, clipped to
[0, 1]): the denoised images, their PSNR, and what each cost to train.
"""

# %%
# Load the data
# -------------
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skdae import ConvDenoisingAutoencoder, DenoisingAutoencoder, GaussianNoise
from skdae.datasets import load_mnist
from skdae.metrics import peak_signal_noise_ratio
from skdae.plotting import CorruptionDisplay
from skdae.pretrained import load_pretrained

# SKDAE_EXAMPLES_SMOKE=1 (set by the tests) shrinks the run to seconds.
SMOKE = os.environ.get("SKDAE_EXAMPLES_SMOKE") == "1"

# Full MNIST from $SKDAE_DATA, else the bundled sample (with a SampleDataWarning).
mnist = load_mnist(fallback="sample")
if mnist.source == "bundled sample":
    print("Note: full MNIST was not found; this run uses the sample bundled with skdae.")
X_train, X_test = mnist.X_train, mnist.X_test
# sphinx_gallery_start_ignore
if SMOKE:  # a quick look: fewer images
    X_train, X_test = X_train[:2000], X_test[:500]
    print(
        "Smoke mode (SKDAE_EXAMPLES_SMOKE=1): fewer images, so the scores are not representative."
    )
# sphinx_gallery_end_ignore
noise = GaussianNoise(std=0.4, clip=(0, 1))
X_test_noisy = noise.corrupt(X_test, random_state=0)

# %%
# The trained models
# ------------------
# skdae ships three models trained on the 60,000 training digits with this noise (see
# :mod:`skdae.pretrained`): the dense reference network (50 epochs), and the
# convolutional estimator with ``channels=(32, 64)`` (its default before 0.4), with a
# 64-d code like the dense one's, and with ``latent_dim=None``, purely convolutional
# (20 epochs each). Loading them keeps
# this page from training them again; each file keeps the seconds its epochs took.
models = {
    "dense": load_pretrained("mnist-gaussian-0.4"),
    "conv, 64-d code": load_pretrained("mnist-conv-gaussian-0.4"),
    "conv, spatial code": load_pretrained("mnist-conv-spatial-gaussian-0.4"),
}
denoised = {name: model.predict(X_test_noisy) for name, model in models.items()}
table = pd.DataFrame(
    {
        "PSNR (dB)": {
            "noisy input": peak_signal_noise_ratio(X_test, X_test_noisy),
            **{name: peak_signal_noise_ratio(X_test, X) for name, X in denoised.items()},
        },
        "epochs": {name: model.n_iter_ for name, model in models.items()},
        "training (s)": {name: sum(model.epoch_times_) for name, model in models.items()},
        "parameters": {
            name: sum(p.numel() for p in model.module_.parameters())
            for name, model in models.items()
        },
    }
)
print(table.round(2))

# %%
# The convolutional networks denoise better with fewer parameters than the dense one
# (convolutions share their weights across the image), in fewer epochs, though each
# epoch costs several times as much on a CPU. The purely convolutional network, whose
# code keeps the 7x7 spatial layout, keeps the most detail.
#
# A look at the digits
# --------------------
n_images = 8
rows = {"original": X_test[:n_images], "noisy": X_test_noisy[:n_images]}
rows.update({name: X[:n_images] for name, X in denoised.items()})
CorruptionDisplay(rows).plot()
plt.show()

# %%
# One epoch each
# --------------
# What a single pass over the training data buys each network, from scratch, timed
# here: the convolutional estimator learns far more per epoch.
one_epoch = {}
for name, estimator in {
    "dense": DenoisingAutoencoder(corruption=noise, max_iter=1, random_state=0),
    "conv, spatial code": ConvDenoisingAutoencoder(
        latent_dim=None, corruption=noise, max_iter=1, random_state=0
    ),
}.items():
    estimator.fit(X_train)
    one_epoch[name] = {
        "PSNR (dB)": peak_signal_noise_ratio(X_test, estimator.predict(X_test_noisy)),
        "seconds": estimator.epoch_times_[0],
    }
print(pd.DataFrame(one_epoch).T.round(2))

# %%
# The codes
# ---------
# Both estimators' ``transform`` returns codes a downstream model can use, with
# ``latent_dim`` columns, so either drops into a :class:`~sklearn.pipeline.Pipeline`
# next to :class:`~sklearn.decomposition.PCA`. The spatial codes are wider than the
# input (64 channels of 7x7):
print({name: model.transform(X_test[:1]).shape[1] for name, model in models.items()})
print(np.round(models["conv, 64-d code"].transform(X_test[:1])[0, :8], 2))
