"""A signal that arrives while a run writes its outcome waits until the write is done."""

from __future__ import annotations

import os
import signal

import pytest

from flows.signals import signals_deferred


class Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise Stop(signal.Signals(signum).name)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_inside_the_block_is_delivered_after_it(signum):
    previous = signal.signal(signum, _raise_stop)
    steps = []
    try:
        with pytest.raises(Stop, match=signal.Signals(signum).name):
            with signals_deferred() as received:
                os.kill(os.getpid(), signum)
                os.kill(os.getpid(), signum)
                steps.append("write finished")
        assert steps == ["write finished"]
        assert received == [signum, signum]
        assert signal.getsignal(signum) is _raise_stop  # the handler in force before is back
    finally:
        signal.signal(signum, previous)


def test_without_a_signal_nothing_is_delivered():
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        with signals_deferred() as received:
            pass
        assert received == []
        assert signal.getsignal(signal.SIGTERM) is _raise_stop
    finally:
        signal.signal(signal.SIGTERM, previous)
