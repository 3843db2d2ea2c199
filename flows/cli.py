"""The ``infobox`` command line: argument parsing and output formatting only.

Every command calls a library function (tasks, warehouse, expectations, flows.ingest) and turns
:class:`~warehouse.errors.PipelineError` into one clean ``error:`` line and a non-zero exit.
Heavy imports (Prefect, Great Expectations) happen inside the commands that need them.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from flows.failures import GuardedGroup, explain_interrupt
from flows.launch import set_cli_defaults
from warehouse.db import DEFAULT_DB
from warehouse.errors import ConfigError, PipelineError

# Quiet defaults for a local CLI, set before Prefect is imported (users may override them).
set_cli_defaults()

app = typer.Typer(
    cls=GuardedGroup,  # unexpected exceptions → one `error:` line + a log file (flows/failures.py)
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode="rich",
    help="Track what Wikipedia infoboxes claim, revision by revision, in a DuckDB warehouse.",
)

EXIT_ERROR = 1
EXIT_CRITICAL = 3

DbOption = Annotated[Path, typer.Option("--db", help="DuckDB warehouse file.")]
RetryAfterMaxOption = Annotated[Optional[float], typer.Option(
    "--retry-after-max", min=0, max=86_400,
    help="Longest wait (s) a server's Retry-After is honoured for; longer asks are cut to it, "
         "with a warning. Default 300.")]


class SqlFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class ParseFormat(str, Enum):
    json = "json"
    table = "table"


def _fail(message: str, code: int = EXIT_ERROR) -> None:
    typer.secho(f"error: {message}", err=True, fg="red")
    raise typer.Exit(code)


@app.command()
def run(
    dump: Annotated[Optional[Path], typer.Option(help="MediaWiki XML export (.xml, .bz2, .gz).")] = None,
    file: Annotated[Optional[Path], typer.Option(help="One plain wikitext file, loaded as one revision.")] = None,
    wiki: Annotated[Optional[str], typer.Option(help="Wiki to fetch from: zh, en… or an api.php URL.")] = None,
    title: Annotated[Optional[list[str]], typer.Option(help="Page title (repeatable); with --wiki or to filter --dump.")] = None,
    db: DbOption = DEFAULT_DB,
    since: Annotated[Optional[str], typer.Option(help="API only: revisions from this ISO time.")] = None,
    until: Annotated[Optional[str], typer.Option(help="API only: revisions up to this ISO time.")] = None,
    user_agent: Annotated[Optional[str], typer.Option(help="User-Agent for the API (name/version (contact)).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
    lock_wait: Annotated[float, typer.Option(help="Seconds to wait for another writer to finish.")] = 60.0,
    tracked: Annotated[bool, typer.Option("--tracked", help="With --wiki: every page tracked for that wiki.")] = False,
    namespace: Annotated[Optional[list[int]], typer.Option(help="Dump only: keep pages of this namespace (repeatable).")] = None,
    dask: Annotated[Optional[str], typer.Option("--dask", help="Parse on this Dask scheduler (tcp://host:8786).")] = None,
    retry_after_max: RetryAfterMaxOption = None,
) -> None:
    """Ingest revisions, load the warehouse, run the expectations, print a summary.

    With no source, loads the bundled sample (data/sample/northern_mali_conflict.xml).

    [bold]Examples[/bold]

      infobox run
      infobox run --dump zhwiki-pages-meta-history.xml.bz2 --title 马利北部冲突 --db data/zh.duckdb
      infobox run --file article.wikitext
      infobox run --wiki zh --title 马利北部冲突 --user-agent "my-study/1.0 (me@example.org)"
      infobox run --wiki zh --tracked
      infobox run --wiki en --title "Mali War" --retry-after-max 600
      infobox run --dump big-history.xml.bz2 --dask tcp://127.0.0.1:8786
    """
    from flows.runner import preflight, run_ingest, tracked_titles
    from flows.validation import prestart

    # Great Expectations takes seconds to import: its process starts first (flows/validation.py).
    with prestart(Path(db).resolve().parent / "logs"):
        try:
            if tracked:
                if not wiki:
                    raise ConfigError("--tracked needs --wiki")
                title = (title or []) + tracked_titles(db, wiki)
            preflight(dump=dump, file=file, wiki=wiki, titles=title or None, db=db,
                      lock_wait=lock_wait)
            code = run_ingest(dump=dump, file=file, wiki=wiki, titles=title or None, db=db,
                              since=since, until=until, user_agent=user_agent,
                              show_progress=not quiet, lock_wait=lock_wait, namespaces=namespace,
                              dask_address=dask, retry_after_max=retry_after_max)
        except PipelineError as exc:
            _fail(str(exc))
    raise typer.Exit(code)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="SQL to run (read-only).")],
    db: DbOption = DEFAULT_DB,
    format: Annotated[SqlFormat, typer.Option("--format", "-f", help="Output format.")] = SqlFormat.table,
) -> None:
    """Run a read-only SQL query on the warehouse (its texts are attached as `texts`).

    Only statements that read run (SELECT, WITH, FROM, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN);
    local files can be read with read_csv/read_parquet. Nothing can change a file.

    [bold]Examples[/bold]

      infobox sql "select field, entity, low, high from figures where field = 'strength1' limit 5"
      infobox sql "select count(*) from infobox_fields" --format csv
    """
    from flows.output import print_rows
    from warehouse.query import run_query

    try:
        columns, rows = run_query(query, db)
    except PipelineError as exc:
        _fail(str(exc))
    print_rows(columns, rows, format.value)


@app.command()
def report(
    db: DbOption = DEFAULT_DB,
    open_: Annotated[bool, typer.Option("--open", help="Open the report in a browser.")] = False,
) -> None:
    """Print the path of the latest expectation report (last line); --open opens it.

    [bold]Example[/bold]

      infobox report --db data/warehouse.duckdb
    """
    from flows.runner import latest_report_path

    try:
        path = latest_report_path(db)
    except PipelineError as exc:
        _fail(str(exc))
    if open_:
        import webbrowser

        if not webbrowser.open(path.as_uri()):
            typer.echo("no browser available; open the file yourself:", err=True)
    typer.echo(str(path))


@app.command()
def review(
    title: Annotated[str, typer.Option("--title", help="Page title, as stored in pages.title.")],
    check: Annotated[Optional[str], typer.Option("--check", help="Mark this problem id as checked.")] = None,
    note: Annotated[Optional[str], typer.Option("--note", help="With --check: what you found.")] = None,
    reopen: Annotated[Optional[str], typer.Option("--reopen", help="Remove the mark of this problem id.")] = None,
    reviewer: Annotated[Optional[str], typer.Option(help="With --check: who checked ($USER if omitted).")] = None,
    wiki: Annotated[Optional[str], typer.Option(help="Wiki of the page, when the title is on several.")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write a page's article page (every problem with its revision, diff, sources, history), list
    its problems, and mark one checked (kept across runs until the figure changes) or reopen it.

    Prints the article page's path last.

    [bold]Examples[/bold]

      infobox review --title 马利北部冲突
      infobox review --title 马利北部冲突 --check efbacb9f0587 --note "EU list sums to 546; BBC says 545"
      infobox review --title 马利北部冲突 --reopen efbacb9f0587
    """
    from expectations import review as reviews
    from expectations.runner import load_reviews
    from flows.output import print_problems
    from warehouse.db import connect

    if check and reopen:
        _fail("choose --check or --reopen, not both")
    if check and not note:
        _fail("--check needs --note saying what you checked")
    if note and not check:
        _fail("--note goes with --check ID")
    if not Path(db).exists():
        _fail(f"no warehouse at {db}: run `infobox run` first")
    try:
        con = connect(db, wait_seconds=30)
        try:
            page = reviews.find_page(con, title, wiki)
            if check:
                reviews.mark_checked(con, check, note, reviewer=reviewer, title=title, wiki=wiki)
                typer.echo(f"checked {check}", err=True)
            elif reopen:
                reviews.reopen(con, reopen)
                typer.echo(f"reopened {reopen}", err=True)
            path = reviews.refresh_pages(con, reviews.reports_dir_for(db), *page)
            print_problems(reviews.page_problems(con, *page), load_reviews(con))
        finally:
            con.close()
    except PipelineError as exc:
        _fail(str(exc))
    typer.echo(str(path))


@app.command()
def parse(
    file: Annotated[Path, typer.Argument(help="A wikitext file.")],
    format: Annotated[ParseFormat, typer.Option("--format", "-f", help="Output format.")] = ParseFormat.json,
    lang: Annotated[Optional[str], typer.Option(help="Content language (zh, en…); guessed if omitted.")] = None,
) -> None:
    """Parse one wikitext file and print its infoboxes (no database involved).

    [bold]Example[/bold]

      infobox parse ../shared/seeds/000_3c64a2a498670ece.txt --format json
    """
    from flows.output import print_parse
    from tasks.parse import parse_revision
    from tasks.sources.textfile import guess_lang, read_wikitext

    try:
        text = read_wikitext(file)
    except PipelineError as exc:
        _fail(str(exc))
    print_parse(parse_revision(text, lang or guess_lang(text)), format.value)


@app.command()
def discover(
    wiki: Annotated[str, typer.Option(help="Wiki: zh, en… or an api.php URL.")],
    template: Annotated[str, typer.Option(help="Template whose embedding pages to list.")],
    limit: Annotated[Optional[int], typer.Option(help="At most this many pages.")] = None,
    track: Annotated[bool, typer.Option("--track", help="Add them to the tracked pages.")] = False,
    user_agent: Annotated[Optional[str], typer.Option(help="User-Agent (name/version (contact)).")] = None,
    db: DbOption = DEFAULT_DB,
    retry_after_max: RetryAfterMaxOption = None,
) -> None:
    """List the articles embedding a template (list=embeddedin); --track follows them.

    [bold]Example[/bold]

      infobox discover --wiki zh --template "Infobox military conflict" --limit 20 --track
    """
    from flows.runner import discover_pages

    try:
        pages = discover_pages(wiki, template, limit=limit, track=track, db=db,
                               user_agent=user_agent, retry_after_max=retry_after_max,
                               on_retry=_echo_retry)
    except PipelineError as exc:
        _fail(str(exc))
    for page_id, page_title in pages:
        typer.echo(f"{page_id}\t{page_title}")
    typer.echo(f"{len(pages)} page(s){' tracked in ' + str(db) if track else ''}", err=True)


def _echo_retry(retry) -> None:
    """Each wait of the API client on one line of stderr (tasks.sources.api.Retry)."""
    typer.echo(("warning: " if retry.capped else "retry: ") + retry.describe(), err=True)


@app.command()
def chart(
    title: Annotated[str, typer.Option("--title", help="Page title, as stored in pages.title.")],
    field: Annotated[Optional[str], typer.Option(help="Only this field (strength1, casualties2…).")] = None,
    entities: Annotated[bool, typer.Option("--entities", help="Also one line per itemised entity, under each total.")] = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Chart each declared total against the sum of its itemised parts over the page's revisions.

    Writes a PNG and an interactive HTML page (works offline; hover shows the revision, user and
    edit summary; tables of every change of state, problems first) to charts/ beside the
    database. Prints the PNG path, then the HTML path last.

    [bold]Examples[/bold]

      infobox chart --title 马利北部冲突 --field strength1
      infobox chart --title 马利北部冲突 --field strength1 --entities
    """
    from tasks.chart_html import render_history_chart
    from tasks.charts import chart_frame, entity_frame
    from warehouse.db import connect

    try:
        con = connect(db, read_only=True, wait_seconds=5)
        try:
            frame = chart_frame(con, title, field)
            parts = entity_frame(con, title, field) if entities else None
        finally:
            con.close()
        png, page = render_history_chart(frame, title, Path(db).resolve().parent / "charts", field,
                                         parts)
    except PipelineError as exc:
        _fail(str(exc))
    typer.echo(str(png))
    typer.echo(str(page))


from flows import cli_ops  # noqa: E402  (deploy, serve, runs)

cli_ops.register(app)


def main(prog_name: str | None = None) -> None:
    """Console-script entry point (``prog_name``: the name usage lines give the command; by
    default Click's guess from how Python was started)."""
    try:
        app(prog_name=prog_name)
    except KeyboardInterrupt as exc:  # before a command started (commands handle their own)
        sys.exit(explain_interrupt(exc))


if __name__ == "__main__":
    main()
