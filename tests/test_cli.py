"""The `skdae` command end to end: files written, formats, errors and exit codes."""

import json
import subprocess
import sys
import time

import numpy as np
import pytest
from mirror_server import MirrorServer, write_mnist_like

import skdae
from skdae import DenoisingAutoencoder
from skdae.cli import main
from skdae.datasets import SampleDataWarning, _download, _mnist

PIL = pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")


def _image_size(path):
    with PIL.open(path) as image:
        return image.size, image.mode


TINY = ["--epochs", "2", "--hidden", "32", "--latent-dim", "8", "--n-images", "4", "--quiet"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny training run on the bundled sample (the data home is empty)."""
    root = tmp_path_factory.mktemp("cli")
    out = root / "out"
    code = main(["train", "--data-home", str(root / "empty"), "--output", str(out), *TINY])
    assert code == 0
    return out


def test_train_writes_every_output(trained):
    names = {p.name for p in trained.iterdir()}
    assert names == {
        "model.skdae",
        "metrics.json",
        "report.md",
        "loss_curves.png",
        "reconstructions.png",
        "corruption_types.png",
        "latent_space.png",
    }
    assert all((trained / name).stat().st_size > 0 for name in names)


def test_figures_have_the_expected_sizes(trained):
    # 100 dpi: a 4-column grid of 1.2-inch cells is 480 px wide; loss curves 6 x 4 in.
    assert _image_size(trained / "reconstructions.png")[0] == (480, 390)
    assert _image_size(trained / "loss_curves.png")[0] == (600, 400)
    (width, height), _ = _image_size(trained / "corruption_types.png")
    assert width == 480 and height > 390  # 7 rows: original + 3 x (noisy, denoised)


def test_metrics_json_reports_the_run(trained):
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["data"]["bundled_sample"] is True
    assert metrics["data"]["n_train"] == 2000 and metrics["data"]["n_test"] == 500
    assert metrics["training"]["epochs"] == 2
    assert len(metrics["training"]["loss_curve"]) == 2
    assert len(metrics["training"]["validation_loss_curve"]) == 2
    test = metrics["test"]
    assert test["noisy_psnr"] == pytest.approx(10 * np.log10(1 / test["noisy_mse"]))
    assert 0 <= metrics["classification"]["accuracy_clean_test"] <= 1
    assert (
        metrics["model"]["n_parameters"]
        == 784 * 32 + 32 + 32 * 8 + 8 + 8 * 32 + 32 + 32 * 784 + 784
    )
    assert set(metrics["versions"]) >= {"skdae", "torch", "scikit-learn"}


def test_report_embeds_figures_and_says_it_used_the_sample(trained):
    report = (trained / "report.md").read_text()
    assert "![Original, noisy and denoised test images](reconstructions.png)" in report
    assert "bundled with skdae, not the full data set" in report
    assert "| denoised |" in report


def test_a_joblib_model_is_accepted_too(trained, tmp_path, capsys):
    import joblib

    from skdae import DenoisingAutoencoder

    joblib.dump(DenoisingAutoencoder.load(trained / "model.skdae"), tmp_path / "m.joblib")
    assert main(["summary", str(tmp_path / "m.joblib"), "--trust-pickle"]) == 0
    assert "DENSE 784 -> 32 [ReLU]" in capsys.readouterr().out


def test_summary_prints_the_layer_table(trained, capsys):
    assert main(["summary", str(trained / "model.skdae")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["part", "layer", "weights", "biases", "parameters"]
    assert "DENSE 784 -> 32 [ReLU]" in out[1] and "(32, 784)" in out[1]
    assert out[-1].split() == ["total", "51544"]


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_denoise_keeps_the_format(trained, tmp_path, suffix):
    X = np.random.RandomState(0).rand(3, 784)
    source, target = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    if suffix == ".npy":
        np.save(source, X)
    else:
        np.savetxt(source, X, delimiter=",")
    assert main(["denoise", str(trained / "model.skdae"), str(source), str(target)]) == 0
    result = np.load(target) if suffix == ".npy" else np.loadtxt(target, delimiter=",")
    assert result.shape == (3, 784) and 0 <= result.min() and result.max() <= 1


def test_denoise_png(trained, tmp_path):
    pixels = (np.random.RandomState(0).rand(28, 28) * 255).astype(np.uint8)
    PIL.fromarray(pixels).save(tmp_path / "digit.png")
    code = main(
        [
            "denoise",
            str(trained / "model.skdae"),
            str(tmp_path / "digit.png"),
            str(tmp_path / "clean.png"),
        ]
    )
    assert code == 0
    assert _image_size(tmp_path / "clean.png") == ((28, 28), "L")


def test_evaluate_prints_metrics(trained, tmp_path, capsys):
    out = tmp_path / "eval.json"
    code = main(
        [
            "evaluate",
            str(trained / "model.skdae"),
            "--data-home",
            str(tmp_path),
            "--noise",
            "masking:0.3",
            "--output",
            str(out),
        ]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.read_text())
    assert printed["noise"] == "masking:0.3" and printed["data"]["n_test"] == 500


# --- MNIST downloaded by train (from a mirror on 127.0.0.1) ---------------------------------

FAST = ["--epochs", "1", "--hidden", "8", "--latent-dim", "2", "--no-classify", "--no-figures"]


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """Small MNIST-like files on a local HTTP server, with MNIST's MD5 table replaced."""
    monkeypatch.setattr(_mnist, "MNIST_MD5", write_mnist_like(tmp_path / "served"))
    monkeypatch.setattr(_download, "DOWNLOAD_TIMEOUT_S", 0.5)
    with MirrorServer(tmp_path / "served") as server:
        yield server


@pytest.mark.parametrize("how", ["--mirror", "SKDAE_MNIST_MIRROR"])
def test_train_downloads_mnist_when_it_is_missing(tmp_path, mirror, monkeypatch, capsys, how):
    home, out = tmp_path / "home", tmp_path / "out"
    args = ["train", "--data-home", str(home), "-o", str(out), *FAST]
    if how == "--mirror":
        args += ["--mirror", mirror.url("ok")]
    else:
        monkeypatch.setenv("SKDAE_MNIST_MIRROR", mirror.url("ok"))
    assert main(args) == 0
    data = json.loads((out / "metrics.json").read_text())["data"]
    assert data["source"] == f"MNIST from {home / 'mnist'}" and data["bundled_sample"] is False
    assert (data["n_train"], data["n_test"]) == (20, 10)
    assert sorted(p.name for p in (home / "mnist").iterdir()) == sorted(
        f"{name}.gz" for name in _mnist.MNIST_MD5
    )
    captured = capsys.readouterr()
    assert "downloading the four official files" in captured.err
    assert "Training on 20 x 784 (MNIST from" in captured.out
    # The next run reads what the first downloaded.
    asked = len(mirror.requests)
    assert main([*args[:5], "-o", str(tmp_path / "again"), *FAST]) == 0
    assert len(mirror.requests) == asked


def test_train_offline_falls_back_to_the_sample_within_the_time_out(tmp_path, mirror, capsys):
    home, out = tmp_path / "home", tmp_path / "out"
    args = ["train", "--data-home", str(home), "--mirror", mirror.url("silent"), *FAST]
    started = time.monotonic()
    with pytest.warns(SampleDataWarning, match=r"not available \(Could not download train-"):
        assert main([*args, "-o", str(out)]) == 0
    assert time.monotonic() - started < 60  # one time-out of 0.5 s, then the sample
    captured = capsys.readouterr()
    assert "failed: no answer within 0.5 s (time-out)" in captured.err
    assert "Full MNIST is not available: training on the bundled sample" in captured.out
    assert json.loads((out / "metrics.json").read_text())["data"]["bundled_sample"] is True
    assert not home.exists()  # nothing half-written, not even an empty folder


def test_train_no_download_uses_the_sample_without_asking_the_network(
    tmp_path, monkeypatch, capsys
):
    def no_network(request, timeout):
        pytest.fail(f"--no-download asked {request.full_url}")

    monkeypatch.setattr(_download, "_urlopen", no_network)
    out = tmp_path / "out"
    args = ["train", "--data-home", str(tmp_path / "home"), "--no-download", "-o", str(out)]
    with pytest.warns(SampleDataWarning, match="skdae train without --no-download"):
        assert main([*args, *FAST]) == 0
    assert "Downloading" not in capsys.readouterr().err
    assert json.loads((out / "metrics.json").read_text())["data"]["bundled_sample"] is True


def test_evaluate_downloads_too(trained, tmp_path, mirror, capsys):
    model = str(trained / "model.skdae")
    home = tmp_path / "home"
    assert main(["evaluate", model, "--data-home", str(home), "--mirror", mirror.url("ok")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["data"] == {"source": f"MNIST from {home / 'mnist'}", "n_test": 10}


@pytest.mark.parametrize(
    "options, message",
    [
        (["--validation-fraction", "2"], "'validation_fraction' parameter"),
        (["--learning-rate", "-1"], "'learning_rate_init' parameter"),
        (["--max-grad-norm", "0"], "'max_grad_norm' parameter"),
        (["--max-time", "-5"], "'max_time' parameter"),
        (["--architecture", "conv", "--hidden", "8"], "--hidden does not apply"),
        (["--architecture", "conv", "--preset", "features"], "is a preset of the dense"),
    ],
)
def test_bad_estimator_options_exit_2_before_mnist_is_downloaded(
    tmp_path, mirror, capsys, options, message
):
    home = tmp_path / "home"
    args = ["train", "--data-home", str(home), "--mirror", mirror.url("ok")]
    assert main([*args, "-o", str(tmp_path / "out"), *options]) == 2
    assert message in capsys.readouterr().err
    assert mirror.requests == [] and not home.exists()


def test_a_bad_mirror_in_the_environment_exits_2_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SKDAE_MNIST_MIRROR", "mirror.example.org/mnist")
    out = tmp_path / "out"
    assert main(["train", "--data-home", str(tmp_path / "home"), "-o", str(out), *FAST]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skdae train: error: SKDAE_MNIST_MIRROR='mirror.example.org/mnist'")
    assert err.count("\n") == 1 and list(tmp_path.iterdir()) == []


def test_train_on_a_users_npy_file(tmp_path):
    X = np.random.RandomState(0).rand(50, 20)
    np.save(tmp_path / "mine.npy", X)
    code = main(
        [
            "train",
            "--data",
            str(tmp_path / "mine.npy"),
            "--output",
            str(tmp_path / "o"),
            "--epochs",
            "1",
            "--hidden",
            "8",
            "--latent-dim",
            "3",
            "--quiet",
        ]
    )
    assert code == 0
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["data"] == {
        "source": str(tmp_path / "mine.npy"),
        "bundled_sample": False,
        "n_train": 40,
        "n_test": 10,
        "n_features": 20,
    }
    assert "classification" not in metrics  # no labels
    # 20 features are no square image: only the loss and latent figures.
    assert "reconstructions.png" not in metrics["files"]


def test_train_for_a_given_time_lets_the_time_decide_the_epochs(tmp_path, capsys):
    np.save(tmp_path / "mine.npy", np.random.RandomState(0).rand(50, 20))
    out = tmp_path / "o"
    common = ["train", "--data", str(tmp_path / "mine.npy"), "--hidden", "8", "--no-figures"]
    assert main([*common, "--output", str(out), "--max-time", "0.3"]) == 0
    assert "0.3 s (at most 10000 epochs)." in capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["training"]["max_time"] == 0.3
    assert metrics["model"]["params"]["max_iter"] == 10_000  # the cap, not the default 50
    assert 1 <= metrics["training"]["epochs"] < 10_000
    # Given both, the epochs stay as given.
    both = ["--max-time", "60", "--epochs", "2"]
    assert main([*common, "--output", str(tmp_path / "p"), *both]) == 0
    assert json.loads((tmp_path / "p" / "metrics.json").read_text())["training"]["epochs"] == 2


def test_train_from_a_preset_keeps_its_corruption_and_tests_with_the_noise(tmp_path):
    from skdae import Compose, DenoisingAutoencoder

    out = tmp_path / "o"
    code = main(
        [
            "train",
            "--data-home",
            str(tmp_path / "empty"),
            "--output",
            str(out),
            "--preset",
            "features",
            "--epochs",
            "1",
            "--latent-dim",
            "8",
            "--hidden",
            "32",
            "--no-figures",
            "--quiet",
        ]
    )
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    model = metrics["model"]
    assert model["preset"] == "features" and model["latent_activation"] == "identity"
    assert model["network"]["hidden_layer_sizes"] == [32]  # the command line wins
    assert "MaskingNoise" in model["corruption"] and metrics["noise"] == "gaussian:0.4"
    assert "Preset: `features`" in (out / "report.md").read_text()
    dae = DenoisingAutoencoder.load(out / "model.skdae")
    assert isinstance(dae.corruption, Compose) and dae.latent_activation == "identity"


def test_train_from_the_conv_preset_fits_the_convolutional_estimator(tmp_path):
    from skdae import ConvDenoisingAutoencoder

    out = tmp_path / "o"
    args = ["train", "--data-home", str(tmp_path / "empty"), "--output", str(out)]
    args += ["--architecture", "conv", "--preset", "conv_features", "--epochs", "1"]
    assert main([*args, "--channels", "4,8", "--no-figures", "--quiet"]) == 0
    model = json.loads((out / "metrics.json").read_text())["model"]
    assert model["preset"] == "conv_features" and "MaskingNoise" in model["corruption"]
    dae = ConvDenoisingAutoencoder.load(out / "model.skdae")
    assert dae.latent_activation == "identity" and dae.channels == (4, 8)


def test_train_latent_activation_without_a_preset(tmp_path):
    from skdae import DenoisingAutoencoder, GaussianNoise

    out = tmp_path / "o"
    code = main(
        [
            "train",
            "--data-home",
            str(tmp_path / "empty"),
            "--output",
            str(out),
            *TINY,
            "--latent-activation",
            "identity",
            "--no-figures",
            "--no-classify",
        ]
    )
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"]["preset"] is None
    dae = DenoisingAutoencoder.load(out / "model.skdae")
    assert dae.latent_activation == "identity" and isinstance(dae.corruption, GaussianNoise)


def test_train_matmul_precision_is_passed_on_and_recorded(tmp_path):
    out = tmp_path / "o"
    code = main(
        [
            "train",
            "--data-home",
            str(tmp_path / "empty"),
            "--output",
            str(out),
            *TINY,
            "--matmul-precision",
            "float32",
            "--no-figures",
            "--no-classify",
        ]
    )
    assert code == 0
    assert json.loads((out / "metrics.json").read_text())["model"]["matmul_precision"] == "float32"
    assert "(float32 matrix products)" in (out / "report.md").read_text()


def test_train_refuses_a_matmul_precision_the_device_cannot_take(tmp_path, capsys):
    code = main(
        [
            "train",
            "--data-home",
            str(tmp_path / "empty"),
            "--output",
            str(tmp_path / "o"),
            *TINY,
            "--device",
            "cpu",
            "--matmul-precision",
            "tf32",
            "--no-figures",
        ]
    )
    assert code == 2
    assert "matmul_precision='tf32' is not available on device 'cpu'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["summary", "{tmp}/missing.skdae"], "does not exist; train one with 'skdae train'"),
        (["summary", "{tmp}/garbage.skdae"], "is not an skdae model file"),
        (["summary", "{tmp}/garbage.joblib", "--trust-pickle"], "could not read"),
        (
            ["summary", "{tmp}/array.joblib", "--trust-pickle"],
            "does not hold a fitted DenoisingAutoencoder",
        ),
        (["denoise", "{model}", "{tmp}/narrow.npy", "{tmp}/o.npy"], "expects 784 features"),
        (["denoise", "{model}", "{tmp}/nothing.npy", "{tmp}/o.npy"], "does not exist"),
        (["denoise", "{model}", "{tmp}/narrow.npy", "{tmp}/o.txt"], "Cannot tell the format"),
        (["train", "--noise", "blur:1", "--data-home", "{tmp}"], "Unknown noise 'blur'"),
        (["train", "--noise", "gaussian:-1", "--data-home", "{tmp}"], "'std' parameter"),
        (["denoise", "{model}", "{tmp}/scalar.npy", "{tmp}/o.npy"], "holds a single value"),
        (["denoise", "{model}", "{tmp}/complex.npy", "{tmp}/o.npy"], "complex128 values"),
        (["denoise", "{model}", "{tmp}/nan.npy", "{tmp}/o.npy"], "NaN or infinite"),
        (["denoise", "{model}", "{tmp}/wide.npy", "{tmp}/folder.npy"], "it is a folder"),
        (["denoise", "{model}", "{tmp}/wide.npy", "{tmp}/wide.npy"], "is the input file"),
        (["train", "--data-home", "{tmp}", "-o", "{tmp}/wide.npy"], "is a file"),
        (["evaluate", "{model}", "-o", "{tmp}/missing/m.json"], "does not exist; create it"),
        (["denoise", "{model}", "{tmp}/counts.npy", "{tmp}/o.npy"], "integers from 0 to 1000"),
        (["denoise", "{model}", "{tmp}/pixels.npy", "{tmp}/o.npy"], "trained on data in [0, 1]"),
    ],
)
def test_bad_input_exits_2_with_a_message(trained, tmp_path, capsys, args, message):
    (tmp_path / "garbage.joblib").write_bytes(b"not a pickle at all")
    (tmp_path / "garbage.skdae").write_bytes(b"not a zip at all")
    import joblib

    joblib.dump(np.zeros(3), tmp_path / "array.joblib")
    np.save(tmp_path / "narrow.npy", np.zeros((2, 10)))
    np.save(tmp_path / "scalar.npy", np.float64(3.0))
    np.save(tmp_path / "complex.npy", np.ones((2, 784), dtype=complex))
    np.save(tmp_path / "nan.npy", np.full((2, 784), np.nan))
    np.save(tmp_path / "wide.npy", np.zeros((2, 784)))
    np.save(tmp_path / "counts.npy", np.arange(2 * 784).reshape(2, 784) % 1001)
    np.save(tmp_path / "pixels.npy", np.full((2, 784), 255.0))  # 8-bit values, as floats
    (tmp_path / "folder.npy").mkdir()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    filled = [a.format(tmp=tmp_path, model=trained / "model.skdae") for a in args]
    assert main([*filled, "--quiet"] if filled[0] == "train" else filled) == 2
    err = capsys.readouterr().err
    assert message in err
    # One clear line, not a traceback nor a dump of the data; nothing the user had is lost.
    assert "Traceback" not in err and len(err) < 600
    assert before == {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}


@pytest.mark.parametrize("dtype", [np.uint8, np.int64])
def test_integer_images_are_scaled_in_and_come_back_as_integers(trained, tmp_path, dtype):
    """Integer files are 8-bit images everywhere on the command line: in as / 255, out
    as 0..255 in the input's dtype (an int64 0..255 file once came out saturated)."""
    images = np.random.RandomState(0).randint(0, 256, (3, 28, 28)).astype(dtype)
    np.save(tmp_path / "images.npy", images)
    args = ["denoise", str(trained / "model.skdae"), str(tmp_path / "images.npy")]
    assert main([*args, str(tmp_path / "out.npy")]) == 0
    out = np.load(tmp_path / "out.npy")
    assert out.dtype == dtype and out.shape == images.shape
    model = DenoisingAutoencoder.load(trained / "model.skdae")
    expected = model.predict(images.reshape(3, -1).astype(np.float32) / 255)
    np.testing.assert_array_equal(out.reshape(3, -1), np.round(expected * 255).astype(dtype))


def test_denoise_gives_images_back_in_their_shape(trained, tmp_path):
    np.save(tmp_path / "images.npy", np.random.RandomState(0).rand(3, 28, 28))
    args = ["denoise", str(trained / "model.skdae"), str(tmp_path / "images.npy")]
    assert main([*args, str(tmp_path / "out.npy")]) == 0
    assert np.load(tmp_path / "out.npy").shape == (3, 28, 28)


def test_saving_over_a_private_file_keeps_it_private(trained, tmp_path):
    import os

    target = tmp_path / "out.npy"
    target.write_bytes(b"old")
    os.chmod(target, 0o600)
    np.save(tmp_path / "in.npy", np.zeros((2, 784)))
    assert (
        main(["denoise", str(trained / "model.skdae"), str(tmp_path / "in.npy"), str(target)]) == 0
    )
    assert target.stat().st_mode & 0o777 == 0o600


def test_divergence_exits_1(tmp_path, capsys):
    np.save(tmp_path / "huge.npy", np.random.RandomState(0).rand(40, 9) * 1e25)
    code = main(
        [
            "train",
            "--data",
            str(tmp_path / "huge.npy"),
            "--output",
            str(tmp_path / "o"),
            "--epochs",
            "2",
            "--hidden",
            "4",
            "--latent-dim",
            "2",
            "--quiet",
        ]
    )
    assert code == 1
    assert "diverged at epoch 1" in capsys.readouterr().err


def test_the_installed_command_and_argparse_errors():
    """The console script exists; unknown options exit 2 (argparse's convention)."""
    for module in ("skdae.cli", "skdae"):  # python -m skdae too
        ok = subprocess.run(
            [sys.executable, "-m", module, "--version"], capture_output=True, text=True
        )
        assert ok.returncode == 0 and ok.stdout == f"skdae {skdae.__version__}\n"
    bad = subprocess.run(
        [sys.executable, "-m", "skdae", "train", "--bogus"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "unrecognized arguments: --bogus" in bad.stderr


def test_offline_the_command_says_it_uses_the_sample_in_its_own_name(tmp_path):
    """A run as a newcomer's would go with no network (here SKDAE_MNIST_MIRROR is a closed
    local port): the failed download, then the warning said by the command, not by a line
    of its launcher ("<frozen runpy>:88:" or ".venv/bin/skdae:8:")."""
    run = subprocess.run(
        [sys.executable, "-m", "skdae", "train", "--data-home", str(tmp_path / "home")]
        + ["-o", str(tmp_path / "out"), *FAST],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    assert lines[0].startswith("Full MNIST is not in ") and "downloading the four" in lines[0]
    assert lines[1].startswith("Downloading train-images-idx3-ubyte.gz from 127.0.0.1:")
    assert "failed: [Errno " in lines[1] and lines[1].endswith("] Connection refused")
    assert lines[2].startswith(
        "skdae train: SampleDataWarning: Full MNIST is not available (Could not download"
    )
    assert "Full MNIST is not available: training on the bundled sample" in run.stdout
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize("command", ["summary", "denoise", "evaluate"])
def test_a_pickle_is_never_opened_without_trust_pickle(tmp_path, capsys, command):
    """A pickle that would run code when loaded: refused unopened, whatever the command."""
    marker = tmp_path / "code-ran"
    (tmp_path / "evil.joblib").write_bytes(_pickle_that_touches(marker))
    args = {
        "summary": [],
        "denoise": [str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
        "evaluate": [],
    }[command]
    assert main([command, str(tmp_path / "evil.joblib"), *args]) == 2
    assert "--trust-pickle" in capsys.readouterr().err
    assert not marker.exists()


def _pickle_that_touches(path):
    import pickle

    class Touch:
        def __reduce__(self):
            return (open, (str(path), "w"))

    return pickle.dumps(Touch())


CONV_TINY = ["--architecture", "conv", "--epochs", "1", "--channels", "8,16", "--quiet"]


@pytest.fixture(scope="module")
def trained_conv(tmp_path_factory):
    """A tiny convolutional run on the bundled sample, through every command."""
    root = tmp_path_factory.mktemp("cli-conv")
    out = root / "out"
    args = ["train", "--data-home", str(root / "empty"), "--output", str(out)]
    assert main([*args, *CONV_TINY, "--latent-dim", "none", "--no-figures"]) == 0
    return out


def test_train_conv_writes_a_conv_model_and_reports_it(trained_conv):
    metrics = json.loads((trained_conv / "metrics.json").read_text())
    assert metrics["model"]["estimator"] == "ConvDenoisingAutoencoder"
    assert metrics["model"]["network"]["channels"] == [8, 16]
    assert metrics["model"]["network"]["image_shape"] == [1, 28, 28]
    assert metrics["model"]["latent_dim"] is None
    assert np.isfinite(metrics["test"]["denoised_psnr"])  # learning: see test_conv.py
    assert "ConvDenoisingAutoencoder" in (trained_conv / "report.md").read_text()
    model = skdae.ConvDenoisingAutoencoder.load(trained_conv / "model.skdae")
    assert model.channels == (8, 16) and model.latent_dim is None


def test_summary_evaluate_and_denoise_take_a_conv_model(trained_conv, tmp_path, capsys):
    model = str(trained_conv / "model.skdae")
    assert main(["summary", model]) == 0
    assert "CONV2D 1x28x28 -> 8x14x14 [ReLU]" in capsys.readouterr().out
    empty = str(tmp_path / "empty")
    assert main(["evaluate", model, "--data-home", empty]) == 0
    assert np.isfinite(json.loads(capsys.readouterr().out)["test"]["denoised_mse"])
    noisy = np.random.RandomState(0).rand(3, 784).astype(np.float32)
    np.save(tmp_path / "noisy.npy", noisy)
    assert main(["denoise", model, str(tmp_path / "noisy.npy"), str(tmp_path / "out.npy")]) == 0
    assert np.load(tmp_path / "out.npy").shape == (3, 784)


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            ["--architecture", "conv", "--hidden", "32"],
            "--hidden does not apply to --architecture conv",
        ),
        (["--channels", "4"], "--channels does not apply to --architecture dense"),
        (["--architecture", "conv", "--preset", "features"], "is a preset of the dense"),
        (["--preset", "conv_features"], "pass --architecture conv"),
        (["--architecture", "conv", "--kernel-size", "4"], "kernel_size must be odd"),
        (["--latent-dim", "none"], "latent_dim"),
    ],
)
def test_options_of_the_other_architecture_exit_2(tmp_path, capsys, extra, message):
    args = ["train", "--data-home", str(tmp_path / "empty"), "--output", str(tmp_path / "o")]
    assert main([*args, "--epochs", "1", "--quiet", "--no-figures", *extra]) == 2
    assert message in capsys.readouterr().err


# ---------------------------------------------------------------- no output replaces an input


def _files_under(folder):
    """Every file under ``folder`` (through links) and its bytes: what the user has."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _spell(victim, spelling, link):
    """A path that names the file ``victim``: as given, relative (with a detour), or a
    symbolic or hard link at ``link``. The current folder is victim's grandparent."""
    import os

    if spelling == "same":
        return str(victim)
    if spelling == "relative":
        return os.path.join("sub", "..", os.path.relpath(victim))
    if spelling == "symlink":
        link.symlink_to(victim)
    else:
        os.link(victim, link)
    return str(link)


@pytest.mark.parametrize("spelling", ["same", "relative", "symlink", "hard link"])
@pytest.mark.parametrize(
    "command, victim",
    [
        ("evaluate", "model"),
        ("evaluate", "data"),
        ("evaluate", "mnist"),
        ("denoise", "model"),
        ("denoise", "input"),
        ("train", "data"),
    ],
)
def test_no_command_writes_over_one_of_its_inputs(
    trained, tmp_path, monkeypatch, capsys, command, victim, spelling
):
    """`evaluate --output MODEL` once replaced the model with the metrics (exit 0)."""
    import shutil

    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "home" / "mnist").mkdir(parents=True)
    (root / "o").mkdir()
    monkeypatch.chdir(root)
    # The model is named .npy so that denoise's check of the output's format lets an
    # output spelled like it through to the check that it is no input.
    model = root / "model.npy"
    shutil.copy(trained / "model.skdae", model)
    data = root / ("o/latent_space.png" if command == "train" else "data.npy")
    if command == "train":
        PIL.fromarray(np.zeros((28, 28), np.uint8)).save(data)
    else:
        np.save(data, np.random.RandomState(0).rand(10, 784))
    mnist = root / "home" / "mnist" / "t10k-images-idx3-ubyte"
    for name in ("train-images", "train-labels", "t10k-images", "t10k-labels"):
        kind = "idx3" if "images" in name else "idx1"
        (root / "home" / "mnist" / f"{name}-{kind}-ubyte").write_bytes(b"\0\0\x08\x01" + bytes(4))
    target = {"model": model, "data": data, "input": data, "mnist": mnist}[victim]
    before = _files_under(root)
    if command == "train":
        if spelling in ("symlink", "hard link"):
            data = root / "data.npy"
            np.save(data, np.zeros((10, 4)))
            before = _files_under(root)
            _spell(data, spelling, root / "o" / "metrics.json")
            output = "o"
        else:
            output = "o" if spelling == "same" else "sub/../o"
        argv = ["train", "--data", str(data), "-o", output, "--quiet"]
    else:
        out = _spell(target, spelling, root / "link.npy")
        if command == "evaluate":
            data_args = ["--data-home", "home"] if victim == "mnist" else ["--data", str(data)]
            argv = ["evaluate", str(model), *data_args, "--output", out]
        else:
            argv = ["denoise", str(model), str(data), out]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "it is the" in err and "Name another output" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    after = _files_under(root)
    assert {name: after[name] for name in before} == before  # every input intact
    assert set(after) - set(before) <= {"link.npy", "o/metrics.json"}  # the links only


# ------------------------------------------------------- user errors: one line, exit 2


def _bad_files(root):
    """Files a user may pass by mistake, each wrong in one way."""
    import os
    import struct
    import zlib

    rng = np.random.RandomState(0)
    np.save(root / "data.npy", rng.rand(20, 784))
    np.save(root / "pixels.npy", rng.rand(20, 784) * 255)  # 8-bit values, as floats
    np.savetxt(root / "pixels.csv", rng.randint(0, 256, (2, 784)), delimiter=",", fmt="%d")
    np.save(root / "three.npy", rng.rand(3, 16))
    np.save(root / "five.npy", rng.rand(5, 16))
    (root / "wide.npy").write_bytes(b"a file, not a folder")
    (root / "folder.npy").mkdir()
    os.mkfifo(root / "fifo.npy")
    # Headers that declare hundreds of GB, in files of a few bytes.
    with open(root / "huge.npy", "wb") as stream:
        header = {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**5)}
        np.lib.format.write_array_header_1_0(stream, header)
        stream.write(bytes(64))
    (root / "huge-idx3-ubyte").write_bytes(
        b"\0\0\x08\x03" + struct.pack(">3I", 10**6, 10**3, 10**3)
    )

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    for name, side in (("bomb.png", 100_000), ("bomb-warning.png", 10_000)):
        header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
        (root / name).write_bytes(
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(1000)))
            + chunk(b"IEND", b"")
        )
    # Text from a file that would drive the terminal if printed raw.
    (root / "escape.csv").write_bytes(b"1,2\n\x1b[2J\x1b]0;title\x07,3\n")


USER_ERRORS = {
    # An output that cannot be written: under a file, or where nothing can be created.
    "train into a folder under a file": (["train", "-o", "wide.npy/o"], "wide.npy is a file"),
    "train into /proc": (["train", "-o", "/proc/skdae-o"], "creating a file in /proc failed"),
    "evaluate into /proc": (
        ["evaluate", "{model}", "--data", "data.npy", "-o", "/proc/m.json"],
        "cannot write /proc/m.json",
    ),
    "denoise into /proc": (["denoise", "{model}", "data.npy", "/proc/o.npy"], "/proc failed"),
    "denoise under a file": (
        ["denoise", "{model}", "data.npy", "wide.npy/o.npy"],
        "wide.npy is a file, not a folder",
    ),
    # Headers that declare more than the file holds: refused before allocating.
    "npy header of 800 GB": (["denoise", "{model}", "huge.npy", "o.npy"], "800,000,000,000 bytes"),
    "npy header, evaluate": (["evaluate", "{model}", "--data", "huge.npy"], "truncated"),
    "npy header, train": (["train", "--data", "huge.npy"], "header declares shape"),
    "IDX header of 1 TB": (["denoise", "{model}", "huge-idx3-ubyte", "o.npy"], "header declares"),
    "PNG bomb": (["denoise", "{model}", "bomb.png", "o.npy"], "too large to decode safely"),
    "PNG bomb, warning size": (["denoise", "{model}", "bomb-warning.png", "o.npy"], "too large"),
    # Noise levels that are no numbers, or overflow float32.
    "noise 1e308, evaluate": (
        ["evaluate", "{model}", "--data", "data.npy", "--noise", "gaussian:1e308"],
        "must be finite and at most 1e+06",
    ),
    "noise 1e308, train": (["train", "--data", "data.npy", "--noise", "gaussian:1e308"], "1e+06"),
    "noise inf": (["train", "--data", "data.npy", "--noise", "masking:inf"], "must be finite"),
    "noise nan": (["train", "--data", "data.npy", "--noise", "gaussian:nan"], "must be finite"),
    # Too few rows for what train does (the figures once failed after the model was written).
    "train on 3 rows": (["train", "--data", "three.npy"], "needs at least 6"),
    "train on 5 rows": (["train", "--data", "five.npy"], "needs at least 6"),
    # What a path is, when it is no file.
    "folder as input": (["denoise", "{model}", "folder.npy", "o.npy"], "is a folder, not a file"),
    "FIFO as input": (["denoise", "{model}", "fifo.npy", "o.npy"], "is a FIFO (named pipe)"),
    "folder as data": (["train", "--data", "folder.npy"], "is a folder, not a file"),
    "folder as model": (["summary", "folder.npy"], "model file folder.npy is a folder"),
    "FIFO as model": (["denoise", "fifo.npy", "data.npy", "o.npy"], "fifo.npy is a FIFO"),
    # The same data, refused alike by denoise and evaluate.
    "0..255 floats, denoise": (["denoise", "{model}", "pixels.npy", "o.npy"], "divide by 255"),
    "0..255 floats, evaluate": (["evaluate", "{model}", "--data", "pixels.npy"], "divide by 255"),
    "0..255 integers in a CSV": (
        ["denoise", "{model}", "pixels.csv", "o.npy"],
        "A .csv is read as written: divide its values by 255",
    ),
    # Text from a file, and file names, are printed escaped.
    "escapes in a CSV": (
        ["denoise", "{model}", "escape.csv", "o.npy"],
        r"'\x1b[2J\x1b]0;title\x07'",
    ),
    "escapes in a name": (["denoise", "{model}", "\x1b[31mred.npy", "o.npy"], r"\x1b[31mred.npy"),
    # Where MNIST is downloaded from.
    "mirror for a data file": (
        ["train", "--data", "data.npy", "--mirror", "https://mirror.example.org/mnist/"],
        "--mirror is where MNIST is downloaded from; it does not apply to --data data.npy",
    ),
    "mirror and no download": (
        ["train", "--mirror", "https://mirror.example.org/mnist/", "--no-download"],
        "--mirror says where to download from, --no-download not to: pick one",
    ),
    "mirror without a scheme": (
        ["train", "--mirror", "mirror.example.org/mnist"],
        "--mirror='mirror.example.org/mnist' is not a URL skdae can download from",
    ),
    "mirror with a query": (
        ["evaluate", "{model}", "--mirror", "https://mirror.example.org/?k=1"],
        "has a query or fragment",
    ),
    "mirror with escapes": (
        ["train", "--mirror", "https://mirror.example.org/\x1b[31m/"],
        "contains spaces or control characters",
    ),
}


@pytest.mark.parametrize("case", list(USER_ERRORS))
def test_every_user_error_is_one_line_and_exit_2(trained, tmp_path, monkeypatch, capsys, case):
    """Each of these once ended in exit 1 with a traceback, or exit 0 with a wrong result."""
    args, message = USER_ERRORS[case]
    _bad_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = _files_under(tmp_path)
    argv = [a.format(model=trained / "model.skdae") for a in args]
    if argv[0] == "train":
        argv += ["--epochs", "1", "--hidden", "8", "--latent-dim", "2", "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.startswith(f"skdae {argv[0]}: error: ") and err.count("\n") == 1
    assert "Traceback" not in err and "\x1b" not in err and "\x07" not in err
    assert _files_under(tmp_path) == before  # nothing written, nothing lost


@pytest.mark.parametrize("command", ["train", "evaluate", "denoise"])
def test_a_full_disk_is_one_line_and_keeps_what_was_there(
    trained, tmp_path, monkeypatch, capsys, command
):
    """A disk that fills up during the writing (found only after all the work)."""
    import errno
    import os

    np.save(tmp_path / "data.npy", np.random.RandomState(0).rand(20, 784))
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "metrics.json").write_text("an earlier run's")
    (tmp_path / "old.npy").write_bytes(b"an earlier result")
    (tmp_path / "old.json").write_text("an earlier result")
    before = _files_under(tmp_path)
    model, data = str(trained / "model.skdae"), str(tmp_path / "data.npy")
    argv = {
        "train": ["train", "--data", data, "-o", str(tmp_path / "old"), *TINY, "--no-figures"],
        "evaluate": ["evaluate", model, "--data", data, "-o", str(tmp_path / "old.json")],
        "denoise": ["denoise", model, data, str(tmp_path / "old.npy")],
    }[command]

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"skdae {command}: error: could not write ")
    assert err.endswith("No space left on device.\n")
    assert _files_under(tmp_path) == before  # the earlier results, and no half file
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(
        ["data.npy", "old", "metrics.json", "old.npy", "old.json"]
    )


def test_a_failed_train_leaves_no_output_folder(tmp_path, monkeypatch, capsys):
    """The figures failed after the model was written: a partial folder was left."""
    import skdae._job

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the figures")

    np.save(tmp_path / "data.npy", np.random.RandomState(0).rand(20, 16))
    monkeypatch.setattr(skdae._job, "write_figures", broken)
    argv = ["train", "--data", str(tmp_path / "data.npy"), "-o", str(tmp_path / "a" / "b")]
    with pytest.raises(RuntimeError, match="a bug in the figures"):  # a bug: its traceback
        main([*argv, *TINY])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.npy"]


def test_user_errors_reach_the_terminal_as_one_line(trained, tmp_path):
    """The installed command, end to end: exit 2 and one line, the model intact."""
    model = tmp_path / "model.skdae"
    model.write_bytes((trained / "model.skdae").read_bytes())
    before = model.read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "skdae", "evaluate", str(model), "--output", str(model)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "it is the model file" in result.stderr
    assert model.read_bytes() == before


# ------------------------------------------------------------------------- export


def test_export_writes_an_onnx_graph_that_predicts_as_the_model_does(trained, tmp_path, capsys):
    pytest.importorskip("skl2onnx")
    ort = pytest.importorskip("onnxruntime")
    from skdae import DenoisingAutoencoder
    from skdae.datasets import load_mnist_sample

    target = tmp_path / "model.onnx"
    assert main(["export", str(trained / "model.skdae"), str(target)]) == 0
    assert f"to {target}" in capsys.readouterr().out
    X = load_mnist_sample().X_test[:20]
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: X})
    expected = DenoisingAutoencoder.load(trained / "model.skdae").predict(X)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_export_never_writes_over_the_model(trained, tmp_path, capsys):
    model = tmp_path / "model.skdae"
    model.write_bytes((trained / "model.skdae").read_bytes())
    before = model.read_bytes()
    assert main(["export", str(model), str(model)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("skdae export: error:")
    assert model.read_bytes() == before


def test_export_without_the_extra_says_how_to_get_it(trained, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "skdae.onnx", None)  # as if it could not be imported
    assert main(["export", str(trained / "model.skdae"), str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert not (tmp_path / "m.onnx").exists()
