"""28x28 images that are not digits: the convolutional defaults against the dense ones.

Issue 27 asks whether the convolutional estimator's advantage holds away from
handwritten digits. The set has to be at hand offline, so it is cut from the
photographs scikit-image ships in its wheel (the ``images`` extra):

- training rows: 28x28 grey crops of the photographs ``bench_images`` trains on, each
  photograph also shrunk to a half and a quarter, so that a crop holds texture (grass,
  gravel, brick, text) as often as whole shapes (a shrunk rocket, a clock's face);
- test rows: crops of the same kind from *other* photographs (``camera``, ``coins``,
  ``coffee``, ``chelsea``, ``horse``), never trained on;
- noise: the MNIST protocol (Gaussian, std 0.4, clipped to [0, 1], drawn once with a
  fixed seed for the test set), so that the figures read as the MNIST ones do.

Each estimator runs at its defaults (with that noise), in fits of their own, and the
comparison is made at equal training time twice over: at the length of the dense
default's whole fit, and at the length of the convolutional default's, the other
estimator being fitted for as many epochs as fit in that time.
"""

import math
import time

import numpy as np
from _protocol import add_noise, psnr

SIDE = 28
SCALES = (1.0, 0.5, 0.25)
TEST_PHOTOGRAPHS = ("camera", "coins", "coffee", "chelsea", "horse")
TEST_NOISE_SEED = 7
_SKIMAGE_MISSING = "scikit-image is not installed: pip install -e '.[images]'"


def photograph_crops(names, n_rows, seed):
    """``n_rows`` flattened 28x28 grey crops, drawn uniformly from the photographs
    ``names`` at each of ``SCALES``."""
    from bench_images import load
    from skimage.transform import rescale

    pyramid = []
    for name in names:
        image = load(name, "grey")
        for scale in SCALES:
            if scale != 1.0:
                image_at_scale = rescale(image, scale, anti_aliasing=True)
            else:
                image_at_scale = image
            if min(image_at_scale.shape) >= SIDE:
                pyramid.append(np.asarray(image_at_scale, dtype=np.float32))
    rng = np.random.default_rng(seed)
    rows = np.empty((n_rows, SIDE * SIDE), dtype=np.float32)
    for i, which in enumerate(rng.integers(len(pyramid), size=n_rows)):
        image = pyramid[which]
        top = rng.integers(image.shape[0] - SIDE + 1)
        left = rng.integers(image.shape[1] - SIDE + 1)
        rows[i] = image[top : top + SIDE, left : left + SIDE].ravel()
    return rows


def load_crops(*, n_train, n_test):
    """The training and held-out test crops, as :func:`_protocol.load_data` lays out
    MNIST."""
    from bench_images import TRAIN_IMAGES

    X_train = photograph_crops(TRAIN_IMAGES["grey"], n_train, seed=0)
    X_test = photograph_crops(TEST_PHOTOGRAPHS, n_test, seed=1)
    return {
        "X_train": X_train,
        "X_test": X_test,
        "X_test_noisy": add_noise(X_test, TEST_NOISE_SEED),
        "source": "28x28 crops of scikit-image's photographs",
    }


def _fit(estimator_class, data, max_iter):
    """One fit at the estimator's defaults (with the protocol's noise) for
    ``max_iter`` epochs: its training seconds and test PSNR."""
    from skdae import GaussianNoise

    dae = estimator_class(
        corruption=GaussianNoise(0.4, clip=(0, 1)), max_iter=max_iter, random_state=0
    )
    dae.fit(data["X_train"])
    return {
        "max_iter": max_iter,
        "training_seconds": sum(dae.epoch_times_),
        "test_psnr": psnr(data["X_test"], dae.predict(data["X_test_noisy"])),
    }


def run_other_images(_mnist, *, n_train, n_test):
    """The dense and convolutional defaults on photograph crops, at equal training time
    (see the module's docstring). ``_mnist`` is not used."""
    try:
        import skimage  # noqa: F401
    except ImportError:
        return {"system": "28x28 photograph crops", "skipped": _SKIMAGE_MISSING}
    from skdae import ConvDenoisingAutoencoder, DenoisingAutoencoder

    started = time.perf_counter()
    data = load_crops(n_train=n_train, n_test=n_test)
    data_seconds = time.perf_counter() - started
    defaults = {
        "dense": (DenoisingAutoencoder, DenoisingAutoencoder().max_iter),
        "conv": (ConvDenoisingAutoencoder, ConvDenoisingAutoencoder().max_iter),
    }
    default_fits = {kind: _fit(cls, data, max_iter) for kind, (cls, max_iter) in defaults.items()}
    comparisons = []
    # At each default fit's length, the other estimator gets as many epochs as fit in it
    # (at least one), at the seconds per epoch its own default fit took.
    for budget_kind, other in (("dense", "conv"), ("conv", "dense")):
        budget = default_fits[budget_kind]["training_seconds"]
        other_class, other_default_iter = defaults[other]
        per_epoch = default_fits[other]["training_seconds"] / other_default_iter
        other_fit = _fit(other_class, data, max(1, math.floor(budget / per_epoch)))
        fits = {budget_kind: default_fits[budget_kind], other: other_fit}
        comparisons.append(
            {
                "budget": f"the {budget_kind} default's fit",
                "budget_seconds": budget,
                "dense": fits["dense"],
                "conv": fits["conv"],
                "conv_minus_dense_db": fits["conv"]["test_psnr"] - fits["dense"]["test_psnr"],
            }
        )
    return {
        "system": "28x28 photograph crops",
        "source": data["source"],
        "crops_train": len(data["X_train"]),
        "crops_test": len(data["X_test"]),
        "noisy_psnr": psnr(data["X_test"], data["X_test_noisy"]),
        "data_seconds": data_seconds,
        "comparisons": comparisons,
    }
