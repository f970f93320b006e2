"""Read and write data arrays for the command line: .npy, .csv, .png and IDX files.

Every reader returns a 2-D float array, one sample per row. Integer data (IDX and PNG
files, integer .npy) are 8-bit images: 0..255 comes back in [0, 1], other integers are
refused, and :func:`write_array` writes denoised images back in the input's dtype.
A .csv is read as floats, as written. Every writer writes atomically, so an interrupted
run leaves no half file.
"""

import math
import os
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

from skdae._files import atomic_write, file_problem
from skdae._validation import physical_memory_bytes
from skdae.datasets import read_idx
from skdae.exceptions import DataFileError

FORMATS = (".npy", ".csv", ".png", "IDX (e.g. t10k-images-idx3-ubyte[.gz])")


def data_format(path):
    """The format of ``path`` by its name: 'npy', 'csv', 'png' or 'idx'."""
    name = Path(path).name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    suffix = Path(name).suffix
    if suffix in (".npy", ".csv", ".png"):
        return suffix[1:]
    if "idx" in name and "ubyte" in name or suffix.startswith(".idx"):
        return "idx"
    raise DataFileError(
        f"Cannot tell the format of {path}: skdae reads and writes {', '.join(FORMATS)}. "
        "Rename the file with one of these extensions."
    )


class DataFile(NamedTuple):
    """What :func:`read_array` read: the rows, the images' shape, the file's dtype."""

    X: np.ndarray
    image_shape: tuple | None
    dtype: np.dtype


def read_array(path):
    """Read ``path`` as a 2-D float array: a :class:`DataFile` ``(X, image_shape, dtype)``.

    ``image_shape`` is None for plain rows; ``dtype`` is the file's own (integer for
    8-bit images, which :func:`write_array` can write back as such).
    """
    path = Path(path)
    problem = file_problem(path)
    if problem:
        raise DataFileError(f"Input file {path} {problem}.")
    fmt = data_format(path)
    try:
        if fmt == "npy":
            X = _read_npy(path)
            image_shape = tuple(X.shape[1:]) if X.ndim == 3 else None
        elif fmt == "csv":
            X, image_shape = _read_csv(path), None
        elif fmt == "png":
            X, image_shape = _read_png(path)
        else:
            X = read_idx(path)
            image_shape = tuple(X.shape[1:]) if X.ndim == 3 else None
    except DataFileError:
        raise
    except (OSError, ValueError) as exc:
        raise DataFileError(f"Could not read {path} as {fmt}: {exc}") from exc
    except MemoryError:
        raise DataFileError(
            f"{path} is too large to read into this machine's memory; read it in parts."
        ) from None
    if X.ndim == 0:
        raise DataFileError(f"{path} holds a single value; skdae needs rows of samples.")
    if np.iscomplexobj(X) or not np.issubdtype(X.dtype, np.number):
        raise DataFileError(f"{path} holds {X.dtype} values; skdae needs real numbers.")
    dtype = X.dtype
    if np.issubdtype(dtype, np.integer):
        X = _scale_8_bit_images(X, path)
    if X.ndim == 1:
        X = X[np.newaxis, :]
    if X.ndim > 2:
        X = X.reshape(len(X), -1)
    if not np.issubdtype(dtype, np.integer) and not np.isfinite(X).all():
        raise DataFileError(
            f"{path} holds NaN or infinite values; replace them (e.g. with "
            "sklearn.impute.SimpleImputer) before training or denoising."
        )
    return DataFile(X, image_shape, dtype)


def _scale_8_bit_images(X, path):
    """Integer files are 8-bit images (as MNIST stores them): 0..255 becomes [0, 1].

    The one rule for integer data on the command line; anything outside 0..255 is not
    an 8-bit image and is refused rather than guessed at.
    """
    low, high = (int(X.min()), int(X.max())) if X.size else (0, 0)
    if low < 0 or high > 255:
        raise DataFileError(
            f"{path} holds integers from {low} to {high}. skdae reads integer files as "
            "8-bit images (0..255, scaled to [0, 1]); save other data as floats, scaled "
            "as the model expects (e.g. to [0, 1])."
        )
    scaled = X.astype(np.float32)
    scaled /= 255  # in place: one float copy of the file's data, however large
    return scaled


def write_array(path, X, *, image_shape=None, dtype=None):
    """Write the 2-D array ``X`` to ``path`` in the format its name says.

    With ``image_shape``, a .npy holds ``(n_samples, *image_shape)``, as images came in.
    With an integer ``dtype`` (the input was 8-bit images), values in [0, 1] are written
    back as 0..255 in that dtype.
    """
    path = Path(path)
    fmt = data_format(path)
    if not path.parent.is_dir():
        raise DataFileError(f"Cannot write {path}: the folder {path.parent} does not exist.")
    if path.is_dir():
        raise DataFileError(f"Cannot write {path}: it is a folder. Name a file in it.")
    X = np.asarray(X)
    if dtype is not None and np.issubdtype(dtype, np.integer) and fmt != "png":
        X = np.clip(np.round(X * 255), 0, 255).astype(dtype)
    with atomic_write(path) as stream:
        if fmt == "npy":
            # Images come back in the shape they came in, (n, height, width).
            if image_shape is not None and X.ndim == 2:
                X = X.reshape(len(X), *image_shape)
            np.save(stream, X, allow_pickle=False)
        elif fmt == "csv":
            np.savetxt(stream, X, delimiter=",", fmt="%.6g")
        elif fmt == "png":
            _write_png(stream, X, image_shape)
        else:
            raise DataFileError(f"Writing IDX is not supported by the CLI; write {path.stem}.npy.")


def _read_npy(path):
    """``np.load``, once the header's shape is known to fit in the file and in memory:
    a small file whose header declares hundreds of GB is refused before anything is
    allocated, as :func:`~skdae.datasets.read_idx` refuses such an IDX header."""
    with open(path, "rb") as stream:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        else:  # 2.0 and 3.0 share the layout; 3.0 only allows UTF-8 field names
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        declared = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
        held = os.fstat(stream.fileno()).st_size - stream.tell()
        described = f"the header declares shape {shape} of {dtype}, {declared:,} bytes"
        if not dtype.hasobject and declared > held:
            raise DataFileError(
                f"{path}: {described}, but the file holds {held:,} bytes of data. It is "
                "truncated or damaged; write it again."
            )
        limit = physical_memory_bytes()
        if limit is not None and declared > limit // 2:
            raise DataFileError(
                f"{path}: {described}, more than half of this machine's memory "
                f"({limit:,} bytes). Read it in parts."
            )
        stream.seek(0)
        return np.load(stream, allow_pickle=False)


def _read_csv(path):
    try:
        return np.loadtxt(path, delimiter=",", ndmin=2)
    except ValueError:
        # A header row: skip it, and fail for real if that was not the problem.
        return np.loadtxt(path, delimiter=",", ndmin=2, skiprows=1)


def _read_png(path):
    Image = _import_pil()
    # An image past Pillow's pixel limit (a few bytes can declare billions of pixels:
    # a decompression bomb) is refused, not decoded after a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                pixels = np.asarray(image.convert("L"), dtype=np.uint8)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise DataFileError(
                f"{path} declares an image too large to decode safely: {exc}"
            ) from None
        except SyntaxError as exc:  # Pillow's error for some malformed PNG chunks
            raise DataFileError(f"Could not read {path} as png: {exc}") from None
    return pixels.reshape(1, -1), pixels.shape


def _write_png(stream, X, image_shape):
    Image = _import_pil()
    if X.shape[0] != 1 or image_shape is None:
        raise DataFileError(
            "A .png output holds one image, and needs a .png input to take its shape from; "
            "write .npy or .csv for several rows."
        )
    pixels = np.clip(np.round(X.reshape(image_shape) * 255), 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(stream, format="PNG")


def _import_pil():
    try:
        from PIL import Image
    except ImportError as exc:
        raise DataFileError(
            "Reading and writing .png needs Pillow: pip install 'skdae[plot]'."
        ) from exc
    return Image
