"""The naive baseline: every revision fully parsed, every row inserted with its own INSERT.

What a first pipeline would do: for each revision of the dump, call
:func:`tasks.parse.parse_revision` (mwparserfromhell on the whole text, no cache of any kind), build
its rows with :func:`benchmarks.legacy.legacy_rows`, and write each row with one plain ``INSERT``
statement (no executemany, no transaction per batch: DuckDB's autocommit per statement) into the
per-revision layout of benchmarks/legacy_schema.sql, one DuckDB file. Same parser, same rows as
the pipeline, so the outputs can be compared row for row.

    python -m benchmarks.naive DUMP DB [--limit K]   # prints one JSON line of timings
"""

from __future__ import annotations

import argparse
import json
import time
from itertools import islice
from pathlib import Path

from benchmarks import legacy
from benchmarks.peak import peak_rss_mb
from tasks.parse import parse_revision
from tasks.sources.dump import read_dump


def insert_one(con, table: str, row: dict) -> None:
    """One INSERT statement for one row."""
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    con.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))


def run_naive(dump: Path, db: Path, limit: int | None = None, run_id: str = "naive") -> dict:
    """Load the first ``limit`` revisions of ``dump`` (all by default) naively into a new legacy
    file ``db``; return timings.

    Timings in seconds: read (XML + sha1, the time spent waiting for the next revision), parse,
    load (rows built and inserted, closing the file included); ``revisions`` and ``rows`` count
    what was done.
    """
    con = legacy.create(db)
    timings: dict = {"read": 0.0, "parse": 0.0, "load": 0.0, "revisions": 0, "rows": 0}
    try:
        for page in read_dump(dump):
            left = None if limit is None else limit - timings["revisions"]
            if left is not None and left <= 0:
                break
            revisions = page.revisions if left is None else islice(page.revisions, left)
            while True:
                started = time.perf_counter()
                rev = next(revisions, None)
                timings["read"] += time.perf_counter() - started
                if rev is None:
                    break
                started = time.perf_counter()
                parsed = parse_revision(rev.text, page.site.lang)
                timings["parse"] += time.perf_counter() - started
                started = time.perf_counter()
                for table, rows in legacy.legacy_rows(page, [rev], [parsed], run_id).items():
                    for row in rows:
                        insert_one(con, table, row)
                        timings["rows"] += 1
                timings["load"] += time.perf_counter() - started
                timings["revisions"] += 1
    finally:
        started = time.perf_counter()
        con.close()
        timings["load"] += time.perf_counter() - started
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description="Naive baseline: parse everything, insert row by row.")
    parser.add_argument("dump", type=Path)
    parser.add_argument("db", type=Path, help="a new DuckDB file")
    parser.add_argument("--limit", type=int, default=None, help="only the first K revisions of the dump")
    args = parser.parse_args()
    if args.db.exists():
        raise SystemExit(f"{args.db} exists: the baseline wants a new file")
    started = time.perf_counter()
    timings = run_naive(args.dump, args.db, limit=args.limit)
    timings["seconds"] = time.perf_counter() - started
    timings["peak_rss_mb"] = peak_rss_mb()
    print("BENCH_RESULT " + json.dumps(timings))


if __name__ == "__main__":
    main()
