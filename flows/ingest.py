"""The ``ingest`` flow: source → parse (batched tasks) → load (one transaction per batch) → validate.

The flow only orchestrates; parsing lives in ``tasks.parse``, loading in ``tasks.load``, checks in
``expectations``. Everything a run does is recorded in the ``runs`` table under its ``run_id``.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows import progress
from flows.signals import signals_deferred, signals_noted
from tasks.load import (
    TEXTS,
    TextWriter,
    batch_rows,
    describe_duckdb_error,
    forget_orphan_texts,
    forget_unused_states,
    load_batch,
    load_rows,
    page_row,
    record_issues,
    rederive_stored,
    stored_revisions,
)
from tasks.parse import PARSER_VERSION, ParseCache, ParsedRevision
from tasks.sources.api import Discovery, Retry
from tasks.sources.model import PageHistory, Revision
from warehouse.db import ALLOCATOR, DEFAULT_DB, connect, rollback_quietly
from warehouse.errors import ConfigError, LoadError, PipelineError, SourceError

SAMPLE_DUMP = Path(__file__).resolve().parent.parent / "data" / "sample" / "northern_mali_conflict.xml"
# A batch is one task run and two commits (texts, then the rest): most of a small batch's load
# time. Batches close at BATCH_SIZE revisions or BATCH_TEXT_BYTES of wikitext, whichever comes
# first, so a history of 50 KB revisions loads ≈ 160 per batch and one of stubs up to 1,000, while
# the texts a batch holds in memory stay bounded (docs/BENCHMARKS.md).
BATCH_SIZE = 1000
BATCH_TEXT_BYTES = 8 * 1024 * 1024
DASK_IN_FLIGHT = 4

log = logging.getLogger(__name__)

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
    return _loaded(page, parsed, counts)


def _loaded(page: PageHistory, parsed: list[ParsedRevision], counts: dict) -> dict:
    get_run_logger().info("page %r: loaded %s", page.title,
                          ", ".join(f"{k}={v}" for k, v in counts.items() if v))
    return {"loaded": counts, "without": sum(1 for p in parsed if not p.has_infobox)}


@task(name="ingest-batch", cache_policy=NO_CACHE, persist_result=False)
def ingest_batch(con, texts: TextWriter, page: PageHistory, revisions: list[Revision], run_id: str) -> dict:
    """Parse and load a batch of revisions of one page: its texts are written by ``texts``'s
    thread while it is parsed, then everything else in one transaction.

    Returns only counts and timings: Prefect keeps task results for the flow run's lifetime, so
    returning the parsed rows would make memory grow with the history.
    """
    texts.start(page_row(page), revisions)
    try:
        started = time.perf_counter()
        parsed = [_PARSE_CACHE.parse(rev.text, page.site.lang, rev.sha1) for rev in revisions]
        parse_seconds = time.perf_counter() - started
        started = time.perf_counter()
        rows = batch_rows(page, revisions, parsed, run_id, texts=False)
        n_texts, text_seconds = texts.finish()
    except BaseException:
        texts.discard(con)  # stopped before its revisions were written: no text left behind
        raise
    counts = {TEXTS: n_texts, **load_rows(con, rows)}
    return {**_loaded(page, parsed, counts), "parse_seconds": parse_seconds,
            "load_seconds": time.perf_counter() - started, "text_seconds": text_seconds}


@task(name="load-batch", cache_policy=NO_CACHE, persist_result=False)
def load_batch_task(con, page: PageHistory, revisions: list[Revision],
                    parsed: list[ParsedRevision], run_id: str) -> dict:
    """Write a batch parsed elsewhere (Dask) in one transaction."""
    started = time.perf_counter()
    summary = _load(con, page, revisions, parsed, run_id)
    return {**summary, "parse_seconds": 0.0, "load_seconds": time.perf_counter() - started}


def _source_pages(dump: str | None, file: str | None, wiki: str | None, titles: list[str] | None,
                  since: str | None, until: str | None, user_agent: str | None,
                  state: dict, namespaces: list[int] | None = None, *,
                  discover: list[Discovery] | None = None,
                  retry_after_max_seconds: float | None = None,
                  on_retry: Callable[[Retry], None] | None = None
                  ) -> tuple[str, Iterator[PageHistory]]:
    """(source description, page iterator) for the chosen source."""
    chosen = [name for name, value in (("dump", dump), ("file", file), ("wiki", wiki)) if value]
    if len(chosen) > 1:
        raise ConfigError(f"choose one source, not {' and '.join(chosen)}")
    if file:
        from tasks.sources.textfile import read_file

        return f"file:{file}", iter([read_file(Path(file))])
    if wiki:
        if not titles and not discover:
            raise ConfigError("--wiki needs at least one --title")
        from tasks.load import latest_revisions
        from tasks.sources.api import ApiConfig, MediaWikiApi

        config = ApiConfig()
        if user_agent:
            config.user_agent = user_agent
        if retry_after_max_seconds is not None:
            config.retry_after_max = retry_after_max_seconds
        api = MediaWikiApi(wiki, config, **({"on_retry": on_retry} if on_retry else {}))
        state["api"] = api
        titles = list(titles or [])
        for discovery in discover or []:
            progress.report("stage", name=f"listing pages embedding {discovery.template}")
            titles += [title for _page_id, title in api.embedded_in(discovery.template,
                                                                    limit=discovery.limit)
                       if title not in titles]
        if not titles:
            raise ConfigError(f"{wiki}: no page to fetch (no title given, and no page embeds "
                              f"{', '.join(repr(d.template) for d in discover or [])})")
        stored = latest_revisions(state["con"], api.site_info().wiki, titles)
        return (f"api:{wiki}:{'|'.join(titles)}",
                api.fetch_pages(titles, newer_than=stored, since=since, until=until))
    from tasks.sources.dump import read_dump
    from tasks.sources.readahead import read_dump_ahead, worth_reading_ahead

    path = Path(dump) if dump else SAMPLE_DUMP
    # A big dump is read by a child process on the other core while this one parses and loads.
    reader = read_dump_ahead if worth_reading_ahead(path) else read_dump
    return f"dump:{path}", reader(path, titles=titles, namespaces=namespaces)


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


def _chunks(con, page: PageHistory, run_id: str, counts: dict, batch_size: int, timers: dict,
            issues: list[dict], warnings: Counter) -> Iterator[list[Revision]]:
    """Batches of the page's revisions that need loading (at most ``batch_size`` revisions and
    about BATCH_TEXT_BYTES of text each): not stored yet, or stored with an older parser version.
    A revision id met again in this run keeps its first copy; one stored with a different text
    keeps the stored text. Both add a parse issue to ``issues`` (written once the
    page's batches are loaded, so that no batch replaces it) and a line to ``warnings``."""
    seen: dict[int, str | None] = {}  # rev_id → sha1 of the copies taken from this page

    def flag(rev: Revision, code: str, message: str) -> None:
        warnings[code] += 1
        issues.append({"wiki": page.site.wiki, "rev_id": rev.rev_id, "box_idx": None, "field": None,
                       "severity": "warning", "code": code, "message": message,
                       "raw": (rev.text or "")[:500] or None})

    def differs(sha1: str | None, other: str | None) -> bool:
        return sha1 is not None and other is not None and sha1 != other

    def wanted(group: list[Revision]) -> list[Revision]:
        stored = stored_revisions(con, page.site.wiki, [rev.rev_id for rev in group])
        chunk = []
        for rev in group:
            before = stored.get(rev.rev_id)
            if before is None:
                chunk.append(rev)
            elif before["run_id"] == run_id:  # loaded from another page of this source
                flag(rev, "duplicate_revision",
                     f"revision {rev.rev_id} appears again in the source (under page "
                     f"{page.page_id} {page.title!r}, first under page {before['page_id']}); "
                     f"the first copy is kept" + (" — this copy's text differs"
                                                  if differs(rev.sha1, before["sha1"]) else ""))
            elif differs(rev.sha1, before["sha1"]):
                flag(rev, "conflicting_revision",
                     f"revision {rev.rev_id} arrived with a different text (sha1 {rev.sha1}) than "
                     f"the one stored (sha1 {before['sha1']}); the stored text is kept")
            elif before["parser_version"] == PARSER_VERSION and before["page_id"] == page.page_id:
                counts["n_revisions_skipped"] += 1
            else:
                chunk.append(rev)  # re-derived with the current parser, or moved to this page
        return chunk

    group: list[Revision] = []
    text_bytes = 0
    for rev in _timed(iter(page.revisions), timers, "read"):
        counts["n_revisions_read"] += 1
        if rev.rev_id in seen:
            flag(rev, "duplicate_revision",
                 f"revision {rev.rev_id} appears more than once in page {page.page_id} "
                 f"{page.title!r}; the first copy is kept"
                 + (" — this copy's text differs" if differs(rev.sha1, seen[rev.rev_id]) else ""))
            continue
        seen[rev.rev_id] = rev.sha1
        group.append(rev)
        text_bytes += rev.size if rev.size is not None else len(rev.text or "")
        if len(group) >= batch_size or text_bytes >= BATCH_TEXT_BYTES:
            chunk = wanted(group)
            group, text_bytes = [], 0
            if chunk:
                yield chunk
    if group:
        chunk = wanted(group)
        if chunk:
            yield chunk


@contextmanager
def _batch_runner(dask_address: str | None):
    """run(con, page, chunks, run_id, timers) → (revisions, summary) per batch, in order.

    Locally one task parses and loads each batch, its texts written meanwhile by a TextWriter's
    thread. With Dask, up to DASK_IN_FLIGHT batches are parsed on the workers while this process
    loads finished ones in order (DuckDB has one writer: loading stays here).
    """
    if not dask_address:
        texts: TextWriter | None = None

        def local(con, page, chunks, run_id, timers):
            nonlocal texts
            texts = texts or TextWriter(con)
            for chunk in chunks:
                # quote(): Prefect would otherwise walk these big structures on every task call.
                summary = ingest_batch(quote(con), quote(texts), quote(page), quote(chunk), run_id)
                n = len(chunk)
                # Prefect's event and log workers keep the context of the first task run that
                # used them, parameters included, for the life of the process: emptied, the
                # batch's revisions (≈ 20 MB of text) do not stay with it.
                chunk.clear()
                yield n, summary

        try:
            yield local
        finally:
            if texts is not None:
                texts.close()
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
                summary = load_batch_task(quote(con), quote(page), quote(chunk), quote(parsed), run_id)
                n = len(chunk)
                chunk.clear()  # as in local(): Prefect may keep the task's parameters
                parsed.clear()
                return n, summary

            for chunk in chunks:
                in_flight.append((chunk, runner.submit(parse_batch, {"lang": page.site.lang,
                                                                     "revisions": chunk})))
                if len(in_flight) >= DASK_IN_FLIGHT:
                    yield finish()
            while in_flight:
                yield finish()

        yield remote


def _check_pages_found(con, run_id: str, source: str, n_pages: int, seen: set[str],
                       dump_titles: list[str] | None, namespaces: list[int] | None) -> str | None:
    """No silent no-ops: a source that yielded no page is an error (nothing was loaded); titles
    asked of a dump that are not in it, while others are, give a warning for the run's message."""
    if n_pages == 0:
        where = f" in namespace(s) {', '.join(map(str, namespaces))}" if namespaces else ""
        raise SourceError(f"{source.split(':', 1)[-1]}: no page{where} to load")
    if dump_titles:
        from tasks.sources.dump import normalize_title

        missing = sorted({normalize_title(t) for t in dump_titles} - seen)
        if missing:
            message = (f"no page titled {', '.join(map(repr, missing))} in "
                       f"{source.split(':', 1)[-1]}; the other titles were loaded")
            get_run_logger().warning(message)
            return message
    return None


def _update_run(con, run_id: str, **values) -> None:
    assignments = ", ".join(f"{k} = ?" for k in values)
    con.execute(f"UPDATE runs SET {assignments} WHERE run_id = ?", [*values.values(), run_id])


_WARNINGS = {
    "duplicate_revision": "{n} repeated revision id(s) in the source: the first copy of each was "
                          "loaded, the others skipped",
    "conflicting_revision": "{n} revision(s) arrived with a different text than the one stored "
                            "under their id: the stored text was kept",
}


def _warning_message(warnings: Counter) -> str | None:
    """The run's warnings as one line for runs.message (None when there are none)."""
    parts = [_WARNINGS[code].format(n=n) for code, n in sorted(warnings.items())]
    if not parts:
        return None
    codes = ", ".join(sorted(warnings))
    return f"{'; '.join(parts)} (parse_issues code {codes})"


def _record_failure(con, db_path: Path, run_id: str, message: str, counts: dict,
                    status: str = "failed"):
    """Mark the run failed with ``message``; returns the connection to close afterwards.

    The error may have left DuckDB's transaction aborted or the database invalidated (a failed
    write to a full disk does): roll back, and if the update still fails, open the file again —
    a run must never stay 'running' because its own failure could not be written."""
    values = {"status": status, "finished_at": _now(), "message": message, **counts}
    rollback_quietly(con)
    try:
        _update_run(con, run_id, **values)
        return con
    except duckdb.Error as first:
        log.info("recording the failure on the run's connection failed (%s); reopening",
                    str(first).splitlines()[0])
    con.close()
    try:
        con = connect(db_path, wait_seconds=30, init_schema=False)
        _update_run(con, run_id, **values)
    except (duckdb.Error, PipelineError) as second:
        log.error("run %s failed (%s) and could not be marked failed: %s", run_id, message, second)
    return con


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
    discover: list[Discovery] | None = None,
    retry_after_max_seconds: float | None = None,
):
    """Ingest revisions from one source into the warehouse at ``db`` and validate them.

    Sources: ``dump`` (a MediaWiki XML export), ``file`` (one wikitext file as one revision),
    ``wiki`` + ``titles`` (the MediaWiki Action API), or none: the bundled sample export.
    With ``wiki``, ``discover`` adds the pages embedding each template (listed afresh each run),
    and ``retry_after_max_seconds`` caps how long a server's Retry-After is honoured. Every
    retry is logged here and reported to the progress hook.
    """
    from prefect.runtime import flow_run

    from flows.runlogs import send_run_logs_to_api

    send_run_logs_to_api()
    logger = get_run_logger()
    run_id = run_id or str(uuid.uuid4())
    db_path = Path(db)
    con = connect(db_path, wait_seconds=lock_wait_seconds)
    if not os.environ.get("INFOBOX_DUCKDB_MEMORY"):
        con.execute(f"SET memory_limit = '{INGEST_MEMORY}'")
    state: dict = {"con": con}
    warnings: Counter = Counter()  # parse-issue code → revisions flagged (repeated, conflicting)
    # Seconds per stage. load: the batches' loading on the flow's thread, waiting for their texts
    # included; texts: the text writer's own seconds, spent while batches are parsed (not added).
    timers = {"read": 0.0, "parse": 0.0, "load": 0.0, "texts": 0.0, "validate": 0.0}
    counts = {k: 0 for k in ("n_pages", "n_revisions_read", "n_revisions_loaded", "n_revisions_skipped",
                             "n_without_infobox", "n_infoboxes", "n_fields", "n_figures", "n_issues")}
    validator = None
    noting = signals_noted()
    received = noting.__enter__()  # left in the finally below
    # What is alive now (the imports: Prefect, DuckDB, ours) lives through the run: out of the
    # cyclic collector's sight until the run ends, its full collections during the batches cost
    # ≈ 0.15 s instead of ≈ 0.55 s a run (issue 17). Thawed in the finally below.
    gc.freeze()
    try:
        # Validation runs in a process of its own, started now so that it imports Great
        # Expectations on the other core while this one loads (flows/validation.py).
        validator = start_validator(db_path)
        # A run still 'running' in the table was killed: say so instead of leaving it ambiguous.
        con.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
        # A run killed between a batch's two commits (texts, then revisions) left texts behind.
        orphans = forget_orphan_texts(con)
        if orphans:
            logger.info("deleted %d stored text(s) without a revision (left by a killed run, or "
                        "kept beside a deleted warehouse file)", orphans)
        # A warehouse of the per-revision layout (migrated on opening) is re-derived from its texts.
        rederived = rederive_stored(con, _PARSE_CACHE.parse)
        if rederived:
            logger.info("re-derived %d stored revision(s) from their texts (content-addressed "
                        "layout)", rederived)
        source, pages = "pending", iter(())
        con.execute(
            "INSERT INTO runs (run_id, flow_run_id, started_at, source, status) VALUES (?, ?, ?, ?, 'running')",
            [run_id, flow_run.get_id(), _now(), "pending"],
        )
        def on_retry(retry: Retry) -> None:
            logger.warning("%s", retry.describe())
            progress.report("retry", message=retry.describe(), capped=retry.capped,
                            wait_seconds=retry.wait_seconds)

        source, pages = _source_pages(dump, file, wiki, titles, since, until, user_agent, state,
                                      namespaces, discover=discover,
                                      retry_after_max_seconds=retry_after_max_seconds,
                                      on_retry=on_retry)
        _update_run(con, run_id, source=source)
        seen_titles: set[str] = set()
        con.execute(f"SET threads = {INGEST_THREADS}")  # for the batches; reset after them
        with _batch_runner(dask_address) as run_batches:
            for page in pages:
                counts["n_pages"] += 1
                seen_titles.add(page.title)
                progress.report("page", title=page.title, wiki=page.site.wiki)
                issues: list[dict] = []
                chunks = _chunks(con, page, run_id, counts, batch_size, timers, issues, warnings)
                for n, result in run_batches(con, page, chunks, run_id, timers):
                    timers["parse"] += result["parse_seconds"]
                    timers["load"] += result["load_seconds"]
                    timers["texts"] += result.get("text_seconds", 0.0)
                    loaded = result["loaded"]
                    counts["n_revisions_loaded"] += loaded["revisions"]
                    counts["n_without_infobox"] += result["without"]
                    counts["n_infoboxes"] += loaded["infoboxes"]
                    counts["n_fields"] += loaded["infobox_fields"]
                    counts["n_figures"] += loaded["figures"]
                    counts["n_issues"] += loaded["parse_issues"]
                    progress.report("batch", n=n, title=page.title)
                counts["n_issues"] += record_issues(con, issues)
        # States and field values that no revision reads any more (re-derived revisions): scans of
        # whole tables, with all of DuckDB's threads.
        con.execute("RESET threads")
        forget_unused_states(con)
        pages_warning = _check_pages_found(con, run_id, source, counts["n_pages"], seen_titles,
                                           titles if not (wiki or file) else None, namespaces)
        # Warnings of a run that went through: kept in runs.message, printed under the summary.
        run_warnings = "; ".join(m for m in (pages_warning, _warning_message(warnings)) if m) or None
        _update_run(con, run_id, message=run_warnings, **counts)
        logger.info("read %d revisions of %d pages; loaded %d, skipped %d (already stored)",
                    counts["n_revisions_read"], counts["n_pages"], counts["n_revisions_loaded"],
                    counts["n_revisions_skipped"])
        progress.report("stage", name="validate")
        # Hand back what the batches freed, the parse memo included (the next run's first revision
        # is simply parsed in full): this process waits while the validator works.
        _PARSE_CACHE.clear()
        ALLOCATOR.trim()
        started = time.perf_counter()
        # DuckDB allows one writing process per file: close, let the validator open it, reopen.
        con.close()
        summary = _validate(validator, run_id, db_path, severities, scheduled, approx_tolerance,
                            lock_wait_seconds)
        con = state["con"] = connect(db_path, wait_seconds=lock_wait_seconds, init_schema=False)
        timers["validate"] += time.perf_counter() - started
        progress.report("timings", **timers)
        logger.info("seconds per stage: %s", ", ".join(f"{k} {v:.2f}" for k, v in timers.items()))
        status = "failed" if summary.critical_failed else "completed"
        _update_run(con, run_id, status=status, finished_at=_now(),
                    message=(f"{summary.critical_failed} critical expectation(s) failed"
                             if summary.critical_failed else run_warnings),
                    expectations_passed=summary.passed, expectations_failed=summary.failed,
                    report_path=str(summary.report_path))
        _publish_artifact(summary)
    except BaseException as exc:
        if validator is not None:
            validator.stop()  # before recording: it may hold the database
        # A DuckDB error outside a batch's load still becomes one line with DuckDB's reason.
        failure = (LoadError(describe_duckdb_error(con, exc, "the run"))
                   if isinstance(exc, duckdb.Error) else exc)
        status, message = _run_end(exc, failure, received)
        message = message.strip().splitlines()[0] if message.strip() else type(failure).__name__
        with signals_deferred():  # a second signal (serve's shutdown) must not cut this write
            state["con"] = _record_failure(con, db_path, run_id, message, counts, status=status)
        stop = _signal_exception(exc, received)
        if stop is not None:  # a signal DuckDB reported as its own error: raise it as the signal
            raise stop from exc
        if failure is not exc:
            raise failure from exc
        raise
    finally:
        gc.unfreeze()
        noting.__exit__(None, None, None)
        if validator is not None:
            validator.stop()
        if "api" in state:
            state["api"].close()
        state["con"].close()
    if summary.critical_failed:
        from prefect.states import Failed

        return Failed(message=f"{summary.critical_failed} critical expectation(s) failed; "
                              f"report: {summary.report_path}")
    return {"run_id": run_id, **counts}


def _run_end(exc: BaseException, failure: BaseException,
             received: list[int] | None = None) -> tuple[str, str]:
    """(runs.status, runs.message) of a run stopped by ``exc``, reported as ``failure`` (a
    LoadError wrapping a DuckDB error). The signal is looked for in ``exc``'s chain: ``failure``
    is not linked to it yet, and a signal that lands inside a DuckDB call surfaces as DuckDB's
    own error (see _ended_by), which must still count as a stop, not a failure; ``received``
    (flows.signals.signals_noted) then says which signal it was."""
    stop = _signal_exception(exc, received or [])
    status, message = _ended_by(stop if stop is not None else exc)
    if status == "failed" and isinstance(failure, PipelineError):
        message = str(failure)
    return status, message


def _duckdb_interrupt(exc: BaseException) -> bool:
    """DuckDB's report of a signal that interrupted one of its queries (the handler's own
    exception is lost): RuntimeError('Query interrupted') in DuckDB 2.0.1, or InterruptException."""
    return type(exc).__name__ == "InterruptException" or (
        type(exc) is RuntimeError and str(exc).startswith("Query interrupted"))


def _signal_exception(exc: BaseException, received: list[int]) -> BaseException | None:
    """The exception the last signal noted would have raised, when ``exc`` is DuckDB's report of
    it; else None."""
    if not received or not _duckdb_interrupt(exc):
        return None
    if received[-1] == signal.SIGTERM:
        from prefect.exceptions import TerminationSignal

        return TerminationSignal(signal=signal.SIGTERM)
    return KeyboardInterrupt()


def _ended_by(exc: BaseException) -> tuple[str, str]:
    """(runs.status, runs.message) for a run stopped by ``exc``: a signal cancels, a bug crashes."""
    from prefect.exceptions import TerminationSignal

    # A signal that lands inside a DuckDB transaction can surface as the error of the cleanup
    # that followed it ("transaction is aborted"); one DuckDB notices mid-query replaces the
    # handler's exception by its own — RuntimeError("Query interrupted") in DuckDB 2.0.1, or an
    # InterruptException — and nothing else interrupts our queries: look down the whole chain.
    chain, links = exc, []
    while chain is not None and len(links) < 10:
        links.append(chain)
        chain = chain.__cause__ or chain.__context__
    if any(isinstance(e, TerminationSignal) or type(e).__name__ == "Terminated" for e in links):
        return "cancelled", "stopped by SIGTERM"
    if any(isinstance(e, KeyboardInterrupt) for e in links):
        return "cancelled", "interrupted (Ctrl-C / SIGINT)"
    if any(_duckdb_interrupt(e) for e in links):
        return "cancelled", "stopped by a signal during a DuckDB query"
    if not isinstance(exc, Exception):
        return "crashed", f"{type(exc).__name__}: {exc}"
    return "failed", f"{type(exc).__name__}: {exc}"


# DuckDB memory of the ingest's own connection (the writers' default is 128 MB): DuckDB keeps the
# blocks it has read cached up to its cap, so a lower cap keeps a long history's ingest lower
# (docs/BENCHMARKS.md, issue 17). A batch that needs more is written again under
# tasks.load.RETRY_MEMORY. INFOBOX_DUCKDB_MEMORY, when set, is used instead.
INGEST_MEMORY = "64MB"

# DuckDB threads of the ingest's connection while it loads batches (DuckDB's default: one per
# core). A batch's statements are small, and the machine's other core is busy with the dump's
# reader, the validator's start and the batch's parsing: a second DuckDB thread only competed with
# them (issue 17, 1x flow, three interleaved pairs: 19.1 → 17.3 s on average, peak 326 → 316 MB).
INGEST_THREADS = 1

# DuckDB memory for the ingest's validation: its queries scan every figure of the history, and the
# cache fills to whatever the cap allows. 96 MB validates a 20,000-revision history (64 MB does
# not: v_suspicious_changes); a check that needs more is retried with more (expectations/runner.py).
# INFOBOX_DUCKDB_MEMORY, when set, stays in force here too.
VALIDATION_MEMORY = "96MB"


def data_dir_for(db_path: Path) -> Path:
    """Reports and the GX site live beside the database file."""
    return db_path.resolve().parent


def start_validator(db_path: Path):
    from flows.validation import ValidatorProcess

    return ValidatorProcess.take_or_start(data_dir_for(db_path) / "logs")


def _validate(validator, run_id: str, db_path: Path, severities, scheduled: bool,
              approx_tolerance: float | None, lock_wait_seconds: float):
    """Validate in the validator process (the caller has closed its connection); its log
    lines go to this flow run's logs."""
    logger = get_run_logger()
    summary = validator.validate(
        {"db": str(db_path), "run_id": run_id, "data_dir": str(data_dir_for(db_path)),
         "severities": severities, "scheduled": scheduled, "approx_tolerance": approx_tolerance,
         "memory_limit": None if os.environ.get("INFOBOX_DUCKDB_MEMORY") else VALIDATION_MEMORY,
         "wait_seconds": lock_wait_seconds},
        on_log=lambda level, message: logger.log(level, "validator: %s", message))
    ready, finished = validator.ready or {}, validator.finished or {}
    logger.info("validated in process %d: GX imported in %.2f s (beside the load), checks and "
                "reports %.2f s, peak memory %.0f MB", validator.pid,
                ready.get("import_seconds", float("nan")), finished.get("seconds", float("nan")),
                finished.get("max_rss_kb", 0) / 1024)
    progress.report("validator", pid=validator.pid, peak_mb=finished.get("max_rss_kb", 0) / 1024,
                    import_seconds=ready.get("import_seconds"), seconds=finished.get("seconds"))
    return summary


def _publish_artifact(summary) -> None:
    from prefect.artifacts import create_markdown_artifact

    import expectations

    create_markdown_artifact(markdown=expectations.summary_markdown(summary), key="expectations",
                             description="Expectation results of this ingest run")


def new_run_id() -> str:
    return str(uuid.uuid4())


os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
