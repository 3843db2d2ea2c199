"""Turn parsed revisions into table rows and load them into DuckDB, one transaction per batch.

The warehouse is content-addressed (warehouse/schema/13_states.sql): a revision row points to its
state, and a state's infoboxes, field values and everything read from them are stored once,
under ids that hash the parser's output. A batch writes its revision rows and only the states
and values the warehouse does not hold yet: a revert or an edit of the prose adds one
``revisions`` row (and its text), an edit of one figure adds one field value's rows and the
state's small list of value ids. The per-revision tables users query (infoboxes, infobox_fields,
figures, belligerents, citations, parse_issues) are views over that, with the same columns;
:func:`revision_rows` builds their rows directly, the specification the views are tested against.

Loading is idempotent: a batch replaces the revision rows of its revisions (states and values are
immutable; those no revision uses any more are deleted by :func:`forget_unused_states`), inside one
transaction, so a re-run or a re-derivation never duplicates rows and a run killed mid-batch
leaves the previous state intact.

The revision texts go to the text store beside the warehouse (warehouse/db.py::_open), in a
transaction of their own just before: DuckDB lets one transaction write to one attached database
only ("a single transaction can only write to a single attached database", checked with DuckDB
2.0.1). So the two commit in a fixed order, texts first, and no text is ever left without its
revision: when the revisions' transaction fails, the batch's texts that have no revision row are
deleted again at once, and a run killed between the two commits leaves such texts behind for the
next run's :func:`forget_orphan_texts` (called before it loads anything). A revision loaded again
without a text (hidden since) loses its stored one.

Texts are written with DELETE + INSERT rather than INSERT OR REPLACE: the latter needs about six
times a text's size in DuckDB memory (a 52 MB revision failed under a 256 MB cap), a plain INSERT
fits a 50 MB revision in the default 128 MB. The ingest runs under a lower cap (64 MB); a batch
that runs out of memory there is written again once under RETRY_MEMORY.

Any DuckDB error while writing a batch becomes a :class:`~warehouse.errors.LoadError` that carries
DuckDB's own reason (duplicate key, out of memory, disk full) and what to do about it.
"""

from __future__ import annotations

import errno
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import duckdb

from tasks.parse import PARSER_VERSION, ParsedRevision
from tasks.sources.model import PageHistory, Revision
from warehouse import textstore
from warehouse.db import ALLOCATOR, TEXTS_TABLE, append_rows, cursor, raise_memory_limit, transaction
from warehouse.errors import LoadError

log = logging.getLogger(__name__)
T = TypeVar("T")

# The ingest keeps DuckDB's cap low (flows/ingest.py: INGEST_MEMORY); a batch that runs out of
# memory under it (a history of much bigger revisions than measured) is written again once with
# the cap raised to this for the rest of the run, instead of failing the run.
RETRY_MEMORY = "512MB"


def _retried_out_of_memory(con: duckdb.DuckDBPyConnection, write: Callable[[], T], what: str) -> T:
    """``write()``; if DuckDB ran out of memory (its transaction rolled back, nothing kept) and
    its cap can be raised to RETRY_MEMORY, once more."""
    try:
        return write()
    except duckdb.Error as exc:
        if not out_of_memory(exc) or not raise_memory_limit(con, RETRY_MEMORY):
            raise
        log.warning("%s ran out of DuckDB memory (%s); written again with the cap raised to %s",
                    what, str(exc).strip().splitlines()[0], RETRY_MEMORY)
    return write()


def out_of_memory(exc: BaseException) -> bool:
    """DuckDB ran out of memory: an OutOfMemoryException, or a commit that failed for it (DuckDB
    2.0.1 reports that as "TransactionContext Error: Failed to commit: could not allocate …")."""
    return isinstance(exc, duckdb.OutOfMemoryException) or (
        isinstance(exc, duckdb.Error) and "could not allocate" in str(exc))


# The per-revision views users query, each over the content-addressed tables.
DERIVED_TABLES = ("infoboxes", "infobox_fields", "belligerents", "figures", "citations", "parse_issues")
# Tables of a state (keyed by state_id) and of a field value (keyed by value_id), parents first.
STATE_TABLES = ("states", "state_boxes", "state_fields", "state_issues")
VALUE_TABLES = ("field_values", "value_belligerents", "value_figures", "value_citations", "value_issues")
# BatchRows.tables key of the revision texts (their view's name in the text store, TEXTS_TABLE).
TEXTS = TEXTS_TABLE.rpartition(".")[2]


@dataclass
class BatchRows:
    """Rows for one batch of revisions of one page: revision rows and texts, and the rows of
    every state and field value the batch's revisions read (those already stored are skipped at
    load time). ``derived`` counts, per view, the rows the batch's revisions show there."""

    page: dict
    tables: dict[str, list[dict]] = field(default_factory=dict)
    derived: dict[str, int] = field(default_factory=dict)

    def count(self, table: str) -> int:
        return len(self.tables.get(table, []))


def page_row(page: PageHistory) -> dict:
    return {
        "wiki": page.site.wiki,
        "page_id": page.page_id,
        "title": page.title,
        "namespace": page.namespace,
        "lang": page.site.lang,
        "base_url": page.site.base_url,
        "redirect_from": page.redirect_from,
    }


def _revision_row(page: PageHistory, rev: Revision, result: ParsedRevision, run_id: str) -> dict:
    return {
        "wiki": page.site.wiki,
        "rev_id": rev.rev_id,
        "page_id": page.page_id,
        "parent_id": rev.parent_id,
        "ts": rev.timestamp,
        "user_name": rev.user,
        "comment": rev.comment,
        "sha1": rev.sha1,
        "size": rev.size,
        "has_infobox": result.has_infobox,
        "parser_version": PARSER_VERSION,
        "source": page.source,
        "run_id": run_id,
        "state_id": result.state_id,
    }


def state_rows(result: ParsedRevision, tables: dict[str, list[dict]], seen_values: set[int]) -> None:
    """Append the rows of ``result``'s state, and of its field values not in ``seen_values``
    (which gains them), to ``tables``. Pure."""
    state_id = result.state_id
    tables["states"].append({"state_id": state_id, "n_boxes": len(result.infoboxes)})
    tables["state_issues"].extend({"state_id": state_id, "idx": idx, **issue}
                                  for idx, issue in enumerate(result.own_issues))
    for box in result.infoboxes:
        tables["state_boxes"].append({"state_id": state_id, "box_idx": box.box_idx,
                                      "template": box.template, "kind": box.kind,
                                      "n_fields": len(box.fields)})
        for seq, value in enumerate(box.fields):
            value_id = value.value_id
            tables["state_fields"].append({"state_id": state_id, "box_idx": box.box_idx, "seq": seq,
                                           "value_id": value_id})
            if value_id in seen_values:
                continue
            seen_values.add(value_id)
            key = {"value_id": value_id}
            tables["field_values"].append({**key, "field": value.name, "raw": value.raw,
                                           "text": value.text})
            tables["value_belligerents"].extend({**key, **row} for row in value.belligerents)
            tables["value_figures"].extend({**key, **row} for row in value.figures)
            tables["value_citations"].extend({**key, **row} for row in value.citations)
            tables["value_issues"].extend({**key, "idx": idx, **{k: v for k, v in issue.items()
                                                                 if k != "box_idx"}}
                                          for idx, issue in enumerate(value.issues))


def _derived_counts(result: ParsedRevision) -> dict[str, int]:
    return {"infoboxes": len(result.infoboxes),
            "infobox_fields": sum(len(box.fields) for box in result.infoboxes),
            "belligerents": sum(len(box.belligerents) for box in result.infoboxes),
            "figures": sum(len(box.figures) for box in result.infoboxes),
            "parse_issues": len(result.issues)}


def text_rows(wiki: str, revisions: Sequence[Revision]) -> list[dict]:
    """Rows of the text store for ``revisions`` (none for a revision without text). Pure."""
    return [{"wiki": wiki, "rev_id": rev.rev_id, "text": rev.text} for rev in revisions
            if rev.text is not None]


def batch_rows(page: PageHistory, revisions: Sequence[Revision], parsed: Sequence[ParsedRevision],
               run_id: str, texts: bool = True) -> BatchRows:
    """Rows for ``revisions`` (with their parse results, same order) of ``page``; without the
    texts' rows when ``texts`` is False (a :class:`TextWriter` writes them). Pure."""
    wiki = page.site.wiki
    out = BatchRows(page=page_row(page),
                    tables={t: [] for t in (TEXTS, "revisions", *STATE_TABLES, *VALUE_TABLES)},
                    derived=dict.fromkeys(("infoboxes", "infobox_fields", "belligerents", "figures",
                                           "parse_issues"), 0))
    seen_states: set[int] = set()
    seen_values: set[int] = set()
    for rev, result in zip(revisions, parsed, strict=True):
        out.tables["revisions"].append(_revision_row(page, rev, result, run_id))
        for view, n in _derived_counts(result).items():
            out.derived[view] += n
        if result.state_id not in seen_states:
            seen_states.add(result.state_id)
            state_rows(result, out.tables, seen_values)
    if texts:
        out.tables[TEXTS] = text_rows(wiki, revisions)
    return out


def revision_rows(page: PageHistory, revisions: Sequence[Revision], parsed: Sequence[ParsedRevision],
                  run_id: str) -> dict[str, list[dict]]:
    """The rows each per-revision view must show for ``revisions``: the specification of the
    views (tests compare them). Pure."""
    wiki = page.site.wiki
    out: dict[str, list[dict]] = {t: [] for t in ("revisions", *DERIVED_TABLES)}
    for rev, result in zip(revisions, parsed, strict=True):
        key = {"wiki": wiki, "rev_id": rev.rev_id}
        out["revisions"].append(_revision_row(page, rev, result, run_id))
        cited: dict[str, dict] = {}
        for box in result.infoboxes:
            box_key = {**key, "box_idx": box.box_idx}
            out["infoboxes"].append({**box_key, "template": box.template, "kind": box.kind,
                                     "n_fields": len(box.params)})
            out["infobox_fields"].extend(
                {**box_key, "seq": seq, "field": name, "raw": raw, "text": text}
                for seq, (name, raw, text) in enumerate(box.params))
            out["belligerents"].extend({**box_key, **row} for row in box.belligerents)
            out["figures"].extend({**box_key, **row} for row in box.figures)
            for row in box.citations:  # a ref used by two infoboxes of one revision is one citation
                cited.setdefault(row["ref_name"], {**key, **row})
        out["citations"].extend(cited.values())
        out["parse_issues"].extend({**key, **issue} for issue in result.issues)
    return out


def load_batch(con: duckdb.DuckDBPyConnection, rows: BatchRows) -> dict[str, int]:
    """Write one batch (its texts, then everything else in one transaction); returns rows written
    per base table and, under the view names, the rows the batch's revisions show there. Raises
    :class:`LoadError` with DuckDB's reason when a write fails; then nothing of the batch is kept."""
    rev_ids = [r["rev_id"] for r in rows.tables["revisions"]]
    n_texts = write_texts(con, rows.page, rows.tables.get(TEXTS, []), rev_ids)
    return {TEXTS: n_texts, **load_rows(con, rows)}


class TextWriter:
    """Writes a batch's texts (the first of its two commits) on a background thread while the
    batch is parsed.

    The texts are known before parsing, and writing them is nearly all DuckDB's own work (insert,
    zstd at the checkpoint: ≈ 45 % of a batch's load, docs/BENCHMARKS.md), during which DuckDB holds
    no GIL; the rest of the load (rows built in Python) stays on the caller's thread, so the two
    threads hardly compete. The thread has a connection of its own (a cursor of ``con``: the same
    database, its own transactions). One batch at a time: :meth:`start`, then :meth:`finish`
    (which raises the batch's :class:`LoadError`) or :meth:`discard`.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._cursor = cursor(con)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="infobox-texts")
        self._pending: tuple[Future, dict, list[int]] | None = None

    def start(self, page: dict, revisions: Sequence[Revision]) -> None:
        """Begin writing the texts of ``revisions`` (replacing any stored for them)."""
        if self._pending is not None:
            raise RuntimeError("TextWriter.start: the previous batch was neither finished nor discarded")
        rev_ids = [rev.rev_id for rev in revisions]
        self._pending = (self._pool.submit(self._write, page, text_rows(page["wiki"], revisions), rev_ids),
                         page, rev_ids)

    def _write(self, page: dict, texts: list[dict], rev_ids: list[int]) -> tuple[int, float]:
        started = time.perf_counter()
        n = write_texts(self._cursor, page, texts, rev_ids)
        return n, time.perf_counter() - started

    def finish(self) -> tuple[int, float]:
        """Wait for the texts started last: (texts written, seconds the thread spent on them)."""
        if self._pending is None:
            raise RuntimeError("TextWriter.finish: no batch was started")
        future = self._pending[0]
        self._pending = None
        return future.result()

    def discard(self, con: duckdb.DuckDBPyConnection) -> None:
        """The batch will not be loaded (its parse or its rows failed, or the run stops): wait for
        its texts, then delete those written, so that no text is left without its revision."""
        if self._pending is None:
            return
        future, page, rev_ids = self._pending
        self._pending = None
        try:
            future.result()
        except LoadError as exc:  # nothing was written; the error that stops the batch goes on
            log.info("texts of a discarded batch: %s", exc)
        forget_orphan_texts(con, page["wiki"], rev_ids)

    def close(self) -> None:
        """Release the thread and its connection (after :meth:`finish` or :meth:`discard`)."""
        self._pool.shutdown(wait=True)
        self._cursor.close()


_IN_BATCH = "wiki = ? AND rev_id IN (SELECT unnest(?::BIGINT[]))"


def _stored_ids(con: duckdb.DuckDBPyConnection, table: str, column: str, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    return {i for (i,) in con.execute(
        f"SELECT {column} FROM {table} WHERE {column} IN (SELECT unnest(?::BIGINT[]))", [ids]).fetchall()}


def write_texts(con: duckdb.DuckDBPyConnection, page: dict, texts: list[dict], rev_ids: list[int]) -> int:
    """The first commit of a batch: every text of the batch is replaced (those given are written
    again, those hidden or missing, without a text row, are dropped). Raises :class:`LoadError`
    with DuckDB's reason; then nothing of it is kept."""
    def write() -> int:
        with transaction(con):
            if rev_ids:
                textstore.delete(con, _IN_BATCH, [page["wiki"], rev_ids])
            return textstore.append(con, texts)

    try:
        return _retried_out_of_memory(con, write, f"the texts of {page.get('title')!r}")
    except duckdb.Error as exc:
        raise LoadError(describe_load_failure(con, exc, page, rev_ids)) from exc


def load_rows(con: duckdb.DuckDBPyConnection, rows: BatchRows) -> dict[str, int]:
    """The second commit of a batch (everything but the texts, written before): as
    :func:`load_batch`, whose failure rules it follows (a failure deletes the batch's texts)."""
    rev_ids = [r["rev_id"] for r in rows.tables["revisions"]]
    try:
        counts = _retried_out_of_memory(con, lambda: _write_rows(con, rows, rev_ids),
                                        f"a batch of {rows.page.get('title')!r}")
    except duckdb.Error as exc:
        forget_orphan_texts(con, rows.page["wiki"], rev_ids)
        raise LoadError(describe_load_failure(con, exc, rows.page, rev_ids)) from exc
    # The commit may have checkpointed: give the pages DuckDB freed back to the OS now, so the
    # process does not keep the high-water mark of every checkpoint until the next one.
    ALLOCATOR.purge()
    return {**counts, **rows.derived}


def _write_rows(con: duckdb.DuckDBPyConnection, rows: BatchRows, rev_ids: list[int]) -> dict[str, int]:
    wiki = rows.page["wiki"]
    counts: dict[str, int] = {}
    with transaction(con):
        con.execute(
            "INSERT INTO pages BY NAME SELECT * FROM (SELECT ? AS wiki, ? AS page_id, ? AS title, "
            "? AS namespace, ? AS lang, ? AS base_url, ? AS redirect_from) "
            "ON CONFLICT (wiki, page_id) DO UPDATE SET title = excluded.title, "
            "namespace = excluded.namespace, lang = excluded.lang, base_url = excluded.base_url, "
            "redirect_from = coalesce(excluded.redirect_from, pages.redirect_from)",
            [rows.page[k] for k in ("wiki", "page_id", "title", "namespace", "lang", "base_url",
                                    "redirect_from")],
        )
        # Only revisions already stored have rows to replace; a first load of new revisions (the
        # usual case) skips the scans.
        stored = [r for (r,) in con.execute(
            f"SELECT rev_id FROM revisions WHERE {_IN_BATCH}", [wiki, rev_ids]).fetchall()] if rev_ids else []
        if stored:
            for table in ("revision_issues", "revisions"):
                con.execute(f"DELETE FROM {table} WHERE {_IN_BATCH}", [wiki, stored])
        counts["revisions"] = append_rows(con, "revisions", rows.tables["revisions"])
        known_states = _stored_ids(con, "states", "state_id",
                                   [r["state_id"] for r in rows.tables["states"]])
        known_values = _stored_ids(con, "field_values", "value_id",
                                   [r["value_id"] for r in rows.tables["field_values"]])
        for table in STATE_TABLES:
            counts[table] = append_rows(con, table, [r for r in rows.tables[table]
                                                     if r["state_id"] not in known_states])
        for table in VALUE_TABLES:
            counts[table] = append_rows(con, table, [r for r in rows.tables[table]
                                                     if r["value_id"] not in known_values])
    return counts


def forget_unused_states(con: duckdb.DuckDBPyConnection) -> int:
    """Delete the states no revision reads any more and the field values no state holds (left by
    re-derived or deleted revisions); returns how many states and values went."""
    with transaction(con):
        (states,) = con.execute(
            "DELETE FROM states s WHERE NOT EXISTS (SELECT 1 FROM revisions r "
            "WHERE r.state_id = s.state_id)").fetchone()
        if states:
            for table in STATE_TABLES[1:]:
                con.execute(f"DELETE FROM {table} t WHERE NOT EXISTS "
                            "(SELECT 1 FROM states s WHERE s.state_id = t.state_id)")
        (values,) = con.execute(
            "DELETE FROM field_values v WHERE NOT EXISTS (SELECT 1 FROM state_fields s "
            "WHERE s.value_id = v.value_id)").fetchone()
        if values:
            for table in VALUE_TABLES[1:]:
                con.execute(f"DELETE FROM {table} t WHERE NOT EXISTS "
                            "(SELECT 1 FROM field_values v WHERE v.value_id = t.value_id)")
    return states + values


def rederive_stored(con: duckdb.DuckDBPyConnection,
                    parse: Callable[[str | None, str | None, str | None], ParsedRevision],
                    chunk: int = 200) -> int:
    """Give every stored revision without a state (a warehouse migrated from the per-revision
    layout, warehouse/db.py) its state, parsed from the text store with ``parse(text, lang,
    sha1)``, a page at a time and ``chunk`` revisions per transaction; returns how many."""
    pages = con.execute(
        "SELECT DISTINCT r.wiki, r.page_id, p.lang FROM revisions r "
        "LEFT JOIN pages p USING (wiki, page_id) WHERE r.state_id IS NULL ORDER BY ALL").fetchall()
    done = 0
    for wiki, page_id, lang in pages:
        rev_ids = [r for (r,) in con.execute(
            "SELECT rev_id FROM revisions WHERE wiki = ? AND page_id = ? AND state_id IS NULL "
            "ORDER BY rev_id", [wiki, page_id]).fetchall()]
        for start in range(0, len(rev_ids), chunk):
            part = rev_ids[start:start + chunk]
            found = con.execute(
                f"SELECT r.rev_id, t.text, r.sha1 FROM revisions r LEFT JOIN {TEXTS_TABLE} t "
                f"USING (wiki, rev_id) WHERE r.{_IN_BATCH} ORDER BY r.rev_id", [wiki, part]).fetchall()
            tables: dict[str, list[dict]] = {t: [] for t in (*STATE_TABLES, *VALUE_TABLES)}
            seen_states: set[int] = set()
            seen_values: set[int] = set()
            updates = []
            for rev_id, text, sha1 in found:
                result = parse(text, lang, sha1)
                updates.append({"rev_id": rev_id, "state_id": result.state_id,
                                "has_infobox": result.has_infobox})
                if result.state_id not in seen_states:
                    seen_states.add(result.state_id)
                    state_rows(result, tables, seen_values)
            with transaction(con):
                known_states = _stored_ids(con, "states", "state_id", list(seen_states))
                known_values = _stored_ids(con, "field_values", "value_id", list(seen_values))
                for table in STATE_TABLES:
                    append_rows(con, table, [r for r in tables[table] if r["state_id"] not in known_states])
                for table in VALUE_TABLES:
                    append_rows(con, table, [r for r in tables[table] if r["value_id"] not in known_values])
                con.execute(
                    "UPDATE revisions SET state_id = d.state_id, has_infobox = d.has_infobox, "
                    "parser_version = ? FROM (SELECT unnest(?::BIGINT[]) AS rev_id, "
                    "unnest(?::BIGINT[]) AS state_id, unnest(?::BOOLEAN[]) AS has_infobox) d "
                    "WHERE revisions.wiki = ? AND revisions.rev_id = d.rev_id",
                    [PARSER_VERSION, *([u[k] for u in updates] for k in ("rev_id", "state_id",
                                                                         "has_infobox")), wiki])
            done += len(updates)
    return done


def forget_orphan_texts(con: duckdb.DuckDBPyConnection, wiki: str | None = None,
                        rev_ids: Sequence[int] | None = None) -> int:
    """Delete stored texts that have no revision row (of ``rev_ids`` of ``wiki``, or all of them);
    returns how many. Never raises: it runs on error paths, and the next run tries again."""
    where = "NOT EXISTS (SELECT 1 FROM revisions r WHERE r.wiki = t.wiki AND r.rev_id = t.rev_id)"
    params: list = []
    if rev_ids is not None:
        if not rev_ids:
            return 0
        where += " AND t.wiki = ? AND t.rev_id IN (SELECT unnest(?::BIGINT[]))"
        params = [wiki, list(rev_ids)]
    def delete() -> int:
        with transaction(con):
            return textstore.delete(con, where, params)

    try:
        # A store whose warehouse file was deleted can hold far more than the ingest's cap allows
        # to delete at once (20,000 texts do not go under 64 MB): raised once, as for a batch.
        return _retried_out_of_memory(con, delete, "deleting the texts left without a revision")
    except duckdb.Error as exc:
        log.warning("could not delete texts left without a revision (the next run will try "
                    "again): %s", str(exc).splitlines()[0])
        return 0


# DuckDB's words for a full disk (ENOSPC) or a file-size limit (EFBIG, `ulimit -f`).
_DISK_FULL = (os.strerror(errno.ENOSPC), os.strerror(errno.EFBIG), "No space left", "Disk full")


def describe_load_failure(con: duckdb.DuckDBPyConnection, exc: duckdb.Error, page: dict,
                          rev_ids: Sequence[int]) -> str:
    """One line: which revisions failed, DuckDB's reason, and what to do about it."""
    span = (f"revision {rev_ids[0]}" if len(rev_ids) == 1 else
            f"{len(rev_ids)} revisions ({min(rev_ids)}–{max(rev_ids)})" if rev_ids else "a batch")
    return describe_duckdb_error(con, exc, f"loading {span} of {page.get('title')!r}")


def describe_duckdb_error(con: duckdb.DuckDBPyConnection, exc: duckdb.Error, doing: str) -> str:
    """``doing`` failed: DuckDB's first line, and a hint for out of memory, a full disk, a
    duplicate key."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    where = f"{doing} failed: {reason}"
    if out_of_memory(exc):
        try:
            (cap,) = con.execute("SELECT current_setting('memory_limit')").fetchone()
        except duckdb.Error:
            cap = "its current cap"
        return (f"{where} — DuckDB ran out of memory under {cap}; set INFOBOX_DUCKDB_MEMORY "
                "(e.g. INFOBOX_DUCKDB_MEMORY=1GB) and run again")
    if any(words in str(exc) for words in _DISK_FULL):
        return f"{where} — the disk (or file-size limit) is full; free space and run again"
    if isinstance(exc, duckdb.ConstraintException):
        return f"{where} — a revision id is repeated in this batch"
    return where


def stored_versions(con: duckdb.DuckDBPyConnection, wiki: str, page_id: int) -> dict[int, int]:
    """rev_id → parser_version of the page's stored revisions."""
    return dict(con.execute(
        "SELECT rev_id, parser_version FROM revisions WHERE wiki = ? AND page_id = ?",
        [wiki, page_id],
    ).fetchall())


def stored_revisions(con: duckdb.DuckDBPyConnection, wiki: str, rev_ids: Sequence[int]) -> dict[int, dict]:
    """rev_id → {page_id, parser_version, sha1, run_id} of those of ``rev_ids`` already stored."""
    if not rev_ids:
        return {}
    cursor = con.execute(
        f"SELECT rev_id, page_id, parser_version, sha1, run_id FROM revisions WHERE {_IN_BATCH}",
        [wiki, list(rev_ids)])
    return {rev_id: {"page_id": page_id, "parser_version": version, "sha1": sha1, "run_id": run_id}
            for rev_id, page_id, version, sha1, run_id in cursor.fetchall()}


def record_issues(con: duckdb.DuckDBPyConnection, issues: Sequence[dict]) -> int:
    """Add revision_issues rows (seen in parse_issues) about revisions already stored (a repeated or conflicting copy),
    except those already there (a re-run of the same source finds the same ones); returns how
    many were added."""
    if not issues:
        return 0
    try:
        with transaction(con):
            # Already there: the same issue about the same revision, from an earlier run.
            repeated = set(con.execute(
                "SELECT wiki, rev_id, code, message FROM revision_issues WHERE rev_id IN "
                "(SELECT unnest(?::BIGINT[]))", [sorted({i["rev_id"] for i in issues})]).fetchall())
            new = [i for i in issues
                   if (i["wiki"], i["rev_id"], i["code"], i["message"]) not in repeated]
            return append_rows(con, "revision_issues", new)
    except duckdb.Error as exc:
        raise LoadError(f"recording {len(issues)} parse issue(s) failed: "
                        f"{str(exc).strip().splitlines()[0]}") from exc


def latest_revisions(con: duckdb.DuckDBPyConnection, wiki: str, titles: list[str]) -> dict[str, int]:
    """title (or the title that redirected to it, or str(page_id)) → newest stored rev_id."""
    rows = con.execute(
        "SELECT p.title, p.redirect_from, p.page_id, max(r.rev_id) FROM pages p "
        "JOIN revisions r USING (wiki, page_id) WHERE p.wiki = ? "
        "AND (p.title IN (SELECT unnest(?::VARCHAR[])) OR p.redirect_from IN (SELECT unnest(?::VARCHAR[]))) "
        "GROUP BY ALL", [wiki, titles, titles]).fetchall()
    latest: dict[str, int] = {}
    for title, redirect_from, page_id, rev_id in rows:
        latest[title] = rev_id
        latest[str(page_id)] = rev_id
        if redirect_from:
            latest[redirect_from] = rev_id
    return latest
