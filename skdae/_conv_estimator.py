"""ConvDenoisingAutoencoder: a convolutional encoder and decoder, as an estimator.

Like :mod:`skdae._estimator`, the class holds only what is particular to its network:
the parameters, their constraints and the architecture they describe for the data.
Fitting, inference and persistence are the family's own, in
:class:`skdae._base.BaseAutoencoder`.
"""

from skdae._base import TRAINING_PARAMETER_CONSTRAINTS, BaseAutoencoder
from skdae._conv_network import (
    MAX_STAGES,
    UPSAMPLINGS,
    build_conv_autoencoder,
    conv_code_width,
    conv_parameter_count,
    resolve_image_shape,
)
from skdae._docstrings import fill
from skdae._network import ACTIVATIONS
from skdae._validation import (
    Integral,
    Interval,
    StrOptions,
    check_positive_sizes,
    warn_if_overcomplete,
)
from skdae.exceptions import InputError


@fill(max_iter=30)
class ConvDenoisingAutoencoder(BaseAutoencoder):
    """Denoising autoencoder with a convolutional PyTorch encoder and decoder.

    The convolutional member of the family: the same contract, corruptions, training
    and persistence as :class:`~skdae.DenoisingAutoencoder`, with a network that
    respects the spatial structure of images. ``X`` stays scikit-learn shaped, one
    flattened image per row; ``image_shape`` says how a row is laid out.

    The encoder is a stack of convolutions of stride 2, each halving the resolution
    (28x28 -> 14x14 -> 7x7 with the defaults), then ``bottleneck_layers`` convolutions
    at the coarsest resolution; the decoder mirrors it with transposed convolutions.
    With ``latent_dim`` a dense layer maps the coarsest feature map to a code of that
    width, which :meth:`transform` returns, so the estimator drops into a
    :class:`~sklearn.pipeline.Pipeline` next to :class:`~sklearn.decomposition.PCA`.
    With ``latent_dim=None`` the code is the coarsest feature map itself (``channels[-1]
    * 7 * 7`` values for MNIST): a purely convolutional network, which denoises best,
    though its code is wider than the input (an overcomplete autoencoder, which learns
    more than the identity only because the input is corrupted).

    Parameters
    ----------
    latent_dim : int or None, default=64
        Width of the dense code layer returned by :meth:`transform`. None leaves the
        network purely convolutional: the code is the last feature map, flattened.

    image_shape : 'auto' or tuple of int, default='auto'
        The image one row holds: ``(height, width)``, ``(channels, height, width)``
        (rows flattened channels first, as ``images.reshape(n, -1)`` of an ``(n, C, H,
        W)`` array gives), or ``(length,)`` for 1-D signals. Its values must multiply
        to ``n_features``. ``'auto'`` infers only square single-channel images, when
        ``n_features`` is a perfect square (784 -> 1x28x28); any other width is read
        as a 1-D signal with an :class:`~skdae.exceptions.ImageShapeWarning` that
        names the images it could be (3072: ``(3, 32, 32)``). Pass the shape of
        colour images: 'auto' reads a square width as one channel, so RGBA 28x28
        (3136 values) would be read as 1x56x56.

    channels : tuple of int, default=(32, 32)
        Output channels of each stride-2 stage of the encoder; the decoder mirrors
        them. Each stage halves the resolution; the cost of an epoch grows with the
        product of successive widths (doubling both doubles to quadruples it), and at
        most 8 stages are allowed. ``(32, 64)``, the default before 0.4, denoises
        MNIST about 0.4 dB better after 20 epochs at nearly twice the cost of an epoch
        and of a prediction, and about 0.2 dB better given the same training time (user
        guide, "Images").

    kernel_size : int, default=3
        Side of every convolution's kernel; odd, so that the decoder restores every
        size exactly. 5 costs about 2.8x the multiply-adds of 3.

    bottleneck_layers : int, default=1
        Stride-1 convolutions at the coarsest resolution, in the encoder and again in
        the decoder. They add depth where it is cheapest (a 7x7 map for MNIST): one
        costs about a third more per epoch than none, and denoises measurably better.

    residual_blocks : int, default=0
        Residual blocks (``x + conv(act(conv(x)))``) after each encoder stage and
        before each decoder stage's upsampling, at that stage's resolution. They add
        depth at full width without losing detail to the strided convolutions: what
        natural images need (two per stage, with ``upsampling='pixel_shuffle'``, is
        the setting the image benchmark documents), where digits do without. Each
        costs two convolutions per stage, twice.

    upsampling : {'transpose', 'pixel_shuffle'}, default='transpose'
        How each decoder stage doubles the resolution: a transposed convolution of
        stride 2, or a sub-pixel convolution (a stride-1 convolution to 4x the
        channels rearranged by ``PixelShuffle``), which gives no checkerboard
        pattern and suits photographs, at about twice the upsampling's cost.

    activation : {'relu', 'leaky_relu', 'elu', 'gelu', 'tanh', 'sigmoid', 'identity'}, \
default='relu'
        Activation after every convolution (and dense layer) but the last.

    latent_activation : {'auto', 'relu', 'leaky_relu', 'elu', 'gelu', 'tanh', \
'sigmoid', 'identity'}, default='auto'
        Activation of the code, whose values :meth:`transform` returns; ``'auto'``
        uses ``activation``.

%(training_parameters)s

    Attributes
    ----------
    module_ : torch.nn.Module
        The fitted network, with ``encoder``, ``decoder`` and ``output_activation``
        submodules; each takes and returns flat rows.

    image_shape_ : tuple of int
        ``(channels, *spatial)``: the image shape a row is read as (``image_shape``
        resolved for the data of the first fit).

%(fitted_attributes)s

    See Also
    --------
    skdae.DenoisingAutoencoder : The dense member of the family, for tables and for
        the fastest epochs.
    sklearn.decomposition.PCA : Linear dimensionality reduction.

    Notes
    -----
    On a CPU an epoch costs about four times the dense default's (MNIST, 2 cores: 9 s
    against 2 s), which is why ``max_iter`` defaults to 30; in return the network
    denoises better in fewer epochs (MNIST, Gaussian noise of std 0.4: 21.4 dB with the
    64-d code and 21.6 dB with ``latent_dim=None`` after 30 epochs, against 20.4 dB for
    the dense default after 50), and on other images too (see the user guide).
    ``fit(X, y)`` ignores ``y``, as the dense estimator does; pre-corrupted pairs go in
    as ``fit(X_clean, X_noisy=X_noisy)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdae import ConvDenoisingAutoencoder
    >>> X = np.random.RandomState(0).rand(20, 64)  # 20 images of 8x8
    >>> dae = ConvDenoisingAutoencoder(latent_dim=4, channels=(4, 8), max_iter=2,
    ...                                random_state=0)
    >>> dae.fit(X)
    ConvDenoisingAutoencoder(channels=(4, 8), latent_dim=4, max_iter=2,
                             random_state=0)
    >>> dae.image_shape_
    (1, 8, 8)
    >>> dae.transform(X).shape
    (20, 4)
    >>> dae.predict(X).shape
    (20, 64)
    """

    _parameter_constraints: dict = {
        "latent_dim": [Interval(Integral, 1, None, closed="left"), None],
        "image_shape": [StrOptions({"auto"}), tuple, list],
        "channels": ["array-like"],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "bottleneck_layers": [Interval(Integral, 0, None, closed="left")],
        "residual_blocks": [Interval(Integral, 0, None, closed="left")],
        "upsampling": [StrOptions(set(UPSAMPLINGS))],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "latent_activation": [StrOptions({"auto", *ACTIVATIONS})],
        **TRAINING_PARAMETER_CONSTRAINTS,
    }

    def __init__(
        self,
        latent_dim=64,
        *,
        image_shape="auto",
        channels=(32, 32),
        kernel_size=3,
        bottleneck_layers=1,
        residual_blocks=0,
        upsampling="transpose",
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
        max_iter=30,
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
        self.image_shape = image_shape
        self.channels = channels
        self.kernel_size = kernel_size
        self.bottleneck_layers = bottleneck_layers
        self.residual_blocks = residual_blocks
        self.upsampling = upsampling
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

    # What models saved before 0.4 lack: they were trained without clipping or a
    # time limit.
    _parameters_of_old_models = {"max_grad_norm": None, "max_time": None}
    _tuple_parameters = ("image_shape", "channels")
    # Files written before 0.4 hold neither: the network's defaults stand in.
    _architecture_entries_added = ("residual_blocks", "upsampling")
    _network_builder = staticmethod(build_conv_autoencoder)
    _parameter_count = staticmethod(conv_parameter_count)
    _code_width_of = staticmethod(conv_code_width)
    # Integer parameters that a bool would silently satisfy.
    _count_parameters = (
        "latent_dim",
        "kernel_size",
        "bottleneck_layers",
        "residual_blocks",
        "batch_size",
        "max_iter",
        "n_iter_no_change",
    )

    @property
    def image_shape_(self):
        """The image shape each row is read as: ``(channels, *spatial)``."""
        return self._architecture["image_shape"]

    def _make_architecture(self, n_features, *, warn):
        """The network's description for data of ``n_features`` columns."""
        image_shape = resolve_image_shape(self.image_shape, n_features, warn=warn)
        channels = check_positive_sizes(self.channels, "channels", example="(32, 32)")
        if not 1 <= len(channels) <= MAX_STAGES:
            raise InputError(
                f"channels must give 1 to {MAX_STAGES} stages (each halves the image); "
                f"got {len(channels)}: {self.channels!r}."
            )
        if self.kernel_size % 2 == 0:
            raise InputError(
                f"kernel_size must be odd (such as 3 or 5), so that the decoder restores "
                f"the image's size exactly; got {self.kernel_size}."
            )
        if warn:
            warn_if_overcomplete(self.latent_dim, n_features)
        return {
            "n_features": n_features,
            "image_shape": image_shape,
            "channels": channels,
            "kernel_size": int(self.kernel_size),
            "bottleneck_layers": int(self.bottleneck_layers),
            "residual_blocks": int(self.residual_blocks),
            "upsampling": self.upsampling,
            "latent_dim": None if self.latent_dim is None else int(self.latent_dim),
            "activation": self.activation,
            "latent_activation": (
                self.activation if self.latent_activation == "auto" else self.latent_activation
            ),
            "output_activation": self.output_activation_,
        }
