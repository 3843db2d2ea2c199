"""`infobox run` handed to the warm process of `infobox server` (flows/launch.py, flows/spare_run.py).

Real processes: the keeper is started here (no `infobox server`: the session's Prefect API serves
the runs), the client is the console script's code under the name ``infobox``. A served run does
what an in-process run does (output, exit codes, signals, the warehouse); anything that does not
fit runs in the client's own process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from flows import launch
from flows.spare_run import RunnerKeeper
from tests.conftest import SEED

READY_SECONDS = 300  # the warm process imports Prefect and the pipeline: a minute on a busy machine


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(") ", 1)[1][0] not in "ZX"
    except OSError:
        return False


def _wait_gone(pid: int, seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _alive(pid)


@pytest.fixture
def env(prefect_api_env) -> dict[str, str]:
    return {k: v for k, v in prefect_api_env.items() if k != "INFOBOX_NO_SPARE"}


@pytest.fixture
def script(tmp_path) -> Path:
    """The console script's code, named as users call it."""
    path = tmp_path / "bin" / "infobox"
    path.parent.mkdir()
    path.write_text("from flows.launch import main\nmain()\n", encoding="utf-8")
    return path


@pytest.fixture
def warm(tmp_path, env):
    data = tmp_path / "data"
    keeper = RunnerKeeper(data, env=env).start()
    try:
        assert keeper.wait_ready(READY_SECONDS), "the warm process did not get ready in time"
        yield keeper
    finally:
        keeper.stop()
        proc = keeper.proc
        assert proc is None or _wait_gone(proc.pid, 30), "the warm process outlived its keeper"
        assert not keeper.record.exists()


def _infobox(script: Path, *args, env: dict, cwd: Path, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(script), *map(str, args)], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def _run(script: Path, *args, env: dict, cwd: Path, timeout: float = 600):
    proc = _infobox(script, *args, env=env, cwd=cwd)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _revisions(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM revisions").fetchone()[0]
    finally:
        con.close()


def test_the_launcher_agrees_with_the_cli():
    from warehouse.db import DEFAULT_DB

    assert launch.DEFAULT_DB == DEFAULT_DB
    assert launch._db_argument(["infobox", "run", "--db", "x/w.duckdb"]) == Path("x/w.duckdb")
    assert launch._db_argument(["infobox", "run", "--db=y.duckdb", "--quiet"]) == Path("y.duckdb")
    assert launch._wanted(["infobox", "run", "--file", "a"])
    assert not launch._wanted(["infobox", "run", "--help"])
    assert not launch._wanted(["infobox", "sql", "SELECT 1"])


def test_the_import_state_changes_with_prefect_settings_and_code(tmp_path, monkeypatch):
    env = {"HOME": str(tmp_path), "PREFECT_API_URL": "http://127.0.0.1:1/api", "LANG": "C.UTF-8"}
    base = launch.import_state(env, str(tmp_path))
    assert launch.import_state({**env, "LANG": "fr_FR.UTF-8", "COLUMNS": "80"}, str(tmp_path)) == base
    assert launch.import_state({**env, "PREFECT_LOGGING_LEVEL": "DEBUG"}, str(tmp_path)) != base
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert launch.import_state(env, str(tmp_path)) == base  # no Prefect settings in it
    (tmp_path / "pyproject.toml").write_text("[tool.prefect]\nlogging.level = 'DEBUG'\n")
    assert launch.import_state(env, str(tmp_path)) != base
    (tmp_path / "pyproject.toml").unlink()
    code = Path(launch.__file__)
    info = code.stat()
    try:
        os.utime(code, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
        assert launch.import_state(env, str(tmp_path)) != base
    finally:
        os.utime(code, ns=(info.st_atime_ns, info.st_mtime_ns))


@pytest.mark.prefect_server
@pytest.mark.slow
def test_a_run_is_served_by_a_fork_of_the_warm_process(warm, script, env, tmp_path):
    db = warm.data_dir / "warehouse.duckdb"
    code, out, err = _run(script, "run", "--file", SEED, "--db", db, env=env, cwd=tmp_path)
    assert code == 0, err
    assert len(warm.served) == 1 and warm.served[0] != warm.proc.pid
    assert "revisions loaded" in out and "expectations" in out and "Traceback" not in out + err
    assert _revisions(db) == 1
    assert _wait_gone(warm.served[0], 30), "the served child did not end with its run"
    assert warm.proc.poll() is None, "the warm process must stay, untouched by the run"

    # The same command in the client's own process (the spare turned off) says the same.
    code, out_here, err = _run(script, "run", "--file", SEED, "--db", db, env={**env, "INFOBOX_NO_SPARE": "1"},
                               cwd=tmp_path)
    assert code == 0, err
    assert len(warm.served) == 1
    code, out_served, err = _run(script, "run", "--file", SEED, "--db", db, env=env, cwd=tmp_path)
    assert code == 0, err
    assert len(warm.served) == 2

    def table(text: str) -> list[str]:  # the summary without the run's id and time
        return [line for line in text.splitlines() if line.startswith("│")]

    assert table(out_served) == table(out_here) and "already stored (skipped)  │ 1" in out_served


@pytest.mark.prefect_server
@pytest.mark.slow
def test_errors_usage_and_exit_codes_come_back_from_the_served_run(warm, script, env, tmp_path):
    db = warm.data_dir / "warehouse.duckdb"
    code, out, err = _run(script, "run", "--file", tmp_path / "missing.txt", "--db", db, env=env,
                          cwd=tmp_path)
    assert (code, out) == (1, "")
    assert err.startswith("error: cannot read") and "missing.txt" in err, err
    code, out, err = _run(script, "run", "--no-such-option", "--db", db, env=env, cwd=tmp_path)
    assert code == 2
    assert "Usage: infobox run [OPTIONS]" in err and "No such option" in err, err
    assert len(warm.served) == 2
    # Relative paths are the client's: its working directory, not the warm process's.
    (tmp_path / "article.wikitext").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    code, out, err = _run(script, "run", "--file", "article.wikitext", "--db", db, "--quiet", env=env,
                          cwd=tmp_path)
    assert code == 0, err
    assert len(warm.served) == 3 and _revisions(db) == 1


@pytest.mark.prefect_server
@pytest.mark.slow
def test_other_prefect_settings_or_no_record_run_in_the_clients_process(warm, script, env, tmp_path):
    db = warm.data_dir / "warehouse.duckdb"
    missing = tmp_path / "missing.txt"
    code, _, err = _run(script, "run", "--file", missing, "--db", db, cwd=tmp_path,
                        env={**env, "PREFECT_LOGGING_LEVEL": "ERROR"})
    assert code == 1 and "cannot read" in err
    code, _, err = _run(script, "run", "--file", missing, "--db", tmp_path / "elsewhere" / "w.duckdb",
                        env=env, cwd=tmp_path)
    assert code == 1 and "cannot read" in err
    assert warm.served == []
    # A record whose server is gone is ignored.
    record = json.loads(warm.record.read_text())
    stale = tmp_path / "stale"
    stale.mkdir()
    (stale / launch.RECORD).write_text(json.dumps({**record, "pid": 2**22 + 7}))
    code, _, err = _run(script, "run", "--file", missing, "--db", stale / "w.duckdb", env=env, cwd=tmp_path)
    assert code == 1 and "cannot read" in err and warm.served == []


def _wait_running(api: str, db: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        found = httpx.post(f"{api}/flow_runs/filter", json={"limit": 50}, timeout=30).json()
        if any(r["parameters"].get("db") == str(db) and r["state_type"] == "RUNNING" for r in found):
            time.sleep(3)  # inside the batches
            return
        time.sleep(0.5)
    proc.kill()
    pytest.fail("the flow run never started: " + proc.communicate()[1][-2000:])


def _runs(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT status, message FROM runs").fetchall()
    finally:
        con.close()


@pytest.mark.prefect_server
@pytest.mark.slow
def test_ctrl_c_at_the_client_stops_the_served_run(warm, script, env, tmp_path, long_dump):
    db = warm.data_dir / "warehouse.duckdb"
    proc = _infobox(script, "run", "--dump", long_dump, "--db", db, "--quiet", env=env, cwd=tmp_path,
                    preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    _wait_running(env["PREFECT_API_URL"], db, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("interrupted:") and "Traceback" not in out + err, err
    assert _runs(db) == [("cancelled", "interrupted (Ctrl-C / SIGINT)")]
    assert len(warm.served) == 1 and _wait_gone(warm.served[0], 30)


@pytest.mark.prefect_server
@pytest.mark.slow
def test_a_client_killed_mid_run_stops_its_served_run(warm, script, env, tmp_path, long_dump):
    db = warm.data_dir / "warehouse.duckdb"
    proc = _infobox(script, "run", "--dump", long_dump, "--db", db, "--quiet", env=env, cwd=tmp_path)
    _wait_running(env["PREFECT_API_URL"], db, proc)
    proc.kill()
    proc.communicate(timeout=60)
    [child] = warm.served
    assert _wait_gone(child, 180), "the served run outlived its client"
    assert _runs(db) == [("cancelled", "stopped by SIGTERM")]
    assert _revisions(db) < 600  # stopped before the end; the warehouse is free again
