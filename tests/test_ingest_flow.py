"""The `ingest` Prefect flow end to end on real wikitext, under a Prefect test harness."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.history import seed_history, write_history
from warehouse.db import connect, table_counts
from warehouse.errors import DumpError

pytestmark = pytest.mark.usefixtures("prefect_harness")

DATA_TABLES = ("pages", "revisions", "infoboxes", "infobox_fields", "belligerents", "figures",
               "citations", "parse_issues")


def _counts(db) -> dict[str, int]:
    con = connect(db, read_only=True)
    try:  # base tables, and the per-revision views users query
        return {**table_counts(con), **{t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                                        for t in DATA_TABLES}}
    finally:
        con.close()


def _query(db, sql, params=()):
    con = connect(db, read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


@pytest.fixture()
def history_dump(tmp_path, seed_text):
    path = tmp_path / "history.xml"
    write_history(path, seed_history(seed_text))
    return path


def test_ingest_loads_every_revision_and_field(history_dump, tmp_path):
    from flows.ingest import ingest

    db = tmp_path / "w.duckdb"
    ingest(dump=str(history_dump), db=str(db), return_state=True)
    counts = _counts(db)
    assert counts["pages"] == 1
    assert counts["revisions"] == 6
    assert counts["infoboxes"] == 5  # revision 1002 blanked the infobox
    assert counts["infobox_fields"] == 5 * 21
    runs = _query(db, "SELECT status, n_revisions_read, n_revisions_loaded, n_without_infobox, "
                      "n_fields, flow_run_id FROM runs")
    assert len(runs) == 1
    status, read, loaded, without, fields, flow_run_id = runs[0]
    assert status in ("completed", "failed")
    assert (read, loaded, without, fields) == (6, 6, 1, 105)
    assert flow_run_id is not None
    # Raw text is kept as served, in the text store beside the warehouse (one row per revision, its
    # size and sha1 those of the revision), and the plain text of a field is queryable.
    assert (db.parent / "w.texts.duckdb").is_file()
    assert _query(db, "SELECT count(*) FROM texts.revision_texts WHERE text LIKE '%{{Infobox military conflict%'") \
        == [(5,)]
    assert _query(db, "SELECT count(*), count(*) FILTER (WHERE strlen(t.text) = r.size "
                      "AND sha1(t.text) = r.sha1) FROM revisions r JOIN texts.revision_texts t "
                      "USING (wiki, rev_id)") == [(6, 6)]
    assert _query(db, "SELECT DISTINCT text FROM infobox_fields WHERE field = 'place'") == [("马利北部",)]


def test_revision_without_infobox_is_stored_counted_and_reported(history_dump, tmp_path):
    from flows.ingest import ingest

    db = tmp_path / "w.duckdb"
    ingest(dump=str(history_dump), db=str(db), return_state=True)
    assert _query(db, "SELECT rev_id, has_infobox FROM revisions WHERE NOT has_infobox") == [(1002, False)]
    assert _query(db, "SELECT rev_id, code, severity FROM parse_issues WHERE code = 'no_infobox'") == \
        [(1002, "no_infobox", "info")]


def test_second_run_leaves_identical_counts(history_dump, tmp_path):
    from flows.ingest import ingest

    db = tmp_path / "w.duckdb"
    ingest(dump=str(history_dump), db=str(db), return_state=True)
    first = _counts(db)
    ingest(dump=str(history_dump), db=str(db), return_state=True)
    second = _counts(db)
    assert {t: second[t] for t in DATA_TABLES} == {t: first[t] for t in DATA_TABLES}
    assert second["runs"] == 2
    assert _query(db, "SELECT n_revisions_loaded, n_revisions_skipped FROM runs ORDER BY started_at") \
        == [(6, 0), (0, 6)]


def test_truncated_dump_fails_clearly_and_keeps_complete_batches(history_dump, tmp_path):
    from flows.ingest import ingest

    data = history_dump.read_bytes()
    fourth = data.index(b"<revision>")
    for _ in range(3):
        fourth = data.index(b"<revision>", fourth + 1)
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[:fourth + 300])
    db = tmp_path / "w.duckdb"
    with pytest.raises(DumpError, match="malformed or truncated"):
        ingest(dump=str(cut), db=str(db), batch_size=1)
    assert [r[0] for r in _query(db, "SELECT rev_id FROM revisions ORDER BY rev_id")] == [1000, 1001, 1002]
    status, message = _query(db, "SELECT status, message FROM runs")[0]
    assert status == "failed" and "truncated" in message
    # The complete export then loads the rest without duplicating anything.
    ingest(dump=str(history_dump), db=str(db), return_state=True)
    assert _counts(db)["revisions"] == 6
    assert _query(db, "SELECT n_revisions_loaded, n_revisions_skipped FROM runs "
                      "ORDER BY started_at DESC LIMIT 1") == [(3, 3)]


def test_killed_run_leaves_a_consistent_database_and_the_next_run_completes(history_dump, tmp_path):
    """SIGKILL the process right after its second committed batch, then run again."""
    from flows.ingest import ingest

    db = tmp_path / "w.duckdb"
    script = textwrap.dedent(f"""
        import os, signal
        from flows import progress
        from flows.ingest import ingest
        done = []
        def kill_after_two(event, data):
            if event == "batch":
                done.append(data["n"])
                if len(done) == 2:
                    os.kill(os.getpid(), signal.SIGKILL)
        progress.subscribe(kill_after_two)
        ingest(dump={str(history_dump)!r}, db={str(db)!r}, batch_size=1)
    """)
    from prefect.settings import get_current_settings

    # The child talks to this session's test API instead of starting a server of its own.
    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url),
           "PREFECT_LOGGING_LEVEL": "ERROR"}
    log = tmp_path / "child.log"
    with log.open("w") as out:
        proc = subprocess.run([sys.executable, "-c", script], env=env, stdout=out, stderr=out,
                              timeout=300)
    assert proc.returncode == -9, log.read_text()[-2000:]
    # Consistent: exactly the committed batches, each revision with all its derived rows.
    assert _query(db, "SELECT rev_id FROM revisions ORDER BY rev_id") == [(1000,), (1001,)]
    assert _query(db, "SELECT count(*) FROM infobox_fields") == [(42,)]
    assert _query(db, "SELECT status FROM runs") == [("running",)]

    ingest(dump=str(history_dump), db=str(db), return_state=True)
    clean = tmp_path / "clean.duckdb"
    ingest(dump=str(history_dump), db=str(clean), return_state=True)
    resumed, reference = _counts(db), _counts(clean)
    assert {t: resumed[t] for t in DATA_TABLES} == {t: reference[t] for t in DATA_TABLES}
    assert [r[0] for r in _query(db, "SELECT status FROM runs ORDER BY started_at")][0] == "interrupted"


def test_flow_state_follows_the_severity_of_the_failed_expectation(tmp_path):
    """On the bundled sample the EU totals fail: a warning by default, critical on request."""
    from flows.ingest import ingest
    from tests.conftest import SAMPLE_DUMP

    default = ingest(dump=str(SAMPLE_DUMP), db=str(tmp_path / "a.duckdb"), return_state=True)
    assert default.is_completed()
    strict = ingest(dump=str(SAMPLE_DUMP), db=str(tmp_path / "b.duckdb"),
                    severities={"totals_reconcile": "critical"}, return_state=True)
    assert strict.is_failed()
    assert "critical expectation" in strict.message
    # Failed after everything was stored.
    assert _query(tmp_path / "b.duckdb", "SELECT status, n_revisions_loaded FROM runs") == [("failed", 7)]
    assert _query(tmp_path / "b.duckdb", "SELECT count(*) FROM figures")[0][0] > 0


def test_each_run_publishes_a_markdown_artifact(tmp_path):
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.ingest import ingest
    from tests.conftest import SAMPLE_DUMP

    state = ingest(dump=str(SAMPLE_DUMP), db=str(tmp_path / "w.duckdb"), return_state=True)

    async def artifacts():
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["expectations"])))

    mine = [a for a in asyncio.run(artifacts()) if a.flow_run_id == state.state_details.flow_run_id]
    assert len(mine) == 1 and mine[0].type == "markdown"
    assert "totals\\_reconcile" in mine[0].data and "European Union" in mine[0].data


def test_an_older_parser_version_is_re_derived(history_dump, tmp_path):
    """A warehouse written by parser version 2 (categories before the typed model) is re-derived
    by the next run: every revision gets the current version and the current rows, none twice."""
    import duckdb

    from flows.ingest import ingest
    from tasks.parse import PARSER_VERSION

    db = tmp_path / "w.duckdb"
    ingest(dump=str(history_dump), db=str(db), return_state=True)
    clean = _counts(db)
    typed = "SELECT count(*) FROM figures WHERE category = 'killed+captured+missing'"
    typed_rows = _query(db, typed)[0][0]  # the seed's 至少1,000–1,500人阵亡、被俘或失踪
    assert typed_rows >= 5
    con = duckdb.connect(str(db))  # what version 2 stored: the untyped total, an old version
    # Its rows had other contents, hence other ids: the values holding the total and the states
    # holding those values get new (negated) ids with the old rows.
    con.execute("CREATE TEMP TABLE old_values AS SELECT DISTINCT value_id FROM value_figures "
                "WHERE category = 'killed+captured+missing'")
    con.execute("CREATE TEMP TABLE old_states AS SELECT DISTINCT state_id FROM state_fields "
                "WHERE value_id IN (SELECT value_id FROM old_values)")
    con.execute("UPDATE value_figures SET category = 'casualties', high = NULL "
                "WHERE category = 'killed+captured+missing'")
    for table in ("field_values", "value_figures", "value_belligerents", "value_citations",
                  "value_issues", "state_fields"):
        con.execute(f"UPDATE {table} SET value_id = -value_id "
                    "WHERE value_id IN (SELECT value_id FROM old_values)")
    for table in ("states", "state_boxes", "state_fields", "state_issues", "revisions"):
        con.execute(f"UPDATE {table} SET state_id = -state_id "
                    "WHERE state_id IN (SELECT state_id FROM old_states)")
    con.execute("UPDATE revisions SET parser_version = ?", [PARSER_VERSION - 1])
    con.close()
    ingest(dump=str(history_dump), db=str(db), return_state=True)
    assert {t: _counts(db)[t] for t in DATA_TABLES} == {t: clean[t] for t in DATA_TABLES}
    assert _query(db, "SELECT DISTINCT parser_version FROM revisions") == [(PARSER_VERSION,)]
    assert _query(db, typed)[0][0] == typed_rows
    assert _query(db, "SELECT DISTINCT high FROM figures WHERE category = 'killed+captured+missing'") \
        == [(1500,)]
    assert _query(db, "SELECT n_revisions_loaded, n_revisions_skipped FROM runs ORDER BY started_at") \
        == [(6, 0), (6, 0)]


def test_no_revision_outlives_its_batch_in_the_ingest_process(history_dump, tmp_path):
    """Memory stays flat: once the flow has ended, none of its revisions is still referenced.
    (Prefect's event and log workers keep the context of the first task run that started them,
    its parameters included; its batch of revisions must not stay alive with it.) In a process of
    its own, because those workers start once per process."""
    script = textwrap.dedent(f"""
        import gc
        from flows.ingest import ingest
        from tasks.sources.model import Revision
        state = ingest(dump={str(history_dump)!r}, db={str(tmp_path / 'w.duckdb')!r}, batch_size=2,
                       return_state=True)
        assert state.is_completed(), state
        gc.collect()
        alive = sorted(o.rev_id for o in gc.get_objects() if type(o) is Revision)
        print("ALIVE", alive)
    """)
    from prefect.settings import get_current_settings

    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url),
           "PREFECT_LOGGING_LEVEL": "ERROR"}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ALIVE []" in proc.stdout.splitlines(), proc.stdout[-2000:]
    assert _query(tmp_path / "w.duckdb", "SELECT count(*) FROM revisions")[0][0] > 2


def test_batches_load_on_one_duckdb_thread_and_the_clean_up_on_all(history_dump, tmp_path, monkeypatch):
    """flows.ingest.INGEST_THREADS while batches load; DuckDB's own default again for the scans of
    whole tables that follow (forget_unused_states). The objects alive when the run starts are
    out of the cyclic collector's sight during the run only (gc.freeze, then unfreeze)."""
    import gc

    import duckdb

    import flows.ingest as ingest_module

    seen: dict[str, list[int]] = {"batches": [], "clean_up": [], "frozen": []}

    def threads(con) -> int:
        return int(con.execute("SELECT current_setting('threads')").fetchone()[0])

    def load_rows(con, rows):
        seen["batches"].append(threads(con))
        seen["frozen"].append(gc.get_freeze_count())
        return original_load(con, rows)

    def forget_unused_states(con):
        seen["clean_up"].append(threads(con))
        return original_forget(con)

    original_load, original_forget = ingest_module.load_rows, ingest_module.forget_unused_states
    monkeypatch.setattr(ingest_module, "load_rows", load_rows)
    monkeypatch.setattr(ingest_module, "forget_unused_states", forget_unused_states)
    ingest_module.ingest(dump=str(history_dump), db=str(tmp_path / "w.duckdb"), return_state=True)
    default = threads(duckdb.connect())
    assert seen["batches"] and set(seen["batches"]) == {ingest_module.INGEST_THREADS} == {1}
    assert seen["clean_up"] == [default]
    assert min(seen["frozen"]) > 10_000 and gc.get_freeze_count() == 0
