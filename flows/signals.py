"""Signals held back while a run writes how it ended.

When ``infobox serve`` is stopped, the flow-run subprocess gets Ctrl-C from the terminal and, a
moment later, SIGTERM from Prefect's runner shutting down. If the second signal lands while the
first one's handler is writing ``runs.status``, the write is interrupted and the row stays
``running``. :func:`signals_deferred` holds SIGINT and SIGTERM for the few milliseconds of that
write and delivers them afterwards to whatever handler was installed before.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

_HELD = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def signals_deferred() -> Iterator[list[int]]:
    """Run the block with SIGINT/SIGTERM recorded instead of handled; re-deliver them after.

    Outside the main thread Python cannot change handlers: the block then runs unprotected.
    Yields the list of signals received so far (for tests and logs).
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = {}

    def hold(signum, frame) -> None:
        received.append(signum)

    for signum in _HELD:
        previous[signum] = signal.signal(signum, hold)
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(received):
            log.info("delivering %s received while the run's outcome was written",
                     signal.Signals(signum).name)
            signal.raise_signal(signum)


@contextmanager
def signals_noted() -> Iterator[list[int]]:
    """Run the block with SIGINT/SIGTERM noted (in the yielded list) before the handler installed
    before handles them as usual.

    DuckDB replaces the exception a handler raises while a query runs by its own ("Query
    interrupted"), losing which signal it was; the list tells. Outside the main thread nothing is
    noted (Python cannot change handlers there)."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = {}

    def note(signum, frame):
        received.append(signum)
        handler = previous[signum]
        if callable(handler):
            return handler(signum, frame)
        if handler == signal.SIG_DFL:  # what the process would have done: die of it
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)
        return None  # SIG_IGN

    for signum in _HELD:
        previous[signum] = signal.signal(signum, note)
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
