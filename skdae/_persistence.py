"""Saving models: version stamps for pickles, and a pickle-free file format.

The safe format is one zip archive holding ``skdae-model.json`` (parameters, fitted
attributes, versions, the SHA-256 of the weights) and ``weights.pt`` (the network's and
the optimizer's tensors, written by ``torch.save`` and read back with
``weights_only=True``). Loading it never executes code from the file: the JSON is
data, the corruption is rebuilt from a fixed table of skdae classes, and torch's
weights-only unpickler accepts tensors and plain containers only. What is saved is the
estimator's declared fitted state (``skdae._fitted_state``), split by kind: tensors
into the weights member, everything else into the JSON.
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
from skdae._fitted_state import CORRUPTION, MODULE, OPTIMIZER
from skdae._version import __version__
from skdae.exceptions import InconsistentVersionWarning, InputError, ModelFileError

FORMAT_NAME = "skdae-model"
FORMAT_VERSION = 1
CONFIG_MEMBER = "skdae-model.json"
WEIGHTS_MEMBER = "weights.pt"

# Where the tensors of each kind of fitted value go in the weights member.
_TENSOR_MEMBERS = {MODULE: "module", OPTIMIZER: "optimizer"}
# Only these classes can come out of a file: a name is looked up, never imported.
_CORRUPTIONS = {
    cls.__name__: cls
    for cls in (GaussianNoise, SaltAndPepperNoise, MaskingNoise, IdentityCorruption, Compose)
}


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
    fitted = estimator._get_fitted_state()
    tensors, fitted_json = {}, {}
    for field in estimator._fitted_fields:
        if field.name not in fitted:  # an optional attribute the model does not have
            continue
        value = fitted[field.name]
        if field.kind in _TENSOR_MEMBERS:
            if value is not None and (include_optimizer or field.kind != OPTIMIZER):
                tensors[_TENSOR_MEMBERS[field.kind]] = value
        elif field.kind == CORRUPTION:
            fitted_json[field.name] = corruption_to_json(value)
        else:
            fitted_json[field.name] = _plain(value)
    config = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "versions": library_versions(),
        "params": _params_to_json(estimator),
        "fitted": fitted_json,
    }
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
        params = {**estimator_class._parameters_of_old_models, **config["params"]}
        estimator = estimator_class(**_params_from_json(params))
        fitted = _fitted_from_file(estimator_class._fitted_fields, config["fitted"], tensors)
        estimator._set_fitted_state(fitted)
    except ModelFileError:
        raise
    except Exception as exc:  # a well-formed archive whose content does not fit
        raise ModelFileError(f"{path} holds an skdae model that cannot be restored: {exc}") from exc
    return estimator


def _fitted_from_file(fields, fitted_json, tensors):
    """The fitted state that :func:`save_model` split into the JSON and the tensors."""
    fitted = {}
    for field in fields:
        if field.kind in _TENSOR_MEMBERS:
            if _TENSOR_MEMBERS[field.kind] in tensors:
                fitted[field.name] = tensors[_TENSOR_MEMBERS[field.kind]]
        elif field.name in fitted_json:
            value = fitted_json[field.name]
            if field.kind == CORRUPTION:
                value = corruption_from_json(value)
            elif isinstance(value, dict):  # JSON made the architecture's tuples lists
                value = {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
            fitted[field.name] = value
    return fitted


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
    if isinstance(params["corruption"], dict):
        params["corruption"] = corruption_from_json(params["corruption"])
    return params


def corruption_to_json(corruption):
    """A corruption as plain data: its class name and parameters."""
    name = type(corruption).__name__
    if _CORRUPTIONS.get(name) is not type(corruption):
        raise InputError(
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
    """``value`` as JSON-able data: numpy scalars as numbers, tuples as lists."""
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
