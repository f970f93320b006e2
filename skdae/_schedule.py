"""Learning-rate schedules: the rate at a position in training, measured in epochs."""

import math

LEARNING_RATE_SCHEDULES = ("constant", "cosine")
# The parameter also takes 'auto': cosine for fit, constant for a stream of partial_fit.
LEARNING_RATE_SETTINGS = ("auto", *LEARNING_RATE_SCHEDULES)

# The cosine schedule warms up linearly over the first tenth of the epochs, at most one
# epoch: Adam's second-moment estimates are poor in the first steps, and a full-size
# step then can throw the weights far off. It then decays along a half cosine to this
# fraction of the peak rather than to zero, so that partial_fit calls made after the
# schedule has run out still learn, slowly.
WARMUP_FRACTION = 0.1
MAX_WARMUP_EPOCHS = 1.0
FINAL_FRACTION = 0.01


def learning_rate_at(schedule, position, *, initial, n_epochs):
    """The learning rate ``position`` epochs into a schedule of ``n_epochs`` epochs.

    ``position`` counts the batch being taken: a fraction ``b / n_batches`` within an
    epoch, so the first step of a warm-up is never made at a rate of zero.

    Examples
    --------
    >>> learning_rate_at("constant", 3.5, initial=1e-3, n_epochs=10)
    0.001
    >>> learning_rate_at("cosine", 0.5, initial=1e-3, n_epochs=10)  # half-way up
    0.0005
    >>> round(learning_rate_at("cosine", 10, initial=1e-3, n_epochs=10), 8)
    1e-05
    """
    if schedule == "constant":
        return initial
    if schedule != "cosine":
        raise ValueError(f"Unknown learning-rate schedule {schedule!r}.")
    warmup = _warmup_epochs(n_epochs)
    if position < warmup:
        return initial * position / warmup
    return _cosine_down(initial, min(1.0, _decay_by_epochs(position, warmup, n_epochs)))


def _warmup_epochs(n_epochs):
    return min(MAX_WARMUP_EPOCHS, WARMUP_FRACTION * n_epochs)


def _decay_by_epochs(position, warmup, n_epochs):
    """How far along the decay ``position`` is, counted in epochs after the warm-up."""
    return (position - warmup) / max(n_epochs - warmup, 1e-12)


def _cosine_down(initial, progress):
    """The rate ``progress`` (in [0, 1]) of the way down the half cosine to the floor."""
    decay = 0.5 * (1.0 + math.cos(math.pi * progress))
    return initial * (FINAL_FRACTION + (1.0 - FINAL_FRACTION) * decay)


class ScheduleWithinTime:
    """The learning rate of a fit with a time budget (``max_time``): called with a
    position in epochs, as :func:`learning_rate_at` is, it also reads ``time_spent()``,
    the fraction of the budget used so far.

    The schedule runs on whichever budget is spent faster. The warm-up ends after its
    epochs or a tenth of the time, whichever comes first; the decay's progress is then
    the larger of its fractions of epochs and of time. So the rate reaches its floor
    when the time runs out however fast the machine is, and while the epochs stay
    ahead of the time's pace the rates are exactly those of :func:`learning_rate_at`.
    Called once for each step, in order: it remembers when the warm-up ended.

    Examples
    --------
    >>> spent = [0.0]
    >>> rate = ScheduleWithinTime("cosine", lambda: spent[0], initial=1e-3, n_epochs=100)
    >>> rate(0.5)  # half-way up the warm-up (one epoch): time is not the constraint
    0.0005
    >>> spent[0] = 0.1
    >>> rate(1.0)  # the warm-up ends: a tenth of the time and one epoch
    0.001
    >>> spent[0] = 0.55
    >>> round(rate(40), 6)  # half-way from there through the time: half-way down
    0.000505
    >>> spent[0] = 1.0
    >>> round(rate(80), 8)  # the time is up: the floor, 20 epochs early
    1e-05
    """

    def __init__(self, schedule, time_spent, *, initial, n_epochs):
        if schedule not in LEARNING_RATE_SCHEDULES:
            raise ValueError(f"Unknown learning-rate schedule {schedule!r}.")
        self.schedule = schedule
        self.time_spent = time_spent
        self.initial = initial
        self.n_epochs = n_epochs
        self._time_at_warmup_end = None

    def __call__(self, position):
        initial = self.initial
        if self.schedule == "constant":
            return initial
        spent = self.time_spent()
        warmup = _warmup_epochs(self.n_epochs)
        if self._time_at_warmup_end is None:
            if position < warmup and spent < WARMUP_FRACTION:
                # The expressions of learning_rate_at, so that its rates come out bit
                # for bit when the time is not the constraint.
                return max(initial * position / warmup, initial * spent / WARMUP_FRACTION)
            self._time_at_warmup_end = min(spent, WARMUP_FRACTION)
        by_epochs = _decay_by_epochs(position, warmup, self.n_epochs)
        start = self._time_at_warmup_end
        by_time = (spent - start) / (1.0 - start)
        return _cosine_down(initial, min(1.0, max(by_epochs, by_time, 0.0)))
