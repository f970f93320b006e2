"""ReconstructionDisplay: original, noisy and denoised images, row above row."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from skdae.plotting._base import axes_grid, import_pyplot, infer_image_shape, show_image


class ReconstructionDisplay:
    """Original, noisy and denoised images side by side, one column per sample.

    Create it with :meth:`from_estimator`, or from arrays and then call :meth:`plot`.

    Parameters
    ----------
    original : ndarray of shape (n_images, n_features)
        Clean images.

    noisy : ndarray of shape (n_images, n_features)
        Corrupted images.

    denoised : ndarray of shape (n_images, n_features)
        The model's reconstructions of ``noisy``.

    image_shape : tuple of (int, int) or None, default=None
        Shape of one image; None means the square that holds ``n_features`` pixels.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes, shape (3, n_images)
        Rows: original, noisy, denoised.

    figure_ : matplotlib Figure
        The figure holding the axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skdae import DenoisingAutoencoder, GaussianNoise
    >>> from skdae.plotting import ReconstructionDisplay
    >>> X = np.random.RandomState(0).rand(30, 16)
    >>> dae = DenoisingAutoencoder(latent_dim=4, hidden_layer_sizes=(8,), max_iter=2).fit(X)
    >>> display = ReconstructionDisplay.from_estimator(dae, X, GaussianNoise(0.3), n_images=5)
    >>> display.axes_.shape
    (3, 5)
    """

    def __init__(self, original, noisy, denoised, *, image_shape=None):
        self.original = original
        self.noisy = noisy
        self.denoised = denoised
        self.image_shape = image_shape

    @classmethod
    def from_estimator(
        cls, estimator, X, corruption, *, n_images=10, random_state=0, image_shape=None, ax=None
    ):
        """Corrupt the first ``n_images`` rows of ``X``, denoise them and plot.

        Parameters
        ----------
        estimator : DenoisingAutoencoder
            A fitted model.

        X : array-like of shape (n_samples, n_features)
            Clean images; the first ``n_images`` are shown.

        corruption : BaseCorruption
            The noise to apply, e.g. ``GaussianNoise(0.4, clip=(0, 1))``.

        n_images : int, default=10
            Number of columns.

        random_state : int, RandomState instance or None, default=0
            Seeds the noise.

        image_shape : tuple of (int, int) or None, default=None
            Shape of one image.

        ax : array of 3 * n_images matplotlib Axes, default=None
            Where to draw; None makes a new figure.

        Returns
        -------
        display : ReconstructionDisplay
            The plotted display.
        """
        check_is_fitted(estimator)
        original = np.asarray(X)[:n_images]
        noisy = corruption.corrupt(original, random_state=random_state)
        denoised = estimator.predict(noisy)
        return cls(original, noisy, denoised, image_shape=image_shape).plot(ax=ax)

    def plot(self, *, ax=None):
        """Draw the grid.

        Parameters
        ----------
        ax : array of 3 * n_images matplotlib Axes, default=None
            Where to draw; None makes a new figure.

        Returns
        -------
        display : ReconstructionDisplay
            This display, with ``axes_`` and ``figure_`` set.
        """
        plt = import_pyplot("ReconstructionDisplay.plot")
        rows = (("original", self.original), ("noisy", self.noisy), ("denoised", self.denoised))
        n_images = len(self.original)
        shape = infer_image_shape(np.asarray(self.original).shape[1], self.image_shape)
        fig, axes = axes_grid(plt, 3, n_images, ax)
        for r, (label, images) in enumerate(rows):
            for c in range(n_images):
                show_image(axes[r, c], images[c], shape)
            axes[r, 0].set_ylabel(label)
        self.axes_, self.figure_ = axes, fig
        return self
