"""
====================================================
Training on data larger than memory (out of core)
====================================================

``partial_fit`` runs one epoch on the rows it is given, so a model can learn from data
that never fit in memory at once: read them in chunks and call ``partial_fit`` on each.
:func:`skdae.chunks.iter_chunks` reads chunks from a ``.npy`` file through a memory map
(and from lists of files, arrays or Dask arrays), holding about one chunk at a time.

Here MNIST is written to a ``.npy`` file on disk, a model is trained from it chunk by
chunk, and the result is compared with an ordinary ``fit`` on the whole array.
"""

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from skdae import DenoisingAutoencoder, GaussianNoise
from skdae.chunks import iter_chunks
from skdae.datasets import load_mnist

SMOKE = os.environ.get("SKDAE_EXAMPLES_SMOKE") == "1"

# Full MNIST from $SKDAE_DATA, else the bundled sample (with a SampleDataWarning).
mnist = load_mnist(fallback="sample")
if mnist.source == "bundled sample":
    print("Note: full MNIST was not found; this run uses the sample bundled with skdae.")
X_train, X_test = mnist.X_train, mnist.X_test
epochs = 3 if SMOKE else 10

# %%
# Write the training set to disk
# ------------------------------
# In real use the file would be larger than memory; ``np.lib.format.open_memmap``
# writes one in pieces without ever holding it whole.
folder = tempfile.TemporaryDirectory()
path = Path(folder.name) / "train.npy"
np.save(path, X_train)
print(f"{path.name}: {path.stat().st_size / 2**20:.0f} MB, {len(X_train)} rows")

# %%
# Train chunk by chunk
# --------------------
# One pass over all chunks is one epoch. Each ``partial_fit`` shuffles within its chunk;
# write the file in random order if it is sorted (by label, say). Each call is also one
# epoch of the learning-rate schedule, so ``max_iter`` is the number of calls planned.
noise = GaussianNoise(0.4, clip=(0, 1))
chunk_size = max(len(X_train) // 6, 1)
n_chunks = -(-len(X_train) // chunk_size)
chunked = DenoisingAutoencoder(
    corruption=noise, learning_rate="cosine", max_iter=epochs * n_chunks, random_state=0
)
for _ in range(epochs):
    for chunk in iter_chunks(path, chunk_size=chunk_size):
        chunked.partial_fit(chunk)
print(f"{chunked.n_iter_} partial_fit calls ({epochs} epochs of {n_chunks} chunks)")

# %%
# Compare with ``fit`` on the whole array
# ---------------------------------------
whole = DenoisingAutoencoder(corruption=noise, max_iter=epochs, random_state=0).fit(X_train)
X_noisy = noise.corrupt(X_test, random_state=0)
scores = {
    "noisy input": np.mean((X_noisy - X_test) ** 2),
    "fit (in memory)": np.mean((whole.predict(X_noisy) - X_test) ** 2),
    "partial_fit on chunks": np.mean((chunked.predict(X_noisy) - X_test) ** 2),
}
for name, mse in scores.items():
    print(f"{name:>22}: test MSE {mse:.4f}")

fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
ax.barh(list(scores), list(scores.values()))
ax.set_xlabel("test MSE against the clean digits (lower is better)")
folder.cleanup()

# %%
# The two ways of training reach about the same quality. Peak memory against data size
# is measured by ``benchmarks/bench_out_of_core.py``.
