"""The machine's matmul floor and CPU features, measured in the benchmark's own run.

An epoch's matrix products cannot run faster than the machine multiplies large square
matrices: that rate, measured here with torch at float32 (and at bfloat16 where the CPU
has it), turns an epoch's FLOPs into the seconds it would take at the floor. The CPU
flags say which kind of machine the numbers come from (bfloat16 hardware or not).
"""

import statistics
import time
from pathlib import Path

FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")


def cpu_features():
    """Which of :data:`FLAGS` the CPU reports, and whether skdae sees bfloat16 hardware."""
    from skdae._precision import cpu_has_native_bfloat16

    flags = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    features = {flag: flag in flags for flag in FLAGS}
    features["native_bfloat16"] = bool(cpu_has_native_bfloat16())
    return features


def matmul_floor_gflops(precision, size=4096, repeats=5):
    """GFLOP/s of torch's ``size`` x ``size`` float32 product at ``precision``
    ('float32' or 'bfloat16'), the median of ``repeats`` runs after a warm-up."""
    import torch

    from skdae._precision import matmul_precision

    generator = torch.Generator().manual_seed(0)
    a = torch.rand(size, size, generator=generator)
    b = torch.rand(size, size, generator=generator)
    with matmul_precision(precision, "cpu"):
        torch.mm(a, b)
        seconds = []
        for _ in range(repeats):
            started = time.perf_counter()
            torch.mm(a, b)
            seconds.append(time.perf_counter() - started)
    return 2 * size**3 / statistics.median(seconds) / 1e9


def measure_floor(*, quick):
    """The floor at float32, and at bfloat16 where the hardware has it."""
    size = 2048 if quick else 4096
    floor = {"size": size, "float32": matmul_floor_gflops("float32", size)}
    if cpu_features()["native_bfloat16"]:
        floor["bfloat16"] = matmul_floor_gflops("bfloat16", size)
    return floor


def default_epoch_gflop(n_samples, n_features=784):
    """GFLOP of one epoch of the default network's products over ``n_samples`` rows."""
    from _profile import epoch_matmul_flop

    from skdae import DenoisingAutoencoder
    from skdae._network import build_autoencoder

    defaults = DenoisingAutoencoder()
    module = build_autoencoder(
        n_features, defaults.hidden_layer_sizes, defaults.latent_dim, defaults.activation, "sigmoid"
    )
    return epoch_matmul_flop(module, n_samples) / 1e9
