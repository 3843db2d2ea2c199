"""The writer connection's memory measures: small row groups, a bounded checkpoint, allocator purges.

Why they exist and what they saved: docs/BENCHMARKS.md and docs/OPERATIONS.md ("Memory").
"""

from __future__ import annotations

import pickle

import duckdb
import pytest

from tasks.sources.dump import read_dump
from tests.conftest import SAMPLE_DUMP
from warehouse.db import ALLOCATOR, ROW_GROUP_SIZE, connect


def test_writers_store_row_groups_of_row_group_size(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    con.execute("CREATE TABLE numbers AS SELECT range AS n FROM range(5000)")
    con.execute("CHECKPOINT")
    groups = con.execute("SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('numbers')"
                         ).fetchall()[0][0]
    con.close()
    assert ROW_GROUP_SIZE == 2048 and groups == 3  # 2048 + 2048 + 904 rows
    # Readers see the same rows through a plain read-only open.
    reader = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert reader.execute("SELECT count(*), sum(n) FROM numbers").fetchall() == [(5000, 12497500)]
    reader.close()


def test_long_history_of_real_texts_checkpoints_under_a_small_cap(tmp_path, monkeypatch):
    # The sample's revision texts (≈ 44 KB), stored 6,000 times: with DuckDB's default 122,880-row
    # groups a 64 MB cap fails a checkpoint after about 3,600 of them ("failed to pin block").
    monkeypatch.setenv("INFOBOX_DUCKDB_MEMORY", "64MB")
    texts = [rev.text for page in read_dump(SAMPLE_DUMP) for rev in page.revisions if rev.text]
    con = connect(tmp_path / "w.duckdb", init_schema=False)
    con.execute("CREATE TABLE texts (id BIGINT, body VARCHAR)")
    for batch in range(120):
        rows = [(batch * 50 + i, texts[i % len(texts)] + f" <!-- {batch} {i} -->") for i in range(50)]
        con.execute("BEGIN TRANSACTION")
        con.executemany("INSERT INTO texts VALUES (?, ?)", rows)
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    assert con.execute("SELECT count(*) FROM texts").fetchall() == [(6000,)]
    con.close()


def test_the_bundled_duckdb_allocator_can_be_purged():
    if not ALLOCATOR.purge():
        pytest.fail("DuckDB's jemalloc (duckdb_je_mallctl) was not found in this DuckDB build; "
                    "the ingest's memory figures assume it (docs/BENCHMARKS.md)")
    ALLOCATOR.trim()  # glibc's malloc_trim as well: must not raise
    # Dask pickles task code with its globals: the resolved ctypes handles must not travel.
    copy = pickle.loads(pickle.dumps(ALLOCATOR))
    assert copy is not ALLOCATOR and copy.purge()
