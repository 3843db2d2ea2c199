"""Every table and view of the warehouse and of its text store documents itself and each of its
columns."""

from __future__ import annotations

from warehouse.db import TEXTS_ALIAS, WAREHOUSE_ALIAS, connect


def test_every_table_and_column_has_a_comment(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    catalogs = [WAREHOUSE_ALIAS, TEXTS_ALIAS]
    tables = con.execute("SELECT database_name, table_name, comment FROM duckdb_tables() "
                         "WHERE database_name IN (SELECT unnest(?::VARCHAR[]))", [catalogs]).fetchall()
    assert {(d, t) for d, t, _ in tables} >= {(WAREHOUSE_ALIAS, "revisions"), (WAREHOUSE_ALIAS, "value_figures"),
                                              (TEXTS_ALIAS, "text_shards"), (TEXTS_ALIAS, "text_shard_000001")}
    assert [(d, t) for d, t, comment in tables if not comment] == []
    undocumented = con.execute(
        "SELECT c.database_name, c.table_name, c.column_name FROM duckdb_columns() c "
        "JOIN duckdb_tables() t USING (database_name, schema_name, table_name) "
        "WHERE c.database_name IN (SELECT unnest(?::VARCHAR[])) AND coalesce(c.comment, '') = ''",
        [catalogs]).fetchall()
    assert undocumented == []
    # The texts' view, and the columns of every view users query.
    texts_view = con.execute("SELECT comment FROM duckdb_views() WHERE database_name = ? AND view_name = "
                             "'revision_texts'", [TEXTS_ALIAS]).fetchall()
    assert len(texts_view) == 1 and texts_view[0][0]
    assert con.execute("SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND table_name = "
                       "'revision_texts' AND coalesce(comment, '') = ''", [TEXTS_ALIAS]).fetchall() == []
    views = con.execute("SELECT view_name, comment FROM duckdb_views() WHERE database_name = ? "
                        "AND NOT internal", [WAREHOUSE_ALIAS]).fetchall()
    assert {v for v, _ in views} >= {"infoboxes", "infobox_fields", "figures", "belligerents",
                                     "citations", "parse_issues"}
    user_views = {"infoboxes", "infobox_fields", "figures", "belligerents", "citations", "parse_issues"}
    assert [v for v, comment in views if v in user_views and not comment] == []
    undocumented_views = con.execute(
        "SELECT c.table_name, c.column_name FROM duckdb_columns() c "
        "WHERE c.database_name = ? AND c.table_name IN (SELECT unnest(?::VARCHAR[])) "
        "AND coalesce(c.comment, '') = ''", [WAREHOUSE_ALIAS, sorted(user_views)]).fetchall()
    assert undocumented_views == []
    con.close()
