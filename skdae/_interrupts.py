"""Ctrl-C that stops a fit where it can stop cleanly.

Python raises ``KeyboardInterrupt`` between any two bytecodes of the main thread. A fit
keeps its state in several places (the weights, the optimizer, the curves, the epoch
count, early stopping's best); an interrupt between two updates of them would leave a
model whose parts disagree. So within :func:`interrupts_deferred`, Ctrl-C only takes effect where
:func:`check_interrupt` is called: at the start of every batch, where the fit knows how
to undo the epoch in progress. A batch takes milliseconds, so Ctrl-C still feels
immediate. A second Ctrl-C before the first was taken stops at once, as a user who
presses it twice asks.
"""

import signal
import threading
from contextlib import contextmanager


class _Deferral:
    """The process's one SIGINT deferral (signals go to the main thread only)."""

    def __init__(self):
        self.depth = 0
        self.previous = None  # the handler in place before the outermost block
        self.pending = False

    def handle(self, signum, frame):
        if self.pending:  # pressed twice: the user will not wait
            self.pending = False
            self.previous(signum, frame)
        else:
            self.pending = True


_deferral = _Deferral()


def _in_main_thread():
    return threading.current_thread() is threading.main_thread()


@contextmanager
def interrupts_deferred():
    """Within the block, Ctrl-C takes effect at :func:`check_interrupt` calls only; one
    that came after the last of them is delivered when the block ends.

    Nested blocks share the outermost one. Outside the main thread (which receives no
    signals), and where SIGINT is ignored, default-killing or handled outside Python,
    the block just runs.
    """
    if not _in_main_thread():
        yield
        return
    if _deferral.depth:
        _deferral.depth += 1
        try:
            yield
        finally:
            _deferral.depth -= 1
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):
        yield
        return
    # The order matters: Ctrl-C can land between any two of these lines, and no order
    # of them may leave the books saying a deferral is on when the handler is not ours.
    _deferral.previous, _deferral.pending = previous, False
    try:
        signal.signal(signal.SIGINT, _deferral.handle)
        _deferral.depth = 1
        yield
    finally:
        _deferral.depth = 0
        signal.signal(signal.SIGINT, previous)
        pending, _deferral.pending = _deferral.pending, False
        if pending:
            previous(signal.SIGINT, None)  # by default: raise KeyboardInterrupt here


def check_interrupt():
    """Act on a Ctrl-C that came since the last check: by default, raise
    ``KeyboardInterrupt`` here. Cheap (one attribute read) when none came."""
    if _deferral.pending and _in_main_thread():
        _deferral.pending = False
        _deferral.previous(signal.SIGINT, None)
