"""Train the pretrained models shipped in skdae/pretrained_models/ and record how.

    SKDAE_DATA=../shared/data python benchmarks/make_pretrained.py

Needs the full MNIST files; about two minutes on 2 cores. Writes the model file and
skdae/pretrained_models/README.md (command, settings, test figures, versions).
"""

import sys
from pathlib import Path

import torch

from skdae import DenoisingAutoencoder, GaussianNoise, __version__
from skdae._persistence import save_model
from skdae.datasets import load_mnist
from skdae.metrics import denoising_report

TARGET = Path(__file__).resolve().parents[1] / "skdae" / "pretrained_models"


def main():
    X_train, _, X_test, _ = load_mnist(return_X_y=True)  # full MNIST, or an error
    noise = GaussianNoise(0.4, clip=(0, 1))
    dae = DenoisingAutoencoder(corruption=noise, max_iter=50, random_state=0, verbose=1)
    dae.fit(X_train)
    noisy = noise.corrupt(X_test, random_state=12345)
    report = denoising_report(X_test, noisy, dae.predict(noisy))
    path = save_model(dae, TARGET / "mnist-gaussian-0.4.skdae", include_optimizer=False)
    (TARGET / "README.md").write_text(f"""# Pretrained models

Loaded with `skdae.pretrained.load_pretrained(name)`; made by
`SKDAE_DATA=../shared/data python benchmarks/make_pretrained.py` (skdae {__version__},
torch {torch.__version__}), in the pickle-free format of `DenoisingAutoencoder.save`
(without optimizer state).

## mnist-gaussian-0.4

`DenoisingAutoencoder(corruption=GaussianNoise(0.4, clip=(0, 1)), max_iter=50,
random_state=0)`: the reference network, trained on the 60,000 official MNIST training
digits (pixels / 255), with {dae.matmul_precision_} matrix products
(`matmul_precision='auto'`). On the 10,000 test digits with
Gaussian noise of std 0.4 clipped to [0, 1] (seed 12345):

| | MSE | PSNR (dB) |
|---|---|---|
| noisy | {report["noisy_mse"]:.5f} | {report["noisy_psnr"]:.2f} |
| denoised | {report["denoised_mse"]:.5f} | {report["denoised_psnr"]:.2f} |

File: `{path.name}`, {path.stat().st_size:,} bytes. MNIST: Y. LeCun, C. Cortes,
C. J. C. Burges, CC BY-SA 3.0; the weights are derived from it.
""")
    print(f"wrote {path} ({path.stat().st_size:,} bytes); {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
