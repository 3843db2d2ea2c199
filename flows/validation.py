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

A warm start: while ``infobox server --data-dir D`` runs, it keeps one SPARE validator that has
already imported GX (:class:`SpareKeeper`, recorded in ``D/validator.json``). A run on a warehouse
in D takes it (:func:`take_spare`, a Unix-socket connection) instead of starting a child of its
own; the keeper then starts the next spare. Anything wrong with the spare (no record, a stale one,
a refused or silent socket, another Python or code) is logged and the run starts its own child as
before: nothing depends on the spare.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from expectations.child import ROOT as CODE_ROOT
from expectations.child import client_env, peer_pid, pid_alive
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


class _Validator:
    """What the ingest uses of a validator: ``validate`` once, ``stop`` always, ``pid``, and the
    ``ready``/``finished`` answers (import and validation figures)."""

    def __init__(self, answers_from, log_dir: Path):
        self._log_dir = Path(log_dir)
        self._answers: queue.Queue = queue.Queue()
        self.ready: dict | None = None
        self.finished: dict | None = None
        threading.Thread(target=self._read, args=(answers_from,), daemon=True,
                         name="validator-answers").start()

    pid: int

    def _read(self, stream) -> None:
        try:
            for line in stream:
                try:
                    self._answers.put(json.loads(line))
                except ValueError:
                    self._answers.put({"event": "garbled", "line": line[:200].decode(errors="replace")})
        except (OSError, ValueError):
            pass  # a connection reset (or closed by stop): the end, below
        finally:
            self._answers.put(None)  # end of the pipe: the child exited

    def _send(self, request: dict) -> None:
        raise NotImplementedError

    def _exit_status(self) -> str:
        raise NotImplementedError

    def _log_hint(self) -> str:
        raise NotImplementedError

    def alive(self) -> bool:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def validate(self, request: dict, *, on_log: Callable[[int, str], None] | None = None,
                 timeout: float | None = None) -> ValidationSummary:
        """Send ``request`` (see expectations/child.py), wait for the summary.

        The caller must have closed its own connection to the database: the child opens it."""
        timeout = validation_timeout() if timeout is None else timeout
        deadline = time.monotonic() + timeout
        try:
            self._send(request)
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

    def _kept_log(self, text: bytes, pid: int) -> str:
        """'; its log: PATH' with ``text`` kept in the data dir, or '' if it is empty."""
        if not text.strip():
            return ""
        path = self._log_dir / f"validator-{time.strftime('%Y%m%d-%H%M%S')}-{pid}.log"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text)
        except OSError:
            return ""
        return f"; its log: {path}"


class ValidatorProcess(_Validator):
    """A started ``python -m expectations.child``: validates once, when asked."""

    def __init__(self, proc: subprocess.Popen, stderr_file, log_dir: Path):
        self.proc = proc
        self._stderr = stderr_file
        super().__init__(proc.stdout, log_dir)

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
    def take_or_start(cls, log_dir: Path) -> _Validator:
        """The validator this process took or started ahead for ``log_dir`` (see
        :func:`prestart`), if it is still waiting; else the spare of an ``infobox server`` on the
        data dir (``log_dir``'s parent), if one answers; else a new child."""
        key = Path(log_dir).resolve()
        ready = _PRESTARTED.pop(key, None)
        if ready is not None and ready.alive():
            return ready
        if ready is not None:
            ready.stop()
        return take_spare(key.parent, key) or cls.start(key)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _send(self, request: dict) -> None:
        self.proc.stdin.write((json.dumps(request, default=str) + "\n").encode())
        self.proc.stdin.close()

    def _exit_status(self) -> str:
        try:
            code = self.proc.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            return "its output closed but it did not exit"
        if code < 0:
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
        return self._kept_log(text, self.proc.pid)

    def stop(self) -> None:
        """End the child if it still runs (SIGTERM, then SIGKILL); safe to call again."""
        proc = self.proc
        if proc.stdin and not proc.stdin.closed:
            try:
                proc.stdin.close()  # a child still importing exits at its end of input
            except OSError:
                pass
        end_process(proc)
        self._stderr.close()


# ---------------------------------------------------------------- the spare of `infobox server`

SPARE_RECORD = "validator.json"
SPARE_SOCKET = "validator.sock"
HELLO_TIMEOUT_SECONDS = 5.0  # connect, and the spare's first line (it accepts on a thread of its own)


def spare_record_path(data_dir: Path) -> Path:
    return Path(data_dir) / SPARE_RECORD


class SpareValidator(_Validator):
    """A spare kept by ``infobox server``, taken by this process over its Unix socket.

    Not this process's child: ``stop`` closes the connection (the spare exits at its end) and waits
    for the process to be gone, by a pidfd (no pid reuse), with SIGTERM then SIGKILL if it stays."""

    def __init__(self, sock: socket.socket, reader, pid: int, pidfd: int | None, spare_log: str,
                 log_dir: Path):
        self._sock, self._reader, self._pid, self._pidfd = sock, reader, pid, pidfd
        self._closed = False
        self._spare_log = Path(spare_log) if spare_log else None
        self._lock = threading.Lock()
        super().__init__(reader, log_dir)

    @property
    def pid(self) -> int:
        return self._pid

    def alive(self) -> bool:
        return not self._gone(0)

    def _gone(self, timeout: float) -> bool:
        """Whether the spare has ended, waiting up to ``timeout`` seconds for it."""
        if self._pidfd is not None:
            try:
                return bool(select.select([self._pidfd], [], [], timeout)[0])
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + timeout
        while True:
            if not pid_alive(self._pid) or _zombie(self._pid):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def _send(self, request: dict) -> None:
        """The request in this process's terms: absolute paths, its environment and directory."""
        request = dict(request)
        for key in ("db", "data_dir"):
            if request.get(key):
                request[key] = os.path.abspath(request[key])
        request["env"] = client_env()
        request["cwd"] = os.getcwd()
        self._sock.sendall((json.dumps(request, default=str) + "\n").encode())
        # No shutdown of our side: the spare takes an end of the connection for this process's end.

    def _exit_status(self) -> str:
        how = ("it ended" if self._gone(STOP_GRACE_SECONDS)
               else "its connection closed but it did not exit")
        return f"{how}; a spare validator of `infobox server`, process {self._pid}"

    def _log_hint(self) -> str:
        if self._spare_log is None:
            return ""
        try:
            if self._spare_log.stat().st_size > 0:
                return f"; its log: {self._spare_log}"
        except OSError:
            pass
        return ""

    def _signal(self, signum: int) -> None:
        try:
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, signum)
            else:
                os.kill(self._pid, signum)
        except (ProcessLookupError, OSError):
            pass

    def stop(self) -> None:
        """Close the connection; make sure the spare is gone (SIGTERM, then SIGKILL). Idempotent."""
        with self._lock:
            if not self._closed:
                self._closed = True
                try:
                    self._sock.shutdown(socket.SHUT_RDWR)  # the spare sees the end at once
                except OSError:
                    pass
                self._sock.close()
                try:
                    self._reader.close()
                except (OSError, ValueError):
                    pass
            if not self._gone(STOP_GRACE_SECONDS):
                self._signal(signal.SIGTERM)
                if not self._gone(STOP_GRACE_SECONDS):
                    self._signal(signal.SIGKILL)
                    self._gone(STOP_GRACE_SECONDS)
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None


def _zombie(pid: int) -> bool:
    """A process that has exited and not been reaped yet (its files are closed already)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(") ", 1)[1][:1] in ("Z", "X")
    except (OSError, IndexError):
        return False


def take_spare(data_dir: Path, log_dir: Path | None = None) -> SpareValidator | None:
    """The spare validator of the ``infobox server`` recorded in ``data_dir``, taken for this
    process; None (logged at INFO) when there is none or it does not answer as it should."""
    data_dir = Path(data_dir).resolve()
    log_dir = Path(log_dir) if log_dir is not None else data_dir / "logs"
    path = spare_record_path(data_dir)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        sock_path, server_pid = str(record["socket"]), int(record["pid"])
    except FileNotFoundError:
        log.info("no spare validator recorded in %s: starting a validator for this run", data_dir)
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.info("unreadable spare validator record %s (%s): starting a validator for this run",
                 path, exc)
        return None
    if not pid_alive(server_pid):
        log.info("the spare validator record %s is stale (process %d is gone): starting a "
                 "validator for this run", path, server_pid)
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    pidfd = reader = None
    try:
        sock.settimeout(HELLO_TIMEOUT_SECONDS)
        sock.connect(sock_path)
        reader = sock.makefile("rb")
        hello = json.loads(reader.readline() or b"null")
        if not isinstance(hello, dict) or hello.get("event") != "hello":
            raise ValueError(f"not a hello: {hello!r}"[:200])
        pid = int(hello["pid"])
        # The keeper bound and listened: the socket's credentials are the server's, and the spare
        # is the server's child.
        peer = peer_pid(sock)
        if peer != server_pid or _parent_of(pid) not in (server_pid, None):
            raise ValueError(f"its socket belongs to process {peer} and it (process {pid}) is not "
                             f"a child of the recorded server {server_pid}")
        if hello.get("prefix") != sys.prefix or hello.get("root") != CODE_ROOT:
            raise ValueError(f"it runs {hello.get('root')} in {hello.get('prefix')}, this run "
                             f"{CODE_ROOT} in {sys.prefix}")
        if hasattr(os, "pidfd_open"):
            try:
                pidfd = os.pidfd_open(pid)
            except OSError:
                pidfd = None
        sock.settimeout(None)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if reader is not None:
            reader.close()
        sock.close()  # (the socket stays open while its reader is): the spare sees the end, exits
        if pidfd is not None:
            os.close(pidfd)
        log.info("the spare validator at %s cannot be used (%s): starting a validator for this "
                 "run", sock_path, exc)
        return None
    log.info("took the spare validator (process %d) of the server recorded in %s", pid, path)
    return SpareValidator(sock, reader, pid, pidfd, str(hello.get("log") or ""), log_dir)


def _parent_of(pid: int) -> int | None:
    """The parent of ``pid`` (from /proc), None where that cannot be read."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(") ", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


class SpareKeeper:
    """Keeps ONE spare validator for ``data_dir`` while ``infobox server`` runs.

    The spare listens on ``<tmp>/validator.sock`` (a ``mkdtemp`` directory under /tmp: a Unix
    socket path has at most 108 bytes); the socket is bound here at a temporary name, handed to
    the spare and renamed into place, so the path flips atomically from a taken spare to the next.
    The path and this process's pid are recorded in ``data_dir/validator.json``. A spare that is
    taken (it says so on its stdout) or dies is replaced at once; one that dies before it is ready
    is replaced after a growing pause (up to a minute), so a broken environment does not spin.
    Each spare's stderr goes to ``data_dir/logs/validator-spare-….log``, removed when it exits
    with code 0.
    """

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir).resolve()
        self.log_dir = self.data_dir / "logs"
        self.dir: Path | None = None
        self.socket_path: Path | None = None
        self.record: Path = spare_record_path(self.data_dir)
        self.current: subprocess.Popen | None = None
        self.started = 0  # spares started
        self.ready = threading.Event()  # the current spare has imported GX
        self._events: queue.Queue = queue.Queue()
        self._stopping = threading.Event()
        self._failures = 0
        self._thread: threading.Thread | None = None
        self._procs: list[subprocess.Popen] = []
        self._logs: dict[subprocess.Popen, Path] = {}

    def start(self) -> SpareKeeper:
        """Start the first spare and record it; a failure here is a warning (runs then start
        validators of their own), never the server's end."""
        try:
            base = "/tmp" if os.path.isdir("/tmp") else None
            self.dir = Path(tempfile.mkdtemp(prefix="infobox-v-", dir=base))
            self.socket_path = self.dir / SPARE_SOCKET
            self.log_dir.mkdir(parents=True, exist_ok=True)
            self._spawn()
            tmp = self.record.with_suffix(".tmp")
            tmp.write_text(json.dumps({"socket": str(self.socket_path), "pid": os.getpid(),
                                       "started_at": datetime.now().isoformat(timespec="seconds")}),
                           encoding="utf-8")
            tmp.replace(self.record)
        except OSError as exc:
            log.warning("no spare validator (runs start their own): %s", exc)
            self.stop()
            return self
        self._thread = threading.Thread(target=self._keep, daemon=True, name="spare-keeper")
        self._thread.start()
        return self

    def _spawn(self) -> None:
        n = self.started + 1
        tmp = self.dir / f"s{n}.tmp"
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        log_path = self.log_dir / f"validator-spare-{stamp}-{os.getpid()}-{n}.log"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(tmp))
            sock.listen(8)
            with log_path.open("ab") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "expectations.child", "--parent", str(os.getpid()),
                     "--listen-fd", str(sock.fileno()), "--log", str(log_path)],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                    env=dict(os.environ), pass_fds=(sock.fileno(),))
            os.replace(tmp, self.socket_path)  # the path now leads to this spare
        except BaseException:
            try:
                tmp.unlink()
            except OSError:
                pass
            raise
        finally:
            sock.close()  # the spare holds its own copy
        self.ready.clear()
        self.current = proc
        self._procs.append(proc)
        self._logs[proc] = log_path
        self.started = n  # (after ``current``: a reader of both never sees a count ahead)
        threading.Thread(target=self._watch, args=(proc, log_path), daemon=True,
                         name=f"spare-{proc.pid}").start()

    def _watch(self, proc: subprocess.Popen, log_path: Path) -> None:
        """The spare's lines to the keeper, then its end (reaped; its log removed if clean)."""
        for line in proc.stdout:
            try:
                event = json.loads(line).get("event")
            except (ValueError, AttributeError):
                continue
            self._events.put((proc, event))
        code = proc.wait()
        drop_log(log_path, code)
        self._events.put((proc, "exited"))

    def _keep(self) -> None:
        while not self._stopping.is_set():
            try:
                proc, event = self._events.get(timeout=1.0)
            except queue.Empty:
                continue
            if proc is not self.current:
                if event == "exited" and proc in self._procs:
                    self._procs.remove(proc)
                continue
            if event == "ready":
                self._failures = 0
                self.ready.set()
            elif event in ("taken", "exited"):
                if event == "exited":
                    self._procs.remove(proc)
                if event == "exited" and not self.ready.is_set():
                    self._failures += 1
                    pause = min(60.0, 2.0 ** self._failures)
                    log.warning("the spare validator (process %d) ended before it was ready "
                                "(exit code %s); the next one in %g s", proc.pid, proc.returncode,
                                pause)
                    if self._stopping.wait(pause):
                        return
                try:
                    self._spawn()
                except OSError as exc:  # e.g. the temporary directory was removed
                    log.warning("cannot start a spare validator: %s", exc)
                    self._stopping.wait(10.0)

    def wait_ready(self, timeout: float) -> bool:
        return self.ready.wait(timeout)

    def stop(self) -> None:
        """Stop keeping: the waiting spare ends, the record and the socket go. A spare already
        taken finishes its client's validation (it ends with that client)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
        remove_record(self.record, os.getpid())
        proc = self.current
        if proc is not None and proc.poll() is None and proc in self._procs:
            # Still waiting for a client? Take it ourselves, then end it: a spare a client took a
            # moment ago refuses us (or drops us from its queue) and is left to that client.
            # The probe stays connected until the spare has ended: a spare that saw its client
            # (us) go away first would stop with an error in its log, and the log would be kept.
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                try:
                    probe.settimeout(HELLO_TIMEOUT_SECONDS)
                    probe.connect(str(self.socket_path))
                    try:
                        ours = bool(probe.recv(1))
                    except TimeoutError:
                        ours = True  # a spare too busy to accept: no client has it either
                except OSError:
                    ours = False
                if ours:
                    end_process(proc)
                    drop_log(self._logs[proc], proc.returncode)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> SpareKeeper:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def drop_log(path: Path, code: int | None) -> None:
    """A spare's log is kept only when it may explain something: not after a clean exit, never
    empty."""
    try:
        if code == 0 or path.stat().st_size == 0:
            path.unlink()
    except OSError:
        pass


def end_process(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after STOP_GRACE_SECONDS; reaped."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def remove_record(path: Path, pid: int) -> None:
    """Remove the record if it still names ``pid`` (another server may have replaced it)."""
    try:
        if int(json.loads(path.read_text(encoding="utf-8"))["pid"]) == pid:
            path.unlink()
    except (OSError, ValueError, KeyError, TypeError):
        pass


_PRESTARTED: dict[Path, _Validator] = {}


@contextmanager
def prestart(log_dir: Path) -> Iterator[None]:
    """Take the server's spare validator, or start one, for the flow to take; stop it on exit if
    no flow took it. Inside another prestart for the same ``log_dir``, the outer one's validator
    is left to it."""
    key = Path(log_dir).resolve()
    if key in _PRESTARTED:
        yield
        return
    _PRESTARTED[key] = take_spare(key.parent, key) or ValidatorProcess.start(key)
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
