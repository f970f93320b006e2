"""
==============================
Deploying a pipeline with ONNX
==============================

A fitted scikit-learn pipeline runs wherever Python, scikit-learn and PyTorch run. To
serve it from anything else (C#, Java, JavaScript, C++, a phone, an ONNX serving
platform), export it to `ONNX <https://onnx.ai>`_: one file holding the graph and its
weights, run by `ONNX Runtime <https://onnxruntime.ai>`_ or any other ONNX runtime.

Here a pipeline of denoising-autoencoder codes and a logistic regression is fitted on
MNIST, exported with skl2onnx (``import skdae.onnx`` registers skdae's converters), and
run by an onnxruntime session, which gives the same labels. The denoiser itself is then
exported with :func:`skdae.onnx.to_onnx`, for its ``predict``, which a pipeline cannot
express. Both need the ``onnx`` extra: ``pip install 'skdae[onnx]'``.
"""

# %%
# Fit a pipeline
# --------------
import os
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import onnx
import onnxruntime
import skl2onnx
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import skdae.onnx  # registers skdae's converters with skl2onnx
from skdae import DenoisingAutoencoder, GaussianNoise
from skdae.datasets import load_mnist

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
noise = GaussianNoise(0.4, clip=(0, 1))
X_test_noisy = noise.corrupt(X_test, random_state=0)

dae = DenoisingAutoencoder(
    latent_dim=32,
    hidden_layer_sizes=(128,),
    latent_activation="identity",  # linear codes: better features for a linear model
    corruption=noise,
    max_iter=3 if SMOKE else 15,
    random_state=0,
)
pipeline = make_pipeline(dae, LogisticRegression(max_iter=1000)).fit(X_train, y_train)
print(f"skdae's pipeline: test accuracy {pipeline.score(X_test, y_test):.3f}")
pipeline

# %%
# Export it
# ---------
# skl2onnx converts the whole pipeline; in it the autoencoder stands for its
# ``transform``, the codes, as in scikit-learn. ``X_train[:1]`` tells it the input's
# type and width (float32 rows of 784 pixels / 255); the number of rows stays free.
# ``zipmap=False`` returns the probabilities as one array rather than a list of dicts.
onnx_pipeline = skl2onnx.to_onnx(
    pipeline, X_train[:1], options={LogisticRegression: {"zipmap": False}}
)
folder = Path(tempfile.mkdtemp())
onnx.save(onnx_pipeline, folder / "digits.onnx")
print(f"digits.onnx: {(folder / 'digits.onnx').stat().st_size:,} bytes")

# %%
# Run it with ONNX Runtime
# ------------------------
# The session needs neither skdae, nor scikit-learn, nor PyTorch: any language with an
# ONNX runtime can feed it the same array and read the same outputs.
session = onnxruntime.InferenceSession(
    str(folder / "digits.onnx"), providers=["CPUExecutionProvider"]
)
for port in [*session.get_inputs(), *session.get_outputs()]:
    print(f"{port.name}: {port.type} {port.shape}")
labels, probabilities = session.run(None, {"X": X_test})
# sphinx_gallery_start_ignore
shutil.rmtree(folder)
# sphinx_gallery_end_ignore

same = np.mean(labels == pipeline.predict(X_test))
gap = np.abs(probabilities - pipeline.predict_proba(X_test)).max()
print(f"same label for {same:.2%} of the {len(X_test):,} test digits")
print(f"largest difference between the probabilities: {gap:.1e}")

# %%
# The graph computes what skdae computes, in float32; onnxruntime sums in another
# order than PyTorch, so the numbers agree to about a millionth rather than bit for
# bit, and the labels are the same.
#
# Export the denoiser
# -------------------
# In a pipeline an autoencoder can only stand for its codes. :func:`skdae.onnx.to_onnx`
# exports its other methods: here ``predict``, the denoised digits.
# (:func:`skdae.onnx.export_model_file` does the same for a ``.skdae`` file.)
fitted_dae = pipeline[0]
onnx_denoiser = skdae.onnx.to_onnx(fitted_dae, method="predict")
denoiser = onnxruntime.InferenceSession(
    onnx_denoiser.SerializeToString(), providers=["CPUExecutionProvider"]
)
(denoised,) = denoiser.run(None, {"X": X_test_noisy})
print(f"outputs: {[port.name for port in denoiser.get_outputs()]}")
gap = np.abs(denoised - fitted_dae.predict(X_test_noisy)).max()
print(f"largest difference from skdae's predict: {gap:.1e}")

rows = {
    "noisy": X_test_noisy,
    "skdae": fitted_dae.predict(X_test_noisy),
    "onnxruntime": denoised,
}
fig, axes = plt.subplots(3, 8, figsize=(10, 4.2))
for (label, images), row in zip(rows.items(), axes, strict=True):
    for i, ax in enumerate(row):
        ax.imshow(images[i].reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        ax.set(xticks=[], yticks=[])
    row[0].set_ylabel(label)
fig.suptitle("The same denoised digits, from skdae and from its ONNX export")
plt.tight_layout()
plt.show()

# %%
# What the file guarantees
# ------------------------
# An ONNX file holds no code: loading it runs only ONNX's standard operators. It
# checks no data beyond their shape (NaN is handled as skdae handles it, but
# infinities and unscaled 8-bit images are not refused), carries no signature, and
# cannot be trained further. In Python, keep the ``.skdae`` file; see "Deploying" in
# the user guide.
