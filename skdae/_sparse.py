"""Sparse input: a scipy.sparse matrix stays sparse on the host, and the network sees it
one batch at a time.

A one-hot table or a TF-IDF matrix is mostly zeros: 1,000,000 rows of 20,000 columns
with 10 million nonzeros take 120 MB as CSR and 80 GB dense. skdae keeps the CSR matrix
as it came and densifies only the rows of the batch in hand (on the training device for
a GPU), so memory follows the nonzeros. Everything else (corruption, the loss, the
missing-value weights) then meets the dense batch it always met: masking drops stored
values (a masked zero was zero already), swap noise swaps values within a column of the
batch, Gaussian noise fills zeros too.

Where it pays, the first layer multiplies the batch's stored values directly instead
(:mod:`skdae._sparse_layer`): for masking, no corruption or a sparse ``X_noisy``, on
the CPU, without missing values, at most 1% stored (0.45% under bfloat16). The clean
batch is still densified, as the loss's target. On the tweets' TF-IDF (8,135 columns,
0.18% stored) an epoch took 1.80 s instead of 2.34 s in bfloat16 and 2.45 s instead of
3.90 s in float32 (benchmarks/bench_sparse.py's setting, AMD EPYC Zen 4, 2 threads).

NaN stored in the matrix means missing, as in dense input; stored zeros are values, like
the implicit ones.
"""

import numpy as np
import scipy.sparse as sp
import torch

from skdae.exceptions import InputError

# The formats taken as they are; any other is converted to CSR once by scikit-learn's
# check (a copy of the nonzeros). CSC is converted to CSR for training and inference,
# which read rows.
ACCEPTED_FORMATS = ("csr", "csc")


def is_sparse(X):
    return sp.issparse(X)


def as_csr(X):
    """``X`` (a validated scipy.sparse matrix or array) as CSR, converted (one copy of
    the nonzeros) only when it is not CSR already."""
    if X.format != "csr":
        X = X.tocsr()
    return X


def observed_range(X):
    """(low, high, has_missing) of a sparse ``X``: the range of its observed values,
    implicit zeros included, and whether a stored value is NaN."""
    data = X.data
    has_missing = bool(data.size) and bool(np.isnan(np.min(data)))
    if has_missing:
        stored = data[~np.isnan(data)]
    else:
        stored = data
    low = float(np.min(stored)) if stored.size else np.inf
    high = float(np.max(stored)) if stored.size else -np.inf
    n_values = X.shape[0] * X.shape[1]
    if X.nnz < n_values:  # implicit zeros are observed values
        low, high = min(low, 0.0), max(high, 0.0)
    return low, high, has_missing


def missing_counts(X):
    """The columns of the sparse ``X`` with a missing value (NaN), and how many each has
    (nothing of the width of ``X``: it may have billions of columns)."""
    csr = as_csr(X)
    return np.unique(csr.indices[np.isnan(csr.data)], return_counts=True)


def densify(X, rows, device):
    """The rows ``rows`` (a slice or an index array) of the CSR matrix ``X`` as a dense
    float32 tensor on ``device``, NaN kept.

    On a GPU the batch travels sparse and is densified there; on the CPU scipy writes
    the dense rows directly (0.5 ms for 128 rows of 20,000 columns).
    """
    block = X[rows]
    if torch.device(device).type == "cpu":
        return torch.from_numpy(block.toarray().astype(np.float32, copy=False))
    block = block.astype(np.float32, copy=False)
    crow = torch.from_numpy(block.indptr.astype(np.int64))
    col = torch.from_numpy(block.indices.astype(np.int64))
    values = torch.from_numpy(block.data)
    tensor = torch.sparse_csr_tensor(crow, col, values, size=block.shape)
    return tensor.to(device).to_dense()


class SparseRows:
    """Training rows held as a CSR matrix on the host, given out densified batch by batch.

    ``take(rows)`` returns the dense float32 batch on ``device`` with missing values
    (NaN) replaced by ``fill``, and the batch's observed mask (None when the matrix
    holds no NaN). ``rows`` is a slice or a tensor of row indices.
    """

    def __init__(self, matrix, device, *, fill, has_missing=None):
        self.matrix = as_csr(matrix)
        self.device = torch.device(device)
        self.fill = fill
        if has_missing is None:
            data = self.matrix.data
            has_missing = bool(data.size) and bool(np.isnan(np.min(data)))
        self.has_missing = has_missing

    @property
    def shape(self):
        return self.matrix.shape

    def __len__(self):
        return self.matrix.shape[0]

    def subset(self, rows):
        """The rows ``rows`` (a tensor of indices) as another SparseRows."""
        return SparseRows(
            self.matrix[_host_index(rows)], self.device, fill=self.fill, has_missing=None
        )

    def take(self, rows):
        batch = densify(self.matrix, _host_index(rows), self.device)
        if not self.has_missing:
            return batch, None
        missing = torch.isnan(batch)
        return batch.masked_fill_(missing, self.fill), ~missing


def _host_index(rows):
    if isinstance(rows, torch.Tensor):
        return rows.cpu().numpy()
    return rows


def check_dense_result_fits(n_rows, n_columns, dtype, *, method):
    """Refuse a dense result of ``n_rows`` x ``n_columns`` that this machine's available
    memory cannot hold, before anything is computed, saying how many rows fit."""
    from skdae._validation import available_memory_bytes

    available = available_memory_bytes()
    itemsize = np.dtype(dtype).itemsize
    needed = n_rows * n_columns * itemsize
    if available is None or needed <= available:
        return
    fit = max(1, int(available // 2 // (n_columns * itemsize)))
    raise InputError(
        f"{method} returns a dense array of {n_rows:,} x {n_columns:,} values "
        f"({needed / 2**30:,.1f} GiB), more than the {available / 2**30:,.1f} GiB of memory "
        f"available. About {fit:,} rows at a time fit (half the memory): call {method} on "
        f"row blocks, e.g. `for start in range(0, X.shape[0], {fit}): "
        f"model.{method}(X[start:start + {fit}])`, and use or store each block before the "
        "next."
    )
