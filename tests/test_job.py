"""skdae._job: the main job, as a notebook would call it (an estimator in, files out)."""

import json

import numpy as np
import pytest

from skdae import DenoisingAutoencoder, GaussianNoise
from skdae._job import load_job_data, make_job_noise, render_report, train_job
from skdae.exceptions import DataFileError, SampleDataWarning


@pytest.fixture
def dataset(tmp_path):
    X = np.random.RandomState(0).rand(40, 16)
    np.save(tmp_path / "data.npy", X)
    return load_job_data(str(tmp_path / "data.npy"))


def test_data_from_a_file_is_split_and_square_rows_are_images(dataset):
    assert len(dataset["X_train"]) == 32 and len(dataset["X_test"]) == 8
    assert dataset["image_shape"] == (4, 4) and dataset["y_train"] is None
    assert dataset["sample"] is False


def test_the_bundled_sample_is_a_fact_of_the_data(tmp_path):
    with pytest.warns(SampleDataWarning):
        dataset = load_job_data("mnist", data_home=tmp_path)
    assert dataset["sample"] is True and dataset["source"] == "MNIST bundled sample"


def test_a_single_row_is_refused(tmp_path):
    np.save(tmp_path / "one.npy", np.zeros((1, 4)))
    with pytest.raises(DataFileError, match="at least 2"):
        load_job_data(str(tmp_path / "one.npy"))


@pytest.mark.parametrize("n_rows", [3, 5])
def test_too_few_rows_for_a_test_part_of_two_are_refused_up_front(tmp_path, n_rows):
    """3 or 5 rows left one test row: the latent figure failed after the model was written."""
    np.save(tmp_path / "few.npy", np.zeros((n_rows, 4)))
    with pytest.raises(DataFileError, match=f"holds {n_rows} row.*at least 6"):
        load_job_data(str(tmp_path / "few.npy"))


def test_a_run_that_fails_writing_keeps_the_earlier_run(dataset, tmp_path, monkeypatch):
    """Files are written into a temporary folder and moved into place at the end."""
    import skdae._job

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "metrics.json").write_text("the earlier run's")

    def broken(metrics, files):
        raise RuntimeError("the report failed")

    monkeypatch.setattr(skdae._job, "render_report", broken)
    estimator = DenoisingAutoencoder(latent_dim=2, hidden_layer_sizes=(4,), max_iter=1)
    with pytest.raises(RuntimeError, match="the report failed"):
        train_job(estimator, dataset, output=tmp_path / "out", figures=False, log=lambda m: None)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["metrics.json"]
    assert (tmp_path / "out" / "metrics.json").read_text() == "the earlier run's"


def test_job_noise_is_clipped_for_unit_range_data_only():
    assert make_job_noise("gaussian:0.3", np.array([[0.0, 1.0]])).clip == (0.0, 1.0)
    assert make_job_noise("gaussian:0.3", np.array([[0.0, 3.0]])).clip is None


def test_the_job_fits_the_estimator_it_is_given_and_writes_everything(dataset, tmp_path):
    estimator = DenoisingAutoencoder(
        latent_dim=3,
        hidden_layer_sizes=(8,),
        max_iter=2,
        batch_size=8,
        random_state=0,
        corruption=GaussianNoise(0.2),
        early_stopping=True,
        n_iter_no_change=2,
    )
    metrics = train_job(estimator, dataset, "gaussian:0.2", tmp_path / "out", log=lambda m: None)
    assert estimator.n_iter_ == 2  # fitted in place, with its own parameters
    assert metrics["model"]["params"]["latent_dim"] == 3
    assert metrics["model"]["corruption"] == "GaussianNoise(std=0.2)"
    written = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert written["files"] == metrics["files"]
    for name in metrics["files"]:
        assert (tmp_path / "out" / name).stat().st_size > 0
    assert "reconstructions.png" in metrics["files"]  # 16 features: 4 x 4 images
    assert DenoisingAutoencoder.load(tmp_path / "out" / "model.skdae").n_iter_ == 2


def test_the_report_says_when_the_sample_was_used():
    metrics = {
        "test": {"noisy_mse": 0.1, "noisy_psnr": 10.0, "denoised_mse": 0.01, "denoised_psnr": 20.0},
        "training": {"epochs": 1, "fit_seconds": 1.0, "median_epoch_seconds": 1.0, "best_epoch": 1},
        "data": {"source": "s", "n_train": 1, "n_test": 1, "n_features": 4, "bundled_sample": True},
        "model": {
            "preset": None,
            "n_parameters": 10,
            "estimator": "DenoisingAutoencoder",
            "network": {"hidden_layer_sizes": [4], "latent_dim": 2},
            "latent_dim": 2,
            "loss": "mse",
            "device": "cpu",
            "matmul_precision": "float32",
        },
        "noise": "gaussian:0.4",
    }
    assert "bundled with skdae, not the full data set" in render_report(metrics, [])
