"""LossCurveDisplay: training and validation loss per epoch."""

from sklearn.utils.validation import check_is_fitted

from skdae.plotting._base import import_pyplot


class LossCurveDisplay:
    """Training (and validation) loss per epoch, on a log scale.

    Parameters
    ----------
    loss_curve : list of float
        Training loss of each epoch.

    validation_loss_curve : list of float or None, default=None
        Validation loss of each epoch.

    loss_name : str, default='loss'
        Label of the y axis.

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        The training line, then the validation line if any.

    ax_ : matplotlib Axes
        The axes drawn on.

    figure_ : matplotlib Figure
        The figure holding the axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skdae.plotting import LossCurveDisplay
    >>> display = LossCurveDisplay([0.3, 0.2, 0.15], [0.32, 0.22, 0.2]).plot()
    >>> len(display.lines_)
    2
    """

    def __init__(self, loss_curve, validation_loss_curve=None, *, loss_name="loss"):
        self.loss_curve = loss_curve
        self.validation_loss_curve = validation_loss_curve
        self.loss_name = loss_name

    @classmethod
    def from_estimator(cls, estimator, *, ax=None):
        """Plot a fitted model's ``loss_curve_`` and, if any, its validation loss.

        Parameters
        ----------
        estimator : DenoisingAutoencoder
            A fitted model.

        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.

        Returns
        -------
        display : LossCurveDisplay
            The plotted display.
        """
        check_is_fitted(estimator)
        scores = estimator.validation_scores_
        validation = [-s for s in scores] if scores else None
        name = {"bce": "binary cross-entropy", "mse": "mean squared error"}[estimator.loss_]
        return cls(estimator.loss_curve_, validation, loss_name=name).plot(ax=ax)

    def plot(self, *, ax=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.

        Returns
        -------
        display : LossCurveDisplay
            This display, with ``lines_``, ``ax_`` and ``figure_`` set.
        """
        plt = import_pyplot("LossCurveDisplay.plot")
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4), layout="constrained")
        epochs = range(1, len(self.loss_curve) + 1)
        self.lines_ = ax.semilogy(epochs, self.loss_curve, label="train")
        if self.validation_loss_curve:
            self.lines_ += ax.semilogy(epochs, self.validation_loss_curve, label="validation")
        ax.set(xlabel="epoch", ylabel=self.loss_name, title="Loss per epoch")
        ax.legend()
        self.ax_, self.figure_ = ax, ax.figure
        return self
