"""Run ``ingest`` from the CLI: progress display, final summary, exit code.

Kept apart from flows/cli.py so that Python users get the same behaviour by calling
:func:`run_ingest`.
"""

from __future__ import annotations

import time
from datetime import UTC
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from flows import progress
from warehouse.db import connect, texts_path
from warehouse.errors import ConfigError, PipelineError, WarehouseError

EXIT_OK, EXIT_ERROR, EXIT_CRITICAL = 0, 1, 3


def run_ingest(*, dump: Path | None = None, file: Path | None = None, wiki: str | None = None,
               titles: list[str] | None = None, db: Path, since: str | None = None,
               until: str | None = None, user_agent: str | None = None,
               show_progress: bool = True, console: Console | None = None,
               lock_wait: float = 60.0, namespaces: list[int] | None = None,
               dask_address: str | None = None, retry_after_max: float | None = None) -> int:
    """Run the flow, print its summary, return the exit code (0 ok, 3 critical expectation failed)."""
    console = console or Console(stderr=True)
    started = time.monotonic()
    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                   MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                   disable=not show_progress, transient=True)
    job = bar.add_task("starting Prefect…", total=None)

    def listener(event: str, data: dict) -> None:
        if event == "page":
            bar.update(job, description=f"{data['wiki']}: {data['title']}")
        elif event == "batch":
            bar.advance(job, data["n"])
        elif event == "stage":
            bar.update(job, description=f"{data['name']}…")
        elif event == "retry" and (show_progress or data["capped"]):
            # Above the bar; a wait cut short of what the server asked is shown even with --quiet.
            console.print(("warning: " if data["capped"] else "retry: ") + data["message"],
                          markup=False, highlight=False, soft_wrap=True)

    from flows.prefect_api import prefect_api

    def say(line: str) -> None:
        if show_progress:
            console.print(line, markup=False, highlight=False, soft_wrap=True)

    from flows.validation import prestart

    data_dir = Path(db).resolve().parent
    # The validator imports Great Expectations while Prefect starts (flows/validation.py).
    with prestart(data_dir / "logs"), prefect_api(data_dir, say=say):
        state, run_id = _run_flow(
            bar, listener, dump=str(dump) if dump else None, file=str(file) if file else None,
            wiki=wiki, titles=titles, db=str(db), since=since, until=until, user_agent=user_agent,
            lock_wait_seconds=lock_wait, namespaces=namespaces, dask_address=dask_address,
            retry_after_max_seconds=retry_after_max)
    if state.is_failed() or state.is_crashed():
        try:
            state.result(raise_on_failure=True)
        except PipelineError:
            raise
        except Exception as exc:  # the flow's own failure message is clearer than a traceback
            if "critical expectation" not in str(state.message or ""):
                raise PipelineError(f"run failed: {state.message or exc}") from exc
    print_summary(db, run_id, time.monotonic() - started, Console())
    return EXIT_CRITICAL if state.is_failed() else EXIT_OK


def _run_flow(bar, listener, **parameters):
    """Call the flow with the progress bar shown; return (final state, run id)."""
    from flows.ingest import ingest, new_run_id
    from flows.runlogs import quiet_console_run_logs

    # The CLI reports a failed run in one `error:` line; run logs go to the Prefect API (the UI)
    # and, only when PREFECT_LOGGING_LEVEL asks for them, to the terminal.
    quiet_console_run_logs()
    run_id = new_run_id()
    progress.subscribe(listener)
    try:
        with bar:
            state = ingest(**parameters, run_id=run_id, return_state=True)
    finally:
        progress.unsubscribe(listener)
    return state, run_id


def preflight(*, dump: Path | None, file: Path | None, wiki: str | None, titles: list[str] | None,
              db: Path, lock_wait: float) -> None:
    """Check the arguments, the input and the database before starting Prefect (fail in a second)."""
    from tasks.sources.textfile import read_wikitext

    chosen = [name for name, value in (("--dump", dump), ("--file", file), ("--wiki", wiki)) if value]
    if len(chosen) > 1:
        raise ConfigError(f"choose one source, not {' and '.join(chosen)}")
    if wiki and not titles:
        raise ConfigError("--wiki needs at least one --title")
    if file is not None and titles:
        raise ConfigError(f"--title does not apply to --file: the file is loaded as one revision of "
                          f"the page {Path(file).stem!r} (named after the file); drop --title")
    if file is not None:
        read_wikitext(file)
    if dump is not None:
        from tasks.sources.dump import check_dump  # mwxml: only for a dump

        check_dump(dump)
    connect(db, wait_seconds=lock_wait).close()  # creates the schema; raises if locked or unwritable


def print_summary(db: Path, run_id: str, seconds: float, console: Console) -> None:
    con = connect(db, read_only=True)
    try:
        run = con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id]).fetchall()
        names = [d[0] for d in con.description]
        summary = _validation(con, run_id, db)
    finally:
        con.close()
    if not run:
        raise WarehouseError(f"run {run_id} is not in {db}")
    row = dict(zip(names, run[0], strict=True))
    counts = Table(title=f"run {run_id[:8]} · {row['status']} · {seconds:.1f}s", show_header=False)
    for label, key in (("source", "source"), ("pages", "n_pages"),
                       ("revisions read", "n_revisions_read"), ("revisions loaded", "n_revisions_loaded"),
                       ("already stored (skipped)", "n_revisions_skipped"),
                       ("revisions without infobox", "n_without_infobox"),
                       ("infoboxes", "n_infoboxes"), ("infobox fields", "n_fields"),
                       ("figures", "n_figures"), ("parse issues", "n_issues")):
        counts.add_row(label, str(row[key]))
    counts.add_row("expectations", f"{row['expectations_passed']} passed, "
                                   f"{row['expectations_failed']} failed")
    console.print(counts)
    if row["message"] and row["status"] != "failed":  # warnings of a run that went through
        console.print(f"warning: {row['message']}", soft_wrap=True, markup=False, highlight=False)
    if summary is not None:
        from flows.output import print_expectations

        print_expectations(summary, console)
    if row["n_revisions_loaded"] and not row["n_infoboxes"]:
        console.print(f"no infobox found: none of the {row['n_revisions_loaded']} revision(s) loaded "
                      "has an infobox template (they are stored; `infobox parse FILE` shows what "
                      "the parser sees)", soft_wrap=True, markup=False, highlight=False)
    # Plain prints: paths must stay on one line (rich wraps at the terminal width) and be last.
    console.file.flush()
    print(f"database: {Path(db).resolve()}")
    print(f"texts:    {texts_path(Path(db).resolve())}")
    print(f"report:   {row['report_path']}")


def _validation(con, run_id: str, db: Path):
    """The run's validation as stored (outcomes, problem register, reviews); None if it has none."""
    from expectations.report import load_summary

    summary = load_summary(con, run_id, Path(db).resolve().parent)
    return summary if summary.outcomes else None


def latest_report_path(db: Path) -> Path:
    """Report of the latest run that wrote one."""
    con = connect(db, read_only=True, wait_seconds=5)
    try:
        found = con.execute("SELECT report_path FROM runs WHERE report_path IS NOT NULL "
                            "ORDER BY started_at DESC LIMIT 1").fetchall()
    finally:
        con.close()
    if not found:
        raise WarehouseError(f"no run in {db} has written a report yet: run `infobox run` first")
    path = Path(found[0][0])
    if not path.exists():
        raise WarehouseError(f"the latest report {path} no longer exists: run `infobox run` again")
    return path


def tracked_titles(db: Path, wiki: str) -> list[str]:
    """Titles tracked for ``wiki`` (as given to --wiki)."""
    if not Path(db).exists():
        raise ConfigError(f"no warehouse at {db}: track pages first with `infobox discover --track`")
    con = connect(db, read_only=True, wait_seconds=5)
    try:
        titles = [r[0] for r in con.execute(
            "SELECT title FROM tracked_pages WHERE wiki = ? ORDER BY title", [wiki]).fetchall()]
    finally:
        con.close()
    if not titles:
        raise ConfigError(f"no pages are tracked for {wiki}: use `infobox discover --wiki {wiki} "
                          "--template … --track`")
    return titles


def discover_pages(wiki: str, template: str, *, limit: int | None, track: bool, db: Path,
                   user_agent: str | None, retry_after_max: float | None = None,
                   on_retry=None) -> list[tuple[int, str]]:
    """Pages embedding ``template`` on ``wiki``; with ``track``, stored in tracked_pages.
    ``on_retry`` receives each tasks.sources.api.Retry (default: logged)."""
    from datetime import datetime

    from tasks.sources.api import ApiConfig, MediaWikiApi
    from warehouse.db import insert_rows, transaction

    config = ApiConfig()
    if user_agent:
        config.user_agent = user_agent
    if retry_after_max is not None:
        config.retry_after_max = retry_after_max
    with MediaWikiApi(wiki, config, **({"on_retry": on_retry} if on_retry else {})) as api:
        pages = list(api.embedded_in(template, limit=limit))
    if track and pages:
        now = datetime.now(UTC).replace(tzinfo=None)
        con = connect(db)
        try:
            with transaction(con):
                con.execute("DELETE FROM tracked_pages WHERE wiki = ? AND title IN "
                            "(SELECT unnest(?::VARCHAR[]))", [wiki, [t for _i, t in pages]])
                insert_rows(con, "tracked_pages", [
                    {"wiki": wiki, "title": t, "page_id": i, "added_at": now,
                     "source": f"discover:{template}"} for i, t in pages])
        finally:
            con.close()
    return pages
