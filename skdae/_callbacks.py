"""scikit-learn's callbacks (``sklearn.callback``, new in 1.9) for the autoencoders' fits.

A fit is one task of ``n_epochs`` subtasks, one per epoch (None when ``max_time``
decides how many), so that ``set_callbacks(ProgressBar())`` draws an epoch bar, inside
a ``Pipeline`` or a search too (scikit-learn propagates its callbacks to the steps).
Batches are not subtasks: at 469 batches an MNIST epoch, a hook per batch would cost
more than it shows. With scikit-learn older than 1.9 there are no callbacks and nothing
here does anything.
"""

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9

    class CallbackSupportMixin:
        """Stands in for scikit-learn's mixin where it does not exist (before 1.9)."""


CALLBACKS_SUPPORTED = hasattr(CallbackSupportMixin, "_init_callback_context")


class EpochTasks:
    """The callback tasks of one call to ``fit`` or ``partial_fit``: the call, and one
    subtask per epoch. Every method does nothing when no callback is set."""

    def __init__(self, estimator, X, n_epochs):
        self._estimator, self._X = estimator, X
        self._root = None
        self._epoch = None
        if CALLBACKS_SUPPORTED and _has_callbacks(estimator):
            self._root = estimator._init_callback_context(max_subtasks=n_epochs)
            self._root.call_on_fit_task_begin(estimator=estimator, X=X)

    def epoch_begins(self):
        if self._root is not None:
            self._epoch = self._root.subcontext(task_name="epoch")
            self._epoch.call_on_fit_task_begin(estimator=self._estimator, X=self._X)

    def epoch_ends(self, loss):
        """Tell the callbacks an epoch ended; True when one of them asks to stop."""
        if self._epoch is None:
            return False
        epoch, self._epoch = self._epoch, None
        return epoch.call_on_fit_task_end(
            estimator=self._estimator,
            X=self._X,
            metadata={"loss": loss},
            reconstruction_attributes=self._fitted_attributes,
        )

    def fit_ends(self):
        if self._root is not None:
            self._root.call_on_fit_task_end(
                estimator=self._estimator,
                X=self._X,
                reconstruction_attributes=self._fitted_attributes,
            )

    def _fitted_attributes(self):
        """What makes a copy of the estimator a fitted model (read lazily, when a
        callback asks for ``fitted_estimator``)."""
        estimator = self._estimator
        names = [field.name for field in estimator._fitted_fields] + ["device_"]
        return {name: getattr(estimator, name) for name in names if hasattr(estimator, name)}


def _has_callbacks(estimator):
    return bool(getattr(estimator, "_skl_callbacks", None)) or hasattr(
        estimator, "_parent_callback_ctx"
    )
