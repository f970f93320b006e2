"""The MNIST sample shipped inside the package, for offline examples, tests and CI.

The file ``data/mnist_sample.npz`` is made by ``benchmarks/make_mnist_sample.py`` (in
the repository, not the package); ``data/PROVENANCE.md`` records how. It holds uint8
pixels, uint8 labels, the rows' indices in the official files and the seed used to
draw them.
"""

from importlib import resources

import numpy as np

from skdae.datasets._descr import MNIST_DESCR, SAMPLE_NOTE
from skdae.datasets._idx_dataset import make_bunch

SAMPLE_FILE = "mnist_sample.npz"
SAMPLE_SOURCE = "bundled sample"
# Sizes of the shipped file, quoted in messages; a test checks them against the file.
SAMPLE_N_TRAIN, SAMPLE_N_TEST = 2000, 500
_PARTS = ("X_train", "y_train", "X_test", "y_test")


def sample_path():
    """Return the bundled sample file as an importlib.resources ``Traversable``."""
    return resources.files("skdae.datasets").joinpath("data", SAMPLE_FILE)


def load_mnist_sample(*, return_X_y=False, flatten=True, as_float=True):
    """Load the small stratified MNIST sample bundled with skdae.

    2,000 training and 500 test images drawn without replacement from the
    official training and test files, stratified by label, with a fixed seed.
    It needs no download and loads in milliseconds: use it for examples, tests
    and smoke runs, never for figures meant to compare with published MNIST
    results.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X_train, y_train, X_test, y_test)`` instead of a Bunch.
    flatten : bool, default=True
        Return images as rows of 784 features. ``False`` keeps them as
        ``(n_samples, 28, 28)``.
    as_float : bool, default=True
        Scale pixels to float32 in [0, 1] (``pixel / 255``). ``False`` keeps the
        raw uint8 values.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        The fields of :func:`load_mnist`, with ``source`` equal to
        ``"bundled sample"`` and ``files`` mapping ``"sample"`` to the ``.npz``
        file. ``train_index`` and ``test_index`` give each image's row in the
        official training and test files.

    (X_train, y_train, X_test, y_test) : tuple of ndarray
        Returned instead when ``return_X_y`` is True.

    See Also
    --------
    load_mnist : The full data set, optionally falling back to this sample.

    Examples
    --------
    >>> from skdae.datasets import load_mnist_sample
    >>> X_train, y_train, X_test, y_test = load_mnist_sample(return_X_y=True)
    >>> X_train.shape, X_test.shape
    ((2000, 784), (500, 784))
    >>> X_train.dtype, float(X_train.min()), float(X_train.max())
    (dtype('float32'), 0.0, 1.0)
    >>> sorted(set(y_test.tolist())) == list(range(10))
    True
    """
    path = sample_path()
    with path.open("rb") as stream, np.load(stream) as npz:
        parts = tuple(npz[name] for name in _PARTS)
        train_index, test_index = npz["train_index"], npz["test_index"]
        seed = int(npz["seed"])
    note = SAMPLE_NOTE.format(n_train=len(parts[0]), n_test=len(parts[2]), seed=seed)
    result = make_bunch(
        parts,
        return_X_y=return_X_y,
        flatten=flatten,
        as_float=as_float,
        descr=MNIST_DESCR + note,
        source=SAMPLE_SOURCE,
        files={"sample": path},
    )
    if not return_X_y:
        result.train_index, result.test_index = train_index, test_index
    return result
