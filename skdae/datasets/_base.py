"""File-system helpers shared by the dataset loaders.

Where data lives (:func:`get_data_home`), how a possibly gzipped file is opened,
how its checksum is taken, and how a file is written so that readers never see
half of it. Nothing here knows about MNIST.
"""

import contextlib
import gzip
import hashlib
import os
import tempfile
from pathlib import Path

DATA_HOME_ENV = "SKDAE_DATA"
DEFAULT_DATA_HOME = "~/skdae_data"

# Gzip streams start with these two bytes. Detecting compression by content, not by the
# ".gz" suffix, means a renamed or re-compressed file still reads correctly.
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


class ChecksumError(ValueError):
    """A file's MD5 digest differs from the expected one.

    Subclasses :class:`ValueError`: the file exists but its content is wrong.
    """


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


@contextlib.contextmanager
def atomic_write(path, *, validate=None):
    """Write ``path`` through a temporary file in the same folder, then rename it.

    Yields a binary file object. After the block, ``validate(temp_path)`` may
    raise to reject the content. On any exception (KeyboardInterrupt included)
    the temporary file is removed and ``path`` is left as it was, so an
    interrupted write or download never leaves a partial file under the final
    name. ``os.replace`` is atomic on one file system, hence the same folder.
    """
    path = Path(path)
    if not path.parent.is_dir():
        # Otherwise mkstemp fails naming a temporary file the user never asked for.
        raise FileNotFoundError(
            f"Cannot write {path}: the folder {path.parent} does not exist; create it first."
        )
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        if validate is not None:
            validate(tmp)
        # mkstemp creates the file owner-only (0600); data files are not secrets.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
