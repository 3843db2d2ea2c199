"""The ``infobox`` console script: hand ``infobox run`` to a warm process when there is one.

Starting Python and importing Prefect, DuckDB and the pipeline takes 2–3 s of every command, most
of a one-revision run. While ``infobox server --data-dir D`` runs it keeps a process with all of
that imported (flows/spare_run.py, recorded in ``D/runner.json``). ``infobox run`` on a warehouse
in D connects to it; it forks a child that runs the command as this process would: the same
arguments, environment, working directory, and this process's stdin, stdout and stderr (passed
over the Unix socket). This process waits for the child's exit code and exits with it,
forwarding SIGINT, SIGTERM and SIGHUP to it (a Ctrl-C at the terminal reaches only this process);
if this process dies, the child is told (its end of the connection closes) and stops as on
SIGTERM.

Only this module is imported before the hand-over (the standard library, nothing else). Anything
that does not fit — another command, ``--help``, no record, a stale one, a refused or silent
socket, another Python, other code, or settings Prefect read at import that differ from this
process's — runs the command here as before (flows.cli.main): nothing depends on the spare.
INFOBOX_NO_SPARE=1 turns the hand-over off.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import struct
import sys
from pathlib import Path

RECORD = "runner.json"
DEFAULT_DB = Path("data/warehouse.duckdb")  # = warehouse.db.DEFAULT_DB (tests/test_run_spare.py)
ROOT = str(Path(__file__).resolve().parent.parent)  # the code a spare runs (must be ours)
CODE_PACKAGES = ("flows", "tasks", "warehouse", "expectations")
HELLO_TIMEOUT_SECONDS = 5.0
# Quiet defaults for a local CLI, set before Prefect is imported (users may override them).
CLI_ENV_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_SERVER_LEVEL": "WARNING",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    "DO_NOT_TRACK": "1",
    # Prefect's default (20 s) is too short on a loaded machine (docs/OPERATIONS.md).
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
}
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
EXIT_LOST = 1


def set_cli_defaults(environ=None) -> None:
    environ = os.environ if environ is None else environ
    for key, value in CLI_ENV_DEFAULTS.items():
        environ.setdefault(key, value)


def import_state(environ=None, cwd: str | None = None) -> str:
    """A digest of what a process fixes when it imports Prefect and the pipeline: Prefect's
    settings (PREFECT_* variables, the profiles file, a ``.env``/``prefect.toml`` or a
    ``[tool.prefect]`` pyproject.toml in the working directory), Python's own variables, HOME,
    and the pipeline's code files (names, sizes, modification times).
    A spare serves a client only when both digests are equal."""
    environ = os.environ if environ is None else environ
    cwd = os.getcwd() if cwd is None else cwd
    names = sorted(n for n in environ if n.startswith(("PREFECT_", "PYTHON"))
                   or n in ("HOME", "DO_NOT_TRACK", "VIRTUAL_ENV"))
    digest = hashlib.sha256()
    for name in names:
        digest.update(f"{name}={environ[name]}\0".encode("utf-8", "surrogateescape"))
    home = Path(environ.get("PREFECT_HOME") or Path(environ.get("HOME", "~")).expanduser() / ".prefect")
    for package in CODE_PACKAGES:  # the code as imported (a warm process keeps what it read)
        for path in sorted(Path(ROOT, package).rglob("*.py")):
            try:
                info = path.stat()
            except OSError:
                continue
            digest.update(f"{path}\0{info.st_mtime_ns}\0{info.st_size}\0".encode("utf-8", "surrogateescape"))
    for path in (home / "profiles.toml", Path(cwd, ".env"), Path(cwd, "prefect.toml"),
                 Path(cwd, "pyproject.toml")):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if path.name == "pyproject.toml" and b"[tool.prefect" not in data:
            continue
        digest.update(f"{path.name}\0".encode() + hashlib.sha256(data).digest())
    return digest.hexdigest()


def _db_argument(argv: list[str]) -> Path:
    db = DEFAULT_DB
    for i, arg in enumerate(argv):
        if arg == "--db" and i + 1 < len(argv):
            db = Path(argv[i + 1])
        elif arg.startswith("--db="):
            db = Path(arg[len("--db="):])
    return db


def _wanted(argv: list[str]) -> bool:
    return (len(argv) >= 2 and argv[1] == "run" and os.environ.get("INFOBOX_NO_SPARE") != "1"
            and not any(arg in ("--help", "-h") for arg in argv[2:]))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _connect(data_dir: Path) -> tuple[socket.socket, dict] | None:
    """A connection to the warm process recorded in ``data_dir`` and its child's hello, when it
    fits this process; else None."""
    try:
        record = json.loads((data_dir / RECORD).read_text(encoding="utf-8"))
        sock_path, server_pid = str(record["socket"]), int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(server_pid):
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(HELLO_TIMEOUT_SECONDS)
        sock.connect(sock_path)
        if peer_uid(sock) != os.getuid():  # it would get this process's files and environment
            sock.close()
            return None
        hello = json.loads(_read_line(sock) or "null")
        if (not isinstance(hello, dict) or hello.get("event") != "hello"
                or not isinstance(hello.get("pid"), int)
                or hello.get("prefix") != sys.prefix or hello.get("root") != ROOT
                or hello.get("import_state") != import_state()):
            sock.close()  # the forked child sees the end and exits
            return None
        sock.settimeout(None)
    except (OSError, ValueError):
        sock.close()
        return None
    return sock, hello


def peer_uid(sock: socket.socket) -> int:
    """The user of the process at the other end of a Unix socket (SO_PEERCRED: pid, uid, gid)."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def _read_line(sock: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", errors="replace")


def hand_over(argv: list[str]) -> int | None:
    """Run ``argv`` in a warm process's child; its exit code, or None when there is none to use
    (nothing was run)."""
    set_cli_defaults()
    data_dir = _db_argument(argv).resolve().parent
    found = _connect(data_dir)
    if found is None:
        return None
    sock, hello = found
    child = int(hello["pid"])
    request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ),
               "encoding": [getattr(s, "encoding", None) or "utf-8" for s in (sys.stdout, sys.stderr)],
               "errors": [getattr(s, "errors", None) or "strict" for s in (sys.stdout, sys.stderr)]}

    def forward(signum, frame) -> None:
        try:
            os.kill(child, signum)
        except ProcessLookupError:
            pass

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED}
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        socket.send_fds(sock, [(json.dumps(request) + "\n").encode("utf-8", "surrogateescape")],
                        [0, 1, 2])
        answer = _read_line(sock)
    except OSError as exc:
        print(f"error: lost the run's process {child} (a spare of `infobox server`): {exc}",
              file=sys.stderr)
        return EXIT_LOST
    finally:
        sock.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    try:
        return int(json.loads(answer)["exit"])
    except (ValueError, KeyError, TypeError):
        print(f"error: the run's process {child} (a spare of `infobox server`) ended without an "
              f"exit status; its log: {hello.get('log') or 'none'}", file=sys.stderr)
        return EXIT_LOST


def main() -> None:
    """Console-script entry point."""
    if _wanted(sys.argv):
        code = hand_over(sys.argv)
        if code is not None:
            sys.exit(code)
    from flows.cli import main as cli_main

    cli_main()
