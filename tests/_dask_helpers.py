"""Estimators that kill the worker process fitting them, to test failure handling."""

import os
from pathlib import Path

from sklearn.base import BaseEstimator, TransformerMixin


class KillWorker(TransformerMixin, BaseEstimator):
    """Passes X through; its fit ends the process: never, the first time, or always.

    ``marker`` is a file that records that the first death happened, so that "once"
    dies on the first attempt only, whichever worker retries it.
    """

    def __init__(self, mode="never", marker=None):
        self.mode = mode
        self.marker = marker

    def fit(self, X, y=None):
        first_time = self.marker is not None and not Path(self.marker).exists()
        if self.mode == "always" or (self.mode == "once" and first_time):
            if self.marker is not None:
                Path(self.marker).touch()
            os._exit(1)  # what an out-of-memory kill or a segfault looks like
        return self

    def transform(self, X):
        return X
