"""`make bench`: the naive baseline vs the real `ingest` flow on synthetic full-history dumps.

Prints revisions/s for each, seconds per stage (read, parse, load, validate), peak RSS of the
flow's process on the 1× and 4× dumps, and last `speedup_vs_naive: X`. Asserts that the flow's
tables equal the naive path's (sorted rows, run ids aside) and fails loudly if not.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks.naive import run_naive
from benchmarks.synth import generate

OUT = Path(__file__).resolve().parent / "out"
COMPARED = {"revisions": "rev_id", "infoboxes": "rev_id", "infobox_fields": "rev_id",
            "belligerents": "rev_id", "figures": "rev_id", "citations": "rev_id",
            "parse_issues": "rev_id"}

CHILD = """
import json, os, resource, sys, time
from flows import progress
from flows.ingest import ingest
from prefect import flow

@flow
def warm_up():
    return 1

warm_up()  # start Prefect's temporary server before the clock runs
timings = {}
progress.subscribe(lambda event, data: timings.update(data) if event == "timings" else None)
start = time.perf_counter()
state = ingest(dump=sys.argv[1], db=sys.argv[2], return_state=True)
seconds = time.perf_counter() - start
print("BENCH_RESULT " + json.dumps({"seconds": seconds, "timings": timings,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "state": state.type.value}))
"""


def dump_for(name: str, **kwargs) -> Path:
    path = OUT / f"{name}.xml"
    manifest = path.with_suffix(".json")
    if not (path.exists() and manifest.exists() and
            json.loads(manifest.read_text())["revisions"] == kwargs["revisions"]):
        generate(path, **kwargs)
    return path


def run_flow(dump: Path, db: Path) -> dict:
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "ERROR"}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(dump), str(db)], capture_output=True,
                          text=True, env=env, timeout=7200)
    if proc.returncode != 0:
        raise SystemExit(f"ingest failed:\n{proc.stderr[-3000:]}")
    results = [line for line in proc.stdout.splitlines() if line.startswith("BENCH_RESULT ")]
    if not results:
        raise SystemExit(f"ingest printed no result:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return json.loads(results[-1].removeprefix("BENCH_RESULT "))


def table_rows(db: Path, table: str, rev_ids: list[int]) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        columns = [c for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND column_name <> 'run_id' ORDER BY ordinal_position", [table]).fetchall()]
        query = (f"SELECT {', '.join(columns)} FROM {table} WHERE rev_id IN "
                 f"(SELECT unnest(?::BIGINT[])) ORDER BY ALL")
        return con.execute(query, [rev_ids]).fetchall()
    finally:
        con.close()


def assert_equal_outputs(naive_db: Path, flow_db: Path) -> int:
    con = duckdb.connect(str(naive_db), read_only=True)
    rev_ids = [r for (r,) in con.execute("SELECT rev_id FROM revisions").fetchall()]
    con.close()
    compared = 0
    for table in COMPARED:
        naive, fast = table_rows(naive_db, table, rev_ids), table_rows(flow_db, table, rev_ids)
        if naive != fast:
            missing = set(naive) - set(fast)
            extra = set(fast) - set(naive)
            raise SystemExit(f"OUTPUTS DIFFER in {table}: {len(missing)} rows only in naive, "
                             f"{len(extra)} only in the flow; e.g. {sorted(missing)[:1]} {sorted(extra)[:1]}")
        compared += len(naive)
    return compared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=5000)
    parser.add_argument("--naive-sample", type=int, default=400,
                        help="naive revisions measured (its rate is per revision; 0 = all)")
    parser.add_argument("--quick", action="store_true", help="300 revisions, no 4× or 20-page runs")
    args = parser.parse_args()
    n = 300 if args.quick else args.revisions
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    one = dump_for(f"history-{n}", revisions=n)
    manifest = json.loads(one.with_suffix(".json").read_text())
    print(f"dump 1x: {n} revisions of one page, {manifest['bytes'] / 1e6:.0f} MB, edits {manifest['edits']}")
    work = Path(tempfile.mkdtemp(prefix="infobox-bench-"))

    sample = n if args.naive_sample == 0 else min(args.naive_sample, n)
    naive = run_naive(one, work / "naive.duckdb", limit=sample)
    naive_seconds = naive["read"] + naive["parse"] + naive["load"]
    naive_rate = naive["revisions"] / naive_seconds
    print(f"naive: {naive['revisions']} revisions in {naive_seconds:.1f}s = {naive_rate:.1f} revisions/s "
          f"(read {naive['read']:.1f}s, parse {naive['parse']:.1f}s, load {naive['load']:.1f}s)"
          + ("" if sample == n else f"; measured on the first {sample} revisions"))

    flow = run_flow(one, work / "flow.duckdb")
    flow_rate = n / flow["seconds"]
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in flow["timings"].items())
    print(f"pipeline: {n} revisions in {flow['seconds']:.1f}s = {flow_rate:.1f} revisions/s "
          f"({stages}; state {flow['state']})")
    rows = assert_equal_outputs(work / "naive.duckdb", work / "flow.duckdb")
    print(f"outputs equal: {rows} rows of the first {sample} revisions compared, table by table")
    peak = flow["peak_rss_mb"]
    print(f"peak_rss_mb_1x: {peak:.0f}")
    if not args.quick:
        four = dump_for(f"history-{4 * n}", revisions=4 * n)
        flow4 = run_flow(four, work / "flow4.duckdb")
        print(f"pipeline 4x: {4 * n} revisions in {flow4['seconds']:.1f}s = "
              f"{4 * n / flow4['seconds']:.1f} revisions/s")
        print(f"peak_rss_mb_4x: {flow4['peak_rss_mb']:.0f}")
        peak = max(peak, flow4["peak_rss_mb"])
        pages = dump_for("pages-20x1000", pages=20, revisions=1000)
        flow20 = run_flow(pages, work / "flow20.duckdb")
        print(f"pipeline 20 pages x 1000: {20000 / flow20['seconds']:.1f} revisions/s "
              f"({flow20['seconds']:.1f}s)")
    print(f"peak_rss_mb: {peak:.0f}")
    print(f"speedup_vs_naive: {flow_rate / naive_rate:.1f}")


if __name__ == "__main__":
    main()
