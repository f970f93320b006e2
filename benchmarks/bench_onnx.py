"""ONNX Runtime against skdae's own inference: the pretrained models, the same threads.

    SKDAE_DATA=../shared/data python benchmarks/bench_onnx.py          # full (a few minutes)
    SKDAE_DATA=../shared/data python benchmarks/bench_onnx.py --quick  # seconds

For each pretrained model (skdae.pretrained: the dense reference network and the two
convolutional ones) and for ``transform`` and ``predict``: rows per second of skdae and
of an onnxruntime session on the noisy MNIST test digits (repeated to --rows rows), with
torch and onnxruntime both limited to --threads threads (default 2, the CI machine's
cores); the latency of one row; the largest difference between the two outputs; and the
sizes of the ONNX files against the .skdae file. Throughput is the best of --repeats
runs. skdae's inference goes through its own blocks of 1024 rows; onnxruntime gets the
rows in blocks of --block rows (default the same 1024: the same memory, and what a
service batching its requests would do).

Prints a table, writes JSON (--json, default benchmarks/onnx.json) and the results page
(--results-md, default benchmarks/ONNX.md). Without full MNIST in $SKDAE_DATA/mnist/
the bundled sample is used (and said so).
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _protocol import environment, load_data, publish

HERE = Path(__file__).resolve().parent
MODELS = ("mnist-gaussian-0.4", "mnist-conv-gaussian-0.4", "mnist-conv-spatial-gaussian-0.4")
METHODS = ("transform", "predict")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rows and repeats")
    parser.add_argument("--rows", type=int, default=None, help="rows per run (20000; quick 2000)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per figure (5; quick 2)")
    parser.add_argument("--threads", type=int, default=2, help="torch's and onnxruntime's")
    parser.add_argument("--block", type=int, default=1024, help="rows per onnxruntime call")
    parser.add_argument("--models", default=",".join(MODELS), help="pretrained models, by name")
    parser.add_argument("--json", default=str(HERE / "onnx.json"))
    parser.add_argument("--results-md", default=str(HERE / "ONNX.md"), help="'' to skip")
    args = parser.parse_args(argv)
    args.rows = args.rows or (2000 if args.quick else 20_000)
    args.repeats = args.repeats or (2 if args.quick else 5)
    return args


def best_rows_per_second(fn, X, repeats):
    fn(X[:1024])  # warm up: kernels chosen, memory allocated
    best = min(_seconds(fn, X) for _ in range(repeats))
    return len(X) / best


def _seconds(fn, X):
    started = time.perf_counter()
    fn(X)
    return time.perf_counter() - started


def one_row_milliseconds(fn, X, calls):
    fn(X[:1])
    times = [_seconds(fn, X[i : i + 1]) for i in range(calls)]
    return 1000 * statistics.median(times)


def session(model, threads):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def in_blocks(runner, block):
    input_name = runner.get_inputs()[0].name

    def run(X):
        outputs = [
            runner.run(None, {input_name: X[start : start + block]})[0]
            for start in range(0, len(X), block)
        ]
        return np.concatenate(outputs)

    return run


def measure(name, X, args, folder):
    import onnx

    from skdae.onnx import to_onnx
    from skdae.pretrained import load_pretrained

    model = load_pretrained(name)
    rows = []
    for method in METHODS:
        graph = to_onnx(model, method)
        path = Path(folder) / f"{name}-{method}.onnx"
        onnx.save(graph, path)
        onnx_run = in_blocks(session(graph, args.threads), args.block)
        skdae_run = getattr(model, method)
        difference = float(np.max(np.abs(onnx_run(X[:2000]) - skdae_run(X[:2000]))))
        skdae_speed = best_rows_per_second(skdae_run, X, args.repeats)
        onnx_speed = best_rows_per_second(onnx_run, X, args.repeats)
        calls = 20 if args.quick else 200
        row = {
            "model": name,
            "estimator": type(model).__name__,
            "method": method,
            "rows": len(X),
            "skdae_rows_per_second": skdae_speed,
            "onnxruntime_rows_per_second": onnx_speed,
            "speedup": onnx_speed / skdae_speed,
            "skdae_one_row_ms": one_row_milliseconds(skdae_run, X, calls),
            "onnxruntime_one_row_ms": one_row_milliseconds(onnx_run, X, calls),
            "max_abs_difference": difference,
            "onnx_bytes": path.stat().st_size,
        }
        rows.append(row)
        print(
            f"  {name} {method}: skdae {skdae_speed:,.0f} rows/s, onnxruntime "
            f"{onnx_speed:,.0f} rows/s, max |difference| {difference:.1e}",
            flush=True,
        )
    # The .skdae file the ONNX files are set against: the same model, saved as shipped.
    skdae_file = Path(folder) / f"{name}.skdae"
    model.save(skdae_file, include_optimizer=False)
    for row in rows:
        row["skdae_bytes"] = skdae_file.stat().st_size
    return rows


def markdown(payload):
    env = payload["environment"]
    lines = ["# ONNX Runtime against skdae's inference", "", f"Command: `{payload['command']}`"]
    lines += [
        "",
        f"- Machine: {env['cpu']}, {env['cores']} cores; "
        + ", ".join(f"{name} {version}" for name, version in env["versions"].items()),
        f"- Threads: {payload['threads']} for torch and for onnxruntime; onnxruntime fed "
        f"{payload['block']}-row blocks; best of {payload['repeats']} runs of "
        f"{payload['rows']:,} rows",
        f"- MNIST: {payload['mnist_source']} (noisy test digits, repeated)",
        "",
        "| model | method | skdae rows/s | onnxruntime rows/s | speed-up | skdae 1 row (ms) "
        "| onnxruntime 1 row (ms) | max abs difference | ONNX file (bytes) | .skdae file (bytes) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['model']} | {r['method']} | {r['skdae_rows_per_second']:,.0f} | "
        f"{r['onnxruntime_rows_per_second']:,.0f} | {r['speedup']:.2f}x | "
        f"{r['skdae_one_row_ms']:.2f} | {r['onnxruntime_one_row_ms']:.2f} | "
        f"{r['max_abs_difference']:.1e} | {r['onnx_bytes']:,} | {r['skdae_bytes']:,} |"
        for r in payload["results"]
    ]
    lines += [
        "",
        "skdae pads every inference block to 1024 rows (so that a row's output does not "
        "depend on the rows that came with it): one row costs it a whole block, where "
        "onnxruntime computes the one row.",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    command = "python benchmarks/bench_onnx.py " + " ".join(sys.argv[1:] if argv is None else argv)
    import torch

    torch.set_num_threads(args.threads)
    data = load_data(quick=args.quick)
    X = np.resize(data["X_test_noisy"], (args.rows, 784)).astype(np.float32)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.models.split(","):
            results += measure(name, X, args, folder)
    payload = {
        "command": command.strip(),
        "quick": args.quick,
        "mnist_source": data["source"],
        "rows": args.rows,
        "repeats": args.repeats,
        "threads": args.threads,
        "block": args.block,
        "environment": _environment(),
        "results": results,
    }
    text = markdown(payload)
    publish(payload, text, args.json, args.results_md)
    return 0


def _environment():
    import onnx
    import onnxruntime
    import skl2onnx

    env = environment()
    env["versions"].update(
        onnx=onnx.__version__,
        onnxruntime=onnxruntime.__version__,
        skl2onnx=skl2onnx.__version__,
    )
    return env


if __name__ == "__main__":
    sys.exit(main())
