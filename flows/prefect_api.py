"""Which Prefect API a command talks to, and the temporary one it starts when there is none.

Order of choice (:func:`prefect_api`):

1. ``PREFECT_API_URL`` (environment or Prefect profile) — a server you run; it must answer
   ``/api/health``.
2. The server recorded in ``<data dir>/prefect-server.json`` by ``infobox server`` — used when its
   process is alive and it answers ``/api/health``; a stale record is ignored.
3. Otherwise a temporary API server, started by this process as its child and stopped when the
   command ends. Unlike Prefect's own temporary server (a plain subprocess that outlives a
   ``kill -9`` of its parent), ours asks the kernel to stop it when its parent dies
   (``PR_SET_PDEATHSIG`` on Linux; elsewhere it polls its parent), and it waits
   ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS`` — 180 s unless you set it — because on a
   loaded machine Prefect's default of 20 s is too short (docs/OPERATIONS.md).

This module must stay importable without importing Prefect: the child server imports it first.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from warehouse.errors import ConfigError, PipelineError

STARTUP_ENV = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
DEFAULT_STARTUP_SECONDS = 180
RECORD_NAME = "prefect-server.json"
HEALTH_TIMEOUT = 20.0  # one /api/health request to a server that may itself be busy


class PrefectServerError(PipelineError):
    """The Prefect API cannot be reached, or a server could not be started."""


def startup_timeout() -> int:
    """Seconds to wait for a Prefect server to answer: the env var when set, else 180."""
    raw = os.environ.get(STARTUP_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_STARTUP_SECONDS
    try:
        value = int(raw)  # Prefect's own setting of that name accepts whole seconds only
    except ValueError:
        raise ConfigError(f"{STARTUP_ENV}: {raw!r} is not a whole number of seconds") from None
    if value <= 0:
        raise ConfigError(f"{STARTUP_ENV}: {raw!r} must be more than 0 seconds")
    return value


def apply_startup_default() -> None:
    """Give Prefect's own temporary-server wait our default (never replacing the user's value)."""
    os.environ.setdefault(STARTUP_ENV, f"{DEFAULT_STARTUP_SECONDS:g}")


def healthy(api_url: str, timeout: float = HEALTH_TIMEOUT) -> bool:
    import httpx

    try:
        return httpx.get(api_url.rstrip("/") + "/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _configured_url() -> tuple[str | None, str]:
    """(PREFECT_API_URL, where it came from) from the environment or the Prefect settings."""
    url = os.environ.get("PREFECT_API_URL")
    if url:
        return url, "PREFECT_API_URL"
    from prefect.settings import get_current_settings  # a profile or a test harness may set it

    url = get_current_settings().api.url
    if url:
        return str(url), "the Prefect profile's PREFECT_API_URL"
    return None, ""


def record_path(data_dir: Path) -> Path:
    return Path(data_dir) / RECORD_NAME


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recorded_server(data_dir: Path) -> str | None:
    """API URL of a live server recorded by ``infobox server`` in ``data_dir``, else None."""
    path = record_path(data_dir)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        url, pid = str(record["api_url"]), int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _pid_alive(pid) or not healthy(url):
        return None
    return url


def write_record(data_dir: Path, api_url: str, pid: int) -> Path:
    path = record_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"api_url": api_url, "pid": pid, "owner_pid": os.getpid(),
                               "started_at": datetime.now().isoformat(timespec="seconds")}),
                   encoding="utf-8")
    tmp.replace(path)
    return path


def remove_record(data_dir: Path, pid: int) -> None:
    """Remove the record if it still names ``pid`` (another server may have replaced it)."""
    path = record_path(data_dir)
    try:
        if int(json.loads(path.read_text(encoding="utf-8"))["pid"]) == pid:
            path.unlink()
    except (OSError, ValueError, KeyError, TypeError):
        pass


def resolve_persistent(data_dir: Path) -> tuple[str, str] | None:
    """(url, origin) of a server that outlives this command, checked to answer; None if none."""
    url, origin = _configured_url()
    if url:
        if not healthy(url):
            raise PrefectServerError(
                f"the Prefect API at {url} ({origin}) does not answer: start that server, or unset "
                "PREFECT_API_URL to let infobox start a temporary one")
        return url, origin
    url = recorded_server(data_dir)
    if url:
        return url, f"the server recorded in {record_path(data_dir)}"
    return None


@contextmanager
def use_api_url(url: str) -> Iterator[None]:
    """Point this process (and its subprocesses) at ``url`` for the duration."""
    previous = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = url
    try:
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: url}):
            yield
    finally:
        if previous is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = previous


@contextmanager
def prefect_api(data_dir: Path, *, say: Callable[[str], None] | None = None) -> Iterator[str]:
    """Make this process talk to a Prefect API for the duration; yield its URL.

    Reuses a running server when there is one, otherwise starts a temporary one (see the module
    docstring). ``say`` receives one short line about what is being waited for.
    """
    startup_timeout()  # a bad value: one clear line, before Prefect's settings reject it
    found = resolve_persistent(data_dir)
    if found:
        url, origin = found
        if say and origin.startswith("the server recorded"):
            say(f"using the Prefect server at {url} ({origin})")
        with use_api_url(url):
            yield url
        return
    with temporary_server(data_dir / "logs", say=say) as url, use_api_url(url):
        yield url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(*, ui: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)  # the server must not try to reach another API
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    if not ui:
        env["PREFECT_UI_ENABLED"] = "false"
    return env


def _wait_healthy(proc: subprocess.Popen, api_url: str, timeout: float, log: Path, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise PrefectServerError(f"{what} exited with code {proc.returncode} while starting "
                                     f"(its log: {log})")
        if healthy(api_url, timeout=min(5.0, max(0.5, deadline - time.monotonic()))):
            return
        time.sleep(0.2)
    raise PrefectServerError(
        f"{what} did not answer within {timeout:g} s (a busy machine? raise {STARTUP_ENV}, or set "
        f"PREFECT_API_URL to a running server; its log: {log})")


def stop_process(proc: subprocess.Popen, grace: float = 20.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def spawn_with_parent(args: list[str], *, env: dict[str, str], log: Path,
                      pass_fds: tuple[int, ...] = ()) -> subprocess.Popen:
    """Start ``python -m flows.prefect_api <args>``: a child that dies with this process."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "flows.prefect_api", "--parent", str(os.getpid()), *args],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            pass_fds=pass_fds)


@contextmanager
def temporary_server(log_dir: Path, *, say: Callable[[str], None] | None = None) -> Iterator[str]:
    """A Prefect API (no UI, no background services) for this command only; yields its API URL.

    The listening socket is bound here and handed to the child, so no port can be taken in
    between. The child is stopped on exit and dies with this process if it is killed.
    """
    timeout = startup_timeout()
    if say:
        say(f"starting a temporary Prefect API server (waits up to {timeout:g} s; "
            "set PREFECT_API_URL to reuse a running one)…")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    log = Path(log_dir) / f"prefect-server-{stamp}-{os.getpid()}.log"
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    api_url = f"http://127.0.0.1:{sock.getsockname()[1]}/api"
    try:
        proc = spawn_with_parent(["api", "--fd", str(sock.fileno())], env=_server_env(ui=False),
                                 log=log, pass_fds=(sock.fileno(),))
    finally:
        sock.close()  # the child holds its own copy
    try:
        _wait_healthy(proc, api_url, timeout, log, "the temporary Prefect API server")
        yield api_url
    finally:
        _drain_prefect_workers()
        stop_process(proc)


def _drain_prefect_workers(timeout: float = 30.0) -> None:
    """Send the logs and events Prefect still holds before their server goes away."""
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        try:
            worker.drain_all(timeout=timeout)
        except Exception:  # noqa: BLE001 - best effort: the run itself is already recorded
            pass


def run_recorded_server(*, port: int, data_dir: Path, say: Callable[[str], None]) -> None:
    """``infobox server``: a full Prefect server (UI, scheduler) until Ctrl-C or SIGTERM.

    Recorded in ``data_dir`` so that the other commands reuse it; the record is removed when the
    server stops (a record left by a ``kill -9`` is ignored: its process is gone).
    """
    data_dir = Path(data_dir).resolve()
    existing = recorded_server(data_dir)
    if existing:
        raise PrefectServerError(f"a Prefect server recorded in {record_path(data_dir)} already "
                                 f"answers at {existing}")
    timeout = startup_timeout()
    api_url = f"http://127.0.0.1:{port}/api"
    if healthy(api_url, timeout=2):
        raise PrefectServerError(f"port {port} already has a Prefect server ({api_url}): use it "
                                 f"with PREFECT_API_URL={api_url}, or choose another --port")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    log = data_dir / "logs" / f"prefect-server-{stamp}.log"
    # A spare validator imports Great Expectations while the server starts; runs on this data
    # dir take it instead of starting their own (flows/validation.py::SpareKeeper).
    # And a warm process: `infobox run` on this data dir hands its command to a fork of it instead
    # of importing Prefect and the pipeline (flows/spare_run.py, flows/launch.py).
    from flows.spare_run import RunnerKeeper
    from flows.validation import SpareKeeper

    with RunnerKeeper(data_dir) as runner, SpareKeeper(data_dir) as keeper:
        _run_full_server(port, data_dir, timeout, api_url, log, say, keeper, runner)


def _run_full_server(port: int, data_dir: Path, timeout: float, api_url: str, log: Path,
                     say: Callable[[str], None], keeper, runner) -> None:
    say(f"starting a Prefect server on 127.0.0.1:{port} (waits up to {timeout:g} s)…")
    proc = spawn_with_parent(["full", "--port", str(port)], env=_server_env(ui=True), log=log)
    try:
        _wait_healthy(proc, api_url, timeout, log, "the Prefect server")
        record = write_record(data_dir, api_url, proc.pid)
        say(f"Prefect server at http://127.0.0.1:{port} (UI), API {api_url}; recorded in {record} "
            f"for infobox run/deploy/serve; log: {log}. Ctrl-C to stop.")
        say(f"spare validator for runs on {data_dir}: socket {keeper.socket_path}, recorded in "
            f"{keeper.record}; logs: {keeper.log_dir}/validator-spare-*.log")
        say(f"warm process for `infobox run` on {data_dir}: recorded in {runner.record} once "
            f"ready; logs: {runner.log_dir}/runner-spare-*.log")
        while proc.poll() is None:
            time.sleep(0.5)
        raise PrefectServerError(f"the Prefect server exited with code {proc.returncode} "
                                 f"(its log: {log})")
    finally:
        remove_record(data_dir, proc.pid)
        stop_process(proc)


# ---------------------------------------------------------------- the child side

def _die_with_parent(parent: int) -> None:
    """Be killed when ``parent`` dies (Linux: PR_SET_PDEATHSIG), or poll for it (elsewhere).

    SIGKILL, not SIGTERM: a server still starting up (migrations, lifespan) defers SIGTERM until
    it is ready, which took over a minute on a loaded machine. Nothing is lost: the parent that
    used this server is already gone, and Prefect's SQLite database survives a kill.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, signal.SIGKILL, 0, 0, 0) != 0:  # 1 = PR_SET_PDEATHSIG
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):
        import threading

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1)
            os.kill(os.getpid(), signal.SIGKILL)

        threading.Thread(target=watch, daemon=True, name="parent-watch").start()
    if os.getppid() != parent:  # the parent died before the request above took effect
        sys.exit(1)


def _serve_api(fd: int) -> None:
    import uvicorn
    from prefect.server.api.server import create_app

    sock = socket.socket(fileno=fd)
    app = create_app(ephemeral=True, final=True)
    config = uvicorn.Config(app, log_level="error", lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])


def _serve_full(host: str, port: int) -> None:
    """``prefect server start`` (UI and scheduler services included), in this process."""
    sys.argv = ["prefect", "server", "start", "--host", host, "--port", str(port)]
    from prefect.cli import app

    app()


def _child_main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m flows.prefect_api")
    parser.add_argument("--parent", type=int, required=True)
    sub = parser.add_subparsers(dest="kind", required=True)
    api = sub.add_parser("api")
    api.add_argument("--fd", type=int, required=True)
    full = sub.add_parser("full")
    full.add_argument("--host", default="127.0.0.1")
    full.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    _die_with_parent(args.parent)
    if args.kind == "api":
        _serve_api(args.fd)
    else:
        _serve_full(args.host, args.port)


if __name__ == "__main__":
    _child_main(sys.argv[1:])
