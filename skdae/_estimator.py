"""DenoisingAutoencoder: a dense encoder and its mirrored decoder, as an estimator.

The class holds what is particular to the dense network: its parameters, their
constraints and the sizes it is built from. Fitting, inference and persistence are the
family's own, in :class:`skdae._base.BaseAutoencoder`.
"""

import warnings

from skdae._base import BaseAutoencoder
from skdae._corruption import CORRUPTION_ALIASES, BaseCorruption
from skdae._network import (
    ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    build_autoencoder,
    dense_parameter_count,
)
from skdae._precision import MATMUL_PRECISIONS
from skdae._schedule import LEARNING_RATE_SETTINGS
from skdae._training import LOSSES, OPTIMIZERS
from skdae._validation import (
    Integral,
    Interval,
    Real,
    StrOptions,
    check_hidden_layer_sizes,
)
from skdae.exceptions import OvercompleteWarning


class DenoisingAutoencoder(BaseAutoencoder):
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

    learning_rate : {'auto', 'cosine', 'constant'}, default='auto'
        Learning-rate schedule. ``'cosine'`` runs over the ``max_iter`` epochs: it
        warms up linearly over the first tenth of them (at most one epoch), peaks at
        ``learning_rate_init``, then decays along a half cosine to 1% of it by the last
        epoch. ``'constant'`` keeps ``learning_rate_init`` throughout. ``'auto'`` is
        ``'cosine'`` for :meth:`fit`, and ``'constant'`` for training that starts with
        :meth:`partial_fit`, whose number of calls the estimator cannot know (a cosine
        over ``max_iter`` calls would leave a long stream of chunks learning at 1%).
        Each :meth:`fit` runs the whole schedule; each :meth:`partial_fit` call counts
        as one epoch of the schedule in force (``learning_rate_``), so calls after a fit
        go on at its floor, which suits fine-tuning.

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
        :meth:`predict` are not affected. ``'bfloat16'`` on a CPU without bfloat16
        hardware trains in float32 with a :class:`~skdae.exceptions.PrecisionWarning`.
        Torch's switch for this is process-wide: it is set for each training pass over
        the data and restored afterwards, and threads of skdae that need different
        values take turns, so each gets the precision it asked for.

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

    learning_rate_ : {'cosine', 'constant'}
        The schedule in force (``learning_rate`` resolved by the call that started it).

    matmul_precision_ : {'float32', 'bfloat16', 'tf32'}
        The precision the matrix products really ran at in the last call to
        :meth:`fit` or :meth:`partial_fit` (``matmul_precision`` resolved).

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
        "learning_rate": [StrOptions(set(LEARNING_RATE_SETTINGS))],
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
        learning_rate="auto",
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

    # What models saved by skdae 0.1.0 (0.2.0 for matmul_precision) lack, with the values
    # that reproduce how they were trained: a constant rate, one activation for the
    # hidden and code layers, float32 products.
    _parameters_of_old_models = {
        "learning_rate": "constant",
        "latent_activation": "auto",
        "matmul_precision": "float32",
    }
    # Architecture entries that files of 0.1.0 lack; the network's default stands in.
    _architecture_entries_added = ("latent_activation",)
    _network_builder = staticmethod(build_autoencoder)
    _parameter_count = staticmethod(dense_parameter_count)
    # Integer parameters that a bool would silently satisfy.
    _count_parameters = ("latent_dim", "batch_size", "max_iter", "n_iter_no_change")

    def _make_architecture(self, n_features, *, warn):
        """The sizes the network is built from, for data of ``n_features`` columns."""
        if warn and self.latent_dim >= n_features:
            warnings.warn(
                f"latent_dim={self.latent_dim} is not smaller than the {n_features} input "
                "features: this overcomplete autoencoder relies on the corruption alone to "
                "avoid learning the identity. Pass a smaller latent_dim if that is not what "
                "you want.",
                OvercompleteWarning,
                stacklevel=4,
            )
        return {
            "n_features": n_features,
            "hidden_layer_sizes": check_hidden_layer_sizes(self.hidden_layer_sizes),
            "latent_dim": self.latent_dim,
            "activation": self.activation,
            "latent_activation": (
                self.activation if self.latent_activation == "auto" else self.latent_activation
            ),
            "output_activation": self.output_activation_,
        }
