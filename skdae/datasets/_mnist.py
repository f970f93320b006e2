"""MNIST: the official files with their checksums, download, and the sample fallback.

Reading is :mod:`skdae.datasets._idx_dataset`'s job; this module only knows
where MNIST lives, what its files must hash to, where to fetch them, and what
to do when they are absent.
"""

import os
import sys
from urllib.parse import urlsplit

from skdae._warnings import warn
from skdae.datasets._base import DATA_HOME_ENV, DEFAULT_DATA_HOME, get_data_home
from skdae.datasets._descr import MNIST_DESCR
from skdae.datasets._download import download_files
from skdae.datasets._idx_dataset import (
    IDX_FILES,
    locate_files,
    make_bunch,
    missing_files_message,
    read_parts,
)
from skdae.datasets._sample import (
    SAMPLE_N_TEST,
    SAMPLE_N_TRAIN,
    load_mnist_sample,
)
from skdae.exceptions import DownloadError, InputError, SampleDataWarning

# MD5 of the uncompressed official files (http://yann.lecun.com/exdb/mnist/).
MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
# Public mirrors of the gzipped files, tried in order: PyTorch's (torchvision's first
# choice) and Google's CVDF copy (TensorFlow's). The original site at yann.lecun.com
# now often refuses downloads, so it is not listed.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
# A base URL holding the four .gz files, used instead of the public mirrors: for
# machines behind a firewall, or a copy on the local network.
MIRROR_ENV = "SKDAE_MNIST_MIRROR"
MNIST_FOLDER = "mnist"
MNIST_DOWNLOAD_MB = 11  # the four .gz files together, quoted in messages
_MIRROR_SCHEMES = ("http", "https", "file")
_FALLBACKS = ("error", "sample")


def load_mnist(
    *,
    data_home=None,
    return_X_y=False,
    flatten=True,
    as_float=True,
    download=False,
    mirror=None,
    verify=True,
    fallback="error",
):
    """Load the MNIST handwritten digits with the official 60,000/10,000 split.

    The four official files are read from ``<data_home>/mnist/``, gzipped
    (``train-images-idx3-ubyte.gz``) or not (``train-images-idx3-ubyte``), and
    checked against the official MD5 digests.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder that contains ``mnist/``. ``None`` uses the ``SKDAE_DATA``
        environment variable, else ``~/skdae_data``; see :func:`get_data_home`.
    return_X_y : bool, default=False
        Return ``(X_train, y_train, X_test, y_test)`` instead of a Bunch.
    flatten : bool, default=True
        Return images as rows of 784 features. ``False`` keeps them as
        ``(n_samples, 28, 28)``.
    as_float : bool, default=True
        Scale pixels to float32 in [0, 1] (``pixel / 255``). ``False`` keeps the
        raw uint8 values.
    download : bool, default=False
        Fetch missing files into ``<data_home>/mnist/`` (about 11 MB), from
        ``mirror``, else the ``SKDAE_MNIST_MIRROR`` environment variable, else
        the public mirrors of the official files. Each file is streamed into a
        temporary file, checked against its official MD5 and only then given
        its name, so a failed, timed-out or interrupted download leaves nothing
        behind. Progress is printed to stderr. A mirror that does not answer
        within 15 seconds is given up on.
    mirror : str, default=None
        Base URL of a folder holding the four ``.gz`` files
        (``http://``, ``https://`` or ``file://``), e.g. a copy inside a
        firewall. Used only with ``download=True``. ``None`` uses
        ``SKDAE_MNIST_MIRROR`` when set, else the public mirrors.
    verify : bool, default=True
        Check each file's MD5. ``False`` skips the check (about 0.1 s) and
        loads files that are not the official ones.
    fallback : {"error", "sample"}, default="error"
        What to do when the files are missing (or ``download=True`` failed):
        ``"error"`` raises; ``"sample"`` emits a :class:`SampleDataWarning` and
        returns :func:`load_mnist_sample` instead. A damaged file is always
        an error.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the fields:

        data : ndarray of shape (70000, 784) or (70000, 28, 28)
            Training images followed by test images; float32 in [0, 1], or
            uint8 if ``as_float=False``.
        target : ndarray of shape (70000,), dtype int64
            Digit labels 0-9 in the same order.
        X_train, y_train, X_test, y_test : ndarray
            The official split (60,000 and 10,000 rows), as views into
            ``data`` and ``target``.
        images : ndarray of shape (70000, 28, 28)
            ``data`` viewed as images.
        image_shape : tuple of int
            ``(28, 28)``.
        feature_names : list of str
            ``"pixel_<row>_<col>"`` for each of the 784 columns.
        target_names : ndarray of shape (10,)
            The digits 0-9.
        DESCR : str
            Description of MNIST, with its attribution and license.
        source : str
            The folder the files were read from, or ``"bundled sample"``.
        files : dict of str to pathlib.Path
            The file read for each part: ``train_images``, ``train_labels``,
            ``test_images``, ``test_labels`` (``sample`` for the sample).

    (X_train, y_train, X_test, y_test) : tuple of ndarray
        Returned instead when ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If files are missing and ``fallback="error"``; the message lists the
        files and the folder they belong in.
    DownloadError
        If ``download=True``, ``fallback="error"`` and no mirror delivered a
        file with the official checksum, or the data home cannot be written.
    ChecksumError
        If ``verify=True`` and a file is not the official one.
    IDXFormatError
        If a file is not well-formed IDX (with ``verify=False``).
    ValueError
        If ``fallback`` is not ``"error"`` or ``"sample"``, or ``mirror`` (or
        ``SKDAE_MNIST_MIRROR``, when downloading) is not a URL to download
        from, or ``mirror`` is given without ``download=True``.

    Warns
    -----
    SampleDataWarning
        When ``fallback="sample"`` replaces missing files by the sample.

    See Also
    --------
    load_mnist_sample : The small sample bundled with skdae.
    load_idx_dataset : Fashion-MNIST, KMNIST and other sets in MNIST's format.
    get_data_home : Where the data are looked for.

    Examples
    --------
    With the four official files in ``$SKDAE_DATA/mnist/`` (or with
    ``download=True``, which fetches them there once):

    >>> from skdae.datasets import load_mnist
    >>> X_train, y_train, X_test, y_test = load_mnist(return_X_y=True)  # doctest: +SKIP
    >>> X_train.shape, X_test.shape  # doctest: +SKIP
    ((60000, 784), (10000, 784))

    Without them, ``fallback="sample"`` warns and uses the bundled sample:

    >>> import tempfile, warnings
    >>> from skdae.datasets import SampleDataWarning
    >>> with tempfile.TemporaryDirectory() as empty, warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", SampleDataWarning)
    ...     mnist = load_mnist(data_home=empty, fallback="sample")
    >>> mnist.source, mnist.X_train.shape, mnist.X_test.shape
    ('bundled sample', (2000, 784), (500, 784))
    """
    if fallback not in _FALLBACKS:
        raise InputError(f"fallback must be one of {_FALLBACKS}; got {fallback!r}.")
    if mirror is not None and not download:
        raise InputError(
            "mirror= is where download=True fetches missing files from; pass "
            "download=True as well, or leave mirror out."
        )
    # Checked before anything is read, so that a mistyped mirror is an error even
    # when the files happen to be there already.
    mirrors = mnist_mirrors(mirror) if download else ()
    folder = get_data_home(data_home) / MNIST_FOLDER
    try:
        files = _obtain_files(folder, mirrors=mirrors, download=download, data_home=data_home)
    except (FileNotFoundError, DownloadError) as exc:
        if fallback == "error":
            raise
        warn(_fallback_message(folder, exc), SampleDataWarning)
        return load_mnist_sample(return_X_y=return_X_y, flatten=flatten, as_float=as_float)

    hint = (
        "Delete it and call load_mnist(download=True) to fetch a fresh copy, or replace it "
        "with the official file; verify=False loads it anyway."
    )
    parts = read_parts(files, MNIST_MD5 if verify else {}, hint=hint)
    return make_bunch(
        parts,
        return_X_y=return_X_y,
        flatten=flatten,
        as_float=as_float,
        descr=MNIST_DESCR,
        source=str(folder),
        files=files,
    )


def mnist_mirrors(mirror=None, *, option="mirror"):
    """The base URLs to download MNIST from: ``mirror``, else ``$SKDAE_MNIST_MIRROR``,
    else the public mirrors. ``option`` names ``mirror`` in error messages (the
    command line says ``--mirror``)."""
    if mirror is not None:
        return (check_mirror_url(mirror, option),)
    from_env = os.environ.get(MIRROR_ENV, "").strip()
    if from_env:  # an empty value counts as unset, as for SKDAE_DATA
        return (check_mirror_url(from_env, MIRROR_ENV),)
    return MNIST_MIRRORS


def check_mirror_url(url, option="mirror"):
    """Return ``url`` ending in ``/`` (the file names are appended to it), or raise an
    InputError that names ``option`` and says what a mirror URL looks like."""
    example = (
        "It must be the http://, https:// or file:// URL of a folder that holds the four "
        "MNIST .gz files (train-images-idx3-ubyte.gz, ...), e.g. "
        "https://mirror.example.org/mnist/."
    )
    if not isinstance(url, str):
        raise InputError(f"{option} must be a URL string; got {type(url).__name__} {url!r}.")
    if not url.strip():
        raise InputError(f"{option} is empty. {example}")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise InputError(f"{option}={url!r} contains spaces or control characters. {example}")
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError as exc:
        raise InputError(f"{option}={url!r} is not a valid URL ({exc}). {example}") from None
    if parts.scheme.lower() not in _MIRROR_SCHEMES:
        raise InputError(f"{option}={url!r} is not a URL skdae can download from. {example}")
    if parts.scheme.lower() != "file" and not parts.hostname:
        raise InputError(f"{option}={url!r} names no host. {example}")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise InputError(
            f"{option}={url!r} has a query or fragment (?... or #...); the file names are "
            f"appended to the URL, so give the folder's URL alone. {example}"
        )
    return url if url.endswith("/") else url + "/"


def _obtain_files(folder, *, mirrors, download, data_home):
    """Return role -> path for the four files, downloading missing ones if asked."""
    files = locate_files(folder)
    missing = [role for role in IDX_FILES if role not in files]
    if missing and download:
        files.update(zip(missing, _download_missing(folder, missing, mirrors), strict=True))
        missing = []
    if missing:
        remedies = [
            f"The data home was {_how_chosen(data_home)}.",
            f"Either copy the files there, or set {DATA_HOME_ENV} (or pass data_home=...) to "
            "the folder that contains mnist/,",
            f"or call load_mnist(download=True) to fetch them from {MNIST_MIRRORS[0]} "
            f"(or from the mirror in {MIRROR_ENV}).",
            "For an offline try, load_mnist_sample() or load_mnist(fallback='sample') uses the "
            f"sample bundled with skdae ({SAMPLE_N_TRAIN:,} train + {SAMPLE_N_TEST:,} test "
            "images).",
        ]
        names = [IDX_FILES[role] for role in missing]
        raise FileNotFoundError(missing_files_message(folder, names, remedies=remedies))
    return {role: files[role] for role in IDX_FILES}


def _download_missing(folder, roles, mirrors):
    """Download the gzipped files of ``roles`` into ``folder``; return their paths.

    Folders created for them are removed again if nothing could be downloaded, so a
    failed first download leaves the file system as it was.
    """
    created = _make_folder(folder)
    names = [f"{IDX_FILES[role]}.gz" for role in roles]
    hosts = " or ".join(urlsplit(mirror).netloc or mirror for mirror in mirrors)
    what = (
        f"the four official files (about {MNIST_DOWNLOAD_MB} MB)"
        if len(names) == len(IDX_FILES)
        else f"the missing {', '.join(names)}"
    )
    print(f"Full MNIST is not in {folder}/: downloading {what} from {hosts}.", file=sys.stderr)
    try:
        return download_files(
            names, mirrors, folder, md5={name: MNIST_MD5[name[: -len(".gz")]] for name in names}
        )
    except DownloadError as exc:
        raise DownloadError(
            f"{exc} Behind a firewall, point {MIRROR_ENV} (skdae train --mirror) at a "
            "copy of the four files that you can reach."
        ) from None
    finally:
        for path in reversed(created):  # the deepest first; only if still empty
            try:
                path.rmdir()
            except OSError:
                pass


def _make_folder(folder):
    """Create ``folder`` and its missing parents; return those created, outermost first.
    A folder that cannot be made or written is a DownloadError: there is nowhere to put
    the files, as offline there is nothing to put."""
    created = [p for p in [folder, *folder.parents] if not p.exists()][::-1]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(
            f"Cannot download MNIST into {folder}/: {exc.strerror or exc}. Set "
            f"{DATA_HOME_ENV} (or pass data_home=...) to a folder you can write to."
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        for path in reversed(created):
            path.rmdir()
        raise DownloadError(
            f"Cannot download MNIST into {folder}/: the folder is not writable. Set "
            f"{DATA_HOME_ENV} (or pass data_home=...) to a folder you can write to."
        )
    return created


def _how_chosen(data_home):
    """Say where the data home came from: the first thing to check when files are not found."""
    if data_home is not None:
        return "given by the data_home argument"
    if os.environ.get(DATA_HOME_ENV):
        return f"taken from {DATA_HOME_ENV}={os.environ[DATA_HOME_ENV]!r}"
    return f"the default {DEFAULT_DATA_HOME} ({DATA_HOME_ENV} is not set)"


def _fallback_message(folder, exc):
    """The SampleDataWarning text: why, what is used instead, and how to get the full set."""
    reason = str(exc).splitlines()[0].rstrip(".:")
    if isinstance(exc, DownloadError):
        remedy = f"or point {MIRROR_ENV} (skdae train --mirror) at a mirror you can reach"
    else:
        remedy = (
            "or let skdae download them (load_mnist(download=True), or skdae train without "
            "--no-download)"
        )
    return (
        f"Full MNIST is not available ({reason}). Using the bundled sample of "
        f"{SAMPLE_N_TRAIN:,} training and {SAMPLE_N_TEST:,} test images instead; results on "
        "it are not comparable with published MNIST figures. To use the full set, put the "
        f"four official files in {folder}/ (or set {DATA_HOME_ENV} to the folder that "
        f"contains mnist/), {remedy}."
    )
