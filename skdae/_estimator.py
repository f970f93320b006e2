"""DenoisingAutoencoder: the scikit-learn estimator around the torch network."""

import math
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_array, gen_batches
from sklearn.utils.validation import check_is_fitted, validate_data

from skdae._corruption import CORRUPTION_ALIASES, BaseCorruption, make_corruption
from skdae._device import as_float32_tensor, resolve_device
from skdae._network import (
    ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    as_cpu_state,
    build_autoencoder,
    copy_state,
    format_summary,
    load_state,
    summarize,
)
from skdae._persistence import (
    FITTED_ADDED_SINCE_0_1,
    PARAMETERS_ADDED_SINCE_0_1,
    cpu_tree,
    library_versions,
    load_model,
    save_model,
    warn_on_version_mismatch,
)
from skdae._precision import MATMUL_PRECISIONS, matmul_precision, resolve_matmul_precision
from skdae._random import make_generator, seed_from_random_state
from skdae._schedule import LEARNING_RATE_SCHEDULES, learning_rate_at
from skdae._training import (
    LOSSES,
    OPTIMIZERS,
    EarlyStopping,
    ProgressPrinter,
    evaluation_loss,
    train_one_epoch,
)
from skdae._validation import (
    Integral,
    Interval,
    Real,
    StrOptions,
    check_bce_target,
    check_hidden_layer_sizes,
    fit_context,
)
from skdae.exceptions import DivergenceError, OvercompleteWarning

# Rows per inference chunk are capped so that a chunk's float32 input stays near 16 MB
# whatever the width: memory stays flat however many rows come in.
_INFERENCE_CHUNK_VALUES = 1 << 22
_MAX_INFERENCE_ROWS = 8192


class DenoisingAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Denoising autoencoder with a dense PyTorch encoder and mirrored decoder.

    During training every batch of the clean input is corrupted afresh (on the
    training device) and the network learns to reconstruct the clean batch. The
    encoder's output is the code returned by :meth:`transform`; :meth:`predict`
    denoises, and :meth:`inverse_transform` decodes codes back to input space.

    Parameters
    ----------
    latent_dim : int, default=64
        Width of the code layer returned by :meth:`transform`. A code at least as wide
        as the input is legal (an overcomplete DAE) but raises an
        :class:`~skdae.exceptions.OvercompleteWarning`.

    hidden_layer_sizes : tuple of int, default=(256, 128)
        Widths of the encoder's hidden layers, from the input side; the decoder mirrors
        them. ``()`` gives a single-layer encoder and decoder.

    activation : {'relu', 'leaky_relu', 'elu', 'gelu', 'tanh', 'sigmoid', 'identity'}, \
default='relu'
        Activation after every hidden layer of the encoder and the decoder.

    latent_activation : {'auto', 'relu', 'leaky_relu', 'elu', 'gelu', 'tanh', \
'sigmoid', 'identity'}, default='auto'
        Activation of the code layer, whose output :meth:`transform` returns.
        ``'auto'`` uses ``activation``, as the Keras reference network does. With ReLU
        some code units can die (stay at zero for every input: on MNIST about one in
        five of 64); ``'identity'`` gives linear codes with no dead units, which makes
        better features for a downstream linear model.

    output_activation : {'auto', 'sigmoid', 'identity', 'tanh'}, default='auto'
        Activation of the reconstruction. ``'auto'`` is ``'sigmoid'`` with the BCE loss
        and ``'identity'`` otherwise.

    loss : {'auto', 'bce', 'mse'}, default='auto'
        Reconstruction loss. ``'auto'`` picks binary cross-entropy when the training
        data at the first fit lie in [0, 1] (images) and mean squared error otherwise.
        ``'bce'`` needs a sigmoid output and clean data in [0, 1].

    corruption : {'gaussian', 'salt_and_pepper', 'masking', 'none'}, BaseCorruption \
or None, default='gaussian'
        How each training batch is corrupted. A string selects that corruption with its
        default parameters; pass an object such as ``GaussianNoise(std=0.4, clip=(0,
        1))`` to set them, and to let a grid search reach ``corruption__std``.
        ``None`` or ``'none'`` trains a plain autoencoder.

    solver : {'adam', 'adamw', 'sgd'}, default='adam'
        Optimizer. ``'sgd'`` uses Nesterov momentum 0.9.

    learning_rate : {'cosine', 'constant'}, default='cosine'
        Learning-rate schedule over the ``max_iter`` epochs. ``'cosine'`` warms up
        linearly over the first tenth of the epochs (at most one epoch), peaks at
        ``learning_rate_init``, then decays along a half cosine to 1% of it by the last
        epoch. ``'constant'`` keeps ``learning_rate_init`` throughout. Each
        :meth:`fit` runs the whole schedule; each :meth:`partial_fit` call counts as one
        epoch of it, so when streaming chunks either set ``max_iter`` to the number of
        calls planned or use ``'constant'``.

    learning_rate_init : float, default=3e-3
        Peak learning rate of the optimizer (the rate itself when
        ``learning_rate='constant'``).

    alpha : float, default=0.0
        L2 penalty, passed to the optimizer as ``weight_decay`` (decoupled for
        ``'adamw'``).

    batch_size : int, default=128
        Samples per training batch.

    max_iter : int, default=50
        Number of epochs (passes over the data). Training runs all of them unless early
        stopping ends it sooner.

    shuffle : bool, default=True
        Whether to shuffle the samples in each epoch.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when its loss has not
        improved by ``tol`` for ``n_iter_no_change`` epochs, and restore the weights of
        the best epoch. The validation inputs are corrupted once, so the validation
        loss is comparable from epoch to epoch.

    validation_fraction : float, default=0.1
        Fraction of the training data held out when ``early_stopping=True``.

    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.

    tol : float, default=1e-4
        Smallest decrease of the validation loss counted as an improvement.

    warm_start : bool, default=False
        If True, :meth:`fit` continues from the previous solution (weights, optimizer
        state, ``loss_curve_``) instead of starting afresh.

    device : str, default='auto'
        Torch device for training and inference: ``'auto'`` (CUDA when available, else
        CPU), ``'cpu'``, ``'cuda'`` or ``'cuda:N'``. The data are moved to the device
        once; batches and noise are made there.

    matmul_precision : {'auto', 'float32', 'bfloat16', 'tf32'}, default='auto'
        Precision of the matrix products while training. Weights, gradients, the
        optimizer and the loss stay float32; ``'bfloat16'`` (CPU) and ``'tf32'`` (CUDA)
        round the products' inputs inside the kernel, which runs them up to twice as
        fast where the hardware has those formats. ``'auto'`` picks ``'bfloat16'`` on a
        CPU with AVX512-BF16 or AMX, ``'tf32'`` on CUDA and ``'float32'`` elsewhere;
        ``'float32'`` keeps every product in full precision. On MNIST the denoised
        PSNR after 50 epochs is the same to 0.01 dB either way. :meth:`transform` and
        :meth:`predict` are not affected. Torch's switch for this is process-wide: it
        is set for each training pass over the data and restored afterwards.

    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the shuffling, the noise and the validation split. With an
        int, results on the CPU are reproducible bit for bit.

    verbose : int, default=0
        0 is silent; 1 prints one line per epoch (loss, validation loss, seconds);
        2 also shows a live sample counter within each epoch on stderr.

    Attributes
    ----------
    module_ : torch.nn.Module
        The fitted network, with ``encoder``, ``decoder`` and ``output_activation``
        submodules.

    corruption_ : BaseCorruption
        The corruption used by the last call to :meth:`fit` or :meth:`partial_fit`.

    loss_ : {'bce', 'mse'}
        The resolved loss.

    output_activation_ : str
        The resolved output activation.

    device_ : torch.device
        Where the model lives.

    matmul_precision_ : {'float32', 'bfloat16', 'tf32'}
        The precision of the matrix products in the last call to :meth:`fit` or
        :meth:`partial_fit` (``matmul_precision`` resolved).

    loss_curve_ : list of float
        Mean training loss of each epoch.

    validation_scores_ : list of float or None
        Negated validation loss of each epoch (higher is better, as in scikit-learn's
        MLP), or None when ``early_stopping=False``.

    best_loss_ : float
        The lowest validation loss with early stopping (the restored weights), else the
        lowest training loss.

    best_epoch_ : int
        The epoch whose weights the model holds after early stopping, else ``n_iter_``.

    n_iter_ : int
        Number of epochs trained so far.

    epoch_times_ : list of float
        Wall-clock seconds of each epoch.

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, when ``X`` has string column names.

    See Also
    --------
    sklearn.decomposition.PCA : Linear dimensionality reduction.
    sklearn.neural_network.MLPRegressor : Can be used as a plain autoencoder.
    skdae.presets.make_preset : This estimator with settings tuned for another job,
        such as codes for a classifier (``"features"``).

    Notes
    -----
    ``fit(X, y)`` ignores ``y``: inside a :class:`~sklearn.pipeline.Pipeline` it holds
    class labels, and the clean target of a denoising autoencoder is ``X`` itself. To
    train on pre-corrupted pairs (noisy input, clean target), pass the noisy inputs as
    ``fit(X_clean, X_noisy=X_noisy)``; the corruption is then not applied.

    Examples
    --------
    >>> import numpy as np
    >>> from skdae import DenoisingAutoencoder
    >>> X = np.random.RandomState(0).rand(20, 6)
    >>> dae = DenoisingAutoencoder(latent_dim=2, hidden_layer_sizes=(4,), max_iter=2,
    ...                            random_state=0)
    >>> dae.fit(X)
    DenoisingAutoencoder(hidden_layer_sizes=(4,), latent_dim=2, max_iter=2,
                         random_state=0)
    >>> dae.transform(X).shape
    (20, 2)
    >>> dae.predict(X).shape
    (20, 6)
    """

    _parameter_constraints: dict = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "latent_activation": [StrOptions({"auto", *ACTIVATIONS})],
        "output_activation": [StrOptions({"auto", *OUTPUT_ACTIVATIONS})],
        "loss": [StrOptions({"auto", *LOSSES})],
        "corruption": [StrOptions(set(CORRUPTION_ALIASES)), BaseCorruption, None],
        "solver": [StrOptions(set(OPTIMIZERS))],
        "learning_rate": [StrOptions(set(LEARNING_RATE_SCHEDULES))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "device": [str],
        "matmul_precision": [StrOptions(set(MATMUL_PRECISIONS))],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        latent_dim=64,
        *,
        hidden_layer_sizes=(256, 128),
        activation="relu",
        latent_activation="auto",
        output_activation="auto",
        loss="auto",
        corruption="gaussian",
        solver="adam",
        learning_rate="cosine",
        learning_rate_init=3e-3,
        alpha=0.0,
        batch_size=128,
        max_iter=50,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        device="auto",
        matmul_precision="auto",
        random_state=None,
        verbose=0,
    ):
        self.latent_dim = latent_dim
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.latent_activation = latent_activation
        self.output_activation = output_activation
        self.loss = loss
        self.corruption = corruption
        self.solver = solver
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.device = device
        self.matmul_precision = matmul_precision
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ training

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, X_noisy=None):
        """Fit the autoencoder to reconstruct clean ``X`` from corrupted ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Clean training data.

        y : None
            Ignored; present for API consistency (a Pipeline passes class labels).

        X_noisy : array-like of shape (n_samples, n_features), default=None
            Pre-corrupted inputs aligned row by row with ``X``. When given, the network
            learns ``X_noisy -> X`` and ``corruption`` is not applied.

        Returns
        -------
        self : DenoisingAutoencoder
            The fitted estimator.
        """
        start_afresh = not (self.warm_start and hasattr(self, "module_"))
        X, X_noisy = self._validate_training_data(X, X_noisy, reset=start_afresh)
        if start_afresh:
            self._initialize(X)
        # Every fit runs the whole schedule, a warm-started one too.
        self._schedule_origin = self.n_iter_
        self._train(X, X_noisy, n_epochs=self.max_iter, validate=self.early_stopping)
        return self

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, *, X_noisy=None):
        """Train for one epoch on ``X``, continuing from the current weights.

        The first call initializes the model. ``early_stopping`` is not used here:
        each call is one pass over the data it is given, which suits training on
        chunks of data too large for memory.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Clean training data.

        y : None
            Ignored; present for API consistency.

        X_noisy : array-like of shape (n_samples, n_features), default=None
            Pre-corrupted inputs aligned with ``X``; see :meth:`fit`.

        Returns
        -------
        self : DenoisingAutoencoder
            The updated estimator.
        """
        first_call = not hasattr(self, "module_")
        X, X_noisy = self._validate_training_data(X, X_noisy, reset=first_call)
        if first_call:
            self._initialize(X)
        self._train(X, X_noisy, n_epochs=1, validate=False)
        return self

    def _validate_training_data(self, X, X_noisy, *, reset):
        X = validate_data(self, X, reset=reset, dtype=[np.float32, np.float64])
        if X_noisy is not None:
            X_noisy = check_array(X_noisy, dtype=[np.float32, np.float64], input_name="X_noisy")
            if X_noisy.shape != X.shape:
                raise ValueError(
                    f"X_noisy must have the same shape as X; got {X_noisy.shape} and "
                    f"{X.shape}. Pass one noisy row for each clean row."
                )
        return X, X_noisy

    def _initialize(self, X):
        """Resolve the parameters into fitted state and build a fresh network."""
        n_features = X.shape[1]
        hidden = check_hidden_layer_sizes(self.hidden_layer_sizes)
        self.loss_, self.output_activation_ = self._resolve_loss(X)
        self.device_ = resolve_device(self.device)
        if self.latent_dim >= n_features:
            warnings.warn(
                f"latent_dim={self.latent_dim} is not smaller than the {n_features} input "
                "features: this overcomplete autoencoder relies on the corruption alone to "
                "avoid learning the identity. Pass a smaller latent_dim if that is not what "
                "you want.",
                OvercompleteWarning,
                stacklevel=3,
            )
        self._seed = seed_from_random_state(self.random_state)
        self._architecture = {
            "n_features": n_features,
            "hidden_layer_sizes": hidden,
            "latent_dim": self.latent_dim,
            "activation": self.activation,
            "latent_activation": (
                self.activation if self.latent_activation == "auto" else self.latent_activation
            ),
            "output_activation": self.output_activation_,
        }
        self.module_ = self._build_module()
        self._optimizer = self._build_optimizer()
        self.loss_curve_ = []
        self.validation_scores_ = [] if self.early_stopping else None
        self.epoch_times_ = []
        self.best_loss_ = math.inf
        self.best_epoch_ = 0
        self.n_iter_ = 0
        # The epoch at which the current learning-rate schedule started: partial_fit
        # goes on along the schedule of the last fit (or of its own first call).
        self._schedule_origin = 0

    def _resolve_loss(self, X):
        output_activation = self.output_activation
        loss = self.loss
        if loss == "auto":
            in_unit_range = X.size > 0 and X.min() >= 0.0 and X.max() <= 1.0
            loss = "bce" if in_unit_range and output_activation in ("auto", "sigmoid") else "mse"
        if output_activation == "auto":
            output_activation = "sigmoid" if loss == "bce" else "identity"
        if loss == "bce" and output_activation != "sigmoid":
            raise ValueError(
                f"loss='bce' needs output_activation='sigmoid' (outputs in [0, 1]); got "
                f"output_activation={self.output_activation!r}. Pass "
                "output_activation='auto' or loss='mse'."
            )
        return loss, output_activation

    def _build_module(self):
        # Built inside fork_rng so that seeding the weights leaves the user's global
        # torch RNG untouched.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self._seed)
            module = build_autoencoder(**self._architecture)
        return module.to(self.device_)

    def _build_optimizer(self):
        return OPTIMIZERS[self.solver](
            self.module_.parameters(), float(self.learning_rate_init), float(self.alpha)
        )

    def _train(self, X, X_noisy, *, n_epochs, validate):
        if self.loss_ == "bce":
            check_bce_target(X)
        # Resolved at every call so that set_params(corruption__std=...) between
        # warm-started fits takes effect.
        self.corruption_ = make_corruption(self.corruption)
        device = self.device_
        self.matmul_precision_ = resolve_matmul_precision(self.matmul_precision, device)
        X_target = as_float32_tensor(X, device)
        X_input = None if X_noisy is None else as_float32_tensor(X_noisy, device)
        validation = None
        if validate:
            X_target, X_input, validation = self._split_validation(X_target, X_input)
            if self.validation_scores_ is None:
                self.validation_scores_ = []
        loss_fn = LOSSES[self.loss_]
        stopper = EarlyStopping(self.n_iter_no_change, self.tol) if validation else None
        progress = ProgressPrinter(self.verbose, self.n_iter_ + n_epochs)
        on_batch = progress.batch_done if self.verbose >= 2 else None

        if self.learning_rate == "constant":
            # Also applies a learning_rate_init changed since the optimizer was built.
            for group in self._optimizer.param_groups:
                group["lr"] = float(self.learning_rate_init)

        for _ in range(n_epochs):
            epoch = self.n_iter_ + 1
            last_good_state = copy_state(self.module_)
            progress.start_epoch()
            # The precision switch is process-wide: held for the training pass only.
            with matmul_precision(self.matmul_precision_, device):
                train_loss = train_one_epoch(
                    self.module_,
                    self._optimizer,
                    self.loss_,
                    X_target,
                    X_input=X_input,
                    corruption=self.corruption_,
                    batch_size=self.batch_size,
                    generator=make_generator(self._seed + epoch, device),
                    shuffle=self.shuffle,
                    learning_rate=self._schedule_for_epoch(epoch),
                    on_batch=on_batch,
                )
            val_loss = None
            if validation is not None:
                val_loss = evaluation_loss(self.module_, loss_fn, *validation, self.batch_size)
            if not (math.isfinite(train_loss) and (val_loss is None or math.isfinite(val_loss))):
                self._recover_from_divergence(last_good_state, epoch, train_loss)
            self.n_iter_ = epoch
            self.loss_curve_.append(train_loss)
            self.epoch_times_.append(progress.end_epoch(epoch, train_loss, val_loss))
            if stopper is not None:
                self.validation_scores_.append(-val_loss)
                if stopper.update(val_loss, self.module_, epoch):
                    if self.verbose:
                        print(
                            f"Validation loss did not improve by more than tol={self.tol} "
                            f"for {self.n_iter_no_change} epochs; stopping and restoring "
                            f"epoch {stopper.best_epoch}."
                        )
                    break

        if stopper is not None:
            load_state(self.module_, stopper.best_state)
            self.best_loss_, self.best_epoch_ = stopper.best_loss, stopper.best_epoch
        else:
            self.best_loss_ = min(self.loss_curve_)
            self.best_epoch_ = self.n_iter_

    def _schedule_for_epoch(self, epoch):
        """The learning rate within ``epoch`` as a function of the fraction done."""
        if self.learning_rate == "constant":
            return None
        epochs_before = epoch - 1 - self._schedule_origin
        initial = float(self.learning_rate_init)

        def rate(fraction):
            return learning_rate_at(
                self.learning_rate,
                epochs_before + fraction,
                initial=initial,
                n_epochs=self.max_iter,
            )

        return rate

    def _split_validation(self, X_target, X_input):
        n_samples = X_target.shape[0]
        n_validation = math.ceil(self.validation_fraction * n_samples)
        if n_samples - n_validation < 1:
            raise ValueError(
                f"early_stopping=True holds out validation_fraction={self.validation_fraction} "
                f"of the data, which leaves no training sample out of n_samples = "
                f"{n_samples}. Pass more samples, a smaller validation_fraction, or "
                "early_stopping=False."
            )
        # A fixed generator: the same split and the same validation noise at every fit.
        generator = make_generator(self._seed, X_target.device)
        order = torch.randperm(n_samples, generator=generator, device=X_target.device)
        val_rows, train_rows = order[:n_validation], order[n_validation:]
        val_target = X_target[val_rows]
        if X_input is None:
            with torch.no_grad():
                val_input = self.corruption_._corrupt_tensor(val_target, generator)
            train_input = None
        else:
            val_input, train_input = X_input[val_rows], X_input[train_rows]
        return X_target[train_rows], train_input, (val_input, val_target)

    def _recover_from_divergence(self, last_good_state, epoch, loss):
        load_state(self.module_, last_good_state)
        # Adam's moment estimates are non-finite too: start the optimizer afresh.
        self._optimizer = self._build_optimizer()
        raise DivergenceError(
            f"Training diverged at epoch {epoch}: the loss became {loss}. The model keeps "
            f"the weights from before that epoch. Lower learning_rate_init (now "
            f"{self.learning_rate_init}) or scale the data (e.g. with "
            "sklearn.preprocessing.StandardScaler)."
        )

    # ----------------------------------------------------------------- inference

    def transform(self, X):
        """Encode ``X`` into latent codes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        codes : ndarray of shape (n_samples, latent_dim)
            The codes, in the dtype of ``X`` (float32 or float64).
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        return self._run_in_batches(self.module_.encoder, X, self._architecture["latent_dim"])

    def inverse_transform(self, X):
        """Decode latent codes back to input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, latent_dim)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, `n_features_in_`)
            The decoded data, in the dtype of the codes.
        """
        check_is_fitted(self)
        codes = check_array(X, dtype=[np.float32, np.float64])
        latent_dim = self._architecture["latent_dim"]
        if codes.shape[1] != latent_dim:
            raise ValueError(
                f"inverse_transform expects codes of width latent_dim={latent_dim}, as "
                f"returned by transform; got {codes.shape[1]} columns."
            )
        return self._run_in_batches(self.module_.decode, codes, self.n_features_in_)

    def predict(self, X):
        """Denoise ``X``: encode it, then decode the codes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Possibly noisy data.

        Returns
        -------
        X_denoised : ndarray of shape (n_samples, n_features)
            The reconstruction, in the dtype of ``X``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        return self._run_in_batches(self.module_, X, self.n_features_in_)

    def score(self, X, y=None):
        """Return the negated mean squared reconstruction error of ``X``.

        ``X`` is reconstructed without corruption and compared with itself, so higher
        is better and 0 is a perfect reconstruction. To measure denoising, compare
        ``predict(X_noisy)`` with the clean data instead.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to reconstruct.

        y : None
            Ignored; present for API consistency.

        Returns
        -------
        score : float
            ``-mean((predict(X) - X) ** 2)``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        reconstruction = self._run_in_batches(self.module_, X, self.n_features_in_)
        return -float(np.mean((reconstruction - X) ** 2))

    def summary(self):
        """Describe the fitted network layer by layer.

        Returns
        -------
        summary : str
            A table with one row per dense layer (``DENSE 784 -> 256 [ReLU]``, the
            shapes of its weights and biases, its parameter count) and the total.

        Examples
        --------
        >>> import numpy as np
        >>> from skdae import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).rand(10, 8)
        >>> dae = DenoisingAutoencoder(latent_dim=2, hidden_layer_sizes=(4,), max_iter=1)
        >>> print(dae.fit(X).summary())
        part     layer                   weights  biases  parameters
        encoder  DENSE 8 -> 4 [ReLU]     (4, 8)   (4,)            36
        encoder  DENSE 4 -> 2 [ReLU]     (2, 4)   (2,)            10
        decoder  DENSE 2 -> 4 [ReLU]     (4, 2)   (4,)            12
        decoder  DENSE 4 -> 8 [Sigmoid]  (8, 4)   (8,)            40
        total                                                     98
        """
        check_is_fitted(self)
        return format_summary(summarize(self.module_))

    def _run_in_batches(self, fn, X, n_out):
        """Apply ``fn`` chunk by chunk: numpy in, numpy out, no autograd, flat memory."""
        out = np.empty((X.shape[0], n_out), dtype=X.dtype)
        rows_per_chunk = max(1, min(_MAX_INFERENCE_ROWS, _INFERENCE_CHUNK_VALUES // X.shape[1]))
        self.module_.eval()
        with torch.no_grad():
            for rows in gen_batches(X.shape[0], rows_per_chunk):
                chunk = as_float32_tensor(X[rows], self.device_)
                out[rows] = fn(chunk).cpu().numpy()
        return out

    @property
    def _n_features_out(self):
        # Read by ClassNamePrefixFeaturesOutMixin.get_feature_names_out.
        return self._architecture["latent_dim"]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # --------------------------------------------------------------- persistence

    def save(self, path):
        """Save the fitted model to ``path`` in skdae's pickle-free format.

        The file is a zip archive of a JSON document (parameters, fitted attributes,
        library versions) and the weights, written with ``torch.save`` and read back
        with ``weights_only=True``: loading it never runs code from the file, so models
        can be shared safely. ``joblib.dump`` still works for everything else.

        Parameters
        ----------
        path : str or path-like
            Where to write; the file is replaced atomically.

        Returns
        -------
        path : pathlib.Path
            The path written.

        Examples
        --------
        >>> import tempfile, numpy as np
        >>> from pathlib import Path
        >>> from skdae import DenoisingAutoencoder
        >>> X = np.random.RandomState(0).rand(20, 6)
        >>> dae = DenoisingAutoencoder(latent_dim=2, hidden_layer_sizes=(4,), max_iter=1).fit(X)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = dae.save(Path(folder) / "dae.skdae")
        ...     loaded = DenoisingAutoencoder.load(path)
        >>> bool(np.array_equal(loaded.predict(X), dae.predict(X)))
        True
        """
        check_is_fitted(self)
        return save_model(self, path)

    @classmethod
    def load(cls, path):
        """Load a model written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
            A file written by :meth:`save`.

        Returns
        -------
        estimator : DenoisingAutoencoder
            The fitted model, on ``device`` if available, else on the CPU (with a
            :class:`~skdae.exceptions.DeviceWarning`).

        Raises
        ------
        ModelFileError
            If the file is not an skdae model file, is truncated, or was altered.
        """
        return load_model(cls, path)

    def __getstate__(self):
        # A copy: BaseEstimator.__getstate__ may hand back the live __dict__, and
        # saving a model must not alter it.
        state = dict(super().__getstate__())
        module = state.pop("module_", None)
        optimizer = state.pop("_optimizer", None)
        if module is not None:
            state["_module_state"] = as_cpu_state(module)
            state["_optimizer_state"] = cpu_tree(optimizer.state_dict())
            state["device_"] = torch.device("cpu")
        state["_skdae_versions"] = library_versions()
        return state

    def __setstate__(self, state):
        state = dict(state)
        module_state = state.pop("_module_state", None)
        optimizer_state = state.pop("_optimizer_state", None)
        warn_on_version_mismatch(state.pop("_skdae_versions", {}), what="pickled model")
        # A pickle from skdae 0.1.0 lacks what came later; it loads as it was trained.
        state = {**PARAMETERS_ADDED_SINCE_0_1, **state}
        if module_state is not None:
            state = {**FITTED_ADDED_SINCE_0_1, **state}
        super().__setstate__(state)
        if module_state is not None:
            self._restore_network(module_state, optimizer_state)

    def _restore_network(self, module_state, optimizer_state):
        # Resolved here, never lazily in transform: a CUDA-fitted model lands on the
        # CPU (with a DeviceWarning) on a machine without a GPU.
        self.device_ = resolve_device(self.device, fallback_to_cpu=True)
        self.module_ = self._build_module()
        load_state(self.module_, module_state)
        self._optimizer = self._build_optimizer()
        if optimizer_state is not None:
            self._optimizer.load_state_dict(optimizer_state)
