"""Opening the DuckDB warehouse, creating its schema, and bulk loading.

DuckDB lets one process write a database file; a read-write connection locks the file against every
other process, readers included. ``connect`` therefore waits (bounded) for a lock held elsewhere and
then raises :class:`WarehouseLocked` with a clear message, instead of failing at once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse import textstore
from warehouse.errors import WarehouseError, WarehouseLocked, WarehouseUnwritable

log = logging.getLogger(__name__)

SCHEMA_DIR = Path(__file__).with_name("schema")
TEXTS_SCHEMA = Path(__file__).with_name("schema_texts") / "text_shards.sql"
DEFAULT_DB = Path("data/warehouse.duckdb")

# A writer's connection attaches the warehouse file under WAREHOUSE_ALIAS (its default catalog; a
# reader's default catalog is named after the file) and, in both, the revision-text store beside it
# under TEXTS_ALIAS; the store keeps row groups of TEXTS_ROW_GROUP_SIZE rows (see _open).
WAREHOUSE_ALIAS = "warehouse"
TEXTS_ALIAS = textstore.TEXTS_ALIAS
TEXTS_TABLE = f"{TEXTS_ALIAS}.{textstore.VIEW}"  # a view over the store's shards
TEXTS_ROW_GROUP_SIZE = 2048

# DuckDB words its lock conflict as "Could not set lock on file … Conflicting lock is held in … (PID n)".
_LOCK_RE = re.compile(r"Could not set lock|Conflicting lock", re.IGNORECASE)


def schema_files() -> list[Path]:
    """The schema's .sql files in the order they must run (the text store's last)."""
    return [*sorted(SCHEMA_DIR.glob("*.sql")), TEXTS_SCHEMA]


def texts_path(path: str | Path) -> Path:
    """Where the revision texts of the warehouse at ``path`` live: data/warehouse.duckdb →
    data/warehouse.texts.duckdb (the two files belong together: copy, move and delete both)."""
    path = Path(path)
    return path.with_name(f"{path.stem if path.suffix == '.duckdb' else path.name}.texts.duckdb")


# Per-revision tables of the layout before the content-addressed one (PARSER_VERSION < 4): views now.
LEGACY_TABLES = ("infoboxes", "infobox_fields", "belligerents", "figures", "citations", "parse_issues")
# parse_issues codes about a revision as delivered, kept across the migration (revision_issues).
DELIVERY_ISSUES = ("duplicate_revision", "conflicting_revision")


def _migrate_legacy_layout(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse written before the content-addressed layout keeps its derived rows in tables
    that are views now. They are re-derivable from the stored texts: drop them (keeping the issues
    about delivered revisions) and leave ``revisions.state_id`` NULL, which makes the next ingest
    re-derive those revisions from the text store (flows/ingest.py) — a killed migration resumes."""
    legacy = [name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name IN (SELECT unnest(?::VARCHAR[]))",
        [list(LEGACY_TABLES)]).fetchall()]
    if not legacy:
        return
    log.info("migrating %s to the content-addressed layout (re-derived from the stored texts)",
             ", ".join(sorted(legacy)))
    with transaction(con):
        con.execute("ALTER TABLE revisions ADD COLUMN IF NOT EXISTS state_id BIGINT")
        con.execute((SCHEMA_DIR / "13_states.sql").read_text(encoding="utf-8"))
        if "parse_issues" in legacy:
            con.execute("INSERT INTO revision_issues BY NAME SELECT wiki, rev_id, box_idx, field, "
                        "severity, code, message, raw FROM parse_issues "
                        "WHERE code IN (SELECT unnest(?::VARCHAR[]))", [list(DELIVERY_ISSUES)])
        for name in legacy:
            con.execute(f"DROP TABLE {name}")
        con.execute("UPDATE revisions SET state_id = NULL")


# The rows of a state or a field value, written once with it: no primary key since issue 17
# (warehouse/schema/13_states.sql says why); warehouses made before have one, dropped on opening.
UNKEYED_TABLES = ("state_boxes", "state_fields", "state_issues", "value_belligerents",
                  "value_figures", "value_citations", "value_issues")


def _drop_row_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild, without their primary key, the tables of UNKEYED_TABLES that still have one
    (DuckDB cannot drop a key in place): each is renamed, made again from the schema file, filled
    from the old one, which is then dropped — in one transaction, so a killed migration leaves the
    keyed tables as they were and the next writer starts it again."""
    keyed = [name for (name,) in con.execute(
        "SELECT DISTINCT table_name FROM duckdb_constraints() WHERE database_name = "
        "current_database() AND schema_name = 'main' AND constraint_type = 'PRIMARY KEY' "
        "AND table_name IN (SELECT unnest(?::VARCHAR[])) ORDER BY table_name",
        [list(UNKEYED_TABLES)]).fetchall()]
    if not keyed:
        return
    log.info("dropping the primary keys of %s (rebuilt without them)", ", ".join(keyed))
    with transaction(con):
        for name in keyed:
            con.execute(f"ALTER TABLE {name} RENAME TO {name}__keyed")
        con.execute((SCHEMA_DIR / "13_states.sql").read_text(encoding="utf-8"))
        for name in keyed:
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM {name}__keyed")
            con.execute(f"DROP TABLE {name}__keyed")
    forget_column_types(con)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table and view (idempotent: CREATE … IF NOT EXISTS / OR REPLACE); a warehouse
    of the per-revision layout is migrated first, and keys that are no longer kept are dropped."""
    try:
        _migrate_legacy_layout(con)
    except duckdb.Error as exc:
        raise WarehouseError(f"migrating the warehouse to the content-addressed layout failed: "
                             f"{str(exc).splitlines()[0]}") from exc
    try:
        _drop_row_keys(con)
    except duckdb.Error as exc:
        raise WarehouseError(f"dropping the keys of the state and value rows failed: "
                             f"{str(exc).splitlines()[0]}") from exc
    for path in schema_files():
        try:
            con.execute(path.read_text(encoding="utf-8"))
        except duckdb.Error as exc:
            raise WarehouseError(f"schema file {path.name} failed: {exc}") from exc
    try:
        textstore.ensure(con)
    except duckdb.Error as exc:
        raise WarehouseError(f"preparing the text store's shards failed: {str(exc).splitlines()[0]}") from exc


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
            con = _open(path, read_only)
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
    if not read_only:
        # An attached database spills beside its file, not into the working directory.
        con.execute(f"SET temp_directory = {_quote(str(path) + '.tmp')}")
    # DuckDB draws a progress bar on long queries; it would garble the CLI's own output.
    con.execute("SET enable_progress_bar = false")
    # By default DuckDB may cache up to 80 % of RAM; cap it so a process stays bounded (queries
    # that need more spill to disk). Writers (ingest, often a long-lived `infobox serve`) get
    # 128 MB: a checkpoint needs a bounded amount whatever the history's length (see _open and
    # docs/BENCHMARKS.md). Readers (`infobox sql`, reports) get 1 GB for
    # analytic queries. INFOBOX_DUCKDB_MEMORY overrides both.
    default_limit = "1GB" if read_only else "128MB"
    con.execute(f"SET memory_limit = '{os.environ.get('INFOBOX_DUCKDB_MEMORY', default_limit)}'")
    if not read_only and init_schema:
        # Once per file and process: the CLI opens the warehouse before the flow does (a fast
        # check) and the flow opens it again a moment later; the schema's 17 files take ≈ 0.14 s.
        # (A file replaced since, e.g. deleted and made again, shows another count of tables and
        # views than the one seen after the schema ran: the schema runs again.)
        key = str(path.resolve())
        if _SCHEMA_READY.get(key) != _catalog_size(con):
            ensure_schema(con)
            _SCHEMA_READY[key] = _catalog_size(con)
    return con


_SCHEMA_READY: dict[str, int] = {}  # file → its tables and views once this process ensured them


def _catalog_size(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(
        "SELECT (SELECT count(*) FROM duckdb_tables() WHERE database_name IN (?, ?) "
        "AND NOT starts_with(table_name, ?)) + "  # shards come and go with the texts
        "(SELECT count(*) FROM duckdb_views() WHERE database_name = ? AND NOT internal)",
        [WAREHOUSE_ALIAS, TEXTS_ALIAS, textstore.SHARD_PREFIX, WAREHOUSE_ALIAS]).fetchone()[0]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _open(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection with the warehouse as its default catalog and its revision-text store attached
    as TEXTS_ALIAS.

    Why two files: a checkpoint rewrites the row group that received new rows. With DuckDB's
    default of 122,880 rows, every commit of a long history re-compressed all its revision texts so
    far, so checkpoint memory grew with the history (a 64 MB cap failed after about 3,600 revisions
    of 44 KB). Row groups of 2,048 rows bound that, but then the derived tables (millions of short
    rows) hold thousands of row groups whose in-memory metadata grows with the history as well
    (measured: + 69 MB from 5,000 to 20,000 revisions). Row-group size is an ATTACH option of a
    whole database (not a table's, and not stored in the file), so the texts live in their own file
    attached with small row groups and everything else keeps DuckDB's default (docs/BENCHMARKS.md).

    Writers attach the warehouse under WAREHOUSE_ALIAS into an in-memory connection. Readers open
    the file itself with ``read_only=True``: such a connection cannot detach its default catalog,
    and every database attached through it is read-only too, whatever the SQL says (a file ATTACHed
    READ_ONLY into an in-memory connection could be detached and attached again read-write).
    Readers attach the text store only if it exists (a warehouse made before it keeps its texts in
    revisions.text).
    """
    texts = texts_path(path)
    if read_only:
        con = duckdb.connect(str(path), read_only=True)
        try:
            # The default catalog is named after the file: data/texts.duckdb would be `texts`.
            (catalog,) = con.execute("SELECT current_database()").fetchone()
            if catalog == TEXTS_ALIAS:
                raise WarehouseError(f"{path}: a warehouse file cannot be named {TEXTS_ALIAS}.duckdb "
                                     f"(its text store is attached as `{TEXTS_ALIAS}`); rename it")
            if texts.exists():
                con.execute(f"ATTACH {_quote(str(texts))} AS {TEXTS_ALIAS} (READ_ONLY)")
        except BaseException:
            con.close()
            raise
        return con
    if path.stem == TEXTS_ALIAS:
        raise WarehouseError(f"{path}: a warehouse file cannot be named {TEXTS_ALIAS}.duckdb "
                             f"(its text store is attached as `{TEXTS_ALIAS}`); choose another name")
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_quote(str(path))} AS {WAREHOUSE_ALIAS}")
        con.execute(f"ATTACH {_quote(str(texts))} AS {TEXTS_ALIAS} "
                    f"(ROW_GROUP_SIZE {TEXTS_ROW_GROUP_SIZE})")
        con.execute(f"USE {WAREHOUSE_ALIAS}")
    except BaseException:
        con.close()
        raise
    return con


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A new connection to ``con``'s database (DuckDB's cursor) for another thread, reading the
    same default catalog: a writer's is the attached warehouse, which a bare cursor would not
    use. Settings made per connection (the progress bar) are made again."""
    (catalog,) = con.execute("SELECT current_database()").fetchone()
    other = con.cursor()
    try:
        other.execute(f"USE {_ident(catalog)}")
        other.execute("SET enable_progress_bar = false")
    except BaseException:
        other.close()
        raise
    return other


class _Allocator:
    """DuckDB's own allocator (jemalloc, bundled in its Linux wheels, symbols prefixed duckdb_je_).

    jemalloc keeps freed pages for reuse; after a commit and checkpoint that is well over 100 MB
    of resident memory DuckDB no longer uses, until the next checkpoint needs it again. A purge
    hands those pages back to the operating system (measured: the ingest's resident memory between
    batches fell from ≈ 400 to ≈ 260 MB; docs/BENCHMARKS.md). Where the allocator is not there
    (other platforms, other builds) purging is unavailable and says so once in the log.
    """

    PURGE_ALL_ARENAS = b"arena.4096.purge"  # 4096 = MALLCTL_ARENAS_ALL

    def __init__(self) -> None:
        self._mallctl = None
        self._checked = False
        self._malloc_trim = None

    def __reduce__(self):
        # Dask pickles task code by value, globals included; ctypes handles cannot be pickled and
        # belong to this process anyway: a copy resolves its own on first use.
        return (_Allocator, ())

    def _resolve(self):
        self._checked = True
        libraries = glob.glob(os.path.join(os.path.dirname(duckdb.__file__), "..", "_duckdb*.so"))
        if not libraries:
            log.info("DuckDB's allocator cannot be purged: its library was not found")
            return None
        try:
            return ctypes.CDLL(libraries[0]).duckdb_je_mallctl
        except (OSError, AttributeError) as exc:
            log.info("DuckDB's allocator cannot be purged (%s)", exc)
            return None

    def purge(self) -> bool:
        """Return DuckDB's freed pages to the OS; False when this build has no such allocator."""
        if not self._checked:
            self._mallctl = self._resolve()
        if self._mallctl is None:
            return False
        rc = self._mallctl(self.PURGE_ALL_ARENAS, None, None, None, ctypes.c_size_t(0))
        if rc != 0:
            log.info("DuckDB's allocator refused a purge (error %d); not trying again", rc)
            self._mallctl = None
            return False
        return True

    def trim(self) -> None:
        """Purge DuckDB's allocator, then ask glibc to return free heap pages (between stages)."""
        self.purge()
        if self._malloc_trim is None:
            libc = ctypes.util.find_library("c")
            try:
                self._malloc_trim = ctypes.CDLL(libc).malloc_trim if libc else False
            except (OSError, AttributeError):  # not glibc: nothing to trim
                log.info("malloc_trim is not available in %s", libc)
                self._malloc_trim = False
        if self._malloc_trim:
            self._malloc_trim(0)


ALLOCATOR = _Allocator()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN … COMMIT, rolled back on any exception, which is re-raised as it was.

    A failed statement leaves DuckDB's transaction aborted: anything but ROLLBACK then fails with
    "Current transaction is aborted", so the rollback comes first, and an error of the rollback
    itself (the database may have been invalidated by the first one) is logged, never raised in
    place of the error that caused it.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        rollback_quietly(con)
        raise
    con.execute("COMMIT")


def rollback_quietly(con: duckdb.DuckDBPyConnection) -> None:
    """ROLLBACK whatever is open, for cleanup paths that are already handling an error."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error as exc:
        # A failed COMMIT has already rolled back ("no transaction is active"). Logged at INFO:
        # the CLI's one `error:` line is about the first error, not this one.
        log.info("rollback after a failed statement: %s", str(exc).splitlines()[0])


_SIZE_RE = re.compile(r"^\s*([0-9.]+)\s*([KMGT]?i?B|bytes)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "bytes": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def size_bytes(size: str) -> int:
    """A DuckDB size as bytes: '64MB', '61.0 MiB', '1.8 GiB' (raises ValueError otherwise)."""
    match = _SIZE_RE.match(size)
    if match is None:
        raise ValueError(f"not a size: {size!r}")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])


_RAISING = threading.Lock()


def raise_memory_limit(con: duckdb.DuckDBPyConnection, at_least: str) -> bool:
    """Raise DuckDB's cap (for the whole database instance, every cursor of ``con``) to
    ``at_least`` if it is lower; never lowers it. False when it was already that high or when
    INFOBOX_DUCKDB_MEMORY set it (the user's cap stands)."""
    if os.environ.get("INFOBOX_DUCKDB_MEMORY"):
        return False
    with _RAISING:  # two threads that ran out together raise it once
        (current,) = con.execute("SELECT current_setting('memory_limit')").fetchone()
        if size_bytes(current) >= size_bytes(at_least):
            return False
        con.execute(f"SET memory_limit = '{at_least}'")
        return True


@contextmanager
def memory_limit(con: duckdb.DuckDBPyConnection, limit: str) -> Iterator[None]:
    """DuckDB's memory cap set to ``limit`` (a DuckDB size such as '96MB') for a block, then restored."""
    (before,) = con.execute("SELECT current_setting('memory_limit')").fetchone()
    con.execute(f"SET memory_limit = '{limit}'")
    try:
        yield
    finally:
        con.execute(f"SET memory_limit = '{before}'")


def insert_rows(
    con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict], columns: Sequence[str] | None = None,
    *, replace: bool = False,
) -> int:
    """Bulk-insert dict rows by column name (one DataFrame scan, not row-by-row INSERTs); with
    ``replace``, a row whose primary key is already stored replaces it."""
    if not rows:
        return 0
    import pandas as pd

    frame = pd.DataFrame.from_records(list(rows), columns=list(columns) if columns else None)
    view = "_insert_" + table.replace(".", "_")
    con.register(view, frame)
    # No try/finally here: a failed INSERT leaves the transaction aborted, and unregistering inside
    # it would fail and hide the INSERT's own error. The caller rolls back; a view left registered
    # is replaced by the next insert into ``table`` (register() overwrites a name).
    con.execute(f"INSERT {'OR REPLACE ' if replace else ''}INTO {table} BY NAME SELECT * FROM {view}")
    con.unregister(view)
    return len(frame)


def append_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict]) -> int:
    """Bulk-insert dict rows of plain Python values by column name, as one INSERT that unnests
    one list parameter per column (the loader's path: no DataFrame, so pandas is not imported
    and a batch's few rows per table cost a fraction of a millisecond instead of several).
    The columns are every key of any row; a row without one gives NULL there."""
    if not rows:
        return 0
    names = list(dict.fromkeys(name for row in rows for name in row))
    types = _column_types(con, table)
    try:
        selected = ", ".join(f"unnest(${n}::{types[name]}[]) AS {_ident(name)}"
                             for n, name in enumerate(names, start=1))
    except KeyError as exc:
        raise WarehouseError(f"{table} has no column {exc.args[0]!r}") from None
    con.execute(f"INSERT INTO {table} BY NAME SELECT {selected}",
                [[row.get(name) for row in rows] for name in names])
    return len(rows)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# connection → table → {column: type}: a DESCRIBE costs 0.6–2 ms, and a batch inserts into 11
# tables. The schema is created when a connection opens (connect), before anything is appended; a
# table changed later on the same connection is described again after forget_column_types(con).
_COLUMN_TYPES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """column name → DuckDB type of ``table`` (``db.table`` or a table of the current catalog)."""
    tables = _COLUMN_TYPES.setdefault(con, {})
    if table not in tables:
        tables[table] = {name: kind for name, kind, *_ in con.execute(f"DESCRIBE {table}").fetchall()}
    return tables[table]


def forget_column_types(con: duckdb.DuckDBPyConnection) -> None:
    """Describe every table again at the next append_rows on ``con`` (after an ALTER TABLE)."""
    _COLUMN_TYPES.pop(con, None)


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every base table, by name."""
    names = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_schema = 'main' AND table_catalog = current_database() ORDER BY table_name"
        ).fetchall()
    ]
    return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchall()[0][0] for n in names}
