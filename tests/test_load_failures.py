"""A failed load says why, is recorded, and loses nothing (issue 16, items 3–5): repeated and
conflicting revision ids, out of memory, a full disk, a 50 MB revision — through the real
`infobox run` on real DuckDB files, with a real Prefect API (the session's test harness)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from tasks.load import (
    TEXTS,
    TextWriter,
    batch_rows,
    forget_orphan_texts,
    load_batch,
    load_rows,
    write_texts,
)
from tasks.parse import parse_revision
from tasks.sources.export_xml import write_footer, write_header, write_page
from tasks.sources.model import PageHistory, Revision, SiteInfo
from tests.history import seed_history
from warehouse import textstore
from warehouse.db import TEXTS_TABLE, connect, transaction
from warehouse.errors import LoadError

DATA_TABLES = ("pages", "revisions", "infoboxes", "infobox_fields", "belligerents", "figures",
               "citations", "parse_issues")


def revisions_of(texts: list[str], rev_ids: list[int]) -> list[Revision]:
    start = datetime(2020, 1, 1, 8)
    return [Revision(rev_id=rev_id, parent_id=None, timestamp=start + timedelta(hours=i),
                     user="Editor", comment=f"edit {i}", sha1=Revision.sha1_of(text),
                     size=len(text.encode("utf-8")), text=text)
            for i, (text, rev_id) in enumerate(zip(texts, rev_ids, strict=True))]


def write_dump(path: Path, revisions: list[Revision]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        write_header(fh, dbname="zhwiki", lang="zh", base="http://127.0.0.1:9/index.php/Main_Page")
        write_page(fh, 5000, "马利北部冲突", revisions)
        write_footer(fh)
    return path


def infobox(*args, env_extra=None, preexec_fn=None, timeout=900):
    from prefect.settings import get_current_settings

    env = {k: v for k, v in os.environ.items() if k != "INFOBOX_DUCKDB_MEMORY"}  # the defaults
    env.update({"PREFECT_API_URL": str(get_current_settings().api.url), **(env_extra or {})})
    return subprocess.run([sys.executable, "-m", "flows.cli", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout, preexec_fn=preexec_fn)


def query(db, sql, params=()):
    con = connect(db, read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def rows_of(db) -> dict[str, list[tuple]]:
    """Every row of every data table and of the text store, without run ids."""
    con = connect(db, read_only=True)
    try:
        out = {}
        for table in (*DATA_TABLES, TEXTS_TABLE):
            out[table] = con.execute(f"SELECT COLUMNS(lambda c: c <> 'run_id') FROM {table} ORDER BY ALL").fetchall()
        return out
    finally:
        con.close()


def one_error_line(proc) -> str:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


# --- the loader alone (no Prefect) --------------------------------------------------------------

def test_a_duplicate_key_in_a_batch_is_reported_as_such_and_leaves_no_text(tmp_path, seed_text):
    db = tmp_path / "w.duckdb"
    texts = seed_history(seed_text)[:3]
    revisions = revisions_of([*texts, texts[0]], [1000, 1001, 1002, 1000])
    page = PageHistory(SiteInfo("zhwiki", "zh", None), 5000, "马利北部冲突", 0, iter(()))
    con = connect(db)
    with pytest.raises(LoadError) as failure:
        load_batch(con, batch_rows(page, revisions, [parse_revision(r.text, "zh") for r in revisions], "r"))
    message = str(failure.value)
    assert "duplicate key" in message.lower() and "aborted" not in message.lower(), message
    assert "4 revisions (1000–1002)" in message
    # Nothing of the batch is kept: no revision, and no text without its revision.
    assert con.execute(f"SELECT count(*) FROM {TEXTS_TABLE}").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM revisions").fetchone() == (0,)
    # The connection is usable afterwards: the same batch without the repeat loads.
    counts = load_batch(con, batch_rows(page, revisions[:3], [parse_revision(r.text, "zh") for r in revisions[:3]], "r"))
    assert counts["revisions"] == counts[TEXTS] == 3
    con.close()


def _writer_batches(seed_text: str, repeat_in: int | None = None) -> list:
    """Three batches (rows, revisions) of a real history (seed_history), the one at ``repeat_in``
    repeating its first revision id (a duplicate key: that batch fails to load)."""
    texts = (seed_history(seed_text) * 2)[:9]
    page = PageHistory(SiteInfo("zhwiki", "zh", None), 5000, "马利北部冲突", 0, iter(()))
    batches = []
    for n in range(3):
        ids = [1000 + 3 * n + i for i in range(3)]
        chunk = texts[3 * n:3 * n + 3]
        if n == repeat_in:
            ids, chunk = [*ids, ids[0]], [*chunk, chunk[0]]
        revisions = revisions_of(chunk, ids)
        batches.append((batch_rows(page, revisions, [parse_revision(r.text, "zh") for r in revisions], "r"),
                        revisions))
    return batches


def _with_texts_from_the_writer(con, writer: TextWriter, rows, revisions) -> dict:
    """Load a batch as the flow does: texts on the writer's thread, then the rest."""
    writer.start(rows.page, revisions)
    n_texts, seconds = writer.finish()
    assert seconds > 0
    return {TEXTS: n_texts, **load_rows(con, rows)}


def test_texts_written_by_the_writer_thread_store_what_load_batch_stores(tmp_path, seed_text):
    batches = _writer_batches(seed_text)
    con = connect(tmp_path / "serial.duckdb")
    expected = [load_batch(con, rows) for rows, _revisions in batches]
    con.close()
    con = connect(tmp_path / "writer.duckdb")
    writer = TextWriter(con)
    got = [_with_texts_from_the_writer(con, writer, replace(rows, tables={**rows.tables, TEXTS: []}),
                                       revisions) for rows, revisions in batches]
    writer.close()
    con.close()
    assert got == expected
    assert rows_of(tmp_path / "writer.duckdb") == rows_of(tmp_path / "serial.duckdb")
    assert query(tmp_path / "writer.duckdb", f"SELECT count(*) FROM {TEXTS_TABLE}") == [(9,)]


def test_texts_the_writer_cannot_store_fail_their_batch_only(tmp_path, seed_text):
    (first, first_revs), (bad, bad_revs), (last, last_revs) = _writer_batches(seed_text, repeat_in=1)
    con = connect(tmp_path / "w.duckdb")
    writer = TextWriter(con)
    _with_texts_from_the_writer(con, writer, first, first_revs)
    writer.start(bad.page, bad_revs)
    with pytest.raises(LoadError) as failure:
        writer.finish()
    message = str(failure.value)
    assert "duplicate key" in message.lower() and "4 revisions (1003–1005)" in message, message
    # The failed batch left nothing; the thread and its connection go on with the next one.
    assert con.execute(f"SELECT count(*) FROM {TEXTS_TABLE}").fetchone() == (3,)
    _with_texts_from_the_writer(con, writer, last, last_revs)
    writer.close()
    assert con.execute("SELECT list(rev_id ORDER BY rev_id) FROM revisions").fetchone() == (
        [1000, 1001, 1002, 1006, 1007, 1008],)
    assert con.execute(f"SELECT count(*) FROM {TEXTS_TABLE}").fetchone() == (6,)
    con.close()


def test_a_batch_given_up_while_its_texts_are_written_leaves_no_text(tmp_path, seed_text):
    (first, first_revs), (second, second_revs), _ = _writer_batches(seed_text)
    con = connect(tmp_path / "w.duckdb")
    writer = TextWriter(con)
    _with_texts_from_the_writer(con, writer, first, first_revs)
    writer.start(second.page, second_revs)  # as when the parse of this batch is interrupted
    writer.discard(con)
    writer.close()
    assert con.execute(f"SELECT list(rev_id ORDER BY rev_id) FROM {TEXTS_TABLE}").fetchone() == (
        [1000, 1001, 1002],)
    con.close()


def test_transaction_rolls_back_without_hiding_the_first_error(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    with pytest.raises(duckdb.ConstraintException, match="(?i)duplicate key"):
        with transaction(con):
            con.execute("INSERT INTO runs (run_id, started_at, source, status) VALUES "
                        "('a', now(), 's', 'running'), ('a', now(), 's', 'running')")
            con.execute("SELECT 1")  # never reached
    assert con.execute("SELECT count(*) FROM runs").fetchone() == (0,)
    con.close()


def test_texts_left_by_a_run_killed_between_the_two_commits_are_deleted(tmp_path, monkeypatch):
    monkeypatch.setattr(textstore, "SHARD_CHARS", 10)  # one shard per batch below
    con = connect(tmp_path / "w.duckdb")
    for rev_id in (7, 8):  # what the texts' commits of two killed batches leave
        with transaction(con):
            textstore.append(con, [{"wiki": "zhwiki", "rev_id": rev_id, "text": "orphan text"}])
    assert [n for n, _, _ in textstore.shards(con)] == [1, 2]
    assert forget_orphan_texts(con) == 2
    assert con.execute(f"SELECT count(*) FROM {TEXTS_TABLE}").fetchone() == (0,)
    con.close()


# --- the real CLI --------------------------------------------------------------------------------

cli = pytest.mark.usefixtures("prefect_harness")


@cli
def test_a_repeated_revision_keeps_the_first_copy_and_loads_the_others(tmp_path, seed_text):
    texts = seed_history(seed_text)
    ids = [1000 + i for i in range(len(texts))]
    # Revision 1003 comes twice, the second time with another text; everything else once.
    dump = write_dump(tmp_path / "repeated.xml",
                      revisions_of([*texts[:4], texts[0], *texts[4:]], [*ids[:4], 1003, *ids[4:]]))
    db = tmp_path / "w.duckdb"
    # A text a killed run left without its revision: the next run deletes it.
    con = connect(db)
    with transaction(con):
        textstore.append(con, [{"wiki": "zhwiki", "rev_id": 999999, "text": "orphan"}])
    con.close()

    first = infobox("run", "--dump", dump, "--db", db, "--quiet")
    assert first.returncode == 0, first.stderr
    assert "warning: 1 repeated revision id(s) in the source" in first.stdout
    assert query(db, "SELECT count(*) FROM revisions") == [(6,)]
    assert query(db, f"SELECT text = ? FROM {TEXTS_TABLE} WHERE rev_id = 1003", [texts[3]]) == [(True,)]
    assert query(db, f"SELECT count(*) FROM {TEXTS_TABLE} WHERE rev_id = 999999") == [(0,)]
    issue = query(db, "SELECT rev_id, severity, message FROM parse_issues WHERE code = 'duplicate_revision'")
    assert len(issue) == 1 and issue[0][:2] == (1003, "warning") and "first copy is kept" in issue[0][2]
    assert query(db, "SELECT status, n_revisions_read, n_revisions_loaded FROM runs") == [("completed", 7, 6)]

    # The same dump again: nothing loaded, nothing duplicated, the same warning.
    before = rows_of(db)
    again = infobox("run", "--dump", dump, "--db", db, "--quiet")
    assert again.returncode == 0, again.stderr
    assert "warning: 1 repeated revision id(s)" in again.stdout
    assert rows_of(db) == before

    # A different text under a stored rev id: kept as stored, said, recorded.
    changed = write_dump(tmp_path / "changed.xml", revisions_of([texts[2] + "\n[[Category:x]]"], [1001]))
    third = infobox("run", "--dump", changed, "--db", db, "--quiet")
    assert third.returncode == 0, third.stderr
    assert ("warning: 1 revision(s) arrived with a different text than the one stored under their "
            "id: the stored text was kept") in third.stdout
    assert query(db, f"SELECT text = ? FROM {TEXTS_TABLE} WHERE rev_id = 1001", [texts[1]]) == [(True,)]
    assert query(db, "SELECT rev_id, message LIKE '%stored text is kept%' FROM parse_issues "
                     "WHERE code = 'conflicting_revision'") == [(1001, True)]


@cli
def test_out_of_memory_reaches_the_user_and_the_run_is_marked_failed(tmp_path, seed_text):
    """An 11 MB revision under an 8 MB cap: everything else of the run fits, its text does not."""
    path = tmp_path / "big.wikitext"
    path.write_text(seed_text + "plain words only here\n" * 500_000, encoding="utf-8")
    db = tmp_path / "w.duckdb"
    proc = infobox("run", "--file", path, "--db", db, "--quiet",
                   env_extra={"INFOBOX_DUCKDB_MEMORY": "8MB"})
    line = one_error_line(proc)
    assert "Out of Memory" in line and "INFOBOX_DUCKDB_MEMORY" in line, line
    assert "loading revision" in line and "aborted" not in line.lower(), line
    status, message = query(db, "SELECT status, message FROM runs")[0]
    assert status == "failed" and "Out of Memory" in message
    assert query(db, f"SELECT count(*) FROM {TEXTS_TABLE}") == [(0,)]
    assert query(db, "SELECT count(*) FROM revisions") == [(0,)]


def test_a_batch_out_of_memory_under_the_ingest_cap_is_written_again_with_more(tmp_path, seed_text,
                                                                              monkeypatch, caplog):
    """The ingest's low cap (flows.ingest.INGEST_MEMORY) is not a limit on revisions: a batch
    whose text (11 MB) does not fit an 8 MB cap is written again once under RETRY_MEMORY, the
    cap stays raised for the rest of the run, and the rows are those of any other load. Set by
    the user (INFOBOX_DUCKDB_MEMORY), the cap stands: the test above."""
    monkeypatch.delenv("INFOBOX_DUCKDB_MEMORY", raising=False)
    from tasks.load import RETRY_MEMORY
    from warehouse.db import size_bytes

    text = seed_text + "plain words only here\n" * 500_000
    revisions = revisions_of([seed_text, text], [1000, 1001])
    page = PageHistory(SiteInfo("zhwiki", "zh", None), 5000, "马利北部冲突", 0, iter(()))
    con = connect(tmp_path / "w.duckdb")
    con.execute("SET memory_limit = '8MB'")
    rows = batch_rows(page, revisions, [parse_revision(r.text, "zh") for r in revisions], "r")
    with caplog.at_level("WARNING", logger="tasks.load"):
        counts = load_batch(con, rows)
    assert counts["revisions"] == counts[TEXTS] == 2
    assert any("ran out of DuckDB memory" in r.getMessage() and RETRY_MEMORY in r.getMessage()
               for r in caplog.records), caplog.text
    (cap,) = con.execute("SELECT current_setting('memory_limit')").fetchone()
    assert size_bytes(cap) >= size_bytes(RETRY_MEMORY) * 0.9
    assert con.execute(f"SELECT list(length(text) ORDER BY rev_id) FROM {TEXTS_TABLE}").fetchone() == (
        [len(seed_text), len(text)],)
    assert con.execute("SELECT count(*) FROM infoboxes").fetchone() == (2,)
    con.close()


def _many_texts_dump(path: Path, seed_text: str, n: int = 40) -> Path:
    """n revisions of ≈ 100 KB each, all different (≈ 4 MB of text)."""
    texts = [f"{seed_text}\n<!-- {i} -->\n{seed_text}\n" for i in range(n)]
    return write_dump(path, revisions_of(texts, [2000 + i for i in range(n)]))


def _check_disk_full_then_recovery(proc, db, dump, tmp_path):
    line = one_error_line(proc)
    assert "full" in line and ("No space left" in line or "File too large" in line), line
    runs = query(db, "SELECT status, message FROM runs")
    assert len(runs) == 1 and runs[0][0] == "failed", runs
    assert "No space left" in runs[0][1] or "File too large" in runs[0][1], runs
    assert query(db, f"SELECT count(*) FROM {TEXTS_TABLE} t ANTI JOIN revisions r USING (wiki, rev_id)") == [(0,)]
    return runs


@cli
def test_a_full_disk_marks_the_run_failed_with_its_reason_file_size_limit(tmp_path, seed_text):
    """`ulimit -f` (RLIMIT_FSIZE) in the child: writes past 3 MB fail with EFBIG, as on a full disk."""
    dump = _many_texts_dump(tmp_path / "many.xml", seed_text)
    db = tmp_path / "w.duckdb"
    proc = infobox("run", "--dump", dump, "--db", db, "--quiet",
                   preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (3_000_000, 3_000_000)))
    _check_disk_full_then_recovery(proc, db, dump, tmp_path)
    # With room again, the next run loads everything, as a clean run does.
    assert infobox("run", "--dump", dump, "--db", db, "--quiet").returncode == 0
    clean = tmp_path / "clean.duckdb"
    assert infobox("run", "--dump", dump, "--db", clean, "--quiet").returncode == 0
    assert rows_of(db) == rows_of(clean)


def _can_mount_tmpfs(mountpoint: Path) -> bool:
    mountpoint.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mountpoint)],
                          capture_output=True).returncode == 0


@cli
def test_a_full_disk_marks_the_run_failed_with_its_reason_tmpfs(tmp_path, seed_text):
    """A real full file system: a 3 MB tmpfs (needs the right to mount; CI runs as root)."""
    disk = tmp_path / "disk"
    if not _can_mount_tmpfs(disk):
        # A sandbox capability, not a dependency: a container may refuse mount even to root. The
        # same failure path is covered everywhere by the file-size-limit variant above.
        pytest.skip("this machine refuses to mount a tmpfs (the file-size-limit variant still runs)")
    try:
        dump = _many_texts_dump(tmp_path / "many.xml", seed_text)
        db = disk / "w.duckdb"
        proc = infobox("run", "--dump", dump, "--db", db, "--quiet")
        _check_disk_full_then_recovery(proc, db, dump, tmp_path)
    finally:
        subprocess.run(["umount", str(disk)], check=False)


@cli
@pytest.mark.slow
def test_a_50_mb_revision_loads_with_the_default_settings(tmp_path, seed_text):
    body = "马利北部冲突是2012年起发生的武装冲突。参见[[马里]]。\n" * 10
    size = 50 * 1024 * 1024
    text = seed_text + body * (size // len(body.encode("utf-8")) + 1)
    path = tmp_path / "big.wikitext"
    path.write_text(text, encoding="utf-8")
    db = tmp_path / "w.duckdb"
    proc = infobox("run", "--file", path, "--db", db, "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert query(db, f"SELECT length(text) = ?, strlen(text) > ? FROM {TEXTS_TABLE}",
                 [len(text), size]) == [(True, True)]
    assert query(db, "SELECT status FROM runs") == [("completed",)]
    assert query(db, "SELECT count(*) FROM infoboxes") == [(1,)]



def test_texts_left_without_revisions_are_deleted_under_the_ingest_cap(tmp_path, seed_text,
                                                                      monkeypatch, caplog):
    """A text store far bigger than the cap, none of whose texts has a revision (its warehouse file
    was deleted and the store kept, or killed runs left them): the clean-up at a run's start deletes
    them all, raising the cap once as for a batch. Under the cap it failed quietly, and each batch
    then deleted its stale texts itself — a 20,000-revision store under the ingest's 64 MB failed a
    run that way ("Conflict on tuple deletion")."""
    monkeypatch.delenv("INFOBOX_DUCKDB_MEMORY", raising=False)
    con = connect(tmp_path / "w.duckdb")
    page = {"wiki": "zhwiki", "title": "马利北部冲突"}
    for start in range(1000, 1600, 100):  # 600 texts of the seed, ≈ 30 MB
        ids = list(range(start, start + 100))
        write_texts(con, page, [{"wiki": "zhwiki", "rev_id": i, "text": f"{seed_text}\n{i}"}
                                for i in ids], ids)
    con.execute("SET memory_limit = '8MB'")
    with caplog.at_level("WARNING", logger="tasks.load"):
        assert forget_orphan_texts(con) == 600
    assert "ran out of DuckDB memory" in caplog.text
    assert con.execute(f"SELECT count(*) FROM {TEXTS_TABLE}").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM texts.text_locations").fetchone() == (0,)
    con.close()
