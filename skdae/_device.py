"""Devices: resolve the ``device`` parameter, move arrays there and copies back."""

import warnings

import torch

from skdae._warnings import warn
from skdae.exceptions import DeviceWarning, InputError


def resolve_device(device, *, fallback_to_cpu=False):
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ... into a ``torch.device``.

    An explicitly requested device that is missing is an error at fit time (the user
    asked for it), but only a warning when loading a saved model (``fallback_to_cpu``):
    a model fitted on a GPU must load on a laptop.
    """
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InputError(
            f"device={device!r} is not a device torch understands. "
            "Use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from exc
    problem = _unavailability(resolved)
    if problem is None:
        # "cuda" names the current device: say which, as the tensors there do
        # ("cuda:0"), so that device_ compares equal to their .device.
        if resolved.type == "cuda" and resolved.index is None:
            return torch.device("cuda", torch.cuda.current_device())
        return resolved
    if fallback_to_cpu:
        warn(f"{problem}; using the CPU instead.", DeviceWarning)
        return torch.device("cpu")
    raise InputError(f"{problem}. Pass device='auto' or device='cpu'.")


def _unavailability(device):
    if device.type == "cpu":
        return None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return f"device={str(device)!r} was requested but CUDA is not available"
        if device.index is not None and device.index >= torch.cuda.device_count():
            return (
                f"device={str(device)!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible"
            )
        return None
    if device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            return f"device={str(device)!r} was requested but MPS is not available"
        return None
    return f"device={str(device)!r} is not supported; skdae runs on 'cpu', 'cuda' or 'mps'"


def as_float32_tensor(X, device):
    """Move a numpy array to ``device`` as float32, sharing memory where torch can.

    A read-only array (a memmap opened with mode 'r', say) is accepted quietly: skdae
    never writes into its input tensors, so torch's warning about that does not apply.
    """
    if not X.flags.writeable:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            return torch.as_tensor(X, dtype=torch.float32, device=device)
    return torch.as_tensor(X, dtype=torch.float32, device=device)


def cpu_copy(value):
    """A detached CPU copy of every tensor in ``value`` (nested dicts, lists, tuples).

    The one way skdae takes tensors off the device: for pickles, model files and the
    snapshot of a fit. Other values are returned as they are.
    """
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {key: cpu_copy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(cpu_copy(item) for item in value)
    return value
