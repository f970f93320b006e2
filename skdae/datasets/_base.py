"""File-system helpers shared by the dataset loaders.

Where data lives (:func:`get_data_home`), how a possibly gzipped file is opened,
how its checksum is taken, and how a file is written so that readers never see
half of it. Nothing here knows about MNIST.
"""

import contextlib
import gzip
import hashlib
import os
from pathlib import Path

from skdae._files import atomic_write  # noqa: F401  (re-exported for the loaders)
from skdae.exceptions import ChecksumError

DATA_HOME_ENV = "SKDAE_DATA"
DEFAULT_DATA_HOME = "~/skdae_data"

# Gzip streams start with these two bytes. Detecting compression by content, not by the
# ".gz" suffix, means a renamed or re-compressed file still reads correctly.
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


def get_data_home(data_home=None):
    """Return the folder that holds skdae's datasets.

    The folder is looked up in this order: the ``data_home`` argument, the
    ``SKDAE_DATA`` environment variable (an empty value counts as unset), then
    ``~/skdae_data``. Each dataset lives in a subfolder, e.g. ``mnist/``.
    The folder is not created: reading never changes the file system.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder to use. ``None`` falls back to ``SKDAE_DATA``, then to
        ``~/skdae_data``.

    Returns
    -------
    pathlib.Path
        Absolute path with ``~`` expanded. A relative path is taken relative to
        the current working directory at call time.

    See Also
    --------
    load_mnist : Load MNIST from ``<data home>/mnist``.

    Examples
    --------
    >>> from skdae.datasets import get_data_home
    >>> get_data_home("/srv/data").as_posix()
    '/srv/data'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or DEFAULT_DATA_HOME
    return Path(data_home).expanduser().absolute()


@contextlib.contextmanager
def open_uncompressed(path):
    """Open ``path`` for binary reading, decompressing it if it is gzipped."""
    with open(path, "rb") as raw:
        is_gzip = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not is_gzip:
            yield raw
            return
        with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
            yield stream


def md5_file(path):
    """Return the hex MD5 of the uncompressed content of ``path``, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open_uncompressed(path) as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_md5(path, expected, *, actual=None, hint=""):
    """Raise :class:`ChecksumError` naming ``path`` unless its MD5 is ``expected``.

    ``actual`` skips re-reading when the caller already hashed the bytes.
    ``hint`` is appended to the message: what the user should do next.
    """
    if actual is None:
        actual = md5_file(path)
    if actual != expected:
        raise ChecksumError(
            f"MD5 of the uncompressed content of {path} is {actual}, expected {expected}. "
            f"The file is damaged or is not the file it is named after. {hint}".rstrip()
        )
