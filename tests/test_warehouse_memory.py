"""The writer connection's memory measures: a text store in shards of small row groups beside a warehouse
with DuckDB's default ones, a bounded checkpoint, allocator purges.

Why they exist and what they saved: docs/BENCHMARKS.md and docs/OPERATIONS.md ("Memory").
"""

from __future__ import annotations

import dataclasses
import pickle

import duckdb
import pytest

from tasks.load import TEXTS, batch_rows, load_batch
from tasks.parse import parse_revision
from tasks.sources.dump import read_dump
from tests.conftest import SAMPLE_DUMP
from warehouse import textstore
from warehouse.db import (
    ALLOCATOR,
    TEXTS_ROW_GROUP_SIZE,
    TEXTS_TABLE,
    connect,
    texts_path,
    transaction,
)


def _row_groups(con, table: str) -> int:
    return con.execute(f"SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('{table}')"
                       ).fetchall()[0][0]


def _write_texts(con, rows) -> int:
    """What a batch's first commit does: replace the texts of these revisions."""
    with transaction(con):
        textstore.delete(con, "wiki = ? AND rev_id IN (SELECT unnest(?::BIGINT[]))",
                         [rows[0]["wiki"], [r["rev_id"] for r in rows]])
        return textstore.append(con, rows)


def test_texts_get_small_row_groups_and_the_warehouse_default_ones(tmp_path):
    db = tmp_path / "w.duckdb"
    con = connect(db)
    con.execute("CREATE TABLE numbers AS SELECT range AS n FROM range(5000)")
    _write_texts(con, [{"wiki": "x", "rev_id": n, "text": f"t{n}"} for n in range(5000)])
    con.execute("CHECKPOINT")
    con.execute("CHECKPOINT texts")
    assert _row_groups(con, "numbers") == 1  # DuckDB's default: 122,880 rows
    shard = f"texts.{textstore.shard_name(1)}"
    assert TEXTS_ROW_GROUP_SIZE == 2048 and _row_groups(con, shard) == 3  # 2048 + 2048 + 904
    con.close()
    assert texts_path(db) == tmp_path / "w.texts.duckdb" and texts_path(db).is_file()
    # A plain read-only open of the warehouse file sees its tables; the project's readers also
    # see the texts.
    reader = duckdb.connect(str(db), read_only=True)
    assert reader.execute("SELECT count(*), sum(n) FROM numbers").fetchall() == [(5000, 12497500)]
    reader.close()
    reader = connect(db, read_only=True)
    assert reader.execute(f"SELECT count(*) FROM {TEXTS_TABLE}").fetchall() == [(5000,)]
    reader.close()


def test_texts_fill_shards_up_to_their_size_and_every_revision_is_stored_once(tmp_path, monkeypatch):
    monkeypatch.setattr(textstore, "SHARD_CHARS", 100)
    db = tmp_path / "w.duckdb"
    con = connect(db)
    batch = [{"wiki": "x", "rev_id": n, "text": f"{n:02d}" * 20} for n in range(3)]  # 120 characters
    assert _write_texts(con, batch[:1]) == 1  # 40 characters: shard 1
    assert _write_texts(con, batch[1:2]) == 1  # 80
    assert _write_texts(con, batch[2:]) == 1  # 120 would pass 100: shard 2
    big = [{"wiki": "x", "rev_id": n, "text": "b" * 150} for n in (10, 11)]
    assert _write_texts(con, big) == 2  # bigger than a shard: one of its own, never split
    assert _write_texts(con, [{"wiki": "x", "rev_id": 12, "text": "c"}]) == 1
    assert textstore.shards(con) == [(1, 2, 80), (2, 1, 40), (3, 2, 300), (4, 1, 1)]
    # Written again, a revision of shard 1 moves to the newest shard: one copy, the new text.
    assert _write_texts(con, [{"wiki": "x", "rev_id": 0, "text": "new"}]) == 1
    assert con.execute(f"SELECT rev_id, text FROM {TEXTS_TABLE} WHERE rev_id IN (0, 12) ORDER BY 1"
                       ).fetchall() == [(0, "new"), (12, "c")]
    assert con.execute(f"SELECT count(*), count(DISTINCT rev_id) FROM {TEXTS_TABLE}").fetchall() == [(6, 6)]
    assert con.execute("SELECT rev_id, shard FROM texts.text_locations ORDER BY 1").fetchall() == [
        (0, 4), (1, 1), (2, 2), (10, 3), (11, 3), (12, 4)]
    con.close()
    # Readers see the view over every shard (the schema is not run again by them).
    reader = connect(db, read_only=True)
    assert reader.execute(f"SELECT list(rev_id ORDER BY rev_id) FROM {TEXTS_TABLE}").fetchall() == [
        ([0, 1, 2, 10, 11, 12],)]
    reader.close()
    # Opened again by a writer, the shards go on where they were.
    con = connect(db)
    assert _write_texts(con, [{"wiki": "x", "rev_id": 13, "text": "d"}]) == 1
    assert textstore.shards(con)[-1] == (4, 3, 5)
    con.close()


def test_many_shards_are_written_under_a_small_cap(tmp_path, monkeypatch):
    # A write finds the shards of its revisions in text_locations, without reading the shards: one
    # query over every shard (a LIMIT-1 subquery each) failed a 32 MB cap at 45 shards, and the
    # writer's 128 MB at 30 shards of real texts.
    monkeypatch.setenv("INFOBOX_DUCKDB_MEMORY", "32MB")
    monkeypatch.setattr(textstore, "SHARD_CHARS", 1000)
    con = connect(tmp_path / "w.duckdb")
    for rev_id in range(60):
        _write_texts(con, [{"wiki": "x", "rev_id": rev_id, "text": "x" * 900}])
    _write_texts(con, [{"wiki": "x", "rev_id": 3, "text": "again"}])  # found in shard 4, moved to shard 60
    assert len(textstore.shards(con)) == 60
    assert con.execute(f"SELECT count(*), count(DISTINCT rev_id), max(text) FILTER (WHERE rev_id = 3) "
                       f"FROM {TEXTS_TABLE}").fetchall() == [(60, 60, "again")]
    con.close()


def test_a_revision_is_stored_once_across_the_shards(tmp_path, monkeypatch):
    monkeypatch.setattr(textstore, "SHARD_CHARS", 10)
    con = connect(tmp_path / "w.duckdb")
    _write_texts(con, [{"wiki": "x", "rev_id": 1, "text": "first text"}])
    # Appended again without its delete (into another shard): the key over all shards refuses it.
    with pytest.raises(duckdb.ConstraintException, match="[Dd]uplicate key"), transaction(con):
        textstore.append(con, [{"wiki": "x", "rev_id": 1, "text": "second text"}])
    assert con.execute(f"SELECT rev_id, text FROM {TEXTS_TABLE}").fetchall() == [(1, "first text")]
    # Deleted through the locations, from whichever shard holds it.
    with transaction(con):
        assert textstore.delete(con, "t.rev_id = ?", [1]) == 1
    assert con.execute(f"SELECT count(*) FROM {TEXTS_TABLE}").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM texts.text_locations").fetchall() == [(0,)]
    con.close()


def test_a_text_store_of_one_table_becomes_shard_one(tmp_path):
    # The layout before shards: texts.revision_texts was the table itself.
    db = tmp_path / "w.duckdb"
    old = duckdb.connect(str(texts_path(db)))
    old.execute("CREATE TABLE revision_texts (wiki VARCHAR NOT NULL, rev_id BIGINT NOT NULL, "
                "text VARCHAR NOT NULL, PRIMARY KEY (wiki, rev_id))")
    old.execute("INSERT INTO revision_texts VALUES ('x', 1, 'one'), ('x', 2, 'two')")
    old.close()
    con = connect(db)
    assert textstore.shards(con) == [(1, 2, 6)]
    assert con.execute("SELECT wiki, rev_id, shard FROM texts.text_locations ORDER BY 2").fetchall() == [
        ("x", 1, 1), ("x", 2, 1)]
    assert con.execute(f"SELECT rev_id, text FROM {TEXTS_TABLE} ORDER BY 1").fetchall() == [(1, "one"), (2, "two")]
    _write_texts(con, [{"wiki": "x", "rev_id": 2, "text": "deux"}, {"wiki": "x", "rev_id": 3, "text": "trois"}])
    assert con.execute(f"SELECT rev_id, text FROM {TEXTS_TABLE} ORDER BY 1").fetchall() == [
        (1, "one"), (2, "deux"), (3, "trois")]
    con.close()
    con = connect(db)  # once migrated, nothing more to do
    assert [n for n, _, _ in textstore.shards(con)] == [1]
    con.close()


def test_long_history_of_real_texts_checkpoints_under_a_small_cap(tmp_path, monkeypatch):
    # The sample's revision texts (≈ 44 KB), stored 6,000 times through the loader's own writes:
    # in one table of DuckDB's default 122,880-row groups a 64 MB cap fails a checkpoint after
    # about 3,600 of them ("failed to pin block"); the text store's shards keep it bounded.
    monkeypatch.setenv("INFOBOX_DUCKDB_MEMORY", "64MB")
    texts = [rev.text for page in read_dump(SAMPLE_DUMP) for rev in page.revisions if rev.text]
    con = connect(tmp_path / "w.duckdb")
    for batch in range(120):
        rows = [{"wiki": "x", "rev_id": batch * 50 + i, "text": texts[i % len(texts)] + f" <!-- {batch} {i} -->"}
                for i in range(50)]
        _write_texts(con, rows)
        con.execute("CHECKPOINT texts")
    assert con.execute(f"SELECT count(*) FROM {TEXTS_TABLE}").fetchall() == [(6000,)]
    assert len(textstore.shards(con)) > 10
    con.close()


def test_texts_committed_without_their_revisions_are_written_again(tmp_path):
    # The texts commit first, in their own file; a run killed before the warehouse's commit leaves
    # them without revisions. The next load must neither fail on them nor duplicate them.
    [(page, revisions)] = [(page, list(page.revisions)[:3]) for page in read_dump(SAMPLE_DUMP)]
    rows = batch_rows(page, revisions, [parse_revision(r.text, page.site.lang) for r in revisions], "r1")
    con = connect(tmp_path / "w.duckdb")
    _write_texts(con, rows.tables[TEXTS])
    assert con.execute("SELECT count(*) FROM revisions").fetchall() == [(0,)]
    counts = load_batch(con, rows)
    assert counts[TEXTS] == counts["revisions"] == 3
    stored = con.execute(f"SELECT t.rev_id, t.text = ? FROM {TEXTS_TABLE} t JOIN revisions USING (wiki, rev_id) "
                         "ORDER BY 1", [revisions[0].text]).fetchall()
    assert [r for r, _ in stored] == [r.rev_id for r in revisions] and stored[0][1] is True
    con.close()


def test_the_bundled_duckdb_allocator_can_be_purged():
    if not ALLOCATOR.purge():
        pytest.fail("DuckDB's jemalloc (duckdb_je_mallctl) was not found in this DuckDB build; "
                    "the ingest's memory figures assume it (docs/BENCHMARKS.md)")
    ALLOCATOR.trim()  # glibc's malloc_trim as well: must not raise
    # Dask pickles task code with its globals: the resolved ctypes handles must not travel.
    copy = pickle.loads(pickle.dumps(ALLOCATOR))
    assert copy is not ALLOCATOR and copy.purge()


def test_a_revision_reloaded_with_its_text_hidden_loses_the_stored_text(tmp_path):
    [(page, revisions)] = [(page, list(page.revisions)[:2]) for page in read_dump(SAMPLE_DUMP)]
    con = connect(tmp_path / "w.duckdb")
    load_batch(con, batch_rows(page, revisions, [parse_revision(r.text, page.site.lang) for r in revisions], "r1"))
    revisions[1] = dataclasses.replace(revisions[1], text=None)  # e.g. revision-deleted on the wiki since
    load_batch(con, batch_rows(page, revisions, [parse_revision(r.text, page.site.lang) for r in revisions], "r2"))
    assert con.execute(f"SELECT rev_id FROM {TEXTS_TABLE}").fetchall() == [(revisions[0].rev_id,)]
    assert con.execute("SELECT count(*) FROM revisions").fetchall() == [(2,)]
    con.close()
