"""How the ingest cuts a history into load batches, and the loader's bulk insert."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest

import flows.ingest as ingest_module
from flows.ingest import _chunks
from tasks.sources.model import PageHistory, Revision, SiteInfo
from warehouse.db import append_rows, connect, transaction
from warehouse.errors import WarehouseError


def _history(sizes: list[int]) -> PageHistory:
    revisions = [Revision(rev_id=1000 + n, parent_id=999 + n if n else None,
                          timestamp=datetime(2020, 1, 1), user="u", comment=None,
                          sha1=None, size=size, text="x" * size) for n, size in enumerate(sizes)]
    return PageHistory(site=SiteInfo("zhwiki", "zh", None), page_id=1, title="t", namespace=0,
                       revisions=iter(revisions))


def _batches(tmp_path, sizes: list[int], batch_size: int) -> list[list[int]]:
    con = connect(tmp_path / "w.duckdb")
    counts: Counter = Counter()
    try:
        return [[rev.size for rev in chunk] for chunk in _chunks(
            con, _history(sizes), "run", counts, batch_size, {"read": 0.0}, [], Counter())]
    finally:
        con.close()


def test_a_batch_closes_at_its_revision_count(tmp_path):
    assert _batches(tmp_path, [10] * 7, batch_size=3) == [[10] * 3, [10] * 3, [10]]


def test_a_batch_of_big_revisions_closes_at_its_text_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest_module, "BATCH_TEXT_BYTES", 100)
    # 40 + 40 + 40 reaches 100: three big revisions a batch; small ones fill up to the count.
    assert _batches(tmp_path, [40] * 7 + [1] * 5, batch_size=5) == [
        [40] * 3, [40] * 3, [40, 1, 1, 1, 1], [1]]


def test_append_rows_inserts_by_column_name_with_the_tables_types(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    con.execute("CREATE TABLE t (n BIGINT, refs VARCHAR[], seen_at TIMESTAMP, \"odd name\" DOUBLE)")
    with transaction(con):
        added = append_rows(con, "t", [
            {"n": 1, "refs": ["a", "b"], "seen_at": datetime(2020, 5, 1, 12, 30)},
            {"n": None, "refs": None, "odd name": 1.5},  # a key missing from a row is NULL there
        ])
    assert added == 2
    assert con.execute("SELECT * FROM t ORDER BY n NULLS LAST").fetchall() == [
        (1, ["a", "b"], datetime(2020, 5, 1, 12, 30), None), (None, None, None, 1.5)]
    assert append_rows(con, "t", []) == 0
    with pytest.raises(WarehouseError, match="t has no column 'colour'"):
        append_rows(con, "t", [{"n": 2, "colour": "blue"}])
    con.close()


def test_append_rows_describes_a_table_again_after_it_changes(tmp_path):
    from warehouse.db import forget_column_types

    con = connect(tmp_path / "w.duckdb")
    con.execute("CREATE TABLE t (n BIGINT)")
    append_rows(con, "t", [{"n": 1}])
    con.execute("ALTER TABLE t ADD COLUMN label VARCHAR")
    forget_column_types(con)
    append_rows(con, "t", [{"n": 2, "label": "two"}])
    assert con.execute("SELECT * FROM t ORDER BY n").fetchall() == [(1, None), (2, "two")]
    con.close()
