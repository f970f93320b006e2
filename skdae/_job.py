"""The main job: train a DAE, measure it, and write the model, metrics, figures and report.

``cli.py`` parses arguments and calls these functions; everything here is plain Python
that a notebook can call too.
"""

import json
import platform
import time
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdae._files import check_output_folder, reporting_write_errors, staged_folder
from skdae._io import read_array
from skdae._network import count_parameters
from skdae._noise_spec import parse_noise_spec
from skdae._version import __version__
from skdae.datasets import load_mnist
from skdae.datasets._sample import SAMPLE_SOURCE
from skdae.exceptions import DataFileError
from skdae.metrics import denoising_report

MODEL_FILE = "model.skdae"  # the pickle-free format: safe to share
METRICS_FILE = "metrics.json"
REPORT_FILE = "report.md"
FIGURE_FILES = (
    "loss_curves.png",
    "reconstructions.png",
    "corruption_types.png",
    "latent_space.png",
)
# Every file a run may write into its output folder.
OUTPUT_FILES = (MODEL_FILE, METRICS_FILE, *FIGURE_FILES, REPORT_FILE)
# Rows a data file needs: the test part (test_size=0.2) then holds at least 2, which
# the latent-space figure's projection and a test error worth the name need.
MIN_ROWS = 6


def load_job_data(
    data="mnist", *, data_home=None, download=False, mirror=None, test_size=0.2, random_state=0
):
    """Return a dict with X_train, X_test, y_train, y_test (or None), image_shape, source.

    ``data`` is ``"mnist"`` (full MNIST from the data home, downloaded there first with
    ``download=True`` (from ``mirror`` if given), else the bundled sample, with a
    :class:`~skdae.exceptions.SampleDataWarning`) or a path to a .npy / .csv / .png /
    IDX file, split ``test_size`` at random. ``sample`` says whether the bundled sample
    stood in for full MNIST.
    """
    if data == "mnist":
        mnist = load_mnist(data_home=data_home, download=download, mirror=mirror, fallback="sample")
        sample = mnist.source == SAMPLE_SOURCE
        return {
            "X_train": mnist.X_train,
            "X_test": mnist.X_test,
            "y_train": mnist.y_train,
            "y_test": mnist.y_test,
            "image_shape": tuple(mnist.image_shape),
            "source": "MNIST bundled sample" if sample else f"MNIST from {mnist.source}",
            "sample": sample,
        }
    X, image_shape, _ = read_array(data)
    if image_shape is None:
        side = int(round(np.sqrt(X.shape[1])))
        image_shape = (side, side) if side * side == X.shape[1] else None
    if len(X) < MIN_ROWS:
        raise DataFileError(
            f"{data} holds {len(X)} row(s); training needs at least {MIN_ROWS}, so that the "
            "test part (a fifth) holds at least 2."
        )
    X_train, X_test = train_test_split(X, test_size=test_size, random_state=random_state)
    return {
        "X_train": X_train,
        "X_test": X_test,
        "y_train": None,
        "y_test": None,
        "image_shape": image_shape,
        "source": str(data),
        "sample": False,
    }


def make_job_noise(spec, X):
    """The corruption named by ``spec``; Gaussian noise is clipped when X lies in [0, 1]."""
    unit_range = float(np.min(X)) >= 0 and float(np.max(X)) <= 1
    return parse_noise_spec(spec, clip=(0.0, 1.0) if unit_range else None)


def train_job(
    estimator,
    dataset,
    noise="gaussian:0.4",
    output="skdae_output",
    *,
    random_state=0,
    preset=None,
    n_images=10,
    classify=True,
    figures=True,
    log=print,
):
    """Fit ``estimator`` on ``dataset``, evaluate it, write everything into ``output``.

    ``dataset`` is what :func:`load_job_data` returns. ``noise`` (a noise specification,
    see ``skdae train --help``) corrupts the test set with the seed ``random_state``; the
    estimator trains with its own ``corruption``. ``preset`` names the preset the
    estimator came from, for the report. Writes the model (the safe format),
    ``metrics.json``, the figures and ``report.md``, and returns the metrics.

    A folder that cannot be written is refused before the fit. The files are written
    into a temporary folder inside ``output`` and moved into place at the end, so a
    run that fails leaves no partial output (and keeps an earlier run's files).
    """
    output = Path(output)
    check_output_folder(output, OUTPUT_FILES)
    X_train, X_test = dataset["X_train"], dataset["X_test"]
    if dataset["sample"]:
        log("Full MNIST is not available: training on the bundled sample (see the warning).")
    length = f"{estimator.max_iter} epochs"
    if estimator.max_time is not None:
        length = f"{estimator.max_time:g} s (at most {length})"
    log(
        f"Training on {len(X_train):,} x {X_train.shape[1]} ({dataset['source']}), "
        f"corruption {estimator.corruption!r}, {length}."
    )
    started = time.perf_counter()
    estimator.fit(X_train)
    fit_seconds = time.perf_counter() - started
    dae = estimator
    corruption = make_job_noise(noise, X_train)

    metrics = evaluate_model(dae, X_test, noise, random_state=random_state)
    metrics["data"] = {
        "source": dataset["source"],
        "bundled_sample": dataset["sample"],
        "n_train": len(X_train),
        "n_test": len(X_test),
        "n_features": int(X_train.shape[1]),
    }
    metrics["model"] = {
        "preset": preset,
        "params": {name: _plain_param(value) for name, value in dae.get_params(deep=False).items()},
        "corruption": repr(dae.corruption),
        "estimator": type(dae).__name__,
        # What the network was built from (the parameters resolved for the data).
        "network": {
            name: _plain_param(value)
            for name, value in dae._architecture.items()
            if name not in ("n_features", "output_activation")
        },
        "latent_dim": dae.latent_dim,
        "latent_activation": dae.latent_activation,
        "loss": dae.loss_,
        "n_parameters": count_parameters(dae.module_),
        "device": str(dae.device_),
        "matmul_precision": dae.matmul_precision_,
    }
    metrics["training"] = {
        "epochs": dae.n_iter_,
        "best_epoch": dae.best_epoch_,
        "batch_size": dae.batch_size,
        "learning_rate": dae.learning_rate,
        "learning_rate_init": dae.learning_rate_init,
        "max_grad_norm": dae.max_grad_norm,
        "max_time": dae.max_time,
        "fit_seconds": fit_seconds,
        "median_epoch_seconds": float(np.median(dae.epoch_times_)),
        "loss_curve": dae.loss_curve_,
        "validation_loss_curve": [-s for s in dae.validation_scores_ or []],
    }
    if classify and dataset["y_train"] is not None:
        metrics["classification"] = classify_codes(
            dae, dataset, corruption, random_state=random_state, log=log
        )
    metrics["versions"] = _versions()

    with reporting_write_errors(output), staged_folder(output) as staging:
        dae.save(staging / MODEL_FILE)
        written = [MODEL_FILE, METRICS_FILE]
        if figures:
            written += write_figures(dae, dataset, corruption, staging, n_images=n_images, log=log)
        written.append(REPORT_FILE)
        metrics["files"] = written
        _write_json(staging / METRICS_FILE, metrics)
        (staging / REPORT_FILE).write_text(render_report(metrics, written))
    test = metrics["test"]
    log(
        f"Test PSNR {test['noisy_psnr']:.2f} dB noisy -> {test['denoised_psnr']:.2f} dB "
        f"denoised (MSE {test['noisy_mse']:.4f} -> {test['denoised_mse']:.4f})."
    )
    log(f"Wrote {', '.join(written)} to {output}/")
    return metrics


def _describe_network(network):
    return ", ".join(
        f"{name} {value}" for name, value in network.items() if not name.endswith("activation")
    )


def _plain_param(value):
    """A parameter as JSON-able data (objects such as corruptions by their repr)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value):
        return list(value)
    return repr(value)


def evaluate_model(dae, X_test, noise, *, random_state=0):
    """Corrupt ``X_test`` once with a fixed seed, denoise it, and measure MSE and PSNR."""
    corruption = make_job_noise(noise, X_test)
    X_noisy = corruption.corrupt(X_test, random_state=random_state)
    started = time.perf_counter()
    X_denoised = dae.predict(X_noisy)
    seconds = time.perf_counter() - started
    report = denoising_report(X_test, X_noisy, X_denoised)
    report["predict_rows_per_second"] = len(X_test) / seconds if seconds > 0 else None
    return {"noise": noise, "test": report}


def classify_codes(dae, dataset, corruption, *, random_state=0, log=print):
    """Accuracy of logistic regression on the DAE's codes, clean and noisy test sets."""
    log("Fitting LogisticRegression on the codes ...")
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    started = time.perf_counter()
    clf.fit(dae.transform(dataset["X_train"]), dataset["y_train"])
    X_noisy = corruption.corrupt(dataset["X_test"], random_state=random_state)
    return {
        "model": "StandardScaler + LogisticRegression(max_iter=300) on the codes",
        "accuracy_clean_test": float(
            clf.score(dae.transform(dataset["X_test"]), dataset["y_test"])
        ),
        "accuracy_noisy_test": float(clf.score(dae.transform(X_noisy), dataset["y_test"])),
        "fit_seconds": time.perf_counter() - started,
    }


def write_figures(dae, dataset, corruption, output, *, n_images=10, log=print):
    """Write the four figures; return their file names (none without matplotlib)."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: no figures (pip install 'skdae[plot]').")
        return []
    from skdae.plotting import (
        CorruptionDisplay,
        LatentSpaceDisplay,
        LossCurveDisplay,
        ReconstructionDisplay,
    )

    X_test, shape = dataset["X_test"], dataset["image_shape"]
    written = []

    def save(display, name):
        if display.figure_.get_layout_engine() is None:
            display.figure_.tight_layout()
        display.figure_.savefig(output / name, dpi=100)
        plt.close(display.figure_)
        written.append(name)

    save(LossCurveDisplay.from_estimator(dae), "loss_curves.png")
    if shape is None:
        log("The samples are not square images: image figures skipped.")
    else:
        save(
            ReconstructionDisplay.from_estimator(
                dae, X_test, corruption, n_images=n_images, image_shape=shape
            ),
            "reconstructions.png",
        )
        others = {
            "gaussian 0.4": parse_noise_spec("gaussian:0.4", clip=(0.0, 1.0)),
            "salt & pepper 0.2": parse_noise_spec("salt_and_pepper:0.2"),
            "masking 0.4": parse_noise_spec("masking:0.4"),
        }
        save(
            CorruptionDisplay.from_corruptions(
                X_test, others, estimator=dae, n_images=n_images, image_shape=shape
            ),
            "corruption_types.png",
        )
    rows = slice(0, 2000)
    labels = None if dataset["y_test"] is None else dataset["y_test"][rows]
    save(LatentSpaceDisplay.from_estimator(dae, X_test[rows], labels), "latent_space.png")
    return written


def render_report(metrics, files):
    """A short Markdown report that embeds the figures."""
    test, training, data = metrics["test"], metrics["training"], metrics["data"]
    lines = [
        "# skdae training report",
        "",
        f"Data: {data['source']} ({data['n_train']:,} training and {data['n_test']:,} test "
        f"samples of {data['n_features']} features).",
    ]
    if data["bundled_sample"]:
        lines += [
            "",
            "**This run used the small MNIST sample bundled with skdae, not the full data "
            "set.** Put the official files in `$SKDAE_DATA/mnist/` for comparable figures.",
        ]
    lines += [
        "",
        *(
            [f"Preset: `{metrics['model']['preset']}` (skdae.presets)."]
            if metrics["model"]["preset"]
            else []
        ),
        f"Model: {metrics['model']['estimator']}, {metrics['model']['n_parameters']:,} "
        f"parameters ({_describe_network(metrics['model']['network'])}), "
        f"loss {metrics['model']['loss']}, on {metrics['model']['device']} "
        f"({metrics['model']['matmul_precision']} matrix products).",
        f"Training: {training['epochs']} epochs in {training['fit_seconds']:.1f} s "
        f"({training['median_epoch_seconds']:.2f} s per epoch), best validation epoch "
        f"{training['best_epoch']}.",
        "",
        f"| test set, noise `{metrics['noise']}` | MSE | PSNR (dB) |",
        "|---|---|---|",
        f"| noisy input | {test['noisy_mse']:.4f} | {test['noisy_psnr']:.2f} |",
        f"| denoised | {test['denoised_mse']:.4f} | {test['denoised_psnr']:.2f} |",
    ]
    if "classification" in metrics:
        c = metrics["classification"]
        lines += [
            "",
            f"Classification ({c['model']}): accuracy {c['accuracy_clean_test']:.4f} on the "
            f"clean test set, {c['accuracy_noisy_test']:.4f} on the noisy one.",
        ]
    captions = {
        "reconstructions.png": "Original, noisy and denoised test images",
        "loss_curves.png": "Training and validation loss",
        "corruption_types.png": "Other corruptions, and what the model makes of them",
        "latent_space.png": "Latent codes of test samples",
    }
    for name in files:
        if name in captions:
            lines += ["", f"## {captions[name]}", "", f"![{captions[name]}]({name})"]
    return "\n".join(lines) + "\n"


def _versions():
    return {
        "skdae": __version__,
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def _write_json(path, payload):
    path.write_text(json.dumps(payload, indent=2, allow_nan=True) + "\n")
