"""The precision of float32 matrix products while training: resolve and apply it.

Weights, gradients, the optimizer and the loss stay float32 whatever the setting; only
the inputs of the matrix products may be rounded to a shorter format inside the kernel
(bfloat16 through oneDNN on CPUs with AVX512-BF16 or AMX, TF32 on CUDA GPUs). Torch
controls that with a process-wide, per-backend switch, so it is set for each training
pass over the data and restored afterwards; inference is left to the user's setting.
"""

import threading
from contextlib import contextmanager

import torch

from skdae.exceptions import InputError

MATMUL_PRECISIONS = ("auto", "float32", "bfloat16", "tf32")

# Our names -> torch's values of ``torch.backends.<backend>.matmul.fp32_precision``.
_TORCH_VALUES = {"float32": "ieee", "bfloat16": "bf16", "tf32": "tf32"}
# The precisions each device type's backend takes.
_SUPPORTED = {"cpu": {"float32", "bfloat16"}, "cuda": {"float32", "tf32"}}


def resolve_matmul_precision(setting, device):
    """Turn the ``matmul_precision`` parameter into 'float32', 'bfloat16' or 'tf32'.

    ``'auto'`` picks the fast format that the device computes natively: bfloat16 on a
    CPU with AVX512-BF16 or AMX, TF32 on CUDA (which torch ignores before Ampere),
    float32 elsewhere. An explicit reduced format the device cannot take is an error.
    """
    device = torch.device(device)
    if setting == "auto":
        if _backend_switch(device) is None:
            return "float32"
        if device.type == "cpu":
            return "bfloat16" if cpu_has_native_bfloat16() else "float32"
        return "tf32"
    if setting == "float32":
        return setting
    if setting not in _SUPPORTED.get(device.type, ()):
        usable = sorted(_SUPPORTED.get(device.type, {"float32"}))
        raise InputError(
            f"matmul_precision={setting!r} is not available on device {str(device)!r}; "
            f"it takes {usable}. Pass matmul_precision='auto' to let skdae choose."
        )
    if _backend_switch(device) is None:
        raise InputError(
            f"matmul_precision={setting!r} needs torch 2.9 or newer (this is torch "
            f"{torch.__version__}). Upgrade torch, or pass matmul_precision='float32'."
        )
    return setting


def cpu_has_native_bfloat16():
    """True when this CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX).

    Without it oneDNN would emulate bfloat16, which is slower than plain float32.
    """
    if not torch.backends.mkldnn.is_available():
        return False
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


_BACKENDS = {"cpu": "mkldnn", "cuda": "cuda"}


def _backend_switch(device):
    """The torch object whose ``fp32_precision`` governs float32 products on ``device``."""
    backend = _BACKENDS.get(torch.device(device).type)
    matmul = getattr(getattr(torch.backends, backend, None), "matmul", None) if backend else None
    return matmul if hasattr(matmul, "fp32_precision") else None


# Fits running at once in threads of one process share the switch: the first to enter
# saves the user's value, the last to leave puts it back.
_lock = threading.Lock()
_saved = {}  # device type -> [the user's value, number of fits inside]


@contextmanager
def matmul_precision(precision, device):
    """Within the block, float32 products on ``device`` use ``precision``.

    ``precision`` is a resolved value ('float32', 'bfloat16' or 'tf32'). Where torch has
    no per-backend switch (torch < 2.9, MPS) nothing changes.
    """
    switch = _backend_switch(device)
    if switch is None:
        yield
        return
    key = torch.device(device).type
    with _lock:
        entry = _saved.setdefault(key, [switch.fp32_precision, 0])
        entry[1] += 1
        switch.fp32_precision = _TORCH_VALUES[precision]
    try:
        yield
    finally:
        with _lock:
            entry[1] -= 1
            if entry[1] == 0:
                switch.fp32_precision = entry[0]
                del _saved[key]
