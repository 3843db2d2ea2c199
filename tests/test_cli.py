"""The `infobox` command as a user runs it: a real process, real files, real exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import duckdb
import pytest

from tasks.load import batch_rows, load_batch
from tasks.parse import parse_revision
from tasks.sources.textfile import read_file
from warehouse.db import connect


def infobox(*args, timeout=120, env=None):
    return subprocess.run([sys.executable, "-m", "flows.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env)


def assert_one_line_error(proc, fragment):
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and fragment in lines[0], lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.fixture()
def loaded_db(tmp_path, seed_path):
    """A warehouse holding the seed loaded by the library (no Prefect needed)."""
    db = tmp_path / "w.duckdb"
    page = read_file(seed_path)
    revisions = list(page.revisions)
    con = connect(db)
    load_batch(con, batch_rows(page, revisions, [parse_revision(r.text, "zh") for r in revisions],
                               "run-test"))
    con.close()
    return db


@pytest.mark.parametrize("command", [[], ["run"], ["sql"], ["report"], ["parse"], ["review"]])
def test_every_command_has_help_with_an_example(command):
    proc = infobox(*command, "--help")
    assert proc.returncode == 0
    assert "Usage" in proc.stdout
    if command:
        assert "Example" in proc.stdout and f"infobox {command[0]}" in proc.stdout


def test_parse_prints_the_documented_json(seed_path):
    proc = infobox("parse", seed_path, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {"infoboxes", "issues"}
    box = out["infoboxes"][0]
    assert box["template"] == "Infobox military conflict"
    assert box["fields"]["place"] == {"raw": " [[马利|马利]]北部\n", "text": "马利北部"}
    assert {"belligerents", "figures"} <= set(box)


def test_parse_table_format(seed_path):
    proc = infobox("parse", seed_path, "--format", "table")
    assert proc.returncode == 0 and "马利北部" in proc.stdout


def test_sql_csv_has_a_header_and_one_line_per_row(loaded_db):
    proc = infobox("sql", "select field, text from infobox_fields where field like 'strength%' "
                          "order by seq", "--db", loaded_db, "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0] == ["field", "text"]
    assert [r[0] for r in rows[1:]] == ["strength1", "strength2", "strength3"]
    assert rows[2][1] == "Azawad 3,000人"


def test_sql_json_and_count(loaded_db):
    proc = infobox("sql", "select count(*) as n from infobox_fields", "--db", loaded_db,
                   "--format", "json")
    assert json.loads(proc.stdout) == [{"n": 21}]


def test_sql_is_read_only(loaded_db):
    proc = infobox("sql", "delete from revisions", "--db", loaded_db)
    assert proc.returncode == 1 and "read-only" in proc.stderr.lower()
    con = duckdb.connect(str(loaded_db), read_only=True)
    assert con.execute("select count(*) from revisions").fetchall() == [(1,)]
    con.close()


def test_sql_reads_the_revision_texts_and_cannot_change_them(loaded_db, seed_text):
    proc = infobox("sql", "select t.text from texts.revision_texts t join revisions r using (wiki, rev_id)",
                   "--db", loaded_db, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [{"text": seed_text}]
    proc = infobox("sql", "delete from texts.revision_texts", "--db", loaded_db)
    assert proc.returncode == 1 and "read-only" in proc.stderr.lower()


def test_sql_error_is_one_line(loaded_db):
    assert_one_line_error(infobox("sql", "select * from nowhere", "--db", loaded_db), "nowhere")


def test_sql_without_database(tmp_path):
    assert_one_line_error(infobox("sql", "select 1", "--db", tmp_path / "none.duckdb"), "no warehouse")


def test_report_before_any_run(loaded_db):
    assert_one_line_error(infobox("report", "--db", loaded_db), "no run")


def test_run_rejects_a_binary_file(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)))
    assert_one_line_error(infobox("run", "--file", path, "--db", tmp_path / "w.duckdb"), "binary file")


def test_run_rejects_a_file_that_is_not_an_export(tmp_path):
    path = tmp_path / "dump.xml"
    path.write_text("<html><body>not an export</body></html>", encoding="utf-8")
    assert_one_line_error(infobox("run", "--dump", path, "--db", tmp_path / "w.duckdb"),
                          "not a MediaWiki XML export")


def test_run_rejects_two_sources(tmp_path, seed_path):
    assert_one_line_error(infobox("run", "--file", seed_path, "--dump", seed_path, "--db",
                                  tmp_path / "w.duckdb"), "choose one source")


def test_run_with_an_unwritable_database_path(tmp_path, seed_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert_one_line_error(infobox("run", "--file", seed_path, "--db", blocker / "w.duckdb"),
                          "cannot create directory")


def test_run_with_a_locked_database_keeps_what_is_stored(loaded_db, seed_path):
    holder = duckdb.connect(str(loaded_db))  # this process now holds the write lock
    try:
        proc = infobox("run", "--file", seed_path, "--db", loaded_db, "--lock-wait", "1")
    finally:
        holder.close()
    assert_one_line_error(proc, "locked by another process")
    con = duckdb.connect(str(loaded_db), read_only=True)
    assert con.execute("select count(*) from infobox_fields").fetchall() == [(21,)]
    con.close()


def test_bad_option_value_is_reported(loaded_db):
    proc = infobox("sql", "select 1", "--db", loaded_db, "--format", "xml")
    assert proc.returncode == 2 and "xml" in proc.stderr


def test_run_on_the_bundled_sample_end_to_end(tmp_path):
    """What a newcomer does: run, query, run again, find the report — with clean output."""
    db = tmp_path / "data" / "warehouse.duckdb"
    first = infobox("run", "--db", db, timeout=300)
    assert first.returncode == 0, first.stderr
    output = first.stdout + first.stderr
    for noise in ("Traceback", "telemetry", "nanobind", "leaked", "Calculating Metrics"):
        assert noise not in output, noise
    assert "revisions loaded" in first.stdout and f"database: {db}" in first.stdout \
        and f"texts:    {db.parent / 'warehouse.texts.duckdb'}" in first.stdout
    report_line = [line for line in first.stdout.splitlines() if line.startswith("report:")][0]
    count = infobox("sql", "select count(*) from infobox_fields", "--db", db, "--format", "csv")
    assert count.stdout.splitlines()[0] == "count_star()"
    assert int(count.stdout.splitlines()[1]) > 0
    before = infobox("sql", "select (select count(*) from revisions), (select count(*) from "
                            "infobox_fields), (select count(*) from figures)", "--db", db,
                     "--format", "csv").stdout
    second = infobox("run", "--db", db, timeout=300)
    assert second.returncode == 0, second.stderr
    after = infobox("sql", "select (select count(*) from revisions), (select count(*) from "
                           "infobox_fields), (select count(*) from figures)", "--db", db,
                    "--format", "csv").stdout
    assert after == before
    report = infobox("report", "--db", db)
    assert report.returncode == 0
    path = report.stdout.strip().splitlines()[-1]
    assert path.endswith(".html") and (tmp_path / "data" / "reports").exists()
    assert open(path, encoding="utf-8").read().startswith("<!DOCTYPE html>")
    assert report_line.split(None, 1)[1] != path  # the second run wrote its own report
    listed = infobox("runs", "--db", db, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)
    assert [(r["status"], r["read"], r["loaded"]) for r in runs] == [("completed", 7, 0),
                                                                     ("completed", 7, 7)]
    assert all(r["source"].endswith("northern_mali_conflict.xml") for r in runs), runs
    assert all(r["flow_run_id"] and r["seconds"] > 0 and r["passed"] > 0 for r in runs), runs
    assert runs[1]["failed"] == 3  # the first run's warnings: totals, suspicious change, no infobox
    assert infobox("runs", "--db", db, "--limit", "0").returncode != 0


def test_critical_failure_exits_3_after_storing_everything(tmp_path, seed_path, prefect_api_env):
    """A critical expectation failing marks the run failed, keeps the data, exits 3."""
    from flows.runner import EXIT_CRITICAL

    db = tmp_path / "w.duckdb"
    con = connect(db)
    # A revision whose state is not stored: referential integrity (critical) fails.
    con.execute("INSERT INTO pages VALUES ('zhwiki', 999, 'Orphan', 0, 'zh', NULL, NULL)")
    con.execute("INSERT INTO revisions (wiki, rev_id, page_id, has_infobox, parser_version, source, "
                "run_id, state_id) VALUES ('zhwiki', 999, 999, true, 1, 'file', 'old', 12345)")
    # … and one of a page that is not stored (its problem has no article page: no crash)
    con.execute("INSERT INTO revisions (wiki, rev_id, page_id, has_infobox, parser_version, source, "
                "run_id, state_id) VALUES ('zhwiki', 998, 998, true, 1, 'file', 'old', 12345)")
    con.close()
    proc = infobox("run", "--file", seed_path, "--db", db, timeout=300, env=prefect_api_env)
    assert proc.returncode == EXIT_CRITICAL, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    status = infobox("sql", "select status, n_revisions_loaded from runs", "--db", db, "--format", "csv")
    assert status.stdout.splitlines()[1] == "failed,1"


def test_run_on_a_truncated_export_keeps_earlier_data_and_exits_1(tmp_path, seed_text, prefect_api_env):
    from tests.history import seed_history, write_history

    full = tmp_path / "full.xml"
    write_history(full, seed_history(seed_text)[:2])
    db = tmp_path / "w.duckdb"
    assert infobox("run", "--dump", full, "--db", db, "--quiet", timeout=300,
                   env=prefect_api_env).returncode == 0
    data = full.read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[: len(data) // 2])
    proc = infobox("run", "--dump", cut, "--db", db, "--quiet", timeout=300, env=prefect_api_env)
    assert_one_line_error(proc, "malformed or truncated")
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from revisions").fetchall() == [(2,)]
    con.close()
