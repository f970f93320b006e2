"""skdae as a package: an sdist and a wheel that twine accepts, and a wheel that works
installed (not editable) in a fresh environment: the quick start, the command line on
the bundled sample, and a pretrained model (package data included)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

QUICK_START = textwrap.dedent(
    """
    import numpy as np
    from sklearn.datasets import load_digits

    import skdae
    from skdae import DenoisingAutoencoder, GaussianNoise
    from skdae.datasets import load_mnist_sample
    from skdae.pretrained import load_pretrained

    assert "site-packages" in skdae.__file__, skdae.__file__  # the installed wheel
    X = load_digits().data / 16.0
    noise = GaussianNoise(0.3, clip=(0, 1))
    dae = DenoisingAutoencoder(latent_dim=16, hidden_layer_sizes=(128,), corruption=noise,
                               max_iter=30, batch_size=32, random_state=0).fit(X)
    noisy = noise.corrupt(X, random_state=1)
    assert np.mean((dae.predict(noisy) - X) ** 2) < np.mean((noisy - X) ** 2)
    sample = load_mnist_sample()
    model = load_pretrained("mnist-gaussian-0.4")
    assert model.predict(sample.X_test[:10]).shape == (10, 784)
    print("quick start ok")
    """
)


def _run(command, **kwargs):
    run = subprocess.run(command, capture_output=True, text=True, timeout=900, **kwargs)
    assert run.returncode == 0, f"{command}:\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
    return run


@pytest.mark.e2e
def test_the_built_wheel_works_installed_in_a_fresh_environment(tmp_path):
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)])
    wheels, sdists = list(dist.glob("*.whl")), list(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1
    _run([sys.executable, "-m", "twine", "check", "--strict", *map(str, [*wheels, *sdists])])

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    # The CPU build of torch first, as the README says: the wheel's range then adds nothing.
    _run([str(python), "-m", "pip", "install", "--quiet", "torch==2.13.0"])
    # With the plot extra: the main job draws its figures with matplotlib.
    _run([str(python), "-m", "pip", "install", "--quiet", f"{wheels[0]}[plot]"])

    workdir = tmp_path / "elsewhere"  # not the clone: only the installed package imports
    workdir.mkdir()
    env = {**os.environ, "SKDAE_DATA": str(tmp_path / "no-data")}
    env.pop("PYTHONPATH", None)
    assert "quick start ok" in _run([str(python), "-c", QUICK_START], cwd=workdir, env=env).stdout
    skdae = venv / "bin" / "skdae"
    _run([str(skdae), "--version"], cwd=workdir, env=env)
    _run(
        [str(skdae), "train", "--epochs", "2", "--no-classify", "--quiet", "-o", "out"],
        cwd=workdir,
        env=env,
    )
    assert (workdir / "out" / "model.skdae").stat().st_size > 0
    assert (workdir / "out" / "reconstructions.png").stat().st_size > 0
