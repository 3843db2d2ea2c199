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


def test_a_signal_surfacing_as_a_duckdb_error_still_cancels_the_run():
    """A SIGTERM that DuckDB notices mid-query comes back as DuckDB's own error, without the
    handler's exception: the run is cancelled, not failed (seen once in CI as 'failed')."""
    import duckdb
    from prefect.exceptions import TerminationSignal

    from flows.ingest import _run_end
    from warehouse.errors import LoadError

    def raised(exc, context=None):
        try:
            try:
                if context is not None:
                    raise context
            finally:
                raise exc
        except BaseException as caught:
            return caught

    # What DuckDB 2.0.1 raises when a handler raises during a query (checked below for real).
    assert _run_end(raised(RuntimeError("Query interrupted")), RuntimeError("Query interrupted")) == (
        "cancelled", "stopped by a signal during a DuckDB query")
    bare = raised(duckdb.InterruptException("INTERRUPT Error: Interrupted!"))
    assert _run_end(bare, LoadError("the run: interrupted")) == (
        "cancelled", "stopped by a signal during a DuckDB query")
    after_term = raised(duckdb.InterruptException("INTERRUPT Error: Interrupted!"),
                        TerminationSignal(signal=15))
    assert _run_end(after_term, LoadError("x")) == ("cancelled", "stopped by SIGTERM")
    after_ctrl_c = raised(duckdb.TransactionException("transaction is aborted"), KeyboardInterrupt())
    assert _run_end(after_ctrl_c, LoadError("x")) == ("cancelled", "interrupted (Ctrl-C / SIGINT)")
    broken = raised(duckdb.ConstraintException("Duplicate key"))
    assert _run_end(broken, LoadError("batch 3: duplicate key")) == ("failed", "batch 3: duplicate key")
    assert _run_end(ValueError("bug"), ValueError("bug")) == ("failed", "ValueError: bug")


def test_duckdb_replaces_a_signal_handler_exception_by_its_own():
    """The fact the classification above relies on, checked on the DuckDB we ship: a handler that
    raises while a query runs gives RuntimeError('Query interrupted'), the handler's exception lost."""
    import os
    import signal
    import threading

    import duckdb

    class Stop(BaseException):
        pass

    def stop(*_args):
        raise Stop()

    previous = signal.signal(signal.SIGUSR1, stop)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGUSR1))
    try:
        timer.start()
        with pytest.raises(BaseException) as caught:
            duckdb.connect().execute("SELECT count(*) FROM range(20000000000) a").fetchall()
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, previous)
    from flows.ingest import _run_end

    assert _run_end(caught.value, caught.value)[0] == "cancelled", repr(caught.value)


def test_the_signal_duckdb_reported_is_named_and_raised_again():
    """signals_noted records a SIGTERM that DuckDB turned into 'Query interrupted': the run says
    'stopped by SIGTERM' and the flow raises Prefect's TerminationSignal (the CLI exits 143)."""
    import threading

    import duckdb
    from prefect.exceptions import TerminationSignal

    from flows.ingest import _run_end, _signal_exception
    from flows.signals import signals_noted

    class Stop(BaseException):
        pass

    def stop(*_args):
        raise Stop()

    previous = signal.signal(signal.SIGTERM, stop)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGTERM))
    try:
        with signals_noted() as received:
            timer.start()
            with pytest.raises(BaseException) as caught:
                duckdb.connect().execute("SELECT count(*) FROM range(20000000000) a").fetchall()
        assert signal.getsignal(signal.SIGTERM) is stop  # restored
    finally:
        timer.cancel()
        signal.signal(signal.SIGTERM, previous)
    assert received == [signal.SIGTERM]
    assert isinstance(_signal_exception(caught.value, received), TerminationSignal)
    assert _run_end(caught.value, caught.value, received) == ("cancelled", "stopped by SIGTERM")
    assert _signal_exception(caught.value, []) is None
    assert isinstance(_signal_exception(caught.value, [signal.SIGINT]), KeyboardInterrupt)
