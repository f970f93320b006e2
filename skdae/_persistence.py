"""Saving models: version stamps for pickles, and a pickle-free, bounded file format.

A model file (format 2) is a safetensors file (``skdae._model_file``): the network's and
the optimizer's tensors, and a JSON document with the parameters, the fitted values and
the library versions. What is saved is the estimator's declared fitted state
(``skdae._fitted_state``), split by kind: tensors into safetensors, the rest into the
document. Files of skdae 0.1 to 0.3 (format 1, a zip archive) are read by
``skdae._legacy`` (all of skdae's compatibility with 0.1 to 0.3 is there) and go
through the same checks.

Loading trusts nothing in the file. In order: the container is checked (sizes, structure,
digest); the parameters go through the estimator's own constraint table; every fitted
value through the check its declaration names; the architecture must be the one the
parameters describe, and every tensor must have the shape and dtype that architecture
gives, before any network is built; the optimizer's state must match the parameters
(keys, shapes, step counts) before it can reach a kernel. Any failure is a
:class:`~skdae.exceptions.ModelFileError` naming the file.
"""

import math
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.base import clone

from skdae._corruption import (
    BaseCorruption,
    Compose,
    GaussianNoise,
    IdentityCorruption,
    MaskingNoise,
    SaltAndPepperNoise,
    SwapNoise,
)
from skdae._files import atomic_write, printable, quoted
from skdae._fitted_state import CORRUPTION, MODULE, OPTIMIZER, REQUIRED
from skdae._legacy import is_legacy_model_file, read_legacy_model_file, with_old_parameters
from skdae._model_file import _parse_json, check_key, read_model_file, write_model_file
from skdae._training import OPTIMIZER_STATE
from skdae._validation import check_counts_are_not_bools
from skdae._version import __version__
from skdae._warnings import warn
from skdae.exceptions import InconsistentVersionWarning, InputError, ModelFileError

FORMAT_NAME = "skdae-model"
FORMAT_VERSION = 2

# Where the tensors of each kind of fitted value go: "module.<state key>" and
# "optimizer.<parameter index>.<state key>".
_MODULE_PREFIX, _OPTIMIZER_PREFIX = "module.", "optimizer."
# Only these classes can come out of a file: a name is looked up, never imported.
_CORRUPTIONS = {
    cls.__name__: cls
    for cls in (
        GaussianNoise,
        SaltAndPepperNoise,
        MaskingNoise,
        SwapNoise,
        IdentityCorruption,
        Compose,
    )
}
_MAX_COMPOSE_DEPTH = 8


def library_versions():
    """The versions a saved model records and checks when loaded."""
    return {"skdae": __version__, "torch": torch.__version__, "scikit-learn": sklearn.__version__}


def warn_on_version_mismatch(saved, what="model"):
    """Warn, like scikit-learn's InconsistentVersionWarning, when versions differ."""
    current = library_versions()
    saved = saved if isinstance(saved, dict) else {}
    for name in ("skdae", "torch"):
        if saved.get(name) not in (None, current[name]):
            warn(
                f"This {what} was saved with {name} {str(saved[name])[:40]} and is loaded with "
                f"{name} {current[name]}. It may not work as it did, or at all; refit it "
                f"with {name} {current[name]} if in doubt.",
                InconsistentVersionWarning,
            )


# ------------------------------------------------------------------------ saving


def save_model(estimator, path, *, include_optimizer=True, key=None):
    """Write a fitted estimator to ``path`` in the safe format (atomically).

    Without the optimizer state the file is a third of the size (Adam keeps two
    tensors per weight); a model loaded from it continues training with a fresh
    optimizer. With ``key``, the file carries an HMAC-SHA256 signature under it.
    """
    key = check_key(key)
    fitted = estimator._get_fitted_state()
    tensors, fitted_json = {}, {}
    for field in estimator._fitted_fields:
        if field.name not in fitted:  # an optional attribute the model does not have
            continue
        value = fitted[field.name]
        if field.kind == MODULE:
            tensors.update({_MODULE_PREFIX + name: t for name, t in value.items()})
        elif field.kind == OPTIMIZER:
            if value is not None and include_optimizer:
                for index, state in value["state"].items():
                    for name, t in state.items():
                        if isinstance(t, torch.Tensor):
                            tensors[f"{_OPTIMIZER_PREFIX}{index}.{name}"] = t.float()
                # The rate of the last step (where the schedule stood); the other
                # hyperparameters follow from the estimator's parameters.
                fitted_json[field.name] = {"lr": [g["lr"] for g in value["param_groups"]]}
        elif field.kind == CORRUPTION:
            fitted_json[field.name] = corruption_to_json(value)
        else:
            fitted_json[field.name] = _plain(value)
    document = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "estimator": type(estimator).__name__,
        "versions": library_versions(),
        "params": _params_to_json(estimator),
        "fitted": fitted_json,
    }
    path = Path(path)
    with atomic_write(path) as stream:
        write_model_file(stream, document, tensors, key=key)
    return path


# ----------------------------------------------------------------------- loading


def load_estimator(estimator_class, path, *, key=None):
    """Read a model written by :func:`save_model` (or by skdae 0.1 to 0.3).

    ``estimator_class`` is the class the file must hold, or a tuple of classes of
    which it must hold one (the command line takes any of skdae's estimators). Every
    way the file can be wrong ends in ModelFileError naming it.
    """
    key = check_key(key)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Model file {path} does not exist.")
    try:
        if is_legacy_model_file(path):
            if key is not None:
                raise ModelFileError(
                    f"{path} was written by skdae 0.1 to 0.3, whose files carry no "
                    "signature, so it cannot be verified with the key given. If you trust "
                    "it, load it without a key and save it again with one."
                )
            document, tensors = read_legacy_model_file(path, _parse_json)
        else:
            document, tensors = read_model_file(path, key=key)
        return _restore(estimator_class, path, document, tensors)
    except ModelFileError:
        raise
    except Exception as exc:  # anything else the content provoked, said as what it is
        raise ModelFileError(
            f"{path} cannot be restored as an skdae model: {type(exc).__name__}: {str(exc)[:300]}"
        ) from exc


def _restore(estimator_class, path, document, tensors):
    estimator_class = _check_header(estimator_class, path, document)
    warn_on_version_mismatch(document.get("versions"))
    estimator = _estimator_from_params(estimator_class, path, document.get("params"))
    fitted = _fitted_values(estimator, path, document.get("fitted"))
    _check_architecture(estimator, path, fitted)
    fitted["module_"] = _module_state(estimator, path, fitted["_architecture"], tensors)
    optimizer = _optimizer_state(estimator, path, fitted["_architecture"], tensors)
    if optimizer is not None:
        optimizer["lr"] = _learning_rates(path, document["fitted"].get("_optimizer"))
        fitted["_optimizer"] = optimizer
    estimator._set_fitted_state(fitted)
    return estimator


def _check_header(estimator_class, path, document):
    version = document.get("format_version")
    if document.get("format") != FORMAT_NAME or not isinstance(version, int):
        raise ModelFileError(f"{path} is not an skdae model file (no '{FORMAT_NAME}' header).")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} uses model format {version}, newer than this skdae ({__version__}) "
            f"reads ({FORMAT_VERSION}). Upgrade skdae to load it."
        )
    saved_class = document.get("estimator", "DenoisingAutoencoder")  # format 1 had one
    classes = estimator_class if isinstance(estimator_class, tuple) else (estimator_class,)
    for cls in classes:
        if saved_class == cls.__name__:
            return cls
    wanted = " or a ".join(cls.__name__ for cls in classes)
    saved_class = printable(str(saved_class)[:60])  # read from the file: no escapes
    raise ModelFileError(
        f"{path} holds a {saved_class}, not a {wanted}; load it with {saved_class}.load."
    )


def _estimator_from_params(estimator_class, path, params):
    if not isinstance(params, dict):
        raise ModelFileError(f"{path}: its parameters are not an object.")
    params = with_old_parameters(estimator_class, params)
    unknown = sorted(set(params) - set(estimator_class._get_param_names()))
    if unknown:
        raise ModelFileError(
            f"{path} sets parameters {unknown[:5]} that {estimator_class.__name__} does not "
            "have; it was written by another version or altered."
        )
    try:
        for name in estimator_class._tuple_parameters:
            if isinstance(params.get(name), list):
                params[name] = tuple(params[name])
        if isinstance(params.get("corruption"), dict):
            params["corruption"] = corruption_from_json(params["corruption"])
        estimator = estimator_class(**params)
        estimator._validate_params()
        check_counts_are_not_bools(estimator, estimator._count_parameters)
    except ModelFileError as exc:  # the corruption's messages say "the model file"
        raise ModelFileError(f"{path}: {exc}") from None
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"{path} holds a parameter skdae refuses: {exc}") from None
    return estimator


def _fitted_values(estimator, path, saved):
    """The fitted values of the document, each checked as its declaration says."""
    if not isinstance(saved, dict):
        raise ModelFileError(f"{path}: its fitted values are not an object.")
    fields = {field.name: field for field in estimator._fitted_fields}
    unknown = sorted(set(saved) - set(fields))
    if unknown:
        raise ModelFileError(f"{path} holds fitted values skdae does not know: {unknown[:5]}.")
    fitted = {}
    for field in estimator._fitted_fields:
        if field.kind in (MODULE, OPTIMIZER) or field.name not in saved:
            continue  # tensors come later; a missing value takes its declared default
        value = saved[field.name]
        try:
            if field.kind == CORRUPTION:
                value = corruption_from_json(value)
            elif field.check is not None:
                field.check(value)
        except (ValueError, TypeError) as exc:
            raise ModelFileError(
                f"{path}: the fitted value {field.name} must be {exc}; the file was altered "
                "or written by something other than skdae."
            ) from None
        fitted[field.name] = value
    missing = [
        field.name
        for field in estimator._fitted_fields
        if field.kind not in (MODULE, OPTIMIZER)
        and field.name not in fitted
        and field.default is REQUIRED
        and not field.optional
    ]
    if missing:
        raise ModelFileError(f"{path} lacks the fitted values {missing}.")
    _check_consistency(path, fitted)
    return fitted


def _check_consistency(path, fitted):
    """The values that describe one training history must agree with each other."""
    n_iter = fitted["n_iter_"]
    problems = []
    if len(fitted["loss_curve_"]) != n_iter or len(fitted["epoch_times_"]) != n_iter:
        problems.append("loss_curve_ and epoch_times_ must have n_iter_ entries")
    scores = fitted["validation_scores_"]
    if scores is not None and len(scores) > n_iter:
        problems.append("validation_scores_ has more entries than epochs trained")
    if fitted["best_epoch_"] > n_iter:
        problems.append("best_epoch_ is beyond n_iter_")
    if fitted.get("_schedule_origin", 0) > n_iter:
        problems.append("_schedule_origin is beyond n_iter_")
    names = fitted.get("feature_names_in_")
    if names is not None and len(names) != fitted["n_features_in_"]:
        problems.append("feature_names_in_ must name n_features_in_ columns")
    if fitted["loss_"] == "bce" and fitted["output_activation_"] != "sigmoid":
        problems.append("loss_='bce' needs output_activation_='sigmoid'")
    if problems:
        raise ModelFileError(f"{path} is inconsistent: {'; '.join(problems)}.")
    if names is not None:
        fitted["feature_names_in_"] = np.asarray(names, dtype=object)
    arch = fitted["_architecture"]
    fitted["_architecture"] = {k: tuple(v) if isinstance(v, list) else v for k, v in arch.items()}


def _check_architecture(estimator, path, fitted):
    """The architecture must be the one the constraint table allows and the parameters
    (with its own sizes substituted) describe for ``n_features_in_``."""
    arch = fitted["_architecture"]
    probe = clone(estimator)
    own = {k: v for k, v in arch.items() if k in probe.get_params(deep=False)}
    try:
        probe.set_params(**own)
        probe._validate_params()
        check_counts_are_not_bools(probe, probe._count_parameters)
        probe.output_activation_ = fitted["output_activation_"]
        expected = probe._make_architecture(fitted["n_features_in_"], warn=False)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"{path}: its architecture is not one skdae builds: {exc}") from None
    # Entries added after 0.1 may be missing: the network's default stands in for them.
    optional = set(type(estimator)._architecture_entries_added)
    if not set(expected) - optional <= set(arch) <= set(expected) or any(
        arch[name] != expected[name] for name in arch
    ):
        raise ModelFileError(
            f"{path}: its architecture {quoted(arch)} does not match its parameters and "
            f"n_features_in_={fitted['n_features_in_']} (expected {quoted(expected)})."
        )


def _module_state(estimator, path, arch, tensors):
    """The network's tensors, checked against the shapes ``arch`` gives, before building.

    The parameter count is compared first (arithmetic only), so that an architecture
    whose layers the file does not hold is refused before it is even laid out.
    """
    state = {
        name[len(_MODULE_PREFIX) :]: t
        for name, t in tensors.items()
        if name.startswith(_MODULE_PREFIX)
    }
    stored = sum(t.numel() for t in state.values())
    declared = type(estimator)._parameter_count(**arch)
    if stored != declared:
        raise ModelFileError(
            f"{path}: its architecture has {declared:,} parameters but the file stores "
            f"{stored:,} weights; the file was altered."
        )
    with torch.device("meta"):  # shapes only: nothing is allocated
        expected = type(estimator)._network_builder(**arch).state_dict()
    shapes = {name: tuple(t.shape) for name, t in state.items()}
    if shapes != {name: tuple(t.shape) for name, t in expected.items()}:
        raise ModelFileError(f"{path}: its weights do not have the shapes of its architecture.")
    for name, tensor in state.items():
        if tensor.dtype != torch.float32 or not torch.isfinite(tensor).all():
            raise ModelFileError(f"{path}: weight {name} is not finite float32.")
    unknown = [name for name in tensors if not name.startswith((_MODULE_PREFIX, _OPTIMIZER_PREFIX))]
    if unknown:
        raise ModelFileError(f"{path} holds tensors skdae does not know: {unknown[:5]}.")
    return state


def _optimizer_state(estimator, path, arch, tensors):
    """The optimizer's per-parameter state, checked against the network's parameters.

    Torch's fused Adam kernel does not check shapes: a wrong one crashes the process, so
    everything is checked here. The hyperparameters (param_groups) are not read from the
    file: they come from the estimator's parameters, as for a fresh optimizer.
    """
    saved = {}
    for name, tensor in tensors.items():
        if not name.startswith(_OPTIMIZER_PREFIX):
            continue
        index, _, key = name[len(_OPTIMIZER_PREFIX) :].partition(".")
        if not index.isdigit():
            raise ModelFileError(f"{path}: optimizer tensor {name[:80]!r} is misnamed.")
        saved.setdefault(int(index), {})[key] = tensor
    if not saved:
        return None
    with torch.device("meta"):
        parameters = list(type(estimator)._network_builder(**arch).parameters())
    layout = OPTIMIZER_STATE[estimator.solver]
    if set(saved) != set(range(len(parameters))):
        raise ModelFileError(
            f"{path}: its optimizer state covers parameters {sorted(saved)[:8]}, not the "
            f"network's {len(parameters)}; the file was altered."
        )
    steps = set()
    for index, state in saved.items():
        if set(state) != set(layout):
            raise ModelFileError(
                f"{path}: the optimizer state of parameter {index} holds {sorted(state)}, "
                f"where solver={estimator.solver!r} keeps {sorted(layout)}."
            )
        for key, kind in layout.items():
            tensor = state[key]
            shape = () if kind == "count" else tuple(parameters[index].shape)
            if (
                tensor.dtype != torch.float32
                or tuple(tensor.shape) != shape
                or not torch.isfinite(tensor).all()
                or (kind.endswith(">= 0") and (tensor < 0).any())
            ):
                raise ModelFileError(
                    f"{path}: optimizer state {key} of parameter {index} must be finite "
                    f"float32 of shape {shape}{' and >= 0' if kind.endswith('>= 0') else ''}."
                )
            if kind == "count":
                step = float(tensor)
                if step < 1 or step != math.floor(step):
                    raise ModelFileError(f"{path}: an optimizer step count is {step}.")
                steps.add(step)
    if len(steps) > 1:
        raise ModelFileError(f"{path}: its parameters have taken different numbers of steps.")
    return {"state": dict(sorted(saved.items()))}


def _learning_rates(path, saved):
    """The rate of the last step, one per parameter group (one, in skdae's optimizers)."""
    if saved is None:  # format 1 kept it in the weights member; the schedule resets it
        return None
    rates = saved.get("lr") if isinstance(saved, dict) and len(saved) == 1 else None
    if (
        not isinstance(rates, list)
        or len(rates) != 1
        or not all(isinstance(r, (int, float)) and math.isfinite(r) and r > 0 for r in rates)
    ):
        raise ModelFileError(f"{path}: the optimizer's learning rate is malformed.")
    return rates


# ------------------------------------------------------------------ the document


def _params_to_json(estimator):
    params = estimator.get_params(deep=False)
    if not isinstance(params["random_state"], (int, type(None))):
        params["random_state"] = None  # a RandomState's position cannot be stored as data
    for name in type(estimator)._tuple_parameters:
        if not isinstance(params[name], str):  # 'auto' stays a string
            params[name] = list(np.atleast_1d(params[name]).tolist())
    if isinstance(params["corruption"], BaseCorruption):
        params["corruption"] = corruption_to_json(params["corruption"])
    return _plain(params)


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


def corruption_from_json(spec, depth=0):
    """Rebuild a corruption from :func:`corruption_to_json`'s data; no other class.

    The result is validated as ``fit`` validates a corruption.
    """
    if not isinstance(spec, dict) or set(spec) != {"class", "params"}:
        raise ModelFileError(f"A corruption in the model file is malformed: {quoted(spec)}.")
    cls = _CORRUPTIONS.get(spec["class"]) if isinstance(spec["class"], str) else None
    if cls is None:
        raise ModelFileError(f"Unknown corruption class {quoted(spec['class'])} in the model file.")
    params = spec["params"]
    if not isinstance(params, dict) or not set(params) <= set(cls._get_param_names()):
        raise ModelFileError(f"The parameters of {cls.__name__} in the model file are malformed.")
    params = dict(params)
    if cls is Compose:
        if depth >= _MAX_COMPOSE_DEPTH or not isinstance(params.get("corruptions"), list):
            raise ModelFileError("A Compose corruption in the model file is malformed.")
        params["corruptions"] = [corruption_from_json(c, depth + 1) for c in params["corruptions"]]
    else:  # JSON has no tuples: the pairs come back as written (clip, a std range)
        for name in ("clip", "std"):
            if isinstance(params.get(name), list):
                params[name] = tuple(params[name])
    try:
        return cls(**params).validate()
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"The model file holds a corruption skdae refuses: {exc}") from None


def _plain(value):
    """``value`` as JSON-able data: numpy scalars as numbers, tuples as lists."""
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
