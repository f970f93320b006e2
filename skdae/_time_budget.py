"""A fit's budget of training seconds (``max_time``): how much of it is spent."""

import time


class TimeBudget:
    """``seconds`` of training for one call to ``fit``.

    The clock runs inside the epochs only (each epoch's batches and its validation
    score, what ``epoch_times_`` counts), not in the setup before the first epoch nor
    in the callbacks between epochs: a callback that evaluates the model does not eat
    into the training it measures.

    Examples
    --------
    >>> budget = TimeBudget(60.0)
    >>> budget.used_up(), budget.fraction_spent()
    (False, 0.0)
    """

    # Read through the class so that tests can drive a fit with a clock of their own.
    clock = staticmethod(time.perf_counter)

    def __init__(self, seconds):
        self.seconds = float(seconds)
        self._spent_in_finished_epochs = 0.0
        self._epoch_started = None
        # Whether the budget ended an epoch before its last batch (the last epoch).
        self.cut_an_epoch = False

    def start_epoch(self):
        self._epoch_started = self.clock()

    def end_epoch(self):
        self._spent_in_finished_epochs += self.clock() - self._epoch_started
        self._epoch_started = None

    def spent(self):
        """Seconds of training so far, the epoch in progress included."""
        running = 0.0 if self._epoch_started is None else self.clock() - self._epoch_started
        return self._spent_in_finished_epochs + running

    def fraction_spent(self):
        return self.spent() / self.seconds

    def used_up(self):
        return self.spent() >= self.seconds

    def another_batch(self):
        """Whether the epoch in progress may take another batch; if not, it is cut."""
        if self.used_up():
            self.cut_an_epoch = True
            return False
        return True
