"""Corruption strategies: statistics, ranges, determinism, devices, parameters."""

import textwrap

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skdae import (
    BaseCorruption,
    Compose,
    GaussianNoise,
    IdentityCorruption,
    MaskingNoise,
    SaltAndPepperNoise,
    SwapNoise,
)
from skdae._corruption import make_corruption
from skdae._random import make_generator, seed_from_random_state

X_HALF = np.full((400, 250), 0.5)  # 100,000 values: fractions are within ~0.005

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
ALL = [
    GaussianNoise(0.3),
    SaltAndPepperNoise(0.2),
    MaskingNoise(0.3),
    Compose([GaussianNoise(0.1), MaskingNoise(0.2)]),
    IdentityCorruption(),
    GaussianNoise((0.05, 0.3)),
]


def test_gaussian_noise_has_the_requested_mean_and_std():
    noise = GaussianNoise(std=0.4).corrupt(X_HALF, random_state=0) - X_HALF
    assert abs(noise.mean()) < 0.005
    assert noise.std() == pytest.approx(0.4, rel=0.01)


def test_a_std_range_gives_each_row_its_own_level_uniformly_within_it():
    X = np.full((2000, 400), 0.5)
    levels = (GaussianNoise(std=(0.1, 0.3)).corrupt(X, random_state=0) - X).std(axis=1)
    # 400 values a row: a row's sample std is its level within 3.5% (one sigma).
    assert 0.1 * 0.85 < levels.min() and levels.max() < 0.3 * 1.15
    assert np.quantile(levels, [0.25, 0.5, 0.75]) == pytest.approx([0.15, 0.2, 0.25], abs=0.01)
    # A fresh draw each time a row is corrupted: the same row, another level.
    again = (GaussianNoise(std=(0.1, 0.3)).corrupt(X, random_state=1) - X).std(axis=1)
    assert np.corrcoef(levels, again)[0, 1] < 0.1


def test_a_std_range_of_one_value_is_that_level():
    fixed = GaussianNoise(std=(0.4, 0.4)).corrupt(X_HALF, random_state=0) - X_HALF
    assert fixed.std() == pytest.approx(0.4, rel=0.01)


def test_a_std_range_trains_and_persists(tmp_path):
    from skdae import DenoisingAutoencoder

    X = np.random.default_rng(0).random((64, 9), dtype=np.float32)
    dae = DenoisingAutoencoder(
        3, hidden_layer_sizes=(6,), corruption=GaussianNoise((0.02, 0.2)), max_iter=2
    ).fit(X)
    loaded = DenoisingAutoencoder.load(dae.save(tmp_path / "blind.skdae"))
    assert loaded.corruption.std == (0.02, 0.2)
    np.testing.assert_array_equal(loaded.predict(X), dae.predict(X))


def test_gaussian_clip_bounds_the_values():
    noisy = GaussianNoise(std=0.4, clip=(0, 1)).corrupt(X_HALF, random_state=0)
    assert noisy.min() == 0.0 and noisy.max() == 1.0
    # N(0.5, 0.4) falls outside [0, 1] with probability 2 * P(Z > 1.25) = 0.2113.
    assert np.mean((noisy == 0) | (noisy == 1)) == pytest.approx(0.2113, abs=0.01)


def test_salt_and_pepper_fraction_and_ratio():
    noisy = SaltAndPepperNoise(amount=0.2, salt_ratio=0.25).corrupt(X_HALF, random_state=0)
    hit = noisy != 0.5
    assert hit.mean() == pytest.approx(0.2, abs=0.005)
    assert np.mean(noisy[hit] == 1.0) == pytest.approx(0.25, abs=0.01)
    assert set(np.unique(noisy)) == {0.0, 0.5, 1.0}


def test_salt_and_pepper_custom_values():
    noisy = SaltAndPepperNoise(amount=1.0, salt_ratio=1.0, high=7.0).corrupt(X_HALF[:2])
    assert np.all(noisy == 7.0)


def test_masking_fraction():
    noisy = MaskingNoise(fraction=0.3).corrupt(np.ones((400, 250)), random_state=0)
    assert np.mean(noisy == 0) == pytest.approx(0.3, abs=0.005)
    assert set(np.unique(noisy)) == {0.0, 1.0}
    assert np.all(MaskingNoise(1.0, value=-1).corrupt(X_HALF[:2]) == -1)


def test_compose_applies_in_order():
    # Masking after salt-and-pepper: every value is then 0 or untouched-or-salted.
    noisy = Compose([SaltAndPepperNoise(0.5), MaskingNoise(1.0)]).corrupt(X_HALF[:5])
    assert np.all(noisy == 0)
    noisy = Compose([MaskingNoise(1.0), GaussianNoise(0.1)]).corrupt(X_HALF, random_state=0)
    assert noisy.std() == pytest.approx(0.1, rel=0.02)


@pytest.mark.parametrize("corruption", ALL, ids=lambda c: type(c).__name__)
def test_same_seed_same_noise(corruption):
    a = corruption.corrupt(X_HALF, random_state=3)
    np.testing.assert_array_equal(a, corruption.corrupt(X_HALF, random_state=3))


@pytest.mark.parametrize(
    "corruption",
    [c for c in ALL if not isinstance(c, IdentityCorruption)],
    ids=lambda c: type(c).__name__,
)
def test_other_seed_other_noise(corruption):
    a = corruption.corrupt(X_HALF, random_state=3)
    assert not np.array_equal(a, corruption.corrupt(X_HALF, random_state=4))


@pytest.mark.parametrize("corruption", ALL, ids=lambda c: type(c).__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_and_input_untouched(corruption, dtype):
    X = X_HALF[:10].astype(dtype)
    before = X.copy()
    noisy = corruption.corrupt(X, random_state=0)
    assert noisy.dtype == dtype and noisy.shape == X.shape
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("corruption", ALL, ids=lambda c: type(c).__name__)
def test_noise_is_generated_on_the_data_device(corruption, device):
    X = torch.full((50, 20), 0.5, device=device)
    noisy = corruption.corrupt_tensor(X, make_generator(0, device))
    assert noisy.device == X.device
    # A CPU generator cannot feed a CUDA tensor: this passing proves no host round trip.
    assert noisy.shape == X.shape


def test_standalone_numpy_matches_the_tensor_path():
    X = X_HALF[:20]
    via_numpy = GaussianNoise(0.2).corrupt(X, random_state=7)
    from skdae._random import seed_from_random_state

    generator = make_generator(seed_from_random_state(7), "cpu")
    via_tensor = GaussianNoise(0.2).corrupt_tensor(torch.from_numpy(X), generator).numpy()
    np.testing.assert_array_equal(via_numpy, via_tensor)


# ------------------------------------------------------------ missing values (NaN)


class _Invert(BaseCorruption):
    """A user's corruption, written with no thought of missing values."""

    def corrupt_tensor(self, X, generator):
        return 1.0 - X


# Every kind of corruption, including a user's: each must keep a missing value missing.
WITH_MISSING = [
    *ALL,
    GaussianNoise(0.3, clip=(0, 1)),
    GaussianNoise(0.3, relative=True),
    SwapNoise(0.5),
    Compose([SwapNoise(0.3), MaskingNoise(0.3)]),
    _Invert(),
]
_SENTINEL = -7.25  # a value no corruption of data in [0, 1) produces


def _data_with_missing(dtype=np.float64):
    rng = np.random.RandomState(0)
    X = rng.rand(300, 12).astype(dtype)
    X[rng.rand(*X.shape) < 0.2] = np.nan
    X[:, 5] = np.nan  # a feature missing everywhere
    X[7] = np.nan  # a row with nothing observed
    return X


@pytest.mark.parametrize("corruption", WITH_MISSING, ids=lambda c: repr(c))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_corrupt_keeps_missing_values_missing_and_corrupts_the_rest(corruption, dtype):
    X = _data_with_missing(dtype)
    before = X.copy()
    missing = np.isnan(X)
    noisy = corruption.corrupt(X, random_state=0)
    np.testing.assert_array_equal(X, before)
    assert noisy.dtype == dtype and noisy.shape == X.shape
    assert np.isnan(noisy[missing]).all()
    # The observed values get the very noise they would get with nothing missing (the
    # draws do not depend on the values); a value a swap takes from a missing one is
    # missing too (a hidden input), and nothing else is.
    noise = clone(corruption).validate().prepare(X)
    generator = make_generator(seed_from_random_state(0), "cpu")
    filled = torch.from_numpy(np.where(missing, dtype(_SENTINEL), X))
    reference = noise.corrupt_tensor(filled, generator).numpy()
    expected = np.where(missing | (reference == dtype(_SENTINEL)), np.nan, reference)
    np.testing.assert_array_equal(noisy, expected)
    assert np.isfinite(noisy[~missing]).mean() > (0.6 if "Swap" in repr(corruption) else 0.99)


@pytest.mark.parametrize("corruption", WITH_MISSING, ids=lambda c: repr(c))
def test_corrupt_without_missing_values_is_unchanged(corruption):
    X = np.nan_to_num(_data_with_missing(), nan=0.5)
    noise = clone(corruption).validate().prepare(X)
    generator = make_generator(seed_from_random_state(3), "cpu")
    reference = noise.corrupt_tensor(torch.from_numpy(X), generator).numpy()
    np.testing.assert_array_equal(corruption.corrupt(X, random_state=3), reference)


def test_corrupt_still_refuses_infinity():
    X = X_HALF[:3].copy()
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        GaussianNoise().corrupt(X)


@pytest.mark.parametrize(
    "corruption, match",
    [
        (GaussianNoise(std=-0.1), "'std' parameter of GaussianNoise"),
        (GaussianNoise(clip=(0,)), r"clip must be a pair \(low, high\)"),
        (GaussianNoise(clip=5), "'clip' parameter"),
        (GaussianNoise(std="0.1"), "'std' parameter of GaussianNoise"),
        (GaussianNoise(std=(0.1,)), r"std must be a pair \(low, high\)"),
        (GaussianNoise(std=(0.1, 0.2, 0.3)), r"std must be a pair \(low, high\)"),
        (GaussianNoise(std=(0.3, 0.1)), "std must satisfy low <= high"),
        (GaussianNoise(std=(-0.1, 0.1)), "finite standard deviations of at least 0"),
        (GaussianNoise(std=(0.1, np.inf)), "finite standard deviations of at least 0"),
        (GaussianNoise(std=(np.nan, 0.1)), "std must satisfy low <= high"),
        (GaussianNoise(std=("a", 0.1)), r"std must be a pair \(low, high\)"),
        (SaltAndPepperNoise(amount=1.5), "'amount' parameter"),
        (SaltAndPepperNoise(salt_ratio=-1), "'salt_ratio' parameter"),
        (MaskingNoise(fraction=2), "'fraction' parameter"),
        (Compose([]), "at least one corruption"),
        (Compose(["gaussian"]), "takes corruption objects"),
        (Compose([MaskingNoise(-1)]), "'fraction' parameter"),
    ],
)
def test_bad_parameters_are_refused(corruption, match):
    with pytest.raises(ValueError, match=match):
        corruption.corrupt(X_HALF[:2])


def test_parameters_are_searchable():
    noise = GaussianNoise(0.2, clip=(0, 1))
    assert noise.get_params() == {"std": 0.2, "clip": (0, 1), "relative": False}
    assert noise.set_params(std=0.4).std == 0.4
    copy = clone(noise)
    assert copy is not noise and copy.get_params() == noise.get_params()
    assert repr(noise) == "GaussianNoise(clip=(0, 1), std=0.4)"


def test_aliases_make_fresh_objects():
    assert isinstance(make_corruption("gaussian"), GaussianNoise)
    assert isinstance(make_corruption("salt_and_pepper"), SaltAndPepperNoise)
    assert isinstance(make_corruption("masking"), MaskingNoise)
    assert isinstance(make_corruption("none"), IdentityCorruption)
    assert isinstance(make_corruption(None), IdentityCorruption)
    assert make_corruption("gaussian") is not make_corruption("gaussian")


def test_a_subclass_must_implement_the_tensor_method():
    class Incomplete(BaseCorruption):
        pass

    with pytest.raises(NotImplementedError, match="Incomplete must implement corrupt_tensor"):
        Incomplete().corrupt(X_HALF[:2])


class RecordingCorruption(BaseCorruption):
    """A test double: records what the estimator hands the hook, then adds a constant."""

    def __init__(self, shift=0.0):
        self.shift = shift

    def corrupt_tensor(self, X, generator):
        calls = self.__dict__.setdefault("calls_", [])
        calls.append((tuple(X.shape), X.device, isinstance(generator, torch.Generator)))
        return X + self.shift


def test_fit_calls_the_public_hook_once_per_batch_on_the_device():
    from skdae import DenoisingAutoencoder

    X = X_HALF[:70]
    corruption = RecordingCorruption(0.1)
    dae = DenoisingAutoencoder(
        latent_dim=2, hidden_layer_sizes=(4,), corruption=corruption, batch_size=32, max_iter=2
    ).fit(X)
    assert not hasattr(corruption, "calls_")  # the user's object is cloned, never used
    calls = dae.corruption_.calls_
    width = X.shape[1]
    assert [shape for shape, _, _ in calls] == [(32, width), (32, width), (6, width)] * 2
    assert all(device == dae.device_ and has_generator for _, device, has_generator in calls)


def test_the_user_guide_example_of_a_custom_corruption_runs():
    import re
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[1] / "docs" / "user_guide.rst").read_text()
    section = guide[guide.index(".. _custom-corruption:") :]
    block = re.search(r"\.\. code-block:: python\n\n(.*?)\n\S", section, flags=re.S).group(1)
    namespace = {}
    exec(compile(textwrap.dedent(block), "user_guide.rst", "exec"), namespace)
    X, X_noisy = namespace["X"], namespace["X_noisy"]
    assert X_noisy.shape == X.shape and not np.allclose(X_noisy, X)
    assert namespace["search"].best_params_["corruption__std"] in (0.1, 0.3)
    with pytest.raises(ValueError, match="'std' parameter of SpeckleNoise"):
        namespace["SpeckleNoise"](std=-1).corrupt(X)
