"""A warm process for ``infobox run``, kept by ``infobox server`` (the client: flows/launch.py).

    python -m flows.spare_run --parent PID --listen-fd FD --log PATH

imports Prefect, DuckDB and the pipeline once, then waits on the listening Unix socket FD. For
each connection it forks: the child has everything imported already (copy-on-write) and serves
that one client, the parent goes on waiting, untouched by any run. Forking is safe here because
the waiting process has one thread (checked before each fork: with another thread it refuses to
fork and exits, and the keeper starts a fresh one) and has never opened a database, a Prefect
client or an event loop.

The child's conversation with its client, one JSON line each way:

    child → client   {"event": "hello", "pid": …, "prefix": …, "root": …, "import_state": …, "log": …}
    client → child   {"argv": […], "cwd": …, "env": {…}, "encoding": [out, err], "errors": [out, err]}
                     with the client's stdin, stdout and stderr as SCM_RIGHTS file descriptors
    child → client   {"exit": CODE}       after the command ended and its exit handlers ran

The child takes the client's descriptors as 0, 1 and 2, its environment (all of it) and working
directory, leaves the server's session (a Ctrl-C at the server's terminal is not the run's), and
runs flows.cli.main with the client's arguments. If the client goes away before the end, the
child gets SIGTERM, as a command whose terminal closed: the run stops the way Ctrl-C stops it.

On its stdout (a pipe to the keeper) the waiting process says ``{"event": "ready"}`` and
(from a child that has its client's request) ``{"event": "served", "pid": CHILD}``. It exits when the server (its parent) dies.
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from datetime import datetime
from pathlib import Path

from flows.launch import RECORD, ROOT, import_state, peer_uid, set_cli_defaults
from flows.validation import drop_log, end_process, remove_record

POLL_SECONDS = 1.0
STOP_GRACE_SECONDS = 10.0
REQUEST_TIMEOUT_SECONDS = 30.0  # from the hello to the client's request
log = logging.getLogger(__name__)


# ---------------------------------------------------------------- the warm process

def _imports() -> None:
    """What ``infobox run`` imports, seconds done once here: the CLI, Prefect and the pipeline,
    and what a run imports on its way (found by comparing sys.modules before and after a run):
    Prefect's flow call (artifacts, visualization → graphviz; its client → FastAPI, Starlette)
    and the summary (flows.output, expectations' reading of results). The CLI's Prefect settings
    come first, as in flows/cli.py."""
    set_cli_defaults()
    import duckdb  # noqa: F401
    import fastapi  # noqa: F401
    import graphviz  # noqa: F401
    import prefect  # noqa: F401
    import prefect.artifacts  # noqa: F401
    import prefect.flow_engine  # noqa: F401
    import prefect.utilities.visualization  # noqa: F401
    import starlette.applications  # noqa: F401

    import expectations.report  # noqa: F401
    import expectations.runner  # noqa: F401
    import flows.cli  # noqa: F401
    import flows.ingest  # noqa: F401
    import flows.output  # noqa: F401
    import flows.prefect_api  # noqa: F401
    import flows.runlogs  # noqa: F401
    import flows.runner  # noqa: F401
    import flows.validation  # noqa: F401
    import tasks.load  # noqa: F401
    import tasks.parse  # noqa: F401
    import tasks.sources.dump  # noqa: F401
    import tasks.sources.textfile  # noqa: F401


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def serve(listener: socket.socket, parent: int, keeper, log_path: str) -> int:
    """Wait for clients; fork one child per connection. Returns when the parent is gone."""
    state = import_state()
    while os.getppid() == parent:
        ready, _, _ = select.select([listener], [], [], POLL_SECONDS)
        _reap()
        if not ready:
            continue
        try:
            conn, _ = listener.accept()
        except OSError as exc:
            print(f"accept failed: {exc}", file=sys.stderr)
            continue
        if threading.active_count() != 1:
            print(f"not forking: {threading.active_count()} threads ({threading.enumerate()})",
                  file=sys.stderr)
            conn.close()
            return 1
        pid = os.fork()
        if pid == 0:  # the child: never back into this loop, whatever happens
            code = 1
            try:
                listener.close()
                code = _child(conn, state, log_path, keeper)
            except BaseException:  # noqa: BLE001 - the child's last word, then its end
                traceback.print_exc()
            finally:
                os._exit(code)
        conn.close()
    return 0


def _tell(out, **message) -> None:
    try:
        out.write(json.dumps(message) + "\n")
        out.flush()
    except (OSError, ValueError) as exc:  # the keeper is gone: the parent watch ends us
        print(f"cannot tell the keeper {message}: {exc}", file=sys.stderr)


# ---------------------------------------------------------------- a forked child

def _child(conn: socket.socket, state: str, log_path: str, keeper) -> int:
    """Serve one client; the process's exit code. Never returns into the waiting loop."""
    os.setsid()  # out of the server's process group and session
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if peer_uid(conn) != os.getuid():
        print(f"refused a client of user {peer_uid(conn)}", file=sys.stderr)
        return 1
    try:
        conn.settimeout(REQUEST_TIMEOUT_SECONDS)
        conn.sendall((json.dumps({"event": "hello", "pid": os.getpid(), "prefix": sys.prefix,
                                  "root": ROOT, "import_state": state, "log": log_path})
                      + "\n").encode())
        request, fds = _receive(conn)
        conn.settimeout(None)
    except (OSError, ValueError) as exc:  # the client chose not to use us, or went away
        print(f"no request: {exc}", file=sys.stderr)
        return 0
    if len(fds) != 3:
        print(f"expected 3 descriptors, got {len(fds)}", file=sys.stderr)
        return 1
    _tell(keeper, event="served", pid=os.getpid())  # (one line: a pipe write this short is atomic)
    keeper.close()
    _take_client(request, fds)
    done = threading.Event()
    threading.Thread(target=_watch_client, args=(conn, done), daemon=True,
                     name="client-watch").start()
    code = _run(request["argv"])
    done.set()
    try:
        conn.sendall((json.dumps({"exit": code}) + "\n").encode())
    except OSError:
        pass  # the client is gone: nobody to tell
    return code


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
    if not data:
        raise ValueError("the client closed the connection")
    while not data.endswith(b"\n"):
        more = conn.recv(1 << 16)
        if not more:
            raise ValueError("the request ended early")
        data += more
    request = json.loads(data.decode("utf-8", "surrogateescape"))
    if not isinstance(request, dict) or not isinstance(request.get("argv"), list):
        raise ValueError("not a request")
    return request, list(fds)


def _take_client(request: dict, fds: list[int]) -> None:
    """The client's stdin/stdout/stderr, environment and directory become this process's."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    # New stream objects on the client's files, buffered as Python buffers them at its start (the
    # old ones decided seeking and buffering for the log file); logging handlers that held the old
    # ones (configured at import) write to the new ones.
    encodings, errors = request.get("encoding") or [], request.get("errors") or []
    old = {id(sys.stdout): 0, id(sys.stderr): 1}
    new = []
    for i in (0, 1):
        new.append(open(i + 1, "w", closefd=False,  # noqa: SIM115 - as long as the process
                        buffering=1 if (i == 1 or os.isatty(i + 1)) else -1,
                        encoding=(encodings[i] if i < len(encodings) and encodings[i] else "utf-8"),
                        errors=(errors[i] if i < len(errors) and errors[i] else "strict")))
    sys.stdout = sys.__stdout__ = new[0]
    sys.stderr = sys.__stderr__ = new[1]
    loggers = [logging.getLogger(), *(logger for logger in logging.Logger.manager.loggerDict.values()
                                      if isinstance(logger, logging.Logger))]
    for logger in loggers:
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler) and id(handler.stream) in old:
                handler.setStream(new[old[id(handler.stream)]])
    sys.stdin = sys.__stdin__ = open(0, encoding=sys.stdin.encoding, closefd=False)  # noqa: SIM115
    env = request.get("env")
    if isinstance(env, dict):
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in env.items()})
        if hasattr(time, "tzset"):
            time.tzset()
    os.chdir(request["cwd"])
    sys.argv = [str(a) for a in request["argv"]]


def _watch_client(conn: socket.socket, done: threading.Event) -> None:
    """SIGTERM to this process when the client goes away before the end (as a closed terminal
    would): the run stops as it does on SIGTERM, keeping what it committed."""
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLRDHUP | select.POLLHUP | select.POLLERR)
    while not done.is_set():
        if poller.poll(POLL_SECONDS * 1000):
            if not done.is_set():
                os.kill(os.getpid(), signal.SIGTERM)
            return


def _run(argv: list[str]) -> int:
    """flows.cli.main as a fresh process would run it, exit handlers included."""
    from flows.cli import main

    try:
        main(prog_name=Path(argv[0]).name if argv else "infobox")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    except KeyboardInterrupt:
        code = 130
    # What the interpreter does at its end: wait for non-daemon threads, run the exit handlers.
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass  # the client's terminal is gone: nothing to flush to
    return code


# ---------------------------------------------------------------- the keeper (infobox server)

class RunnerKeeper:
    """Keeps one warm process for ``infobox run`` on ``data_dir`` while ``infobox server`` runs,
    recorded in ``data_dir/runner.json`` once it has imported everything. One that dies is
    replaced after a growing pause (up to a minute). Its stderr goes to
    ``data_dir/logs/runner-spare-….log`` (removed after a clean exit), and so does the stderr of
    each child before it takes its client's."""

    def __init__(self, data_dir: Path, env: dict | None = None):
        self.data_dir = Path(data_dir).resolve()
        self.record = self.data_dir / RECORD
        self.log_dir = self.data_dir / "logs"
        self.env = dict(os.environ if env is None else env)
        self.dir: Path | None = None
        self.socket_path: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.ready = threading.Event()
        self.served: list[int] = []  # pids of the children that took a client
        self.started = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> RunnerKeeper:
        try:
            base = "/tmp" if os.path.isdir("/tmp") else None
            self.dir = Path(tempfile.mkdtemp(prefix="infobox-r-", dir=base))
            self.socket_path = self.dir / "runner.sock"
            self.log_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("no warm process for runs (they import everything themselves): %s", exc)
            return self
        self._thread = threading.Thread(target=self._keep, daemon=True, name="runner-keeper")
        self._thread.start()
        return self

    def _spawn(self) -> tuple[subprocess.Popen, Path]:
        self.started += 1
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        log_path = self.log_dir / f"runner-spare-{stamp}-{os.getpid()}-{self.started}.log"
        self.socket_path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(self.socket_path))
            sock.listen(16)
            with log_path.open("ab") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "flows.spare_run", "--parent", str(os.getpid()),
                     "--listen-fd", str(sock.fileno()), "--log", str(log_path)],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, env=self.env,
                    cwd=self.dir, pass_fds=(sock.fileno(),), text=True)
        finally:
            sock.close()  # the warm process holds its own copy
        return proc, log_path

    def _keep(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                proc, log_path = self._spawn()
            except OSError as exc:
                log.warning("cannot start a warm process for runs: %s", exc)
                if self._stopping.wait(10.0):
                    return
                continue
            self.proc = proc
            for line in proc.stdout:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("event") == "ready":
                    failures = 0
                    self._write_record(proc.pid)
                    self.ready.set()
                elif event.get("event") == "served":
                    self.served.append(int(event["pid"]))
            code = proc.wait()
            self.ready.clear()
            remove_record(self.record, os.getpid())
            drop_log(log_path, 0 if code == -signal.SIGTERM else code)  # stopped: clean
            if self._stopping.is_set():
                return
            failures += 1
            pause = min(60.0, 2.0 ** failures)
            log.warning("the warm process for runs (process %d) ended (exit code %s); the next "
                        "one in %g s", proc.pid, code, pause)
            if self._stopping.wait(pause):
                return

    def _write_record(self, pid: int) -> None:
        tmp = self.record.with_suffix(".tmp")
        tmp.write_text(json.dumps({"socket": str(self.socket_path), "pid": os.getpid(),
                                   "spare": pid,
                                   "started_at": datetime.now().isoformat(timespec="seconds")}),
                       encoding="utf-8")
        tmp.replace(self.record)

    def wait_ready(self, timeout: float) -> bool:
        return self.ready.wait(timeout)

    def stop(self) -> None:
        """The record goes, the waiting process ends; children serving a run finish it."""
        self._stopping.set()
        remove_record(self.record, os.getpid())
        if self.proc is not None:
            end_process(self.proc)
        if self._thread is not None:
            self._thread.join(timeout=STOP_GRACE_SECONDS)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RunnerKeeper:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.spare_run")
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--listen-fd", type=int, required=True)
    parser.add_argument("--log", default="")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server's Ctrl-C: the server stops us
    keeper = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # stray prints go to the log, not into the keeper's pipe
    listener = socket.socket(fileno=args.listen_fd)
    _imports()
    _tell(keeper, event="ready")
    return serve(listener, args.parent, keeper, args.log)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
