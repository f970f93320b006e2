"""The CUDA path, run where a GPU exists (skipped cleanly elsewhere): device choice,
precision per call on the GPU, reproducibility, CUDA-to-CPU persistence in a process
that sees no GPU, and memory that does not grow over repeated fits."""

import gc
import json
import os
import subprocess
import sys
import threading

import joblib
import numpy as np
import pytest
import torch

from skdae import ConvDenoisingAutoencoder, DenoisingAutoencoder, GaussianNoise

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.fixture(scope="module")
def digits():
    from skdae.datasets import load_mnist_sample

    sample = load_mnist_sample()
    return sample.X_train[:1000], sample.X_test[:200]


def _dense(**params):
    return DenoisingAutoencoder(
        **{
            "max_iter": 2,
            "corruption": GaussianNoise(0.3, clip=(0, 1)),
            "random_state": 0,
            **params,
        }
    )


def test_auto_picks_cuda_and_the_data_stay_there(digits):
    X, X_test = digits
    dae = _dense().fit(X)
    assert dae.device_.type == "cuda" and dae.device_.index is not None
    assert all(p.device == dae.device_ for p in dae.module_.parameters())
    out = dae.predict(X_test)
    assert isinstance(out, np.ndarray) and out.dtype == X_test.dtype


def test_auto_trains_in_bfloat16_on_a_gpu_that_has_it_and_measures_it(digits):
    X, _ = digits
    dae = _dense().fit(X)
    expected = "bfloat16" if torch.cuda.is_bf16_supported(including_emulation=False) else "float32"
    assert dae.matmul_precision_ == expected
    exact = _dense(matmul_precision="float32").fit(X)
    assert exact.matmul_precision_ == "float32"


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_the_same_seed_gives_the_same_fit_twice(digits, precision):
    X, X_test = digits
    fits = [_dense(matmul_precision=precision).fit(X) for _ in range(2)]
    np.testing.assert_allclose(fits[0].loss_curve_, fits[1].loss_curve_, rtol=1e-6)
    np.testing.assert_allclose(
        fits[0].predict(X_test), fits[1].predict(X_test), rtol=1e-5, atol=1e-6
    )


def test_conv_trains_on_cuda(digits):
    X, X_test = digits
    dae = ConvDenoisingAutoencoder(channels=(8, 16), max_iter=1, random_state=0).fit(X)
    assert dae.device_.type == "cuda"
    assert dae.predict(X_test).shape == X_test.shape


_LOAD_ON_CPU = """
import json, sys, joblib, numpy as np, torch
assert not torch.cuda.is_available()
from skdae import DenoisingAutoencoder
X = np.load(sys.argv[1])
safe = DenoisingAutoencoder.load(sys.argv[2])
pickled = joblib.load(sys.argv[3])
print(json.dumps({
    "devices": [str(safe.device_), str(pickled.device_)],
    "safe": safe.predict(X).tolist(),
    "pickled": pickled.predict(X).tolist(),
}))
"""


def test_a_cuda_model_saved_both_ways_predicts_the_same_in_a_cpu_only_process(digits, tmp_path):
    X, X_test = digits
    dae = _dense(matmul_precision="float32").fit(X)
    rows = X_test[:50]
    np.save(tmp_path / "X.npy", rows)
    safe = dae.save(tmp_path / "model.skdae")
    joblib.dump(dae, tmp_path / "model.joblib")
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    out = subprocess.run(
        [
            sys.executable,
            "-W",
            "ignore",
            "-c",
            _LOAD_ON_CPU,
            str(tmp_path / "X.npy"),
            str(safe),
            str(tmp_path / "model.joblib"),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(out.stdout)
    assert loaded["devices"] == ["cpu", "cpu"]
    expected = dae.predict(rows)
    for kind in ("safe", "pickled"):
        np.testing.assert_allclose(np.array(loaded[kind]), expected, rtol=1e-4, atol=1e-5)


def test_memory_does_not_grow_over_repeated_fits(digits):
    X, _ = digits

    def fit_once():
        dae = _dense().fit(X)
        dae.predict(X)
        del dae
        gc.collect()
        torch.cuda.synchronize()
        return torch.cuda.memory_allocated()

    fit_once()
    baseline = fit_once()
    for _ in range(3):
        after = fit_once()
    assert after <= baseline + (1 << 20), (baseline, after)


def test_float32_serving_beside_a_bfloat16_fit_on_the_gpu_is_unchanged(digits):
    X, X_test = digits
    server = _dense(matmul_precision="float32").fit(X)
    alone = server.predict(X_test)
    trainer = _dense(max_iter=5, matmul_precision="bfloat16")
    thread = threading.Thread(target=trainer.fit, args=(np.tile(X, (8, 1)),))
    thread.start()
    outputs = []
    while thread.is_alive():
        outputs.append(server.predict(X_test))
    thread.join()
    assert trainer.matmul_precision_ == "bfloat16"
    for output in outputs:
        np.testing.assert_array_equal(output, alone)


# ------------------------------------------------------------------ CUDA graphs


@pytest.fixture
def graphs_always(monkeypatch):
    """The CUDA-graph path for every fit, however short (see skdae._cuda_graph)."""
    import skdae._cuda_graph as cuda_graph

    monkeypatch.setattr(cuda_graph, "MIN_STEPS_PER_CAPTURED_STEP", 0)
    return cuda_graph


def _eager(cuda_graph, estimator, X, **fit_params):
    cuda_graph.ENABLED = False
    try:
        return estimator.fit(X, **fit_params)
    finally:
        cuda_graph.ENABLED = True


def _rows(digits, n):
    X, _ = digits
    return np.tile(X, (-(-n // len(X)), 1))[:n]


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_a_graphed_fit_trains_what_the_eager_path_trains(digits, graphs_always, precision):
    """25 whole batches (a chunk graph), then a tail with a ragged batch."""
    X, X_test = _rows(digits, 3300), digits[1]
    graphed = _dense(max_iter=3, matmul_precision=precision).fit(X)
    report = dict(graphs_always.last_fit)
    eager = _eager(graphs_always, _dense(max_iter=3, matmul_precision=precision), X)
    assert report["used"] and report["graphs"] == 2, report
    assert not graphs_always.last_fit["used"]
    np.testing.assert_allclose(graphed.loss_curve_, eager.loss_curve_, rtol=2e-3)
    np.testing.assert_allclose(graphed.predict(X_test), eager.predict(X_test), atol=2e-2)


def test_graphed_fits_repeat_exactly(digits, graphs_always):
    X, X_test = digits
    fits = [_dense(max_iter=3).fit(X) for _ in range(2)]
    assert graphs_always.last_fit["used"]
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    np.testing.assert_array_equal(fits[0].predict(X_test), fits[1].predict(X_test))


def test_graphed_fits_with_missing_values_and_weights(digits, graphs_always):
    X = _rows(digits, 1500).copy()
    rng = np.random.RandomState(0)
    X[rng.rand(*X.shape) < 0.05] = np.nan
    weights = rng.rand(len(X))
    graphed = _dense(max_iter=2, matmul_precision="float32").fit(X, sample_weight=weights)
    assert graphs_always.last_fit["used"]
    eager = _eager(
        graphs_always, _dense(max_iter=2, matmul_precision="float32"), X, sample_weight=weights
    )
    np.testing.assert_allclose(graphed.loss_curve_, eager.loss_curve_, rtol=2e-3)


def test_a_graphed_conv_fit_trains_what_the_eager_path_trains(digits, graphs_always):
    X, X_test = digits
    params = dict(channels=(8, 16), max_iter=2, random_state=0)
    graphed = ConvDenoisingAutoencoder(**params).fit(X)
    assert graphs_always.last_fit["used"], graphs_always.last_fit
    eager = _eager(graphs_always, ConvDenoisingAutoencoder(**params), X)
    np.testing.assert_allclose(graphed.loss_curve_, eager.loss_curve_, rtol=5e-3)
    np.testing.assert_allclose(graphed.predict(X_test), eager.predict(X_test), atol=3e-2)


def test_batch_progress_and_short_fits_train_eagerly(digits):
    import skdae._cuda_graph as cuda_graph

    X, _ = digits
    _dense(max_iter=1).fit(X)
    assert "too short" in cuda_graph.last_fit["reason"]
    _dense(max_iter=50, verbose=2).fit(X[:200])
    assert "batch progress" in cuda_graph.last_fit["reason"]


def test_a_failed_capture_warns_and_trains_eagerly(digits, graphs_always, monkeypatch):
    from skdae.exceptions import DeviceWarning

    X, X_test = digits

    def refuse(self, *args, **kwargs):
        raise RuntimeError("no capture today")

    monkeypatch.setattr(torch.cuda.CUDAGraph, "capture_begin", refuse)
    with pytest.warns(DeviceWarning, match="no capture today"):
        failed = _dense(max_iter=2, matmul_precision="float32").fit(X)
    eager = _eager(graphs_always, _dense(max_iter=2, matmul_precision="float32"), X)
    np.testing.assert_array_equal(failed.loss_curve_, eager.loss_curve_)
    np.testing.assert_array_equal(failed.predict(X_test), eager.predict(X_test))


def test_memory_does_not_grow_over_repeated_graphed_fits(digits, graphs_always):
    X, _ = digits

    def fit_once():
        dae = _dense().fit(X)
        assert graphs_always.last_fit["used"]
        dae.predict(X)
        del dae
        gc.collect()
        torch.cuda.synchronize()
        return torch.cuda.memory_allocated()

    fit_once()
    baseline = fit_once()
    for _ in range(3):
        after = fit_once()
    assert after <= baseline + (1 << 20), (baseline, after)
