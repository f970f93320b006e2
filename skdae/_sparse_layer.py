"""The first layer multiplying a sparse batch directly, where that is faster.

A training batch of sparse rows is otherwise densified, corrupted densely and run
through the dense first layer, whose products then touch every zero. Here the batch
stays CSR: the first layer's forward product is a sparse-dense product and its weight
gradient adds each stored value's contribution to the weight's column, so the first
layer's work follows the nonzeros. The loss still needs the clean batch dense (its
target), so each batch is densified once either way.

It applies where its meaning is the dense path's (see :func:`sparse_inputs`): the
hand-written step on the CPU, no missing values (those need the dense observed mask),
and inputs whose corruption acts on the stored values alone: masking (a masked zero
was zero already), none, or a pre-corrupted sparse ``X_noisy``. Corruptions that fill
zeros (Gaussian, salt and pepper, swap) make the input dense anyway. And it applies
where it pays: inputs sparse enough (:data:`MAX_DENSITY`, measured).

The first layer runs in float32 even when the step's other products run in bfloat16:
torch's CPU CSR product has no bfloat16 kernel (2.13: "not implemented for
'BFloat16'"), and the embedding-bag sum used instead costs the same in either format,
so float32 is as fast and exact.
"""

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from skdae._corruption import Compose, IdentityCorruption, MaskingNoise
from skdae._sparse import SparseRows

# The largest density (stored values / all values) of the input matrix for which the
# sparse first layer is used, by the format the other layers compute in; denser inputs
# are densified. The sparse layer's work grows with the nonzeros and the dense one's
# with the columns, so the density decides. Epoch seconds of the TF-IDF setting of
# benchmarks/bench_sparse.py (hidden 256, latent 64, MaskingNoise(0.5), batch 128) on
# 6,000 random rows of 8,135 columns, densified -> sparse, AMD EPYC Zen 4, 2 threads:
#   density   float32            bfloat16
#   0.31%     1.53 -> 1.02 s     0.95 -> 0.79 s
#   0.49%     1.55 -> 1.12       0.97 -> 0.94
#   0.98%     1.61 -> 1.31       1.00 -> 1.15
#   1.97%     1.46 -> 1.55       0.94 -> 1.75
# (and 20,000 columns at 0.5%: float32 3.36 -> 2.72 s, bfloat16 2.33 -> 2.45 s; 3,269
# columns of tweets at 0.43%: bfloat16 0.23 -> 0.21 s). The bfloat16 step's dense
# products are twice as fast, so the sparse one pays only at sparser inputs there,
# breaking even near 0.5% (the tweets, 0.18%: 2.34 -> 1.80 s; float32 3.90 -> 2.45 s).
MAX_DENSITY = {torch.float32: 0.01, torch.bfloat16: 0.0045}
# "dense" or "sparse" forces that path wherever the sparse one applies, whatever the
# density (the benchmark and the tests compare both that way); None chooses.
FORCE = None


@dataclass(frozen=True)
class SparseBatch:
    """A batch of CSR rows as tensors: ``crow`` and ``col`` (int64), ``values``
    (float32), ``rows`` (the row of each value, int64) and the dense ``shape``."""

    crow: torch.Tensor
    col: torch.Tensor
    values: torch.Tensor
    rows: torch.Tensor
    shape: tuple

    @classmethod
    def from_scipy(cls, block):
        """The rows of the scipy CSR matrix ``block``, on the CPU."""
        crow = torch.from_numpy(block.indptr.astype(np.int64))
        col = torch.from_numpy(block.indices.astype(np.int64))
        values = torch.from_numpy(block.data.astype(np.float32))
        rows = torch.repeat_interleave(torch.arange(block.shape[0]), crow.diff())
        return cls(crow, col, values, rows, tuple(block.shape))

    @property
    def device(self):
        return self.values.device

    def with_values(self, values):
        """The same structure holding ``values``."""
        return SparseBatch(self.crow, self.col, values, self.rows, self.shape)

    def to_dense(self):
        dense = torch.zeros(self.shape, dtype=self.values.dtype, device=self.device)
        return dense.index_put_((self.rows, self.col), self.values, accumulate=True)


def first_layer_forward(batch, weight, bias, out):
    """``out = bias + batch @ weight.T`` with the CSR ``batch``.

    Each row is the sum of the weight's columns at its stored values, times the values:
    an embedding bag over the transposed weight, read in place. (torch's CSR product
    was slower at the densities this is used for: about 2 ms a batch against 0.5 at the
    tweets' 0.1%, since it wants the transposed weight contiguous, a copy per step.)
    """
    summed = F.embedding_bag(
        batch.col,
        weight.t(),
        batch.crow,
        mode="sum",
        per_sample_weights=batch.values,
        include_last_offset=True,
    )
    torch.add(summed, bias, out=out)


def first_layer_weight_grad(batch, grad, weight_grad):
    """``weight_grad = grad.T @ batch`` with the CSR ``batch``: each stored value adds
    its row's output gradient, times the value, to its column of the weight."""
    weight_grad.zero_()
    # Gathered as (out_features, nnz) and added along dim 1: each row of the gradient
    # is written in one pass over a contiguous row, not strided down its columns. In
    # the gradient's format (float32), whatever ``grad``'s.
    contributions = grad.t().index_select(1, batch.rows).to(weight_grad.dtype)
    weight_grad.index_add_(1, batch.col, contributions.mul_(batch.values))


def stored_value_corruption(corruption):
    """``corrupt(values, generator)`` doing what ``corruption`` does to a batch, on its
    stored values alone, or None when it would change the zeros (or is not one of
    skdae's own, whose meaning is known)."""
    kind = type(corruption)
    if kind is IdentityCorruption:
        return _unchanged
    if kind is MaskingNoise and float(corruption.value) == 0.0:
        return _dropping(float(corruption.fraction))
    if kind is Compose:
        parts = [stored_value_corruption(c) for c in corruption.corruptions]
        if parts and all(part is not None for part in parts):
            return _chained(parts)
    return None


def _unchanged(values, generator):
    return values


def _dropping(fraction):
    def drop(values, generator):
        # MaskingNoise's draw: a value is masked where a uniform draw falls below
        # ``fraction`` (no rescaling of the kept ones), here one draw per stored value.
        keep = torch.rand(values.shape, generator=generator, device=values.device) >= fraction
        return values * keep

    return drop


def _chained(parts):
    def corrupt(values, generator):
        for part in parts:
            values = part(values, generator)
        return values

    return corrupt


class SparseInputs:
    """Gives out each batch's dense target and its sparse, corrupted inputs.

    ``target``: the clean rows (a :class:`~skdae._sparse.SparseRows`, or a tensor when
    a sparse ``X_noisy`` came with dense ``X``); ``inputs``: the pre-corrupted rows (a
    SparseRows) or None to corrupt the target's stored values with ``corrupt``.
    """

    def __init__(self, target, inputs, corrupt):
        self.target, self.inputs, self.corrupt = target, inputs, corrupt

    def take(self, rows, generator):
        """(dense target, :class:`SparseBatch` inputs) of the rows ``rows``."""
        if self.inputs is None:
            block = self.target.matrix[_host_index(rows)]
            target = torch.from_numpy(block.toarray().astype(np.float32, copy=False))
            batch = SparseBatch.from_scipy(block)
            return target, batch.with_values(self.corrupt(batch.values, generator))
        inputs = SparseBatch.from_scipy(self.inputs.matrix[_host_index(rows)])
        if isinstance(self.target, SparseRows):
            return self.target.take(rows)[0], inputs
        if isinstance(rows, slice):
            return self.target[rows], inputs
        return torch.index_select(self.target, 0, rows), inputs


def _host_index(rows):
    return rows.cpu().numpy() if isinstance(rows, torch.Tensor) else rows


def sparse_inputs(step, data, corruption):
    """A :class:`SparseInputs` for training ``data`` (a
    :class:`~skdae._training.TrainingData`) with ``step`` when the sparse first layer
    applies and pays, else None (batches are densified)."""
    from skdae._dense_step import DenseStep

    if not isinstance(step, DenseStep):
        return None
    if step.linears[0].weight.device.type != "cpu" or data.observed is not None:
        return None
    if data.inputs is None:
        corrupt = stored_value_corruption(corruption)
        source = data.target
    else:
        corrupt, source = _unchanged, data.inputs
    usable = isinstance(source, SparseRows) and corrupt is not None
    if not usable or source.has_missing or _has_missing(data.target):
        return None
    if FORCE == "dense" or (FORCE is None and _too_dense(source.matrix, step)):
        return None
    return SparseInputs(data.target, data.inputs, corrupt)


def _has_missing(target):
    return isinstance(target, SparseRows) and target.has_missing


def _too_dense(matrix, step):
    """Whether ``matrix`` is too dense for the sparse first layer to pay in ``step``."""
    return not sparse_enough(matrix, step.compute_dtype)


def sparse_enough(matrix, compute_dtype):
    """Whether the sparse first layer pays on ``matrix`` for a step whose other
    products run in ``compute_dtype`` (the measured rule: :data:`MAX_DENSITY`)."""
    n_values = matrix.shape[0] * matrix.shape[1]
    return n_values > 0 and matrix.nnz <= MAX_DENSITY[compute_dtype] * n_values
