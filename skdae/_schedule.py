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
    warmup = min(MAX_WARMUP_EPOCHS, WARMUP_FRACTION * n_epochs)
    if position < warmup:
        return initial * position / warmup
    progress = min(1.0, (position - warmup) / max(n_epochs - warmup, 1e-12))
    decay = 0.5 * (1.0 + math.cos(math.pi * progress))
    return initial * (FINAL_FRACTION + (1.0 - FINAL_FRACTION) * decay)
