"""Train the pretrained models shipped in skdae/pretrained_models/ and record how.

    SKDAE_DATA=../shared/data python benchmarks/make_pretrained.py [NAME ...]

Needs the full MNIST files. With no NAME it trains every model (about 2 minutes for the
dense one, 7 for each convolutional one, on 2 cores); with names, only those, and the
other models' files and sections of skdae/pretrained_models/README.md stay as they are.
Writes each model file and its section of the README (settings, test figures, versions).
"""

import re
import sys
import time
from pathlib import Path

import torch

from skdae import ConvDenoisingAutoencoder, DenoisingAutoencoder, GaussianNoise, __version__
from skdae._persistence import save_model
from skdae.datasets import load_mnist
from skdae.metrics import denoising_report

TARGET = Path(__file__).resolve().parents[1] / "skdae" / "pretrained_models"
NOISE = GaussianNoise(0.4, clip=(0, 1))

# name -> (the estimator, as its section of the README writes it, and what it is)
MODELS = {
    "mnist-gaussian-0.4": (
        lambda: DenoisingAutoencoder(corruption=NOISE, max_iter=50, random_state=0),
        "DenoisingAutoencoder(corruption=GaussianNoise(0.4, clip=(0, 1)), max_iter=50, "
        "random_state=0)",
        "the reference network",
    ),
    # The convolutional files were made at 0.3's defaults, channels=(32, 64) and 20
    # epochs; the recipes say so, so that a rerun remakes them as they are.
    "mnist-conv-gaussian-0.4": (
        lambda: ConvDenoisingAutoencoder(
            channels=(32, 64), max_iter=20, corruption=NOISE, random_state=0
        ),
        "ConvDenoisingAutoencoder(channels=(32, 64), max_iter=20, corruption=GaussianNoise("
        "0.4, clip=(0, 1)), random_state=0)",
        "the convolutional estimator at 0.3's defaults (a 64-d code)",
    ),
    "mnist-conv-spatial-gaussian-0.4": (
        lambda: ConvDenoisingAutoencoder(
            latent_dim=None, channels=(32, 64), max_iter=20, corruption=NOISE, random_state=0
        ),
        "ConvDenoisingAutoencoder(latent_dim=None, channels=(32, 64), max_iter=20, "
        "corruption=GaussianNoise(0.4, clip=(0, 1)), random_state=0)",
        "the purely convolutional network (spatial codes)",
    ),
}

HEADER = """# Pretrained models

Loaded with `skdae.pretrained.load_pretrained(name)`; made by
`SKDAE_DATA=../shared/data python benchmarks/make_pretrained.py [NAME ...]`, in the
pickle-free format of `save` (without optimizer state). Each section says with which
skdae and torch its model was made.
"""

FOOTER = """
MNIST: Y. LeCun, C. Cortes, C. J. C. Burges, CC BY-SA 3.0; the weights are derived
from it.
"""


def train(name, X_train, X_test):
    make, call, what = MODELS[name]
    dae = make()
    started = time.perf_counter()
    dae.set_params(verbose=1).fit(X_train)
    seconds = time.perf_counter() - started
    dae.set_params(verbose=0)
    noisy = NOISE.corrupt(X_test, random_state=12345)
    report = denoising_report(X_test, noisy, dae.predict(noisy))
    path = save_model(dae, TARGET / f"{name}.skdae", include_optimizer=False)
    section = f"""## {name}

`{call}`: {what}, trained {dae.n_iter_} epochs on the 60,000 official MNIST training
digits (pixels / 255) in {seconds:.0f} s, with {dae.matmul_precision_} matrix products
(`matmul_precision='auto'`; skdae {__version__}, torch {torch.__version__}). On the
10,000 test digits with Gaussian noise of std 0.4 clipped to [0, 1] (seed 12345):

| | MSE | PSNR (dB) |
|---|---|---|
| noisy | {report["noisy_mse"]:.5f} | {report["noisy_psnr"]:.2f} |
| denoised | {report["denoised_mse"]:.5f} | {report["denoised_psnr"]:.2f} |

File: `{path.name}`, {path.stat().st_size:,} bytes.
"""
    print(f"wrote {path} ({path.stat().st_size:,} bytes); {report}")
    return section


def existing_sections(readme):
    """The README's section of each model, by name (those not retrained are kept)."""
    if not readme.is_file():
        return {}
    text = readme.read_text()
    parts = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    sections = {}
    for part in parts:
        name = part.split("\n", 1)[0].strip()
        body = part.split("\nMNIST: Y. LeCun", 1)[0].rstrip() + "\n"
        sections[name] = "## " + body
    return sections


def main(names):
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        print(f"unknown model(s) {unknown}; choose from {sorted(MODELS)}", file=sys.stderr)
        return 2
    X_train, _, X_test, _ = load_mnist(return_X_y=True)  # full MNIST, or an error
    readme = TARGET / "README.md"
    sections = existing_sections(readme)
    for name in names or MODELS:
        sections[name] = train(name, X_train, X_test)
    body = "\n".join(sections[name] for name in MODELS if name in sections)
    readme.write_text(f"{HEADER}\n{body}{FOOTER}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
