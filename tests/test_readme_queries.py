"""Every query the README shows answers the same on the content-addressed warehouse as on the
per-revision layout it replaced (the baselines' tables, benchmarks/legacy_schema.sql, with that
layout's views, tests/data/layout_v3, filled with the parser's rows), on the bundled sample."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from benchmarks.legacy import SCHEMA as LEGACY_SCHEMA
from tasks.load import DERIVED_TABLES, batch_rows, load_batch, page_row, revision_rows
from tasks.parse import ParseCache
from tasks.sources.dump import read_dump
from tests.conftest import SAMPLE_DUMP
from warehouse.db import SCHEMA_DIR, connect, texts_path

ROOT = Path(__file__).resolve().parent.parent
LAYOUT_V3 = Path(__file__).with_name("data") / "layout_v3"


def readme_queries() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [" ".join(q.split()) for q in re.findall(r'infobox sql "(.*?)"', text, re.DOTALL)]


def _sample():
    for page in read_dump(SAMPLE_DUMP):
        return page, list(page.revisions)
    raise AssertionError("the sample has no page")


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """(new warehouse, per-revision warehouse), same revisions, same text store."""
    root = tmp_path_factory.mktemp("layouts")
    page, revisions = _sample()
    cache = ParseCache()
    parsed = [cache.parse(rev.text, page.site.lang, rev.sha1) for rev in revisions]
    new = connect(root / "new.duckdb")
    load_batch(new, batch_rows(page, revisions, parsed, "r1"))
    new.close()

    old = duckdb.connect(str(root / "old.duckdb"))
    old.execute((SCHEMA_DIR / "10_pages.sql").read_text(encoding="utf-8"))
    old.execute(LEGACY_SCHEMA.read_text(encoding="utf-8"))
    old.execute("DROP TABLE revision_texts")  # the texts are attached below, as in a warehouse
    for path in sorted(LAYOUT_V3.glob("*.sql")):
        old.execute(path.read_text(encoding="utf-8"))
    rows = revision_rows(page, revisions, parsed, "r1")
    rows["revisions"] = [{k: v for k, v in row.items() if k != "state_id"} for row in rows["revisions"]]
    for table, table_rows in [("pages", [page_row(page)]), ("revisions", rows["revisions"]),
                              *[(t, rows[t]) for t in DERIVED_TABLES]]:
        if table_rows:
            frame = pd.DataFrame.from_records(table_rows)
            old.register("frame", frame)
            old.execute(f"INSERT INTO {table} BY NAME SELECT * FROM frame")
            old.unregister("frame")
    old.execute(f"ATTACH '{texts_path(root / 'new.duckdb')}' AS texts (READ_ONLY)")
    yield connect(root / "new.duckdb", read_only=True), old
    old.close()


def test_the_readme_shows_queries():
    queries = readme_queries()
    assert len(queries) >= 5
    assert any("v_total_reconciliation" in q for q in queries)
    assert any("figures" in q for q in queries)


@pytest.mark.parametrize("query", readme_queries())
def test_a_readme_query_answers_as_before(both, query):
    new, old = both
    got = new.execute(query).fetchall()
    expected = old.execute(query).fetchall()
    if "order by" not in query.lower():
        got, expected = sorted(got, key=repr), sorted(expected, key=repr)
    assert got == expected
    assert got  # answers with rows, not two empty lists
