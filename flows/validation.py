"""The ingest's side of the validator process (expectations/child.py).

    validator = ValidatorProcess.start(log_dir)      at the start of the flow: GX imports meanwhile
    ...  load, then close the DuckDB connection  ...
    summary = validator.validate(request, log=…)     → ValidationSummary, or one PipelineError
    validator.stop()                                 always (idempotent): never leaves a child behind

The CLI starts one even earlier, before it starts a temporary Prefect server (:func:`prestart`):
the flow then takes that one (:meth:`ValidatorProcess.take_or_start`), so GX imports while the
server starts.

Great Expectations is imported only in that process, so its seconds of import overlap the ingest
and its memory never adds to the ingest's. Any way the child can fail — an exception, a crash,
a kill, a hang — becomes one error here, naming the child's log for the traceback.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from expectations.model import ValidationSummary
from warehouse import errors
from warehouse.errors import ConfigError, LoadError, PipelineError, ValidationError

TIMEOUT_ENV = "INFOBOX_VALIDATION_TIMEOUT_SECONDS"
# From the request to the answer: imports (seconds; a minute on a loaded machine) and every check
# over the whole history (minutes for 20,000 revisions). A crashed or killed child is noticed at
# once (its pipe closes): this only bounds a child that hangs.
DEFAULT_TIMEOUT_SECONDS = 3600.0
STOP_GRACE_SECONDS = 10.0  # SIGTERM, then SIGKILL

log = logging.getLogger(__name__)


def validation_timeout() -> float:
    raw = os.environ.get(TIMEOUT_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_TIMEOUT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{TIMEOUT_ENV}: {raw!r} is not a number of seconds") from None
    if value <= 0:
        raise ConfigError(f"{TIMEOUT_ENV}: {raw!r} must be more than 0 seconds")
    return value


class ValidatorProcess:
    """A started ``python -m expectations.child``: validates once, when asked."""

    def __init__(self, proc: subprocess.Popen, stderr_file, log_dir: Path):
        self.proc = proc
        self._stderr = stderr_file
        self._log_dir = Path(log_dir)
        self._answers: queue.Queue = queue.Queue()
        self.ready: dict | None = None
        self.finished: dict | None = None
        threading.Thread(target=self._read, daemon=True, name="validator-answers").start()

    @classmethod
    def start(cls, log_dir: Path) -> ValidatorProcess:
        """Start the child now; it imports GX and waits for :meth:`validate`."""
        stderr_file = tempfile.TemporaryFile(prefix="infobox-validator-")
        proc = subprocess.Popen(
            [sys.executable, "-m", "expectations.child", "--parent", str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr_file,
            env=dict(os.environ), close_fds=True)
        return cls(proc, stderr_file, log_dir)

    @classmethod
    def take_or_start(cls, log_dir: Path) -> ValidatorProcess:
        """The validator this process started ahead for ``log_dir`` (see :func:`prestart`), if it
        is still waiting, else a new one."""
        ready = _PRESTARTED.pop(Path(log_dir).resolve(), None)
        if ready is not None and ready.proc.poll() is None:
            return ready
        if ready is not None:
            ready.stop()
        return cls.start(log_dir)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        try:
            for line in self.proc.stdout:
                try:
                    self._answers.put(json.loads(line))
                except ValueError:
                    self._answers.put({"event": "garbled", "line": line[:200].decode(errors="replace")})
        finally:
            self._answers.put(None)  # end of the pipe: the child exited

    def validate(self, request: dict, *, on_log: Callable[[int, str], None] | None = None,
                 timeout: float | None = None) -> ValidationSummary:
        """Send ``request`` (see expectations/child.py), wait for the summary.

        The caller must have closed its own connection to the database: the child opens it."""
        timeout = validation_timeout() if timeout is None else timeout
        deadline = time.monotonic() + timeout
        try:
            self.proc.stdin.write((json.dumps(request, default=str) + "\n").encode())
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass  # it died already: its pipe has ended, the loop below says how
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ValidationError(
                        f"validation did not finish within {timeout:g} s (raise {TIMEOUT_ENV} for "
                        f"a very long history); its process was stopped{self._log_hint()}")
                try:
                    answer = self._answers.get(timeout=min(left, 1.0))
                except queue.Empty:
                    continue
                if answer is None:
                    raise ValidationError(f"the validation process ended without an answer "
                                          f"({self._exit_status()}){self._log_hint()}")
                event = answer.get("event")
                if event == "ready":
                    self.ready = answer
                elif event == "log":
                    if on_log:
                        on_log(int(answer["level"]), f"{answer['logger']}: {answer['message']}")
                elif event == "result":
                    self.finished = answer
                    from expectations.child import summary_from_json

                    return summary_from_json(answer["summary"])
                elif event == "error":
                    raise _error_from(answer, self._log_hint())
                else:
                    log.warning("validator: unexpected answer %r", answer)
        finally:
            self.stop()

    def _exit_status(self) -> str:
        try:
            code = self.proc.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            return "its output closed but it did not exit"
        if code < 0:
            import signal

            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"

    def _log_hint(self) -> str:
        """'; its log: PATH' with the child's stderr kept in the data dir, or '' if it is empty."""
        try:
            self._stderr.flush()
            self._stderr.seek(0)
            text = self._stderr.read()
        except (OSError, ValueError):
            return ""
        if not text.strip():
            return ""
        path = self._log_dir / f"validator-{time.strftime('%Y%m%d-%H%M%S')}-{self.proc.pid}.log"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text)
        except OSError:
            return ""
        return f"; its log: {path}"

    def stop(self) -> None:
        """End the child if it still runs (SIGTERM, then SIGKILL); safe to call again."""
        proc = self.proc
        if proc.stdin and not proc.stdin.closed:
            try:
                proc.stdin.close()  # a child still importing exits at its end of input
            except OSError:
                pass
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._stderr.close()


_PRESTARTED: dict[Path, ValidatorProcess] = {}


@contextmanager
def prestart(log_dir: Path) -> Iterator[None]:
    """Start a validator for the flow to take; stop it on exit if no flow took it. Inside another
    prestart for the same ``log_dir``, the outer one's validator is left to it."""
    key = Path(log_dir).resolve()
    if key in _PRESTARTED:
        yield
        return
    _PRESTARTED[key] = ValidatorProcess.start(key)
    try:
        yield
    finally:
        unused = _PRESTARTED.pop(key, None)
        if unused is not None:
            unused.stop()


def _error_from(answer: dict, hint: str) -> PipelineError:
    """The child's error as the same PipelineError class (by name), else one ValidationError."""
    name, message = answer.get("type", "Exception"), answer.get("message") or answer.get("type")
    if answer.get("pipeline"):
        cls = getattr(errors, name, None)
        if isinstance(cls, type) and issubclass(cls, PipelineError):
            return cls(message)
        return ValidationError(message)
    if answer.get("duckdb"):
        extra = (" — DuckDB ran out of memory; set INFOBOX_DUCKDB_MEMORY (e.g. 1GB) and run again"
                 if name == "OutOfMemoryException" else "")
        return LoadError(f"validation failed: {message}{extra}")
    return ValidationError(f"validation failed: {name}: {message}{hint}")
