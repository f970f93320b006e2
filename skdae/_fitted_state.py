"""The fitted state of an estimator, declared once and copied, saved and restored from there.

An estimator lists what ``fit`` learns in ``_fitted_fields``: each :class:`Fitted` names
an attribute, says what kind of value it holds and, for attributes added after 0.1, what
a model saved before they existed had instead. Everything that moves a fitted model goes
through that one list: pickling (``__getstate__`` / ``__setstate__``), the safe file
format (``skdae._persistence``), the migrations of old files and pickles, and the
snapshot that a failed or interrupted fit restores.

The state itself is a plain dict, attribute name -> value, holding copies: CPU tensors
for the network and the optimizer, a clone of the corruption, lists and numbers for the
rest. The device is not part of it: the parameter ``device`` is resolved again wherever
the state is restored, so a model fitted on a GPU loads on a laptop.
"""

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.base import clone

from skdae._device import cpu_copy, resolve_device
from skdae._files import quoted
from skdae._network import load_state

REQUIRED = object()  # no default: every version of skdae saved this attribute

# The kinds of fitted value, and how each is copied out of a live estimator.
VALUE = "value"  # numbers, strings, lists and dicts of them (JSON-able)
NAMES = "names"  # feature_names_in_: an object array of str
CORRUPTION = "corruption"  # a BaseCorruption
MODULE = "module"  # the torch network (its state dict)
OPTIMIZER = "optimizer"  # the torch optimizer (its state dict)


@dataclass(frozen=True)
class Fitted:
    """One fitted attribute: its name, its kind, and the value of models saved before it.

    ``optional`` attributes may be absent from a fitted model (``feature_names_in_``
    exists only when ``X`` had string column names).
    """

    name: str
    kind: str = VALUE
    default: object = REQUIRED
    optional: bool = False
    # For values read from a model file: raises ValueError (saying what it expected)
    # unless the value is one fit could have made. Tensors are checked by the estimator.
    check: object = None


# ------------------------------------------------------- checks of values from files


def count(low=0, high=None, *, allow_none=False):
    """A check: an int (not a bool) in ``[low, high)`` (or None if allowed)."""

    def check(value):
        if value is None and allow_none:
            return
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < low
            or (high is not None and value >= high)
        ):
            bounds = f">= {low}" + (f" and < {high}" if high is not None else "")
            raise ValueError(f"an integer {bounds}, got {quoted(value, 60)}")

    return check


def one_of(options):
    """A check: one of ``options``."""
    options = tuple(sorted(options))

    def check(value):
        if not isinstance(value, str) or value not in options:
            raise ValueError(f"one of {list(options)}, got {quoted(value, 60)}")

    return check


def number(*, low=-math.inf):
    """A check: a finite float (or int) of at least ``low``."""

    def check(value):
        if (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not math.isfinite(value)
            or value < low
        ):
            raise ValueError(f"a finite number >= {low}, got {quoted(value, 60)}")

    return check


def numbers(*, low=-math.inf, allow_none=False):
    """A check: a list of finite numbers of at least ``low`` (or None if allowed)."""
    each = number(low=low)

    def check(value):
        if value is None and allow_none:
            return
        if not isinstance(value, list):
            raise ValueError(f"a list of numbers, got {quoted(value, 60)}")
        for item in value:
            each(item)

    return check


def strings(value):
    """A check: a list of str."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"a list of strings, got {quoted(value, 60)}")


def mapping(value):
    """A check: a dict with str keys."""
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"an object, got {quoted(value, 60)}")


def _export(value, kind):
    if kind == NAMES:
        return [str(name) for name in value]
    if kind == CORRUPTION:
        return clone(value)
    if kind in (MODULE, OPTIMIZER):
        return cpu_copy(value.state_dict())
    return copy.deepcopy(value)


class FittedStateMixin:
    """Get, set and clear an estimator's fitted state from its ``_fitted_fields``.

    The estimator provides ``_fitted_fields`` and the two builders that turn restored
    values into live torch objects: ``_build_module()`` (from the restored attributes,
    on ``self.device_``) and ``_build_optimizer()`` (for ``self.module_``).
    """

    _fitted_fields: tuple = ()

    def _is_fitted(self):
        return all(hasattr(self, field.name) for field in self._fitted_fields if not field.optional)

    def _get_fitted_state(self, *, tensors=True):
        """A copy of everything ``fit`` learned, on the CPU; None when not fitted.

        ``tensors=False`` leaves out the network's and the optimizer's tensors (what a
        rollback takes from the live objects instead, see :func:`snapshot`).
        """
        if not self._is_fitted():
            return None
        return {
            field.name: _export(getattr(self, field.name), field.kind)
            for field in self._fitted_fields
            if hasattr(self, field.name) and (tensors or field.kind not in (MODULE, OPTIMIZER))
        }

    def _set_fitted_state(self, state, *, device=None, module=None, optimizer=None):
        """Become the model that ``state`` describes; rebuild the network and optimizer.

        Attributes that the state lacks take their declared defaults (models saved by
        older versions); a missing required one raises ``KeyError``. ``device`` None
        resolves the ``device`` parameter, falling back to the CPU with a warning.
        ``module`` and ``optimizer``, when given, are the live objects to load the
        saved tensors into instead of building new ones from the current parameters.
        """
        self._clear_fitted_state()
        missing = [
            field.name
            for field in self._fitted_fields
            if field.name not in state and field.default is REQUIRED and not field.optional
        ]
        if missing:
            raise KeyError(f"the fitted state lacks {missing}")
        live = {}
        for field in self._fitted_fields:
            value = state.get(field.name, field.default)
            if field.name not in state and field.optional:
                continue
            if field.kind in (MODULE, OPTIMIZER):
                live[field.kind] = value
            elif field.kind == NAMES:
                setattr(self, field.name, np.asarray(value, dtype=object))
            else:
                setattr(self, field.name, copy.deepcopy(value))
        self.device_ = (
            resolve_device(self.device, fallback_to_cpu=True) if device is None else device
        )
        self.module_ = self._build_module() if module is None else module
        load_state(self.module_, live[MODULE])
        self._optimizer = self._build_optimizer() if optimizer is None else optimizer
        saved_optimizer = live.get(OPTIMIZER)
        if saved_optimizer is not None:
            if "param_groups" not in saved_optimizer:
                # From a model file: the hyperparameters come from the estimator's
                # parameters, as for a fresh optimizer, never from the file; only the
                # rate of the last step (where the schedule stood) comes with it.
                groups = self._optimizer.state_dict()["param_groups"]
                rates = saved_optimizer.get("lr") or [group["lr"] for group in groups]
                groups = [{**g, "lr": r} for g, r in zip(groups, rates, strict=True)]
                saved_optimizer = {"state": saved_optimizer["state"], "param_groups": groups}
            self._optimizer.load_state_dict(saved_optimizer)
            _match_parameter_layouts(self._optimizer)

    def _clear_fitted_state(self):
        """Forget everything ``fit`` learned: the estimator is unfitted again."""
        for name in [field.name for field in self._fitted_fields] + ["device_"]:
            self.__dict__.pop(name, None)


@torch.no_grad()
def _match_parameter_layouts(optimizer):
    """Lay each per-parameter state tensor out in memory as its parameter is.

    Saved state comes back contiguous, while a convolution's weights are channels-last;
    torch's fused Adam walks a parameter and its moments in memory order, so with the
    layouts apart it paired the wrong elements and trained on silently wrong moments.
    """
    for parameter, state in optimizer.state.items():
        for key, value in state.items():
            if (
                isinstance(value, torch.Tensor)
                and value.shape == parameter.shape
                and value.stride() != parameter.stride()
            ):
                state[key] = torch.empty_like(parameter).copy_(value)


def snapshot(estimator):
    """What to restore if the next fit fails (a :class:`Rollback`).

    No tensor is copied here. A fit that builds a new network leaves the old one
    untouched, so the rollback puts the old objects back as they are; a fit that trains
    the live network in place (``partial_fit``, ``warm_start``) copies it once, on its
    device, when its first epoch starts (the copy that epoch keeps anyway to undo a
    Ctrl-C), and the rollback loads that copy. The parameters may have changed since the
    network was built (a failed ``set_params(...)`` then ``fit``), so a rollback reuses
    the live objects rather than building new ones from the parameters.
    """
    state = estimator._get_fitted_state(tensors=False)
    if state is None:
        return Rollback(None)
    return Rollback(state, estimator.device_, estimator.module_, estimator._optimizer)


class Rollback:
    """The estimator as it was before a fit: its fitted values (copied), its live network
    and optimizer, and their tensors once training touches them (:meth:`keep_start`)."""

    def __init__(self, state, device=None, module=None, optimizer=None):
        self.state, self.device, self.module, self.optimizer = state, device, module, optimizer
        self.start = None  # (network state, optimizer state) before training changed them

    def keep_start(self, module, checkpoint):
        """``checkpoint`` holds ``module`` and its optimizer as they were before the
        first step of this fit: the tensors to restore if this is the live network."""
        if self.start is None and module is self.module:
            self.start = checkpoint


def restore(estimator, rollback):
    """Put back what :func:`snapshot` saved (or make the estimator unfitted again)."""
    if rollback.state is None:
        estimator._clear_fitted_state()
        return
    module, optimizer = rollback.module, rollback.optimizer
    # Untouched objects give their own state; trained ones, the copy of their start.
    module_state, optimizer_state = rollback.start or (
        module.state_dict(),
        optimizer.state_dict(),
    )
    state = dict(rollback.state)
    for field in estimator._fitted_fields:
        if field.kind == MODULE:
            state[field.name] = module_state
        elif field.kind == OPTIMIZER:
            state[field.name] = optimizer_state
    estimator._set_fitted_state(state, device=rollback.device, module=module, optimizer=optimizer)
