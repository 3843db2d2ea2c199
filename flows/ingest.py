"""The ``ingest`` flow: source → parse (batched tasks) → load (one transaction per batch) → validate.

The flow only orchestrates; parsing lives in ``tasks.parse``, loading in ``tasks.load``, checks in
``expectations``. Everything a run does is recorded in the ``runs`` table under its ``run_id``.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows import progress
from tasks.load import batch_rows, load_batch, stored_versions
from tasks.parse import PARSER_VERSION, ParseCache, ParsedRevision
from tasks.sources.model import PageHistory, Revision
from warehouse.db import ALLOCATOR, DEFAULT_DB, connect, memory_limit
from warehouse.errors import ConfigError, PipelineError

SAMPLE_DUMP = Path(__file__).resolve().parent.parent / "data" / "sample" / "northern_mali_conflict.xml"
BATCH_SIZE = 50
DASK_IN_FLIGHT = 4

# One memo per process: consecutive batches of a page (and reverts far apart) share it.
_PARSE_CACHE = ParseCache()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@task(name="parse-batch", cache_policy=NO_CACHE, persist_result=False)
def parse_batch(lang: str | None, revisions: list[Revision]) -> list[ParsedRevision]:
    """Parse a batch of revisions of one page (identical texts and parameters are parsed once).
    Used on Dask workers; locally, ingest-batch parses and loads in one task."""
    return [_PARSE_CACHE.parse(rev.text, lang, rev.sha1) for rev in revisions]


def _load(con, page: PageHistory, revisions: list[Revision], parsed: list[ParsedRevision],
          run_id: str) -> dict:
    counts = load_batch(con, batch_rows(page, revisions, parsed, run_id))
    get_run_logger().info("page %r: loaded %s", page.title,
                          ", ".join(f"{k}={v}" for k, v in counts.items() if v))
    return {"loaded": counts, "without": sum(1 for p in parsed if not p.has_infobox)}


@task(name="ingest-batch", cache_policy=NO_CACHE, persist_result=False)
def ingest_batch(con, page: PageHistory, revisions: list[Revision], run_id: str) -> dict:
    """Parse and load a batch of revisions of one page, in one transaction.

    Returns only counts and timings: Prefect keeps task results for the flow run's lifetime, so
    returning the parsed rows would make memory grow with the history.
    """
    started = time.perf_counter()
    parsed = [_PARSE_CACHE.parse(rev.text, page.site.lang, rev.sha1) for rev in revisions]
    parse_seconds = time.perf_counter() - started
    started = time.perf_counter()
    summary = _load(con, page, revisions, parsed, run_id)
    return {**summary, "parse_seconds": parse_seconds,
            "load_seconds": time.perf_counter() - started}


@task(name="load-batch", cache_policy=NO_CACHE, persist_result=False)
def load_batch_task(con, page: PageHistory, revisions: list[Revision],
                    parsed: list[ParsedRevision], run_id: str) -> dict:
    """Write a batch parsed elsewhere (Dask) in one transaction."""
    started = time.perf_counter()
    summary = _load(con, page, revisions, parsed, run_id)
    return {**summary, "parse_seconds": 0.0, "load_seconds": time.perf_counter() - started}


def _source_pages(dump: str | None, file: str | None, wiki: str | None, titles: list[str] | None,
                  since: str | None, until: str | None, user_agent: str | None,
                  state: dict, namespaces: list[int] | None = None
                  ) -> tuple[str, Iterator[PageHistory]]:
    """(source description, page iterator) for the chosen source."""
    chosen = [name for name, value in (("dump", dump), ("file", file), ("wiki", wiki)) if value]
    if len(chosen) > 1:
        raise ConfigError(f"choose one source, not {' and '.join(chosen)}")
    if file:
        from tasks.sources.textfile import read_file

        return f"file:{file}", iter([read_file(Path(file))])
    if wiki:
        if not titles:
            raise ConfigError("--wiki needs at least one --title")
        from tasks.load import latest_revisions
        from tasks.sources.api import ApiConfig, MediaWikiApi

        config = ApiConfig(user_agent=user_agent) if user_agent else ApiConfig()
        api = MediaWikiApi(wiki, config)
        state["api"] = api
        stored = latest_revisions(state["con"], api.site_info().wiki, titles)
        return (f"api:{wiki}:{'|'.join(titles)}",
                api.fetch_pages(titles, newer_than=stored, since=since, until=until))
    from tasks.sources.dump import read_dump

    path = Path(dump) if dump else SAMPLE_DUMP
    return f"dump:{path}", read_dump(path, titles=titles, namespaces=namespaces)


def _timed(iterator, timers: dict, key: str):
    """Yield from ``iterator``, adding the time spent producing items to timers[key]."""
    while True:
        start = time.perf_counter()
        try:
            item = next(iterator)
        except StopIteration:
            timers[key] += time.perf_counter() - start
            return
        timers[key] += time.perf_counter() - start
        yield item


def _chunks(page: PageHistory, stored: dict[int, int], counts: dict,
            batch_size: int, timers: dict) -> Iterator[list[Revision]]:
    """Batches of the page's revisions that are not stored with the current parser version."""
    chunk: list[Revision] = []
    for rev in _timed(iter(page.revisions), timers, "read"):
        counts["n_revisions_read"] += 1
        if stored.get(rev.rev_id) == PARSER_VERSION:
            counts["n_revisions_skipped"] += 1
            continue
        chunk.append(rev)
        if len(chunk) >= batch_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextmanager
def _batch_runner(dask_address: str | None):
    """run(con, page, chunks, run_id, timers) → (revisions, summary) per batch, in order.

    Locally one task parses and loads each batch. With Dask, up to DASK_IN_FLIGHT batches are
    parsed on the workers while this process loads finished ones in order (DuckDB has one
    writer: loading stays here).
    """
    if not dask_address:
        def local(con, page, chunks, run_id, timers):
            for chunk in chunks:
                # quote(): Prefect would otherwise walk these big structures on every task call.
                yield len(chunk), ingest_batch(quote(con), quote(page), quote(chunk), run_id)

        yield local
        return
    from prefect_dask import DaskTaskRunner

    with DaskTaskRunner(address=dask_address) as runner:
        def remote(con, page, chunks, run_id, timers):
            in_flight: deque = deque()

            def finish():
                chunk, future = in_flight.popleft()
                started = time.perf_counter()
                parsed = future.result()
                timers["parse"] += time.perf_counter() - started  # waiting for the workers
                return len(chunk), load_batch_task(quote(con), quote(page), quote(chunk),
                                                   quote(parsed), run_id)

            for chunk in chunks:
                in_flight.append((chunk, runner.submit(parse_batch, {"lang": page.site.lang,
                                                                     "revisions": chunk})))
                if len(in_flight) >= DASK_IN_FLIGHT:
                    yield finish()
            while in_flight:
                yield finish()

        yield remote


def _update_run(con, run_id: str, **values) -> None:
    assignments = ", ".join(f"{k} = ?" for k in values)
    con.execute(f"UPDATE runs SET {assignments} WHERE run_id = ?", [*values.values(), run_id])


@flow(name="ingest", log_prints=False)
def ingest(
    dump: str | None = None,
    file: str | None = None,
    wiki: str | None = None,
    titles: list[str] | None = None,
    db: str = str(DEFAULT_DB),
    run_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    user_agent: str | None = None,
    scheduled: bool = False,
    severities: dict[str, str] | None = None,
    lock_wait_seconds: float = 60.0,
    batch_size: int = BATCH_SIZE,
    namespaces: list[int] | None = None,
    dask_address: str | None = None,
    approx_tolerance: float | None = None,
):
    """Ingest revisions from one source into the warehouse at ``db`` and validate them.

    Sources: ``dump`` (a MediaWiki XML export), ``file`` (one wikitext file as one revision),
    ``wiki`` + ``titles`` (the MediaWiki Action API), or none: the bundled sample export.
    """
    from prefect.runtime import flow_run

    from flows.runlogs import send_run_logs_to_api

    send_run_logs_to_api()
    logger = get_run_logger()
    run_id = run_id or str(uuid.uuid4())
    db_path = Path(db)
    con = connect(db_path, wait_seconds=lock_wait_seconds)
    state: dict = {"con": con}
    timers = {"read": 0.0, "parse": 0.0, "load": 0.0, "validate": 0.0}
    counts = {k: 0 for k in ("n_pages", "n_revisions_read", "n_revisions_loaded", "n_revisions_skipped",
                             "n_without_infobox", "n_infoboxes", "n_fields", "n_figures", "n_issues")}
    try:
        # A run still 'running' in the table was killed: say so instead of leaving it ambiguous.
        con.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
        source, pages = "pending", iter(())
        con.execute(
            "INSERT INTO runs (run_id, flow_run_id, started_at, source, status) VALUES (?, ?, ?, ?, 'running')",
            [run_id, flow_run.get_id(), _now(), "pending"],
        )
        source, pages = _source_pages(dump, file, wiki, titles, since, until, user_agent, state,
                                      namespaces)
        _update_run(con, run_id, source=source)
        with _batch_runner(dask_address) as run_batches:
            for page in pages:
                counts["n_pages"] += 1
                progress.report("page", title=page.title, wiki=page.site.wiki)
                stored = stored_versions(con, page.site.wiki, page.page_id)
                chunks = _chunks(page, stored, counts, batch_size, timers)
                for n, result in run_batches(con, page, chunks, run_id, timers):
                    timers["parse"] += result["parse_seconds"]
                    timers["load"] += result["load_seconds"]
                    loaded = result["loaded"]
                    counts["n_revisions_loaded"] += loaded["revisions"]
                    counts["n_without_infobox"] += result["without"]
                    counts["n_infoboxes"] += loaded["infoboxes"]
                    counts["n_fields"] += loaded["infobox_fields"]
                    counts["n_figures"] += loaded["figures"]
                    counts["n_issues"] += loaded["parse_issues"]
                    progress.report("batch", n=n, title=page.title)
        _update_run(con, run_id, **counts)
        logger.info("read %d revisions of %d pages; loaded %d, skipped %d (already stored)",
                    counts["n_revisions_read"], counts["n_pages"], counts["n_revisions_loaded"],
                    counts["n_revisions_skipped"])
        progress.report("stage", name="validate")
        # Validation imports Great Expectations (≈ 90 MB more): hand back what the batches freed
        # first, the parse memo included (the next run's first revision is simply parsed in full),
        # and validate under a smaller DuckDB cache (docs/BENCHMARKS.md).
        _PARSE_CACHE.clear()
        ALLOCATOR.trim()
        started = time.perf_counter()
        with nullcontext() if os.environ.get("INFOBOX_DUCKDB_MEMORY") else memory_limit(con, VALIDATION_MEMORY):
            summary = _validate(con, run_id, db_path, severities, scheduled, approx_tolerance)
        timers["validate"] += time.perf_counter() - started
        progress.report("timings", **timers)
        logger.info("seconds per stage: %s", ", ".join(f"{k} {v:.2f}" for k, v in timers.items()))
        status = "failed" if summary.critical_failed else "completed"
        _update_run(con, run_id, status=status, finished_at=_now(),
                    message=(f"{summary.critical_failed} critical expectation(s) failed"
                             if summary.critical_failed else None),
                    expectations_passed=summary.passed, expectations_failed=summary.failed,
                    report_path=str(summary.report_path))
        _publish_artifact(summary)
    except PipelineError as exc:
        _update_run(con, run_id, status="failed", finished_at=_now(), message=str(exc), **counts)
        raise
    except BaseException as exc:
        status, message = _ended_by(exc)
        try:
            con.execute("ROLLBACK")  # a batch's transaction may still be open (aborted)
        except Exception:  # noqa: BLE001 - none was open
            pass
        try:
            _update_run(con, run_id, status=status, finished_at=_now(), message=message, **counts)
        except Exception:  # noqa: BLE001 - the next run marks the row 'interrupted' instead
            pass
        raise
    finally:
        if "api" in state:
            state["api"].close()
        con.close()
    if summary.critical_failed:
        from prefect.states import Failed

        return Failed(message=f"{summary.critical_failed} critical expectation(s) failed; "
                              f"report: {summary.report_path}")
    return {"run_id": run_id, **counts}


def _ended_by(exc: BaseException) -> tuple[str, str]:
    """(runs.status, runs.message) for a run stopped by ``exc``: a signal cancels, a bug crashes."""
    from prefect.exceptions import TerminationSignal

    # A signal that lands inside a DuckDB transaction can surface as the error of the cleanup
    # that followed it ("transaction is aborted"): look down the chain for the signal.
    chain, seen = exc, 0
    while chain is not None and seen < 10:
        if isinstance(chain, TerminationSignal) or type(chain).__name__ == "Terminated":
            return "cancelled", "stopped by SIGTERM"
        if isinstance(chain, KeyboardInterrupt) or type(chain).__name__ == "InterruptException":
            return "cancelled", "interrupted (Ctrl-C / SIGINT)"
        chain, seen = chain.__cause__ or chain.__context__, seen + 1
    if not isinstance(exc, Exception):
        return "crashed", f"{type(exc).__name__}: {exc}"
    return "failed", f"{type(exc).__name__}: {exc}"


# DuckDB memory for the ingest's validation: its queries scan every figure of the history, and the
# cache fills to whatever the cap allows. 96 MB validates a 20,000-revision history (64 MB does
# not: v_suspicious_changes); a check that needs more is retried with more (expectations/runner.py).
# INFOBOX_DUCKDB_MEMORY, when set, stays in force here too.
VALIDATION_MEMORY = "96MB"


def data_dir_for(db_path: Path) -> Path:
    """Reports and the GX site live beside the database file."""
    return db_path.resolve().parent


def _validate(con, run_id: str, db_path: Path, severities, scheduled: bool,
              approx_tolerance: float | None = None):
    import expectations

    return expectations.validate(con, run_id, data_dir_for(db_path), severities=severities,
                                 scheduled=scheduled, approx_tolerance=approx_tolerance)


def _publish_artifact(summary) -> None:
    from prefect.artifacts import create_markdown_artifact

    import expectations

    create_markdown_artifact(markdown=expectations.summary_markdown(summary), key="expectations",
                             description="Expectation results of this ingest run")


def new_run_id() -> str:
    return str(uuid.uuid4())


os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
