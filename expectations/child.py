"""The validator process: ``python -m expectations.child --parent PID``.

``ingest`` starts this process at the start of its flow so that Great Expectations (seconds of
import, 150–220 MB) is imported on another core while the ingest reads, parses and loads, and so
that none of GX's memory counts in the ingest's process. The conversation, one JSON object per
line:

    child → parent   {"event": "ready", "import_seconds": …}        GX is imported
    parent → child   {"db": …, "run_id": …, "data_dir": …, "severities": …, "scheduled": …,
                      "approx_tolerance": …, "memory_limit": … | null, "wait_seconds": …}
                     (sent once the ingest has CLOSED its DuckDB connection: one writer per file)
    child → parent   {"event": "log", "level": …, "logger": …, "message": …}   any number
    child → parent   {"event": "result", "summary": {…}, "max_rss_kb": …, "seconds": …}
                  or {"event": "error", "type": …, "pipeline": bool, "duckdb": bool, "message": …}

The answers go on a pipe of their own (file descriptor 1 is pointed at stderr, so a stray print
of a library cannot break the conversation). An end of input before the request means the ingest
gave up: exit quietly. The process ignores SIGINT (a Ctrl-C reaches the whole process group; the
parent decides when to stop it) and exits when its parent dies.

A spare (``--listen-fd FD``, kept by ``infobox server``, flows/validation.py::SpareKeeper) imports
GX before anyone asks. It accepts ONE connection on the listening Unix socket FD (then closes it:
later connects are refused), and the conversation above runs over that connection, preceded by

    child → client   {"event": "hello", "pid": …, "log": …, "prefix": …, "root": …}

(``prefix``/``root``: its Python environment and code, which the client checks are its own). The
request of a spare also carries ``env`` (the client's INFOBOX_*, GX_*, TZ; applied before
validating, replacing the server's) and ``cwd``. On its stdout (a pipe to the keeper) it says
``{"event": "ready"}`` and ``{"event": "taken", "client": PID}``. Until taken it exits when the
server (its parent) dies; once taken it exits when its client does (EOF on the connection, or the
peer process gone) — it never keeps the database open for a client that is gone.

Must not import Prefect; imports only ``expectations`` and ``warehouse``.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from dataclasses import asdict
from pathlib import Path

from expectations.model import ExpectationOutcome, ValidationSummary

PARENT_POLL_SECONDS = 1.0


def summary_to_json(summary: ValidationSummary) -> dict:
    return {"run_id": summary.run_id, "outcomes": [asdict(o) for o in summary.outcomes],
            "report_path": str(summary.report_path), "docs_index": str(summary.docs_index),
            "reviews": summary.reviews}


def summary_from_json(data: dict) -> ValidationSummary:
    return ValidationSummary(run_id=data["run_id"],
                             outcomes=[ExpectationOutcome(**o) for o in data["outcomes"]],
                             report_path=Path(data["report_path"]),
                             docs_index=Path(data["docs_index"]), reviews=data["reviews"])


class _Answers:
    """Writes one JSON object per line on the answer pipe or connection (thread-safe: logs come
    from any thread)."""

    def __init__(self, out):
        self._out = out
        self._lock = threading.Lock()

    def send(self, **message) -> None:
        line = json.dumps(message, ensure_ascii=False, default=str)
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()


class _ForwardLogs(logging.Handler):
    """Log records → the parent, which writes them to the flow run's logs."""

    def __init__(self, answers: _Answers):
        super().__init__(logging.INFO)
        self.answers = answers

    def emit(self, record: logging.LogRecord) -> None:
        ours = record.name.split(".")[0] in ("expectations", "warehouse")
        if record.levelno < logging.WARNING and not ours:
            return
        try:
            self.answers.send(event="log", level=record.levelno, logger=record.name,
                              message=record.getMessage())
        except Exception:  # noqa: BLE001 - the parent is gone; the exit watch ends us
            pass


def _exit_with_parent(parent: int, until: threading.Event | None = None) -> None:
    """Exit as soon as ``parent`` is gone (killed with -9 included): never an orphan. A spare
    stops watching its parent once ``until`` is set (taken: its client's watch takes over)."""

    def watch() -> None:
        while os.getppid() == parent:
            if until is not None and until.is_set():
                return
            time.sleep(PARENT_POLL_SECONDS)
        if until is not None and until.is_set():
            return
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _error(exc: BaseException) -> dict:
    import duckdb

    from warehouse.errors import PipelineError

    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return {"event": "error", "type": type(exc).__name__, "message": message,
            "pipeline": isinstance(exc, PipelineError), "duckdb": isinstance(exc, duckdb.Error)}


def _validate(request: dict) -> ValidationSummary:
    from expectations.runner import validate
    from warehouse.db import connect, memory_limit

    con = connect(Path(request["db"]), wait_seconds=float(request["wait_seconds"]),
                  init_schema=False)
    try:
        limit = request.get("memory_limit")
        if limit:
            with memory_limit(con, limit):
                return _run(validate, con, request)
        return _run(validate, con, request)
    finally:
        con.close()


def _run(validate, con, request: dict) -> ValidationSummary:
    return validate(con, request["run_id"], Path(request["data_dir"]),
                    severities=request.get("severities"),
                    approx_tolerance=request.get("approx_tolerance"),
                    scheduled=bool(request.get("scheduled")))


# What a client sends of its own environment to a spare (which inherited the server's): what
# expectations/ and warehouse/ read (INFOBOX_DUCKDB_MEMORY…), GX's own settings, the time zone.
CLIENT_ENV_PREFIXES = ("INFOBOX_", "GX_")
CLIENT_ENV_NAMES = ("TZ",)
ROOT = str(Path(__file__).resolve().parent.parent)  # the code a spare runs (the client checks it)


def is_client_env(name: str) -> bool:
    return name.startswith(CLIENT_ENV_PREFIXES) or name in CLIENT_ENV_NAMES


def client_env(environ=None) -> dict[str, str]:
    """The variables of ``environ`` (default: this process's) a spare must validate with."""
    environ = os.environ if environ is None else environ
    return {name: value for name, value in environ.items() if is_client_env(name)}


def _apply_client(request: dict) -> None:
    """A spare validates in its client's environment and working directory, not the server's."""
    env = request.get("env")
    if isinstance(env, dict):
        for name in [n for n in os.environ if is_client_env(n) and n not in env]:
            del os.environ[name]
        os.environ.update({str(k): str(v) for k, v in env.items() if is_client_env(str(k))})
        if hasattr(time, "tzset"):
            time.tzset()
    if request.get("cwd"):
        os.chdir(request["cwd"])


def peer_pid(conn: socket.socket) -> int:
    """The process at the other end of a Unix socket (SO_PEERCRED: pid, uid, gid)."""
    size = struct.calcsize("3i")
    return struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, size))[0]


def pid_alive(pid: int) -> bool:
    """``pid`` is a running process (or a zombie), possibly another user's."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Spare:
    """The spare's side of its one connection (see the module docstring)."""

    def __init__(self, listener: socket.socket, keeper: _Answers, log_path: str):
        self.listener, self.keeper, self.log_path = listener, keeper, log_path
        self.taken = threading.Event()  # a client connected: the server watch stops
        self.greeted = threading.Event()  # hello sent: the conversation may go on
        self.requested = threading.Event()
        self.done = threading.Event()  # the answer is being sent: the client may close now
        self.conn: socket.socket | None = None
        self.answers: _Answers | None = None
        self.client = 0

    def tell_keeper(self, **message) -> None:
        try:
            self.keeper.send(**message)
        except (OSError, ValueError):
            pass  # the server is gone: before taken, the parent watch ends us

    def start(self) -> None:
        threading.Thread(target=self._accept, daemon=True, name="spare-accept").start()

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            os._exit(1)
        self.listener.close()  # exactly one client: later connects are refused
        self.conn, self.client = conn, peer_pid(conn)
        self.answers = _Answers(conn.makefile("w", encoding="utf-8", newline="\n"))
        self.taken.set()
        self.tell_keeper(event="taken", client=self.client)
        threading.Thread(target=self._watch_client, daemon=True, name="client-watch").start()
        try:
            self.answers.send(event="hello", pid=os.getpid(), log=self.log_path, prefix=sys.prefix,
                              root=ROOT)
        except OSError:
            os._exit(0)
        self.greeted.set()

    def _watch_client(self) -> None:
        """Exit as soon as the client is gone (its end of the connection closed, or its process
        ended) — while this process may hold the database for it."""
        poller = select.poll()
        poller.register(self.conn.fileno(), select.POLLRDHUP | select.POLLHUP | select.POLLERR)
        while not self.done.is_set():
            events = poller.poll(PARENT_POLL_SECONDS * 1000)
            if self.done.is_set():
                return
            if events or not pid_alive(self.client):
                os._exit(1 if self.requested.is_set() else 0)

    def wait_request(self) -> str:
        self.greeted.wait()
        line = self.conn.makefile("rb").readline().decode("utf-8", errors="replace")
        self.requested.set()
        return line


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m expectations.child")
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--listen-fd", type=int, default=None,
                        help="a spare: accept one client on this listening Unix socket")
    parser.add_argument("--log", default="", help="a spare: where its stderr goes (told the client)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # stray prints go to the log, not into the conversation
    sys.stdout = sys.stderr
    spare = None
    if args.listen_fd is not None:
        spare = _Spare(socket.socket(fileno=args.listen_fd), _Answers(out), args.log)
        _exit_with_parent(args.parent, until=spare.taken)
        spare.start()  # a client may connect while GX imports: it waits for "ready"
    else:
        _exit_with_parent(args.parent)
    answers = _Answers(out) if spare is None else None
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    forward = _ForwardLogs(answers)
    if spare is None:
        root.addHandler(forward)
    for name in ("expectations", "warehouse"):
        logging.getLogger(name).setLevel(logging.INFO)
    started = time.perf_counter()
    try:
        from expectations.gximport import import_gx

        import_gx()  # the slow part, done while the ingest loads

        import expectations.datadocs  # noqa: F401
        import expectations.docviews
        import expectations.report  # noqa: F401
        import expectations.review  # noqa: F401
        import expectations.runner  # noqa: F401

        # The run report's and article pages' templates, compiled now rather than after the checks;
        # GX's Data Docs templates likewise, into the cache its views share (docviews.py).
        for name in ("report.html.j2", "article.html.j2"):
            expectations.report.environment().get_template(name)
        expectations.docviews.warm()
    except BaseException as exc:  # noqa: BLE001 - reported when the parent asks
        failure = exc
        traceback.print_exc()
        if spare is not None and not spare.taken.is_set():
            spare.tell_keeper(event="failed")
            return 1  # no client yet: the keeper sees it end, clients use a validator of their own
    else:
        failure = None
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        # The ≈ 260,000 objects of the imports live as long as this one-validation process: out of
        # the cyclic collector's sight, its full collections during the checks cost ≈ 0.05 s
        # instead of ≈ 0.35 s.
        gc.freeze()
    import_seconds = round(time.perf_counter() - started, 3)
    if spare is not None:
        if failure is None:
            spare.tell_keeper(event="ready", import_seconds=import_seconds)
        spare.greeted.wait()  # a spare talks once a client has connected
        answers = forward.answers = spare.answers
        root.addHandler(forward)
    if failure is None:
        answers.send(event="ready", import_seconds=import_seconds, spare=spare is not None)
    line = sys.stdin.readline() if spare is None else spare.wait_request()
    if not line.strip():
        return 0  # the ingest stopped before validating
    if failure is not None:
        answers.send(**_error(failure))
        return 1
    started = time.perf_counter()
    try:
        request = json.loads(line)
        _apply_client(request)
        summary = _validate(request)
    except BaseException as exc:  # noqa: BLE001 - every failure becomes one answer
        traceback.print_exc()
        if spare is not None:
            spare.done.set()
        answers.send(**_error(exc))
        return 1
    if spare is not None:
        spare.done.set()
    answers.send(event="result", summary=summary_to_json(summary),
                 seconds=round(time.perf_counter() - started, 3), max_rss_kb=_peak_rss_kb())
    return 0


def _peak_rss_kb() -> int:
    """This process's own high-water mark: VmHWM (ru_maxrss would start from the parent's mark,
    see benchmarks/peak.py)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stderr.flush()
    os._exit(code)  # everything is sent and the database closed: skip GX's slow teardown
