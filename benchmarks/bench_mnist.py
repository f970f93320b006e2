"""Benchmark skdae against the reference systems on MNIST, in one run, on the same data.

    SKDAE_DATA=../shared/data python benchmarks/bench_mnist.py            # full (~40 min)
    SKDAE_DATA=../shared/data python benchmarks/bench_mnist.py --quick    # a few minutes

Prints a table, writes JSON (--json, default benchmarks/results.json) and rewrites
benchmarks/RESULTS.md (--results-md) with the table, the targets, the machine, the
versions and the command. Every system runs in a fresh process, one after the other, so
that peak memory is its own and no two compete for the cores. Without full MNIST in
$SKDAE_DATA/mnist/ the bundled sample is used (and said so).
"""

import argparse
import json
import math
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from _floor import cpu_features, default_epoch_gflop, measure_floor
from _protocol import (
    environment,
    load_data,
    median_epoch_seconds,
    peak_rss_mb,
    reset_peak_rss,
    time_to_target,
)
from _systems import CONV_DENOISING_SETTING, time_limit

HERE = Path(__file__).resolve().parent

BATCH_SIZE = 128  # skdae's default batch, and the Keras tutorial's
KERAS_REFERENCE_EPOCHS = 10  # the quality a "time to quality" is measured against
FALLBACK_TARGET_DB = 18.5  # Keras's 10-epoch PSNR on this machine kind, per the issue

ALL_SYSTEMS = (
    "noisy",
    "skdae",
    "skdae_float32",
    "keras",
    "torch",
    "torch_glorot",
    "mlp",
    "pca",
    "kernel_pca",
    "downstream",
    "inference",
    "profile",
    "profile_float32",
    "max_iter_sweep",
    "max_iter_sweep_float32",
    "skdae_conv",
    "skdae_conv_spatial",
    "skdae_conv_denoising",
    "skdae_conv_features",
    "keras_conv",
    "other_images",
)
CONV_QUALITY_BUDGET_SECONDS = 600  # issue 14: "within 10 minutes of training on 2 cores"


def plan(args):
    """Which system runs with which settings, in this order."""
    e = args.epochs
    return {
        "noisy": ("run_noisy_input", {}),
        "skdae": ("run_skdae", {"epochs": e}),
        "skdae_float32": ("run_skdae", {"epochs": e, "matmul_precision": "float32"}),
        "keras": ("run_keras", {"epochs": e}),
        "torch": ("run_torch_loop", {"epochs": e}),
        "torch_glorot": ("run_torch_loop", {"epochs": e, "glorot": True}),
        "mlp": ("run_mlp_regressor", {"epochs": args.mlp_epochs}),
        "pca": ("run_pca", {}),
        "kernel_pca": ("run_kernel_pca", {"n_fit": args.kernel_pca_fit}),
        "downstream": ("run_downstream", {"epochs": e}),
        "inference": ("run_inference", {"n_rows": args.inference_rows}),
        "profile": ("run_profile", {}),
        "profile_float32": ("run_profile", {"matmul_precision": "float32"}),
        "max_iter_sweep": ("run_max_iter_sweep", {"max_iters": args.max_iters}),
        "max_iter_sweep_float32": (
            "run_max_iter_sweep",
            {"max_iters": args.max_iters, "matmul_precision": "float32"},
        ),
        "skdae_conv": ("run_skdae_conv", {"epochs": args.conv_epochs}),
        "skdae_conv_spatial": (
            "run_skdae_conv",
            {"epochs": args.conv_epochs, "latent_dim": None},
        ),
        "skdae_conv_denoising": (
            "run_skdae_conv",
            {
                "epochs": args.conv_denoising_epochs,
                "setting": CONV_DENOISING_SETTING,
                "budget": CONV_QUALITY_BUDGET_SECONDS,
            },
        ),
        "skdae_conv_features": (
            "run_skdae_conv",
            {"epochs": args.conv_features_epochs, "preset": "conv_features"},
        ),
        "keras_conv": ("run_keras_conv", {"epochs": args.keras_conv_epochs}),
        "other_images": (
            "run_other_images",
            {"n_train": args.other_images_train, "n_test": args.other_images_test},
        ),
    }


def _run_isolated(function_name, kwargs, data_kwargs):
    """Runs in a child process: load the data, run one system, add its peak memory."""
    import _inference
    import _other_images
    import _profile
    import _systems

    reset_peak_rss()
    data = load_data(**data_kwargs)
    function = next(
        getattr(module, function_name)
        for module in (_systems, _inference, _profile, _other_images)
        if hasattr(module, function_name)
    )
    started = time.perf_counter()
    result = function(data, **kwargs)
    result.pop("_model", None)
    result["wall_seconds"] = time.perf_counter() - started
    result["peak_rss_mb"] = peak_rss_mb()
    result["data_source"] = data["source"]
    result["n_train"], result["n_test"] = len(data["X_train"]), len(data["X_test"])
    return result


def run_all(args):
    data_kwargs = {"quick": args.quick, "n_train": args.n_train, "n_test": args.n_test}
    context = multiprocessing.get_context("spawn")
    results = {}
    for key in args.systems:
        function_name, kwargs = plan(args)[key]
        print(f"[{time.strftime('%H:%M:%S')}] running {key} ...", flush=True)
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            results[key] = pool.submit(_run_isolated, function_name, kwargs, data_kwargs).result()
    return results


def summarize(results, args, floor=None):
    """Derived figures: epoch medians, time to the Keras target, the float32 epoch
    against the machine's matmul floor (``floor``, from :func:`_floor.measure_floor`),
    and the targets."""
    keras = results.get("keras", {})
    target = None
    if keras.get("epoch_psnr") and len(keras["epoch_psnr"]) >= KERAS_REFERENCE_EPOCHS:
        target = keras["epoch_psnr"][KERAS_REFERENCE_EPOCHS - 1]
    target_db = target if target is not None else FALLBACK_TARGET_DB
    for result in results.values():
        if "epoch_seconds" in result:
            result["median_epoch_seconds"] = median_epoch_seconds(result["epoch_seconds"])
            result["seconds_to_target"] = time_to_target(
                result["epoch_seconds"], result["epoch_psnr"], target_db
            )
    summary = {
        "psnr_target_db": target_db,
        "psnr_target_source": "Keras after 10 epochs" if target else "fixed 18.5 dB",
    }
    checks = []

    def ratio(a, b):
        return a / b if a is not None and b else None

    ours = results.get("skdae")
    if ours and keras.get("epoch_seconds"):
        checks += [
            (
                "skdae: time to Keras's 10-epoch PSNR / Keras's time",
                "<= 0.333",
                ratio(ours["seconds_to_target"], keras["seconds_to_target"]),
                lambda v: v <= 1 / 3,
            ),
            (
                "skdae: seconds per epoch / Keras's",
                "<= 0.55",
                ratio(ours["median_epoch_seconds"], keras["median_epoch_seconds"]),
                lambda v: v <= 0.55,
            ),
            (
                f"skdae: PSNR - Keras PSNR after {args.epochs} epochs (dB)",
                ">= 0.5 (at 50 epochs)",
                ours["test_psnr"] - keras["test_psnr"],
                lambda v: v >= 0.5,
            ),
        ]
    float32 = results.get("skdae_float32")
    if floor and float32 and float32.get("median_epoch_seconds"):
        gflop = default_epoch_gflop(float32["n_train"])
        summary["float32_epoch_gflop"] = gflop
        summary["float32_floor_seconds"] = gflop / floor["float32"]
        alone = floor.get("products_alone_seconds_per_batch", {}).get("float32")
        if alone:
            summary["float32_products_alone_seconds"] = alone * math.ceil(
                float32["n_train"] / BATCH_SIZE
            )
        if keras.get("median_epoch_seconds"):
            checks.append(
                (
                    "skdae float32: seconds per epoch / Keras's",
                    "<= 0.5",
                    float32["median_epoch_seconds"] / keras["median_epoch_seconds"],
                    lambda v: v <= 0.5,
                )
            )
        checks.append(
            (
                "skdae float32: epoch at the float32 matmul floor / its actual epoch",
                ">= 0.70",
                summary["float32_floor_seconds"] / float32["median_epoch_seconds"],
                lambda v: v >= 0.70,
            )
        )
    down = results.get("downstream")
    if down and "skdae_features_codes" in down:
        codes = down["skdae_features_codes"]
        checks += [
            (
                "LR on skdae codes ('features' preset), clean test accuracy",
                ">= 0.96",
                codes["clean"],
                lambda v: v >= 0.96,
            ),
            (
                "LR on skdae codes ('features' preset), noisy test accuracy",
                ">= 0.90",
                codes["noisy"],
                lambda v: v >= 0.90,
            ),
        ]
    inference = results.get("inference")
    if inference:
        checks += [
            (
                "transform rows/s",
                ">= 100000",
                inference["transform_rows_per_second"],
                lambda v: v >= 1e5,
            ),
            (
                "predict rows/s",
                ">= 100000",
                inference["predict_rows_per_second"],
                lambda v: v >= 1e5,
            ),
            (
                f"predict on {inference['memory_rows']:,} rows: peak memory beyond input + "
                "output (MB)",
                "<= 200",
                inference["predict_overhead_mb"],
                lambda v: v <= 200,
            ),
        ]
    checks += _max_iter_checks(results, keras, target_db)
    checks += _conv_checks(results)
    summary["targets"] = [
        {
            "target": name,
            "goal": goal,
            "value": value,
            "met": None if value is None else bool(test(value)),
        }
        for name, goal, value, test in checks
    ]
    return summary


def _max_iter_checks(results, keras, target_db):
    """Issue 16: a user's short fit (max_iter) against Keras's 10 epochs, and setup."""
    checks = []
    keras_seconds = keras.get("epoch_seconds") or []
    keras_10 = sum(keras_seconds[:KERAS_REFERENCE_EPOCHS])
    for key in ("max_iter_sweep", "max_iter_sweep_float32"):
        sweep = results.get(key)
        if not sweep:
            continue
        label = "skdae" if key == "max_iter_sweep" else "skdae float32"
        reaching = [f for f in sweep["fits"] if f["test_psnr"] >= target_db]
        best = min(reaching, key=lambda f: f["max_iter"]) if reaching else None
        sweep["smallest_max_iter_reaching_target"] = best and best["max_iter"]
        if len(keras_seconds) >= KERAS_REFERENCE_EPOCHS:
            checks.append(
                (
                    f"{label}: fit of the smallest max_iter reaching Keras's 10-epoch PSNR "
                    f"(max_iter={best and best['max_iter']}) / Keras's 10-epoch time",
                    "<= 0.333",
                    best and best["fit_seconds"] / keras_10,
                    lambda v: v <= 1 / 3,
                )
            )
        if keras.get("epoch_seconds") and keras.get("test_psnr") is not None:
            to_final = [f for f in sweep["fits"] if f["test_psnr"] >= keras["test_psnr"]]
            first = min(to_final, key=lambda f: f["max_iter"]) if to_final else None
            checks.append(
                (
                    f"{label}: fit of the smallest max_iter reaching Keras's final PSNR "
                    f"(max_iter={first and first['max_iter']}) / Keras's whole training time",
                    "<= 0.1",
                    first and first["fit_seconds"] / sum(keras_seconds),
                    lambda v: v <= 0.1,
                )
            )
        setup = sorted(f["setup_seconds"] for f in sweep["fits"])
        checks.append(
            (
                f"{label}: setup around the epochs of a fit (median over the sweep, s)",
                "<= 0.3",
                setup[len(setup) // 2],
                lambda v: v <= 0.3,
            )
        )
    ours = results.get("skdae")
    if ours and keras.get("epoch_seconds"):
        seconds = time_to_target(ours["epoch_seconds"], ours["epoch_psnr"], keras["test_psnr"])
        checks.append(
            (
                "skdae: time to Keras's final PSNR along its own 50-epoch run / Keras's whole "
                "training time",
                "<= 0.1",
                seconds / sum(keras["epoch_seconds"]) if seconds is not None else None,
                lambda v: v <= 0.1,
            )
        )
    return checks


def _conv_checks(results):
    """Issue 14's targets for the convolutional estimator (issue 27: the 22.5 dB goal
    of the spatial code is read off the documented denoising setting when it ran, the
    codes' goal off the 'conv_features' preset when it ran)."""
    checks = []
    dense = results.get("skdae")
    conv, spatial = results.get("skdae_conv"), results.get("skdae_conv_spatial")
    denoising = results.get("skdae_conv_denoising") or spatial
    features = results.get("skdae_conv_features") or conv
    keras_conv = results.get("keras_conv", {})
    budget = CONV_QUALITY_BUDGET_SECONDS
    for result, goal in ((denoising, 22.5), (conv, 21.5)):
        if not result or "epoch_psnr" not in result:
            continue
        within = [
            p
            for p, t in zip(result["epoch_psnr"], _cumulative(result["epoch_seconds"]), strict=True)
            if t <= budget
        ]
        checks.append(
            (
                f"{result['system']}: best test PSNR within {budget} s of training (dB)",
                f">= {goal}",
                max(within) if within else None,
                lambda v, goal=goal: v >= goal,
            )
        )
    if dense and dense.get("epoch_seconds"):
        for result in (spatial, conv):
            if not result or "epoch_psnr" not in result:
                continue
            seconds = time_to_target(
                result["epoch_seconds"], result["epoch_psnr"], dense["test_psnr"]
            )
            result["seconds_to_dense_psnr"] = seconds
            checks.append(
                (
                    f"{result['system']}: time to the dense default's final PSNR / the dense "
                    "default's training time",
                    "< 1",
                    seconds / sum(dense["epoch_seconds"]) if seconds is not None else None,
                    lambda v: v < 1,
                )
            )
    if conv and keras_conv.get("epoch_seconds"):
        checks.append(
            (
                "skdae conv: seconds per epoch / the Keras conv example's",
                "<= 0.6",
                conv["median_epoch_seconds"] / keras_conv["median_epoch_seconds"],
                lambda v: v <= 0.6,
            )
        )
    if features and "codes_accuracy" in features:
        for split, goal in (("clean", 0.97), ("noisy", 0.94)):
            checks.append(
                (
                    f"LR on {features['system']} 64-d codes, {split} test accuracy",
                    f">= {goal}",
                    features["codes_accuracy"][split],
                    lambda v, goal=goal: v >= goal,
                )
            )
    if conv and "predict_rows_per_second" in conv:
        checks.append(
            (
                "skdae conv: predict rows/s",
                ">= 20000",
                conv["predict_rows_per_second"],
                lambda v: v >= 20000,
            )
        )
    for comparison in results.get("other_images", {}).get("comparisons", []):
        checks.append(
            (
                f"28x28 photograph crops, at the length of {comparison['budget']}: conv "
                "defaults' PSNR - dense defaults' (dB)",
                "> 0",
                comparison["conv_minus_dense_db"],
                lambda v: v > 0,
            )
        )
    return checks


def _cumulative(values):
    total, out = 0.0, []
    for value in values:
        total += value
        out.append(total)
    return out


def _other_images_table(other):
    """The dense and convolutional defaults on 28x28 crops of photographs, at equal
    training time."""
    if not other:
        return []
    if "skipped" in other:
        return ["", f"28x28 photograph crops: skipped ({other['skipped']})."]
    lines = [
        "",
        f"Other 28x28 images: {other['source']} ({other['crops_train']:,} training crops of "
        f"some photographs, {other['crops_test']:,} test crops of others; the same noise, "
        f"{other['noisy_psnr']:.2f} dB before denoising). Each estimator at its defaults; "
        "at each budget the one whose default fit set it, and the other fitted for as "
        "many epochs as fit in that time:",
        "",
        "| budget | s | dense: epochs, s, PSNR | conv: epochs, s, PSNR | conv - dense (dB) |",
        "|---|---|---|---|---|",
    ]
    for c in other["comparisons"]:
        cells = [
            f"{c[kind]['max_iter']}, {c[kind]['training_seconds']:.0f} s, "
            f"{c[kind]['test_psnr']:.2f}"
            for kind in ("dense", "conv")
        ]
        lines.append(
            f"| {c['budget']} | {c['budget_seconds']:.0f} | {cells[0]} | {cells[1]} | "
            f"{c['conv_minus_dense_db']:+.2f} |"
        )
    return lines


def format_tables(results, summary, floor=None):
    lines = [
        "| system | test MSE | test PSNR (dB) | s/epoch | s to target | peak MB |",
        "|---|---|---|---|---|---|",
    ]
    for result in results.values():
        if "test_psnr" not in result and "skipped" not in result:
            continue
        if "skipped" in result:
            lines.append(f"| {result['system']} | skipped: {result['skipped']} | | | | |")
            continue
        lines.append(
            f"| {result['system']} | {result['test_mse']:.5f} | {result['test_psnr']:.2f} | "
            f"{_fmt(result.get('median_epoch_seconds'), '.2f')} | "
            f"{_fmt(result.get('seconds_to_target'), '.1f')} | {result['peak_rss_mb']:.0f} |"
        )
    ours = results.get("skdae", {})
    if ours.get("matmul_precision"):
        lines += [
            "",
            f"skdae's defaults ran their matrix products in {ours['matmul_precision']} "
            "here (`matmul_precision='auto'`); the `matmul_precision='float32'` row, "
            "when run, is the same model with full float32 products.",
        ]
    down = results.get("downstream")
    if down:
        lines += [
            "",
            f"Downstream classification ({down['classifier']}), accuracy:",
            "",
            "| features | clean test | noisy test |",
            "|---|---|---|",
        ]
        for key, label in (
            ("raw_pixels", "raw pixels"),
            ("pca64_codes", "PCA(64) codes"),
            ("skdae_codes", "skdae 64-d codes (defaults)"),
            ("skdae_features_codes", "skdae 64-d codes ('features' preset)"),
        ):
            lines.append(f"| {label} | {down[key]['clean']:.4f} | {down[key]['noisy']:.4f} |")
        lines += [
            f"| raw-pixel LR on skdae-denoised noisy digits (defaults) | | "
            f"{down['raw_pixels_on_skdae_denoised_noisy']:.4f} |",
            "",
            f"The 'features' preset (`skdae.presets.make_preset('features')`) trained in "
            f"{down['skdae_features_fit_seconds']:.0f} s; it denoises the noisy test set "
            f"to {down['skdae_features_psnr']:.2f} dB, below the defaults: it is tuned "
            "for codes, not reconstructions.",
        ]
    for key in ("max_iter_sweep", "max_iter_sweep_float32"):
        sweep = results.get(key)
        if sweep:
            lines += [
                "",
                f"Short fits, {sweep['system']}: each `max_iter` a fit of its own (its whole "
                "schedule); setup is the fit's time outside its epochs. Before them, the "
                f"process built its first torch optimizer in "
                f"{sweep.get('first_optimizer_seconds', float('nan')):.2f} s (torch.optim "
                "imports torch._dynamo once per process; a process's first fit pays it):",
                "",
                "| max_iter | test PSNR (dB) | fit s | setup s |",
                "|---|---|---|---|",
            ]
            lines += [
                f"| {f['max_iter']} | {f['test_psnr']:.2f} | {f['fit_seconds']:.2f} | "
                f"{f['setup_seconds']:.2f} |"
                for f in sweep["fits"]
            ]
    conv_rows = [
        results[key]
        for key in (
            "skdae_conv",
            "skdae_conv_spatial",
            "skdae_conv_denoising",
            "skdae_conv_features",
            "keras_conv",
        )
        if results.get(key, {}).get("epoch_psnr")
    ]
    if conv_rows:
        lines += [
            "",
            "Convolutional networks, test PSNR (dB) after each epoch and cumulated training "
            "seconds:",
            "",
            "| system | " + " | ".join(r["system"] for r in conv_rows) + " |",
            "|---" * (len(conv_rows) + 1) + "|",
        ]
        for epoch in range(max(len(r["epoch_psnr"]) for r in conv_rows)):
            cells = []
            for r in conv_rows:
                if epoch < len(r["epoch_psnr"]):
                    elapsed = _cumulative(r["epoch_seconds"])[epoch]
                    cells.append(f"{r['epoch_psnr'][epoch]:.2f} ({elapsed:.0f} s)")
                else:
                    cells.append("")
            lines.append(f"| epoch {epoch + 1} | " + " | ".join(cells) + " |")
        lines.append("")
        for r in conv_rows:
            if "predict_rows_per_second" not in r:
                continue
            codes = ""
            if "codes_accuracy" in r:
                acc = r["codes_accuracy"]
                codes = (
                    f"LR on its 64-d codes {acc['clean']:.4f} clean, {acc['noisy']:.4f} "
                    "noisy test accuracy; "
                )
            lines.append(
                f"- {r['system']}: {r['n_parameters']:,} parameters; {codes}predict "
                f"{r['predict_rows_per_second']:,.0f} rows/s."
            )
    lines += _other_images_table(results.get("other_images"))
    inference = results.get("inference")
    if inference:
        lines += [
            "",
            "Inference (skdae, default network):",
            "",
            "| measure | value |",
            "|---|---|",
            f"| transform rows/s | {inference['transform_rows_per_second']:,.0f} |",
            f"| predict rows/s | {inference['predict_rows_per_second']:,.0f} |",
            f"| predict on {inference['memory_rows']:,} rows: peak beyond input + output | "
            f"{inference['predict_overhead_mb']:.0f} MB |",
        ]
    for profile in (results.get("profile"), results.get("profile_float32")):
        if not profile:
            continue
        lines += [
            "",
            f"Where one skdae epoch goes, `matmul_precision='"
            f"{profile['requested_precision']}'` (torch.profiler, self CPU time; the profiled "
            f"epoch took {profile['epoch_seconds_profiled']:.2f} s, "
            f"{profile['epoch_seconds_unprofiled']:.2f} s without the profiler). The "
            f"matrix products ({profile.get('matmul_precision', 'float32')}), "
            f"{profile['matmul_gflop']:.0f} GFLOP an epoch, ran at "
            f"{profile['matmul_gflop_per_second']:.0f} GFLOP/s in "
            f"{profile['matmul_seconds']:.2f} s:",
            "",
            "| op | self seconds | share | calls |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| `{op['op']}` | {op['self_seconds']:.3f} | {op['share']:.1%} | {op['calls']} |"
            for op in profile["top_ops"]
        ]
    if "float32_floor_seconds" in summary:
        lines += [
            "",
            f"The float32 matmul floor of this machine (torch's {floor['size']}x"
            f"{floor['size']} product, this run): {floor['float32']:.0f} GFLOP/s"
            + (
                f" (bfloat16: {floor['bfloat16']:.0f} GFLOP/s)"
                if "bfloat16" in floor
                else " (no bfloat16 hardware)"
            )
            + f". A float32 epoch of the default network does "
            f"{summary['float32_epoch_gflop']:.0f} GFLOP of products: "
            f"{summary['float32_floor_seconds']:.2f} s at the floor.",
        ]
        if "float32_products_alone_seconds" in summary:
            alone = summary["float32_products_alone_seconds"]
            lines[-1] += (
                f" The same products timed alone, batch after batch of {BATCH_SIZE} with "
                f"nothing between them, take {alone:.2f} s: "
                f"{summary['float32_floor_seconds'] / alone:.0%} of the floor's speed, "
                "the most any epoch of this network at this batch size can reach before "
                "its other work (Adam, the noise, the element-wise steps) is counted."
            )
    lines += [
        "",
        f"PSNR target for 'time to target': {summary['psnr_target_db']:.2f} dB "
        f"({summary['psnr_target_source']}).",
        "",
        "| target | goal | value | met |",
        "|---|---|---|---|",
    ]
    for t in summary["targets"]:
        met = {True: "yes", False: "**no**", None: "n/a"}[t["met"]]
        lines.append(f"| {t['target']} | {t['goal']} | {_fmt(t['value'], '.4g')} | {met} |")
    return "\n".join(lines)


def _fmt(value, spec):
    return "-" if value is None else format(value, spec)


def _features_line(features):
    """'AVX2 yes, AVX-512 no, ...': which kind of CPU the figures come from."""
    names = {
        "avx2": "AVX2",
        "avx512f": "AVX-512",
        "avx512_bf16": "AVX512-BF16",
        "amx_bf16": "AMX-BF16",
        "native_bfloat16": "bfloat16 products in hardware",
    }
    yes_no = ", ".join(f"{names[k]} {'yes' if v else 'no'}" for k, v in features.items())
    return yes_no or "CPU features unknown"


def write_results_md(path, table, env, command, args):
    mode = "quick" if args.quick else "full"
    budget = CONV_QUALITY_BUDGET_SECONDS
    denoising_epochs = (
        args.conv_denoising_epochs
        or f"for {budget} s of training (max_time={time_limit(budget):g})"
    )
    text = f"""# Benchmark results

Written by `benchmarks/bench_mnist.py`; rerun it to refresh this page.

- Command: `{command}`
- Mode: {mode} ({args.epochs} epochs; MLPRegressor {args.mlp_epochs} epochs; \
KernelPCA fitted on {args.kernel_pca_fit} images; skdae conv {args.conv_epochs} epochs \
(its denoising setting {denoising_epochs}, its 'conv_features' preset \
{args.conv_features_epochs}), the Keras conv example {args.keras_conv_epochs}; short fits \
with max_iter \
{", ".join(map(str, args.max_iters))})
- Machine: {env["cpu"]}, {env["cores"]} cores, torch threads {env["torch_threads"]}; \
{_features_line(env.get("cpu_features", {}))}
- Versions: {", ".join(f"{k} {v}" for k, v in env["versions"].items())}
- Date: {time.strftime("%Y-%m-%d")}

Protocol: MNIST, pixels / 255, flattened; Gaussian noise std 0.4 clipped to [0, 1],
drawn once with a fixed seed for the test set; MSE and PSNR (data range 1) of the
denoised test set against the clean one. Seconds per epoch: median of the epochs after
the first; "s to target": training seconds (evaluation excluded) until the test PSNR
first reaches the target (for skdae, the estimator's own `epoch_times_`, which leave out
the input validation that each `partial_fit` call repeats and `fit` does once). Keras,
the hand-written PyTorch loop and MLPRegressor draw the
training noise once, as the Keras tutorial does; skdae draws it afresh every epoch.
PCA and KernelPCA are fitted on clean training images.

{table}
"""
    # The GPU section is written by bench_gpu.py on a GPU machine: kept as it is.
    previous = Path(path).read_text() if Path(path).exists() else ""
    gpu = previous.find(GPU_SECTION)
    if gpu >= 0:
        text += "\n" + previous[gpu:]
    Path(path).write_text(text)


GPU_SECTION = "## GPU ("


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5k/1k images, 3 epochs")
    parser.add_argument(
        "--systems",
        default=",".join(ALL_SYSTEMS),
        help=f"comma-separated subset of {','.join(ALL_SYSTEMS)}",
    )
    parser.add_argument("--epochs", type=int, default=None, help="default 50 (quick: 3)")
    parser.add_argument("--n-train", type=int, default=None)
    parser.add_argument("--n-test", type=int, default=None)
    parser.add_argument(
        "--inference-rows",
        type=int,
        default=None,
        help="rows for the predict memory test (default 1M; quick: 100k)",
    )
    parser.add_argument(
        "--conv-epochs",
        type=int,
        default=None,
        help="epochs of skdae conv at its defaults (default: its max_iter; quick: 2)",
    )
    parser.add_argument(
        "--keras-conv-epochs",
        type=int,
        default=None,
        help="epochs of the Keras conv example (default 5; quick: 2)",
    )
    parser.add_argument("--json", default=str(HERE / "results.json"))
    parser.add_argument(
        "--results-md", default=str(HERE / "RESULTS.md"), help="'' to leave RESULTS.md alone"
    )
    args = parser.parse_args(argv)
    args.systems = [s for s in args.systems.split(",") if s]
    unknown = set(args.systems) - set(ALL_SYSTEMS)
    if unknown:
        parser.error(f"unknown systems {sorted(unknown)}; choose from {ALL_SYSTEMS}")
    args.epochs = args.epochs or (3 if args.quick else 50)
    args.mlp_epochs = min(args.epochs, 10)  # ~15 s/epoch on 2 cores: 10 keeps the run sane
    args.kernel_pca_fit = 1000 if args.quick else 5000
    args.inference_rows = args.inference_rows or (100_000 if args.quick else 1_000_000)
    from skdae import ConvDenoisingAutoencoder
    from skdae.presets import make_preset

    # The estimators' own max_iter: each trained as fit would train it.
    conv_default_epochs = ConvDenoisingAutoencoder().max_iter
    args.conv_epochs = args.conv_epochs or (2 if args.quick else conv_default_epochs)
    args.conv_features_epochs = 2 if args.quick else make_preset("conv_features").max_iter
    # None: the 22.5 dB goal's ten minutes on this machine (max_time).
    args.conv_denoising_epochs = 2 if args.quick else None
    # The Keras conv example runs about a minute an epoch on 2 cores: a few epochs give
    # its seconds per epoch; its quality is not a target.
    args.keras_conv_epochs = args.keras_conv_epochs or (2 if args.quick else 5)
    args.max_iters = (1, 2) if args.quick else (3, 5, 7, 10, 12, 15)
    args.other_images_train = 2000 if args.quick else 60_000
    args.other_images_test = 500 if args.quick else 10_000
    return args


def main(argv=None):
    args = parse_args(argv)
    command = "python benchmarks/bench_mnist.py " + " ".join(sys.argv[1:] if argv is None else argv)
    env = environment()
    # Measured first, while this process has the machine to itself.
    floor = measure_floor(quick=args.quick)
    env.update(cpu_features=cpu_features(), matmul_floor_gflops=floor)
    results = run_all(args)
    summary = summarize(results, args, floor)
    table = format_tables(results, summary, floor)
    print()
    print(table)
    payload = {
        "command": command,
        "quick": args.quick,
        "epochs": args.epochs,
        "environment": env,
        "summary": summary,
        "results": results,
    }
    Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
    if args.results_md:
        write_results_md(args.results_md, table, env, command.strip(), args)
    print(f"\nWrote {args.json}" + (f" and {args.results_md}" if args.results_md else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
