"""Regenerate the bundled MNIST sample and its PROVENANCE.md from the official files.

Usage (DIR is the data home: the folder that contains ``mnist/``)::

    python benchmarks/make_mnist_sample.py --data-home DIR

Maintainers run this once, from a clone of the repository; the package only reads its
output (it is not part of the installed package). The draw is
stratified: each class gets a share of the sample proportional to its share of
the official file (largest-remainder rounding), and rows are drawn without
replacement with one seeded ``numpy.random.Generator`` (training part first).
The chosen row indices are stored in the sample, so it can be checked against
the official files even if numpy's random streams change.
"""

import argparse
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

from skdae.datasets._base import atomic_write
from skdae.datasets._mnist import MNIST_MD5, load_mnist
from skdae.datasets._sample import SAMPLE_FILE, SAMPLE_N_TEST, SAMPLE_N_TRAIN

DATA_DIR = Path(__file__).resolve().parents[1] / "skdae" / "datasets" / "data"
COMMAND = "python benchmarks/make_mnist_sample.py --data-home DIR"
# A fixed timestamp makes the .npz byte-identical from one run to the next.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def proportional_quotas(counts, n):
    """Split ``n`` among classes in proportion to ``counts``; the quotas sum to ``n``."""
    exact = np.asarray(counts) * n / np.sum(counts)
    quotas = np.floor(exact).astype(np.int64)
    # Largest remainder: the classes rounded down the most get the seats left.
    order = np.argsort(-(exact - quotas), kind="stable")
    quotas[order[: n - quotas.sum()]] += 1
    return quotas


def stratified_indices(labels, n, rng):
    """Draw ``n`` sorted row indices without replacement, stratified by ``labels``."""
    classes, counts = np.unique(labels, return_counts=True)
    quotas = proportional_quotas(counts, n)
    picks = [
        rng.choice(np.flatnonzero(labels == label), size=quota, replace=False)
        for label, quota in zip(classes, quotas, strict=True)
    ]
    return np.sort(np.concatenate(picks))


def write_npz(path, arrays):
    """Write ``arrays`` as a deflate-compressed ``.npz`` that ``np.load`` reads, atomically."""
    with atomic_write(path) as stream, zipfile.ZipFile(stream, "w") as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.save(buffer, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            archive.writestr(
                info, buffer.getvalue(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9
            )


def make_sample(data_home, *, n_train, n_test, seed):
    """Return the sample's arrays, drawn from the verified official files."""
    official = load_mnist(data_home=data_home, flatten=False, as_float=False, verify=True)
    rng = np.random.default_rng(seed)
    train_index = stratified_indices(official.y_train, n_train, rng)
    test_index = stratified_indices(official.y_test, n_test, rng)
    return {
        "X_train": official.X_train[train_index],
        "y_train": official.y_train[train_index].astype(np.uint8),
        "X_test": official.X_test[test_index],
        "y_test": official.y_test[test_index].astype(np.uint8),
        "train_index": train_index.astype(np.int32),
        "test_index": test_index.astype(np.int32),
        "seed": np.int64(seed),
    }


def provenance(arrays, sample_sha256):
    """Render PROVENANCE.md for the sample just written."""
    train_counts = np.bincount(arrays["y_train"], minlength=10)
    test_counts = np.bincount(arrays["y_test"], minlength=10)
    digests = "\n".join(f"| {name} | {md5} |" for name, md5 in MNIST_MD5.items())
    return f"""\
# Provenance of `{SAMPLE_FILE}`

## Source and license

A subset of the **MNIST database of handwritten digits** by Yann LeCun, Corinna Cortes and
Christopher J. C. Burges (http://yann.lecun.com/exdb/mnist/), distributed under the
Creative Commons Attribution-Share Alike 3.0 license (CC BY-SA 3.0,
https://creativecommons.org/licenses/by-sa/3.0/). The images and labels are unmodified;
only a subset of rows is kept. This file (`{SAMPLE_FILE}`) is distributed under the same
license, CC BY-SA 3.0, whatever the license of the code around it.

## How it was drawn

Generated from the four official files, verified against their MD5 (uncompressed):

| file | MD5 |
|---|---|
{digests}

with the command

    {COMMAND}

where `DIR/mnist/` holds those files. The script is `benchmarks/make_mnist_sample.py` in the
repository.

- Training part: {len(arrays["y_train"])} rows of the 60,000 official training images; test part:
  {len(arrays["y_test"])} rows of the 10,000 official test images. Train and test stay separate.
- Stratified by label: each digit gets a share proportional to its frequency in the official
  file (largest-remainder rounding), drawn without replacement.
- Random generator: `numpy.random.default_rng({int(arrays["seed"])})` (numpy {np.__version__}),
  training part drawn first, then the test part, each class in order 0-9. Indices are sorted,
  so rows keep their official order.

Per-class counts:

| digit | {" | ".join(str(d) for d in range(10))} | total |
|---|{"---|" * 11}
| train | {" | ".join(str(c) for c in train_counts)} | {train_counts.sum()} |
| test | {" | ".join(str(c) for c in test_counts)} | {test_counts.sum()} |

## Contents

| array | dtype | shape | meaning |
|---|---|---|---|
| X_train | uint8 | {arrays["X_train"].shape} | pixels 0-255 |
| y_train | uint8 | {arrays["y_train"].shape} | digit |
| X_test | uint8 | {arrays["X_test"].shape} | pixels 0-255 |
| y_test | uint8 | {arrays["y_test"].shape} | digit |
| train_index | int32 | {arrays["train_index"].shape} | row in train-images-idx3-ubyte |
| test_index | int32 | {arrays["test_index"].shape} | row in t10k-images-idx3-ubyte |
| seed | int64 | () | the seed above |

SHA-256 of `{SAMPLE_FILE}`:
`{sample_sha256}`.
The writer fixes the zip timestamps, so a rerun with the same numpy and zlib reproduces the
file byte for byte.
"""


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python benchmarks/make_mnist_sample.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--data-home", required=True, help="folder that contains mnist/")
    parser.add_argument("--out-dir", type=Path, default=DATA_DIR, help="default: %(default)s")
    parser.add_argument("--n-train", type=int, default=SAMPLE_N_TRAIN)
    parser.add_argument("--n-test", type=int, default=SAMPLE_N_TEST)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    arrays = make_sample(args.data_home, n_train=args.n_train, n_test=args.n_test, seed=args.seed)
    sample = args.out_dir / SAMPLE_FILE
    write_npz(sample, arrays)
    sha256 = hashlib.sha256(sample.read_bytes()).hexdigest()
    with atomic_write(args.out_dir / "PROVENANCE.md") as stream:
        stream.write(provenance(arrays, sha256).encode())
    print(f"wrote {sample} ({sample.stat().st_size:,} bytes, sha256 {sha256})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
