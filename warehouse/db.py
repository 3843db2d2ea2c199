"""Opening the DuckDB warehouse, creating its schema, and bulk loading.

DuckDB lets one process write a database file; a read-write connection locks the file against every
other process, readers included. ``connect`` therefore waits (bounded) for a lock held elsewhere and
then raises :class:`WarehouseLocked` with a clear message, instead of failing at once.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse.errors import WarehouseError, WarehouseLocked, WarehouseUnwritable

SCHEMA_DIR = Path(__file__).with_name("schema")
DEFAULT_DB = Path("data/warehouse.duckdb")

# DuckDB words its lock conflict as "Could not set lock on file … Conflicting lock is held in … (PID n)".
_LOCK_RE = re.compile(r"Could not set lock|Conflicting lock", re.IGNORECASE)


def schema_files() -> list[Path]:
    """The schema's .sql files in the order they must run."""
    return sorted(SCHEMA_DIR.glob("*.sql"))


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table and view (idempotent: CREATE … IF NOT EXISTS / OR REPLACE)."""
    for path in schema_files():
        try:
            con.execute(path.read_text(encoding="utf-8"))
        except duckdb.Error as exc:
            raise WarehouseError(f"schema file {path.name} failed: {exc}") from exc


def _describe_lock(exc: Exception) -> str:
    pid = re.search(r"PID (\d+)", str(exc))
    return f" (held by process {pid.group(1)})" if pid else ""


def connect(
    path: str | Path = DEFAULT_DB,
    *,
    read_only: bool = False,
    wait_seconds: float = 30.0,
    init_schema: bool = True,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse. Writers create the file and schema; readers need an existing file.

    While another process holds the file, retry for up to ``wait_seconds`` and then raise
    :class:`WarehouseLocked`.
    """
    path = Path(path)
    if read_only:
        if not path.exists():
            raise WarehouseError(f"no warehouse at {path}: run `infobox run` first (or pass --db)")
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseUnwritable(f"cannot create directory {path.parent}: {exc.strerror}") from exc
        if path.is_dir():
            raise WarehouseUnwritable(f"{path} is a directory, not a database file")
    deadline = time.monotonic() + wait_seconds
    delay = 0.1
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            message = str(exc)
            if _LOCK_RE.search(message):
                if time.monotonic() >= deadline:
                    raise WarehouseLocked(
                        f"{path} is locked by another process{_describe_lock(exc)}; "
                        f"waited {wait_seconds:.0f}s. Try again when that run has finished."
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            if "Permission denied" in message or "Read-only file system" in message:
                raise WarehouseUnwritable(f"cannot write {path}: permission denied") from exc
            raise WarehouseError(f"cannot open {path}: {message.splitlines()[0]}") from exc
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open {path}: {str(exc).splitlines()[0]}") from exc
    # DuckDB draws a progress bar on long queries; it would garble the CLI's own output.
    con.execute("SET enable_progress_bar = false")
    # By default DuckDB may cache up to 80 % of RAM; cap it so a process stays bounded (queries
    # that need more spill to disk). Writers (ingest, often a long-lived `infobox serve`) get
    # 256 MB: a 20,000-revision history loads and checkpoints within it, and the flow's peak RSS
    # fell from 841 to 659 MB (docs/BENCHMARKS.md); 128 MB once failed to pin blocks during a
    # checkpoint. Readers (`infobox sql`, reports) get 1 GB for analytic queries.
    # INFOBOX_DUCKDB_MEMORY overrides both.
    default_limit = "1GB" if read_only else "256MB"
    con.execute(f"SET memory_limit = '{os.environ.get('INFOBOX_DUCKDB_MEMORY', default_limit)}'")
    if not read_only and init_schema:
        ensure_schema(con)
    return con


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN … COMMIT, rolled back on any exception (which is re-raised)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def insert_rows(
    con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict], columns: Sequence[str] | None = None
) -> int:
    """Bulk-insert dict rows by column name (one DataFrame scan, not row-by-row INSERTs)."""
    if not rows:
        return 0
    import pandas as pd

    frame = pd.DataFrame.from_records(list(rows), columns=list(columns) if columns else None)
    view = f"_insert_{table}"
    con.register(view, frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {view}")
    finally:
        con.unregister(view)
    return len(frame)


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every base table, by name."""
    names = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND table_schema = 'main' ORDER BY table_name"
        ).fetchall()
    ]
    return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchall()[0][0] for n in names}
