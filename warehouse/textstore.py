"""The revision-text store (the file beside the warehouse, attached as ``texts``): shard tables of
at most SHARD_CHARS characters of text each, read through one view, ``texts.revision_texts``.

Why shards. A checkpoint rewrites, compressed, the newest row group of every table that received
rows; with 2,048-row groups (the smallest DuckDB allows) of 44 KB revisions that is up to 90 MB of
text, re-read and re-compressed at every checkpoint until the group is full. Measured on the
5,000-revision benchmark history, writing the texts alone in batches of 180 under the writer's
128 MB cap: one table peaked at 307–312 MB of resident memory and spent 2.0–2.2 CPU-s; shards of
16 M characters 180–195 MB and 1.35–1.47 CPU-s, for a store of 10.2 MB instead of 1.8 after the
benchmark's ingest (docs/BENCHMARKS.md). A
shard that has reached its size is never written again except by deletes, so its row groups are
not compressed again.

Why a view of UNION ALL (not texts cut in pieces and glued back by an aggregate): a query over
the view streams its texts shard by shard, as it did over one table; an aggregate would hold every
text it returns in memory (measured: 833 MB for a query that needed 180).

Layout: ``texts.text_shards`` lists the shards (number, texts and characters appended);
``texts.text_shard_000001`` … hold (wiki, rev_id, text); the view is rebuilt when a shard is
added. A store written before shards (one table ``revision_texts``) becomes shard 1 when a writer
opens it (:func:`ensure`). A (wiki, rev_id) is stored at most once across the shards: every write
deletes the batch's revisions first, in the same transaction, and ``texts.text_locations`` (the
key of every stored text and its shard, with a primary key over all shards) says where they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

TEXTS_ALIAS = "texts"  # the attach name of the store in every connection (warehouse/db.py)
VIEW = "revision_texts"
MANIFEST = "text_shards"
LOCATIONS = "text_locations"
SHARD_PREFIX = "text_shard_"
# A new shard is begun when the current one would pass this many characters (a batch is never
# split: a single bigger batch gets a shard of its own).
SHARD_CHARS = 16 * 2**20

_VIEW_COMMENT = ("Raw wikitext of each stored revision's main slot, as served (no variant "
                 "conversion); join to revisions on (wiki, rev_id). No row when the text is hidden "
                 "or missing. A view over the text store's shards (text_shards).")
_COLUMN_COMMENTS = {
    "wiki": "Wiki id (revisions.wiki).",
    "rev_id": "Revision (revisions.rev_id).",
    "text": "The wikitext; its length in bytes is revisions.size and its SHA-1 revisions.sha1.",
}


def shard_name(number: int) -> str:
    return f"{SHARD_PREFIX}{number:06d}"


def _q(name: str) -> str:
    return f"{TEXTS_ALIAS}.{name}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def shards(con: duckdb.DuckDBPyConnection) -> list[tuple[int, int, int]]:
    """(shard, texts appended, characters appended) of every shard, oldest first."""
    return con.execute(f"SELECT shard, n_texts, n_chars FROM {_q(MANIFEST)} ORDER BY shard").fetchall()


def _kind(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    found = con.execute("SELECT 'table' FROM duckdb_tables() WHERE database_name = ? AND table_name = ? "
                        "UNION ALL SELECT 'view' FROM duckdb_views() WHERE database_name = ? "
                        "AND view_name = ?", [TEXTS_ALIAS, name, TEXTS_ALIAS, name]).fetchall()
    return found[0][0] if found else None


def _create_shard(con: duckdb.DuckDBPyConnection, number: int) -> None:
    table = _q(shard_name(number))
    con.execute(f"CREATE TABLE {table} (wiki VARCHAR NOT NULL, rev_id BIGINT NOT NULL, "
                "text VARCHAR NOT NULL, PRIMARY KEY (wiki, rev_id))")
    _comment_shard(con, number)
    con.execute(f"INSERT INTO {_q(MANIFEST)} VALUES (?, 0, 0)", [number])


def _comment_shard(con: duckdb.DuckDBPyConnection, number: int) -> None:
    table = _q(shard_name(number))
    con.execute(f"COMMENT ON TABLE {table} IS 'Shard {number} of the revision texts: read them "
                f"through the view {VIEW}.'")
    for column, comment in _COLUMN_COMMENTS.items():
        con.execute(f"COMMENT ON COLUMN {table}.{column} IS {_literal(comment)}")


def _create_view(con: duckdb.DuckDBPyConnection, numbers: Sequence[int]) -> None:
    # Unqualified names: a view binds them in its own database, whatever it is attached as.
    union = " UNION ALL ".join(f"SELECT wiki, rev_id, text FROM {shard_name(n)}" for n in numbers)
    con.execute(f"CREATE OR REPLACE VIEW {_q(VIEW)} AS {union}")
    con.execute(f"COMMENT ON VIEW {_q(VIEW)} IS {_literal(_VIEW_COMMENT)}")
    for column, comment in _COLUMN_COMMENTS.items():  # a replaced view loses its comments
        con.execute(f"COMMENT ON COLUMN {_q(VIEW)}.{column} IS {_literal(comment)}")


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Give a writer's text store its shards and view (after the manifest's CREATE in the schema):
    a new store gets shard 1, a store of one ``revision_texts`` table has it renamed to shard 1.
    Idempotent; one transaction."""
    from warehouse.db import transaction  # (db imports this module)

    if shards(con) and _kind(con, VIEW) == "view":
        return
    with transaction(con):
        if _kind(con, VIEW) == "table":  # the layout before shards: its table becomes shard 1
            n_texts, n_chars = con.execute(
                f"SELECT count(*), coalesce(sum(length(text)), 0) FROM {_q(VIEW)}").fetchone()
            con.execute(f"ALTER TABLE {_q(VIEW)} RENAME TO {shard_name(1)}")
            _comment_shard(con, 1)
            con.execute(f"INSERT INTO {_q(MANIFEST)} VALUES (1, ?, ?)", [n_texts, n_chars])
            con.execute(f"INSERT INTO {_q(LOCATIONS)} SELECT wiki, rev_id, 1 FROM {_q(shard_name(1))}")
        elif not shards(con):
            _create_shard(con, 1)
        _create_view(con, [number for number, _, _ in shards(con)])


def delete(con: duckdb.DuckDBPyConnection, where: str, params: Sequence = ()) -> int:
    """Delete the texts matching ``where`` (a condition on ``t.wiki`` and ``t.rev_id``, with ``?``
    parameters); returns how many. Their shards are found in text_locations, so a write costs the
    same however many shards there are. Run it inside the caller's transaction."""
    located = con.execute(f"DELETE FROM {_q(LOCATIONS)} t WHERE {where} RETURNING shard, wiki, rev_id",
                          list(params)).fetchall()
    by_shard: dict[tuple[int, str], list[int]] = {}
    for shard, wiki, rev_id in located:
        by_shard.setdefault((shard, wiki), []).append(rev_id)
    for (shard, wiki), rev_ids in sorted(by_shard.items()):
        con.execute(f"DELETE FROM {_q(shard_name(shard))} WHERE wiki = ? AND rev_id IN "
                    "(SELECT unnest(?::BIGINT[]))", [wiki, rev_ids])
    return len(located)


def append(con: duckdb.DuckDBPyConnection, rows: Sequence[dict]) -> int:
    """Append text rows ({wiki, rev_id, text}) of revisions no shard holds, to the newest shard or
    to a new one when it would pass SHARD_CHARS. Run it inside the caller's transaction."""
    from warehouse.db import append_rows  # (db imports this module)

    if not rows:
        return 0
    chars = sum(len(row["text"]) for row in rows)
    number, n_texts, n_chars = shards(con)[-1]
    if n_texts and n_chars + chars > SHARD_CHARS:
        number += 1
        _create_shard(con, number)
        _create_view(con, [n for n, _, _ in shards(con)])
    added = append_rows(con, _q(shard_name(number)), rows)
    # The key of every stored text, once across the shards (a revision stored already fails here).
    append_rows(con, _q(LOCATIONS), [{"wiki": row["wiki"], "rev_id": row["rev_id"], "shard": number}
                                      for row in rows])
    con.execute(f"UPDATE {_q(MANIFEST)} SET n_texts = n_texts + ?, n_chars = n_chars + ? WHERE shard = ?",
                [added, chars, number])
    return added
