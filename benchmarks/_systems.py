"""One function per benchmarked system. Each runs in its own process (see bench_mnist.py)
and returns a dict of results; the protocol lives in _protocol.py.

Iterative systems report, per epoch, the training seconds (evaluation excluded) and the
test PSNR, so the time to reach a PSNR target can be read off afterwards.
"""

import time

import numpy as np
from _protocol import TRAIN_NOISE_SEED, add_noise, mse, psnr

# The reference network of the Keras tutorial.
HIDDEN = (256, 128)
LATENT = 64
BATCH = 128


def _result(name, data, denoised, **extra):
    return {
        "system": name,
        "test_mse": mse(data["X_test"], denoised),
        "test_psnr": psnr(data["X_test"], denoised),
        **extra,
    }


def run_skdae(data, *, epochs, matmul_precision="auto", keep_model=False):
    """skdae's DenoisingAutoencoder with its defaults, one partial_fit per epoch.

    With ``learning_rate='cosine'`` (what fit's 'auto' resolves to), partial_fit epochs
    are identical to fit's (a test checks it); stepping them one by one lets the test
    PSNR be measured between epochs, outside the timed part.
    ``matmul_precision='float32'`` gives the row that shows what the default's reduced
    precision products change.
    """
    from skdae import DenoisingAutoencoder, GaussianNoise

    dae = DenoisingAutoencoder(
        corruption=GaussianNoise(0.4, clip=(0, 1)),
        max_iter=epochs,
        # What fit's 'auto' runs; partial_fit's 'auto' would be a constant rate.
        learning_rate="cosine",
        matmul_precision=matmul_precision,
        random_state=0,
    )
    epoch_psnr = _train_by_epoch(dae, data, epochs)
    denoised = dae.predict(data["X_test_noisy"])
    name = (
        "skdae" if matmul_precision == "auto" else f"skdae (matmul_precision={matmul_precision!r})"
    )
    # epoch_times_ times the epoch loop alone: each partial_fit call also validates its
    # input (~0.1 s on MNIST), which fit does once for all epochs.
    result = _model_result(name, data, dae, denoised, epoch_psnr)
    if keep_model:
        result["_model"] = dae
    return result


def _model_result(name, data, dae, denoised, epoch_psnr, **extra):
    """The result of one of skdae's estimators, with its own epoch times."""
    return _result(
        name,
        data,
        denoised,
        epoch_seconds=list(dae.epoch_times_),
        epoch_psnr=epoch_psnr,
        matmul_precision=dae.matmul_precision_,
        **extra,
    )


def _train_by_epoch(dae, data, epochs):
    """``epochs`` partial_fit calls; the test PSNR after each (not timed by the model)."""
    epoch_psnr = []
    for _ in range(epochs):
        dae.partial_fit(data["X_train"])
        epoch_psnr.append(psnr(data["X_test"], dae.predict(data["X_test_noisy"])))
    return epoch_psnr


# The setting the user guide documents for denoising digits with a spatial code: the
# former default widths (32, 64) with a residual block at every stage, trained for ten
# minutes of the machine at hand with max_time (about 21 epochs on an AMD EPYC Zen 4,
# 47 on an Intel Xeon with AMX): the schedule follows the clock.
CONV_DENOISING_SETTING = {"latent_dim": None, "channels": (32, 64), "residual_blocks": 1}
# max_time counts the epochs and lets the batch that crosses it finish; fit's setup is
# outside it. These seconds below the budget keep both within it.
TIME_LIMIT_SLACK_SECONDS = 5
# A fit with max_time runs until the time is spent: max_iter only caps it.
MAX_EPOCHS_WITHIN_TIME = 10_000


def time_limit(budget):
    """The ``max_time`` of a fit that must end within ``budget`` seconds."""
    return budget - TIME_LIMIT_SLACK_SECONDS


def made_for_time(make_estimator, budget):
    """``make_estimator(max_iter)`` set to train for ``budget`` seconds, the time
    deciding the epochs."""
    return make_estimator(MAX_EPOCHS_WITHIN_TIME).set_params(max_time=time_limit(budget))


class EpochTestPSNR:
    """A scikit-learn callback (1.9): the test PSNR after each epoch of a fit, measured
    between epochs, where the clock of ``max_time`` and ``epoch_times_`` is stopped.
    Its hooks ask for no ``fitted_estimator``, which scikit-learn would copy each time."""

    def __init__(self, data):
        self.data = data
        self.psnr = []

    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "epoch":
            denoised = estimator.predict(self.data["X_test_noisy"])
            self.psnr.append(psnr(self.data["X_test"], denoised))
        return False

    def teardown(self, estimator, context):
        pass


def fit_within_time(dae, data):
    """``dae.fit`` on the training set with the test PSNR after each epoch."""
    from skdae._callbacks import CALLBACKS_SUPPORTED

    if not CALLBACKS_SUPPORTED:
        raise RuntimeError(
            "Measuring each epoch of a fit with max_time needs scikit-learn's callbacks: "
            "pip install 'scikit-learn>=1.9'."
        )
    recorder = EpochTestPSNR(data)
    dae.set_callbacks(recorder).fit(data["X_train"])
    return recorder.psnr


def run_skdae_conv(
    data, *, epochs, latent_dim=64, classify=True, setting=None, preset=None, budget=None
):
    """skdae's ConvDenoisingAutoencoder, stepped by epoch as :func:`run_skdae` is: at its
    defaults (``latent_dim=None``: the purely convolutional mode), with the parameters
    ``setting``, or from the preset ``preset``; then the rows per second of ``predict``
    on the noisy test set and, for a dense code, logistic regression on the codes.
    With ``epochs=None``, one fit of ``budget`` seconds (``max_time``) instead."""
    from skdae import ConvDenoisingAutoencoder, GaussianNoise
    from skdae.presets import make_preset

    setting = {"latent_dim": latent_dim, **(setting or {})}

    def make(max_iter):
        params = dict(max_iter=max_iter, learning_rate="cosine", random_state=0)
        if preset is not None:
            return make_preset(preset, **params)
        return ConvDenoisingAutoencoder(
            corruption=GaussianNoise(0.4, clip=(0, 1)), **setting, **params
        )

    if preset is not None:
        name = f"skdae conv ('{preset}' preset)"
    else:
        shown = {k: v for k, v in setting.items() if k != "latent_dim" or v is None}
        name = "skdae conv"
        if shown:
            name += " (" + ", ".join(f"{k}={v}" for k, v in shown.items()) + ")"
    extra = {}
    if epochs is None:
        dae = made_for_time(make, budget)
        epoch_psnr = fit_within_time(dae, data)
        extra["max_time"] = dae.max_time
    else:
        dae = make(epochs)
        epoch_psnr = _train_by_epoch(dae, data, epochs)
    # The median of three calls: one call of a few hundred milliseconds on a shared
    # machine is at the mercy of whatever else ran that moment.
    seconds = []
    for _ in range(3):
        started = time.perf_counter()
        denoised = dae.predict(data["X_test_noisy"])
        seconds.append(time.perf_counter() - started)
    rows_per_second = len(denoised) / float(np.median(seconds))
    if classify and dae.latent_dim is not None:
        extra["codes_accuracy"] = _codes_accuracy(dae.transform, data)
    return _model_result(
        name,
        data,
        dae,
        denoised,
        epoch_psnr,
        predict_rows_per_second=rows_per_second,
        n_parameters=sum(p.numel() for p in dae.module_.parameters()),
        **extra,
    )


def run_max_iter_sweep(data, *, max_iters, matmul_precision="auto"):
    """Separate fits of the dense defaults with each ``max_iter``: a user's short run
    (its whole schedule), not a long one cut short. Reports the PSNR, the wall time of
    ``fit`` and the setup around its epochs (``fit`` minus the epochs' own time).

    The first torch optimizer a process builds imports ``torch._dynamo`` (torch.optim
    wraps its constructors to keep the compiler out), about a second that the first fit
    of a process would otherwise pay as setup: it is timed here on its own, first, and
    reported as ``first_optimizer_seconds``."""
    import torch

    from skdae import DenoisingAutoencoder, GaussianNoise

    started = time.perf_counter()
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
    first_optimizer_seconds = time.perf_counter() - started
    fits = []
    for max_iter in max_iters:
        dae = DenoisingAutoencoder(
            corruption=GaussianNoise(0.4, clip=(0, 1)),
            max_iter=max_iter,
            matmul_precision=matmul_precision,
            random_state=0,
        )
        started = time.perf_counter()
        dae.fit(data["X_train"])
        seconds = time.perf_counter() - started
        fits.append(
            {
                "max_iter": max_iter,
                "fit_seconds": seconds,
                "setup_seconds": seconds - sum(dae.epoch_times_),
                "test_psnr": psnr(data["X_test"], dae.predict(data["X_test_noisy"])),
                "matmul_precision": dae.matmul_precision_,
            }
        )
    return {
        "system": f"skdae max_iter sweep ({matmul_precision})",
        "first_optimizer_seconds": first_optimizer_seconds,
        "fits": fits,
    }


def _codes_accuracy(encode, data, lr_max_iter=300):
    """Clean and noisy test accuracy of logistic regression on ``encode``'s codes."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=lr_max_iter))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(encode(data["X_train"]), data["y_train"])
    return {
        "clean": float(clf.score(encode(data["X_test"]), data["y_test"])),
        "noisy": float(clf.score(encode(data["X_test_noisy"]), data["y_test"])),
    }


def run_torch_loop(data, *, epochs, glorot=False):
    """The same network written by hand in PyTorch: DataLoader, Adam, BCE, noise once."""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(784, 256),
        nn.ReLU(),
        nn.Linear(256, 128),
        nn.ReLU(),
        nn.Linear(128, 64),
        nn.ReLU(),
        nn.Linear(64, 128),
        nn.ReLU(),
        nn.Linear(128, 256),
        nn.ReLU(),
        nn.Linear(256, 784),
        nn.Sigmoid(),
    )
    if glorot:
        for layer in model:
            if isinstance(layer, nn.Linear):
                nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)
    noisy = torch.from_numpy(add_noise(data["X_train"], TRAIN_NOISE_SEED))
    loader = DataLoader(
        TensorDataset(noisy, torch.from_numpy(data["X_train"])), batch_size=BATCH, shuffle=True
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCELoss()
    test_noisy = torch.from_numpy(data["X_test_noisy"])

    def predict():
        model.eval()
        with torch.no_grad():
            return model(test_noisy).numpy()

    epoch_seconds, epoch_psnr = [], []
    for _ in range(epochs):
        model.train()
        started = time.perf_counter()
        for inputs, targets in loader:
            optimizer.zero_grad()
            loss_fn(model(inputs), targets).backward()
            optimizer.step()
        epoch_seconds.append(time.perf_counter() - started)
        epoch_psnr.append(psnr(data["X_test"], predict()))
    name = "PyTorch loop (Glorot init)" if glorot else "PyTorch loop (default init)"
    return _result(name, data, predict(), epoch_seconds=epoch_seconds, epoch_psnr=epoch_psnr)


def _keras():
    try:
        import keras
    except ImportError:
        return None
    return keras


_KERAS_MISSING = "tensorflow is not installed: pip install -e '.[bench]'"


def run_keras(data, *, epochs):
    """The Keras tutorial's model: Dense 256-128-64-128-256-784, Adam, BCE, noise once."""
    keras = _keras()
    if keras is None:
        return {"system": "Keras (tensorflow-cpu)", "skipped": _KERAS_MISSING}
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(784,))
    x = inputs
    for width in (256, 128, 64, 128, 256):
        x = keras.layers.Dense(width, activation="relu")(x)
    outputs = keras.layers.Dense(784, activation="sigmoid")(x)
    return _fit_keras("Keras (tensorflow-cpu)", keras.Model(inputs, outputs), data, epochs)


def run_keras_conv(data, *, epochs):
    """keras.io's "Convolutional autoencoder for image denoising": Conv2D 32 3x3 ReLU +
    2x2 max-pool, twice; Conv2DTranspose 32 3x3 stride 2 ReLU, twice; Conv2D 1 3x3
    sigmoid; Adam, binary cross-entropy, batch 128, noise drawn once."""
    keras = _keras()
    if keras is None:
        return {"system": "Keras conv example (tensorflow-cpu)", "skipped": _KERAS_MISSING}
    layers = keras.layers
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(784,))
    x = layers.Reshape((28, 28, 1))(inputs)
    for _ in range(2):
        x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
        x = layers.MaxPooling2D((2, 2), padding="same")(x)
    for _ in range(2):
        x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)
    outputs = layers.Reshape((784,))(x)
    return _fit_keras(
        "Keras conv example (tensorflow-cpu)", keras.Model(inputs, outputs), data, epochs
    )


def _fit_keras(name, model, data, epochs):
    """Train a Keras model X_noisy -> X as the tutorials do; time and score each epoch."""
    keras = _keras()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    noisy = add_noise(data["X_train"], TRAIN_NOISE_SEED)
    epoch_seconds, epoch_psnr = [], []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_seconds.append(time.perf_counter() - self.started)
            denoised = self.model.predict(data["X_test_noisy"], batch_size=1024, verbose=0)
            epoch_psnr.append(psnr(data["X_test"], denoised))

    model.fit(
        noisy,
        data["X_train"],
        epochs=epochs,
        batch_size=BATCH,
        shuffle=True,
        callbacks=[Timer()],
        verbose=0,
    )
    denoised = model.predict(data["X_test_noisy"], batch_size=1024, verbose=0)
    return _result(
        name,
        data,
        denoised,
        epoch_seconds=epoch_seconds,
        epoch_psnr=epoch_psnr,
        version=keras.__version__,
    )


def run_mlp_regressor(data, *, epochs):
    """scikit-learn's MLPRegressor fitted X_noisy -> X (identity output, squared error)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    noisy = add_noise(data["X_train"], TRAIN_NOISE_SEED)
    mlp = MLPRegressor(
        hidden_layer_sizes=(256, 128, 64, 128, 256),
        batch_size=BATCH,
        max_iter=epochs,
        random_state=0,
    )
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(noisy, data["X_train"])
    seconds = time.perf_counter() - started
    denoised = np.clip(mlp.predict(data["X_test_noisy"]), 0, 1)
    return _result(
        "MLPRegressor",
        data,
        denoised,
        fit_seconds=seconds,
        epochs=mlp.n_iter_,
        median_epoch_seconds=seconds / mlp.n_iter_,
    )


def run_pca(data, *, components=(16, 32, 64, 128)):
    """PCA fitted on the clean training images; denoise = project and reconstruct."""
    from sklearn.decomposition import PCA

    scores = {}
    for k in components:
        pca = PCA(n_components=k, random_state=0).fit(data["X_train"])
        denoised = pca.inverse_transform(pca.transform(data["X_test_noisy"]))
        scores[k] = psnr(data["X_test"], denoised)
    best = max(scores, key=scores.get)
    pca = PCA(n_components=best, random_state=0).fit(data["X_train"])
    denoised = pca.inverse_transform(pca.transform(data["X_test_noisy"]))
    return _result(
        f"PCA (best: {best} components)",
        data,
        denoised,
        psnr_by_components={str(k): v for k, v in scores.items()},
    )


def run_kernel_pca(data, *, n_fit):
    """KernelPCA as in scikit-learn's 'Image denoising using kernel PCA' example."""
    from sklearn.decomposition import KernelPCA

    kpca = KernelPCA(
        n_components=400,
        kernel="rbf",
        gamma=1e-3,
        fit_inverse_transform=True,
        alpha=5e-3,
        random_state=0,
    )
    started = time.perf_counter()
    kpca.fit(data["X_train"][:n_fit])
    seconds = time.perf_counter() - started
    denoised = kpca.inverse_transform(kpca.transform(data["X_test_noisy"]))
    return _result(f"KernelPCA ({n_fit} training images)", data, denoised, fit_seconds=seconds)


def run_noisy_input(data):
    return _result("noisy input (no denoising)", data, data["X_test_noisy"])


def run_downstream(data, *, epochs, lr_max_iter=300):
    """LogisticRegression accuracy on raw pixels, PCA(64) codes and skdae's 64-d codes.

    skdae's codes come from the defaults and from the "features" preset, which is tuned
    for them; the preset's denoising PSNR is reported beside, for the trade-off.
    """
    import warnings

    from sklearn.decomposition import PCA
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skdae.presets import make_preset

    dae = run_skdae(data, epochs=epochs, keep_model=True)["_model"]
    features = make_preset("features", max_iter=epochs, random_state=0)
    started = time.perf_counter()
    features.fit(data["X_train"])
    features_seconds = time.perf_counter() - started
    X_train, y_train = data["X_train"], data["y_train"]
    clean, noisy, y_test = data["X_test"], data["X_test_noisy"], data["y_test"]

    def accuracy(encode):
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=lr_max_iter))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(encode(X_train), y_train)
        scores = {
            "clean": float(clf.score(encode(clean), y_test)),
            "noisy": float(clf.score(encode(noisy), y_test)),
        }
        return clf, scores

    pca = PCA(n_components=64, random_state=0).fit(X_train)
    raw_clf, raw = accuracy(lambda X: X)
    return {
        "system": "downstream LogisticRegression",
        "classifier": f"StandardScaler + LogisticRegression(max_iter={lr_max_iter})",
        "raw_pixels": raw,
        "pca64_codes": accuracy(pca.transform)[1],
        "skdae_codes": accuracy(dae.transform)[1],
        "skdae_features_codes": accuracy(features.transform)[1],
        "skdae_features_fit_seconds": features_seconds,
        "skdae_features_psnr": psnr(clean, features.predict(noisy)),
        "raw_pixels_on_skdae_denoised_noisy": float(raw_clf.score(dae.predict(noisy), y_test)),
    }
