"""DenoisingAutoencoder inside Pipeline and GridSearchCV, as users compose it."""

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skdae import DenoisingAutoencoder, GaussianNoise


def _pipeline():
    dae = DenoisingAutoencoder(
        latent_dim=16,
        hidden_layer_sizes=(32,),
        corruption=GaussianNoise(0.2, clip=(0, 1)),
        max_iter=20,
        batch_size=64,
        learning_rate_init=1e-2,
        random_state=0,
    )
    return Pipeline([("dae", dae), ("clf", LogisticRegression(max_iter=500))])


def test_grid_search_over_latent_dim_and_corruption_std(digits):
    X_train, X_test, y_train, y_test = digits
    grid = {"dae__latent_dim": [8, 16], "dae__corruption__std": [0.1, 0.3]}
    search = GridSearchCV(_pipeline(), grid, cv=2).fit(X_train, y_train)
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    best = search.best_estimator_
    assert best.named_steps["dae"].latent_dim == search.best_params_["dae__latent_dim"]
    assert best.named_steps["dae"].corruption_.std == search.best_params_["dae__corruption__std"]
    assert search.score(X_test, y_test) > 0.8  # 10 classes: chance is 0.1
    # The template in the grid was never fitted or mutated.
    assert search.estimator.named_steps["dae"].corruption.std == 0.2


def test_pipeline_passes_pre_corrupted_pairs(digits):
    X_train, _, y_train, _ = digits
    noisy = GaussianNoise(0.3, clip=(0, 1)).corrupt(X_train, random_state=0)
    pipe = _pipeline().fit(X_train, y_train, dae__X_noisy=noisy)
    assert pipe.named_steps["dae"].n_iter_ == 20


def test_clone_of_a_fitted_pipeline_is_unfitted(digits):
    X_train, _, y_train, _ = digits
    pipe = _pipeline().fit(X_train, y_train)
    copy = clone(pipe)
    assert not hasattr(copy.named_steps["dae"], "module_")
    assert copy.get_params()["dae__corruption__std"] == 0.2


def test_joblib_round_trip_inside_a_pipeline(digits, tmp_path):
    X_train, X_test, y_train, _ = digits
    pipe = _pipeline().fit(X_train, y_train)
    path = tmp_path / "pipe.joblib"
    joblib.dump(pipe, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict(X_test), pipe.predict(X_test))
    np.testing.assert_array_equal(loaded.predict_proba(X_test), pipe.predict_proba(X_test))
