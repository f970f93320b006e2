"""LatentSpaceDisplay: the codes of a fitted autoencoder in two dimensions."""

import numpy as np
from sklearn.decomposition import PCA
from sklearn.utils.validation import check_is_fitted

from skdae.plotting._base import import_pyplot


class LatentSpaceDisplay:
    """A 2-D scatter of latent codes, coloured by label.

    Codes wider than 2 are projected on their first two principal components; codes
    of width 1 are drawn on a line (the second coordinate is 0).

    Parameters
    ----------
    embedding : ndarray of shape (n_samples, 2)
        The points to draw.

    labels : array-like of shape (n_samples,) or None, default=None
        Colours the points (e.g. the digit).

    title : str, default='Latent codes'
        Title of the axes.

    Attributes
    ----------
    scatter_ : matplotlib PathCollection
        The points.

    ax_ : matplotlib Axes
        The axes drawn on.

    figure_ : matplotlib Figure
        The figure holding the axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skdae import DenoisingAutoencoder
    >>> from skdae.plotting import LatentSpaceDisplay
    >>> X = np.random.RandomState(0).rand(30, 8)
    >>> dae = DenoisingAutoencoder(
    ...     latent_dim=3, hidden_layer_sizes=(6,), max_iter=2, random_state=0
    ... ).fit(X)
    >>> display = LatentSpaceDisplay.from_estimator(dae, X, np.arange(30) % 3)
    >>> display.embedding.shape
    (30, 2)
    """

    def __init__(self, embedding, labels=None, *, title="Latent codes"):
        self.embedding = embedding
        self.labels = labels
        self.title = title

    @classmethod
    def from_estimator(cls, estimator, X, y=None, *, ax=None):
        """Encode ``X`` and plot the codes (projected to 2-D if wider).

        Parameters
        ----------
        estimator : DenoisingAutoencoder
            A fitted model.

        X : array-like of shape (n_samples, n_features)
            Data to encode.

        y : array-like of shape (n_samples,), default=None
            Labels that colour the points.

        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.

        Returns
        -------
        display : LatentSpaceDisplay
            The plotted display.
        """
        check_is_fitted(estimator)
        codes = np.asarray(estimator.transform(X))
        title = "Latent codes"
        if codes.shape[1] > 2:
            codes = PCA(n_components=2, random_state=0).fit_transform(codes)
            title = f"Latent codes ({estimator.latent_dim}-d, first 2 principal components)"
        elif codes.shape[1] == 1:
            codes = np.column_stack([codes[:, 0], np.zeros(len(codes))])
            title = "Latent codes (1-d)"
        return cls(codes, y, title=title).plot(ax=ax)

    def plot(self, *, ax=None):
        """Draw the scatter.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.

        Returns
        -------
        display : LatentSpaceDisplay
            This display, with ``scatter_``, ``ax_`` and ``figure_`` set.
        """
        plt = import_pyplot("LatentSpaceDisplay.plot")
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 5))
        embedding = np.asarray(self.embedding)
        colours = {} if self.labels is None else {"c": self.labels, "cmap": "tab10"}
        self.scatter_ = ax.scatter(embedding[:, 0], embedding[:, 1], s=6, alpha=0.7, **colours)
        if self.labels is not None:
            ax.legend(*self.scatter_.legend_elements(), title="label", loc="best", fontsize=7)
        ax.set(title=self.title, xlabel="component 1", ylabel="component 2")
        self.ax_, self.figure_ = ax, ax.figure
        return self
