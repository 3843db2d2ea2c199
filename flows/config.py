"""The pipeline's config: one TOML file → one typed object, read once at the edge.

    data_dir    = "data"                      # warehouse.duckdb, reports/, gx/ and charts/ live here
    user_agent  = "mali-study/1.0 (me@example.org)"
    lock_wait_seconds = 60

    [[tracked]]                               # pages to follow, per wiki
    wiki = "zh"
    titles = ["马利北部冲突"]
    discover = "Infobox military conflict"    # optional: also every page embedding this template
    discover_limit = 50

    [[schedules]]                             # one Prefect deployment each
    name = "zh-hourly"
    cron = "0 * * * *"
    timezone = "UTC"
    wiki = "zh"                               # or: dump = "path/to/export.xml.bz2"
    titles = []                               # empty: the tracked titles of that wiki

    [severities]                              # override expectations/severities.toml
    totals_reconcile = "warning"

Every problem is a ConfigError naming the key: "schedules[0].cron: '61 * * * *' is not a valid
cron expression".
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from warehouse.errors import ConfigError

_TOP_KEYS = {"data_dir", "user_agent", "lock_wait_seconds", "tracked", "schedules", "severities",
             "approx_tolerance", "dask_address"}
_TRACKED_KEYS = {"wiki", "titles", "discover", "discover_limit"}
_SCHEDULE_KEYS = {"name", "cron", "timezone", "wiki", "titles", "dump", "batch_size", "description"}


@dataclass(frozen=True)
class Tracked:
    wiki: str
    titles: tuple[str, ...] = ()
    discover: str | None = None
    discover_limit: int | None = None


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: str
    timezone: str = "UTC"
    wiki: str | None = None
    titles: tuple[str, ...] = ()
    dump: str | None = None
    batch_size: int | None = None
    description: str | None = None


@dataclass(frozen=True)
class PipelineConfig:
    data_dir: Path = Path("data")
    user_agent: str | None = None
    lock_wait_seconds: float = 60.0
    tracked: tuple[Tracked, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    severities: dict[str, str] = field(default_factory=dict)
    approx_tolerance: float | None = None
    dask_address: str | None = None
    source: Path | None = None

    @property
    def db(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    def titles_for(self, wiki: str) -> list[str]:
        """Tracked titles of a wiki (discovery happens at run time, not here)."""
        return [t for entry in self.tracked if entry.wiki == wiki for t in entry.titles]


def _expect(value, kind, key: str):
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"{key}: expected {names}, got {type(value).__name__} {value!r}")
    return value


def _unknown(table: dict, allowed: set[str], where: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise ConfigError(f"{where}{extra[0]}: unknown key (allowed: {', '.join(sorted(allowed))})")


def _titles(value, key: str) -> tuple[str, ...]:
    _expect(value, list, key)
    for i, title in enumerate(value):
        if not isinstance(title, str) or not title.strip():
            raise ConfigError(f"{key}[{i}]: expected a page title, got {title!r}")
    return tuple(value)


def _check_cron(cron: str, key: str) -> None:
    # Prefect's own schedule model: what it accepts is what the deployment will run.
    from prefect.client.schemas.schedules import CronSchedule
    from pydantic import ValidationError

    try:
        CronSchedule(cron=cron)
    except ValidationError as exc:
        raise ConfigError(f"{key}: {cron!r} is not a valid cron expression") from exc


def _check_timezone(name: str, key: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{key}: {name!r} is not a known time zone") from exc


def parse_config(data: dict, source: Path | None = None) -> PipelineConfig:
    """Validate a decoded TOML document."""
    _unknown(data, _TOP_KEYS, "")
    base = source.parent if source else Path(".")
    data_dir = Path(_expect(data.get("data_dir", "data"), str, "data_dir"))
    if not data_dir.is_absolute():
        data_dir = base / data_dir
    user_agent = data.get("user_agent")
    if user_agent is not None and ("(" not in _expect(user_agent, str, "user_agent")):
        raise ConfigError("user_agent: say who you are and how to reach you, e.g. "
                          "'mali-study/1.0 (me@example.org)'")
    lock_wait = _expect(data.get("lock_wait_seconds", 60), (int, float), "lock_wait_seconds")
    if lock_wait < 0:
        raise ConfigError(f"lock_wait_seconds: {lock_wait} is negative")
    tracked = []
    for i, entry in enumerate(_expect(data.get("tracked", []), list, "tracked")):
        key = f"tracked[{i}]"
        _expect(entry, dict, key)
        _unknown(entry, _TRACKED_KEYS, f"{key}.")
        if "wiki" not in entry:
            raise ConfigError(f"{key}.wiki: missing")
        limit = entry.get("discover_limit")
        if limit is not None and (not isinstance(limit, int) or limit <= 0):
            raise ConfigError(f"{key}.discover_limit: expected a positive integer, got {limit!r}")
        tracked.append(Tracked(wiki=_expect(entry["wiki"], str, f"{key}.wiki"),
                               titles=_titles(entry.get("titles", []), f"{key}.titles"),
                               discover=entry.get("discover"), discover_limit=limit))
    schedules = []
    names: set[str] = set()
    for i, entry in enumerate(_expect(data.get("schedules", []), list, "schedules")):
        key = f"schedules[{i}]"
        _expect(entry, dict, key)
        _unknown(entry, _SCHEDULE_KEYS, f"{key}.")
        for required in ("name", "cron"):
            if required not in entry:
                raise ConfigError(f"{key}.{required}: missing")
        name = _expect(entry["name"], str, f"{key}.name")
        if name in names:
            raise ConfigError(f"{key}.name: {name!r} is used twice")
        names.add(name)
        cron = _expect(entry["cron"], str, f"{key}.cron")
        _check_cron(cron, f"{key}.cron")
        timezone = _expect(entry.get("timezone", "UTC"), str, f"{key}.timezone")
        _check_timezone(timezone, f"{key}.timezone")
        wiki, dump = entry.get("wiki"), entry.get("dump")
        if bool(wiki) == bool(dump):
            raise ConfigError(f"{key}: give exactly one of wiki or dump")
        titles = _titles(entry.get("titles", []), f"{key}.titles")
        if wiki and not titles and not any(t.wiki == wiki for t in tracked):
            raise ConfigError(f"{key}.titles: empty, and no [[tracked]] entry for wiki {wiki!r}")
        if dump and not Path(dump).is_absolute():
            dump = str(base / dump)
        schedules.append(Schedule(name=name, cron=cron, timezone=timezone, wiki=wiki,
                                  titles=titles, dump=dump, batch_size=entry.get("batch_size"),
                                  description=entry.get("description")))
    severities = _expect(data.get("severities", {}), dict, "severities")
    from expectations.runner import load_settings

    load_settings({k: v for k, v in severities.items()})  # names the bad key, if any
    tolerance = data.get("approx_tolerance")
    if tolerance is not None:
        load_settings(None, _expect(tolerance, (int, float), "approx_tolerance"))
    return PipelineConfig(data_dir=data_dir, user_agent=user_agent, lock_wait_seconds=float(lock_wait),
                          tracked=tuple(tracked), schedules=tuple(schedules),
                          severities=dict(severities), approx_tolerance=tolerance,
                          dask_address=_expect(data.get("dask_address", ""), str, "dask_address") or None,
                          source=source)


def load_config(path: str | Path) -> PipelineConfig:
    """Read and validate a config file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"no config file at {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    return parse_config(data, path.resolve())
