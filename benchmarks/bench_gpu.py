"""The GPU path, timed: the default dense network and the convolutional default on MNIST.

    SKDAE_DATA=... python benchmarks/bench_gpu.py --device cuda [--quick] [--variants]

Trains the dense default for 50 epochs (batch 128) and the convolutional default for
20, at ``matmul_precision='auto'`` (bfloat16 on GPUs that have it) and, for the dense
network, at float32 too, on the CUDA-graph path a fit takes on a GPU
(``skdae._cuda_graph``); then the eager path (graphs switched off, one launch per
kernel: what skdae did before) for fewer epochs, to time its steps. ``--variants``
also times the dense graph path without each of its refinements (Adam in pieces,
side streams, the ReLU epilogue) and without all three. Reports the training seconds
(the estimator's own ``epoch_times_``: the first epoch includes the warm-up and the
capture; one host synchronisation per epoch), the microseconds per step, the
denoised test PSNR, the throughput against the 2-core CPU figures of
``benchmarks/RESULTS.md`` (the last CPU run, read from that file) and the targets of
the GPU issue. Prints a table, writes JSON and a Markdown section for RESULTS.md.
"""

import argparse
import json
import platform
import re
import statistics
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Targets of the GPU issue, as ratios.
DENSE_SECONDS_TARGET = 1.0  # 50 epochs of the dense default
DENSE_SPEEDUP_TARGET = 50.0  # against the 2-core CPU
CONV_SPEEDUP_TARGET = 20.0
PSNR_TOLERANCE_DB = 0.1  # of the CPU path's
BATCH_SIZE = 128

# The --variants runs of the dense graphs: switches of skdae._cuda_graph each.
VARIANTS = {
    "dense_torch_adam": {"SPLIT_ADAM": False},
    "dense_one_stream": {"SIDE_STREAMS": False},
    "dense_no_relu_epilogue": {"FUSE_RELU": False},
    "dense_plain_graphs": {"SIDE_STREAMS": False, "FUSE_RELU": False, "SPLIT_ADAM": False},
}


def cpu_reference(results_md=HERE / "RESULTS.md"):
    """s/epoch and PSNR of the dense and conv defaults in the last CPU run."""
    rows = {}
    for line in results_md.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 6 and cells[0] in ("skdae", "skdae conv"):
            rows[cells[0]] = {"psnr": float(cells[2]), "epoch_seconds": float(cells[3])}
    match = re.search(r"^- Date: (.*)$", results_md.read_text(), re.M)
    return {"source": f"benchmarks/RESULTS.md ({match.group(1) if match else 'undated'})", **rows}


def _fit(estimator, data, *, graphs=True, switches=None):
    import torch

    import skdae._cuda_graph as cuda_graph

    saved = {name: getattr(cuda_graph, name) for name in ("ENABLED", *(switches or {}))}
    for name, value in {"ENABLED": graphs, **(switches or {})}.items():
        setattr(cuda_graph, name, value)
    cuda_graph.last_fit.clear()
    try:
        started = time.perf_counter()
        estimator.fit(data["X_train"])
        torch.cuda.synchronize() if estimator.device_.type == "cuda" else None
        wall = time.perf_counter() - started
    finally:
        for name, value in saved.items():
            setattr(cuda_graph, name, value)
    from _protocol import psnr

    denoised = estimator.predict(data["X_test_noisy"])
    steps = -(-len(data["X_train"]) // estimator.batch_size)
    median = float(statistics.median(estimator.epoch_times_[1:] or estimator.epoch_times_))
    return {
        "path": "graphs" if cuda_graph.last_fit.get("used") else "eager",
        "graphs": dict(cuda_graph.last_fit),
        "epochs": estimator.n_iter_,
        "train_seconds": float(sum(estimator.epoch_times_)),
        "first_epoch_seconds": float(estimator.epoch_times_[0]),
        "median_epoch_seconds": median,
        "step_microseconds": median / steps * 1e6,
        "fit_wall_seconds": wall,
        "psnr": psnr(data["X_test"], denoised),
        "matmul_precision": estimator.matmul_precision_,
    }


def run(device, *, quick, variants=False, eager_epochs=None):
    import torch
    from _protocol import load_data

    import skdae._cuda_graph as cuda_graph
    from skdae import ConvDenoisingAutoencoder, DenoisingAutoencoder, GaussianNoise

    data = load_data(quick=quick)
    noise = GaussianNoise(0.4, clip=(0, 1))
    dense_epochs, conv_epochs = (3, 2) if quick else (50, 20)
    eager_dense, eager_conv = (
        (2, 1) if quick else (eager_epochs or 10, max(2, (eager_epochs or 10) // 3))
    )

    def dense(epochs, precision="auto"):
        return DenoisingAutoencoder(
            corruption=noise,
            max_iter=epochs,
            device=device,
            matmul_precision=precision,
            random_state=0,
        )

    def conv(epochs):
        return ConvDenoisingAutoencoder(
            corruption=noise, max_iter=epochs, device=device, random_state=0
        )

    # Short fits first, on both paths: CUDA's context, cuBLAS handles and kernels load
    # once per process; what each fit pays again (its capture) stays in its figures.
    small = {"X_train": data["X_train"][:2000]}
    saved_minimum = cuda_graph.MIN_STEPS_PER_CAPTURED_STEP
    cuda_graph.MIN_STEPS_PER_CAPTURED_STEP = 0
    try:
        for graphs in (False, True):
            _fit(
                dense(2),
                small | {"X_test": small["X_train"], "X_test_noisy": small["X_train"]},
                graphs=graphs,
            )
            _fit(
                conv(1),
                small | {"X_test": small["X_train"], "X_test_noisy": small["X_train"]},
                graphs=graphs,
            )
    finally:
        cuda_graph.MIN_STEPS_PER_CAPTURED_STEP = saved_minimum
    rows = {
        "dense": _fit(dense(dense_epochs), data),
        "dense_float32": _fit(dense(dense_epochs, "float32"), data),
        "conv": _fit(conv(conv_epochs), data),
    }
    if variants:
        for name, switches in VARIANTS.items():
            rows[name] = _fit(dense(eager_dense), data, switches=switches)
    rows["dense_eager"] = _fit(dense(eager_dense), data, graphs=False)
    rows["conv_eager"] = _fit(conv(eager_conv), data, graphs=False)
    environment = {
        "device": device,
        "gpu": torch.cuda.get_device_name(device) if "cuda" in device else platform.processor(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "data": data["source"],
        "n_train": len(data["X_train"]),
        "quick": quick,
        "date": time.strftime("%Y-%m-%d"),
    }
    return {"environment": environment, "cpu": cpu_reference(), **rows}


def summarize(results):
    """The targets of the GPU issue, each met or not."""
    cpu = results["cpu"]
    dense, conv = results["dense"], results["conv"]
    checks = []
    if "skdae" in cpu:
        speedup = cpu["skdae"]["epoch_seconds"] / dense["median_epoch_seconds"]
        checks.append(
            (
                f"dense: {dense['epochs']} epochs' training seconds",
                dense["train_seconds"],
                f"<= {DENSE_SECONDS_TARGET}",
            )
        )
        checks.append(("dense: throughput / 2-core CPU", speedup, f">= {DENSE_SPEEDUP_TARGET}"))
        delta = dense["psnr"] - cpu["skdae"]["psnr"]
        checks.append(("dense: PSNR - CPU path's (dB)", delta, f">= -{PSNR_TOLERANCE_DB}"))
    if "skdae conv" in cpu:
        speedup = cpu["skdae conv"]["epoch_seconds"] / conv["median_epoch_seconds"]
        checks.append(("conv: throughput / 2-core CPU", speedup, f">= {CONV_SPEEDUP_TARGET}"))
        delta = conv["psnr"] - cpu["skdae conv"]["psnr"]
        checks.append(("conv: PSNR - CPU path's (dB)", delta, f">= -{PSNR_TOLERANCE_DB}"))
    met = {
        "<=": lambda value, goal: value <= goal,
        ">=": lambda value, goal: value >= goal,
    }
    return [
        {"target": name, "value": value, "goal": goal, "met": met[goal[:2]](value, float(goal[3:]))}
        for name, value, goal in checks
    ]


RUN_ORDER = (
    "dense",
    "dense_float32",
    "conv",
    *VARIANTS,
    "dense_eager",
    "conv_eager",
)


def markdown(results, checks):
    env = results["environment"]
    lines = [
        f"## GPU ({env['gpu']}, torch {env['torch']}, CUDA {env['cuda']}, {env['date']})",
        "",
        f"`python benchmarks/bench_gpu.py --device {env['device']}` on {env['data']} "
        f"({env['n_train']} training images{', quick mode' if env['quick'] else ''}). "
        f"CPU figures: {results['cpu']['source']}. 'graphs': the CUDA-graph path a fit "
        "takes on a GPU (skdae._cuda_graph); 'eager': the same fit with the graphs "
        "switched off, one launch per kernel, as before. Training seconds are the sum of "
        "epoch_times_ (the first epoch includes the warm-up and the capture); s/epoch "
        "and microseconds per step (batch 128) are the median of the later epochs.",
        "",
        "| run | path | epochs | training s | first epoch s | s/epoch | us/step | PSNR (dB) "
        "| products |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in RUN_ORDER:
        if name not in results:
            continue
        row = results[name]
        lines.append(
            f"| {name} | {row['path']} | {row['epochs']} | {row['train_seconds']:.2f} | "
            f"{row['first_epoch_seconds']:.3f} | {row['median_epoch_seconds']:.4f} | "
            f"{row['step_microseconds']:.0f} | {row['psnr']:.2f} | {row['matmul_precision']} |"
        )
    dense, eager = results["dense"], results.get("dense_eager")
    graphs = dense["graphs"]
    lines.append("")
    if dense["path"] == "graphs":
        lines.append(
            f"The dense fit captured {graphs.get('captured_steps')} steps in "
            f"{graphs.get('graphs')} graphs in {graphs.get('capture_seconds', 0):.3f} s "
            "(warm-up included)."
        )
    else:
        lines.append(f"The dense fit ran eagerly: {graphs.get('reason')}.")
    if eager:
        conv, conv_eager = results["conv"], results["conv_eager"]
        lines.append(
            f"Per step (median epoch), the dense fit took {dense['step_microseconds']:.0f} "
            f"microseconds ({dense['path']}), the eager path "
            f"{eager['step_microseconds']:.0f} "
            f"({eager['step_microseconds'] / dense['step_microseconds']:.1f}x); the conv "
            f"fit {conv['step_microseconds']:.0f} ({conv['path']}) against "
            f"{conv_eager['step_microseconds']:.0f} "
            f"({conv_eager['step_microseconds'] / conv['step_microseconds']:.1f}x)."
        )
    variants = [name for name in VARIANTS if name in results]
    if variants:
        described = {
            "dense_torch_adam": "with torch's Adam kernel given whole parameters",
            "dense_one_stream": "on one stream",
            "dense_no_relu_epilogue": "without the ReLU epilogue",
            "dense_plain_graphs": "with none of the three",
        }
        lines.append(
            f"The dense step's refinements, each left out in a fit of "
            f"{results[variants[0]]['epochs']} epochs: "
            + "; ".join(
                f"{described.get(name, name)} {results[name]['step_microseconds']:.0f}"
                for name in variants
            )
            + " microseconds a step."
        )
    steps = -(-env["n_train"] // BATCH_SIZE)
    budget = DENSE_SECONDS_TARGET / dense["epochs"] / steps * 1e6
    lines += [
        "",
        f"Where a graphed step's time goes: the {DENSE_SECONDS_TARGET:g} s target for "
        f"{dense['epochs']} epochs leaves {budget:.0f} microseconds a step ({steps} steps "
        f"an epoch); the graphed dense step takes {dense['step_microseconds']:.0f}. Its "
        "kernels run back to back (the host launches one graph per 25 steps), so what is "
        "left is the GPU's own time for some forty small kernels a step: matrix products "
        "of 128 rows, element-wise kernels and reductions, a few microseconds each, "
        "about a third of them on the side streams.",
    ]
    for path, kernels in results.get("profile", {}).items():
        lines.append(
            f"Costliest kernels per step ({path}, torch.profiler, 50-step epochs of 6400 "
            "rows): "
            + "; ".join(
                f"{k['kernel'][:40]} {k['per_step']:.0f} x {k['us']:.1f} us" for k in kernels
            )
            + "."
        )
    lines += ["", "| target | value | goal | met |", "|---|---|---|---|"]
    for check in checks:
        lines.append(
            f"| {check['target']} | {check['value']:.2f} | {check['goal']} | "
            f"{'yes' if check['met'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def profile_dense(device, path, n_rows=6400):
    """Where a dense step's device time goes: torch.profiler's kernel table for one
    eager epoch and two graphed ones of ``n_rows`` rows (50 steps each), written to
    ``path``; returns :func:`summarize_profile` of it."""
    import torch
    from _protocol import load_data
    from torch.profiler import ProfilerActivity, profile

    import skdae._cuda_graph as cuda_graph
    from skdae import DenoisingAutoencoder

    X = load_data(quick=False, n_train=n_rows, n_test=1)["X_train"]
    steps = -(-n_rows // BATCH_SIZE)
    sections = []
    for graphs, epochs in ((False, 1), (True, 2)):
        cuda_graph.ENABLED = graphs
        saved, cuda_graph.MIN_STEPS_PER_CAPTURED_STEP = cuda_graph.MIN_STEPS_PER_CAPTURED_STEP, 0
        try:
            estimator = DenoisingAutoencoder(max_iter=epochs, device=device, random_state=0)
            with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
                estimator.fit(X)
                torch.cuda.synchronize()
        finally:
            cuda_graph.ENABLED, cuda_graph.MIN_STEPS_PER_CAPTURED_STEP = True, saved
        table = prof.key_averages().table(sort_by="self_cuda_time_total", row_limit=30)
        sections.append(
            f"== {'graphs' if graphs else 'eager'}: {epochs} epoch(s) of {steps} steps, "
            f"epoch seconds {[round(t, 4) for t in estimator.epoch_times_]}\n{table}"
        )
    text = "\n\n".join(sections)
    Path(path).write_text(text)
    return summarize_profile(text)


def _microseconds(value):
    number = float(value.rstrip("mus"))
    return number * 1000 if value.endswith("ms") else number


def summarize_profile(text, top=8):
    """The costliest device kernels of each section of :func:`profile_dense`'s text:
    per step, how many launches and their mean microseconds. A graphed section's steps
    include the warm-up's (two)."""
    from skdae._cuda_graph import WARMUP_STEPS

    summary = {}
    for section in text.split("== ")[1:]:
        header = section.splitlines()[0]
        match = re.match(r"(\w+): (\d+) epoch\(s\) of (\d+) steps", header)
        path, epochs, steps = match.group(1), int(match.group(2)), int(match.group(3))
        steps_run = epochs * steps + (WARMUP_STEPS if path == "graphs" else 0)
        kernels = []
        for line in section.splitlines():
            cells = re.split(r"\s{2,}", line.strip())
            if len(cells) != 11 or cells[2] != "0.000us" or not cells[10].isdigit():
                continue  # not a kernel of the device (an operator, a heading)
            if cells[0].startswith(("Optimizer.", "Memcpy", "Lazy")):
                continue
            name = cells[0].removeprefix("void ").removesuffix("...")
            for noise in ("at::native::", "(anonymous namespace)::"):
                name = name.replace(noise, "")
            kernels.append(
                {
                    "kernel": name,
                    "per_step": int(cells[10]) / steps_run,
                    "us": _microseconds(cells[9]),
                }
            )
        summary[path] = kernels[:top]
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true", help="5k images, 3 and 2 epochs")
    parser.add_argument(
        "--variants", action="store_true", help="also time the dense graphs' variants"
    )
    parser.add_argument(
        "--eager-epochs", type=int, default=10, help="epochs of the eager dense fit (conv: a third)"
    )
    parser.add_argument("--json", default=str(HERE / "gpu.json"))
    parser.add_argument("--markdown", default=str(HERE / "GPU.md"))
    parser.add_argument(
        "--results-md",
        default=str(HERE / "RESULTS.md"),
        help="the page whose GPU section this run rewrites ('' to leave it alone)",
    )
    parser.add_argument(
        "--profile",
        help="write a kernel profile of the dense step there (with --from-json: read it)",
    )
    parser.add_argument(
        "--from-json",
        help="rewrite the Markdown (and RESULTS.md's section) from this run's JSON instead",
    )
    args = parser.parse_args(argv)
    if args.from_json:
        results = json.loads(Path(args.from_json).read_text())
        if args.profile:  # the profile that run wrote, summarised into its figures
            results["profile"] = summarize_profile(Path(args.profile).read_text())
            Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
        text = markdown(results, results["checks"])
        print(text)
        Path(args.markdown).write_text(text)
        if args.results_md and not results["environment"]["quick"]:
            replace_gpu_section(Path(args.results_md), text)
        return results
    results = run(
        args.device, quick=args.quick, variants=args.variants, eager_epochs=args.eager_epochs
    )
    checks = summarize(results)
    results["checks"] = checks
    text = markdown(results, checks)
    print(text)
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    Path(args.markdown).write_text(text)
    if args.results_md and not args.quick:
        replace_gpu_section(Path(args.results_md), text)
    if args.profile:  # last: the figures above are written whatever happens here
        try:
            results["profile"] = profile_dense(args.device, args.profile)
        except Exception as error:  # noqa: BLE001 - the benchmark matters more
            print("profile failed:", repr(error))
        else:
            text = markdown(results, checks)
            print(text[text.find("Where a graphed") :])
            Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
            Path(args.markdown).write_text(text)
            if args.results_md and not args.quick:
                replace_gpu_section(Path(args.results_md), text)
    return results


def replace_gpu_section(path, section):
    """Put ``section`` at the end of ``path`` in place of its GPU section, if any (the
    CPU part of the page is bench_mnist.py's, which keeps this section)."""
    text = path.read_text() if path.exists() else ""
    start = text.find("## GPU (")
    if start >= 0:
        text = text[:start].rstrip("\n") + "\n"
    path.write_text(text + "\n" + section)


if __name__ == "__main__":
    main()
