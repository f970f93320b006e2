"""The precision of a fit's matrix products and convolutions: chosen per call, measured.

Reduced precision is a property of one training step, carried by its tensors: the
hand-written dense step casts its operands to bfloat16 itself, and the autograd path
(convolutions, other networks) runs inside a thread-local :func:`torch.autocast`.
Weights, gradients, the optimizer state and the loss stay float32. Nothing here touches
torch's process-wide switches (``torch.backends.*.fp32_precision``,
``set_float32_matmul_precision``), so another thread's inference or fit runs exactly as
it would alone, and nobody waits for anybody.

What a fit reports in ``matmul_precision_`` is measured, not inferred from CPU flags:
:func:`measure_precision` multiplies by an identity matrix in the same mode as the fit,
and the rounding of the result shows the format the library really used (a user's own
process-wide switch included).
"""

from contextlib import nullcontext
from functools import lru_cache

import torch

from skdae._warnings import warn
from skdae.exceptions import InputError, PrecisionWarning

MATMUL_PRECISIONS = ("auto", "float32", "bfloat16", "tf32")
# What ``matmul_precision_`` can hold: the precision measured for one fit.
RESOLVED_PRECISIONS = ("float32", "bfloat16", "tf32")
# The precisions skdae applies per call: one tensor dtype each.
COMPUTE_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def resolve_matmul_precision(setting, device):
    """Turn the ``matmul_precision`` parameter into the precision a fit asks for,
    'float32' or 'bfloat16' (the ones skdae can apply per call).

    ``'auto'`` picks bfloat16 where the libraries compute it natively (oneDNN's bfloat16
    kernels on the CPU, as oneDNN itself reports them, so ``ONEDNN_MAX_CPU_ISA`` is
    honoured; bfloat16 support on CUDA) and float32 elsewhere. An explicit
    ``'bfloat16'`` that would only be emulated runs float32, with a
    :class:`~skdae.exceptions.PrecisionWarning`. ``'tf32'`` exists in torch only as a
    process-wide switch, which skdae no longer sets: it runs float32 operands, with a
    warning that says how to get TF32 anyway.
    """
    device = torch.device(device)
    if setting == "float32":
        return "float32"
    if setting == "auto":
        return "bfloat16" if native_bfloat16(device) else "float32"
    if setting == "tf32":
        if device.type != "cuda":
            raise InputError(
                f"matmul_precision='tf32' is not available on device {str(device)!r}; it "
                "takes 'auto', 'float32' or 'bfloat16'. Pass matmul_precision='auto' to "
                "let skdae choose."
            )
        if _torch_cuda_runs_tf32():
            return "float32"  # the user's own switch makes float32 operands TF32
        warn(
            "matmul_precision='tf32' needs torch's process-wide TF32 switch, which skdae "
            "does not set (it would change every other thread's products); this fit asks "
            "for float32 operands. Pass matmul_precision='bfloat16' for reduced precision "
            "per call, or set torch.backends.cuda.matmul.fp32_precision = 'tf32' yourself "
            "(matmul_precision_ then says 'tf32').",
            PrecisionWarning,
        )
        return "float32"
    if setting == "bfloat16" and not native_bfloat16(device):
        warn(
            f"matmul_precision='bfloat16' is not computed natively on {str(device)!r} "
            "(the library would emulate it, slower than float32); training runs its "
            "products in float32 and matmul_precision_ says so. Pass "
            "matmul_precision='auto' to choose quietly.",
            PrecisionWarning,
        )
        return "float32"
    return setting


def _torch_cuda_runs_tf32():
    matmul = torch.backends.cuda.matmul
    if hasattr(matmul, "fp32_precision"):
        return matmul.fp32_precision == "tf32"
    return bool(matmul.allow_tf32)  # torch < 2.9


def native_bfloat16(device):
    """True where torch's kernels for ``device`` multiply bfloat16 natively.

    On the CPU this asks oneDNN (which honours ``ONEDNN_MAX_CPU_ISA``), not the CPU
    flags: a CPU with AVX512-BF16 can still have oneDNN limited to AVX2.
    """
    device = torch.device(device)
    if device.type == "cpu":
        return _onednn_has_bfloat16()
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)
    return False


@lru_cache(maxsize=1)
def _onednn_has_bfloat16():
    if not torch.backends.mkldnn.is_available():
        return False
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(check is not None and check())


def autocast(precision, device):
    """The context a training step's autograd path runs in: a thread-local
    :func:`torch.autocast` to bfloat16 (convolutions, linear layers, matrix products),
    or nothing for float32."""
    if precision != "bfloat16":
        return nullcontext()
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)


def full_precision(device):
    """The context inference and validation run in: float32 operands whatever autocast
    region the caller (a callback inside a fit, say) is in."""
    return torch.autocast(torch.device(device).type, enabled=False)


# Relative rounding errors that tell the formats apart, for values in [1, 2): float32
# keeps them exactly, TF32 rounds to 2**-11 at most, bfloat16 to 2**-8.
_TF32_MAX_ERROR = 2.0**-11


def measure_precision(precision, device, *, convolutions=True):
    """The precision a product in ``precision``'s mode really runs at on ``device``:
    'float32', 'tf32' or 'bfloat16'.

    Multiplies values in [1, 2) by an identity matrix, as a matrix product and (with
    ``convolutions``, for networks that have them) as a 1x1 convolution, in the mode a
    training step uses (autocast for 'bfloat16'), and reads the format from the largest
    rounding error. A user's process-wide switch
    (oneDNN's bfloat16 mode, CUDA's TF32) shows up here as what it does, on this
    hardware, and not as what a flag promises. Cached per device, precision and the
    state of torch's switches.
    """
    device = torch.device(device)
    return _measure(precision, device, bool(convolutions), _switches_state(device))


def _switches_state(device):
    """The values of torch's process-wide switches that can change a float32 product
    on ``device`` (part of the measurement's cache key)."""
    names = ("mkldnn",) if device.type == "cpu" else ("cuda", "cudnn")
    state = []
    for name in names:
        backend = getattr(torch.backends, name, None)
        for part in ("matmul", "conv"):
            state.append(getattr(getattr(backend, part, None), "fp32_precision", None))
    if not any(state):  # torch < 2.9: one switch for all backends
        state.append(torch.get_float32_matmul_precision())
    return tuple(state)


@lru_cache(maxsize=32)
def _measure(precision, device, convolutions, _switches):
    generator = torch.Generator().manual_seed(0)
    # Shapes of a real layer: small products may take kernels that large ones do not.
    values = 1.0 + torch.rand((256, 256), generator=generator)
    values = values.to(device)
    identity = torch.eye(256, device=device)
    with torch.no_grad(), autocast(precision, device):
        results = [torch.mm(values, identity)]
        if convolutions:
            convolved = torch.nn.functional.conv2d(
                values.reshape(1, 256, 16, 16), identity.reshape(256, 256, 1, 1)
            )
            results.append(convolved.reshape(256, 256))
    return _format_of(results, values)


def _format_of(results, values):
    """The format whose rounding explains ``results`` of products of ``values`` (in
    [1, 2)) by an identity: no error is float32, up to 2**-11 TF32, more bfloat16."""
    error = max(float(((result.float() - values).abs() / values).max()) for result in results)
    if error == 0.0:
        return "float32"
    return "tf32" if error <= _TF32_MAX_ERROR else "bfloat16"
