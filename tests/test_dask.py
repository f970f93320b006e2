"""GridSearchCV over a DAE pipeline on a real dask.distributed cluster (on 127.0.0.1)."""

import logging

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skdae import DenoisingAutoencoder, GaussianNoise

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

import _dask_helpers  # noqa: E402

# Workers cannot import the tests folder: ship the helper module by value.
cloudpickle.register_pickle_by_value(_dask_helpers)

GRID = {"dae__latent_dim": [8, 16], "dae__corruption__std": [0.1, 0.3]}


def _pipeline(kill=None):
    steps = [
        (
            "dae",
            DenoisingAutoencoder(
                hidden_layer_sizes=(32,),
                corruption=GaussianNoise(0.2),
                max_iter=8,
                batch_size=64,
                learning_rate_init=1e-2,
                random_state=0,
            ),
        ),
        ("scale", StandardScaler()),
        ("clf", LogisticRegression(max_iter=300)),
    ]
    if kill is not None:
        steps.insert(0, ("kill", kill))
    return Pipeline(steps)


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def data(digits):
    X_train, _, y_train, _ = digits
    return X_train[:600], y_train[:600]


def test_workers_run_torch_on_one_thread(client):
    import torch  # noqa: F401  (the worker imports its own)

    threads = client.run(lambda: __import__("torch").get_num_threads())
    assert set(threads.values()) == {1}


def test_search_on_dask_matches_the_local_search(client, data):
    X, y = data
    local = GridSearchCV(_pipeline(), GRID, cv=2).fit(X, y)
    with joblib.parallel_backend("dask"):
        remote = GridSearchCV(_pipeline(), GRID, cv=2, n_jobs=-1).fit(X, y)
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"], atol=0.02
    )
    assert remote.best_estimator_.named_steps["dae"].n_iter_ == 8


LOST = (distributed.client.FutureCancelledError, distributed.scheduler.KilledWorker)


def test_a_worker_that_dies_once_is_retried_or_fails_the_search(client, data, tmp_path):
    """Either the scheduler reruns the lost task elsewhere and the results are complete
    and right, or (when the dead worker held data joblib scattered to it, as on recent
    dask) the whole search fails. Never partial results returned as complete."""
    X, y = data
    kill = _dask_helpers.KillWorker(mode="once", marker=str(tmp_path / "died"))
    search = GridSearchCV(_pipeline(kill), GRID, cv=2, n_jobs=-1)
    try:
        with joblib.parallel_backend("dask"):
            search.fit(X, y)
    except LOST:
        assert not hasattr(search, "cv_results_")
    else:
        local = GridSearchCV(_pipeline(), GRID, cv=2).fit(X, y)
        np.testing.assert_allclose(
            search.cv_results_["mean_test_score"],
            local.cv_results_["mean_test_score"],
            atol=0.02,
        )
    assert (tmp_path / "died").exists()  # a worker really died
    client.wait_for_workers(2, timeout=120)  # the nanny restarts it


def test_a_task_that_kills_every_worker_fails_the_search(client, data, tmp_path):
    X, y = data
    kill = _dask_helpers.KillWorker(mode="always", marker=str(tmp_path / "died"))
    search = GridSearchCV(_pipeline(kill), GRID, cv=2, n_jobs=-1)
    with pytest.raises(LOST):
        with joblib.parallel_backend("dask"):
            search.fit(X, y)
    assert not hasattr(search, "cv_results_") and not hasattr(search, "best_estimator_")
    client.wait_for_workers(2, timeout=120)


def test_the_dask_example_runs(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "examples" / "dask_grid_search.py"
    env = {**os.environ, "SKDAE_DATA": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, str(example)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "best parameters:" in run.stdout


def test_dask_ml_hyperband_search_uses_partial_fit(client):
    """dask-ml's incremental searches call partial_fit on chunks and score on a hold-out."""
    dask_ml_search = pytest.importorskip("dask_ml.model_selection")
    import dask
    import dask.array as da
    from packaging.version import Version

    if Version(dask.__version__) >= Version("2025.3"):
        pytest.skip("dask-ml's incremental searches fail on dask >= 2025.3 (dask/dask-ml#1016)")
    from sklearn.datasets import load_digits

    X = (load_digits().data / 16).astype(np.float32)
    X_dask = da.from_array(X, chunks=(300, 64))
    y_dask = da.from_array(np.zeros(len(X)), chunks=300)  # ignored, as in any DAE fit
    search = dask_ml_search.HyperbandSearchCV(
        DenoisingAutoencoder(hidden_layer_sizes=(32,), batch_size=64, random_state=0),
        {"latent_dim": [4, 8, 16], "learning_rate_init": [1e-3, 1e-2]},
        max_iter=9,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="total space of parameters"):
        search.fit(X_dask, y_dask)
    assert search.best_params_["latent_dim"] in (4, 8, 16)
    assert search.best_score_ < 0  # the negated reconstruction error
    assert search.best_estimator_.n_iter_ >= 1  # partial_fit calls
    assert len(search.history_) > 6
