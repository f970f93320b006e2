"""DenoisingAutoencoder: a dense encoder and its mirrored decoder, as an estimator.

The class holds what is particular to the dense network: its parameters, their
constraints and the sizes it is built from. Fitting, inference and persistence are the
family's own, in :class:`skdae._base.BaseAutoencoder`.
"""

from skdae._base import TRAINING_PARAMETER_CONSTRAINTS, BaseAutoencoder
from skdae._dense_network import build_autoencoder, dense_parameter_count
from skdae._docstrings import fill
from skdae._network import ACTIVATIONS
from skdae._validation import (
    Integral,
    Interval,
    StrOptions,
    check_hidden_layer_sizes,
    warn_if_overcomplete,
)


@fill(max_iter=50)
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

%(training_parameters)s

    Attributes
    ----------
    module_ : torch.nn.Module
        The fitted network, with ``encoder``, ``decoder`` and ``output_activation``
        submodules.

%(fitted_attributes)s

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
        **TRAINING_PARAMETER_CONSTRAINTS,
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
        max_grad_norm=None,
        batch_size=128,
        max_iter=50,
        max_time=None,
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
        self.max_grad_norm = max_grad_norm
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.max_time = max_time
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
        "max_grad_norm": None,
        "max_time": None,
    }
    # Architecture entries that files of 0.1.0 lack; the network's default stands in.
    _architecture_entries_added = ("latent_activation",)
    _tuple_parameters = ("hidden_layer_sizes",)
    _network_builder = staticmethod(build_autoencoder)
    _parameter_count = staticmethod(dense_parameter_count)
    # Integer parameters that a bool would silently satisfy.
    _count_parameters = ("latent_dim", "batch_size", "max_iter", "n_iter_no_change")

    def _make_architecture(self, n_features, *, warn):
        """The sizes the network is built from, for data of ``n_features`` columns."""
        if warn:
            warn_if_overcomplete(self.latent_dim, n_features)
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
