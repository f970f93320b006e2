"""Tables: imputation, anomaly detection and codes for classification, against
scikit-learn's own tools, in one run.

    SKDAE_DATA=../shared/data python benchmarks/bench_tabular.py          # full (~10 min)
    SKDAE_DATA=../shared/data python benchmarks/bench_tabular.py --quick  # about a minute

Data that ship offline: scikit-learn's digits, breast cancer, wine and diabetes, and
MNIST from $SKDAE_DATA (the bundled sample stands in without it, and the output says so).

- Imputation: values hidden completely at random (20% and 50%) in a 70/30 row split;
  each imputer is fitted on the training rows with their gaps and fills the test rows;
  RMSE over the hidden test values (tables standardized on the observed training
  values first, so RMSE is in units of each column's spread) and fit + transform time.
  IterativeImputer is left out on MNIST (784 regressions per round: hours on 2 cores).
- Anomalies: MNIST one digit against the rest. Each detector is fitted on the training
  images of one digit and scores the test set; ROC-AUC of "not this digit", averaged
  over the ten digits.
- Codes: 5-fold cross-validated logistic regression on the raw (scaled) features, on
  PCA codes and on autoencoder codes (swap noise, Gaussian noise).
- Corruption cost: seconds per epoch on MNIST with Gaussian, masking and swap noise.

Prints the tables and the targets, writes benchmarks/tabular.json and TABULAR.md.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _protocol import environment, publish

HERE = Path(__file__).resolve().parent


# ------------------------------------------------------------------------- the data


def tables(quick):
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine

    data = {
        "digits": load_digits().data / 16.0,
        "breast cancer": load_breast_cancer().data,
        "wine": load_wine().data,
        "diabetes": load_diabetes().data,
    }
    mnist, source = mnist_images(n=2000 if quick else 10_000)
    data["MNIST"] = mnist
    return data, source


def mnist_images(n):
    from skdae.datasets import load_mnist

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mnist = load_mnist(fallback="sample")
    source = "bundled sample" if caught else "full MNIST"
    return mnist.X_train[:n].astype(np.float64), source


def hide(X, fraction, seed):
    X = X.copy()
    X[np.random.default_rng(seed).random(X.shape) < fraction] = np.nan
    return X


# ------------------------------------------------------------------------ imputation


def imputers(name, quick):
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

    from skdae import DenoisingAutoencoderImputer

    systems = {
        "SimpleImputer(mean)": SimpleImputer(),
        "KNNImputer": KNNImputer(),
        "IterativeImputer": IterativeImputer(max_iter=10, random_state=0),
        "skdae (default)": DenoisingAutoencoderImputer(random_state=0),
    }
    if name == "MNIST":
        del systems["IterativeImputer"]  # 784 regressions per round: hours on 2 cores
    if quick:
        from skdae import DenoisingAutoencoder, MaskingNoise

        systems["skdae (default)"] = DenoisingAutoencoderImputer(
            DenoisingAutoencoder(corruption=MaskingNoise(0.25), max_iter=10), random_state=0
        )
    return systems


def imputation(data, quick):
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    rows = []
    for name, X in data.items():
        X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
        if name not in ("digits", "MNIST"):  # pixels stay in [0, 1]
            scaler = StandardScaler().fit(X_train)
            X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        for fraction in (0.2, 0.5):
            train_gaps, test_gaps = hide(X_train, fraction, 1), hide(X_test, fraction, 2)
            hidden = np.isnan(test_gaps)
            for system, imputer in imputers(name, quick).items():
                started = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # IterativeImputer's convergence notes
                    filled = imputer.fit(train_gaps).transform(test_gaps)
                seconds = time.perf_counter() - started
                rmse = float(np.sqrt(np.mean((filled[hidden] - X_test[hidden]) ** 2)))
                rows.append(
                    {
                        "data": name,
                        "shape": list(X.shape),
                        "missing": fraction,
                        "system": system,
                        "rmse": rmse,
                        "seconds": seconds,
                    }
                )
                print(
                    f"  imputation {name} {fraction:.0%} {system}: RMSE {rmse:.4f}, "
                    f"{seconds:.1f} s",
                    flush=True,
                )
    return rows


# ------------------------------------------------------------------------- anomalies


def anomaly_detection(quick):
    from sklearn.decomposition import PCA
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score
    from sklearn.neighbors import LocalOutlierFactor

    from skdae import DenoisingAutoencoder, GaussianNoise
    from skdae.datasets import load_mnist

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mnist = load_mnist(fallback="sample")
    n_train, n_test = (1000, 2000) if quick else (None, None)
    X_test, y_test = mnist.X_test[:n_test], mnist.y_test[:n_test]

    def pca_error(X_fit):
        pca = PCA(n_components=32, random_state=0).fit(X_fit)
        return lambda X: -np.mean((pca.inverse_transform(pca.transform(X)) - X) ** 2, axis=1)

    def detectors(X_fit):
        dae = DenoisingAutoencoder(
            corruption=GaussianNoise(0.2, clip=(0, 1)),
            max_iter=5 if quick else 30,
            random_state=0,
        ).fit(X_fit)
        forest = IsolationForest(random_state=0).fit(X_fit)
        lof = LocalOutlierFactor(novelty=True).fit(X_fit)
        return {
            "skdae score_samples": dae.score_samples,
            "IsolationForest": forest.score_samples,
            "PCA(32) reconstruction error": pca_error(X_fit),
            "LocalOutlierFactor(novelty=True)": lof.score_samples,
        }

    results = {}
    for digit in range(10):
        X_fit = mnist.X_train[mnist.y_train == digit][:n_train]
        started = time.perf_counter()
        for system, score in detectors(X_fit).items():
            # Higher score_samples = more normal; "anomaly" = not this digit.
            auc = roc_auc_score(y_test != digit, -score(X_test))
            results.setdefault(system, []).append(float(auc))
        print(f"  anomalies digit {digit}: {time.perf_counter() - started:.1f} s", flush=True)
    return [
        {"system": system, "mean_roc_auc": float(np.mean(aucs)), "per_digit": aucs}
        for system, aucs in results.items()
    ]


# ----------------------------------------------------------------------------- codes


def codes(quick):
    from sklearn.datasets import load_breast_cancer, load_digits, load_wine
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skdae import DenoisingAutoencoder, GaussianNoise, SwapNoise

    rows = []
    for name, loader, k in (
        ("breast cancer", load_breast_cancer, 8),
        ("wine", load_wine, 6),
        ("digits", load_digits, 16),
    ):
        X, y = loader(return_X_y=True)
        epochs = 10 if quick else 100

        def dae(corruption, k=k, epochs=epochs):
            return DenoisingAutoencoder(
                latent_dim=k,
                hidden_layer_sizes=(64,),
                latent_activation="identity",
                corruption=corruption,
                max_iter=epochs,
                batch_size=32,
                random_state=0,
            )

        systems = {
            "raw features": [],
            f"PCA({k})": [PCA(k, random_state=0)],
            f"skdae codes ({k}), SwapNoise(0.15)": [dae(SwapNoise(0.15))],
            f"skdae codes ({k}), GaussianNoise(0.1, relative)": [
                dae(GaussianNoise(0.1, relative=True))
            ],
        }
        for system, steps in systems.items():
            pipe = make_pipeline(StandardScaler(), *steps, LogisticRegression(max_iter=5000))
            started = time.perf_counter()
            scores = cross_val_score(pipe, X, y, cv=5)
            rows.append(
                {
                    "data": name,
                    "system": system,
                    "accuracy": float(scores.mean()),
                    "std": float(scores.std()),
                    "seconds": time.perf_counter() - started,
                }
            )
            print(f"  codes {name} {system}: {scores.mean():.4f}", flush=True)
    return rows


# ------------------------------------------------------------------- corruption cost


def corruption_cost(quick):
    """Seconds per epoch on MNIST with each corruption: what swapping within the batch
    costs next to drawing Gaussian noise or a mask (the median of the epochs after the
    first)."""
    from skdae import DenoisingAutoencoder, GaussianNoise, MaskingNoise, SwapNoise

    X, _ = mnist_images(n=2000 if quick else 10_000)
    rows = []
    for name, corruption in (
        ("GaussianNoise(0.4, clip=(0, 1))", GaussianNoise(0.4, clip=(0, 1))),
        ("MaskingNoise(0.25)", MaskingNoise(0.25)),
        ("SwapNoise(0.15)", SwapNoise(0.15)),
    ):
        dae = DenoisingAutoencoder(corruption=corruption, max_iter=4, random_state=0).fit(X)
        rows.append(
            {
                "corruption": name,
                "rows": len(X),
                "seconds_per_epoch": float(np.median(dae.epoch_times_[1:])),
            }
        )
        print(f"  corruption cost {name}: {rows[-1]['seconds_per_epoch']:.3f} s", flush=True)
    return rows


# ------------------------------------------------------------------------ reporting


def targets(imputation_rows, anomaly_rows):
    def rmse(data, missing, system):
        return next(
            r["rmse"]
            for r in imputation_rows
            if (r["data"], r["missing"], r["system"]) == (data, missing, system)
        )

    skdae = "skdae (default)"
    mnist_ratio = rmse("MNIST", 0.2, skdae) / rmse("MNIST", 0.2, "KNNImputer")
    digits_ratio = rmse("digits", 0.2, skdae) / rmse("digits", 0.2, "IterativeImputer")
    aucs = {r["system"]: r["mean_roc_auc"] for r in anomaly_rows}
    best_baseline = max(v for k, v in aucs.items() if not k.startswith("skdae"))
    margin = aucs["skdae score_samples"] - best_baseline
    return [
        {
            "target": "imputation RMSE, MNIST 20% missing, skdae / KNNImputer",
            "goal": "<= 0.8",
            "measured": round(mnist_ratio, 3),
            "met": mnist_ratio <= 0.8,
        },
        {
            "target": "imputation RMSE, digits 20% missing, skdae / IterativeImputer",
            "goal": "<= 1.0",
            "measured": round(digits_ratio, 3),
            "met": digits_ratio <= 1.0,
        },
        {
            "target": "anomaly ROC-AUC on MNIST, skdae minus the best baseline",
            "goal": ">= +0.02",
            "measured": round(margin, 4),
            "met": margin >= 0.02,
        },
    ]


def markdown(payload):
    lines = ["# Tabular benchmark results", "", f"Command: `{payload['command']}`", ""]
    env = payload["environment"]
    lines += [
        f"- Machine: {env['cpu']}, {env['cores']} cores; "
        + ", ".join(f"{name} {version}" for name, version in env["versions"].items()),
        f"- MNIST: {payload['mnist_source']}",
        "",
        "## Targets",
        "",
        "| target | goal | measured | met |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {t['target']} | {t['goal']} | {t['measured']} | {'yes' if t['met'] else 'no'} |"
        for t in payload["targets"]
    ]
    lines += ["", "## Imputation (RMSE on the hidden test values; seconds fit + transform)", ""]
    lines += ["| data | missing | system | RMSE | seconds |", "|---|---|---|---|---|"]
    lines += [
        f"| {r['data']} {tuple(r['shape'])} | {r['missing']:.0%} | {r['system']} | "
        f"{r['rmse']:.4f} | {r['seconds']:.1f} |"
        for r in payload["imputation"]
    ]
    lines += ["", "IterativeImputer is not run on MNIST (784 regressions per round).", ""]
    lines += ["## Anomaly detection (MNIST, one digit against the rest)", ""]
    lines += ["| system | mean ROC-AUC | per digit 0-9 |", "|---|---|---|"]
    lines += [
        f"| {r['system']} | {r['mean_roc_auc']:.4f} | "
        f"{' '.join(f'{a:.3f}' for a in r['per_digit'])} |"
        for r in payload["anomalies"]
    ]
    lines += ["", "## What each corruption costs (MNIST, default network, s/epoch)", ""]
    lines += ["| corruption | rows | seconds per epoch |", "|---|---|---|"]
    lines += [
        f"| {r['corruption']} | {r['rows']} | {r['seconds_per_epoch']:.3f} |"
        for r in payload["corruption_cost"]
    ]
    lines += ["", "## Codes for classification (5-fold CV accuracy of logistic regression)", ""]
    lines += ["| data | features | accuracy | std |", "|---|---|---|---|"]
    lines += [
        f"| {r['data']} | {r['system']} | {r['accuracy']:.4f} | {r['std']:.4f} |"
        for r in payload["codes"]
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data, few epochs")
    parser.add_argument("--json", default=str(HERE / "tabular.json"))
    parser.add_argument("--results-md", default=str(HERE / "TABULAR.md"), help="'' to skip")
    args = parser.parse_args(argv)
    command = "python benchmarks/bench_tabular.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    data, source = tables(args.quick)
    print("imputation ...", flush=True)
    imputation_rows = imputation(data, args.quick)
    print("anomaly detection ...", flush=True)
    anomaly_rows = anomaly_detection(args.quick)
    print("codes ...", flush=True)
    code_rows = codes(args.quick)
    print("corruption cost ...", flush=True)
    cost_rows = corruption_cost(args.quick)
    payload = {
        "command": command.strip(),
        "quick": args.quick,
        "mnist_source": source,
        "environment": environment(),
        "targets": targets(imputation_rows, anomaly_rows),
        "imputation": imputation_rows,
        "anomalies": anomaly_rows,
        "codes": code_rows,
        "corruption_cost": cost_rows,
    }
    text = markdown(payload)
    publish(payload, text, args.json, args.results_md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
