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
    """Which of :data:`FLAGS` the CPU reports, and whether oneDNN computes bfloat16
    natively here (what skdae's ``'auto'`` asks)."""
    from skdae._precision import native_bfloat16

    flags = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    features = {flag: flag in flags for flag in FLAGS}
    features["native_bfloat16"] = bool(native_bfloat16("cpu"))
    return features


def matmul_floor_gflops(precision, size=4096, repeats=5):
    """GFLOP/s of torch's ``size`` x ``size`` product with operands in ``precision``
    ('float32' or 'bfloat16', as skdae's training step casts them), the median of
    ``repeats`` runs after a warm-up."""
    import torch

    from skdae._precision import COMPUTE_DTYPES

    dtype = COMPUTE_DTYPES[precision]
    generator = torch.Generator().manual_seed(0)
    a = torch.rand(size, size, generator=generator).to(dtype)
    b = torch.rand(size, size, generator=generator).to(dtype)
    torch.mm(a, b)
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        torch.mm(a, b)
        seconds.append(time.perf_counter() - started)
    return 2 * size**3 / statistics.median(seconds) / 1e9


def products_alone_seconds_per_batch(precision, *, n_batches, batch_size=128, repeats=3):
    """Seconds per batch of the default network's own matrix products, timed with
    nothing else between them: for each dense layer the forward ``addmm`` (bias
    included), the weight gradient and, past the first layer, the input gradient.

    No training step of that network at that batch size can be faster, whatever the
    rest of it costs: this is the bound on the epoch's ratio to the floor. The median
    of ``repeats`` runs of ``n_batches`` batches each, after a warm-up.
    """
    import torch

    from skdae import DenoisingAutoencoder
    from skdae._precision import COMPUTE_DTYPES

    dtype = COMPUTE_DTYPES[precision]
    defaults = DenoisingAutoencoder()
    widths = [784, *defaults.hidden_layer_sizes, defaults.latent_dim]
    widths += widths[-2::-1]
    generator = torch.Generator().manual_seed(0)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(widths, widths[1:], strict=False)):
        layers.append(
            {
                "x": torch.rand(batch_size, n_in, generator=generator).to(dtype),
                "weight": torch.rand(n_out, n_in, generator=generator).to(dtype),
                "bias": torch.rand(n_out, generator=generator).to(dtype),
                "out": torch.empty(batch_size, n_out, dtype=dtype),
                "grad": torch.rand(batch_size, n_out, generator=generator).to(dtype),
                "weight_grad": torch.empty(n_out, n_in, dtype=dtype),
                "input_grad": torch.empty(batch_size, n_in, dtype=dtype) if i else None,
            }
        )

    def one_batch():
        for layer in layers:
            torch.addmm(layer["bias"], layer["x"], layer["weight"].t(), out=layer["out"])
            torch.mm(layer["grad"].t(), layer["x"], out=layer["weight_grad"])
            if layer["input_grad"] is not None:
                torch.mm(layer["grad"], layer["weight"], out=layer["input_grad"])

    for _ in range(min(n_batches, 20)):
        one_batch()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(n_batches):
            one_batch()
        seconds.append((time.perf_counter() - started) / n_batches)
    return statistics.median(seconds)


def measure_floor(*, quick):
    """The floor at float32, and at bfloat16 where the hardware has it; and the default
    network's products timed alone (seconds per batch of 128) at the same precisions."""
    size = 2048 if quick else 4096
    precisions = ["float32"] + (["bfloat16"] if cpu_features()["native_bfloat16"] else [])
    floor = {"size": size, "products_alone_seconds_per_batch": {}}
    for precision in precisions:
        floor[precision] = matmul_floor_gflops(precision, size)
        floor["products_alone_seconds_per_batch"][precision] = products_alone_seconds_per_batch(
            precision, n_batches=50 if quick else 469
        )
    return floor


def default_epoch_gflop(n_samples, n_features=784):
    """GFLOP of one epoch of the default network's products over ``n_samples`` rows."""
    from _profile import epoch_matmul_flop

    from skdae import DenoisingAutoencoder
    from skdae._dense_network import build_autoencoder

    defaults = DenoisingAutoencoder()
    module = build_autoencoder(
        n_features, defaults.hidden_layer_sizes, defaults.latent_dim, defaults.activation, "sigmoid"
    )
    return epoch_matmul_flop(module, n_samples) / 1e9
