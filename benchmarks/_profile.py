"""Where one skdae training epoch spends its time: torch.profiler over a default epoch.

The matrix products are compared with the work they do, so the table says how close an
epoch comes to the matmul floor and what else costs time.
"""

import time

from _protocol import NOISE_STD

WARM_EPOCHS = 2  # past the first epoch's allocations and the schedule's warm-up
TOP_OPS = 10
MATMUL_OPS = ("aten::mm", "aten::addmm")


def epoch_matmul_flop(module, n_samples):
    """FLOPs of the dense layers' products in one epoch: forward, weight and input grads.

    The first layer needs no gradient with respect to its input (the data).
    """
    from torch import nn

    layers = [m for m in module.modules() if isinstance(m, nn.Linear)]
    flop = 0
    for i, layer in enumerate(layers):
        products = 2 if i == 0 else 3
        flop += products * 2 * n_samples * layer.in_features * layer.out_features
    return flop


def run_profile(data, matmul_precision="auto"):
    """Profile one epoch of the default model after a couple of warm epochs."""
    from torch.profiler import ProfilerActivity, profile

    from skdae import DenoisingAutoencoder, GaussianNoise

    X = data["X_train"]
    dae = DenoisingAutoencoder(
        corruption=GaussianNoise(NOISE_STD, clip=(0, 1)),
        matmul_precision=matmul_precision,
        random_state=0,
    )
    for _ in range(WARM_EPOCHS):
        dae.partial_fit(X)
    unprofiled = dae.epoch_times_[-1]
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        started = time.perf_counter()
        dae.partial_fit(X)
        profiled_seconds = time.perf_counter() - started
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events) / 1e6
    ops = sorted(
        (
            {"op": e.key, "self_seconds": e.self_cpu_time_total / 1e6, "calls": e.count}
            for e in events
        ),
        key=lambda op: -op["self_seconds"],
    )
    matmul_seconds = sum(op["self_seconds"] for op in ops if op["op"] in MATMUL_OPS)
    flop = epoch_matmul_flop(dae.module_, len(X))
    return {
        "system": f"profile of one skdae epoch ({matmul_precision})",
        "epoch_seconds_unprofiled": unprofiled,
        "matmul_precision": dae.matmul_precision_,
        "requested_precision": matmul_precision,
        "epoch_seconds_profiled": profiled_seconds,
        "profiled_op_seconds": total,
        "matmul_seconds": matmul_seconds,
        "matmul_gflop": flop / 1e9,
        "matmul_gflop_per_second": flop / 1e9 / matmul_seconds if matmul_seconds else None,
        "top_ops": [dict(op, share=op["self_seconds"] / total) for op in ops[:TOP_OPS]],
    }
