"""What the CLI does with failures it did not foresee, and with Ctrl-C and SIGTERM.

A :class:`~warehouse.errors.PipelineError` is explained by the command itself in one ``error:``
line. Anything else is a bug or an environment problem: the user gets one ``error:`` line naming
the exception and the path of a log file holding the full traceback
(``<data dir>/logs/infobox-<time>.log``), and exit code 1. Ctrl-C exits 130 and SIGTERM 143,
each with one line saying that committed batches are kept.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import traceback
from datetime import datetime
from pathlib import Path

import click
import typer
from typer.core import TyperGroup

EXIT_ERROR, EXIT_INTERRUPTED, EXIT_TERMINATED = 1, 130, 143


class Terminated(KeyboardInterrupt):
    """SIGTERM received outside a Prefect flow (inside one, Prefect raises TerminationSignal).

    A KeyboardInterrupt subclass so that every ``except KeyboardInterrupt`` cleanup also runs.
    """


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def install_sigterm_handler() -> None:
    """Turn SIGTERM into an exception so ``finally`` blocks (server stop, run row) run."""
    try:
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread (an embedding application): leave signals alone
        pass


def log_dir(params: dict) -> Path:
    """``logs/`` beside the command's warehouse (``--db``), else ``data/logs``; a temp dir if unwritable."""
    from warehouse.db import DEFAULT_DB

    base = params.get("db") or DEFAULT_DB
    candidates = [Path(base).parent / "logs", Path(tempfile.gettempdir()) / "infobox-logs"]
    if os.environ.get("INFOBOX_LOG_DIR"):
        candidates.insert(0, Path(os.environ["INFOBOX_LOG_DIR"]))
    for directory in candidates:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            if os.access(directory, os.W_OK):
                return directory
        except OSError:
            continue
    return Path(tempfile.gettempdir())


def write_log(exc: BaseException, directory: Path) -> Path:
    stamp = datetime.now()
    path = directory / f"infobox-{stamp.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(f"time: {stamp.isoformat(timespec='seconds')}\n")
        fh.write(f"command: {' '.join(sys.argv)}\n")
        fh.write(f"python: {sys.version.split()[0]}\n\n")
        fh.write("".join(traceback.format_exception(exc)))
    return path


def explain_unexpected(exc: BaseException, params: dict) -> None:
    """Print one ``error:`` line naming the exception and where its traceback was written."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if len(first) > 200:
        first = first[:200] + "…"
    try:
        where = f"full traceback in {write_log(exc, log_dir(params))}"
    except OSError as log_exc:
        where = f"the traceback could not be written: {log_exc}"
    typer.secho(f"error: unexpected {type(exc).__name__}{': ' + first if first else ''} ({where})",
                err=True, fg="red")


def explain_interrupt(exc: KeyboardInterrupt) -> int:
    what = "stopped by SIGTERM" if _is_sigterm(exc) else "interrupted"
    typer.secho(f"{what}: batches already committed are kept; run again to finish.",
                err=True, fg="yellow")
    return EXIT_TERMINATED if _is_sigterm(exc) else EXIT_INTERRUPTED


def _is_sigterm(exc: BaseException) -> bool:
    if isinstance(exc, Terminated):
        return True
    try:
        from prefect.exceptions import TerminationSignal
    except ImportError:  # pragma: no cover - prefect is a dependency
        return False
    return isinstance(exc, TerminationSignal)


class GuardedGroup(TyperGroup):
    """Every command runs inside the same net: unexpected exceptions and signals explained."""

    def invoke(self, ctx: click.Context):
        install_sigterm_handler()
        # The subcommand's own context is gone when its exception arrives here: keep its arguments.
        args = [*getattr(ctx, "_protected_args", []), *ctx.args]
        try:
            return super().invoke(ctx)
        except (typer.Exit, click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt as exc:
            raise typer.Exit(explain_interrupt(exc)) from None
        except BrokenPipeError as exc:
            if not _stdout_closed():
                explain_unexpected(exc, _db_argument(args))
                raise typer.Exit(EXIT_ERROR) from None
            # `infobox … | head`: the reader has what it wanted. End quietly, as
            # click does (exit 1, no message), and keep the final flush of stdout from failing.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except Exception as exc:
            if _is_usage_flow(exc):  # typer vendors click: its usage errors are not click's classes
                raise
            explain_unexpected(exc, _db_argument(args))
            raise typer.Exit(EXIT_ERROR) from None
        except BaseException as exc:
            if _is_sigterm(exc):
                raise typer.Exit(explain_interrupt(exc)) from None
            raise


EXIT_BROKEN_PIPE = 1  # as click does when its own output meets EPIPE


def _stdout_closed() -> bool:
    """True when standard output is a pipe whose reader has gone (poll reports an error on it)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _fd, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):  # no real file behind stdout
        return False


def _is_usage_flow(exc: BaseException) -> bool:
    """A click-style usage error, exit or abort (click's or the copy typer ships): not a crash."""
    return any(cls.__name__ in ("ClickException", "Exit", "Abort") for cls in type(exc).__mro__)


def _db_argument(args: list[str]) -> dict:
    """{"db": …} when the command line names a warehouse (the log goes beside it)."""
    for i, arg in enumerate(args):
        if arg == "--db" and i + 1 < len(args):
            return {"db": args[i + 1]}
        if arg.startswith("--db="):
            return {"db": arg.split("=", 1)[1]}
    return {}
