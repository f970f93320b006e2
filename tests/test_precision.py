"""matmul_precision: how it resolves, that it is applied only while training and always
restored, and that reduced-precision training stays within a stated tolerance of float32."""

import threading

import numpy as np
import pytest
import torch
from fast_settings import FAST

import skdae._precision as precision
from skdae import DenoisingAutoencoder, GaussianNoise
from skdae._precision import matmul_precision, resolve_matmul_precision
from skdae.exceptions import DivergenceError

needs_switch = pytest.mark.skipif(
    precision._backend_switch("cpu") is None,
    reason="this torch has no per-backend fp32_precision switch (torch < 2.9)",
)


def cpu_switch():
    return torch.backends.mkldnn.matmul.fp32_precision


@pytest.fixture
def native_bf16(monkeypatch):
    """Pretend the CPU has (True) or lacks (False) bfloat16 hardware."""

    def pretend(has):
        monkeypatch.setattr(precision, "cpu_has_native_bfloat16", lambda: has)

    return pretend


@needs_switch
@pytest.mark.parametrize("has, expected", [(True, "bfloat16"), (False, "float32")])
def test_auto_uses_bfloat16_only_on_cpus_that_have_it(native_bf16, has, expected):
    native_bf16(has)
    assert resolve_matmul_precision("auto", "cpu") == expected


@needs_switch
def test_auto_is_tf32_on_cuda_and_explicit_values_are_kept():
    assert resolve_matmul_precision("auto", "cuda") == "tf32"
    assert resolve_matmul_precision("float32", "cpu") == "float32"
    assert resolve_matmul_precision("bfloat16", "cpu") == "bfloat16"
    assert resolve_matmul_precision("tf32", "cuda:0") == "tf32"


@needs_switch
@pytest.mark.parametrize("setting, device", [("tf32", "cpu"), ("bfloat16", "cuda")])
def test_a_format_the_device_cannot_take_is_an_error_that_says_what_to_pass(setting, device):
    with pytest.raises(ValueError, match=rf"matmul_precision='{setting}' is not available.*'auto'"):
        resolve_matmul_precision(setting, device)


def test_without_torch_switch_auto_is_float32_and_reduced_formats_ask_for_newer_torch(
    monkeypatch,
):
    monkeypatch.setattr(precision, "_backend_switch", lambda device: None)
    assert resolve_matmul_precision("auto", "cpu") == "float32"
    with pytest.raises(ValueError, match="needs torch 2.9 or newer.*'float32'"):
        resolve_matmul_precision("bfloat16", "cpu")
    with matmul_precision("float32", "cpu"):  # and applying it changes nothing
        pass


@needs_switch
def test_the_switch_is_set_inside_and_the_users_value_restored_after():
    before = cpu_switch()
    with matmul_precision("bfloat16", "cpu"):
        assert cpu_switch() == "bf16"
    assert cpu_switch() == before
    with matmul_precision("float32", "cpu"):
        assert cpu_switch() == "ieee"
    assert cpu_switch() == before


@needs_switch
def test_a_value_the_user_set_survives_a_fit_and_an_exception():
    torch.backends.mkldnn.matmul.fp32_precision = "tf32"
    try:
        with pytest.raises(RuntimeError, match="boom"):
            with matmul_precision("bfloat16", "cpu"):
                raise RuntimeError("boom")
        assert cpu_switch() == "tf32"
    finally:
        torch.backends.mkldnn.matmul.fp32_precision = "none"


@needs_switch
def test_overlapping_fits_in_threads_restore_the_users_value_once_both_are_done():
    before = cpu_switch()
    first_inside, second_inside, first_left = (threading.Event() for _ in range(3))
    seen = {}

    def first():
        with matmul_precision("bfloat16", "cpu"):
            first_inside.set()
            second_inside.wait(5)
        first_left.set()

    def second():
        first_inside.wait(5)
        with matmul_precision("bfloat16", "cpu"):
            second_inside.set()
            first_left.wait(5)
            seen["while the second still runs"] = cpu_switch()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"while the second still runs": "bf16"}
    assert cpu_switch() == before


class SwitchRecorder(GaussianNoise):
    """A corruption that notes the precision switch each time a batch is corrupted."""

    seen = []

    def corrupt_tensor(self, X, generator):
        SwitchRecorder.seen.append(cpu_switch())
        return super().corrupt_tensor(X, generator)


@needs_switch
@pytest.mark.parametrize("setting, during", [("bfloat16", "bf16"), ("float32", "ieee")])
def test_fit_trains_under_the_precision_and_restores_it(small_X, setting, during):
    before = cpu_switch()
    SwitchRecorder.seen = []
    dae = DenoisingAutoencoder(
        **{**FAST, "device": "cpu"}, corruption=SwitchRecorder(0.1), matmul_precision=setting
    )
    dae.fit(small_X)
    assert set(SwitchRecorder.seen) == {during}
    assert dae.matmul_precision_ == setting
    assert cpu_switch() == before
    dae.partial_fit(small_X)
    assert cpu_switch() == before


@needs_switch
def test_auto_resolves_per_fit_into_the_fitted_attribute(small_X, native_bf16):
    dae = DenoisingAutoencoder(**{**FAST, "device": "cpu"})
    native_bf16(False)
    assert dae.fit(small_X).matmul_precision_ == "float32"
    native_bf16(True)
    assert dae.fit(small_X).matmul_precision_ == "bfloat16"


@needs_switch
def test_the_switch_is_restored_when_training_diverges(small_X):
    before = cpu_switch()
    dae = DenoisingAutoencoder(**{**FAST, "device": "cpu"}, loss="mse", matmul_precision="bfloat16")
    with pytest.raises(DivergenceError):
        dae.fit(small_X * 1e25)
    assert cpu_switch() == before


@needs_switch
def test_an_unavailable_format_fails_the_fit_with_the_fix(small_X):
    dae = DenoisingAutoencoder(**{**FAST, "device": "cpu"}, matmul_precision="tf32")
    with pytest.raises(ValueError, match="Pass matmul_precision='auto'"):
        dae.fit(small_X)


@pytest.fixture(scope="module")
def mnist_sample():
    from skdae.datasets import load_mnist_sample

    sample = load_mnist_sample()
    noisy = GaussianNoise(0.4, clip=(0, 1)).corrupt(sample.X_test, random_state=0)
    return sample.X_train, sample.X_test, noisy


def _fit_sample(X_train, setting):
    return DenoisingAutoencoder(
        corruption=GaussianNoise(0.4, clip=(0, 1)),
        max_iter=20,
        device="cpu",
        matmul_precision=setting,
        random_state=0,
    ).fit(X_train)


@needs_switch
def test_bfloat16_training_stays_within_tolerance_of_float32(mnist_sample):
    """The stated tolerance: the final training loss within 2% and the denoised test
    PSNR within 0.2 dB of the float32 fit. On the bundled MNIST sample at 20 epochs
    they differ by about 0.3% and 0.03 dB (full MNIST, 50 epochs: 0.01 dB)."""
    from skdae.metrics import peak_signal_noise_ratio as psnr

    X_train, X_test, noisy = mnist_sample
    exact, reduced = _fit_sample(X_train, "float32"), _fit_sample(X_train, "bfloat16")
    assert reduced.loss_curve_[-1] == pytest.approx(exact.loss_curve_[-1], rel=0.02)
    exact_db, reduced_db = psnr(X_test, exact.predict(noisy)), psnr(X_test, reduced.predict(noisy))
    assert abs(reduced_db - exact_db) < 0.2
    assert reduced_db > psnr(X_test, noisy) + 2  # both really denoise


@needs_switch
@pytest.mark.skipif(
    not precision.cpu_has_native_bfloat16(), reason="needs a CPU with bfloat16 hardware"
)
def test_bfloat16_training_really_rounds_on_bfloat16_hardware(mnist_sample):
    # Not the same run under another name: the rounding changed the weights.
    X_train, X_test, _ = mnist_sample
    exact, reduced = _fit_sample(X_train, "float32"), _fit_sample(X_train, "bfloat16")
    assert not np.array_equal(reduced.transform(X_test), exact.transform(X_test))


@needs_switch
def test_bfloat16_training_is_reproducible(mnist_sample):
    X_train, X_test, _ = mnist_sample
    fits = [
        DenoisingAutoencoder(
            max_iter=2, device="cpu", matmul_precision="bfloat16", random_state=0
        ).fit(X_train[:500])
        for _ in range(2)
    ]
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    np.testing.assert_array_equal(fits[0].transform(X_test), fits[1].transform(X_test))
