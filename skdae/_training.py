"""The training machinery shared by every skdae estimator: the fit loop and its steps.

Read top-down, as skorch's ``fit_loop`` reads: :func:`fit_loop` runs epochs, each one
:func:`train_one_epoch` (batches -> corruption -> one training step -> optimizer step)
and, with early stopping, :func:`evaluation_loss` on the held-out rows; it checks for
divergence, tells :class:`ProgressPrinter` and :class:`EarlyStopping`, and hands an
:class:`EpochResult` to the estimator to record. The estimator prepares the settings
(:class:`TrainingSettings`) and the data on the device (:func:`prepare_data`); the
network is only asked for what its interface promises (``logits``, ``forward`` and, for
the hand-written step, ``dense_layers``), so another architecture reuses all of it.

Everything here takes tensors that already live on the training device and validated
settings: validation happens once, at the estimator's public edge.
"""

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from skdae._cuda_graph import graphed_epochs
from skdae._dense_step import AutogradStep, DenseStep
from skdae._device import as_float32_tensor
from skdae._interrupts import check_interrupt
from skdae._network import copy_state, load_state
from skdae._precision import COMPUTE_DTYPES, full_precision
from skdae._random import make_generator
from skdae._sparse import SparseRows, is_sparse
from skdae._sparse_layer import sparse_inputs
from skdae._time_budget import TimeBudget
from skdae._validation import has_missing_values
from skdae.exceptions import DivergenceError, InputError


def _bce(module, inputs, target, weights=None):
    # With a sigmoid output, BCE on the logits is the stable form of BCE on the output.
    if weights is None:
        return F.binary_cross_entropy_with_logits(module.logits(inputs), target)
    return F.binary_cross_entropy_with_logits(
        module.logits(inputs), target, weight=weights, reduction="sum"
    )


def _mse(module, inputs, target, weights=None):
    if weights is None:
        return F.mse_loss(module(inputs), target)
    return ((module(inputs) - target).square_() * weights).sum()


LOSSES = {"bce": _bce, "mse": _mse}

# Adam's first moment of a weight whose gradient is zero (a dead ReLU unit) decays by 0.9
# per step into the subnormal range and then sticks at the smallest subnormal, since
# 0.9 times it rounds back to it. Arithmetic on subnormals is many times slower on x86
# CPUs: left alone, the optimizer step grew from 6% to a third of an epoch within three
# epochs. Values below float32's smallest normal (1e-38) are zeroed every this many
# batches; next to gradients of 1e-5 they change nothing.
FLUSH_SUBNORMALS_EVERY = 25


def _fused_if_possible(optimizer_class):
    """Build the optimizer with its fused kernel where torch has one for the device.

    Adam's update is a chain of small element-wise ops; for this network it took 44% of
    a CPU epoch, and the fused kernel makes an epoch about 20% faster. Older torch
    builds lack the CPU kernel: then the default implementation is used.
    """

    def build(params, lr, alpha):
        params = list(params)
        try:
            return optimizer_class(params, lr=lr, weight_decay=alpha, fused=True)
        except (RuntimeError, TypeError, ValueError):
            return optimizer_class(params, lr=lr, weight_decay=alpha)

    return build


OPTIMIZERS = {
    "adam": _fused_if_possible(torch.optim.Adam),
    "adamw": _fused_if_possible(torch.optim.AdamW),
    "sgd": lambda params, lr, alpha: torch.optim.SGD(
        params, lr=lr, weight_decay=alpha, momentum=0.9, nesterov=True
    ),
}
# What each optimizer keeps per parameter once it has taken a step: a scalar step count
# or tensors of the parameter's shape. Model files are checked against this.
OPTIMIZER_STATE = {
    "adam": {"step": "count", "exp_avg": "like", "exp_avg_sq": "like, >= 0"},
    "adamw": {"step": "count", "exp_avg": "like", "exp_avg_sq": "like, >= 0"},
    "sgd": {"momentum_buffer": "like"},
}


def make_training_step(module, loss, precision="float32"):
    """The fastest step that trains ``module`` on ``loss`` ('bce' or 'mse') with its
    products in ``precision`` ('float32' or 'bfloat16'): the hand-written dense backward
    pass where it applies, else autograd."""
    dtype = COMPUTE_DTYPES[precision]
    return DenseStep.build(module, loss, dtype) or AutogradStep(module, LOSSES[loss], dtype)


def train_one_epoch(
    module,
    optimizer,
    step,
    X_target,
    *,
    X_input,
    corruption,
    batch_size,
    generator,
    shuffle,
    learning_rate=None,
    on_batch=None,
    observed=None,
    sample_weight=None,
    sparse=None,
    max_grad_norm=None,
    keep_going=None,
):
    """Run one pass over the data and return the mean training loss.

    ``step`` is the training step (see :func:`make_training_step`). ``observed`` (a bool tensor like
    ``X_target``, False where a value is missing) and ``sample_weight`` (one weight per
    row) weight each value's loss; missing values count for nothing and reach the
    network as :data:`MISSING_INPUT`. The mean is then the weighted mean.

    ``learning_rate``, when given, maps the fraction of the epoch done after a batch
    (in (0, 1]) to the rate for that batch's step; otherwise the optimizer's rate stays.

    ``X_input`` is None for ordinary training (each batch of ``X_target`` is corrupted
    afresh on its device) or a tensor of pre-corrupted inputs aligned with ``X_target``.
    The loss is summed on the device and read once per epoch: one host sync, not one
    per batch.

    ``sparse``, when given (a :class:`~skdae._sparse_layer.SparseInputs`), gives out
    each batch's dense target and its corrupted inputs as a sparse batch, for a step
    whose first layer multiplies it directly.

    ``max_grad_norm``, when given, clips each step's gradient (all the parameters
    together) to that norm before the optimizer takes it.

    ``keep_going``, when given, is asked before every batch but the first: when it
    says False the epoch ends there, and the mean is over the batches taken.
    """
    module.train()
    parameters = list(module.parameters()) if max_grad_norm is not None else None
    n_samples = X_target.shape[0]
    order = (
        torch.randperm(n_samples, generator=generator, device=X_target.device) if shuffle else None
    )
    mean = LossMean(X_target.device)
    for start in range(0, n_samples, batch_size):
        check_interrupt()
        if start > 0 and keep_going is not None and not keep_going():
            break
        if shuffle:
            rows = order[start : start + batch_size]
        else:
            rows = slice(start, start + batch_size)
        if sparse is not None:
            (target, inputs), batch_observed = sparse.take(rows, generator), None
        else:
            target, batch_observed = take_rows(X_target, rows, observed)
            inputs = _dense_inputs(target, batch_observed, rows, X_input, corruption, generator)
        if learning_rate is not None:
            rate = learning_rate(min(start + batch_size, n_samples) / n_samples)
            for group in optimizer.param_groups:
                group["lr"] = rate
        weights = value_weights(batch_observed, sample_weight, rows, target)
        if weights is None:
            mean.add_rows(step(inputs, target), target.shape[0])
        else:
            batch_mass = weights.sum()
            # The weighted mean over the batch: its gradient is the unweighted one's
            # when every weight is 1 and nothing is missing.
            batch_loss = step(inputs, target, weights / batch_mass.clamp_min(1e-30))
            mean.add_weighted(batch_loss * batch_mass, batch_mass)
        if parameters is not None:
            torch.nn.utils.clip_grad_norm_(parameters, max_grad_norm)
        optimizer.step()
        if (start // batch_size + 1) % FLUSH_SUBNORMALS_EVERY == 0:
            flush_subnormal_state(optimizer)
        if on_batch is not None:
            on_batch(min(start + batch_size, n_samples), n_samples)
    return mean.value()


@torch.no_grad()
def _dense_inputs(target, batch_observed, rows, X_input, corruption, generator):
    """A batch's inputs: ``target`` corrupted, or the rows of the pre-corrupted
    ``X_input``, with missing values presented as :data:`MISSING_INPUT`."""
    if X_input is None:
        inputs = corruption.corrupt_tensor(target, generator)
    else:
        inputs, _ = take_rows(X_input, rows)
    if batch_observed is not None:
        inputs = torch.where(batch_observed, inputs, MISSING_INPUT)
    return inputs


def take_rows(source, rows, observed=None):
    """The rows ``rows`` (a slice, or a tensor of indices) of ``source`` and where they
    are observed (None: everywhere): a tensor on the device, with ``observed`` the
    tensor of its observed mask, or a :class:`~skdae._sparse.SparseRows`, densified
    here."""
    if isinstance(source, SparseRows):
        return source.take(rows)
    if isinstance(rows, slice):
        batch = source[rows]
    else:
        batch = torch.index_select(source, 0, rows)  # twice as fast as source[rows]
    return batch, None if observed is None else observed[rows]


# What a missing value is presented to the network as: the value MaskingNoise uses, so a
# network trained with masking already knows what a hidden value looks like.
MISSING_INPUT = 0.0


def value_weights(batch_observed, sample_weight, rows, target):
    """The weight of each value of a batch in the loss, or None when all weigh the same
    (``batch_observed``: the batch's observed mask, or None)."""
    if batch_observed is None and sample_weight is None:
        return None
    if batch_observed is None:
        weights = torch.ones_like(target)
    else:
        weights = batch_observed.to(target.dtype)
    if sample_weight is not None:
        weights = weights * sample_weight[rows, None]
    return weights


@torch.no_grad()
def flush_subnormal_state(optimizer):
    """Set the optimizer-state values too small for a normal float to zero, in place."""
    for state in optimizer.state.values():
        for value in state.values():
            if isinstance(value, torch.Tensor) and value.is_floating_point() and value.dim():
                value.masked_fill_(value.abs() < torch.finfo(value.dtype).tiny, 0.0)


@torch.no_grad()
def evaluation_loss(
    module,
    loss,
    X_input,
    X_target,
    batch_size,
    observed=None,
    sample_weight=None,
    *,
    corruption=None,
    seed=None,
):
    """Mean ``loss`` (a key of ``LOSSES``) of reconstructing ``X_target`` from ``X_input``,
    weighted as :func:`train_one_epoch` weighs it.

    ``X_input`` None (sparse data, whose corrupted copy is not kept) corrupts each
    batch with ``corruption``, drawing from a generator seeded by ``seed`` at every
    call: the same inputs at every epoch.
    """
    module.eval()
    loss_fn = LOSSES[loss]
    mean = LossMean(X_target.device)
    generator = None if X_input is not None else make_generator(seed, X_target.device)
    # In float32, whatever precision the training steps run at.
    with full_precision(X_target.device):
        for start in range(0, X_target.shape[0], batch_size):
            check_interrupt()
            rows = slice(start, start + batch_size)
            target, batch_observed = take_rows(X_target, rows, observed)
            if X_input is None:
                inputs = corruption.corrupt_tensor(target, generator)
                if batch_observed is not None:
                    inputs = torch.where(batch_observed, inputs, MISSING_INPUT)
            else:
                inputs, _ = take_rows(X_input, rows)
            weights = value_weights(batch_observed, sample_weight, rows, target)
            if weights is None:
                mean.add_rows(loss_fn(module, inputs, target), target.shape[0])
            else:
                weighted_sum = loss_fn(module, inputs, target, weights)
                mean.add_weighted(weighted_sum, weights.sum())
    return mean.value()


class LossMean:
    """The mean loss of a pass over the data, summed on the device (one host sync, when
    it is read): per row, or weighted by value weights (missing values, sample weights).
    """

    def __init__(self, device):
        self._total = torch.zeros((), dtype=torch.float64, device=device)
        self._mass = torch.zeros((), dtype=torch.float64, device=device)
        self._rows = 0

    def add_rows(self, batch_mean, n_rows):
        """A batch's mean loss over its ``n_rows`` rows."""
        self._total.add_(batch_mean, alpha=n_rows)
        self._rows += n_rows

    def add_weighted(self, weighted_sum, mass):
        """A batch's loss summed with its value weights, and the weights' sum."""
        self._total.add_(weighted_sum)
        self._mass.add_(mass)

    def value(self):
        if self._rows:
            return float(self._total) / self._rows
        return float(self._total) / max(float(self._mass), 1e-30)


class EarlyStopping:
    """Track the best validation loss and its weights; say when patience runs out.

    As in scikit-learn's MLP: an epoch counts as an improvement when the loss drops by
    more than ``tol``; the best weights are those of the lowest loss seen.
    """

    def __init__(self, patience, tol):
        self.patience = patience
        self.tol = tol
        self.best_loss = math.inf
        self.best_epoch = None
        self.best_state = None
        self.epochs_without_improvement = 0

    def update(self, loss, module, epoch):
        """Record this epoch's validation loss; return True when training should stop."""
        if loss > self.best_loss - self.tol:
            self.epochs_without_improvement += 1
        else:
            self.epochs_without_improvement = 0
        if loss < self.best_loss:
            # The copy first: an interrupt during it leaves the previous best intact.
            state = copy_state(module)
            self.best_loss, self.best_epoch, self.best_state = loss, epoch, state
        return self.epochs_without_improvement >= self.patience


class ProgressPrinter:
    """What a user watching a long fit wants to see.

    ``verbose >= 1``: one line per epoch (loss, validation loss, seconds), as
    scikit-learn's MLP prints them. ``verbose >= 2``: also a live batch counter within
    each epoch, redrawn in place on stderr. ``total_epochs`` None: not known (a fit
    with ``max_time``), and the lines count epochs without a total.
    """

    def __init__(self, verbose, total_epochs, stream=None):
        self.verbose = verbose
        self.total_epochs = total_epochs
        self.stream = stream
        self._width = len(str(total_epochs or ""))
        self._epoch_started = None
        self._last_draw = 0.0
        self._counter_drawn = False

    def start_epoch(self):
        self._epoch_started = time.perf_counter()

    def batch_done(self, n_done, n_total):
        stream = sys.stderr
        # Redrawn in place only where a person watches; in logs it would be noise.
        if not stream.isatty():
            return
        now = time.perf_counter()
        # Redrawing every batch would cost more than the batch on small networks.
        if n_done < n_total and now - self._last_draw < 0.2:
            return
        self._last_draw = now
        stream.write(f"\r  {n_done}/{n_total} samples ({100 * n_done / n_total:3.0f}%)")
        self._counter_drawn = True
        if n_done == n_total:
            self._clear_counter()
        stream.flush()

    def _clear_counter(self):
        """Wipe the batch counter off its line (an epoch cut short leaves it there)."""
        if self._counter_drawn:
            sys.stderr.write("\r" + " " * 40 + "\r")
            sys.stderr.flush()
            self._counter_drawn = False

    def epoch_seconds(self):
        """Seconds since :meth:`start_epoch`."""
        return time.perf_counter() - self._epoch_started

    def end_epoch(self, epoch, loss, validation_loss=None, note="", seconds=None):
        """Print the epoch's line (when verbose); return its seconds (measured if None)."""
        seconds = self.epoch_seconds() if seconds is None else seconds
        self._clear_counter()
        if self.verbose < 1:
            return seconds
        line = f"epoch {epoch:>{self._width}}"
        if self.total_epochs is not None:
            line += f"/{self.total_epochs}"
        line += f"  loss {loss:.6f}"
        if validation_loss is not None:
            line += f"  val_loss {validation_loss:.6f}"
        line += f"  {seconds:.2f}s"
        if note:
            line += f"  {note}"
        print(line, file=self.stream or sys.stdout, flush=True)
        return seconds

    def note(self, message):
        """A line about the run itself (early stopping, an interrupt), when verbose."""
        self._clear_counter()
        if self.verbose >= 1:
            print(message, file=self.stream or sys.stdout, flush=True)


# ------------------------------------------------------------------------ the fit loop


@dataclass(frozen=True)
class TrainingSettings:
    """How one call to ``fit`` or ``partial_fit`` trains, resolved by the estimator.

    ``learning_rate`` maps a position in epochs, counted from the start of the current
    schedule, to the rate at that point (see ``skdae._schedule``).
    """

    loss: str
    corruption: object
    batch_size: int
    shuffle: bool
    seed: int
    precision: str
    learning_rate: Callable[[float], float]
    schedule_origin: int = 0
    max_grad_norm: float | None = None
    # max_time: the fit stops between batches once it is spent (None: no limit).
    time_budget: TimeBudget | None = None


@dataclass(frozen=True)
class TrainingData:
    """Training tensors on the device: the clean targets (missing values as
    :data:`MISSING_INPUT`), the pre-corrupted inputs (None to corrupt each batch
    afresh), where values are observed (None: everywhere), the sample weights (None:
    all 1) and the held-out ``(inputs, targets, observed, weights)`` or None."""

    target: torch.Tensor
    inputs: torch.Tensor | None = None
    validation: tuple | None = None
    observed: torch.Tensor | None = None
    sample_weight: torch.Tensor | None = None


def prepare_data(data, device, *, validation_fraction, corruption, seed):
    """Move the validated input ``data`` (a :class:`~skdae._validation.TrainingInput`:
    ``X``, ``X_noisy``, ``sample_weight``) to ``device`` once and hold out a validation
    part.

    NaN in ``X`` are missing values (``data.missing``, found when it was validated):
    they are recorded in ``observed`` and replaced by
    :data:`MISSING_INPUT`, so that no NaN reaches the network or the loss (a NaN in
    ``X_noisy`` is a hidden input, replaced the same way). ``validation_fraction`` None
    holds out nothing. The held-out inputs are corrupted once, with a generator fixed
    by ``seed``, so the validation loss is comparable from epoch to epoch and fit to fit.
    """
    X, X_noisy, sample_weight = data.X, data.X_noisy, data.sample_weight
    observed = None
    if data.is_sparse:
        target = SparseRows(X, device, fill=MISSING_INPUT, has_missing=data.sparse_missing)
    else:
        if data.missing is not None:
            observed = torch.as_tensor(~data.missing, device=device)
            X = np.where(data.missing, MISSING_INPUT, X)
        target = as_float32_tensor(X, device)
    inputs = None
    if X_noisy is not None and is_sparse(X_noisy):
        inputs = SparseRows(X_noisy, device, fill=MISSING_INPUT)
    elif X_noisy is not None:
        if has_missing_values(X_noisy):  # a copy only when there is something to replace
            X_noisy = np.nan_to_num(X_noisy, nan=MISSING_INPUT)
        inputs = as_float32_tensor(X_noisy, device)
    weights = None
    if sample_weight is not None:
        weights = torch.as_tensor(sample_weight, dtype=torch.float32, device=device)
    if validation_fraction is None:
        return TrainingData(target, inputs, None, observed, weights)
    n_samples = target.shape[0]
    n_validation = math.ceil(validation_fraction * n_samples)
    if n_samples - n_validation < 1:
        raise InputError(
            f"early_stopping=True holds out validation_fraction={validation_fraction} "
            f"of the data, which leaves no training sample out of n_samples = "
            f"{n_samples}. Pass more samples, a smaller validation_fraction, or "
            "early_stopping=False."
        )
    generator = make_generator(seed, device)
    order = torch.randperm(n_samples, generator=generator, device=device)
    val_rows, train_rows = order[:n_validation], order[n_validation:]

    def part(source, rows):
        if source is None:
            return None
        return source.subset(rows) if isinstance(source, SparseRows) else source[rows]

    val_target = part(target, val_rows)
    if inputs is None and data.is_sparse:
        # Corrupted batch by batch at each evaluation, from a generator seeded alike
        # (see evaluation_loss): a corrupted copy would be as large as the dense rows.
        val_inputs = train_inputs = None
    elif inputs is None:
        with torch.no_grad():
            val_inputs = corruption.corrupt_tensor(val_target, generator)
        train_inputs = None
    else:
        val_inputs, train_inputs = part(inputs, val_rows), part(inputs, train_rows)

    if observed is not None and val_inputs is not None:
        val_inputs = torch.where(observed[val_rows], val_inputs, MISSING_INPUT)
    validation = (val_inputs, val_target, part(observed, val_rows), part(weights, val_rows))
    return TrainingData(
        part(target, train_rows),
        train_inputs,
        validation,
        part(observed, train_rows),
        part(weights, train_rows),
    )


@dataclass(frozen=True)
class EpochResult:
    """What one epoch gave: the estimator records it in its curves."""

    epoch: int
    loss: float
    validation_loss: float | None
    seconds: float


class _EpochInterrupted(Exception):
    """Ctrl-C came during ``epoch``; the network and optimizer are back at its start."""

    def __init__(self, epoch):
        super().__init__(epoch)
        self.epoch = epoch


def fit_loop(
    module,
    optimizer,
    data,
    settings,
    *,
    first_epoch,
    n_epochs,
    progress,
    stopper,
    record,
    on_epoch_start=None,
    on_epoch_end=None,
    on_first_checkpoint=None,
):
    """Train ``module`` for up to ``n_epochs`` epochs, numbered from ``first_epoch``.

    Each epoch draws its shuffling and noise from a generator seeded by
    ``settings.seed + epoch``, so a fit is reproducible and a fit resumed from a saved
    model continues exactly. ``record(result)`` takes each finished epoch's
    :class:`EpochResult`; ``on_epoch_start()`` and ``on_epoch_end(result)`` (which
    returns True to stop) are called around each epoch when given. Stops early when
    ``stopper`` (an :class:`EarlyStopping` or None) says so. Raises
    :class:`DivergenceError` on a non-finite loss.

    With ``settings.time_budget``, the fit stops between batches once the budget is
    spent: the last epoch may be cut short, and it is recorded as the others are.

    Ctrl-C raises :class:`_EpochInterrupted` naming the epoch it stopped, and leaves
    network, optimizer, stopper and record consistent: an epoch counts once it is
    recorded; one not recorded is undone (the weights and the optimizer go back to where
    it began). Within :func:`~skdae._interrupts.interrupts_deferred`, as in the
    estimators' fits, Ctrl-C takes effect at the start of a batch only, so the steps
    between (recording, the stopper's update) happen whole.

    ``on_first_checkpoint(checkpoint)``, when given, receives the copy of the network's
    and the optimizer's state taken before the first step: the estimator's rollback
    keeps it rather than copying them again.
    """
    device = data.target.device
    on_batch = progress.batch_done if progress.verbose >= 2 else None
    last_recorded = first_epoch - 1
    # The state at the start of the epoch in progress, from the moment training may
    # have changed the weights until the epoch is recorded; None otherwise.
    checkpoint = None
    step = make_training_step(module, settings.loss, settings.precision)
    # Sparse batches for a first layer that multiplies them directly, where that
    # applies and pays (None: batches are densified).
    sparse = sparse_inputs(step, data, settings.corruption)
    # On CUDA, the epochs replayed from CUDA graphs where they can be (None: eagerly).
    graphed = graphed_epochs(
        module, optimizer, step, data, settings, n_epochs=n_epochs, on_batch=on_batch
    )
    budget = settings.time_budget
    try:
        for epoch in range(first_epoch, first_epoch + n_epochs):
            if budget is not None and budget.used_up():
                progress.note(
                    f"max_time={budget.seconds:g} s of training spent; stopping after "
                    f"epoch {epoch - 1}."
                )
                return
            if on_epoch_start is not None:
                on_epoch_start()
            checkpoint = (copy_state(module), _copy_optimizer_state(optimizer))
            if epoch == first_epoch and on_first_checkpoint is not None:
                on_first_checkpoint(checkpoint)
            progress.start_epoch()
            if budget is not None:
                budget.start_epoch()
            loss = _train_epoch(
                module, optimizer, step, data, settings, epoch, on_batch, device, graphed, sparse
            )
            validation_loss = None
            if data.validation is not None:
                val_inputs, val_target, val_observed, val_weights = data.validation
                validation_loss = evaluation_loss(
                    module,
                    settings.loss,
                    val_inputs,
                    val_target,
                    settings.batch_size,
                    observed=val_observed,
                    sample_weight=val_weights,
                    corruption=settings.corruption,
                    seed=settings.seed,
                )
            if budget is not None:
                budget.end_epoch()
            _check_finite(epoch, loss, validation_loss)
            result = EpochResult(epoch, loss, validation_loss, progress.epoch_seconds())
            patience_ran_out = stopper is not None and stopper.update(
                validation_loss, module, epoch
            )
            record(result)
            last_recorded, checkpoint = epoch, None
            progress.end_epoch(epoch, loss, validation_loss, seconds=result.seconds)
            if on_epoch_end is not None and on_epoch_end(result):
                return
            if patience_ran_out:
                progress.note(
                    f"Validation loss did not improve by more than tol={stopper.tol} for "
                    f"{stopper.patience} epochs; stopping and restoring epoch "
                    f"{stopper.best_epoch}."
                )
                return
    except KeyboardInterrupt:
        if checkpoint is not None:
            load_state(module, checkpoint[0])
            optimizer.load_state_dict(checkpoint[1])
        raise _EpochInterrupted(last_recorded + 1) from None


def _train_epoch(
    module, optimizer, step, data, settings, epoch, on_batch, device, graphed=None, sparse=None
):
    epochs_before = epoch - 1 - settings.schedule_origin

    def rate(fraction):
        return settings.learning_rate(epochs_before + fraction)

    if graphed is not None:
        loss = graphed.train_epoch(epoch, rate)
        if loss is not None:
            return loss

    return train_one_epoch(
        module,
        optimizer,
        step,
        data.target,
        X_input=data.inputs,
        corruption=settings.corruption,
        batch_size=settings.batch_size,
        generator=make_generator(settings.seed + epoch, device),
        shuffle=settings.shuffle,
        learning_rate=rate,
        on_batch=on_batch,
        observed=data.observed,
        sample_weight=data.sample_weight,
        sparse=sparse,
        max_grad_norm=settings.max_grad_norm,
        keep_going=None if settings.time_budget is None else settings.time_budget.another_batch,
    )


def _copy_optimizer_state(optimizer):
    state = optimizer.state_dict()
    return {
        "state": {
            key: {
                name: value.clone() if isinstance(value, torch.Tensor) else value
                for name, value in values.items()
            }
            for key, values in state["state"].items()
        },
        "param_groups": [dict(group) for group in state["param_groups"]],
    }


# A fit whose last epoch's loss is this many times its lowest has lost what it learnt:
# a step threw the weights far off and the rest of the fit did not bring them back
# (from one epoch to the next, the loss of a healthy fit moves by a few percent).
LOST_GROUND_RATIO = 1.5
# Fewer epochs than this say too little to judge by.
LOST_GROUND_MIN_EPOCHS = 3


def lost_ground(losses, first_epoch):
    """How a fit's loss rose and stayed up, as the sentence for a warning, or None.

    ``losses`` are the training losses of one call's epochs, the first of them epoch
    ``first_epoch``. The fit lost ground when the last is more than
    :data:`LOST_GROUND_RATIO` times the lowest.

    Examples
    --------
    >>> lost_ground([0.5, 0.2, 0.1, 0.09], first_epoch=1) is None
    True
    >>> rise = lost_ground([0.5, 0.1, 3.0, 0.4], first_epoch=1)
    >>> for part in rise.split(": "):
    ...     print(part)
    The training loss ended at 0.4, 4.0 times the lowest of this fit (0.1, epoch 2)
    it rose to 3 at epoch 3 and did not come back down.
    """
    if len(losses) < LOST_GROUND_MIN_EPOCHS:
        return None
    best = int(np.argmin(losses))
    lowest, last = float(losses[best]), float(losses[-1])
    if not lowest > 0 or not last > LOST_GROUND_RATIO * lowest:
        return None
    peak = best + int(np.argmax(losses[best:]))
    return (
        f"The training loss ended at {last:.3g}, {last / lowest:.1f} times the lowest of "
        f"this fit ({lowest:.3g}, epoch {first_epoch + best}): it rose to "
        f"{float(losses[peak]):.3g} at epoch {first_epoch + peak} and did not come back down."
    )


def _check_finite(epoch, loss, validation_loss):
    if math.isfinite(loss) and (validation_loss is None or math.isfinite(validation_loss)):
        return
    bad = loss if not math.isfinite(loss) else validation_loss
    raise DivergenceError(
        f"Training diverged at epoch {epoch}: the loss became {bad}. The estimator is left "
        "as it was before this call. Lower learning_rate_init or scale the data (e.g. with "
        "sklearn.preprocessing.StandardScaler)."
    )
