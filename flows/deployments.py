"""The one place that lists the project's Prefect deployments: one per [[schedules]] entry.

``deploy`` registers them on the Prefect API named by PREFECT_API_URL; ``serve`` registers them
and runs their scheduled (and manually triggered) flow runs in this process with
``prefect.serve`` — no work pool or worker to operate, which suits one machine that owns the
DuckDB file (DuckDB allows one writer process anyway). See docs/OPERATIONS.md.
"""

from __future__ import annotations

import os

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


def _require_api() -> str:
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        from prefect.settings import get_current_settings

        url = get_current_settings().api.url
    if not url:
        raise ConfigError("PREFECT_API_URL is not set: start `prefect server start` and export "
                          "PREFECT_API_URL=http://127.0.0.1:4200/api")
    return str(url)


def deploy(config: PipelineConfig) -> list[tuple[str, str]]:
    """Register every deployment; return (name, id)."""
    url = _require_api()
    out = []
    for deployment in build_deployments(config):
        try:
            deployment_id = deployment.apply()
        except Exception as exc:  # httpx/Prefect raise many types when the API is unreachable
            raise PipelineError(f"cannot register deployment {deployment.name!r} on {url}: "
                                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
        out.append((deployment.name, str(deployment_id)))
    return out


def serve(config: PipelineConfig) -> None:
    """Register and run the deployments until interrupted (Ctrl-C stops cleanly)."""
    from prefect import serve as prefect_serve

    _require_api()
    prefect_serve(*build_deployments(config), print_starting_message=True)
