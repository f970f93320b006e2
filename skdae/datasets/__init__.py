"""Data sets for skdae: MNIST, other sets in MNIST's IDX format, and a bundled sample.

Data are looked for under :func:`get_data_home` (``data_home`` argument, then the
``SKDAE_DATA`` environment variable, then ``~/skdae_data``), one folder per data
set, e.g. ``~/skdae_data/mnist/``.

Errors and warnings raised here (all importable from :mod:`skdae.exceptions`)::

    IDXFormatError      a file is not well-formed IDX (names the file, expected vs found)
    ChecksumError       a file's MD5 is not the expected one
    FileNotFoundError   data files missing (the message lists them and the folder)
    DownloadError       no mirror delivered the file
    SampleDataWarning   the bundled sample stands in for the full data set
"""

from skdae.datasets._base import get_data_home
from skdae.datasets._idx import read_idx, write_idx
from skdae.datasets._idx_dataset import load_idx_dataset
from skdae.datasets._mnist import load_mnist
from skdae.datasets._sample import load_mnist_sample
from skdae.exceptions import ChecksumError, DownloadError, IDXFormatError, SampleDataWarning

__all__ = [
    "ChecksumError",
    "DownloadError",
    "IDXFormatError",
    "SampleDataWarning",
    "get_data_home",
    "load_idx_dataset",
    "load_mnist",
    "load_mnist_sample",
    "read_idx",
    "write_idx",
]
