"""Ctrl-C machinery: a real SIGINT at every single line of it leaves nothing behind."""

import signal
from functools import partial

import pytest
from test_fitted_state import _sigint_at_line

from skdae._interrupts import check_interrupt, interrupts_deferred


def _deferred_work():
    with interrupts_deferred():
        with interrupts_deferred():  # nested
            check_interrupt()
        check_interrupt()


@pytest.mark.parametrize("work", [_deferred_work])
def test_a_sigint_at_any_line_is_delivered_once_and_leaves_no_state(work):
    """_sigint_at_line itself asserts the handler and the deferral depth are back as
    they were; here: the signal is never lost or doubled."""
    line = 1
    while True:
        error, sent, _ = _sigint_at_line(line, work, partial(int))
        if not sent:
            assert error is None
            break
        assert isinstance(error, KeyboardInterrupt), (line, error)
        line += 1
    assert line > 10  # the sweep went through the machinery


def test_the_handler_in_place_gets_the_deferred_signal():
    calls = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: calls.append(signum))
    try:
        with interrupts_deferred():
            signal.raise_signal(signal.SIGINT)
            assert calls == []  # held back
            check_interrupt()
            assert calls == [signal.SIGINT]  # delivered at the check point
            signal.raise_signal(signal.SIGINT)
        assert calls == [signal.SIGINT] * 2  # one left at the end: delivered on exit
    finally:
        signal.signal(signal.SIGINT, previous)


def test_pressing_twice_stops_at_once():
    with pytest.raises(KeyboardInterrupt), interrupts_deferred():
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)  # raises here, not at a check point
        pytest.fail("the second Ctrl-C did not stop the block")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
