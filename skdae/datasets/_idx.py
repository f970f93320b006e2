"""Strict reader and writer for the IDX format used by MNIST.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then
the values in C order, big-endian. The magic number is two zero bytes, a type
code and the number of dimensions. See http://yann.lecun.com/exdb/mnist/.

The reader checks every part of the header and the exact payload length, so a
truncated download, an HTML error page saved under the right name or a file
with extra bytes fails loudly, naming the file, instead of yielding garbage.
"""

import gzip
import hashlib
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from skdae._validation import physical_memory_bytes
from skdae.datasets._base import atomic_write, open_uncompressed
from skdae.exceptions import IDXFormatError, InputError

# Type code -> big-endian numpy dtype, as in the IDX specification.
_CODE_TO_DTYPE = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_KIND_TO_CODE = {(dtype.kind, dtype.itemsize): code for code, dtype in _CODE_TO_DTYPE.items()}
_SUPPORTED = "uint8, int8, int16, int32, float32, float64"
_MAX_DIM = 2**32 - 1


def read_idx(path):
    """Read an IDX file into a numpy array.

    Gzipped files are detected by their content (the bytes ``1f 8b``), not by
    their name, and are decompressed on the fly.

    Parameters
    ----------
    path : str or path-like
        The IDX file, gzipped or not.

    Returns
    -------
    ndarray
        Array with the shape stored in the header and the matching native-endian
        dtype: uint8, int8, int16, int32, float32 or float64.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    IDXFormatError
        If the header is malformed (first two bytes not zero, unknown type code,
        no dimensions), the payload is shorter or longer than the header
        announces, or the gzip stream is damaged.

    See Also
    --------
    write_idx : Write an array as an IDX file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from skdae.datasets import read_idx, write_idx
    >>> labels = np.array([3, 1, 4], dtype=np.uint8)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_idx(Path(tmp) / "labels-idx1-ubyte.gz", labels)
    ...     read_idx(path)
    array([3, 1, 4], dtype=uint8)
    """
    return read_idx_and_md5(path)[0]


def read_idx_and_md5(path):
    """Read an IDX file like :func:`read_idx`; also return the MD5 of its uncompressed bytes.

    The file is decompressed as a stream straight into the array the header declares:
    memory never exceeds that array, however the file was compressed, and a header
    that declares more than this machine's memory is refused before anything is read.
    """
    digest = hashlib.md5(usedforsecurity=False)
    with open_uncompressed(path) as stream:
        try:
            array = _read_stream(_Hashing(stream, digest), source=path)
        # Only decompression failures; a genuine I/O error propagates unchanged.
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise IDXFormatError(
                f"{path} could not be decompressed ({exc}). The gzip stream is damaged or "
                "truncated; download the file again."
            ) from exc
    return array, digest.hexdigest()


class _Hashing:
    """A binary stream that feeds every byte read through it to ``digest``."""

    def __init__(self, stream, digest):
        self._stream, self._digest = stream, digest

    def read(self, n):
        data = self._stream.read(n)
        self._digest.update(data)
        return data

    def readinto(self, buffer):
        n = self._stream.readinto(buffer)
        self._digest.update(buffer[:n])
        return n


def _read_stream(stream, *, source):
    head = stream.read(4)
    if len(head) < 4:
        raise IDXFormatError(
            f"{source}: expected at least a 4-byte IDX header, found {len(head)} bytes."
        )
    zero0, zero1, code, ndim = head
    if zero0 != 0 or zero1 != 0:
        raise IDXFormatError(
            f"{source}: bad magic number; expected the first two bytes to be 00 00, "
            f"found {zero0:02x} {zero1:02x}. This is not an (uncompressed or gzipped) IDX "
            "file; a failed download often saves an HTML page instead."
        )
    if code not in _CODE_TO_DTYPE:
        known = ", ".join(f"0x{c:02X}" for c in _CODE_TO_DTYPE)
        raise IDXFormatError(
            f"{source}: unknown IDX type code 0x{code:02X}; expected one of {known}."
        )
    if ndim == 0:
        raise IDXFormatError(f"{source}: the header declares 0 dimensions; expected at least 1.")
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise IDXFormatError(
            f"{source}: truncated header; {ndim} dimensions need {4 + 4 * ndim} header "
            f"bytes, found {4 + len(dims)}."
        )
    shape = struct.unpack(f">{ndim}I", dims)
    dtype = _CODE_TO_DTYPE[code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    limit = physical_memory_bytes()
    if limit is not None and expected > limit // 2:
        raise IDXFormatError(
            f"{source}: the header declares shape {shape} of {dtype.name}, "
            f"{expected:,} bytes, more than half of this machine's memory "
            f"({limit:,} bytes). The header is damaged, or the file is too large to load "
            "at once: read it in parts."
        )
    payload = np.empty(expected, dtype=np.uint8)
    found = _fill(stream, memoryview(payload))
    if found == expected:
        trailing = len(stream.read(_TRAILING_SHOWN))
        found += trailing
    if found != expected:
        problem = (
            f"truncated by {expected - found} bytes"
            if found < expected
            else f"{found - expected}{'+' if found - expected >= _TRAILING_SHOWN else ''} "
            "trailing bytes"
        )
        raise IDXFormatError(
            f"{source}: expected {expected} payload bytes for shape {shape} of "
            f"{dtype.name}, found {found} ({problem})."
        )
    # Native byte order, in place where the dtype needs swapping; a view otherwise.
    array = payload.view(dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


_CHUNK = 1 << 20
_TRAILING_SHOWN = 1 << 16  # trailing bytes are counted up to here, then "N+"


def _fill(stream, view):
    """Read into ``view`` until it is full or the stream ends; the bytes read."""
    filled = 0
    while filled < len(view):
        n = stream.readinto(view[filled : filled + _CHUNK])
        if not n:
            break
        filled += n
    return filled


def write_idx(path, array, *, compress=None):
    """Write an array as an IDX file, atomically.

    The file is written to a temporary file in the same folder and renamed
    into place, so readers never see a partial file.

    Parameters
    ----------
    path : str or path-like
        Destination file. Its folder must exist.
    array : array-like
        Values to store, with at least one dimension. The dtype must be uint8,
        int8, int16, int32, float32 or float64 (cast other dtypes first).
    compress : bool, default=None
        Gzip the file. ``None`` compresses when ``path`` ends in ``.gz``.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If the dtype has no IDX type code, the array has no dimension or more
        than 255, or a dimension does not fit in 32 bits.

    See Also
    --------
    read_idx : Read an IDX file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from skdae.datasets import read_idx, write_idx
    >>> images = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_idx(Path(tmp) / "images-idx3-float", images)
    ...     np.array_equal(read_idx(path), images)
    True
    """
    path = Path(path)
    array = np.asarray(array)
    code = _KIND_TO_CODE.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise InputError(
            f"IDX cannot store dtype {array.dtype}; supported dtypes are {_SUPPORTED}. "
            "Cast the array first, e.g. array.astype(np.float32)."
        )
    if not 1 <= array.ndim <= 255:
        raise InputError(f"IDX stores 1 to 255 dimensions; the array has {array.ndim}.")
    if max(array.shape) > _MAX_DIM:
        raise InputError(f"IDX dimensions must fit in 32 bits; got shape {array.shape}.")
    if compress is None:
        compress = path.suffix == ".gz"

    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = np.ascontiguousarray(array, dtype=_CODE_TO_DTYPE[code]).tobytes()
    with atomic_write(path) as stream:
        if compress:
            # mtime=0 and no file name in the gzip header: the same array gives the same bytes.
            with gzip.GzipFile(filename="", mode="wb", fileobj=stream, mtime=0) as gz:
                gz.write(header)
                gz.write(payload)
        else:
            stream.write(header)
            stream.write(payload)
    return path
