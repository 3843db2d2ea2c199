"""`make bench`: the naive baseline vs the real `ingest` flow on synthetic full-history dumps.

Each measurement runs in its own child process, which reports its own peak RSS (VmHWM), so the
figure is that measurement's alone. Prints revisions/s of both, seconds per stage (read, parse, load, validate),
`peak_rss_mb: N` (the highest of the flow's runs: 1×, 4×, 20 pages) and, last,
`speedup_vs_naive: X`. Asserts that the flow's tables equal the naive path's (same multiset of
rows, run ids aside) and exits non-zero, loudly, if they do not. Method: docs/BENCHMARKS.md.

    python -m benchmarks.run                     # 5,000 revisions, naive in full (~35 min here)
    python -m benchmarks.run --skip-naive-full   # naive rate from its first 300 revisions
    python -m benchmarks.run --quick             # 300 revisions, no 4× or 20-page runs
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

from benchmarks.synth import cached
from tasks.load import TEXTS
from warehouse.db import texts_path

OUT = Path(__file__).resolve().parent / "out"
COMPARED = (TEXTS, "revisions", "infoboxes", "infobox_fields", "figures", "belligerents", "citations",
            "parse_issues")

# The flow, in a child process. The Prefect API is up and a warm-up flow has run before the clock
# starts, so the clock measures the pipeline, not Prefect's start.
FLOW_CHILD = """
import cProfile, contextlib, json, sys, time
from pathlib import Path
from benchmarks.peak import peak_rss_mb
from flows.prefect_api import prefect_api
from prefect import flow
from flows import progress
from flows.ingest import ingest

@flow
def warm_up():
    return 1

# The CLI's Prefect API: PREFECT_API_URL or a recorded server if one runs, else a temporary one
# with a start-up wait long enough for a busy machine (Prefect's own 20 s is not).
api = contextlib.ExitStack()
api.enter_context(prefect_api(Path(sys.argv[2]).resolve().parent))
warm_up()
timers = {}
progress.subscribe(lambda event, data: timers.update(data) if event == "timings" else None)
profiler = cProfile.Profile() if len(sys.argv) > 3 else None
start = time.perf_counter()
if profiler:
    profiler.enable()
state = ingest(dump=sys.argv[1], db=sys.argv[2], return_state=True)
if profiler:
    profiler.disable()
    profiler.dump_stats(sys.argv[3])
seconds = time.perf_counter() - start
print("BENCH_RESULT " + json.dumps({"seconds": seconds, "timings": timers, "state": state.type.value,
                                    "message": state.message, "peak_rss_mb": peak_rss_mb()}))
api.close()
"""

# One stage alone, in a child process: reading (mwxml + sha1) or the pipeline's parse (ParseCache).
STAGE_CHILD = """
import json, sys, time
from benchmarks.peak import peak_rss_mb
from tasks.parse import ParseCache
from tasks.sources.dump import read_dump

stage, path = sys.argv[1], sys.argv[2]
cache = ParseCache()
n, spent = 0, 0.0
start = time.perf_counter()
for page in read_dump(path):
    for rev in page.revisions:
        n += 1
        if stage == "parse":
            t0 = time.perf_counter()
            cache.parse(rev.text, page.site.lang, rev.sha1)
            spent += time.perf_counter() - t0
total = time.perf_counter() - start
print("BENCH_RESULT " + json.dumps({"revisions": n, "seconds": spent if stage == "parse" else total,
                                    "hits": cache.hits, "misses": cache.misses, "slow": cache.slow,
                                    "peak_rss_mb": peak_rss_mb()}))
"""


def child(args: list[str], label: str) -> dict:
    """Run a child python process; its BENCH_RESULT JSON, in which peak_rss_mb is the child's own
    high-water mark (benchmarks/peak.py; not os.wait4's ru_maxrss, which starts from this
    process's high-water mark)."""
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "ERROR",
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, *args], stdout=out, stderr=err, text=True, env=env)
        proc.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    results = [line for line in stdout.splitlines() if line.startswith("BENCH_RESULT ")]
    if proc.returncode != 0 or not results:
        raise SystemExit(f"{label} failed (exit {proc.returncode}):\n{stdout[-2000:]}\n{stderr[-4000:]}")
    return json.loads(results[-1].removeprefix("BENCH_RESULT "))


def run_flow(dump: Path, db: Path, profile: Path | None = None) -> dict:
    result = child(["-c", FLOW_CHILD, str(dump), str(db), *([str(profile)] if profile else [])],
                   f"ingest of {dump.name}")
    if result["state"] != "COMPLETED":
        raise SystemExit(f"ingest of {dump.name} ended {result['state']}: {result['message']}")
    return result


def run_naive(dump: Path, db: Path, limit: int | None) -> dict:
    return child(["-m", "benchmarks.naive", str(dump), str(db),
                  *(["--limit", str(limit)] if limit else [])], f"naive baseline on {dump.name}")


def assert_equal_outputs(naive_db: Path, flow_db: Path) -> dict[str, int]:
    """Rows per table after checking, table by table, that the flow's rows equal the naive path's.

    Only the revisions the naive path loaded are compared (all of them unless it ran on a sample).
    EXCEPT ALL in both directions: equal multisets of rows, i.e. equal sorted tuples.
    """
    con = duckdb.connect()
    try:
        for side, path in (("naive", naive_db), ("flow", flow_db)):
            con.execute(f"ATTACH '{path}' AS {side} (READ_ONLY)")
            con.execute(f"ATTACH '{texts_path(path)}' AS {side}_texts (READ_ONLY)")
        counts = {}
        for table in COMPARED:
            # The texts are in each warehouse's text store (warehouse/db.py::_open).
            catalog = {side: f"{side}_texts" if table == TEXTS else side for side in ("naive", "flow")}
            columns = ", ".join(c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = ? "
                "AND table_name = ? AND column_name <> 'run_id' ORDER BY column_index",
                [catalog["naive"], table]).fetchall())
            picked = {side: f"SELECT {columns} FROM {catalog[side]}.{table} WHERE rev_id IN "
                            f"(SELECT rev_id FROM naive.revisions)" for side in ("naive", "flow")}
            only_naive = con.execute(f"{picked['naive']} EXCEPT ALL {picked['flow']}").fetchall()
            only_flow = con.execute(f"{picked['flow']} EXCEPT ALL {picked['naive']}").fetchall()
            if only_naive or only_flow:
                raise SystemExit(
                    f"OUTPUTS DIFFER in {table}: {len(only_naive)} rows only in the naive path, "
                    f"{len(only_flow)} only in the flow.\n  naive: {str(only_naive[:1])[:600]}\n"
                    f"  flow:  {str(only_flow[:1])[:600]}")
            counts[table] = con.execute(f"SELECT count(*) FROM ({picked['naive']})").fetchall()[0][0]
        return counts
    finally:
        con.close()


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    memory_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")), 0)
    return (f"{model}, {len(os.sched_getaffinity(0))} cores (nproc), {memory_kb / 2**20:.1f} GiB, "
            f"python {platform.python_version()}")


def code_version() -> str:
    """The commit measured, and the pipeline files changed since (others may be editing them)."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--short", "--", "flows", "tasks", "warehouse",
                                  "expectations"], cwd=root, capture_output=True, text=True,
                                 check=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    changed = [line[3:] for line in changed if line.strip()]
    return f"commit {commit}" + (f", uncommitted changes in {', '.join(changed)}" if changed else "")


def print_profile(path: Path, top: int = 25) -> None:
    import pstats

    print(f"profile of the 1x ingest (cProfile, top {top} by own time; file {path}):")
    pstats.Stats(str(path), stream=sys.stdout).sort_stats("tottime").print_stats(top)
    print(f"the same, our code only (tasks/, flows/, warehouse/, expectations/), top {top} cumulative:")
    pstats.Stats(str(path), stream=sys.stdout).sort_stats("cumulative").print_stats(
        r"/(tasks|flows|warehouse|expectations)/", top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=None,
                        help="revisions of the 1x dump (default 5000; 300 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 300 revisions, naive on the first 50, no 4x or 20-page runs")
    parser.add_argument("--skip-naive-full", type=int, nargs="?", const=300, default=None, metavar="K",
                        help="run the naive path on the first K revisions only (default 300) and "
                             "extrapolate its rate")
    parser.add_argument("--scale", type=int, default=4, help="size of the big dump, × revisions")
    parser.add_argument("--profile", action="store_true", help="profile the 1x ingest with cProfile")
    args = parser.parse_args()
    n = args.revisions or (300 if args.quick else 5000)
    if args.quick and args.skip_naive_full is None:
        args.skip_naive_full = 50
    work = Path(tempfile.mkdtemp(prefix="infobox-bench-"))
    print(f"machine: {machine()}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average before: "
          f"{os.getloadavg()[0]:.2f} (other work on the machine skews every figure)")
    print(f"code: {code_version()}")
    print(f"command: python -m benchmarks.run {' '.join(sys.argv[1:])}".rstrip())
    print("method: every measurement runs in its own child process (peak RSS = that process's "
          "VmHWM, read by itself at the end). Stages of the flow come from the flow's own timers (read = waiting on the "
          "dump reader, parse = parse tasks, load = load tasks, validate = expectations); the flow "
          "total is end-to-end after Prefect's server has started. 'read alone' iterates the dump "
          "only; 'parse alone' runs the pipeline's ParseCache over it without Prefect or DuckDB.")
    one, manifest = cached(OUT / f"history-{n}.xml", revisions=n)
    print(f"dump 1x: {one} — {n} revisions of one page, {manifest['bytes'] / 1e6:.0f} MB, "
          f"edits {manifest['edits']}")

    read = child(["-c", STAGE_CHILD, "read", str(one)], "read stage")
    print(f"read alone: {read['revisions']} revisions in {read['seconds']:.1f}s = "
          f"{read['revisions'] / read['seconds']:.0f} revisions/s (peak {read['peak_rss_mb']:.0f} MB)")
    parse = child(["-c", STAGE_CHILD, "parse", str(one)], "parse stage")
    print(f"parse alone: {parse['seconds']:.1f}s = {parse['revisions'] / parse['seconds']:.0f} revisions/s "
          f"(texts seen before {parse['hits']}, parsed {parse['misses']}, of which slow path "
          f"{parse['slow']}; peak {parse['peak_rss_mb']:.0f} MB)")

    sample = args.skip_naive_full if args.skip_naive_full else None
    if sample is not None and sample >= n:
        sample = None
    naive = run_naive(one, work / "naive.duckdb", sample)
    naive_seconds = naive["read"] + naive["parse"] + naive["load"]
    naive_rate = naive["revisions"] / naive_seconds
    print(f"naive: {naive['revisions']} revisions in {naive_seconds:.1f}s = {naive_rate:.2f} revisions/s "
          f"(read {naive['read']:.1f}s, parse {naive['parse']:.1f}s, load {naive['load']:.1f}s for "
          f"{naive['rows']} rows, one INSERT each; peak {naive['peak_rss_mb']:.0f} MB)")
    if sample is not None:
        print(f"naive: EXTRAPOLATED — measured on the first {sample} of {n} revisions "
              f"(--skip-naive-full); {n} would take about {n / naive_rate / 60:.0f} min")

    flow = run_flow(one, work / "flow.duckdb")
    flow_rate = n / flow["seconds"]
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in flow["timings"].items())
    print(f"pipeline: {n} revisions in {flow['seconds']:.1f}s = {flow_rate:.1f} revisions/s ({stages})")
    counts = assert_equal_outputs(work / "naive.duckdb", work / "flow.duckdb")
    print(f"outputs equal: {sum(counts.values())} rows of {naive['revisions']} revisions, "
          f"table by table ({', '.join(f'{k} {v}' for k, v in counts.items())})")
    print(f"peak_rss_mb_1x: {flow['peak_rss_mb']:.0f}")
    peak = flow["peak_rss_mb"]
    if not args.quick:
        big_n = args.scale * n
        big, big_manifest = cached(OUT / f"history-{big_n}.xml", revisions=big_n)
        flow_big = run_flow(big, work / "flow-big.duckdb")
        print(f"pipeline {args.scale}x: {big_n} revisions ({big_manifest['bytes'] / 1e6:.0f} MB) in "
              f"{flow_big['seconds']:.1f}s = {big_n / flow_big['seconds']:.1f} revisions/s")
        print(f"peak_rss_mb_{args.scale}x: {flow_big['peak_rss_mb']:.0f}")
        # Where memory goes: the parse stage alone on the big dump (its memos are bounded LRUs).
        parse_big = child(["-c", STAGE_CHILD, "parse", str(big)], "parse stage of the big dump")
        print(f"parse alone {args.scale}x: peak {parse_big['peak_rss_mb']:.0f} MB "
              f"(1x: {parse['peak_rss_mb']:.0f} MB)")
        peak = max(peak, flow_big["peak_rss_mb"])
        pages, _ = cached(OUT / "pages-20x1000.xml", pages=20, revisions=1000)
        flow_pages = run_flow(pages, work / "flow-pages.duckdb")
        print(f"pipeline 20 pages x 1000: 20000 revisions in {flow_pages['seconds']:.1f}s = "
              f"{20000 / flow_pages['seconds']:.1f} revisions/s (peak {flow_pages['peak_rss_mb']:.0f} MB)")
        peak = max(peak, flow_pages["peak_rss_mb"])  # the target holds for every flow run
    if args.profile:  # a separate run: cProfile's overhead must not count in the figures above
        profile = OUT / "ingest-1x.prof"
        run_flow(one, work / "flow-profiled.duckdb", profile)
        print_profile(profile)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"peak_rss_mb: {peak:.0f}")
    print(f"speedup_vs_naive: {flow_rate / naive_rate:.1f}")


if __name__ == "__main__":
    main()
