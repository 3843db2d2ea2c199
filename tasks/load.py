"""Turn parsed revisions into table rows and load them into DuckDB, one transaction per batch.

Loading is idempotent: a batch first deletes every row derived from its revisions, then inserts
them again, inside one transaction, so a re-run or a re-derivation never duplicates rows and a run
killed mid-batch leaves the previous state intact. The revision texts go to the text store beside
the warehouse (warehouse/db.py::_open) just before, in a transaction of their own: DuckDB lets one
transaction write to one attached database only. Texts are written with INSERT OR REPLACE, so the
texts of a run killed between the two commits (stored, but not their revisions) are simply
written again by the next run; a revision loaded again without a text (hidden since) loses its
stored one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from tasks.parse import PARSER_VERSION, ParsedRevision
from tasks.sources.model import PageHistory, Revision
from warehouse.db import ALLOCATOR, TEXTS_TABLE, insert_rows, transaction

# Tables holding rows derived from a revision, keyed by (wiki, rev_id).
DERIVED_TABLES = ("infoboxes", "infobox_fields", "belligerents", "figures", "citations", "parse_issues")
# BatchRows.tables key of the revision texts (the table's name in the text store, TEXTS_TABLE).
TEXTS = TEXTS_TABLE.rpartition(".")[2]


@dataclass
class BatchRows:
    """Rows of every table for one batch of revisions of one page."""

    page: dict
    tables: dict[str, list[dict]] = field(default_factory=dict)

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


def batch_rows(page: PageHistory, revisions: Sequence[Revision], parsed: Sequence[ParsedRevision],
               run_id: str) -> BatchRows:
    """Rows for ``revisions`` (with their parse results, same order) of ``page``. Pure."""
    wiki = page.site.wiki
    out = BatchRows(page=page_row(page), tables={t: [] for t in (TEXTS, "revisions", *DERIVED_TABLES)})
    for rev, result in zip(revisions, parsed, strict=True):
        key = {"wiki": wiki, "rev_id": rev.rev_id}
        out.tables["revisions"].append({
            **key,
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
        })
        if rev.text is not None:
            out.tables[TEXTS].append({**key, "text": rev.text})
        for box in result.infoboxes:
            box_key = {**key, "box_idx": box.box_idx}
            out.tables["infoboxes"].append({**box_key, "template": box.template, "kind": box.kind,
                                            "n_fields": len(box.params)})
            out.tables["infobox_fields"].extend(
                {**box_key, "seq": seq, "field": name, "raw": raw, "text": text}
                for seq, (name, raw, text) in enumerate(box.params)
            )
            out.tables["belligerents"].extend({**box_key, **row} for row in box.belligerents)
            out.tables["figures"].extend({**box_key, **row} for row in box.figures)
            out.tables["citations"].extend({**key, **row} for row in box.citations)
        out.tables["parse_issues"].extend({**key, **issue} for issue in result.issues)
    # A ref used by two infoboxes of one revision is one citation.
    seen: set[tuple] = set()
    unique = []
    for row in out.tables["citations"]:
        ident = (row["wiki"], row["rev_id"], row["ref_name"])
        if ident not in seen:
            seen.add(ident)
            unique.append(row)
    out.tables["citations"] = unique
    return out


def load_batch(con: duckdb.DuckDBPyConnection, rows: BatchRows) -> dict[str, int]:
    """Write one batch in one transaction; returns rows inserted per table."""
    wiki = rows.page["wiki"]
    rev_ids = [r["rev_id"] for r in rows.tables["revisions"]]
    counts: dict[str, int] = {}
    texts = rows.tables.get(TEXTS, [])
    with_text = {r["rev_id"] for r in texts}
    hidden = [r for r in rev_ids if r not in with_text]  # text hidden or missing: no text row
    with transaction(con):
        if hidden:
            con.execute(f"DELETE FROM {TEXTS_TABLE} WHERE wiki = ? AND rev_id IN (SELECT unnest(?::BIGINT[]))",
                        [wiki, hidden])
        counts[TEXTS] = insert_rows(con, TEXTS_TABLE, texts, replace=True)
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
        # usual case) skips seven table scans per batch.
        stored = [r for (r,) in con.execute(
            "SELECT rev_id FROM revisions WHERE wiki = ? AND rev_id IN (SELECT unnest(?::BIGINT[]))",
            [wiki, rev_ids]).fetchall()] if rev_ids else []
        if stored:
            for table in (*DERIVED_TABLES, "revisions"):
                con.execute(
                    f"DELETE FROM {table} WHERE wiki = ? AND rev_id IN (SELECT unnest(?::BIGINT[]))",
                    [wiki, stored],
                )
        for table in ("revisions", *DERIVED_TABLES):
            counts[table] = insert_rows(con, table, rows.tables.get(table, []))
    # The commit may have checkpointed: give the pages DuckDB freed back to the OS now, so the
    # process does not keep the high-water mark of every checkpoint until the next one.
    ALLOCATOR.purge()
    return counts


def stored_versions(con: duckdb.DuckDBPyConnection, wiki: str, page_id: int) -> dict[int, int]:
    """rev_id → parser_version of the page's stored revisions."""
    return dict(con.execute(
        "SELECT rev_id, parser_version FROM revisions WHERE wiki = ? AND page_id = ?",
        [wiki, page_id],
    ).fetchall())


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
