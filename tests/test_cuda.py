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
