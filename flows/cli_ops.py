"""Operations commands: deploy, serve, runs (registered on the main app by flows/cli.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from warehouse.db import DEFAULT_DB
from warehouse.errors import PipelineError

ConfigOption = Annotated[Path, typer.Option("--config", help="Pipeline config (TOML).")]


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", err=True, fg="red")
    raise typer.Exit(1)


def deploy(config: ConfigOption = Path("pipeline.toml")) -> None:
    """Register one Prefect deployment per schedule of the config on PREFECT_API_URL.

    [bold]Example[/bold]

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

    [bold]Example[/bold]

      PREFECT_API_URL=http://127.0.0.1:4200/api infobox serve --config pipeline.example.toml
    """
    from flows.config import load_config
    from flows.deployments import serve as do_serve

    try:
        do_serve(load_config(config))
    except PipelineError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        typer.echo("stopped serving; scheduled runs resume when `infobox serve` runs again", err=True)


def runs(
    db: Annotated[Path, typer.Option("--db", help="DuckDB warehouse file.")] = DEFAULT_DB,
    limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 20,
    format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
) -> None:
    """List recent runs: source, counts, status, duration, expectations, Prefect flow-run id.

    [bold]Example[/bold]

      infobox runs --limit 5
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
            "expectations_passed AS passed, expectations_failed AS failed, flow_run_id, run_id "
            "FROM runs ORDER BY started_at DESC LIMIT ?", [limit])
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        con.close()
    print_rows(columns, rows, format)


def register(app: typer.Typer) -> None:
    app.command()(deploy)
    app.command()(serve)
    app.command()(runs)
