"""Deployments on a real `prefect server start` on 127.0.0.1: registered with the config's cron and
parameters; a triggered run, executed by `infobox serve`, loads data."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.conftest import SAMPLE_DUMP
from tests.mwserver import free_port

pytestmark = [pytest.mark.prefect_server, pytest.mark.slow]


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api", "PREFECT_UI_ENABLED": "false",
           "PREFECT_LOGGING_LEVEL": "WARNING"}
    log = (home / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("prefect server did not start: " + (home / "server.log").read_text()[-2000:])
    yield env
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def infobox(env, *args, timeout=120):
    return subprocess.run([sys.executable, "-m", "flows.cli", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout)


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "pipeline.toml"
    config.write_text(f"""
data_dir = "{tmp_path / 'data'}"
user_agent = "infobox-tests/0.1 (tests@localhost)"
[[tracked]]
wiki = "zh"
titles = ["马利北部冲突"]
[[schedules]]
name = "zh-hourly"
cron = "0 * * * *"
wiki = "zh"
[[schedules]]
name = "sample-nightly"
cron = "15 2 * * *"
timezone = "Europe/Paris"
dump = "{SAMPLE_DUMP}"
""", encoding="utf-8")
    return config


async def _deployments(env):
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return await client.read_deployments()


def test_deploy_registers_cron_and_parameters_and_serve_runs_a_triggered_run(prefect_server, tmp_path,
                                                                              request):
    config = write_config(tmp_path)
    deployed = infobox(prefect_server, "deploy", "--config", config)
    assert deployed.returncode == 0, deployed.stderr
    assert [line.split("\t")[0] for line in deployed.stdout.splitlines()] == \
        ["ingest/zh-hourly", "ingest/sample-nightly"]

    from prefect.settings import PREFECT_API_URL, temporary_settings

    # Talk to this server even when another test started a Prefect test harness in this session.
    api = temporary_settings({PREFECT_API_URL: prefect_server["PREFECT_API_URL"]})
    api.__enter__()
    request.addfinalizer(lambda: api.__exit__(None, None, None))
    found = {d.name: d for d in asyncio.run(_deployments(prefect_server))}
    hourly, nightly = found["zh-hourly"], found["sample-nightly"]
    assert [s.schedule.cron for s in hourly.schedules] == ["0 * * * *"]
    assert [(s.schedule.cron, s.schedule.timezone) for s in nightly.schedules] == \
        [("15 2 * * *", "Europe/Paris")]
    assert hourly.parameters["titles"] == ["马利北部冲突"] and hourly.parameters["wiki"] == "zh"
    assert nightly.parameters["dump"] == str(SAMPLE_DUMP)
    assert nightly.parameters["db"] == str(tmp_path / "data" / "warehouse.duckdb")

    # Serve the deployments, trigger the dump one now, and wait for its data.
    env = {**prefect_server, "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    log = (tmp_path / "serve.log").open("w")
    serving = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve", "--config", str(config)],
                               env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        from prefect.deployments import run_deployment

        flow_run = run_deployment("ingest/sample-nightly", timeout=240, poll_interval=2)
        assert flow_run.state.is_completed(), (tmp_path / "serve.log").read_text()[-3000:]
    finally:
        os.killpg(serving.pid, signal.SIGINT)
        serving.wait(timeout=180)  # stopping settles runs in flight (≤ 30 s) on a busy machine
    served_output = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in served_output, served_output[-3000:]
    con = duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM revisions").fetchall() == [(7,)]
        assert con.execute("SELECT flow_run_id FROM runs").fetchall() == [(str(flow_run.id),)]
    finally:
        con.close()


def test_deploy_without_a_server_is_a_clear_error(tmp_path):
    env = {**os.environ, "PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api"}
    proc = infobox(env, "deploy", "--config", write_config(tmp_path))
    assert proc.returncode == 1 and proc.stderr.startswith("error: the Prefect API at "), proc.stderr
    assert "does not answer" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
