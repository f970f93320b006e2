"""CorruptionDisplay: clean images beside several corruptions of them (and their denoising)."""

import numpy as np

from skdae.plotting._base import axes_grid, import_pyplot, infer_image_shape, show_image


class CorruptionDisplay:
    """The same images under several corruptions, optionally with the model's output.

    Parameters
    ----------
    images : dict of str to ndarray of shape (n_images, n_features)
        Rows to show, in order, by label (e.g. ``"gaussian"``, ``"gaussian, denoised"``).

    image_shape : tuple of (int, int) or None, default=None
        Shape of one image; None means the square that holds ``n_features`` pixels.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes, shape (n_rows, n_images)
        One row per entry of ``images``.

    figure_ : matplotlib Figure
        The figure holding the axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skdae import GaussianNoise, MaskingNoise
    >>> from skdae.plotting import CorruptionDisplay
    >>> X = np.random.RandomState(0).rand(4, 16)
    >>> corruptions = {"gaussian": GaussianNoise(0.3), "masking": MaskingNoise(0.5)}
    >>> CorruptionDisplay.from_corruptions(X, corruptions).axes_.shape
    (3, 4)
    """

    def __init__(self, images, *, image_shape=None):
        self.images = images
        self.image_shape = image_shape

    @classmethod
    def from_corruptions(
        cls,
        X,
        corruptions,
        *,
        estimator=None,
        n_images=8,
        random_state=0,
        image_shape=None,
        ax=None,
    ):
        """Corrupt the first ``n_images`` rows of ``X`` with each corruption and plot.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Clean images.

        corruptions : dict of str to BaseCorruption
            The corruptions to compare, by label.

        estimator : DenoisingAutoencoder, default=None
            If given, a row of its denoised output follows each corrupted row.

        n_images : int, default=8
            Number of columns.

        random_state : int, RandomState instance or None, default=0
            Seeds the noise.

        image_shape : tuple of (int, int) or None, default=None
            Shape of one image.

        ax : array of matplotlib Axes, default=None
            Where to draw; None makes a new figure.

        Returns
        -------
        display : CorruptionDisplay
            The plotted display.
        """
        original = np.asarray(X)[:n_images]
        images = {"original": original}
        for label, corruption in corruptions.items():
            noisy = corruption.corrupt(original, random_state=random_state)
            images[label] = noisy
            if estimator is not None:
                images[f"{label}, denoised"] = estimator.predict(noisy)
        return cls(images, image_shape=image_shape).plot(ax=ax)

    def plot(self, *, ax=None):
        """Draw one row per entry of ``images``.

        Parameters
        ----------
        ax : array of matplotlib Axes, default=None
            Where to draw; None makes a new figure.

        Returns
        -------
        display : CorruptionDisplay
            This display, with ``axes_`` and ``figure_`` set.
        """
        plt = import_pyplot("CorruptionDisplay.plot")
        rows = list(self.images.items())
        n_images = len(rows[0][1])
        shape = infer_image_shape(np.asarray(rows[0][1]).shape[1], self.image_shape)
        fig, axes = axes_grid(plt, len(rows), n_images, ax)
        for r, (label, images) in enumerate(rows):
            for c in range(n_images):
                show_image(axes[r, c], images[c], shape)
            axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center")
        self.axes_, self.figure_ = axes, fig
        return self
