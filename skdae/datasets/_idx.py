"""Strict reader and writer for the IDX format used by MNIST.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then
the values in C order, big-endian. The magic number is two zero bytes, a type
code and the number of dimensions. See http://yann.lecun.com/exdb/mnist/.

The reader checks every part of the header and the exact payload length, so a
truncated download, an HTML error page saved under the right name or a file
with extra bytes fails loudly, naming the file, instead of yielding garbage.
"""

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

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
    return parse_idx(read_uncompressed(path), source=path)


def read_uncompressed(path):
    """Return the uncompressed bytes of ``path``, gzipped or not.

    Loaders that verify a checksum hash these bytes, then parse them with
    :func:`parse_idx`, so each file is decompressed once.
    """
    with open_uncompressed(path) as stream:
        try:
            return stream.read()
        # Only decompression failures; a genuine I/O error propagates unchanged.
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise IDXFormatError(
                f"{path} could not be decompressed ({exc}). The gzip stream is damaged or "
                "truncated; download the file again."
            ) from exc


def parse_idx(raw, *, source="<bytes>"):
    """Parse the bytes of an uncompressed IDX file; ``source`` names it in errors."""
    if len(raw) < 4:
        raise IDXFormatError(
            f"{source}: expected at least a 4-byte IDX header, found {len(raw)} bytes."
        )
    zero0, zero1, code, ndim = raw[:4]
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
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise IDXFormatError(
            f"{source}: truncated header; {ndim} dimensions need {header_size} header bytes, "
            f"found {len(raw)}."
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    dtype = _CODE_TO_DTYPE[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header_size
    if found != expected:
        problem = (
            f"truncated by {expected - found} bytes"
            if found < expected
            else f"{found - expected} trailing bytes"
        )
        raise IDXFormatError(
            f"{source}: expected {expected} payload bytes for shape {shape} of "
            f"{dtype.name}, found {found} ({problem})."
        )
    array = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    # astype copies: the result is writable and native-endian, and does not pin ``raw``.
    return array.astype(dtype.newbyteorder("="))


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
