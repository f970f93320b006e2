"""Training helpers: one epoch, the validation loss, early stopping, progress lines.

They take tensors that already live on the training device and validated settings;
validation happens once, at the estimator's public edge.
"""

import math
import sys
import time

import torch
import torch.nn.functional as F

from skdae._dense_step import AutogradStep, DenseStep
from skdae._network import copy_state


def _bce(pre_activation, output_activation, target):
    # With a sigmoid output, BCE on the logits is the stable form of BCE on sigmoid(logits).
    return F.binary_cross_entropy_with_logits(pre_activation, target)


def _mse(pre_activation, output_activation, target):
    return F.mse_loss(output_activation(pre_activation), target)


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


def make_training_step(module, loss):
    """The fastest step that trains ``module`` on ``loss`` ('bce' or 'mse'): the
    hand-written dense backward pass where it applies, else autograd."""
    return DenseStep.build(module, loss) or AutogradStep(module, LOSSES[loss])


def train_one_epoch(
    module,
    optimizer,
    loss,
    X_target,
    *,
    X_input,
    corruption,
    batch_size,
    generator,
    shuffle,
    learning_rate=None,
    on_batch=None,
):
    """Run one pass over the data and return the mean training loss.

    ``loss`` names the loss, a key of ``LOSSES``.

    ``learning_rate``, when given, maps the fraction of the epoch done after a batch
    (in (0, 1]) to the rate for that batch's step; otherwise the optimizer's rate stays.

    ``X_input`` is None for ordinary training (each batch of ``X_target`` is corrupted
    afresh on its device) or a tensor of pre-corrupted inputs aligned with ``X_target``.
    The loss is summed on the device and read once per epoch: one host sync, not one
    per batch.
    """
    module.train()
    step = make_training_step(module, loss)
    n_samples = X_target.shape[0]
    order = (
        torch.randperm(n_samples, generator=generator, device=X_target.device)
        if shuffle
        else None
    )
    total = torch.zeros((), dtype=torch.float64, device=X_target.device)
    for start in range(0, n_samples, batch_size):
        rows = order[start : start + batch_size] if shuffle else slice(start, start + batch_size)
        target = X_target[rows]
        with torch.no_grad():
            inputs = (
                corruption._corrupt_tensor(target, generator) if X_input is None else X_input[rows]
            )
        if learning_rate is not None:
            rate = learning_rate(min(start + batch_size, n_samples) / n_samples)
            for group in optimizer.param_groups:
                group["lr"] = rate
        batch_loss = step(inputs, target)
        optimizer.step()
        total.add_(batch_loss, alpha=target.shape[0])
        if (start // batch_size + 1) % FLUSH_SUBNORMALS_EVERY == 0:
            flush_subnormal_state(optimizer)
        if on_batch is not None:
            on_batch(min(start + batch_size, n_samples), n_samples)
    return float(total) / n_samples


@torch.no_grad()
def flush_subnormal_state(optimizer):
    """Set the optimizer-state values too small for a normal float to zero, in place."""
    for state in optimizer.state.values():
        for value in state.values():
            if isinstance(value, torch.Tensor) and value.is_floating_point() and value.dim():
                value.masked_fill_(value.abs() < torch.finfo(value.dtype).tiny, 0.0)


@torch.no_grad()
def evaluation_loss(module, loss_fn, X_input, X_target, batch_size):
    """Mean loss of reconstructing ``X_target`` from ``X_input``, without training."""
    module.eval()
    total = torch.zeros((), dtype=torch.float64, device=X_target.device)
    for start in range(0, X_target.shape[0], batch_size):
        rows = slice(start, start + batch_size)
        target = X_target[rows]
        pre = module.decoder(module.encoder(X_input[rows]))
        total += loss_fn(pre, module.output_activation, target) * target.shape[0]
    return float(total) / X_target.shape[0]


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
            self.best_loss = loss
            self.best_epoch = epoch
            self.best_state = copy_state(module)
        return self.epochs_without_improvement >= self.patience


class ProgressPrinter:
    """What a user watching a long fit wants to see.

    ``verbose >= 1``: one line per epoch (loss, validation loss, seconds), as
    scikit-learn's MLP prints them. ``verbose >= 2``: also a live batch counter within
    each epoch, redrawn in place on stderr.
    """

    def __init__(self, verbose, total_epochs, stream=None):
        self.verbose = verbose
        self.total_epochs = total_epochs
        self.stream = stream
        self._width = len(str(total_epochs))
        self._epoch_started = None
        self._last_draw = 0.0

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
        if n_done == n_total:
            stream.write("\r" + " " * 40 + "\r")
        stream.flush()

    def end_epoch(self, epoch, loss, validation_loss=None, note=""):
        seconds = time.perf_counter() - self._epoch_started
        if self.verbose < 1:
            return seconds
        line = f"epoch {epoch:>{self._width}}/{self.total_epochs}  loss {loss:.6f}"
        if validation_loss is not None:
            line += f"  val_loss {validation_loss:.6f}"
        line += f"  {seconds:.2f}s"
        if note:
            line += f"  {note}"
        print(line, file=self.stream or sys.stdout, flush=True)
        return seconds
