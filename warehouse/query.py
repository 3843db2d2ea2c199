"""Read-only SQL on the warehouse: what ``infobox sql`` runs, callable from Python as :func:`run_query`.

A query can read the warehouse, its text store (as ``texts``), its views and macros, and local
files (``read_csv``, ``read_parquet``…); it cannot change any file. Three layers, each enough for
most attacks on its own:

1. The warehouse is opened with ``duckdb.connect(path, read_only=True)`` (warehouse/db.py::_open):
   its catalog cannot be detached, and anything attached through it is read-only.
2. Only statements that read are run: DuckDB parses the text first (``extract_statements``), and a
   statement of any other type (ATTACH, DETACH, COPY, INSTALL/LOAD, SET/USE, CREATE, INSERT,
   DELETE, UPDATE, DROP, PRAGMA, CALL, EXPORT…) stops the whole query before anything runs.
   ``EXPLAIN ANALYZE`` executes what it explains, so EXPLAIN is allowed only of a SELECT.
3. The configuration is locked after switching off extension installation and auto-loading, so
   nothing in a SELECT can install an extension or change a setting (logging to a file, profiling
   output) either.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from warehouse.db import DEFAULT_DB, connect
from warehouse.errors import QueryError, ReadOnlyViolation

# Statement types that only read. SHOW, DESCRIBE, SUMMARIZE, FROM-first, VALUES and WITH … SELECT
# all parse as SELECT.
READ_STATEMENTS = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})

# Set once before the configuration is locked (the order matters: lock_configuration last).
LOCKED_SETTINGS = (
    ("autoinstall_known_extensions", "false"),  # read_csv('http://…') would download httpfs
    ("autoload_known_extensions", "false"),
    ("allow_community_extensions", "false"),
    ("lock_configuration", "true"),  # no SET, PRAGMA or function can change a setting from now on
)

# "EXPLAIN", its optional "(FORMAT …)" options and "ANALYZE", before the statement explained.
_EXPLAIN_PREFIX = re.compile(r"^\s*EXPLAIN\s*(\([^)]*\))?\s*(ANALY[SZ]E\b)?", re.IGNORECASE)


def _explained_type(con: duckdb.DuckDBPyConnection, text: str) -> duckdb.StatementType | None:
    """Type of the statement an EXPLAIN explains; None when it cannot be told."""
    match = _EXPLAIN_PREFIX.match(text)
    if not match:
        return None
    try:
        inner = con.extract_statements(text[match.end():])
    except duckdb.Error:
        return None
    return inner[0].type if len(inner) == 1 else None


def read_statements(con: duckdb.DuckDBPyConnection, sql: str) -> list:
    """The statements of ``sql``, each checked to only read; raises :class:`ReadOnlyViolation`
    naming the first one that would not (nothing has run yet then)."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(str(exc).splitlines()[0]) from exc
    if not statements:
        raise QueryError("no SQL statement given")
    for statement in statements:
        kind = statement.type
        if kind == duckdb.StatementType.EXPLAIN:
            kind = _explained_type(con, statement.query)
            if kind != duckdb.StatementType.SELECT:
                raise ReadOnlyViolation("infobox sql is read-only: EXPLAIN is allowed only of a SELECT")
        elif kind not in READ_STATEMENTS:
            name = kind.name if kind is not None else "unknown"
            raise ReadOnlyViolation(
                f"infobox sql is read-only: {name} statements are not allowed "
                "(only SELECT, WITH, FROM, VALUES, SHOW, DESCRIBE, SUMMARIZE and EXPLAIN)")
    return statements


def lock_down(con: duckdb.DuckDBPyConnection) -> None:
    """Switch off extension installs and loads, then lock the connection's configuration."""
    for name, value in LOCKED_SETTINGS:
        con.execute(f"SET {name} = {value}")


def run_query(sql: str, db: str | Path = DEFAULT_DB, *, wait_seconds: float = 5.0
              ) -> tuple[list[str], list[tuple]]:
    """Run read-only ``sql`` on the warehouse at ``db``; (column names, rows) of its last statement.

    Raises :class:`ReadOnlyViolation` for a statement that would change something, and
    :class:`QueryError` (one line, DuckDB's own message) for any other failing query.
    """
    con = connect(db, read_only=True, wait_seconds=wait_seconds)
    try:
        lock_down(con)
        statements = read_statements(con, sql)
        columns: list[str] = []
        rows: list[tuple] = []
        try:
            for statement in statements:
                cursor = con.execute(statement)
                columns = [d[0] for d in cursor.description] if cursor.description else []
                rows = cursor.fetchall() if columns else []
        except duckdb.Error as exc:
            raise QueryError(str(exc).splitlines()[0]) from exc
        return columns, rows
    finally:
        con.close()
