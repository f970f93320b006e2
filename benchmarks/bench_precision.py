"""Reduced precision per call, against the process-wide switch skdae 0.3 used.

    SKDAE_DATA=... python benchmarks/bench_precision.py [--quick]

One run, one machine, the default dense network on MNIST:

* ``per call``: ``matmul_precision='auto'``, bfloat16 operands cast by the training step
  itself (what skdae does now, where oneDNN has bfloat16 kernels);
* ``process-wide switch``: float32 operands with oneDNN's process-wide bfloat16 mode
  switched on (``torch.backends.mkldnn.matmul.fp32_precision = 'bf16'``), which is how
  skdae 0.3 ran its bfloat16 fits; the fit reports what a probe measured;
* ``float32``: every product in float32.

Then serving beside training: one thread predicts 100 rows every 10 ms with a float32
model while another fits at bfloat16; the worst latency against the fit's epoch time
(the 0.3 gate made it a whole epoch), and whether every prediction equals, bit for bit,
the same prediction made alone. Prints a table and writes JSON.
"""

import argparse
import json
import statistics
import threading
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def fit_row(name, data, *, epochs, precision, switch=False):
    import torch
    from _protocol import psnr

    from skdae import DenoisingAutoencoder, GaussianNoise
    from skdae.exceptions import PrecisionWarning

    before = torch.backends.mkldnn.matmul.fp32_precision
    if switch:
        torch.backends.mkldnn.matmul.fp32_precision = "bf16"
    try:
        dae = DenoisingAutoencoder(
            corruption=GaussianNoise(0.4, clip=(0, 1)),
            max_iter=epochs,
            matmul_precision=precision,
            device="cpu",
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PrecisionWarning)  # the switch is the point
            dae.fit(data["X_train"])
    finally:
        torch.backends.mkldnn.matmul.fp32_precision = before
    return {
        "system": name,
        "matmul_precision": dae.matmul_precision_,
        "median_epoch_seconds": statistics.median(dae.epoch_times_[1:] or dae.epoch_times_),
        "psnr": psnr(data["X_test"], dae.predict(data["X_test_noisy"])),
    }


def serving_row(data, *, epochs):
    from skdae import DenoisingAutoencoder

    requests = data["X_test"][:100]
    server = DenoisingAutoencoder(max_iter=1, device="cpu", matmul_precision="float32")
    server.fit(data["X_train"][:2000])
    alone = server.predict(requests)
    trainer = DenoisingAutoencoder(max_iter=epochs, device="cpu", random_state=0)
    thread = threading.Thread(target=trainer.fit, args=(data["X_train"],))
    thread.start()
    latencies, identical = [], True
    while thread.is_alive():
        started = time.perf_counter()
        out = server.predict(requests)
        latencies.append(time.perf_counter() - started)
        identical &= bool(np.array_equal(out, alone))
        time.sleep(0.01)
    thread.join()
    epoch = statistics.median(trainer.epoch_times_)
    return {
        "system": "serving beside a fit",
        "trainer_precision": trainer.matmul_precision_,
        "predictions": len(latencies),
        "median_latency_seconds": statistics.median(latencies),
        "max_latency_seconds": max(latencies),
        "epoch_seconds": epoch,
        "max_latency_over_epoch": max(latencies) / epoch,
        "bit_identical_to_alone": identical,
    }


def main(argv=None):
    from _protocol import load_data

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5k images, 3 epochs")
    parser.add_argument("--epochs", type=int, default=None, help="default 50 (quick: 3)")
    parser.add_argument("--json", default=str(HERE / "precision.json"))
    args = parser.parse_args(argv)
    epochs = args.epochs or (3 if args.quick else 50)
    data = load_data(quick=args.quick)
    rows = [
        fit_row("per call (auto)", data, epochs=epochs, precision="auto"),
        fit_row("process-wide switch (0.3)", data, epochs=epochs, precision="float32", switch=True),
        fit_row("float32", data, epochs=epochs, precision="float32"),
    ]
    serving = serving_row(data, epochs=min(epochs, 3))
    per_call, switch = rows[0], rows[1]
    checks = {
        "epoch: per call / process-wide switch (goal <= 1)": per_call["median_epoch_seconds"]
        / switch["median_epoch_seconds"],
        "PSNR: per call - process-wide switch, dB (goal >= -0.05)": per_call["psnr"]
        - switch["psnr"],
        "serving: worst latency / epoch (goal < 0.25)": serving["max_latency_over_epoch"],
    }
    print(f"{data['source']}, {len(data['X_train'])} training images, {epochs} epochs")
    print(f"{'system':<28} {'products':<10} {'s/epoch':>8} {'PSNR':>7}")
    for row in rows:
        print(
            f"{row['system']:<28} {row['matmul_precision']:<10} "
            f"{row['median_epoch_seconds']:>8.3f} {row['psnr']:>7.2f}"
        )
    print(
        f"serving beside a {serving['trainer_precision']} fit: {serving['predictions']} "
        f"predictions, median {serving['median_latency_seconds'] * 1e3:.1f} ms, worst "
        f"{serving['max_latency_seconds'] * 1e3:.1f} ms, epoch {serving['epoch_seconds']:.2f} s, "
        f"bit-identical to alone: {serving['bit_identical_to_alone']}"
    )
    for name, value in checks.items():
        print(f"{name}: {value:.3f}")
    results = {
        "data": data["source"],
        "epochs": epochs,
        "rows": rows,
        "serving": serving,
        "checks": checks,
    }
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
