"""The ``skdae`` command: parse arguments, call the library, return an exit code.

Exit codes: 0 success; 1 the work itself failed (e.g. training diverged, or a bug:
then with its traceback); 2 bad usage or bad input (unknown option, missing or
corrupt file, data of the wrong width, a parameter out of range, an output that is an
input or cannot be written: skdae's own ``SkdaeError`` errors and scikit-learn's
parameter errors), said in one line; 130 interrupted. No output replaces an input, and
every output is written atomically (see :mod:`skdae._files`).
"""

import argparse
import json
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np

from skdae._architectures import ARCHITECTURES, AUTOENCODERS
from skdae._files import (
    atomic_write,
    check_output_file,
    check_output_folder,
    file_problem,
    printable,
    reporting_write_errors,
)
from skdae._io import FORMATS, data_format, read_array, write_array
from skdae._job import OUTPUT_FILES, evaluate_model, load_job_data, make_job_noise, train_job
from skdae._network import ACTIVATIONS
from skdae._noise_spec import NOISE_SPEC_HELP, parse_noise_spec
from skdae._persistence import load_estimator
from skdae._precision import MATMUL_PRECISIONS
from skdae._schedule import LEARNING_RATE_SETTINGS
from skdae._validation import InvalidParameterError
from skdae._version import __version__
from skdae.datasets._base import get_data_home
from skdae.datasets._idx_dataset import locate_files
from skdae.datasets._mnist import MIRROR_ENV, MNIST_DOWNLOAD_MB, MNIST_FOLDER, mnist_mirrors
from skdae.datasets._sample import sample_path
from skdae.exceptions import (
    DataFileError,
    DeviceWarning,
    DivergenceError,
    InconsistentVersionWarning,
    InputError,
    ModelFileError,
    OvercompleteWarning,
    SampleDataWarning,
    SkdaeError,
)
from skdae.presets import PRESETS, make_preset

MODEL_HELP = "a model.skdae written by 'skdae train' (a .joblib pickle only with --trust-pickle)"
TRUST_PICKLE_HELP = (
    "allow MODEL to be a joblib pickle. Loading a pickle runs whatever code it holds: pass "
    "this only for a file you made yourself or trust. The .skdae format never runs code."
)
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
_SKDAE_WARNINGS = (
    SampleDataWarning,
    DeviceWarning,
    OvercompleteWarning,
    InconsistentVersionWarning,
)


def main(argv=None):
    """Run the command line; return the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    format_warning = warnings.formatwarning
    try:
        with warnings.catch_warnings():
            # A person reads these on stderr, however the interpreter's filters are set,
            # said by the command rather than by a line of its launcher
            # (".venv/bin/skdae:8: SampleDataWarning: ...").
            for category in _SKDAE_WARNINGS:
                warnings.simplefilter("default", category)
            warnings.formatwarning = lambda message, category, *_, **__: (
                f"skdae {args.command}: {category.__name__}: {message}\n"
            )
            return args.handler(args)
    except DivergenceError as exc:
        print(f"skdae {args.command}: training failed: {printable(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except (SkdaeError, InvalidParameterError, FileNotFoundError) as exc:
        # One line, whatever the message quotes from a file (escape sequences included).
        print(f"skdae {args.command}: error: {printable(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"skdae {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        warnings.formatwarning = format_warning


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skdae", description="Denoising autoencoders for scikit-learn, on PyTorch."
    )
    parser.add_argument("--version", action="version", version=f"skdae {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="train a DAE (MNIST by default) and write model, metrics, figures, report",
        description="Train a denoising autoencoder and write model.skdae, metrics.json, "
        "figures and report.md into the output folder.",
    )
    _add_data_arguments(train)
    train.add_argument(
        "--noise",
        default="gaussian:0.4",
        help=f"{NOISE_SPEC_HELP}; the training corruption (unless --preset brings one) "
        "and the test noise; default %(default)s",
    )
    train.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=None,
        help="start from a preset of skdae.presets, e.g. 'features' for codes that feed a "
        "classifier (default: the estimator's defaults)",
    )
    train.add_argument(
        "--architecture",
        choices=sorted(ARCHITECTURES),
        default="dense",
        help="dense: DenoisingAutoencoder (fast epochs, any data); conv: "
        "ConvDenoisingAutoencoder (images: denoises better in fewer, slower epochs); "
        "default %(default)s",
    )
    # Estimator options: each sets its parameter only when given, so the estimator's
    # (or the preset's) own defaults apply otherwise and are never restated here.
    estimator = train.add_argument_group(
        "estimator parameters (default: the estimator's, or the preset's)"
    )
    given = {"default": argparse.SUPPRESS}
    estimator.add_argument(
        "--latent-dim",
        type=_latent_dim,
        help="code width; 'none' with --architecture conv for spatial codes",
        **given,
    )
    estimator.add_argument(
        "--hidden", type=_sizes, help="dense: encoder hidden widths, e.g. 256,128", **given
    )
    estimator.add_argument(
        "--channels", type=_sizes, help="conv: channels of each stage, e.g. 32,64", **given
    )
    estimator.add_argument(
        "--kernel-size", type=_positive_int, help="conv: side of the kernels", **given
    )
    estimator.add_argument(
        "--latent-activation",
        choices=["auto", *ACTIVATIONS],
        help="activation of the code layer",
        **given,
    )
    estimator.add_argument("--epochs", type=_positive_int, help="max_iter", **given)
    estimator.add_argument(
        "--max-time",
        type=float,
        metavar="SECONDS",
        help="train for this many seconds, the schedule laid over them (max_time; "
        "without --epochs, up to 10000 epochs; default: no limit, --epochs decide)",
        **given,
    )
    estimator.add_argument("--batch-size", type=_positive_int, **given)
    estimator.add_argument(
        "--learning-rate", type=float, help="peak learning rate (learning_rate_init)", **given
    )
    estimator.add_argument(
        "--max-grad-norm",
        type=float,
        help="clip each step's gradient to this norm (max_grad_norm; default: no clipping)",
        **given,
    )
    estimator.add_argument(
        "--schedule",
        choices=LEARNING_RATE_SETTINGS,
        help="learning-rate schedule (learning_rate)",
        **given,
    )
    estimator.add_argument(
        "--validation-fraction",
        type=float,
        help="held out for the validation curve",
        **given,
    )
    estimator.add_argument(
        "--patience",
        type=_positive_int,
        help="stop after this many epochs without validation improvement (n_iter_no_change; "
        "default: never stop early, keep the best validation epoch)",
        **given,
    )
    estimator.add_argument("--device", help="auto, cpu, cuda or cuda:N", **given)
    estimator.add_argument(
        "--matmul-precision",
        choices=MATMUL_PRECISIONS,
        help="precision of the training matrix products: auto picks bfloat16 on CPUs that "
        "have it, tf32 on CUDA",
        **given,
    )
    train.add_argument(
        "--seed", type=int, default=0, help="random_state, and the test noise's seed (default 0)"
    )
    train.add_argument(
        "--output", "-o", default="skdae_output", help="output folder (default %(default)s)"
    )
    train.add_argument(
        "--n-images",
        type=_positive_int,
        default=10,
        help="digits in the figures (default %(default)s)",
    )
    train.add_argument(
        "--no-classify", action="store_true", help="skip logistic regression on the codes"
    )
    train.add_argument("--no-figures", action="store_true", help="write no figures")
    train.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    train.set_defaults(handler=_train)

    denoise = commands.add_parser(
        "denoise",
        help="denoise a file with a trained model",
        description=f"Denoise INPUT with MODEL and write OUTPUT. Formats: {', '.join(FORMATS)}; "
        "the output format follows OUTPUT's extension. Integer data are 8-bit images: "
        "0..255 is read as [0, 1] and written back as 0..255 in the input's dtype.",
    )
    denoise.add_argument("model", help=MODEL_HELP)
    denoise.add_argument("--trust-pickle", action="store_true", help=TRUST_PICKLE_HELP)
    denoise.add_argument("input", help="noisy data")
    denoise.add_argument("output", help="where to write the denoised data")
    denoise.set_defaults(handler=_denoise)

    evaluate = commands.add_parser(
        "evaluate",
        help="measure a trained model's denoising on a data set",
        description="Corrupt the test part of the data with a fixed seed, denoise it, and "
        "print MSE and PSNR as JSON.",
    )
    evaluate.add_argument("model", help=MODEL_HELP)
    evaluate.add_argument("--trust-pickle", action="store_true", help=TRUST_PICKLE_HELP)
    _add_data_arguments(evaluate)
    evaluate.add_argument(
        "--noise", default="gaussian:0.4", help=f"{NOISE_SPEC_HELP}; default %(default)s"
    )
    evaluate.add_argument(
        "--seed", type=int, default=0, help="seed of the noise (default %(default)s)"
    )
    evaluate.add_argument("--output", "-o", default=None, help="also write the JSON to this file")
    evaluate.set_defaults(handler=_evaluate)

    export = commands.add_parser(
        "export",
        help="export a trained model to ONNX, to run without Python",
        description="Write MODEL's inference as an ONNX graph to OUTPUT (e.g. model.onnx), "
        "which onnxruntime and other ONNX runtimes run from any language. Needs the onnx "
        "extra: pip install 'skdae[onnx]'.",
    )
    export.add_argument("model", help="a model.skdae written by 'skdae train' (never a pickle)")
    export.add_argument("output", help="the ONNX file to write (replaced atomically)")
    export.add_argument(
        "--method",
        choices=["predict", "transform", "inverse_transform", "score_samples"],
        default="predict",
        help="what the graph computes: predict denoises, transform gives the codes, "
        "inverse_transform decodes codes, score_samples scores rows (default %(default)s)",
    )
    export.add_argument(
        "--target-opset",
        type=int,
        default=None,
        help="ONNX opset of the graph (default: the latest skl2onnx supports)",
    )
    export.set_defaults(handler=_export)

    summary = commands.add_parser("summary", help="print a model's layers and parameter counts")
    summary.add_argument("model", help=MODEL_HELP)
    summary.add_argument("--trust-pickle", action="store_true", help=TRUST_PICKLE_HELP)
    summary.set_defaults(handler=_summary)
    return parser


def _add_data_arguments(parser):
    parser.add_argument(
        "--data",
        default="mnist",
        help="'mnist' (full MNIST from the data home, downloaded there if missing, else the "
        f"bundled sample) or a {', '.join(FORMATS)} file (default %(default)s)",
    )
    parser.add_argument(
        "--data-home",
        default=None,
        help="folder that contains mnist/ (default: $SKDAE_DATA, else ~/skdae_data)",
    )
    parser.add_argument(
        "--no-download",
        action="store_true",
        help="never download: without full MNIST in the data home, use the bundled sample "
        f"(default: download the four official files, about {MNIST_DOWNLOAD_MB} MB, "
        "checked against their MD5s; offline, the sample is used and the run says so)",
    )
    parser.add_argument(
        "--mirror",
        metavar="URL",
        default=None,
        help="download MNIST from this URL of a folder holding the four .gz files, e.g. "
        f"a copy inside your firewall (default: ${MIRROR_ENV}, else the public mirrors)",
    )


def _mnist_download(args):
    """(download, mirror) for load_job_data, from --data, --no-download and --mirror,
    checked before any work (the mirror in $SKDAE_MNIST_MIRROR too, if one is used)."""
    if args.mirror is not None and args.data != "mnist":
        raise InputError(
            f"--mirror is where MNIST is downloaded from; it does not apply to --data {args.data}."
        )
    if args.mirror is not None and args.no_download:
        raise InputError("--mirror says where to download from, --no-download not to: pick one.")
    download = args.data == "mnist" and not args.no_download
    if download:
        mnist_mirrors(args.mirror, option="--mirror")
    return download, args.mirror


# Command-line option -> estimator parameter.
_ESTIMATOR_OPTIONS = {
    "latent_dim": "latent_dim",
    "hidden": "hidden_layer_sizes",
    "channels": "channels",
    "kernel_size": "kernel_size",
    "latent_activation": "latent_activation",
    "epochs": "max_iter",
    "max_time": "max_time",
    "batch_size": "batch_size",
    "learning_rate": "learning_rate_init",
    "max_grad_norm": "max_grad_norm",
    "schedule": "learning_rate",
    "validation_fraction": "validation_fraction",
    "patience": "n_iter_no_change",
    "device": "device",
    "matmul_precision": "matmul_precision",
}


# The cap on epochs of `train --max-time` without --epochs.
EPOCHS_WITHIN_TIME = 10_000


def build_estimator(args, training_noise):
    """The estimator ``skdae train`` fits: the preset's or the defaults, with the options
    the user gave. The job's own choices: a held-out validation curve, kept for the
    whole run unless --patience is given, the seed, and progress on the terminal."""
    params = {
        parameter: getattr(args, option)
        for option, parameter in _ESTIMATOR_OPTIONS.items()
        if hasattr(args, option)
    }
    estimator_class = ARCHITECTURES[args.architecture]
    foreign = [
        option
        for option, parameter in _ESTIMATOR_OPTIONS.items()
        if parameter in params and parameter not in estimator_class._get_param_names()
    ]
    if foreign:
        raise InputError(
            f"--{foreign[0].replace('_', '-')} does not apply to --architecture "
            f"{args.architecture} ({estimator_class.__name__} has no such parameter)."
        )
    params.update(random_state=args.seed, verbose=0 if args.quiet else 2, early_stopping=True)
    if "max_time" in params and "max_iter" not in params:
        # The time decides: the default epochs would end most fits long before it.
        params["max_iter"] = EPOCHS_WITHIN_TIME
    if args.preset is None:
        estimator = estimator_class(corruption=training_noise)
    elif PRESETS[args.preset].estimator is not estimator_class:
        preset_class = PRESETS[args.preset].estimator
        architecture = next(a for a, c in ARCHITECTURES.items() if c is preset_class)
        raise InputError(
            f"--preset {args.preset} is a preset of the {architecture} "
            f"{preset_class.__name__}; drop --preset, or pass --architecture {architecture}."
        )
    else:
        estimator = make_preset(args.preset)
    estimator.set_params(**params)
    if "n_iter_no_change" not in params:
        estimator.set_params(n_iter_no_change=estimator.max_iter)
    return estimator


def _train(args):
    # Before any work (a download of MNIST included): the noise's spelling, the estimator
    # options (built once with the noise as spelled, and its parameters checked), where
    # MNIST would come from, and an output folder that can take the results.
    build_estimator(args, parse_noise_spec(args.noise))._validate_params()
    download, mirror = _mnist_download(args)
    check_output_folder(args.output, OUTPUT_FILES, _inputs(args))
    log = (lambda *a: None) if args.quiet else print
    dataset = load_job_data(
        args.data,
        data_home=args.data_home,
        download=download,
        mirror=mirror,
        random_state=args.seed,
    )
    estimator = build_estimator(args, make_job_noise(args.noise, dataset["X_train"]))
    train_job(
        estimator,
        dataset,
        args.noise,
        args.output,
        random_state=args.seed,
        preset=args.preset,
        n_images=args.n_images,
        classify=not args.no_classify,
        figures=not args.no_figures,
        log=log,
    )
    return EXIT_OK


def _denoise(args):
    data_format(args.output)  # an unknown output format fails before any work is done
    check_output_file(args.output, _inputs(args))
    model = load_model(args.model, trust_pickle=args.trust_pickle)
    X, image_shape, dtype = read_array(args.input)
    X_denoised = _predict(model, X, args.input)
    with reporting_write_errors(args.output):
        write_array(args.output, X_denoised, image_shape=image_shape, dtype=dtype)
    print(f"Denoised {len(X)} row(s) of {args.input} into {args.output}")
    return EXIT_OK


def _evaluate(args):
    parse_noise_spec(args.noise)  # before any work
    download, mirror = _mnist_download(args)
    if args.output:
        check_output_file(args.output, _inputs(args))
    model = load_model(args.model, trust_pickle=args.trust_pickle)
    dataset = load_job_data(
        args.data,
        data_home=args.data_home,
        download=download,
        mirror=mirror,
        random_state=args.seed,
    )
    X_test = dataset["X_test"]
    _check_data(model, X_test, args.data)
    metrics = evaluate_model(model, X_test, args.noise, random_state=args.seed)
    metrics["data"] = {"source": dataset["source"], "n_test": len(X_test)}
    text = json.dumps(metrics, indent=2)
    print(text)
    if args.output:
        with reporting_write_errors(args.output), atomic_write(args.output) as stream:
            stream.write((text + "\n").encode())
    return EXIT_OK


def _export(args):
    check_output_file(args.output, _inputs(args))
    try:
        from skdae.onnx import export_model_file
    except ImportError as exc:  # a user's missing extra: one line with the pip command
        raise InputError(str(exc)) from None
    path = export_model_file(
        args.model, args.output, method=args.method, target_opset=args.target_opset
    )
    print(f"Exported the {args.method} of {args.model} to {path}")
    return EXIT_OK


def _inputs(args):
    """(what, path) for every file the command reads: no output may replace one."""
    inputs = [("model file", args.model)] if hasattr(args, "model") else []
    if hasattr(args, "input"):
        inputs.append(("input file", args.input))
    if getattr(args, "data", None) == "mnist":
        folder = get_data_home(args.data_home) / MNIST_FOLDER
        inputs += [("MNIST file", path) for path in locate_files(folder).values()]
        inputs.append(("bundled MNIST sample", str(sample_path())))
    elif hasattr(args, "data"):
        inputs.append(("data file", args.data))
    return inputs


def _summary(args):
    print(load_model(args.model, trust_pickle=args.trust_pickle).summary())
    return EXIT_OK


def load_model(path, *, trust_pickle=False):
    """Load a fitted estimator of skdae, or raise an SkdaeError saying what is wrong.

    A .joblib file is a pickle, which runs code when loaded: it is opened only with
    ``trust_pickle`` (the ``--trust-pickle`` flag), never silently.
    """
    path = Path(path)
    problem = file_problem(path)
    if problem == "does not exist":
        raise ModelFileError(f"model file {path} does not exist; train one with 'skdae train'.")
    if problem:
        raise ModelFileError(f"model file {path} {problem}.")
    if path.suffix not in (".joblib", ".pkl", ".pickle"):
        return load_estimator(AUTOENCODERS, path)
    if not trust_pickle:
        raise ModelFileError(
            f"{path} is a pickle, and loading a pickle runs the code it holds. Pass "
            "--trust-pickle if you made this file or trust its source; to share models, "
            "use the .skdae format (DenoisingAutoencoder.save), which never runs code."
        )
    try:
        model = joblib.load(path)
    except Exception as exc:  # joblib/pickle raise many types for a damaged file
        raise ModelFileError(
            f"could not read {path} as a joblib model file ({type(exc).__name__}: {exc})."
        ) from exc
    if not isinstance(model, AUTOENCODERS) or not hasattr(model, "module_"):
        raise ModelFileError(
            f"{path} does not hold a fitted {' or '.join(c.__name__ for c in AUTOENCODERS)}."
        )
    return model


def _check_data(model, X, source):
    """Refuse data the model cannot take: the same rule for denoise and evaluate."""
    if X.shape[1] != model.n_features_in_:
        raise DataFileError(
            f"the model expects {model.n_features_in_} features per sample but {source} has "
            f"{X.shape[1]}; use a model trained on data of this size."
        )
    high = float(np.max(X)) if X.size else 0.0
    if model.loss_ == "bce" and high > 1.0:  # the model's outputs lie in [0, 1]
        if Path(source).suffix.lower() == ".csv":  # read as written, never scaled
            hint = (
                "A .csv is read as written: divide its values by 255 (or save the images "
                "as an integer .npy, which skdae scales)."
            )
        else:
            hint = "Save 8-bit images as integers (skdae scales them) or divide by 255."
        raise DataFileError(
            f"{source} holds values up to {high:.4g}, but the model was trained on data in "
            f"[0, 1] (images / 255). {hint}"
        )


def _predict(model, X, source):
    _check_data(model, X, source)
    try:
        return model.predict(X)
    except ValueError as exc:  # scikit-learn's checks of X: NaN, infinity, ...
        raise DataFileError(f"{source}: {exc}") from exc


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _latent_dim(text):
    if text.strip().lower() == "none":
        return None
    return _positive_int(text)


def _sizes(text):
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected widths like 256,128, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"widths must be positive, got {text!r}")
    return sizes


if __name__ == "__main__":
    sys.exit(main())
