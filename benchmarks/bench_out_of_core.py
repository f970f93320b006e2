"""Peak memory of out-of-core training against data size.

    SKDAE_DATA=../shared/data python benchmarks/bench_out_of_core.py [--factors 1,4,16]

MNIST's training images are replicated 1x, 4x, 16x into a .npy file on disk (float32;
16x is 3 GB), and one epoch of ``partial_fit`` runs over ``iter_chunks`` of the file,
each size in a fresh process. Memory should follow the chunk size, not the data size.
Prints a table and writes benchmarks/out_of_core.json and benchmarks/OUT_OF_CORE.md.
"""

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from _protocol import peak_rss_mb, reset_peak_rss

HERE = Path(__file__).resolve().parent


def _train_one_epoch(path, chunk_size):
    import numpy as np  # noqa: F401

    from skdae import DenoisingAutoencoder, GaussianNoise
    from skdae.chunks import iter_chunks

    reset_peak_rss()
    baseline = peak_rss_mb()
    dae = DenoisingAutoencoder(corruption=GaussianNoise(0.4, clip=(0, 1)), random_state=0)
    started = time.perf_counter()
    rows = 0
    for chunk in iter_chunks(path, chunk_size=chunk_size):
        dae.partial_fit(chunk)
        rows += len(chunk)
    return {
        "rows": rows,
        "seconds": time.perf_counter() - started,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_training_mb": baseline,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factors", default="1,4,16")
    parser.add_argument("--chunk-size", type=int, default=10_000)
    parser.add_argument("--json", default=str(HERE / "out_of_core.json"))
    args = parser.parse_args(argv)

    import numpy as np

    from skdae.datasets import load_mnist

    X_train = load_mnist(return_X_y=True)[0]
    context = multiprocessing.get_context("spawn")
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for factor in (int(f) for f in args.factors.split(",")):
            path = Path(folder) / f"mnist_x{factor}.npy"
            stored = np.lib.format.open_memmap(
                path, mode="w+", dtype=np.float32, shape=(factor * len(X_train), 784)
            )
            for i in range(factor):
                stored[i * len(X_train) : (i + 1) * len(X_train)] = X_train
            stored.flush()
            del stored
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                run = pool.submit(_train_one_epoch, str(path), args.chunk_size).result()
            run.update(factor=factor, data_mb=path.stat().st_size / 2**20)
            results.append(run)
            path.unlink()
            print(
                f"{factor:>3}x: {run['data_mb']:8.0f} MB on disk, peak RSS "
                f"{run['peak_rss_mb']:6.0f} MB, one epoch {run['seconds']:.1f} s",
                flush=True,
            )
    table = ["| data | on disk (MB) | peak RSS (MB) | one epoch (s) |", "|---|---|---|---|"]
    table += [
        f"| {r['factor']}x MNIST | {r['data_mb']:.0f} | {r['peak_rss_mb']:.0f} | "
        f"{r['seconds']:.1f} |"
        for r in results
    ]
    print("\n" + "\n".join(table))
    (HERE / "OUT_OF_CORE.md").write_text(
        "# Out-of-core training: peak memory against data size\n\n"
        "Written by `SKDAE_DATA=../shared/data python benchmarks/bench_out_of_core.py`: one "
        "epoch of `partial_fit` over `skdae.chunks.iter_chunks(path, chunk_size="
        f"{args.chunk_size})` of MNIST's training images replicated into one float32 .npy "
        "file, each size in a fresh process (peak RSS: the process's VmHWM, which includes "
        "Python, torch and the model).\n\n" + "\n".join(table) + "\n"
    )
    Path(args.json).write_text(
        json.dumps({"chunk_size": args.chunk_size, "results": results}, indent=2) + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
