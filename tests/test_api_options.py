"""`infobox run --wiki` options that reach the API client: retries shown and logged, discovery."""

from __future__ import annotations

import asyncio

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.faultproxy import FaultProxy
from tests.mediawiki_fixtures import TITLE

pytestmark = pytest.mark.mediawiki
UA = "infobox-pipeline-tests/0.1 (tests@localhost)"


def query(db, sql):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


async def _run_log(flow_run_id: str) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    async with get_client() as client:
        logs = await client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    return [log.message for log in logs]


def test_run_shows_and_logs_every_retry(mediawiki, tmp_path, prefect_harness):
    db = tmp_path / "w.duckdb"
    upstream = mediawiki.api_url.rsplit("/", 1)[0]
    with FaultProxy(upstream, share=0.0, script=[(429, {"Retry-After": "120"}), (502, {})]) as proxy:
        result = CliRunner().invoke(app, ["run", "--wiki", proxy.url + "/api.php", "--title", TITLE,
                                          "--db", str(db), "--user-agent", UA,
                                          "--retry-after-max", "0.2"])
    assert result.exit_code == 0, result.output
    shown = [line for line in result.stderr.splitlines() if line.startswith(("retry:", "warning:"))]
    assert [line.split(" ")[0] for line in shown] == ["warning:", "retry:"], result.stderr
    assert "HTTP 429 (attempt 1 of 7); retrying in 0.2 s; Retry-After 120 s: the server asked " \
           "for 120 s, more than the 0.2 s cap" in shown[0]
    assert "HTTP 502 (attempt 2 of 7); retrying in" in shown[1]
    assert query(db, "SELECT count(*) FROM revisions")[0][0] == len(mediawiki.rev_ids)
    [(flow_run_id,)] = query(db, "SELECT flow_run_id FROM runs")
    logged = asyncio.run(_run_log(flow_run_id))
    assert [m for m in logged if "retrying in" in m] == [line.split(" ", 1)[1] for line in shown]


def test_discover_entries_are_fetched_by_the_flow(mediawiki, tmp_path, prefect_harness):
    """A schedule's `discover` (from [[tracked]]) lists the embedding pages at run time."""
    from flows.ingest import ingest

    db = tmp_path / "w.duckdb"
    ingest(wiki=mediawiki.api_url, titles=[], db=str(db), user_agent=UA,
           discover=[{"template": "Infobox military conflict", "limit": 10}])
    assert query(db, "SELECT DISTINCT title FROM pages") == [(TITLE,)]
    assert query(db, "SELECT count(*) FROM revisions")[0][0] == len(mediawiki.rev_ids)
