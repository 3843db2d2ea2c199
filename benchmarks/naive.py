"""The naive baseline: every revision fully parsed, every row inserted with its own INSERT.

Same parser functions (without any cache), same schema, same row builder as the pipeline, so its
tables can be compared with the pipeline's row for row.
"""

from __future__ import annotations

import time
from itertools import islice
from pathlib import Path

from tasks.load import DERIVED_TABLES, batch_rows
from tasks.parse import parse_revision
from tasks.sources.dump import read_dump
from warehouse.db import connect


def run_naive(dump: Path, db: Path, limit: int | None = None, run_id: str = "naive") -> dict:
    """Load ``dump`` (its first ``limit`` revisions per page) naively; return timings."""
    con = connect(db)
    timings = {"read": 0.0, "parse": 0.0, "load": 0.0}
    n = 0
    try:
        for page in read_dump(dump):
            revisions = page.revisions if limit is None else islice(page.revisions, limit)
            while True:
                t0 = time.perf_counter()
                rev = next(revisions, None)
                timings["read"] += time.perf_counter() - t0
                if rev is None:
                    break
                t0 = time.perf_counter()
                parsed = parse_revision(rev.text, page.site.lang)
                timings["parse"] += time.perf_counter() - t0
                t0 = time.perf_counter()
                rows = batch_rows(page, [rev], [parsed], run_id)
                con.execute("INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [rows.page[k] for k in ("wiki", "page_id", "title", "namespace", "lang",
                                                    "base_url", "redirect_from")])
                for table in ("revisions", *DERIVED_TABLES):
                    for row in rows.tables[table]:
                        columns = ", ".join(row)
                        marks = ", ".join("?" for _ in row)
                        con.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))
                timings["load"] += time.perf_counter() - t0
                n += 1
    finally:
        con.close()
    timings["revisions"] = n
    return timings
