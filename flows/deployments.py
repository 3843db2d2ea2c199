"""The one place that lists the project's Prefect deployments: one per [[schedules]] entry.

``deploy`` registers them on the Prefect API named by PREFECT_API_URL; ``serve`` registers them
and runs their scheduled (and manually triggered) flow runs in this process with
``prefect.serve`` — no work pool or worker to operate, which suits one machine that owns the
DuckDB file (DuckDB allows one writer process anyway). See docs/OPERATIONS.md.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from flows.config import PipelineConfig, Schedule
from warehouse.errors import ConfigError, PipelineError

TAG = "infobox-pipeline"


def parameters(config: PipelineConfig, schedule: Schedule) -> dict:
    """The ingest parameters of a schedule (plain JSON, stored with the deployment)."""
    params: dict = {"db": str(config.db), "scheduled": True,
                    "lock_wait_seconds": config.lock_wait_seconds}
    if schedule.dump:
        params["dump"] = schedule.dump
    else:
        params["wiki"] = schedule.wiki
        params["titles"] = list(schedule.titles) or config.titles_for(schedule.wiki)
        if not schedule.titles and config.discoveries_for(schedule.wiki):
            # Listed afresh by every run, so that new articles are followed without a redeploy.
            params["discover"] = config.discoveries_for(schedule.wiki)
    if config.retry_after_max_seconds is not None:
        params["retry_after_max_seconds"] = config.retry_after_max_seconds
    if config.user_agent:
        params["user_agent"] = config.user_agent
    if config.severities:
        params["severities"] = dict(config.severities)
    if config.approx_tolerance is not None:
        params["approx_tolerance"] = config.approx_tolerance
    if config.dask_address:
        params["dask_address"] = config.dask_address
    if schedule.batch_size:
        params["batch_size"] = schedule.batch_size
    return params


def build_deployments(config: PipelineConfig) -> list:
    """RunnerDeployments of the ingest flow, one per schedule."""
    from prefect.client.schemas.schedules import CronSchedule

    from flows.ingest import ingest

    if not config.schedules:
        raise ConfigError("schedules: the config defines no [[schedules]]")
    return [
        ingest.to_deployment(
            name=schedule.name,
            schedule=CronSchedule(cron=schedule.cron, timezone=schedule.timezone),
            parameters=parameters(config, schedule),
            description=schedule.description or f"ingest on cron {schedule.cron} ({schedule.timezone})",
            tags=[TAG],
        )
        for schedule in config.schedules
    ]


def _require_api(config: PipelineConfig) -> str:
    """A server that outlives this command (deployments and schedules live there)."""
    from flows.prefect_api import resolve_persistent, startup_timeout

    startup_timeout()  # a bad value: one clear line, before Prefect's settings reject it
    found = resolve_persistent(config.data_dir)
    if not found:
        raise ConfigError("no Prefect server: run `infobox server --data-dir "
                          f"{config.data_dir}` (or `prefect server start` and export "
                          "PREFECT_API_URL=http://127.0.0.1:4200/api)")
    return found[0]


def deploy(config: PipelineConfig) -> list[tuple[str, str]]:
    """Register every deployment; return (name, id)."""
    from flows.prefect_api import use_api_url

    url = _require_api(config)
    out = []
    with use_api_url(url):
        for deployment in build_deployments(config):
            try:
                deployment_id = deployment.apply()
            except Exception as exc:  # httpx/Prefect raise many types when the API is unreachable
                raise PipelineError(f"cannot register deployment {deployment.name!r} on {url}: "
                                    f"{type(exc).__name__}: "
                                    f"{str(exc).splitlines()[0] if str(exc) else ''}") from exc
            out.append((deployment.name, str(deployment_id)))
    return out


def serve(config: PipelineConfig) -> None:
    """Register and run the deployments until interrupted (Ctrl-C or SIGTERM stops cleanly).

    Each flow run executes in a subprocess of this one; on Ctrl-C the terminal interrupts them
    too, and on SIGTERM (flows/failures.py) the runner stops them. Either way the run marks its
    ``runs`` row cancelled and Prefect marks the flow run Crashed or Cancelled.
    """
    from prefect import serve as prefect_serve

    from flows.prefect_api import use_api_url

    url = _require_api(config)
    with use_api_url(url):
        deployments = build_deployments(config)
        started = datetime.now(UTC)
        try:
            prefect_serve(*deployments, print_starting_message=True)
        finally:
            cancelled = _settle_in_flight_runs([d.name for d in deployments], started)
            _settle_run_rows(config.db, cancelled)


def _settle_in_flight_runs(names: list[str], since: datetime, wait_seconds: float = 30.0) -> list[str]:
    """Leave no flow run of this ``serve`` in Running after it stops.

    On SIGTERM Prefect's runner cancels its in-flight runs itself; on Ctrl-C the terminal also
    interrupts the flow-run subprocess, which races with the runner's shutdown and could leave
    the run "Running" in the UI for good. Runs of these deployments that started while this
    process served them, and are still not final after ``wait_seconds``, are marked Cancelled.
    Returns the ids of every run of this ``serve`` that was in flight when it stopped.
    """
    from prefect import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Cancelled

    unfinished = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(
            any_=[StateType.RUNNING, StateType.PENDING, StateType.CANCELLING])),
        start_time=FlowRunFilterStartTime(after_=since))
    deployments = DeploymentFilter(name=DeploymentFilterName(any_=names))
    in_flight: list[str] = []
    try:
        with get_client(sync_client=True) as client:
            deadline = time.monotonic() + wait_seconds
            in_flight = [str(run.id) for run in client.read_flow_runs(
                flow_run_filter=unfinished, deployment_filter=deployments)]
            while True:
                runs = client.read_flow_runs(flow_run_filter=unfinished, deployment_filter=deployments)
                if not runs or time.monotonic() > deadline:
                    break
                time.sleep(1)
            for run in runs:
                client.set_flow_run_state(run.id, Cancelled(
                    message="infobox serve stopped while this run was in flight"), force=True)
    except Exception as exc:  # noqa: BLE001 - the server may be gone too; say so, do not fail
        print(f"warning: could not check for flow runs left in flight: {type(exc).__name__}: {exc}",
              file=sys.stderr)
    return in_flight


def _settle_run_rows(db: Path, flow_run_ids: list[str], wait_seconds: float = 60.0) -> None:
    """A flow-run process killed before it could write how it ended (the runner SIGKILLs what
    outlives its grace period) leaves its ``runs`` row 'running': mark those of ``flow_run_ids``
    cancelled. Waits for the file's lock (the process may still be writing its own row)."""
    if not flow_run_ids or not Path(db).exists():
        return
    from warehouse.db import connect

    try:
        con = connect(db, wait_seconds=wait_seconds, init_schema=False)
    except Exception as exc:  # noqa: BLE001 - stopping must not fail; the next run marks it interrupted
        print(f"warning: could not open {db} to settle runs left in flight: {exc}", file=sys.stderr)
        return
    try:
        con.execute(
            "UPDATE runs SET status = 'cancelled', finished_at = ?, "
            "message = 'infobox serve stopped while this run was in flight' "
            "WHERE status = 'running' AND flow_run_id IN (SELECT unnest(?::VARCHAR[]))",
            [datetime.now(UTC).replace(tzinfo=None), flow_run_ids])
    except Exception as exc:  # noqa: BLE001 - as above
        print(f"warning: could not settle runs left in flight in {db}: {exc}", file=sys.stderr)
    finally:
        con.close()
