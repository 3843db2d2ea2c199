"""`infobox sql` cannot change any file: every attack of issue 16 through the real CLI, on real
DuckDB files, with each file's SHA-256 compared before and after; what reads keeps working."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tasks.load import batch_rows, load_batch
from tasks.parse import parse_revision
from tasks.sources.textfile import read_file
from warehouse.db import connect, texts_path
from warehouse.query import run_query


@pytest.fixture()
def files(tmp_path, seed_path):
    """A warehouse with the seed, its text store, a second warehouse, a CSV; paths by role."""
    db = tmp_path / "w.duckdb"
    page = read_file(seed_path)
    revisions = list(page.revisions)
    con = connect(db)
    load_batch(con, batch_rows(page, revisions, [parse_revision(r.text, "zh") for r in revisions], "r"))
    con.close()
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE kept AS SELECT 42 AS answer")
    con.close()
    csv = tmp_path / "numbers.csv"
    csv.write_text("country,troops\nChad,2000\nNiger,500\n", encoding="utf-8")
    return {"db": db, "texts": texts_path(db), "other": other, "csv": csv, "dir": tmp_path}


@pytest.fixture()
def http_log():
    """An HTTP server on 127.0.0.1 that records every request (an INSTALL … FROM would hit it)."""
    seen: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            seen.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def snapshot(directory) -> dict[str, str]:
    """SHA-256 of every file under ``directory`` (new files and directories show up as new keys)."""
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(directory.rglob("*"))}


def sql(*args):
    return CliRunner().invoke(app, ["sql", *map(str, args)])


def attacks(f, url) -> dict[str, str]:
    d = f["dir"]
    return {
        "detach and reattach the warehouse": f"USE memory; DETACH w; ATTACH '{f['db']}' AS w2; "
                                             "DELETE FROM w2.revisions",
        "detach as the issue spelled it": f"USE memory; DETACH warehouse; ATTACH '{f['db']}' AS w; "
                                          "DELETE FROM w.revisions",
        "reattach the text store": f"USE memory; DETACH texts; ATTACH '{f['texts']}' AS t; "
                                   "DROP TABLE t.revision_texts",
        "attach the warehouse again": f"ATTACH '{f['db']}' AS w3; DELETE FROM w3.revisions",
        "copy over another warehouse": f"COPY (SELECT 'x') TO '{f['other']}'",
        "explain analyze a copy": f"EXPLAIN ANALYZE COPY (SELECT 'x') TO '{d / 'out.csv'}'",
        "attach a new file and create": f"ATTACH '{d / 'new.duckdb'}' AS n; CREATE TABLE n.t AS SELECT 1",
        "install from a server": f"INSTALL httpfs FROM '{url}'",
        "load an extension": "LOAD httpfs",
        "autoinstall through a URL": f"SELECT * FROM read_csv('{url}/x.csv')",
        "set a setting": "SET memory_limit = '1MB'",
        "reset a setting": "RESET lock_configuration",
        "a select after a set": "SET enable_external_access = false; SELECT 1",
        "log to a file from a select": f"SELECT * FROM enable_logging(storage = 'file', "
                                       f"storage_path = '{d / 'logs'}')",
        "log to a file by call": f"CALL enable_logging(storage = 'file', storage_path = '{d / 'logs'}')",
        "profile to a file": f"PRAGMA profiling_output = '{d / 'profile.json'}'; PRAGMA enable_profiling",
        "export the database": f"EXPORT DATABASE '{d / 'export'}'",
        "delete": "DELETE FROM revisions",
        "delete after a select": "SELECT 1; DELETE FROM revisions",
        "delete behind a comment": "/* just a look */ delete from texts.revision_texts",
        "update": "UPDATE revisions SET size = 0",
        "insert": "INSERT INTO pages SELECT * FROM pages",
        "drop": "DROP TABLE figures",
        "create": "CREATE TABLE copy AS SELECT * FROM figures",
        "create a temporary macro": "CREATE TEMP MACRO twice(x) AS x * 2",
        "checkpoint": "CHECKPOINT",
        "vacuum": "VACUUM",
    }


def test_no_attack_changes_a_file(files, http_log):
    url, requests = http_log
    before = snapshot(files["dir"])
    outcomes = {}
    for name, query in attacks(files, url).items():
        result = sql(query, "--db", files["db"])
        lines = result.stderr.strip().splitlines()
        outcomes[name] = (result.exit_code, len(lines), lines[0][:7] if lines else "", result.stdout)
        assert "Traceback" not in result.stderr, (name, result.stderr)
        assert snapshot(files["dir"]) == before, name
    assert {name: o for name, o in outcomes.items() if o != (1, 1, "error: ", "")} == {}
    assert requests == []
    # The warehouse still answers, with everything in it.
    assert run_query("SELECT count(*) FROM revisions", files["db"])[1] == [(1,)]
    assert run_query("SELECT count(*) FROM texts.revision_texts", files["db"])[1] == [(1,)]
    assert duckdb.connect(str(files["other"]), read_only=True).sql("FROM kept").fetchall() == [(42,)]


def test_refusals_say_what_was_refused(files):
    result = sql(f"USE memory; DETACH w; ATTACH '{files['db']}' AS w2", "--db", files["db"])
    assert result.stderr.strip() == ("error: infobox sql is read-only: SET statements are not allowed "
                                     "(only SELECT, WITH, FROM, VALUES, SHOW, DESCRIBE, SUMMARIZE and EXPLAIN)")
    result = sql(f"COPY (SELECT 'x') TO '{files['other']}'", "--db", files["db"])
    assert "read-only: COPY statements are not allowed" in result.stderr
    result = sql("EXPLAIN ANALYZE DELETE FROM revisions", "--db", files["db"])
    assert result.stderr.strip() == "error: infobox sql is read-only: EXPLAIN is allowed only of a SELECT"


def test_selects_views_macros_texts_and_local_files_still_work(files, seed_text):
    db = files["db"]

    def rows(query):
        result = sql(query, "--db", db, "--format", "json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    assert rows("SELECT count(*) AS n FROM infobox_fields") == [{"n": 21}]
    assert rows("SELECT text FROM texts.revision_texts") == [{"text": seed_text}]
    assert len(rows("SELECT * FROM v_total_reconciliation")) >= 1
    assert rows("SELECT count(*) >= 1 AS ok FROM reconcile_totals(0.05)") == [{"ok": True}]
    assert rows(f"SELECT country, troops FROM read_csv('{files['csv']}') ORDER BY troops") == [
        {"country": "Niger", "troops": 500}, {"country": "Chad", "troops": 2000}]
    assert rows("WITH f AS (FROM figures) SELECT count(*) > 0 AS ok FROM f") == [{"ok": True}]
    assert {"name": "revisions"} in rows("SHOW TABLES")
    assert any(r["column_name"] == "rev_id" for r in rows("DESCRIBE revisions"))
    assert rows("EXPLAIN SELECT 1")
    assert rows("SELECT 1 AS a; SELECT 2 AS b") == [{"b": 2}]
