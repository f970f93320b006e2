"""The precision of float32 matrix products while training: resolve and apply it.

Convolutions count as matrix products here: they follow the same setting. Weights,
gradients, the optimizer and the loss stay float32 whatever the setting; only the inputs
of the matrix products may be rounded to a shorter format inside the kernel
(bfloat16 through oneDNN on CPUs with AVX512-BF16 or AMX, TF32 on CUDA GPUs). Torch
controls that with a process-wide, per-backend switch, so it is set for each training
pass over the data and restored afterwards; inference runs at the user's setting. Threads
that need different values of the switch take turns, so that a fit or a transform gets
exactly the precision it asked for whatever other threads do.
"""

import collections
import threading
import warnings
from contextlib import contextmanager

import torch

from skdae._interrupts import check_interrupt, interrupts_deferred
from skdae.exceptions import InputError, PrecisionWarning

MATMUL_PRECISIONS = ("auto", "float32", "bfloat16", "tf32")
# What ``matmul_precision_`` can hold: the setting resolved for one device.
RESOLVED_PRECISIONS = ("float32", "bfloat16", "tf32")

# Our names -> torch's values of ``torch.backends.<backend>.matmul.fp32_precision``.
_TORCH_VALUES = {"float32": "ieee", "bfloat16": "bf16", "tf32": "tf32"}
# The precisions each device type's backend takes.
_SUPPORTED = {"cpu": {"float32", "bfloat16"}, "cuda": {"float32", "tf32"}}


def resolve_matmul_precision(setting, device):
    """Turn the ``matmul_precision`` parameter into 'float32', 'bfloat16' or 'tf32'.

    ``'auto'`` picks the fast format that the device computes natively: bfloat16 on a
    CPU with AVX512-BF16 or AMX, TF32 on CUDA (which torch ignores before Ampere),
    float32 elsewhere. An explicit reduced format the device cannot take is an error;
    ``'bfloat16'`` on a CPU without bfloat16 hardware is float32, with a warning.
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
    if setting == "bfloat16" and not cpu_has_native_bfloat16():
        # oneDNN would run the products in float32 anyway (it has no bfloat16 kernels
        # for this CPU): say so, and record what really runs.
        warnings.warn(
            "matmul_precision='bfloat16' needs a CPU with AVX512-BF16 or AMX, which this "
            "one lacks; training runs its products in float32 (matmul_precision_ says "
            "so). Pass matmul_precision='auto' to choose quietly.",
            PrecisionWarning,
            stacklevel=4,
        )
        return "float32"
    return setting


def cpu_has_native_bfloat16():
    """True when this CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX).

    Without it oneDNN would emulate bfloat16, which is slower than plain float32.
    """
    if not torch.backends.mkldnn.is_available():
        return False
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


# Per device type, torch's backends whose switches govern float32 matrix products and
# float32 convolutions.
_BACKENDS = {"cpu": ("mkldnn", "mkldnn"), "cuda": ("cuda", "cudnn")}


class _Switches:
    """Torch's switches for one device type's matrix products and convolutions, read
    and set as one value: a tuple of their values, in that order."""

    def __init__(self, switches):
        self._switches = switches

    @property
    def fp32_precision(self):
        return tuple(switch.fp32_precision for switch in self._switches)

    @fp32_precision.setter
    def fp32_precision(self, values):
        for switch, value in zip(self._switches, values, strict=True):
            switch.fp32_precision = value

    def uniform(self, value):
        """The value that sets every switch to ``value`` (one of torch's names)."""
        return (value,) * len(self._switches)


def _backend_switch(device):
    """The switches of torch's ``fp32_precision`` that govern float32 products and
    convolutions on ``device``, or None where torch has no such switch."""
    backends = _BACKENDS.get(torch.device(device).type)
    if backends is None:
        return None
    matmul_backend, conv_backend = (getattr(torch.backends, name, None) for name in backends)
    matmul = getattr(matmul_backend, "matmul", None)
    conv = getattr(conv_backend, "conv", None)
    if not hasattr(matmul, "fp32_precision"):
        return None
    switches = [matmul, conv] if hasattr(conv, "fp32_precision") else [matmul]
    return _Switches(switches)


class _SwitchGate:
    """Who may run while torch's process-wide switch has which value.

    A training pass asks for one value of the switch of its device's backend; inference
    and validation ask for the user's own value (``None``). Threads whose wishes agree
    run together; a thread that needs another value waits until the others have left,
    and then sets it. Requests are served in arrival order, so a stream of fits at one
    precision cannot starve a thread that needs the other. A thread already inside
    (a transform called from a corruption, say) passes straight through.
    """

    def __init__(self):
        self._condition = threading.Condition()
        self._held = {}  # device type -> [value in force, holders, the user's value]
        self._queue = collections.deque()
        self._local = threading.local()

    @contextmanager
    def hold(self, switch, key, value):
        depth = getattr(self._local, "depth", {})
        self._local.depth = depth
        if depth.get(key):
            depth[key] += 1
            try:
                yield
            finally:
                depth[key] -= 1
            return
        ticket = object()
        with self._condition:
            self._queue.append(ticket)
            try:
                # In short waits, so that Ctrl-C stops a thread waiting for another.
                while not self._condition.wait_for(
                    lambda: self._may_enter(ticket, switch, key, value), timeout=0.1
                ):
                    check_interrupt()
            finally:
                self._queue.remove(ticket)
            self._enter(switch, key, value)
            self._condition.notify_all()
        depth[key] = 1
        try:
            yield
        finally:
            depth[key] = 0
            with self._condition:
                self._leave(switch, key)
                self._condition.notify_all()

    def _may_enter(self, ticket, switch, key, value):
        if self._queue[0] is not ticket:
            return False
        held = self._held.get(key)
        if held is None:
            return True
        in_force, _, users = held
        return (users if value is None else value) == in_force

    def _enter(self, switch, key, value):
        held = self._held.get(key)
        if held is None:
            users = switch.fp32_precision
            self._held[key] = [users if value is None else value, 1, users]
            if value is not None:
                switch.fp32_precision = value
        else:
            held[1] += 1

    def _leave(self, switch, key):
        held = self._held[key]
        held[1] -= 1
        if held[1] == 0:
            switch.fp32_precision = held[2]
            del self._held[key]


_gate = _SwitchGate()


@contextmanager
def matmul_precision(precision, device):
    """Within the block, float32 products on ``device`` use ``precision``.

    ``precision`` is a resolved value ('float32', 'bfloat16' or 'tf32'). Other threads
    of skdae that need another value of the switch wait until the block ends (see
    :class:`_SwitchGate`). Where torch has no per-backend switch (torch < 2.9, MPS)
    nothing changes.
    """
    switch = _backend_switch(device)
    if switch is None:
        yield
        return
    # Deferred: an interrupt between the gate's books and its try would lock it for good.
    value = switch.uniform(_TORCH_VALUES[precision])
    with interrupts_deferred(), _gate.hold(switch, torch.device(device).type, value):
        yield


@contextmanager
def users_precision(device):
    """Within the block, float32 products on ``device`` run at the user's own setting:
    inference and validation wait while another thread trains at another precision."""
    switch = _backend_switch(device)
    if switch is None:
        yield
        return
    with interrupts_deferred(), _gate.hold(switch, torch.device(device).type, None):
        yield
