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
    check_bce_target(np.array([[0.0, 1.0]]))
    with pytest.raises(InputError, match=r"got values in \[-0.5, 1\].*MinMaxScaler"):
        check_bce_target(np.array([[-0.5, 1.0]]))
