"""`make bench`: the real `ingest` flow against two baselines on synthetic full-history dumps.

Measured, each in its own child process (which reports its own peak RSS, VmHWM):

- read alone: the pipeline's dump reader (tasks.sources.dump.read_dump, sha1 included), nothing else;
- parse alone: the pipeline's ParseCache over the dump, without Prefect or DuckDB;
- naive baseline (benchmarks/naive.py): full mwparserfromhell parse of every revision, one
  autocommitted INSERT per row;
- competent baseline (benchmarks/competent.py): full parse of every revision, one INSERT … SELECT
  from a DataFrame per table per batch of 50 revisions, one transaction per batch;
- the pipeline (flows.ingest) on 1× the revisions, 4× and 20 pages × 1,000 (peak RSS of each);
- one revision through the CLI (`infobox run --file <seed>`), cold (the CLI starts its own Prefect
  server) and warm (an `infobox server` already running).

Both baselines write today's per-revision layout (benchmarks/legacy_schema.sql, one DuckDB file
each) and never the warehouse's own code or schema. After the 1× run the pipeline's tables are
compared with each baseline's, table by table (EXCEPT ALL both ways on the legacy columns); a
difference ends the run non-zero with `OUTPUTS DIFFER in <table>`. The baselines run on their first
150 (naive) and 500 (competent) revisions and their rates are extrapolated (said so in the output);
`--full` runs them on every revision. The last lines are `name: value` figures: read_alone_rev_s,
pipeline_rev_s, pipeline_cpu_s (the 1× run's CPU seconds: the flow's process, its dump reader and
its validator; this machine's speed drifts by a third within a day), pipeline_vs_read,
competent_rev_s, speedup_vs_competent, naive_rev_s, speedup_vs_naive, warehouse_mb, peak_rss_mb,
one_revision_cold_s, one_revision_warm_s.
Method: docs/BENCHMARKS.md.

    python -m benchmarks.run           # 5,000 revisions, baselines sampled (≈ 15 min on 2 idle cores)
    python -m benchmarks.run --full    # the baselines on all 5,000 revisions too (≈ 50 min)
    python -m benchmarks.run --quick   # 300 revisions, no 4× or 20-page runs (≈ 4 min)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks import legacy
from benchmarks.synth import SEED, cached
from warehouse.db import texts_path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out"
NAIVE_SAMPLE, COMPETENT_SAMPLE = 150, 500  # default samples of the baselines (revisions)
QUICK_NAIVE_SAMPLE, QUICK_COMPETENT_SAMPLE = 50, 300  # --quick: the competent one on all 300

# The flow, in a child process. The Prefect API is up and a warm-up flow has run before the clock
# starts, so the clock measures the pipeline, not Prefect's start.
FLOW_CHILD = """
import cProfile, contextlib, json, resource, sys, time
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
validator = {}
progress.subscribe(lambda event, data: timers.update(data) if event == "timings" else
                   validator.update(data) if event == "validator" else None)
profiler = cProfile.Profile() if len(sys.argv) > 3 else None

def cpu_seconds(who):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime

cpu_before = cpu_seconds(resource.RUSAGE_SELF), cpu_seconds(resource.RUSAGE_CHILDREN)
start = time.perf_counter()
if profiler:
    profiler.enable()
state = ingest(dump=sys.argv[1], db=sys.argv[2], return_state=True)
if profiler:
    profiler.disable()
    profiler.dump_stats(sys.argv[3])
seconds = time.perf_counter() - start
# CPU of the run: this process's, and that of the children it waited for meanwhile (the dump's
# reader and the validator; not Prefect's server, which still runs).
cpu = {"flow_process": cpu_seconds(resource.RUSAGE_SELF) - cpu_before[0],
       "reader_and_validator": cpu_seconds(resource.RUSAGE_CHILDREN) - cpu_before[1]}
print("BENCH_RESULT " + json.dumps({"seconds": seconds, "timings": timers, "state": state.type.value,
                                    "message": state.message, "peak_rss_mb": peak_rss_mb(),
                                    "validator_peak_rss_mb": validator.get("peak_mb", 0),
                                    "cpu_seconds": cpu}))
api.close()
"""

# One stage alone, in a child process: reading (the pipeline's reader, sha1 included) or the
# pipeline's parse (ParseCache).
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


def child_env() -> dict[str, str]:
    return {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "ERROR",
            "PYTHONPATH": str(ROOT)}


def child(args: list[str], label: str) -> dict:
    """Run a child python process; its BENCH_RESULT JSON, in which peak_rss_mb is the child's own
    high-water mark (benchmarks/peak.py; not os.wait4's ru_maxrss, which starts from this
    process's high-water mark)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, *args], stdout=out, stderr=err, text=True,
                                env=child_env(), cwd=ROOT)
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


def run_baseline(kind: str, dump: Path, db: Path, limit: int | None) -> dict:
    """The naive or competent baseline (benchmarks/<kind>.py) on the first ``limit`` revisions."""
    return child(["-m", f"benchmarks.{kind}", str(dump), str(db),
                  *(["--limit", str(limit)] if limit else [])], f"{kind} baseline on {dump.name}")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def assert_equal_outputs(legacy_db: Path, pipeline_db: Path, label: str = "baseline") -> dict[str, int]:
    """Rows per table after checking, table by table, that the pipeline's rows equal those of the
    baseline's legacy file ``legacy_db``; raises SystemExit(`OUTPUTS DIFFER in <table>` …) if not.

    The pipeline's warehouse is attached as the pipeline attaches it (`warehouse`, its text store
    `texts`), so views of its own layout resolve as they do there; each side is read by the legacy
    columns (all but run_id), so extra columns of the pipeline's tables do not matter. Only the
    revisions the baseline loaded are compared. EXCEPT ALL in both directions: equal multisets of
    rows, i.e. equal sorted tuples.
    """
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_quote(str(pipeline_db))} AS warehouse (READ_ONLY)")
        con.execute(f"ATTACH {_quote(str(texts_path(pipeline_db)))} AS texts (READ_ONLY)")
        con.execute("USE warehouse")
        con.execute(f"ATTACH {_quote(str(legacy_db))} AS legacy (READ_ONLY)")
        columns = legacy.columns(con, "legacy")
        counts = {}
        for table in legacy.TABLES:
            names = ", ".join(f't."{c}"' for c in columns[table] if c != "run_id")
            sources = {"baseline": f"legacy.main.{table}",
                       "pipeline": "texts.main.revision_texts" if table == legacy.TEXTS
                       else f"warehouse.main.{table}"}
            picked = {side: f"SELECT {names} FROM {source} t WHERE EXISTS (SELECT 1 FROM "
                            f"legacy.main.revisions l WHERE l.wiki = t.wiki AND l.rev_id = t.rev_id)"
                      for side, source in sources.items()}
            only_baseline = con.execute(f"{picked['baseline']} EXCEPT ALL {picked['pipeline']}").fetchall()
            only_pipeline = con.execute(f"{picked['pipeline']} EXCEPT ALL {picked['baseline']}").fetchall()
            if only_baseline or only_pipeline:
                raise SystemExit(
                    f"OUTPUTS DIFFER in {table}: {len(only_baseline)} rows only in the {label} "
                    f"baseline, {len(only_pipeline)} only in the pipeline.\n"
                    f"  {label}: {str(only_baseline[:1])[:600]}\n"
                    f"  pipeline: {str(only_pipeline[:1])[:600]}")
            counts[table] = con.execute(f"SELECT count(*) FROM ({picked['baseline']})").fetchall()[0][0]
        return counts
    finally:
        con.close()


# ---------------------------------------------------------------- one revision through the CLI

def infobox_command() -> list[str]:
    """The project's CLI, as installed beside this Python (.venv/bin/infobox)."""
    script = Path(sys.executable).parent / "infobox"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from flows.launch import main; main()"]


def cli_env() -> dict[str, str]:
    """The environment of a user's `infobox` command: no PREFECT_API_URL (so the CLI looks for a
    server recorded in the data dir, else starts its own)."""
    env = child_env()
    env.pop("PREFECT_API_URL", None)
    return env


def _stop_group(proc: subprocess.Popen, grace: float = 60.0) -> None:
    """Stop ``proc`` (started in a session of its own) with SIGTERM, then SIGKILL; then whatever
    it left in its process group."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 0.0)):
        try:
            os.killpg(proc.pid, 0)  # anything left in the group?
        except (ProcessLookupError, PermissionError):
            return
        os.killpg(proc.pid, sig)
        time.sleep(wait)


def timed_cli(db: Path, label: str) -> float:
    """Seconds of `infobox run --file <seed> --db <db>` as a subprocess (fails loudly)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        proc = subprocess.Popen([*infobox_command(), "run", "--file", str(SEED), "--db", str(db)],
                                stdout=out, stderr=subprocess.STDOUT, text=True, env=cli_env(),
                                cwd=db.parent, start_new_session=True)
        try:
            code = proc.wait(timeout=1800)
            seconds = time.perf_counter() - started
        finally:
            _stop_group(proc)  # and anything it left behind
        out.seek(0)
        output = out.read()
    if code != 0:
        raise SystemExit(f"one revision ({label}) failed (exit {code}):\n{output[-3000:]}")
    return seconds


def start_server(data_dir: Path) -> subprocess.Popen:
    """`infobox server` on a free port of 127.0.0.1, recorded in ``data_dir``; returns once it
    answers (its start is not timed)."""
    from flows.prefect_api import free_port, recorded_server, startup_timeout

    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "server.log"
    with log.open("w") as fh:
        proc = subprocess.Popen([*infobox_command(), "server", "--port", str(free_port()),
                                 "--data-dir", str(data_dir)], stdout=fh, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=cli_env(), cwd=data_dir,
                                start_new_session=True)
    deadline = time.monotonic() + startup_timeout() + 60
    # Started when the server answers and its warm process for runs is ready (flows/spare_run.py).
    while recorded_server(data_dir) is None or not (data_dir / "runner.json").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop_group(proc)
            raise SystemExit(f"`infobox server` did not start (exit {proc.returncode}):\n"
                             f"{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.5)
    return proc


def one_revision(work: Path) -> dict[str, float]:
    """Cold: fresh data dir, no server, no PREFECT_API_URL (the CLI starts its temporary server).
    Warm: an `infobox server` recorded in a fresh data dir, started before the clock; the same
    command twice (the second finds the revision already loaded)."""
    cold = timed_cli(work / "one-cold" / "warehouse.duckdb", "cold")
    warm_dir = work / "one-warm"
    server = start_server(warm_dir)
    try:
        first = timed_cli(warm_dir / "warehouse.duckdb", "warm, first")
        second = timed_cli(warm_dir / "warehouse.duckdb", "warm, second")
    finally:
        _stop_group(server)
    return {"cold": cold, "warm_first": first, "warm": second}


# ---------------------------------------------------------------- reporting

def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    memory_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")), 0)
    return (f"{model}, {len(os.sched_getaffinity(0))} cores (nproc), {memory_kb / 2**20:.1f} GiB, "
            f"python {platform.python_version()}")


def code_version() -> str:
    """The commit measured, and the pipeline files changed since (others may be editing them)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--short", "--", "flows", "tasks", "warehouse",
                                  "expectations"], cwd=ROOT, capture_output=True, text=True,
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


def megabytes(*paths: Path) -> float:
    """Size on disk (MB, 10^6 bytes) of the files and their WALs that exist."""
    return sum(p.stat().st_size for path in paths for p in (path, Path(f"{path}.wal")) if p.exists()) / 1e6


def baseline(kind: str, dump: Path, db: Path, n: int, sample: int | None) -> dict:
    """Run one baseline on its sample, print its line(s); its result plus 'rate' (revisions/s)."""
    result = run_baseline(kind, dump, db, sample)
    seconds = result["read"] + result["parse"] + result["load"]
    result["rate"] = result["revisions"] / seconds
    how = "one INSERT per row, autocommit" if kind == "naive" else "one INSERT … SELECT per table per batch"
    print(f"{kind}: {result['revisions']} revisions in {seconds:.1f}s = {result['rate']:.2f} revisions/s "
          f"(read {result['read']:.1f}s, parse {result['parse']:.1f}s, load {result['load']:.1f}s for "
          f"{result['rows']} rows, {how}; peak {result['peak_rss_mb']:.0f} MB)")
    if result["revisions"] < n:
        print(f"{kind}: sampled first {result['revisions']} of {n} revisions; its rate is extrapolated "
              f"(all {n} would take about {n / result['rate'] / 60:.0f} min; --full runs them all)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=None,
                        help="revisions of the 1x dump (default 5000; 300 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: 300 revisions, naive on the first {QUICK_NAIVE_SAMPLE}, "
                             f"competent on the first {QUICK_COMPETENT_SAMPLE}, no 4x or 20-page runs")
    parser.add_argument("--full", action="store_true", help="run both baselines on every revision")
    parser.add_argument("--naive-sample", "--skip-naive-full", type=int, default=None, metavar="K",
                        help=f"naive baseline on the first K revisions (default {NAIVE_SAMPLE})")
    parser.add_argument("--competent-sample", type=int, default=None, metavar="M",
                        help=f"competent baseline on the first M revisions (default {COMPETENT_SAMPLE})")
    parser.add_argument("--scale", type=int, default=4, help="size of the big dump, × revisions")
    parser.add_argument("--profile", action="store_true", help="profile the 1x ingest with cProfile")
    parser.add_argument("--keep", action="store_true",
                        help="keep the work directory (warehouses, legacy files) and print its path")
    args = parser.parse_args()
    n = args.revisions or (300 if args.quick else 5000)
    samples = {"naive": args.naive_sample or (QUICK_NAIVE_SAMPLE if args.quick else NAIVE_SAMPLE),
               "competent": args.competent_sample or (QUICK_COMPETENT_SAMPLE if args.quick else COMPETENT_SAMPLE)}
    samples = {kind: None if args.full or k >= n else k for kind, k in samples.items()}
    work = Path(tempfile.mkdtemp(prefix="infobox-bench-"))
    try:
        measure(args, n, samples, work)
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def measure(args: argparse.Namespace, n: int, samples: dict[str, int | None], work: Path) -> None:
    print(f"machine: {machine()}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average before: "
          f"{os.getloadavg()[0]:.2f} (other work on the machine skews every figure)")
    print(f"code: {code_version()}")
    print(f"command: python -m benchmarks.run {' '.join(sys.argv[1:])}".rstrip())
    print("method: every measurement runs in its own child process (peak RSS = that process's "
          "VmHWM, read by itself at the end). Pipeline stages come from the flow's own timers (read = "
          "waiting on the dump reader, parse = parse tasks, load = load tasks on the flow's thread, "
          "texts = the text writer thread's seconds, spent while each batch is parsed and not part "
          "of the total, validate = expectations); the pipeline total is end-to-end after Prefect's server has started. "
          "'read alone' iterates the dump with the pipeline's reader (sha1 included) only; 'parse "
          "alone' runs the pipeline's ParseCache over it without Prefect or DuckDB. Both baselines "
          "parse every revision in full and write the per-revision layout of "
          "benchmarks/legacy_schema.sql; their rate is revisions / (read + parse + load).")
    one, manifest = cached(OUT / f"history-{n}.xml", revisions=n)
    print(f"dump 1x: {one} — {n} revisions of one page, {manifest['bytes'] / 1e6:.0f} MB, "
          f"edits {manifest['edits']}")

    read = child(["-c", STAGE_CHILD, "read", str(one)], "read stage")
    read_rate = read["revisions"] / read["seconds"]
    print(f"read alone: {read['revisions']} revisions in {read['seconds']:.1f}s = "
          f"{read_rate:.0f} revisions/s (peak {read['peak_rss_mb']:.0f} MB)")
    parse = child(["-c", STAGE_CHILD, "parse", str(one)], "parse stage")
    print(f"parse alone: {parse['seconds']:.1f}s = {parse['revisions'] / parse['seconds']:.0f} revisions/s "
          f"(texts seen before {parse['hits']}, parsed {parse['misses']}, of which slow path "
          f"{parse['slow']}; peak {parse['peak_rss_mb']:.0f} MB)")

    naive = baseline("naive", one, work / "naive.duckdb", n, samples["naive"])
    competent = baseline("competent", one, work / "competent.duckdb", n, samples["competent"])

    flow_db = work / "pipeline-1x" / "warehouse.duckdb"
    flow = run_flow(one, flow_db)
    flow_rate = n / flow["seconds"]
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in flow["timings"].items())
    cpu = flow["cpu_seconds"]
    print(f"pipeline: {n} revisions in {flow['seconds']:.1f}s = {flow_rate:.1f} revisions/s ({stages}; "
          f"peak {flow['peak_rss_mb']:.0f} MB; CPU {cpu['flow_process']:.1f}s in the flow's process, "
          f"{cpu['reader_and_validator']:.1f}s in its dump reader and validator)")
    sizes = {"warehouse_main_mb": megabytes(flow_db), "warehouse_texts_mb": megabytes(texts_path(flow_db))}
    for kind, result in (("naive", naive), ("competent", competent)):
        counts = assert_equal_outputs(work / f"{kind}.duckdb", flow_db, kind)
        print(f"outputs equal ({kind} vs pipeline): {sum(counts.values())} rows of "
              f"{result['revisions']} revisions, table by table "
              f"({', '.join(f'{k} {v}' for k, v in counts.items())})")
    peaks = {"1x": flow["peak_rss_mb"]}
    validator_peaks = {"1x": flow.get("validator_peak_rss_mb", 0)}
    if not args.quick:
        big_n = args.scale * n
        big, big_manifest = cached(OUT / f"history-{big_n}.xml", revisions=big_n)
        flow_big = run_flow(big, work / f"pipeline-{args.scale}x" / "warehouse.duckdb")
        print(f"pipeline {args.scale}x: {big_n} revisions ({big_manifest['bytes'] / 1e6:.0f} MB) in "
              f"{flow_big['seconds']:.1f}s = {big_n / flow_big['seconds']:.1f} revisions/s "
              f"(peak {flow_big['peak_rss_mb']:.0f} MB)")
        peaks[f"{args.scale}x"] = flow_big["peak_rss_mb"]
        validator_peaks[f"{args.scale}x"] = flow_big.get("validator_peak_rss_mb", 0)
        pages, _ = cached(OUT / "pages-20x1000.xml", pages=20, revisions=1000)
        flow_pages = run_flow(pages, work / "pipeline-20pages" / "warehouse.duckdb")
        print(f"pipeline 20 pages x 1000: 20000 revisions in {flow_pages['seconds']:.1f}s = "
              f"{20000 / flow_pages['seconds']:.1f} revisions/s (peak {flow_pages['peak_rss_mb']:.0f} MB)")
        peaks["20pages"] = flow_pages["peak_rss_mb"]
        validator_peaks["20pages"] = flow_pages.get("validator_peak_rss_mb", 0)
    one_rev = one_revision(work)
    print(f"one revision (infobox run --file {SEED.name}): cold {one_rev['cold']:.1f}s (no server, "
          f"the CLI starts its temporary one); warm, with `infobox server` running: first "
          f"{one_rev['warm_first']:.1f}s, second {one_rev['warm']:.1f}s (the revision already loaded)")
    if args.profile:  # a separate run: cProfile's overhead must not count in the figures above
        profile = OUT / "ingest-1x.prof"
        run_flow(one, work / "pipeline-profiled" / "warehouse.duckdb", profile)
        print_profile(profile)
    print(f"load average after: {os.getloadavg()[0]:.2f}")

    print(f"read_alone_rev_s: {read_rate:.1f}")
    print(f"pipeline_rev_s: {flow_rate:.2f}")
    print(f"pipeline_cpu_s: {sum(flow['cpu_seconds'].values()):.1f}")
    print(f"pipeline_vs_read: {flow_rate / read_rate:.4f}")
    print(f"competent_rev_s: {competent['rate']:.2f}")
    print(f"speedup_vs_competent: {flow_rate / competent['rate']:.2f}")
    print(f"naive_rev_s: {naive['rate']:.2f}")
    print(f"speedup_vs_naive: {flow_rate / naive['rate']:.2f}")
    print(f"warehouse_mb: {sum(sizes.values()):.1f}")
    for name, size in sizes.items():
        print(f"{name}: {size:.1f}")
    if competent["revisions"] == n:
        print(f"legacy_mb: {megabytes(work / 'competent.duckdb'):.1f}")
    else:
        print(f"(no legacy_mb: the competent baseline loaded {competent['revisions']} of {n} revisions; "
              f"--full gives it)")
    print(f"peak_rss_mb: {max(peaks.values()):.0f}")
    for name, peak in peaks.items():
        print(f"peak_rss_mb_{name}: {peak:.0f}")
    # Validation runs in its own process (flows/validation.py): its peak, apart from the ingest's.
    print(f"validator_peak_rss_mb: {max(validator_peaks.values()):.0f}")
    for name, peak in validator_peaks.items():
        print(f"validator_peak_rss_mb_{name}: {peak:.0f}")
    print(f"one_revision_cold_s: {one_rev['cold']:.1f}")
    print(f"one_revision_warm_s: {one_rev['warm']:.1f}")
    print(f"one_revision_warm_first_s: {one_rev['warm_first']:.1f}")


if __name__ == "__main__":
    main()
