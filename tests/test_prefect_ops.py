"""Starting and talking to Prefect as a user meets it: the start-up wait, reuse of a running
server, signals and kills of a run, unexpected errors, and `infobox runs` at 80 columns.

Real processes throughout: the `infobox` CLI as a subprocess, `infobox server` (a real
`prefect server start` on 127.0.0.1), real DuckDB files.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import psutil
import pytest
from rich.cells import cell_len

from tests.conftest import SEED
from tests.mwserver import free_port

CLI = [sys.executable, "-m", "flows.cli"]


def clean_env(**extra) -> dict[str, str]:
    """The test's environment without any Prefect API or start-up setting of the caller."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PREFECT_API_URL", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS")}
    env.update({"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", **extra})
    return env


def infobox(*args, env=None, timeout=300):
    return subprocess.run([*CLI, *map(str, args)], env=env or clean_env(), capture_output=True,
                          text=True, timeout=timeout)


# ------------------------------------------------------------------ the start-up wait

def test_startup_wait_is_180_s_unless_the_user_sets_it(monkeypatch):
    from flows.prefect_api import startup_timeout
    from warehouse.errors import ConfigError

    monkeypatch.delenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", raising=False)
    assert startup_timeout() == 180
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "240")
    assert startup_timeout() == 240
    for bad in ("soon", "0.5", "0"):
        monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", bad)
        with pytest.raises(ConfigError, match="PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"):
            startup_timeout()
    # The CLI gives Prefect's own setting the same default, and keeps a value the user set.
    show = "import os, flows.cli; print(os.environ['PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS'])"
    assert subprocess.run([sys.executable, "-c", show], env=clean_env(), capture_output=True,
                          text=True, check=True).stdout.strip() == "180"
    assert subprocess.run([sys.executable, "-c", show],
                          env=clean_env(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="33"),
                          capture_output=True, text=True, check=True).stdout.strip() == "33"


def test_a_server_that_does_not_start_in_time_is_one_error_line_and_no_leftover(tmp_path):
    """Prefect's own wait raised a 160-line RuntimeError; ours says what to do, in one line."""
    env = clean_env(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="1",
                    PREFECT_HOME=str(tmp_path / "home"))
    proc = subprocess.Popen([*CLI, "run", "--file", SEED, "--db", tmp_path / "w.duckdb"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    children: set[int] = set()
    while proc.poll() is None:
        try:
            children |= {c.pid for c in psutil.Process(proc.pid).children(recursive=True)}
        except psutil.Error:
            pass
        time.sleep(0.05)
    out, err = proc.communicate()
    assert proc.returncode == 1, err
    lines = err.strip().splitlines()
    assert lines[0].startswith("starting a temporary Prefect API server (waits up to 1 s;"), err
    assert len(lines) == 2 and lines[1].startswith("error: the temporary Prefect API server did "
                                                   "not answer within 1 s"), err
    assert "PREFECT_API_URL" in lines[1] and "Traceback" not in out + err
    assert children, "the temporary server was never started"
    assert not [pid for pid in children if psutil.pid_exists(pid)
                and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]


# ------------------------------------------------------------------ unexpected exceptions

@pytest.mark.parametrize("command", [["runs"], ["report"]])
def test_an_unexpected_exception_is_one_error_line_and_a_log_with_the_traceback(tmp_path, command):
    """A --db that is some other DuckDB database: no `runs` table (a CatalogException)."""
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    proc = infobox(*command, "--db", other)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: unexpected "), proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    name = lines[0].split()[2].rstrip(":")  # a DuckDB error: CatalogException, InvalidInputException…
    assert name.endswith("Exception"), lines[0]
    log = Path(lines[0].rsplit("full traceback in ", 1)[1].rstrip(")"))
    assert log.parent == tmp_path / "logs" and log.name.startswith("infobox-")
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and f"duckdb.{name}" in text
    assert f"{command[0]} --db {other}" in text


# ------------------------------------------------------------------ `infobox runs` at 80 columns

def test_runs_fits_80_columns_and_says_why_a_run_failed(tmp_path):
    from warehouse.db import connect

    db = tmp_path / "w.duckdb"
    con = connect(db)
    con.execute("""INSERT INTO runs (run_id, flow_run_id, started_at, finished_at, source, status,
                   n_revisions_read, n_revisions_loaded, expectations_passed, expectations_failed,
                   message) VALUES
        ('r1', 'f1', '2026-11-26 10:00:00', '2026-11-26 10:00:30',
         'dump:/very/long/path/to/some/directory/zhwiki-pages-meta-history.xml.bz2', 'failed', 40, 35,
         NULL, NULL, 'DumpError: /data/zhwiki.xml.bz2 is malformed or truncated at line 88213'),
        ('r2', 'f2', '2026-11-26 11:00:00', '2026-11-26 11:00:09', 'api:zh:马利北部冲突', 'completed',
         7, 7, 11, 3, NULL)""")
    con.close()
    proc = infobox("runs", "--db", db, env=clean_env(COLUMNS="80"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= 80, proc.stdout  # 马 takes two cells
    assert lines[1].split() == ["started", "status", "loaded", "s", "checks", "source", "why"]
    header = lines[1]
    source_at, why_at = header.index("source"), header.index("why")
    body = [line for line in lines[3:] if line.strip()]
    starts = [line.strip() for line in body]
    assert body[0].split()[:6] == ["11-26", "11:00", "completed", "7", "9.0", "11/14"]
    start = next(i for i, line in enumerate(starts) if line.startswith("11-26 10:00"))
    failed = body[start:]  # the older run, wrapped over several lines
    assert failed[0].split()[:4] == ["11-26", "10:00", "failed", "35"]
    assert "".join(line[source_at:why_at].strip() for line in failed) == \
        "dump:zhwiki-pages-meta-history.xml.bz2"
    why = " ".join(" ".join(line[why_at:].strip() for line in failed).split())
    assert "is malformed or truncated at line 88213" in why, proc.stdout
    as_json = infobox("runs", "--db", db, "--format", "json")
    assert '"message": "DumpError: /data/zhwiki.xml.bz2 is malformed' in as_json.stdout


# ------------------------------------------------------------------ with a real Prefect server

@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory):
    return tmp_path_factory.mktemp("prefect-home")


@pytest.fixture(scope="module")
def recorded_server(tmp_path_factory, prefect_home):
    """`infobox server` on a free port, recording itself in a data directory."""
    data_dir = tmp_path_factory.mktemp("served-data")
    port = free_port()
    env = clean_env(PREFECT_HOME=str(prefect_home), PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="300")
    log = (data_dir / "server.out").open("w")
    proc = subprocess.Popen([*CLI, "server", "--port", str(port), "--data-dir", str(data_dir)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    record = data_dir / "prefect-server.json"
    deadline = time.monotonic() + 320
    while not record.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    if not record.exists():
        proc.kill()
        raise RuntimeError("infobox server did not start: " + (data_dir / "server.out").read_text())
    yield {"data_dir": data_dir, "api_url": f"http://127.0.0.1:{port}/api", "home": prefect_home}
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert not record.exists(), "the record outlived its server"


def flow_runs(api_url: str, db: Path) -> list[dict]:
    found = httpx.post(f"{api_url}/flow_runs/filter", json={"limit": 50}, timeout=30).json()
    return [r for r in found if r["parameters"].get("db") == str(db)]


def run_logs(api_url: str, flow_run_id: str) -> list[dict]:
    return httpx.post(f"{api_url}/logs/filter", timeout=30, json={
        "logs": {"flow_run_id": {"any_": [flow_run_id]}}, "limit": 200}).json()


def runs_rows(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT status, message, flow_run_id FROM runs ORDER BY started_at").fetchall()
    finally:
        con.close()


@pytest.mark.prefect_server
@pytest.mark.slow
def test_run_reuses_the_recorded_server_and_its_logs_reach_the_ui(recorded_server):
    db = recorded_server["data_dir"] / "w.duckdb"
    proc = infobox("run", "--file", SEED, "--db", db,
                   env=clean_env(PREFECT_HOME=str(recorded_server["home"])))
    assert proc.returncode == 0, proc.stderr
    assert f"using the Prefect server at {recorded_server['api_url']}" in proc.stderr
    assert "starting a temporary" not in proc.stderr
    [(status, _message, flow_run_id)] = runs_rows(db)
    assert status == "completed"
    api = recorded_server["api_url"]
    flow_run = httpx.get(f"{api}/flow_runs/{flow_run_id}", timeout=30).json()
    assert flow_run["state_type"] == "COMPLETED"
    messages = [entry["message"] for entry in run_logs(api, flow_run_id)]
    assert any("loaded" in m and "revisions=1" in m for m in messages), messages


@pytest.mark.prefect_server
@pytest.mark.slow
@pytest.mark.parametrize("signum, code, said, message", [
    (signal.SIGINT, 130, "interrupted:", "interrupted (Ctrl-C / SIGINT)"),
    (signal.SIGTERM, 143, "stopped by SIGTERM:", "stopped by SIGTERM"),
])
def test_a_signal_marks_the_run_cancelled_and_the_flow_run_crashed(recorded_server, long_dump, tmp_path,
                                                                   signum, code, said, message):
    api = recorded_server["api_url"]
    db = tmp_path / "w.duckdb"
    env = clean_env(PREFECT_API_URL=api, PREFECT_HOME=str(recorded_server["home"]))
    # A shell starts background jobs with SIGINT ignored; a terminal's Ctrl-C is what we mimic.
    proc = subprocess.Popen([*CLI, "run", "--dump", long_dump, "--db", db, "--quiet"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if any(r["state_type"] == "RUNNING" for r in flow_runs(api, db)):
            break
        time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("the flow run never started: " + proc.communicate()[1][-2000:])
    time.sleep(3)  # inside the batches
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert err.strip().splitlines()[-1].startswith(said) and "Traceback" not in out + err, err
    [(status, stored_message, flow_run_id)] = runs_rows(db)
    assert (status, stored_message) == ("cancelled", message)
    flow_run = httpx.get(f"{api}/flow_runs/{flow_run_id}", timeout=30).json()
    assert flow_run["state_type"] in ("CRASHED", "CANCELLED"), flow_run["state"]
    assert "signal" in flow_run["state"]["message"]


@pytest.mark.slow
def test_kill_9_of_a_run_leaves_no_prefect_server_behind(long_dump, tmp_path):
    env = clean_env(PREFECT_HOME=str(tmp_path / "home"),
                    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="300")
    proc = subprocess.Popen([*CLI, "run", "--dump", long_dump, "--db", tmp_path / "w.duckdb", "--quiet"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        server = None
        while time.monotonic() < deadline and server is None:  # wait until it serves the API
            for child in psutil.Process(proc.pid).children(recursive=True):
                ports = [c.laddr.port for c in child.net_connections("tcp")
                         if c.status == psutil.CONN_LISTEN]
                try:  # the socket listens from the start; the API answers once it is ready
                    if ports and httpx.get(f"http://127.0.0.1:{ports[0]}/api/health",
                                           timeout=10).status_code == 200:
                        server = child
                except httpx.HTTPError:
                    pass
            time.sleep(0.5)
        assert server is not None, "no temporary server answered"
    except BaseException:
        proc.kill()
        raise
    proc.kill()  # SIGKILL: no cleanup code of ours runs
    proc.wait()
    gone, alive = psutil.wait_procs([server], timeout=30)
    assert not alive, f"orphaned Prefect server {server.pid}: {server.cmdline()}"


@pytest.mark.prefect_server
@pytest.mark.slow
@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_stopping_serve_leaves_no_flow_run_running(recorded_server, long_dump, tmp_path, how):
    """Ctrl-C (SIGINT to the terminal's process group) or SIGTERM of `infobox serve` mid-run."""
    api = recorded_server["api_url"]
    data_dir = recorded_server["data_dir"] / f"serve-{how}"
    config = tmp_path / "pipeline.toml"
    config.write_text(f'data_dir = "{data_dir}"\n[[schedules]]\nname = "long-{how}"\n'
                      f'cron = "15 2 * * *"\ndump = "{long_dump}"\n', encoding="utf-8")
    env = clean_env(PREFECT_API_URL=api, PREFECT_HOME=str(recorded_server["home"]),
                    PREFECT_RUNNER_POLL_FREQUENCY="2")
    deployed = infobox("deploy", "--config", config, env=env)
    assert deployed.returncode == 0, deployed.stderr
    deployment_id = deployed.stdout.split("\t")[1].strip()
    serving = subprocess.Popen([*CLI, "serve", "--config", config], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        flow_run_id = httpx.post(f"{api}/deployments/{deployment_id}/create_flow_run", json={},
                                 timeout=30).json()["id"]
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if httpx.get(f"{api}/flow_runs/{flow_run_id}", timeout=30).json()["state_type"] == "RUNNING":
                break
            time.sleep(1)
        else:
            pytest.fail("the served run never started")
        time.sleep(5)  # inside the batches
        if how == "ctrl-c":
            os.killpg(serving.pid, signal.SIGINT)
        else:
            serving.send_signal(signal.SIGTERM)
        output, _ = serving.communicate(timeout=180)
    finally:
        if serving.poll() is None:
            os.killpg(serving.pid, signal.SIGKILL)
    assert "stopped serving" in output, output[-3000:]
    state = httpx.get(f"{api}/flow_runs/{flow_run_id}", timeout=30).json()
    assert state["state_type"] in ("CANCELLED", "CRASHED"), state["state"]
    [(status, _message, stored_id)] = runs_rows(data_dir / "warehouse.duckdb")
    assert (stored_id, status) == (flow_run_id, "cancelled"), _message
