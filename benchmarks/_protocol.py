"""The benchmark protocol shared by every system: data, noise, metrics, timing, memory.

MNIST, pixels / 255, flattened; Gaussian noise std 0.4 clipped to [0, 1], drawn once
with a fixed seed for the test set; test MSE and PSNR (data range 1) of the denoised
test set against the clean one.
"""

import os
import platform
import resource
import statistics
import sys
import warnings
from pathlib import Path

import numpy as np

NOISE_STD = 0.4
TEST_NOISE_SEED = 12345
TRAIN_NOISE_SEED = 2024  # for the systems that, like the Keras tutorial, noise once


def load_data(*, quick, n_train=None, n_test=None):
    """Full MNIST from $SKDAE_DATA (else the bundled sample), cut down for --quick."""
    from skdae.datasets import SampleDataWarning, load_mnist

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SampleDataWarning)
        X_train, y_train, X_test, y_test = load_mnist(return_X_y=True, fallback="sample")
    source = "bundled sample" if caught else "full MNIST"
    if quick:
        n_train = n_train or 5000
        n_test = n_test or 1000
    if n_train:
        X_train, y_train = X_train[:n_train], y_train[:n_train]
    if n_test:
        X_test, y_test = X_test[:n_test], y_test[:n_test]
    return {
        "X_train": np.ascontiguousarray(X_train),
        "y_train": y_train,
        "X_test": np.ascontiguousarray(X_test),
        "y_test": y_test,
        "X_test_noisy": add_noise(X_test, TEST_NOISE_SEED),
        "source": source,
    }


def add_noise(X, seed):
    """Gaussian noise of std 0.4 clipped to [0, 1], from numpy (framework-neutral)."""
    rng = np.random.default_rng(seed)
    noisy = X + NOISE_STD * rng.standard_normal(X.shape, dtype=np.float32)
    return np.clip(noisy, 0.0, 1.0).astype(np.float32)


def mse(clean, estimate):
    return float(np.mean((np.asarray(clean, np.float64) - np.asarray(estimate, np.float64)) ** 2))


def psnr(clean, estimate, data_range=1.0):
    error = mse(clean, estimate)
    return float("inf") if error == 0 else float(10 * np.log10(data_range**2 / error))


def median_epoch_seconds(epoch_seconds):
    """Median of the epochs after the first (the first pays for warm-up)."""
    later = epoch_seconds[1:] or epoch_seconds
    return float(statistics.median(later)) if later else None


def time_to_target(epoch_seconds, epoch_psnr, target):
    """Training seconds until the test PSNR first reaches ``target``, or None."""
    elapsed = 0.0
    for seconds, value in zip(epoch_seconds, epoch_psnr, strict=True):
        elapsed += seconds
        if value >= target:
            return elapsed
    return None


def reset_peak_rss():
    """Start measuring peak memory from now (Linux: clear the VmHWM high-water mark).

    A process started by fork + exec (multiprocessing's "spawn" on Linux) inherits its
    parent's peak in ru_maxrss, so each benchmark child resets it first.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mb():
    """Peak resident memory of this process since start or reset_peak_rss, in MB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def environment():
    """The machine and the library versions a results file records."""
    import numpy
    import sklearn
    import torch

    import skdae

    versions = {
        "python": platform.python_version(),
        "skdae": skdae.__version__,
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
    }
    try:
        import tensorflow

        versions["tensorflow"] = tensorflow.__version__
    except ImportError:
        pass
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "versions": versions,
    }


def publish(payload, text, json_path, results_md):
    """Print a run's results page and write it (unless ``results_md`` is empty) with the
    run's JSON payload."""
    import json

    print()
    print(text)
    Path(json_path).write_text(json.dumps(payload, indent=2) + "\n")
    if results_md:
        Path(results_md).write_text(text)
