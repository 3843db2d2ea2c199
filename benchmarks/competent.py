"""The competent baseline: a simple script that someone who knows DuckDB would write first.

Every revision parsed in full by :func:`tasks.parse.parse_revision` (mwparserfromhell on the
whole text; no memo, no cache: a revert is parsed again), its rows built by
:func:`benchmarks.legacy.legacy_rows`, and loaded in batches of ``batch`` revisions (50 by
default): per batch one transaction, and in it one ``INSERT … SELECT`` from a pandas DataFrame per
table, into the per-revision layout of benchmarks/legacy_schema.sql (one DuckDB file, default
settings). No Prefect, no validation, no text store.

    python -m benchmarks.competent DUMP DB [--limit M] [--batch 50]   # one JSON line of timings
"""

from __future__ import annotations

import argparse
import json
import time
from itertools import islice
from pathlib import Path

import pandas as pd

from benchmarks import legacy
from benchmarks.peak import peak_rss_mb
from tasks.parse import parse_revision
from tasks.sources.dump import read_dump


def run_competent(dump: Path, db: Path, limit: int | None = None, batch: int = 50,
                  run_id: str = "competent") -> dict:
    """Load the first ``limit`` revisions of ``dump`` (all by default) into a new legacy file
    ``db``; return timings in seconds: read (waiting on the dump reader), parse, load (rows built,
    DataFrames made, inserted and committed; closing the file included), and counts."""
    con = legacy.create(db)
    timings: dict = {"read": 0.0, "parse": 0.0, "load": 0.0, "revisions": 0, "rows": 0, "batches": 0}
    try:
        for page in read_dump(dump):
            left = None if limit is None else limit - timings["revisions"]
            if left is not None and left <= 0:
                break
            revisions = page.revisions if left is None else islice(page.revisions, left)
            while True:
                started = time.perf_counter()
                chunk = list(islice(revisions, batch))
                timings["read"] += time.perf_counter() - started
                if not chunk:
                    break
                started = time.perf_counter()
                parsed = [parse_revision(rev.text, page.site.lang) for rev in chunk]
                timings["parse"] += time.perf_counter() - started
                started = time.perf_counter()
                timings["rows"] += insert_batch(con, legacy.legacy_rows(page, chunk, parsed, run_id))
                timings["load"] += time.perf_counter() - started
                timings["revisions"] += len(chunk)
                timings["batches"] += 1
    finally:
        started = time.perf_counter()
        con.close()
        timings["load"] += time.perf_counter() - started
    return timings


def insert_batch(con, tables: dict[str, list[dict]]) -> int:
    """One transaction; one INSERT … SELECT from a DataFrame per non-empty table. Rows written."""
    written = 0
    con.begin()
    try:
        for table, rows in tables.items():
            if not rows:
                continue
            frame = pd.DataFrame.from_records(rows)
            con.register("batch_frame", frame)
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM batch_frame")
            con.unregister("batch_frame")
            written += len(frame)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description="Competent baseline: full parse, bulk inserts per batch.")
    parser.add_argument("dump", type=Path)
    parser.add_argument("db", type=Path, help="a new DuckDB file")
    parser.add_argument("--limit", type=int, default=None, help="only the first M revisions of the dump")
    parser.add_argument("--batch", type=int, default=50, help="revisions per transaction (default 50)")
    args = parser.parse_args()
    if args.db.exists():
        raise SystemExit(f"{args.db} exists: the baseline wants a new file")
    started = time.perf_counter()
    timings = run_competent(args.dump, args.db, limit=args.limit, batch=args.batch)
    timings["seconds"] = time.perf_counter() - started
    timings["peak_rss_mb"] = peak_rss_mb()
    print("BENCH_RESULT " + json.dumps(timings))


if __name__ == "__main__":
    main()
