"""Saving models: version stamps for pickles, and a pickle-free file format.

The safe format is one zip archive holding ``skdae-model.json`` (parameters, fitted
attributes, versions, the SHA-256 of the weights) and ``weights.pt`` (the network's and
the optimizer's tensors, written by ``torch.save`` and read back with
``weights_only=True``). Loading it never executes code from the file: the JSON is
data, the corruption is rebuilt from a fixed table of skdae classes, and torch's
weights-only unpickler accepts tensors and plain containers only.
"""

import hashlib
import io
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import sklearn
import torch

from skdae._corruption import (
    BaseCorruption,
    Compose,
    GaussianNoise,
    IdentityCorruption,
    MaskingNoise,
    SaltAndPepperNoise,
)
from skdae._files import atomic_write
from skdae._version import __version__
from skdae.exceptions import InconsistentVersionWarning, ModelFileError

FORMAT_NAME = "skdae-model"
FORMAT_VERSION = 1
CONFIG_MEMBER = "skdae-model.json"
WEIGHTS_MEMBER = "weights.pt"

# Only these classes can come out of a file: a name is looked up, never imported.
_CORRUPTIONS = {
    cls.__name__: cls
    for cls in (GaussianNoise, SaltAndPepperNoise, MaskingNoise, IdentityCorruption, Compose)
}
# What models saved by skdae 0.1.0 (and, for matmul precision, 0.2.0) lack, with the
# values that reproduce how they were trained (at a constant rate; one activation for
# the hidden and the code layers; float32 products), so that their files and pickles
# go on working as they did.
PARAMETERS_ADDED_SINCE_0_1 = {
    "learning_rate": "constant",
    "latent_activation": "auto",
    "matmul_precision": "float32",
}
FITTED_ADDED_SINCE_0_1 = {"_schedule_origin": 0, "matmul_precision_": "float32"}

_FITTED_SCALARS = (
    "n_features_in_",
    "loss_",
    "output_activation_",
    "loss_curve_",
    "validation_scores_",
    "epoch_times_",
    "best_loss_",
    "best_epoch_",
    "n_iter_",
    "_seed",
    "_schedule_origin",
    "matmul_precision_",
)


def library_versions():
    """The versions a saved model records and checks when loaded."""
    return {"skdae": __version__, "torch": torch.__version__, "scikit-learn": sklearn.__version__}


def warn_on_version_mismatch(saved, what="model"):
    """Warn, like scikit-learn's InconsistentVersionWarning, when versions differ."""
    current = library_versions()
    for name in ("skdae", "torch"):
        if saved.get(name) not in (None, current[name]):
            warnings.warn(
                f"This {what} was saved with {name} {saved[name]} and is loaded with "
                f"{name} {current[name]}. It may not work as it did, or at all; refit it "
                f"with {name} {current[name]} if in doubt.",
                InconsistentVersionWarning,
                stacklevel=3,
            )


# ------------------------------------------------------------------ safe format


def save_model(estimator, path, *, include_optimizer=True):
    """Write a fitted estimator to ``path`` in the safe format (atomically).

    Without the optimizer state the file is a third of the size (Adam keeps two
    tensors per weight); a model loaded from it continues training with a fresh
    optimizer.
    """
    config = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "versions": library_versions(),
        "params": _params_to_json(estimator),
        "fitted": _fitted_to_json(estimator),
    }
    tensors = {
        "module": {k: v.detach().cpu() for k, v in estimator.module_.state_dict().items()},
    }
    if include_optimizer:
        tensors["optimizer"] = cpu_tree(estimator._optimizer.state_dict())
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    weights = buffer.getvalue()
    config["weights_sha256"] = hashlib.sha256(weights).hexdigest()
    path = Path(path)
    with atomic_write(path) as stream, zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(CONFIG_MEMBER, json.dumps(config, indent=2, allow_nan=True))
        zf.writestr(WEIGHTS_MEMBER, weights)
    return path


def load_model(estimator_class, path):
    """Read a model written by :func:`save_model`; refuse anything else clearly."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Model file {path} does not exist.")
    config, weights = _read_archive(path)
    if config.get("format") != FORMAT_NAME or not isinstance(config.get("format_version"), int):
        raise ModelFileError(f"{path} is not an skdae model file (no '{FORMAT_NAME}' header).")
    if config["format_version"] > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} uses model format {config['format_version']}, newer than this skdae "
            f"({__version__}) reads ({FORMAT_VERSION}). Upgrade skdae to load it."
        )
    if hashlib.sha256(weights).hexdigest() != config.get("weights_sha256"):
        raise ModelFileError(
            f"The weights in {path} do not match the checksum recorded beside them: the "
            "file was altered or damaged. Save the model again from its source."
        )
    warn_on_version_mismatch(config.get("versions", {}))
    try:
        tensors = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
        estimator = estimator_class(**_params_from_json(config["params"]))
        _restore_fitted(estimator, config["fitted"])
        estimator._restore_network(tensors["module"], tensors.get("optimizer"))
    except ModelFileError:
        raise
    except Exception as exc:  # a well-formed archive whose content does not fit
        raise ModelFileError(f"{path} holds an skdae model that cannot be restored: {exc}") from exc
    return estimator


def _read_archive(path):
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if not {CONFIG_MEMBER, WEIGHTS_MEMBER} <= names:
                raise ModelFileError(
                    f"{path} is a zip archive but not an skdae model file: it lacks "
                    f"{sorted({CONFIG_MEMBER, WEIGHTS_MEMBER} - names)}."
                )
            config = json.loads(zf.read(CONFIG_MEMBER))
            weights = zf.read(WEIGHTS_MEMBER)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise ModelFileError(
            f"{path} is not a readable skdae model file ({type(exc).__name__}: {exc}); "
            "it may be truncated or of another kind."
        ) from exc
    if not isinstance(config, dict):
        raise ModelFileError(f"{path} is not an skdae model file (its header is not an object).")
    return config, weights


def _params_to_json(estimator):
    params = estimator.get_params(deep=False)
    if not isinstance(params["random_state"], (int, type(None))):
        params["random_state"] = None  # a RandomState's position cannot be stored as data
    params["hidden_layer_sizes"] = list(np.atleast_1d(params["hidden_layer_sizes"]).tolist())
    if isinstance(params["corruption"], BaseCorruption):
        params["corruption"] = corruption_to_json(params["corruption"])
    return params


def _params_from_json(params):
    params = dict(params)
    params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    params = {**PARAMETERS_ADDED_SINCE_0_1, **params}
    if isinstance(params["corruption"], dict):
        params["corruption"] = corruption_from_json(params["corruption"])
    return params


def _fitted_to_json(estimator):
    fitted = {name: _plain(getattr(estimator, name)) for name in _FITTED_SCALARS}
    architecture = dict(estimator._architecture)
    architecture["hidden_layer_sizes"] = list(architecture["hidden_layer_sizes"])
    fitted["_architecture"] = architecture
    fitted["corruption_"] = corruption_to_json(estimator.corruption_)
    if hasattr(estimator, "feature_names_in_"):
        fitted["feature_names_in_"] = [str(n) for n in estimator.feature_names_in_]
    return fitted


def _restore_fitted(estimator, fitted):
    fitted = {**FITTED_ADDED_SINCE_0_1, **fitted}
    for name in _FITTED_SCALARS:
        setattr(estimator, name, fitted[name])
    architecture = dict(fitted["_architecture"])
    architecture["hidden_layer_sizes"] = tuple(architecture["hidden_layer_sizes"])
    estimator._architecture = architecture
    estimator.corruption_ = corruption_from_json(fitted["corruption_"])
    if "feature_names_in_" in fitted:
        estimator.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)


def corruption_to_json(corruption):
    """A corruption as plain data: its class name and parameters."""
    name = type(corruption).__name__
    if _CORRUPTIONS.get(name) is not type(corruption):
        raise ValueError(
            f"{name} is not one of skdae's corruption classes ({', '.join(_CORRUPTIONS)}), so "
            "the safe format cannot store it. Save with joblib.dump instead."
        )
    params = corruption.get_params(deep=False)
    if isinstance(corruption, Compose):
        params["corruptions"] = [corruption_to_json(c) for c in params["corruptions"]]
    return {"class": name, "params": {k: _plain(v) for k, v in params.items()}}


def corruption_from_json(spec):
    """Rebuild a corruption from :func:`corruption_to_json`'s data; no other class."""
    cls = _CORRUPTIONS.get(spec.get("class"))
    if cls is None:
        raise ModelFileError(f"Unknown corruption class {spec.get('class')!r} in the model file.")
    params = dict(spec["params"])
    if cls is Compose:
        params["corruptions"] = [corruption_from_json(c) for c in params["corruptions"]]
    elif params.get("clip") is not None:
        params["clip"] = tuple(params["clip"])
    return cls(**params)


def _plain(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def cpu_tree(value):
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {k: cpu_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(cpu_tree(v) for v in value)
    return value
