"""The per-revision layout the baselines write, and the rows they write into it.

The warehouse's own layout may change (issue 17: content-addressed base tables behind views of
today's names); the baselines must not follow it, or "same output" would stop meaning anything.
So they write today's per-revision layout, frozen here: ``legacy_schema.sql`` (the tables
revisions, infoboxes, infobox_fields, belligerents, figures, citations, parse_issues and
revision_texts, all in ONE DuckDB file per baseline), and :func:`legacy_rows` builds their rows
from a page, its revisions and their parse results, as ``tasks.load.batch_rows`` did at f130b72.
Nothing here imports ``tasks.load`` or reads ``warehouse/schema``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from tasks.parse import PARSER_VERSION, ParsedRevision
from tasks.sources.model import PageHistory, Revision

SCHEMA = Path(__file__).with_name("legacy_schema.sql")
TEXTS = "revision_texts"
# Tables holding rows derived from a revision's parse, keyed by (wiki, rev_id).
DERIVED_TABLES = ("infoboxes", "infobox_fields", "belligerents", "figures", "citations", "parse_issues")
# Every table of the layout, in the order the equality check reports them.
TABLES = (TEXTS, "revisions", "infoboxes", "infobox_fields", "figures", "belligerents", "citations",
          "parse_issues")


def create(path: str | Path) -> duckdb.DuckDBPyConnection:
    """A new DuckDB file at ``path`` holding the legacy layout (empty); refuses an existing file."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} exists: a baseline wants a new, empty file")
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(SCHEMA.read_text(encoding="utf-8"))
    except BaseException:
        con.close()
        raise
    return con


def columns(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[str]]:
    """Table → its columns in order, of the legacy layout attached as ``catalog``."""
    out: dict[str, list[str]] = {}
    for table, column in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = ? "
            "AND schema_name = 'main' ORDER BY table_name, column_index", [catalog]).fetchall():
        out.setdefault(table, []).append(column)
    missing = set(TABLES) - set(out)
    if missing:
        raise ValueError(f"{catalog} is not a legacy baseline file: no {', '.join(sorted(missing))}")
    return out


def legacy_rows(page: PageHistory, revisions: Sequence[Revision], parsed: Sequence[ParsedRevision],
                run_id: str) -> dict[str, list[dict]]:
    """Rows of every table of the legacy layout for ``revisions`` of ``page`` (with their parse
    results, same order): table → list of {column: value}. Pure.

    A revision without text has no revision_texts row; a <ref> used by two infoboxes of one
    revision is one citation (the first one found).
    """
    wiki = page.site.wiki
    out: dict[str, list[dict]] = {table: [] for table in (TEXTS, "revisions", *DERIVED_TABLES)}
    for rev, result in zip(revisions, parsed, strict=True):
        key = {"wiki": wiki, "rev_id": rev.rev_id}
        out["revisions"].append({
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
            out[TEXTS].append({**key, "text": rev.text})
        for box in result.infoboxes:
            box_key = {**key, "box_idx": box.box_idx}
            out["infoboxes"].append({**box_key, "template": box.template, "kind": box.kind,
                                     "n_fields": len(box.params)})
            out["infobox_fields"].extend(
                {**box_key, "seq": seq, "field": name, "raw": raw, "text": text}
                for seq, (name, raw, text) in enumerate(box.params))
            out["belligerents"].extend({**box_key, **row} for row in box.belligerents)
            out["figures"].extend({**box_key, **row} for row in box.figures)
            out["citations"].extend({**key, **row} for row in box.citations)
        out["parse_issues"].extend({**key, **issue} for issue in result.issues)
    seen: set[tuple] = set()
    unique = []
    for row in out["citations"]:
        ident = (row["wiki"], row["rev_id"], row["ref_name"])
        if ident not in seen:
            seen.add(ident)
            unique.append(row)
    out["citations"] = unique
    return out
