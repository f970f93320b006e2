"""Read training data chunk by chunk, for ``partial_fit`` on data larger than memory.

:func:`iter_chunks` yields in-memory float32 chunks from a ``.npy`` file, a list of
``.npy`` files, a (memory-mapped) array or a Dask array. Each chunk is a copy, and a
file is mapped only while its chunk is read, so the process holds about one chunk of
data at a time: pages of a long-lived memory map would otherwise stay in the process's
resident memory until the map is closed.
"""

import os
from pathlib import Path

import numpy as np
from sklearn.utils import gen_batches

from skdae.exceptions import InputError

__all__ = ["iter_chunks"]


def iter_chunks(source, chunk_size=10_000, *, dtype=np.float32):
    """Yield the rows of ``source`` as in-memory arrays of at most ``chunk_size`` rows.

    Parameters
    ----------
    source : str, path-like, list of them, ndarray or dask array
        A ``.npy`` file (read through a memory map, one chunk at a time), a list of
        ``.npy`` files (read in order, each in chunks), a 2-D array or memory map, or a
        2-D Dask array (each chunk computed in turn).

    chunk_size : int, default=10_000
        Rows per chunk. Memory use is about ``chunk_size * n_features * 4`` bytes.

    dtype : numpy dtype, default=np.float32
        The dtype of the chunks; float32 is what the network computes in.

    Yields
    ------
    chunk : ndarray of shape (n_rows, n_features)
        The next rows, ``n_rows <= chunk_size``.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skdae import DenoisingAutoencoder
    >>> from skdae.chunks import iter_chunks
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "big.npy")
    ...     np.save(path, np.random.RandomState(0).rand(1000, 8).astype(np.float32))
    ...     dae = DenoisingAutoencoder(latent_dim=2, hidden_layer_sizes=(4,), random_state=0)
    ...     for epoch in range(2):
    ...         for chunk in iter_chunks(path, chunk_size=300):
    ...             _ = dae.partial_fit(chunk)
    >>> dae.n_iter_  # one partial_fit per chunk: 2 epochs x 4 chunks
    8
    """
    if chunk_size < 1:
        raise InputError(f"chunk_size must be a positive number of rows; got {chunk_size}.")
    if isinstance(source, (str, os.PathLike)):
        yield from _npy_chunks(Path(source), chunk_size, dtype)
    elif isinstance(source, (list, tuple)):
        for path in source:
            yield from _npy_chunks(Path(path), chunk_size, dtype)
    elif hasattr(source, "dask") and hasattr(source, "compute"):
        for rows in gen_batches(source.shape[0], chunk_size):
            yield np.asarray(source[rows].compute(), dtype=dtype)
    elif hasattr(source, "shape") and len(source.shape) == 2:
        for rows in gen_batches(source.shape[0], chunk_size):
            yield np.array(source[rows], dtype=dtype)  # a copy: the source may be a map
    else:
        raise TypeError(
            "iter_chunks reads a .npy path, a list of .npy paths, a 2-D array or a 2-D "
            f"Dask array; got {type(source).__name__}."
        )


def _npy_chunks(path, chunk_size, dtype):
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist.")
    n_rows = _open(path).shape[0]
    for rows in gen_batches(n_rows, chunk_size):
        mapped = _open(path)
        chunk = np.array(mapped[rows], dtype=dtype)
        del mapped  # unmap, so that the pages just read leave resident memory
        yield chunk


def _open(path):
    mapped = np.load(path, mmap_mode="r", allow_pickle=False)
    if mapped.ndim != 2:
        raise InputError(f"{path} holds an array of shape {mapped.shape}; expected 2-D rows.")
    return mapped
