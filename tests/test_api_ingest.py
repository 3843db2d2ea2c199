"""`infobox run --wiki` and `infobox discover` against a real MediaWiki: full, incremental, resume."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from tests.mediawiki_fixtures import TITLE

pytestmark = pytest.mark.mediawiki
UA = "infobox-pipeline-tests/0.1 (tests@localhost)"


def infobox(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "flows.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env)


def query(db, sql):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_api_run_then_incremental_run(mediawiki, tmp_path, prefect_api_env):
    db = tmp_path / "w.duckdb"
    first = infobox("run", "--wiki", mediawiki.api_url, "--title", TITLE, "--db", db,
                    "--user-agent", UA, "--quiet", env=prefect_api_env)
    assert first.returncode == 0, first.stderr
    stored = [r[0] for r in query(db, "SELECT rev_id FROM revisions ORDER BY rev_id")]
    assert stored == sorted(mediawiki.rev_ids)
    assert query(db, "SELECT wiki, title, base_url FROM pages") == [
        ("zhwiki", TITLE, f"http://127.0.0.1:{mediawiki.port}/index.php")]
    assert query(db, "SELECT DISTINCT source FROM revisions") == [("api",)]

    new_id = mediawiki.edit(TITLE, "{{Infobox military conflict|strength1 = {{flagicon|Mali}} 7,000人}}",
                            summary="update")
    mediawiki.rev_ids.append(new_id)
    second = infobox("run", "--wiki", mediawiki.api_url, "--title", TITLE, "--db", db,
                     "--user-agent", UA, "--quiet", env=prefect_api_env)
    assert second.returncode == 0, second.stderr
    # Only the new revision was fetched and loaded.
    assert query(db, "SELECT n_revisions_read, n_revisions_loaded FROM runs ORDER BY started_at DESC "
                     "LIMIT 1") == [(1, 1)]
    assert query(db, f"SELECT count(*) FROM revisions WHERE rev_id = {new_id}") == [(1,)]
    assert query(db, "SELECT count(*), count(DISTINCT rev_id) FROM revisions")[0] == \
        (len(mediawiki.rev_ids), len(mediawiki.rev_ids))


def test_missing_title_is_a_clear_error(mediawiki, tmp_path, prefect_api_env):
    proc = infobox("run", "--wiki", mediawiki.api_url, "--title", "No such page", "--db",
                   tmp_path / "w.duckdb", "--user-agent", UA, "--quiet", env=prefect_api_env)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "'No such page' does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_discover_and_track_then_run_tracked(mediawiki, tmp_path, prefect_api_env):
    db = tmp_path / "w.duckdb"
    found = infobox("discover", "--wiki", mediawiki.api_url, "--template", "Infobox military conflict",
                    "--track", "--db", db, "--user-agent", UA)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip().endswith(f"\t{TITLE}")
    assert query(db, "SELECT title, source FROM tracked_pages") == [
        (TITLE, "discover:Infobox military conflict")]
    run = infobox("run", "--wiki", mediawiki.api_url, "--tracked", "--db", db, "--user-agent", UA,
                  "--quiet", env=prefect_api_env)
    assert run.returncode == 0, run.stderr
    assert query(db, "SELECT count(DISTINCT page_id) FROM revisions") == [(1,)]


def test_killed_api_run_resumes_without_duplicates(mediawiki, tmp_path, prefect_harness):
    """SIGKILL after two committed batches; the next run fetches only what is missing."""
    import os
    import textwrap

    from prefect.settings import get_current_settings

    from flows.ingest import ingest

    db = tmp_path / "w.duckdb"
    script = textwrap.dedent(f"""
        import os, signal
        from flows import progress
        from flows.ingest import ingest
        batches = []
        def kill(event, data):
            if event == "batch":
                batches.append(data)
                if len(batches) == 2:
                    os.kill(os.getpid(), signal.SIGKILL)
        progress.subscribe(kill)
        ingest(wiki={mediawiki.api_url!r}, titles=[{TITLE!r}], db={str(db)!r}, batch_size=2,
               user_agent={UA!r})
    """)
    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url),
           "PREFECT_LOGGING_LEVEL": "ERROR"}
    with (tmp_path / "child.log").open("w") as out:
        proc = subprocess.run([sys.executable, "-c", script], env=env, stdout=out, stderr=out,
                              timeout=300)
    assert proc.returncode == -9, (tmp_path / "child.log").read_text()[-2000:]
    first_ids = sorted(mediawiki.rev_ids)
    assert [r[0] for r in query(db, "SELECT rev_id FROM revisions ORDER BY rev_id")] == first_ids[:4]
    ingest(wiki=mediawiki.api_url, titles=[TITLE], db=str(db), batch_size=2, user_agent=UA,
           return_state=True)
    assert [r[0] for r in query(db, "SELECT rev_id FROM revisions ORDER BY rev_id")] == first_ids
    assert query(db, "SELECT n_revisions_read FROM runs ORDER BY started_at DESC LIMIT 1") == \
        [(len(first_ids) - 4,)]
