"""The content-addressed warehouse: its per-revision views show exactly the rows the parser gives
each revision (tasks.load.revision_rows), on real wikitext; readings are stored once; an old
per-revision warehouse is migrated by re-deriving from its texts."""

from __future__ import annotations

import dataclasses

import pytest

from benchmarks.accuracy import corpus_files, read_corpus_text
from tasks.load import DERIVED_TABLES, VALUE_TABLES, batch_rows, load_batch, rederive_stored, revision_rows
from tasks.parse import ParseCache, parse_revision
from tasks.sources.dump import read_dump
from tasks.sources.model import PageHistory, Revision, SiteInfo
from tests.conftest import SAMPLE_DUMP
from warehouse import db
from warehouse.db import connect, table_counts

CORPUS = [(lang, path) for lang, paths in corpus_files().items() for path in paths]


def _view_rows(con, table: str, columns: list[str]) -> list[tuple]:
    listed = ", ".join(columns)
    return sorted(con.execute(f"SELECT {listed} FROM {table}").fetchall(), key=repr)


def _expected(rows: list[dict], columns: list[str]) -> list[tuple]:
    return sorted((tuple(row[c] for c in columns) for row in rows), key=repr)


def _columns(con, table: str) -> list[str]:
    return [name for (name,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND database_name = "
        "current_database() ORDER BY column_index", [table]).fetchall()]


def _assert_views_equal(con, expected: dict[str, list[dict]]) -> None:
    for table in ("revisions", *DERIVED_TABLES):
        columns = [c for c in _columns(con, table) if table != "revisions" or c in expected[table][0]]
        assert _view_rows(con, table, columns) == _expected(expected[table], columns), table


def _sample() -> tuple[PageHistory, list[Revision]]:
    for page in read_dump(SAMPLE_DUMP):  # the reader is lazy: take the revisions while on the page
        return page, list(page.revisions)
    raise AssertionError("the sample has no page")


def _corpus_page(lang: str, paths) -> tuple[PageHistory, list[Revision]]:
    site = SiteInfo(wiki=f"{lang}wiki", lang=lang, base_url=None)
    revisions = []
    for n, path in enumerate(paths, start=1):
        text = read_corpus_text(path)
        revisions.append(Revision(rev_id=n, parent_id=n - 1 or None, timestamp=None, user=None,
                                  comment=None, sha1=None, size=len(text.encode("utf-8")), text=text))
    return PageHistory(site=site, page_id=1, title=f"corpus {lang}", namespace=0, revisions=revisions,
                       source="file"), revisions


@pytest.mark.parametrize("lang", sorted(corpus_files()))
def test_views_show_what_the_parser_read_on_the_real_corpus(tmp_path, lang):
    page, revisions = _corpus_page(lang, corpus_files()[lang])
    parsed = [parse_revision(rev.text, lang) for rev in revisions]
    con = connect(tmp_path / "w.duckdb")
    load_batch(con, batch_rows(page, revisions, parsed, "r1"))
    expected = revision_rows(page, revisions, parsed, "r1")
    assert expected["figures"] or lang == "ru"  # real figures are compared, not empty lists
    _assert_views_equal(con, expected)
    con.close()


def test_the_sample_history_is_stored_once_per_distinct_reading(tmp_path):
    page, revisions = _sample()
    cache = ParseCache()
    parsed = [cache.parse(rev.text, page.site.lang, rev.sha1) for rev in revisions]
    con = connect(tmp_path / "w.duckdb")
    load_batch(con, batch_rows(page, revisions, parsed, "r1"))
    _assert_views_equal(con, revision_rows(page, revisions, parsed, "r1"))
    counts = table_counts(con)
    assert counts["revisions"] == len(revisions)
    assert counts["states"] == len({p.state_id for p in parsed}) < len(revisions)
    # A revert and an edit of one figure: the revert adds its revision row and nothing else; the
    # edit adds one field value (and the list of value ids of its new state).
    first = revisions[0]
    revert = dataclasses.replace(first, rev_id=10**6, parent_id=revisions[-1].rev_id)
    figure, number = next((v, str(f["low"])) for v in parsed[0].infoboxes[0].fields for f in v.figures
                          if f["low"] and f["low"] >= 10 and str(f["low"]) in v.raw)
    edited_text = first.text.replace(figure.raw, figure.raw.replace(number, str(int(number) + 1), 1), 1)
    edit = dataclasses.replace(first, rev_id=10**6 + 1, sha1=None, text=edited_text)
    before = table_counts(con)
    load_batch(con, batch_rows(page, [revert], [cache.parse(revert.text, page.site.lang)], "r2"))
    after_revert = table_counts(con)
    assert {t: after_revert[t] - before[t] for t in after_revert if after_revert[t] != before[t]} \
        == {"revisions": 1}
    edited = parse_revision(edit.text, page.site.lang)
    load_batch(con, batch_rows(page, [edit], [edited], "r3"))
    after_edit = table_counts(con)
    grown = {t: after_edit[t] - after_revert[t] for t in after_edit if after_edit[t] != after_revert[t]}
    assert grown["revisions"] == 1 and grown["states"] == 1 and grown["field_values"] == 1
    assert grown.get("value_figures", 0) == len(figure.figures)
    assert set(grown) <= {"revisions", "states", "state_boxes", "state_fields", *VALUE_TABLES}
    (shown,) = con.execute("SELECT count(*) FROM figures WHERE rev_id = ?", [edit.rev_id]).fetchone()
    assert shown == sum(len(b.figures) for b in edited.infoboxes)
    con.close()


def test_a_per_revision_warehouse_is_migrated_from_its_texts(tmp_path):
    page, revisions = _sample()
    parsed = [parse_revision(rev.text, page.site.lang) for rev in revisions]
    path = tmp_path / "w.duckdb"
    con = connect(path)
    load_batch(con, batch_rows(page, revisions, parsed, "r1"))
    expected = revision_rows(page, revisions, parsed, "r1")
    # Make it look like a warehouse of the previous layout: per-revision tables, no states, and a
    # delivery issue that must survive.
    con.execute("INSERT INTO revision_issues VALUES (?, ?, NULL, NULL, 'warning', "
                "'duplicate_revision', 'seen twice', NULL)", [page.site.wiki, revisions[0].rev_id])
    for table in DERIVED_TABLES:
        con.execute(f"CREATE TABLE legacy_{table} AS SELECT * FROM {table}")
    for table in (*DERIVED_TABLES, "v_revision_history", "v_suspicious_changes", "v_total_reconciliation"):
        con.execute(f"DROP VIEW IF EXISTS {table}")
    con.execute("DROP MACRO TABLE IF EXISTS reconcile_totals")
    for table in DERIVED_TABLES:
        con.execute(f"ALTER TABLE legacy_{table} RENAME TO {table}")
    for table in ("states", "state_boxes", "state_fields", "state_issues", "revision_issues",
                  *VALUE_TABLES):
        con.execute(f"DROP TABLE {table}")
    con.execute("ALTER TABLE revisions DROP COLUMN state_id")
    con.close()

    con = connect(path)  # the writer migrates: per-revision tables dropped, states to re-derive
    (pending,) = con.execute("SELECT count(*) FROM revisions WHERE state_id IS NULL").fetchone()
    assert pending == len(revisions)
    assert rederive_stored(con, ParseCache().parse, chunk=3) == len(revisions)
    expected["parse_issues"].append({"wiki": page.site.wiki, "rev_id": revisions[0].rev_id,
                                     "box_idx": None, "field": None, "severity": "warning",
                                     "code": "duplicate_revision", "message": "seen twice", "raw": None})
    _assert_views_equal(con, {**expected, "revisions": [{k: v for k, v in row.items() if k != "run_id"}
                                                        for row in expected["revisions"]]})
    assert rederive_stored(con, ParseCache().parse) == 0
    con.close()


# The rows of a state or value, by what identifies one: no primary key holds them (issue 17).
ROW_KEYS = {"state_boxes": "state_id, box_idx", "state_fields": "state_id, box_idx, seq",
            "state_issues": "state_id, idx", "value_belligerents": "value_id, seq",
            "value_figures": "value_id, seq", "value_citations": "value_id, ref_name",
            "value_issues": "value_id, idx"}


def _repeated_keys(con) -> dict[str, int]:
    out = {}
    for table, key in ROW_KEYS.items():
        (rows, keys) = con.execute(f"SELECT count(*), count(DISTINCT ({key})) FROM {table}").fetchone()
        out[table] = rows - keys
    return out


def test_state_and_value_rows_are_written_once_however_often_they_are_loaded(tmp_path):
    """Loaded, loaded again in other batches, then re-derived: no row of a state or a value
    is ever written twice (the loader, not a key, keeps them unique)."""
    page, revisions = _sample()
    con = connect(tmp_path / "w.duckdb")
    assert not con.execute("SELECT count(*) FROM duckdb_constraints() WHERE constraint_type = "
                           "'PRIMARY KEY' AND table_name IN (SELECT unnest(?::VARCHAR[]))",
                           [list(ROW_KEYS)]).fetchone()[0]
    cache = ParseCache()
    parsed = [cache.parse(rev.text, page.site.lang, rev.sha1) for rev in revisions]
    load_batch(con, batch_rows(page, revisions, parsed, "r1"))
    first = table_counts(con)
    assert all(first[t] for t in ("state_boxes", "state_fields", "value_figures", "value_citations"))
    half = len(revisions) // 2
    for part in (revisions[half:], revisions[:half + 1]):  # overlapping batches of a second run
        again = [ParseCache().parse(rev.text, page.site.lang) for rev in part]
        load_batch(con, batch_rows(page, part, again, "r2"))
    con.execute("UPDATE revisions SET state_id = NULL")  # as after a migration: re-derive all
    assert rederive_stored(con, ParseCache().parse, chunk=2) == len(revisions)
    assert _repeated_keys(con) == dict.fromkeys(ROW_KEYS, 0)
    assert table_counts(con) == first
    _assert_views_equal(con, revision_rows(page, revisions, parsed, "r2"))
    con.close()


def test_a_warehouse_with_keys_on_its_state_and_value_rows_is_rebuilt_without_them(tmp_path, monkeypatch):
    """A warehouse made before issue 17 has a primary key on each table of ROW_KEYS: a writer
    rebuilds those tables without it, keeping every row, its columns' defaults and comments."""
    page, revisions = _sample()
    parsed = [parse_revision(rev.text, page.site.lang) for rev in revisions]
    path = tmp_path / "w.duckdb"
    con = connect(path)
    load_batch(con, batch_rows(page, revisions, parsed, "r1"))
    before = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ROW_KEYS}
    views_before = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in DERIVED_TABLES}
    for table, key in ROW_KEYS.items():  # the tables as they were: the same, with a key
        (ddl,) = con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = ? AND "
                             "database_name = current_database()", [table]).fetchone()
        keyed = ddl.rstrip().rstrip(";").rstrip()
        assert keyed.endswith(")")
        con.execute(f"ALTER TABLE {table} RENAME TO old_{table}")
        con.execute(keyed[:-1] + f", PRIMARY KEY ({key}))")
        con.execute(f"INSERT INTO {table} SELECT * FROM old_{table}")
        con.execute(f"DROP TABLE old_{table}")
    (keys,) = con.execute("SELECT count(*) FROM duckdb_constraints() WHERE constraint_type = "
                          "'PRIMARY KEY' AND table_name IN (SELECT unnest(?::VARCHAR[]))",
                          [list(ROW_KEYS)]).fetchone()
    assert keys == len(ROW_KEYS)
    con.close()

    monkeypatch.setattr(db, "_SCHEMA_READY", {})  # opened by a new process, as after an upgrade
    con = connect(path)
    (keys,) = con.execute("SELECT count(*) FROM duckdb_constraints() WHERE constraint_type = "
                          "'PRIMARY KEY' AND table_name IN (SELECT unnest(?::VARCHAR[]))",
                          [list(ROW_KEYS)]).fetchone()
    assert keys == 0
    assert {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ROW_KEYS} == before
    assert {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in DERIVED_TABLES} == views_before
    (comment,) = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'value_figures' "
                             "AND database_name = current_database()").fetchone()
    assert comment and "Figures read from a field value" in comment
    (default,) = con.execute("SELECT column_default FROM duckdb_columns() WHERE table_name = "
                             "'value_figures' AND column_name = 'is_annotation' AND "
                             "database_name = current_database()").fetchone()
    assert str(default).upper() == "CAST('F' AS BOOLEAN)" or "FALSE" in str(default).upper()
    assert not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '%__keyed'"
                           ).fetchone()[0]
    con.close()
