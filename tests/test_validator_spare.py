"""The spare validator `infobox server` keeps (flows/validation.py::SpareKeeper, take_spare).

Real processes, real sockets, a real loaded warehouse: the keeper is called directly (no Prefect
server). A spare validates as a per-run validator does; a taken spare is replaced; anything wrong
with the spare falls back to a per-run child; a client that dies takes its spare with it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from flows.validation import (
    SpareKeeper,
    SpareValidator,
    ValidatorProcess,
    spare_record_path,
    take_spare,
)
from warehouse.db import connect
from warehouse.errors import PipelineError, ValidationError, WarehouseLocked

RUN = "spare-run"
READY_SECONDS = 300  # a spare imports GX: seconds, a minute or more on a busy 2-core machine


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purpose (its files are closed)
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(") ", 1)[1][0] not in "ZX"
    except OSError:
        return False


def _wait_gone(pid: int, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _alive(pid)


def _request(db: Path, data_dir: Path, **extra) -> dict:
    return {"db": str(db), "run_id": RUN, "data_dir": str(data_dir), "severities": None,
            "scheduled": False, "approx_tolerance": None, "memory_limit": "96MB",
            "wait_seconds": 30, **extra}


def _plain(summary) -> dict:
    from expectations.child import summary_to_json

    return json.loads(json.dumps(summary_to_json(summary), default=str, sort_keys=True))


@pytest.fixture
def keeper(tmp_path):
    keeper = SpareKeeper(tmp_path).start()
    try:
        assert keeper.wait_ready(READY_SECONDS), "the first spare did not import GX in time"
        yield keeper
    finally:
        keeper.stop()
        for proc in list(keeper._procs):  # every spare it started has ended (or ends now)
            assert _wait_gone(proc.pid), f"spare {proc.pid} outlived its keeper and client"


def test_a_spare_validates_what_a_per_run_validator_does(sample_warehouse, tmp_path, keeper):
    db = sample_warehouse(RUN, tmp_path)
    record = json.loads(spare_record_path(tmp_path).read_text())
    assert record["pid"] == os.getpid() and Path(record["socket"]).exists()
    assert len(record["socket"]) < 100  # AF_UNIX paths: at most 108 bytes
    first = keeper.current.pid

    spare = take_spare(tmp_path)
    assert isinstance(spare, SpareValidator) and spare.pid == first
    from_spare = spare.validate(_request(db, tmp_path))
    assert spare.ready["spare"] is True and spare.finished["seconds"] > 0
    assert _wait_gone(spare.pid, 30)

    per_run = ValidatorProcess.start(tmp_path / "logs")
    from_child = per_run.validate(_request(db, tmp_path))
    assert _plain(from_spare) == _plain(from_child)
    assert from_spare.passed > 0 and from_spare.report_path.exists()
    connect(db, wait_seconds=5).close()  # nothing holds the database

    keeper.stop()
    assert not spare_record_path(tmp_path).exists() and not Path(record["socket"]).parent.exists()
    for proc in keeper._procs:
        assert _wait_gone(proc.pid, 30)
    assert not list((tmp_path / "logs").glob("validator-spare-*"))  # nothing went wrong: no logs


def test_a_taken_spare_is_replaced(tmp_path, keeper):
    first = take_spare(tmp_path)
    assert first is not None
    deadline = time.monotonic() + 30
    while keeper.started < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert keeper.started == 2 and keeper.current.pid != first.pid
    second = take_spare(tmp_path)  # the next one (it may still be importing GX: it is waited for)
    assert second is not None and second.pid not in (first.pid, os.getpid())
    assert first.alive() and second.alive()  # each waits for its own client's request
    first.stop()
    second.stop()
    assert _wait_gone(first.pid, 30) and _wait_gone(second.pid, 30)
    assert keeper.wait_ready(READY_SECONDS)  # …and a third waits for the next run


def test_the_taken_spare_refuses_a_second_client(tmp_path, keeper):
    """It closes its listener when it accepts: a later connect is refused. (The recorded path
    leads to the next spare by then; a hard link keeps the taken one's socket reachable.)"""
    record = json.loads(spare_record_path(tmp_path).read_text())
    old = tmp_path / "taken.sock"
    os.link(record["socket"], old)
    one = socket.socket(socket.AF_UNIX)
    try:
        one.settimeout(30)
        one.connect(record["socket"])
        assert json.loads(one.makefile("rb").readline())["event"] == "hello"
        with socket.socket(socket.AF_UNIX) as two, pytest.raises(ConnectionRefusedError):
            two.connect(str(old))
    finally:
        one.close()


def _serve_once(path: str, answer: bytes | None) -> threading.Thread:
    """A fake spare on ``path``: accepts one client and sends ``answer`` (None: says nothing)."""
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(1)

    def serve():
        conn, _ = listener.accept()
        listener.close()
        if answer is not None:
            conn.sendall(answer)
        time.sleep(3)
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("case", ["no record", "unreadable record", "stale record", "refused",
                                  "garbled hello", "silent", "other code"])
def test_anything_wrong_with_the_spare_falls_back_to_a_per_run_validator(tmp_path, case,
                                                                           monkeypatch, caplog):
    import flows.validation as validation

    monkeypatch.setattr(validation, "HELLO_TIMEOUT_SECONDS", 1.0)
    sock_path = str(tmp_path / "v.sock")
    pid = os.getpid()
    if case == "stale record":
        done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
        pid = int(done.stdout)
    elif case == "refused":
        gone = socket.socket(socket.AF_UNIX)
        gone.bind(sock_path)
        gone.listen(1)
        gone.close()  # the file stays, nobody listens: ECONNREFUSED
    elif case == "garbled hello":
        _serve_once(sock_path, b"Traceback (most recent call last):\n")
    elif case == "silent":
        _serve_once(sock_path, None)
    elif case == "other code":
        hello = {"event": "hello", "pid": os.getpid(), "log": "", "prefix": sys.prefix,
                 "root": "/elsewhere"}
        _serve_once(sock_path, json.dumps(hello).encode() + b"\n")
    if case == "unreadable record":
        spare_record_path(tmp_path).write_text("{not json")
    elif case != "no record":
        spare_record_path(tmp_path).write_text(json.dumps({"socket": sock_path, "pid": pid}))
    caplog.set_level("INFO", logger="flows.validation")
    assert take_spare(tmp_path) is None
    assert "starting" in caplog.text and "validator for this run" in caplog.text
    validator = ValidatorProcess.take_or_start(tmp_path / "logs")
    try:
        assert isinstance(validator, ValidatorProcess)
    finally:
        validator.stop()


def test_a_fallback_validator_validates(sample_warehouse, tmp_path):
    """A record whose socket refuses: the run's own child does the work."""
    db = sample_warehouse(RUN, tmp_path)
    gone = socket.socket(socket.AF_UNIX)
    gone.bind(str(tmp_path / "v.sock"))
    gone.listen(1)
    gone.close()
    spare_record_path(tmp_path).write_text(json.dumps({"socket": str(tmp_path / "v.sock"),
                                                       "pid": os.getpid()}))
    validator = ValidatorProcess.take_or_start(tmp_path / "logs")
    assert isinstance(validator, ValidatorProcess)
    assert validator.validate(_request(db, tmp_path)).passed > 0


def test_the_spare_validates_in_the_client_s_environment_and_directory(
        sample_warehouse, tmp_path, keeper, monkeypatch):
    """The spare inherited the server's environment and directory: the request brings the
    client's INFOBOX_* and makes its relative paths absolute."""
    db = sample_warehouse(RUN, tmp_path)
    monkeypatch.chdir(tmp_path)
    relative = _request(Path(db.name), Path("."))
    spare = take_spare(tmp_path)
    assert spare.validate(relative).passed > 0

    monkeypatch.setenv("INFOBOX_DUCKDB_MEMORY", "no-such-size")  # the server has no such setting
    spare = take_spare(tmp_path)
    assert spare is not None
    with pytest.raises(PipelineError, match="Memory must have a number"):  # DuckDB read it
        spare.validate(_request(db, tmp_path, memory_limit=None))
    assert _wait_gone(spare.pid, 30)


def test_a_spare_that_dies_is_one_clear_error(sample_warehouse, tmp_path, keeper):
    db = sample_warehouse(RUN, tmp_path)
    spare = take_spare(tmp_path)
    os.kill(spare.pid, signal.SIGKILL)
    with pytest.raises(ValidationError, match="the validation process ended without an answer"):
        spare.validate(_request(db, tmp_path))
    connect(db, wait_seconds=5).close()


CLIENT = """
import json, sys, time
from pathlib import Path
from flows.validation import take_spare

data_dir, request = Path(sys.argv[1]), json.loads(sys.argv[2])
spare = take_spare(data_dir)
print(spare.pid, flush=True)
if request:
    spare._send(request)  # what validate() sends; then this process is killed
time.sleep(600)
"""


@pytest.mark.parametrize("when", ["before its request", "while it validates"])
def test_a_client_killed_after_taking_the_spare_ends_the_spare(sample_warehouse, tmp_path,
                                                                keeper, when):
    db = sample_warehouse(RUN, tmp_path)
    request = _request(db, tmp_path) if when == "while it validates" else {}
    client = subprocess.Popen([sys.executable, "-c", textwrap.dedent(CLIENT), str(tmp_path),
                               json.dumps(request)], stdout=subprocess.PIPE, text=True)
    try:
        spare_pid = int(client.stdout.readline())
        assert _alive(spare_pid)
        if request:  # wait until the spare holds the database
            deadline = time.monotonic() + READY_SECONDS
            while time.monotonic() < deadline:
                try:
                    connect(db, read_only=True, wait_seconds=0).close()
                except WarehouseLocked:
                    break
                time.sleep(0.02)
            else:
                pytest.fail("the spare never opened the database")
        client.kill()
        client.wait(timeout=30)
        assert _wait_gone(spare_pid, 30), "the spare outlived its client"
        con = connect(db, wait_seconds=10)  # writable: nothing holds it
        con.close()
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
