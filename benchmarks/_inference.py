"""Inference speed and memory of skdae's default network (weights do not change speed)."""

import time

import numpy as np
from _protocol import peak_rss_mb


def _current_rss_mb():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _rows_per_second(fn, X, repeats=3):
    best = min(_timed(fn, X) for _ in range(repeats))
    return len(X) / best


def _timed(fn, X):
    started = time.perf_counter()
    fn(X)
    return time.perf_counter() - started


def run_inference(data, *, n_rows):
    from skdae import DenoisingAutoencoder

    dae = DenoisingAutoencoder(max_iter=1, random_state=0).fit(data["X_train"][:2000])
    dae.predict(data["X_test_noisy"][:10])  # warm up before the memory baseline

    # Memory first: the peak only ever grows, so nothing bigger may come before.
    X = np.resize(data["X_test_noisy"], (n_rows, 784))  # float32, n_rows x 784
    baseline = _current_rss_mb()
    output = dae.predict(X)
    overhead = peak_rss_mb() - baseline - output.nbytes / 2**20
    input_mb, output_mb = X.nbytes / 2**20, output.nbytes / 2**20
    del X, output

    speed_rows = np.resize(data["X_test_noisy"], (min(n_rows, 100_000), 784))
    transform_rate = _rows_per_second(dae.transform, speed_rows)
    predict_rate = _rows_per_second(dae.predict, speed_rows)
    return {
        "system": "skdae inference",
        "transform_rows_per_second": transform_rate,
        "predict_rows_per_second": predict_rate,
        "memory_rows": n_rows,
        "input_mb": input_mb,
        "output_mb": output_mb,
        "predict_overhead_mb": overhead,
    }
