import numpy as np
import pytest
import torch

from skdae._device import as_float32_tensor, resolve_device
from skdae.exceptions import DeviceWarning


def test_auto_picks_cuda_only_when_available():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_cpu_is_always_available():
    assert resolve_device("cpu") == torch.device("cpu")


def test_unknown_device_string_is_refused():
    with pytest.raises(ValueError, match="not a device torch understands"):
        resolve_device("gpu please")


def test_unsupported_device_type_is_refused():
    with pytest.raises(ValueError, match="is not supported"):
        resolve_device("meta")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_missing_cuda_errors_or_falls_back_with_a_warning():
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda:0")
    with pytest.warns(DeviceWarning, match="using the CPU instead"):
        assert resolve_device("cuda", fallback_to_cpu=True) == torch.device("cpu")


def test_float32_input_is_shared_not_copied():
    X = np.ones((3, 2), dtype=np.float32)
    tensor = as_float32_tensor(X, torch.device("cpu"))
    assert tensor.data_ptr() == X.__array_interface__["data"][0]


def test_read_only_input_is_accepted_quietly():
    X = np.ones((3, 2))
    X.flags.writeable = False
    tensor = as_float32_tensor(X, torch.device("cpu"))  # filterwarnings=error guards this
    assert tensor.dtype == torch.float32
