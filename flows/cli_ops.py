"""Operations commands: server, deploy, serve, runs (registered on the main app by flows/cli.py)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer

from warehouse.db import DEFAULT_DB
from warehouse.errors import PipelineError

ConfigOption = Annotated[Path, typer.Option("--config", help="Pipeline config (TOML).")]


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", err=True, fg="red")
    raise typer.Exit(1)


def server(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 4200,
    data_dir: Annotated[Path, typer.Option("--data-dir", help="Where to record the server "
                                           "(the data_dir of your config).")] = DEFAULT_DB.parent,
) -> None:
    """Run a Prefect server (API + UI) on 127.0.0.1 until Ctrl-C, recorded for the other commands.

    Its URL is written to DATA_DIR/prefect-server.json: `infobox run`, `deploy` and `serve` on
    that data directory then use it without PREFECT_API_URL and start no temporary server.
    It also keeps a spare validator with Great Expectations already imported (recorded in
    DATA_DIR/validator.json), which the next run on that data directory takes instead of
    starting its own, and a warm process with Prefect and the pipeline imported (recorded in
    DATA_DIR/runner.json), to which the `infobox` command hands `infobox run` on that data
    directory: seconds saved on short runs.

    [bold]Example[/bold]

      infobox server --port 4200 --data-dir data      # UI at http://127.0.0.1:4200
    """
    from flows.prefect_api import run_recorded_server

    try:
        run_recorded_server(port=port, data_dir=data_dir,
                            say=lambda line: typer.echo(line, err=True))
    except PipelineError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (flows/failures.py)
        typer.echo("Prefect server stopped", err=True)


def deploy(config: ConfigOption = Path("pipeline.toml")) -> None:
    """Register one Prefect deployment per schedule of the config on a running Prefect server.

    The server: PREFECT_API_URL, or the one `infobox server` recorded in the config's data_dir.

    [bold]Examples[/bold]

      infobox deploy --config pipeline.example.toml     # with `infobox server` running
      PREFECT_API_URL=http://127.0.0.1:4200/api infobox deploy --config pipeline.example.toml
    """
    from flows.config import load_config
    from flows.deployments import deploy as do_deploy

    try:
        registered = do_deploy(load_config(config))
    except PipelineError as exc:
        _fail(str(exc))
    for name, deployment_id in registered:
        typer.echo(f"ingest/{name}\t{deployment_id}")


def serve(config: ConfigOption = Path("pipeline.toml")) -> None:
    """Run the config's deployments on their schedules until Ctrl-C (flow.serve).

    The server: PREFECT_API_URL, or the one `infobox server` recorded in the config's data_dir.

    [bold]Examples[/bold]

      infobox serve --config pipeline.example.toml      # with `infobox server` running
      PREFECT_API_URL=http://127.0.0.1:4200/api infobox serve --config pipeline.example.toml
    """
    from flows.config import load_config
    from flows.deployments import serve as do_serve

    try:
        do_serve(load_config(config))
    except PipelineError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (flows/failures.py), if Prefect lets it through
        pass
    # Stopping is decided: a Ctrl-C handled late (Prefect's threads drain at exit) must not turn
    # the exit into a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    typer.echo("stopped serving; scheduled runs resume when `infobox serve` runs again", err=True)


def runs(
    db: Annotated[Path, typer.Option("--db", help="DuckDB warehouse file.")] = DEFAULT_DB,
    limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 20,
    format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
) -> None:
    """List recent runs: when, status, revisions loaded, seconds, expectations, why one failed.

    The table fits the terminal (80 columns included); csv and json add the source, counts,
    the Prefect flow-run id and the run id.

    [bold]Examples[/bold]

      infobox runs --limit 5
      infobox runs --format json
    """
    from flows.output import print_rows
    from warehouse.db import connect

    if format not in ("table", "csv", "json"):
        _fail(f"--format: {format!r} is not one of table, csv, json")
    if limit <= 0:
        _fail(f"--limit: {limit} is not a positive number")
    try:
        con = connect(db, read_only=True, wait_seconds=5)
    except PipelineError as exc:
        _fail(str(exc))
    try:
        cursor = con.execute(
            "SELECT started_at, status, source, n_revisions_read AS read, "
            "n_revisions_loaded AS loaded, n_figures AS figures, "
            "round(date_diff('millisecond', started_at, finished_at) / 1000.0, 1) AS seconds, "
            "expectations_passed AS passed, expectations_failed AS failed, message, "
            "flow_run_id, run_id "
            "FROM runs ORDER BY started_at DESC LIMIT ?", [limit])
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        con.close()
    if format == "table":
        print_runs_table([dict(zip(columns, row, strict=True)) for row in rows])
    else:
        print_rows(columns, rows, format)


def print_runs_table(rows: list[dict]) -> None:
    """A table that fits the terminal: fixed short columns, the source and the reason wrap."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("started", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("loaded", justify="right", no_wrap=True)
    table.add_column("s", justify="right", no_wrap=True)
    table.add_column("checks", justify="right", no_wrap=True)
    table.add_column("source", overflow="fold", ratio=1)
    table.add_column("why", overflow="fold", ratio=2)
    for row in rows:
        started = row["started_at"].strftime("%m-%d %H:%M") if row["started_at"] else ""
        checks = (f"{row['passed']}/{row['passed'] + row['failed']}"
                  if row["passed"] is not None and row["failed"] is not None else "")
        table.add_row(started, row["status"], _text(row["loaded"]), _text(row["seconds"]), checks,
                      _short_source(row["source"]), row["message"] or "", style=_STYLES.get(row["status"]))
    Console().print(table)
    Console(stderr=True).print(f"[dim]{len(rows)} run(s); checks = expectations passed/evaluated; "
                               "all columns: --format json[/dim]")


_STYLES = {"failed": "red", "crashed": "red", "cancelled": "yellow", "interrupted": "yellow"}


def _text(value) -> str:
    return "" if value is None else str(value)


def _short_source(source: str | None) -> str:
    """dump:/long/path/x.xml → dump:x.xml (the full source is in --format json)."""
    if not source:
        return ""
    kind, _, rest = source.partition(":")
    if kind in ("dump", "file") and rest:
        return f"{kind}:{Path(rest).name}"
    return source


def register(app: typer.Typer) -> None:
    app.command()(server)
    app.command()(deploy)
    app.command()(serve)
    app.command()(runs)
