"""Read and write data arrays for the command line: .npy, .csv, .png and IDX files.

Every reader returns a 2-D float array, one sample per row; images come back in
[0, 1]. Every writer writes atomically, so an interrupted run leaves no half file.
"""

from pathlib import Path

import numpy as np

from skdae._files import atomic_write
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


def read_array(path):
    """Read ``path`` as a 2-D float array and return ``(X, image_shape or None)``."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"Input file {path} does not exist.")
    fmt = data_format(path)
    try:
        if fmt == "npy":
            X = np.load(path, allow_pickle=False)
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
    if X.ndim == 0:
        raise DataFileError(f"{path} holds a single value; skdae needs rows of samples.")
    if np.iscomplexobj(X) or not np.issubdtype(X.dtype, np.number):
        raise DataFileError(f"{path} holds {X.dtype} values; skdae needs real numbers.")
    if X.dtype == np.uint8:
        X = X.astype(np.float32) / 255  # 8-bit images, as MNIST stores them
    if X.ndim == 1:
        X = X[np.newaxis, :]
    if X.ndim > 2:
        X = X.reshape(len(X), -1)
    if not np.isfinite(X).all():
        raise DataFileError(
            f"{path} holds NaN or infinite values; replace them (e.g. with "
            "sklearn.impute.SimpleImputer) before training or denoising."
        )
    return X, image_shape


def write_array(path, X, *, image_shape=None):
    """Write the 2-D array ``X`` to ``path`` in the format its name says.

    With ``image_shape``, a .npy holds ``(n_samples, *image_shape)``, as images came in.
    """
    path = Path(path)
    fmt = data_format(path)
    if not path.parent.is_dir():
        raise DataFileError(f"Cannot write {path}: the folder {path.parent} does not exist.")
    if path.is_dir():
        raise DataFileError(f"Cannot write {path}: it is a folder. Name a file in it.")
    X = np.asarray(X)
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


def _read_csv(path):
    try:
        return np.loadtxt(path, delimiter=",", ndmin=2)
    except ValueError:
        # A header row: skip it, and fail for real if that was not the problem.
        return np.loadtxt(path, delimiter=",", ndmin=2, skiprows=1)


def _read_png(path):
    Image = _import_pil()
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("L"), dtype=np.uint8)
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
