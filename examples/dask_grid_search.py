"""
===============================================
Grid search on a Dask cluster
===============================================

The same ``GridSearchCV`` over a ``Pipeline`` of a denoising autoencoder and a
classifier, run on a ``dask.distributed`` cluster through joblib's Dask backend. This
script starts a local cluster of two single-threaded worker processes on 127.0.0.1;
point ``Client`` at a real scheduler to use a cluster. It is not run when the docs are
built (it starts processes); run it with ``python examples/dask_grid_search.py`` after
``pip install "dask[distributed]"``.
"""

import joblib
from dask.distributed import Client, LocalCluster
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skdae import DenoisingAutoencoder, GaussianNoise
from skdae.datasets import load_mnist_sample

if __name__ == "__main__":  # worker processes re-import this file
    X, y, _, _ = load_mnist_sample(return_X_y=True)
    pipe = Pipeline(
        [
            (
                "dae",
                DenoisingAutoencoder(
                    corruption=GaussianNoise(0.4, clip=(0, 1)), max_iter=10, random_state=0
                ),
            ),
            ("scale", StandardScaler()),
            ("clf", LogisticRegression(max_iter=500)),
        ]
    )
    grid = {"dae__latent_dim": [16, 32, 64], "dae__corruption__std": [0.2, 0.4]}

    # One thread per worker: the nanny starts workers with OMP_NUM_THREADS=1, so PyTorch
    # does not oversubscribe the cores.
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        print(client)
        with joblib.parallel_backend("dask"):
            search = GridSearchCV(pipe, grid, cv=3, n_jobs=-1).fit(X, y)

    print("best parameters:", search.best_params_)
    print(f"best cross-validated accuracy: {search.best_score_:.3f}")
