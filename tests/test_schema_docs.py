"""Every table of the warehouse and of its text store documents itself and each of its columns."""

from __future__ import annotations

from warehouse.db import TEXTS_ALIAS, WAREHOUSE_ALIAS, connect


def test_every_table_and_column_has_a_comment(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    catalogs = [WAREHOUSE_ALIAS, TEXTS_ALIAS]
    tables = con.execute("SELECT database_name, table_name, comment FROM duckdb_tables() "
                         "WHERE database_name IN (SELECT unnest(?::VARCHAR[]))", [catalogs]).fetchall()
    assert {(d, t) for d, t, _ in tables} >= {(WAREHOUSE_ALIAS, "revisions"), (WAREHOUSE_ALIAS, "figures"),
                                              (TEXTS_ALIAS, "revision_texts")}
    assert [(d, t) for d, t, comment in tables if not comment] == []
    undocumented = con.execute(
        "SELECT c.database_name, c.table_name, c.column_name FROM duckdb_columns() c "
        "JOIN duckdb_tables() t USING (database_name, schema_name, table_name) "
        "WHERE c.database_name IN (SELECT unnest(?::VARCHAR[])) AND coalesce(c.comment, '') = ''",
        [catalogs]).fetchall()
    assert undocumented == []
    con.close()
