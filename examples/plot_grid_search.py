"""
===================================================
Tuning a denoising autoencoder inside a grid search
===================================================

:class:`~skdae.DenoisingAutoencoder` is a scikit-learn transformer, so it fits in a
:class:`~sklearn.pipeline.Pipeline` before a classifier, and
:class:`~sklearn.model_selection.GridSearchCV` can tune its parameters, including those
of the corruption object it holds (``dae__corruption__std``). The best pipeline is then
saved with :mod:`joblib` and loaded back.
"""

# %%
# Load the data
# -------------
import os
import tempfile
from pathlib import Path

import joblib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skdae import DenoisingAutoencoder, GaussianNoise
from skdae.datasets import load_mnist

# SKDAE_EXAMPLES_SMOKE=1 (set by the tests) shrinks the run to seconds.
SMOKE = os.environ.get("SKDAE_EXAMPLES_SMOKE") == "1"

# Full MNIST if $SKDAE_DATA/mnist/ has it, else the bundled sample (with a printed note).
# Full MNIST from $SKDAE_DATA, else the bundled sample (with a SampleDataWarning).
mnist = load_mnist(fallback="sample")
if mnist.source == "bundled sample":
    print("Note: full MNIST was not found; this run uses the sample bundled with skdae.")
FULL = mnist.source != "bundled sample"

# A grid search fits one pipeline per candidate and fold: keep the training set small.
n_train = 500 if SMOKE else 10_000 if FULL else 1_000
X_train, y_train = mnist.X_train[:n_train], mnist.y_train[:n_train]
X_test, y_test = mnist.X_test, mnist.y_test
# sphinx_gallery_start_ignore
if SMOKE:
    print(
        "Smoke mode (SKDAE_EXAMPLES_SMOKE=1): fewer images and epochs, so the scores "
        "and figures below are not representative."
    )
# sphinx_gallery_end_ignore

# %%
# The pipeline and the grid
# -------------------------
# The autoencoder is unsupervised: in ``Pipeline.fit(X, y)`` it ignores ``y`` (the
# labels go to the classifier) and learns to rebuild clean digits from noisy ones. A
# smaller network than the default keeps the search quick. The codes are standardized
# before the classifier: their scale is arbitrary, and the solver converges faster on
# standardized features.
pipe = Pipeline(
    [
        (
            "dae",
            DenoisingAutoencoder(
                hidden_layer_sizes=(256,),
                corruption=GaussianNoise(std=0.4, clip=(0, 1)),
                max_iter=3 if SMOKE else 20,
                random_state=0,
            ),
        ),
        ("scale", StandardScaler()),
        ("clf", LogisticRegression(max_iter=1000)),
    ]
)
param_grid = {
    "dae__latent_dim": [16, 64] if SMOKE else [16, 32, 64],
    "dae__corruption__std": [0.2, 0.4],
}
# n_jobs=-1 would fit the candidates in parallel; joblib's Dask backend spreads them
# over a cluster with no other change.
search = GridSearchCV(pipe, param_grid, cv=2 if SMOKE else 3)
search.fit(X_train, y_train)

results = pd.DataFrame(search.cv_results_).pivot_table(
    index="param_dae__latent_dim",
    columns="param_dae__corruption__std",
    values="mean_test_score",
)
print(results.round(3))
print(f"best: {search.best_params_}, test accuracy {search.score(X_test, y_test):.3f}")

# %%
# Wider codes help the classifier most; the noise level matters less.
ax = results.plot(marker="o", figsize=(6, 4))
ax.set(
    xlabel="latent_dim", ylabel="cross-validated accuracy", title="Grid search over the autoencoder"
)
ax.legend(title="corruption std")
plt.tight_layout()

# %%
# The best pipeline, as a notebook shows it: click a step for its parameters (each
# linked to its documentation) and, once fitted, its fitted attributes.
search.best_estimator_

# %%
# Save and reload the best pipeline
# ---------------------------------
# The autoencoder pickles its weights as CPU tensors, so a pipeline tuned on a GPU
# machine loads anywhere. The reloaded pipeline predicts exactly as the original.
best = search.best_estimator_
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "dae_pipeline.joblib"
    joblib.dump(best, path)
    print(f"saved {path.stat().st_size / 1e6:.1f} MB")
    reloaded = joblib.load(path)

assert np.array_equal(reloaded.predict(X_test), best.predict(X_test))
assert np.array_equal(reloaded[0].transform(X_test), best[0].transform(X_test))
print("reloaded pipeline: identical predictions and codes")
plt.show()
