"""skdae._validation: the checks skdae adds to scikit-learn's parameter validation."""

import numpy as np
import pytest

from skdae._validation import check_bce_target, check_hidden_layer_sizes
from skdae.exceptions import InputError


@pytest.mark.parametrize(
    "given, expected",
    [((256, 128), (256, 128)), ([8], (8,)), (16, (16,)), (np.int64(4), (4,)), ((), ())],
)
def test_hidden_layer_sizes_become_a_tuple_of_ints(given, expected):
    sizes = check_hidden_layer_sizes(given)
    assert sizes == expected and all(type(s) is int for s in sizes)


@pytest.mark.parametrize("bad", [(0,), (8, -1), (2.5,), ("8",), None])
def test_bad_hidden_layer_sizes_are_refused(bad):
    with pytest.raises(InputError, match="hidden_layer_sizes must"):
        check_hidden_layer_sizes(bad)


def test_bce_targets_must_lie_in_the_unit_range():
    check_bce_target(0.0, 1.0)
    with pytest.raises(InputError, match=r"got values in \[-0.5, 1\].*MinMaxScaler"):
        check_bce_target(-0.5, 1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_scan_finds_a_nan_anywhere_and_the_range_of_the_rest(dtype):
    from skdae import DenoisingAutoencoder
    from skdae._validation import has_missing_values, validate_training_input

    X = np.random.RandomState(0).rand(7, 5).astype(dtype)
    assert not has_missing_values(X) and not has_missing_values(X[:0])
    data = validate_training_input(DenoisingAutoencoder(), X, reset=True)
    assert data.missing is None and (data.low, data.high) == pytest.approx((X.min(), X.max()))
    assert data.in_unit_range and not data.integer_typed
    for row, column in [(0, 0), (3, 2), (6, 4)]:
        holed = X.copy()
        holed[row, column] = np.nan
        assert has_missing_values(holed)
        data = validate_training_input(DenoisingAutoencoder(), holed, reset=True)
        np.testing.assert_array_equal(data.missing, np.isnan(holed))
        expected = (np.nanmin(holed), np.nanmax(holed))
        assert (data.low, data.high) == pytest.approx(expected)
    with_infinity = X.copy()
    with_infinity[1, 1] = -np.inf
    assert not has_missing_values(with_infinity)


def test_the_validated_input_is_frozen():
    from dataclasses import FrozenInstanceError

    from skdae import DenoisingAutoencoder
    from skdae._validation import validate_training_input

    data = validate_training_input(DenoisingAutoencoder(), np.ones((3, 2)), reset=True)
    with pytest.raises(FrozenInstanceError):
        data.low = -1.0
