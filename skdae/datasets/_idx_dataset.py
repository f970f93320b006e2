"""A folder of four IDX files in MNIST's layout -> a scikit-learn ``Bunch``.

MNIST, Fashion-MNIST and KMNIST share the same four file names and format, so
one loader serves them all; :func:`load_mnist` adds MNIST's checksums, download
and fallback on top. The Bunch builder is shared with the bundled sample so
that every loader returns the same fields.
"""

from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from skdae.datasets._base import check_md5
from skdae.datasets._descr import IDX_DESCR
from skdae.datasets._idx import read_idx_and_md5
from skdae.exceptions import ChecksumError, IDXFormatError, InputError

# Role -> file name without ".gz"; the order is the order of ``return_X_y``.
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def load_idx_dataset(folder, *, return_X_y=False, flatten=True, as_float=True, checksums=None):
    """Load an image data set stored like MNIST: four IDX files in one folder.

    The folder must hold ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each either
    uncompressed or gzipped with a ``.gz`` suffix. Fashion-MNIST and KMNIST
    ship in this layout.

    Parameters
    ----------
    folder : str or path-like
        Folder that holds the four files.
    return_X_y : bool, default=False
        Return ``(X_train, y_train, X_test, y_test)`` instead of a Bunch.
    flatten : bool, default=True
        Return images as rows of ``rows * cols`` features. ``False`` keeps
        them as ``(n_samples, rows, cols)``.
    as_float : bool, default=True
        Scale pixels to float32 in [0, 1] (``pixel / 255``). ``False`` keeps the
        raw uint8 values.
    checksums : dict of str to str, default=None
        Expected MD5 of the uncompressed content, keyed by file name without
        ``.gz`` (e.g. ``{"train-images-idx3-ubyte": "8d4f..."}``). Only the
        files listed are verified.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the fields:

        data : ndarray of shape (n_train + n_test, rows * cols) or (n_train + n_test, rows, cols)
            Training images followed by test images.
        target : ndarray of shape (n_train + n_test,), dtype int64
            Labels in the same order.
        X_train, y_train, X_test, y_test : ndarray
            The official split, as views into ``data`` and ``target``.
        images : ndarray of shape (n_train + n_test, rows, cols)
            ``data`` viewed as images.
        image_shape : tuple of int
            ``(rows, cols)``.
        feature_names : list of str
            ``"pixel_<row>_<col>"`` for each column of the flattened data.
        target_names : ndarray
            The distinct labels, sorted.
        DESCR : str
            Description of the data set.
        source : str
            The folder the files were read from.
        files : dict of str to pathlib.Path
            The file read for each part: ``train_images``, ``train_labels``,
            ``test_images``, ``test_labels``.

    (X_train, y_train, X_test, y_test) : tuple of ndarray
        Returned instead when ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If some of the four files are missing; the message lists them.
    ChecksumError
        If a file listed in ``checksums`` has a different MD5.
    IDXFormatError
        If a file is not well-formed IDX, or the files do not fit together
        (images not 3-D uint8, labels not 1-D, counts that differ).
    ValueError
        If ``checksums`` names a file that is not one of the four.

    See Also
    --------
    load_mnist : MNIST with checksums, download and a bundled fallback.
    read_idx : Read a single IDX file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from skdae.datasets import load_idx_dataset, write_idx
    >>> rng = np.random.default_rng(0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for prefix, n in [("train", 6), ("t10k", 4)]:
    ...         images = rng.integers(0, 256, size=(n, 5, 5), dtype=np.uint8)
    ...         labels = np.arange(n, dtype=np.uint8)
    ...         _ = write_idx(Path(tmp) / f"{prefix}-images-idx3-ubyte.gz", images)
    ...         _ = write_idx(Path(tmp) / f"{prefix}-labels-idx1-ubyte.gz", labels)
    ...     dataset = load_idx_dataset(tmp)
    >>> dataset.X_train.shape, dataset.X_test.shape, dataset.image_shape
    ((6, 25), (4, 25), (5, 5))
    >>> dataset.X_train.dtype, dataset.y_train.dtype
    (dtype('float32'), dtype('int64'))
    """
    folder = Path(folder).expanduser()
    checksums = dict(checksums or {})
    unknown = sorted(set(checksums) - set(IDX_FILES.values()))
    if unknown:
        raise InputError(
            f"checksums names unknown files {unknown}; keys must be among "
            f"{list(IDX_FILES.values())} (file names without '.gz')."
        )
    files = locate_files(folder)
    missing = [IDX_FILES[role] for role in IDX_FILES if role not in files]
    if missing:
        raise FileNotFoundError(missing_files_message(folder, missing))
    hint = "Replace the file with a good copy, or remove its entry from checksums."
    parts = read_parts(files, checksums, hint=hint)
    n_train, rows, cols = parts[0].shape
    descr = IDX_DESCR.format(
        folder=folder, n_train=n_train, n_test=len(parts[2]), rows=rows, cols=cols
    )
    return make_bunch(
        parts,
        return_X_y=return_X_y,
        flatten=flatten,
        as_float=as_float,
        descr=descr,
        source=str(folder),
        files=files,
    )


def locate_files(folder):
    """Map each role to its file in ``folder``; the uncompressed file wins over ``.gz``.

    Roles with neither file are left out.
    """
    found = {}
    for role, name in IDX_FILES.items():
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                found[role] = candidate
                break
    return found


def missing_files_message(folder, missing, *, remedies=()):
    """Say which files are missing, where they belong, and what else the user can do."""
    every = "\n".join(f"    {name}.gz" for name in IDX_FILES.values())
    lines = [
        f"Missing in {folder}: {', '.join(missing)}.",
        f"Put these four files in {folder}/ (gzipped as named, or uncompressed without .gz):",
        every,
        *remedies,
    ]
    return "\n".join(lines)


def read_parts(files, checksums, *, hint):
    """Read the four files, verifying those with a checksum, and check they fit together.

    Returns ``(train_images, train_labels, test_images, test_labels)`` as read.
    """
    arrays = {}
    for role, path in files.items():
        expected = checksums.get(IDX_FILES[role])
        try:
            arrays[role], actual = read_idx_and_md5(path)
        except IDXFormatError as exc:
            if expected is None:
                raise
            # For an official file, "not the official file" is the clearer diagnosis
            # than whatever format error the damage happens to cause.
            raise ChecksumError(
                f"{path} is not the official file (MD5 {expected} expected): {exc} {hint}"
            ) from exc
        if expected is not None:
            check_md5(path, expected, actual=actual, hint=hint)
    _check_consistent(arrays, files)
    return tuple(arrays[role] for role in IDX_FILES)


def _check_consistent(arrays, files):
    """Raise IDXFormatError unless images are 3-D uint8 with one integer label each."""
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or images.dtype != np.uint8:
            raise IDXFormatError(
                f"{files[f'{split}_images']}: expected 3-D uint8 images (n, rows, cols), "
                f"found shape {images.shape} of {images.dtype}."
            )
        if labels.ndim != 1 or labels.dtype.kind not in "iu" or len(labels) != len(images):
            raise IDXFormatError(
                f"{files[f'{split}_labels']}: expected {len(images)} integer labels (one per "
                f"image in {files[f'{split}_images'].name}), found shape {labels.shape} of "
                f"{labels.dtype}."
            )
    train_shape, test_shape = arrays["train_images"].shape[1:], arrays["test_images"].shape[1:]
    if train_shape != test_shape:
        raise IDXFormatError(
            f"{files['test_images']}: expected images of {train_shape} like the training "
            f"images, found {test_shape}."
        )


def make_bunch(parts, *, return_X_y, flatten, as_float, descr, source, files):
    """Assemble the loaders' common output from uint8 images and integer labels.

    ``parts`` is ``(train_images, train_labels, test_images, test_labels)``.

    ``data`` is allocated once; ``X_train``/``X_test``/``images`` are views of it,
    so the Bunch costs no more memory than ``data`` and ``target``.
    """
    train_images, train_labels, test_images, test_labels = parts
    n_train = len(train_images)
    image_shape = tuple(train_images.shape[1:])
    if as_float:
        data = np.empty((n_train + len(test_images), *image_shape), dtype=np.float32)
        data[:n_train], data[n_train:] = train_images, test_images
        # Divide in float32, as the reference `x.astype("float32") / 255.`, for equal values.
        data /= np.float32(255)
    else:
        data = np.concatenate([train_images, test_images])
    images = data
    if flatten:
        data = data.reshape(len(data), -1)
    target = np.concatenate([train_labels, test_labels]).astype(np.int64)
    X_train, X_test = data[:n_train], data[n_train:]
    y_train, y_test = target[:n_train], target[n_train:]
    if return_X_y:
        return X_train, y_train, X_test, y_test
    rows, cols = image_shape
    return Bunch(
        data=data,
        target=target,
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        images=images,
        image_shape=image_shape,
        feature_names=[f"pixel_{r}_{c}" for r in range(rows) for c in range(cols)],
        target_names=np.unique(target),
        DESCR=descr,
        source=source,
        files=dict(files),
    )
