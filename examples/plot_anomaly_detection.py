"""
=====================================================
Anomaly detection: what a model of one digit rejects
=====================================================

An autoencoder trained on normal data reconstructs normal data well and anything else
badly, so its reconstruction error is an anomaly score.
:meth:`~skdae.DenoisingAutoencoder.score_samples` returns each row's negated error
(higher means more normal, scikit-learn's convention for outlier detectors).

Here a model sees only 3s; it then scores every test digit, and the scores tell 3s from
the other digits. :class:`~sklearn.ensemble.IsolationForest`, fitted on the same 3s, is
the baseline. ``benchmarks/bench_tabular.py`` runs the same comparison for all ten
digits, with PCA reconstruction error and the local outlier factor as well
(``benchmarks/TABULAR.md``).
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from skdae import DenoisingAutoencoder, GaussianNoise
from skdae.datasets import load_mnist

SMOKE = os.environ.get("SKDAE_EXAMPLES_SMOKE") == "1"

mnist = load_mnist(fallback="sample")
if mnist.source == "bundled sample":
    print("Note: full MNIST was not found; this run uses the sample bundled with skdae.")
normal = 3
X_normal = mnist.X_train[mnist.y_train == normal]
X_test, y_test = mnist.X_test, mnist.y_test
print(f"training on {len(X_normal)} images of the digit {normal}")

# %%
# Train on the normal class only
# ------------------------------
dae = DenoisingAutoencoder(
    corruption=GaussianNoise(0.2, clip=(0, 1)), max_iter=3 if SMOKE else 30, random_state=0
).fit(X_normal)
forest = IsolationForest(random_state=0).fit(X_normal)

# %%
# Score the test set
# ------------------
# The anomaly score is the negated ``score_samples``: high for digits other than 3.
is_anomaly = y_test != normal
for name, scores in (
    ("skdae score_samples", dae.score_samples(X_test)),
    ("IsolationForest", forest.score_samples(X_test)),
):
    print(f"{name:>20}: ROC-AUC {roc_auc_score(is_anomaly, -scores):.3f}")

# %%
# The most and the least typical test digits
# ------------------------------------------
# Top row: the test images the model finds most like its training 3s; bottom row: the
# ones it reconstructs worst.
scores = dae.score_samples(X_test)
order = np.argsort(scores)
fig, axes = plt.subplots(2, 8, figsize=(8, 2.4))
for column, (typical, strange) in enumerate(zip(order[::-1][:8], order[:8], strict=True)):
    for row, index in enumerate((typical, strange)):
        axes[row, column].imshow(X_test[index].reshape(28, 28), cmap="gray")
        axes[row, column].set_title(f"{y_test[index]}", fontsize=8)
        axes[row, column].axis("off")
axes[0, 0].set_ylabel("typical")
fig.suptitle(f"Trained on {normal}s: most typical (top) and least typical (bottom) test digits")
plt.tight_layout()
plt.show()
