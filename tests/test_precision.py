"""matmul_precision: how it resolves, that it is applied per call (no process-wide switch,
no waiting between threads), that matmul_precision_ is measured, and that
reduced-precision training stays within a stated tolerance of float32."""

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch
from fast_settings import FAST

import skdae._precision as precision
from skdae import DenoisingAutoencoder, GaussianNoise
from skdae._precision import measure_precision, resolve_matmul_precision
from skdae.exceptions import PrecisionWarning


def torch_switches():
    """Every process-wide value of torch that changes a float32 product on the CPU."""
    return (
        torch.backends.mkldnn.matmul.fp32_precision,
        torch.backends.mkldnn.conv.fp32_precision,
        torch.backends.cuda.matmul.fp32_precision,
        torch.backends.cudnn.conv.fp32_precision,
    )


@pytest.fixture
def native_bf16(monkeypatch):
    """Pretend the libraries compute bfloat16 natively (True) or not (False)."""

    def pretend(has):
        monkeypatch.setattr(precision, "native_bfloat16", lambda device: has)

    return pretend


@pytest.fixture
def user_switch():
    """Set oneDNN's process-wide bfloat16 mode as a user might; restored after."""
    before = torch.backends.mkldnn.matmul.fp32_precision
    yield
    torch.backends.mkldnn.matmul.fp32_precision = before


# --------------------------------------------------------------------------- resolve


@pytest.mark.parametrize("has, expected", [(True, "bfloat16"), (False, "float32")])
def test_auto_uses_bfloat16_only_where_the_library_computes_it(native_bf16, has, expected):
    native_bf16(has)
    assert resolve_matmul_precision("auto", "cpu") == expected
    assert resolve_matmul_precision("float32", "cpu") == "float32"


def test_explicit_bfloat16_that_would_be_emulated_runs_float32_and_says_so(native_bf16):
    native_bf16(False)
    with pytest.warns(PrecisionWarning, match="not computed natively.*float32"):
        assert resolve_matmul_precision("bfloat16", "cpu") == "float32"


def test_tf32_is_refused_off_cuda_and_on_cuda_says_how_to_get_it():
    with pytest.raises(ValueError, match=r"matmul_precision='tf32' is not available.*'auto'"):
        resolve_matmul_precision("tf32", "cpu")
    with pytest.warns(PrecisionWarning, match="process-wide.*fp32_precision = 'tf32'"):
        assert resolve_matmul_precision("tf32", "cuda") == "float32"


_ASK_ONEDNN = """
import torch
from skdae import DenoisingAutoencoder
from skdae._precision import native_bfloat16, resolve_matmul_precision
X = torch.rand(64, 12).numpy()
dae = DenoisingAutoencoder(latent_dim=2, hidden_layer_sizes=(4,), max_iter=1, device="cpu").fit(X)
print(native_bfloat16("cpu"), resolve_matmul_precision("auto", "cpu"), dae.matmul_precision_)
"""


def test_auto_asks_onednn_not_the_cpu_flags():
    """With oneDNN held to AVX2 (as on a CPU without bfloat16), 'auto' is float32 even
    where the CPU's flags say bfloat16, and the fit says so."""
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2", "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _ASK_ONEDNN], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "float32", "float32"]


# --------------------------------------------------------------------------- measure


def test_the_measurement_reads_the_format_from_the_rounding():
    values = 1.0 + torch.rand(64, 64, generator=torch.Generator().manual_seed(1))
    as_bits = values.view(torch.int32)
    tf32 = ((as_bits + (1 << 12)) & ~((1 << 13) - 1)).view(torch.float32)  # 10-bit mantissa
    assert precision._format_of([values.clone()], values) == "float32"
    assert precision._format_of([tf32], values) == "tf32"
    assert precision._format_of([values.to(torch.bfloat16)], values) == "bfloat16"
    assert precision._format_of([values.clone(), tf32], values) == "tf32"  # the worst


def test_explicit_formats_are_measured_as_what_they_are():
    assert measure_precision("float32", "cpu") == "float32"
    assert measure_precision("bfloat16", "cpu") == "bfloat16"


def test_a_users_process_wide_switch_is_reported_as_what_it_does(small_X, user_switch):
    """oneDNN's bfloat16 mode rounds float32 products on some CPUs and not on others:
    whatever it does here, a float32 fit reports it and warns when it is not float32."""
    torch.backends.mkldnn.matmul.fp32_precision = "bf16"
    measured = measure_precision("float32", "cpu", convolutions=False)
    dae = DenoisingAutoencoder(**{**FAST, "device": "cpu"}, matmul_precision="float32")
    if measured == "float32":
        dae.fit(small_X)
    else:
        with pytest.warns(PrecisionWarning, match="asked for float32.*matmul_precision_"):
            dae.fit(small_X)
    assert dae.matmul_precision_ == measured


# ------------------------------------------------------------------- applied per call


class SwitchRecorder(GaussianNoise):
    """A corruption that notes torch's switches each time a batch is corrupted."""

    seen = []

    def corrupt_tensor(self, X, generator):
        SwitchRecorder.seen.append(torch_switches())
        return super().corrupt_tensor(X, generator)


@pytest.mark.parametrize("setting", ["bfloat16", "float32"])
def test_fit_never_touches_a_process_wide_switch(small_X, setting, native_bf16):
    native_bf16(True)
    before = torch_switches()
    SwitchRecorder.seen = []
    dae = DenoisingAutoencoder(
        **{**FAST, "device": "cpu"}, corruption=SwitchRecorder(0.1), matmul_precision=setting
    )
    dae.fit(small_X)
    dae.partial_fit(small_X)
    assert set(SwitchRecorder.seen) == {before}
    assert torch_switches() == before
    assert dae.matmul_precision_ == setting


def test_auto_resolves_per_fit_into_the_fitted_attribute(small_X, native_bf16):
    dae = DenoisingAutoencoder(**{**FAST, "device": "cpu"})
    native_bf16(False)
    assert dae.fit(small_X).matmul_precision_ == "float32"
    native_bf16(True)
    assert dae.fit(small_X).matmul_precision_ == "bfloat16"


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


def test_bfloat16_training_stays_within_tolerance_of_float32(mnist_sample, native_bf16):
    """The stated tolerance: the final training loss within 2% and the denoised test
    PSNR within 0.2 dB of the float32 fit. (Where bfloat16 is not native, torch
    emulates it: the same rounding, slowly.)"""
    from skdae.metrics import peak_signal_noise_ratio as psnr

    native_bf16(True)
    X_train, X_test, noisy = mnist_sample
    exact, reduced = _fit_sample(X_train, "float32"), _fit_sample(X_train, "bfloat16")
    assert reduced.matmul_precision_ == "bfloat16"
    assert reduced.loss_curve_[-1] == pytest.approx(exact.loss_curve_[-1], rel=0.02)
    exact_db, reduced_db = psnr(X_test, exact.predict(noisy)), psnr(X_test, reduced.predict(noisy))
    assert abs(reduced_db - exact_db) < 0.2
    assert reduced_db > psnr(X_test, noisy) + 2  # both really denoise
    # Not the same run under another name: the rounding changed the weights.
    assert not np.array_equal(reduced.transform(X_test), exact.transform(X_test))


def test_bfloat16_training_is_reproducible(mnist_sample, native_bf16):
    native_bf16(True)
    X_train, X_test, _ = mnist_sample
    fits = [
        DenoisingAutoencoder(
            max_iter=2, device="cpu", matmul_precision="bfloat16", random_state=0
        ).fit(X_train[:500])
        for _ in range(2)
    ]
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    np.testing.assert_array_equal(fits[0].transform(X_test), fits[1].transform(X_test))


# ----------------------------------------------------------------------------- threads


def test_serving_beside_a_reduced_precision_fit_neither_waits_nor_changes(native_bf16):
    """A thread serving float32 predictions while another thread fits at bfloat16: each
    prediction equals, bit for bit, the same prediction made alone, and none waits for
    the fit (the worst latency stays below a quarter of an epoch; under the old
    process-wide switch and its gate it was a whole epoch)."""
    native_bf16(True)
    rng = np.random.RandomState(0)
    X_train = rng.rand(12000, 196).astype(np.float32)
    requests = rng.rand(100, 196).astype(np.float32)
    server = DenoisingAutoencoder(**{**FAST, "device": "cpu"}, matmul_precision="float32")
    server.fit(X_train[:500])
    alone = server.predict(requests)

    trainer = DenoisingAutoencoder(
        hidden_layer_sizes=(256, 128), max_iter=3, device="cpu", matmul_precision="bfloat16"
    )
    done, errors = threading.Event(), []

    def fit():
        try:
            trainer.fit(X_train)
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=fit)
    thread.start()
    latencies, outputs = [], []
    while not done.is_set():
        started = time.perf_counter()
        outputs.append(server.predict(requests))
        latencies.append(time.perf_counter() - started)
        time.sleep(0.005)
    thread.join()
    assert not errors and trainer.matmul_precision_ == "bfloat16"
    assert len(outputs) > 3
    for output in outputs:
        np.testing.assert_array_equal(output, alone)
    epoch = min(trainer.epoch_times_)
    assert max(latencies) < epoch / 4, (max(latencies), epoch)
