"""The pipeline's config: one TOML file → one typed, validated object, read once at the edge.

    data_dir    = "data"                      # warehouse.duckdb, reports/, gx/ and charts/ live here
    user_agent  = "mali-study/1.0 (me@example.org)"
    lock_wait_seconds = 60
    retry_after_max_seconds = 300             # longest server-requested (Retry-After) wait honoured

    [[tracked]]                               # pages to follow, per wiki
    wiki = "zh"
    titles = ["马利北部冲突"]
    discover = "Infobox military conflict"    # optional: also every page embedding this template,
    discover_limit = 50                       # listed afresh by each scheduled run (at most this many)

    [[schedules]]                             # one Prefect deployment each
    name = "zh-hourly"
    cron = "0 * * * *"
    timezone = "UTC"
    wiki = "zh"                               # or: dump = "path/to/export.xml.bz2"
    titles = []                               # empty: the tracked titles (and discoveries) of that wiki
    batch_size = 1000                         # at most this many revisions per load transaction (and ≤ 8 MB of text)
    description = "…"

    [severities]                              # override expectations/severities.toml
    totals_reconcile = "warning"

The models are pydantic (``extra="forbid"``, strict types: TOML has types, so "50" is not a
number), and paths are checked when the file is read: a dump must exist, the data directory must
be creatable and writable. Every problem is one ConfigError naming the file and the key:
"pipeline.toml: schedules[0].cron: '61 * * * *' is not a valid cron expression".
"""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from warehouse.errors import ConfigError

MAX_BATCH_SIZE = 10_000  # revisions per transaction; more only grows memory (docs/BENCHMARKS.md)
MAX_DISCOVER_LIMIT = 5_000  # pages per template and run: each is a full history to fetch
DEFAULT_DISCOVER_LIMIT = 50


def _page_title(value: str) -> str:
    if not value.strip():
        raise ValueError(f"expected a page title, got {value!r}")
    return value


def _wiki(value: str) -> str:
    from tasks.sources.api import api_url
    from warehouse.errors import FetchError

    try:
        api_url(value)
    except FetchError as exc:
        raise ValueError(str(exc)) from None
    return value


Title = Annotated[str, AfterValidator(_page_title)]
Wiki = Annotated[str, AfterValidator(_wiki)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Tracked(_Strict):
    """Pages to follow on one wiki: named titles and/or every page embedding a template."""

    wiki: Wiki
    titles: list[Title] = []
    discover: Annotated[str, Field(min_length=1)] | None = None
    discover_limit: Annotated[int, Field(ge=1, le=MAX_DISCOVER_LIMIT)] | None = None

    @model_validator(mode="after")
    def _limit_needs_template(self) -> Tracked:
        if self.discover_limit is not None and self.discover is None:
            raise ValueError("discover_limit without discover: name the template to discover")
        return self


class Schedule(_Strict):
    """One Prefect deployment: a source and a cron schedule."""

    name: Annotated[str, Field(min_length=1)]
    cron: str
    timezone: str = "UTC"
    wiki: Wiki | None = None
    titles: list[Title] = []
    dump: str | None = None
    batch_size: Annotated[int, Field(ge=1, le=MAX_BATCH_SIZE)] | None = None
    description: str | None = None

    @field_validator("cron")
    @classmethod
    def _cron(cls, cron: str) -> str:
        # Prefect's own schedule model: what it accepts is what the deployment will run.
        from prefect.client.schemas.schedules import CronSchedule

        try:
            CronSchedule(cron=cron)
        except ValidationError:
            raise ValueError(f"{cron!r} is not a valid cron expression") from None
        return cron

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, name: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{name!r} is not a known time zone") from None
        return name

    @field_validator("dump")
    @classmethod
    def _dump_exists(cls, dump: str, info: ValidationInfo) -> str:
        from tasks.sources.dump import check_dump
        from warehouse.errors import DumpError

        path = _resolve(dump, info)
        try:
            check_dump(path)
        except DumpError as exc:
            raise ValueError(str(exc)) from None
        return str(path)

    @model_validator(mode="after")
    def _one_source(self) -> Schedule:
        if bool(self.wiki) == bool(self.dump):
            raise ValueError("give exactly one of wiki or dump")
        return self


class PipelineConfig(_Strict):
    """The whole file. ``source`` is the file it was read from (None when built from a dict)."""

    data_dir: Path = Field(default="data", validate_default=True)
    user_agent: str | None = None
    lock_wait_seconds: Annotated[float, Field(ge=0, le=86_400)] = 60.0
    retry_after_max_seconds: Annotated[float, Field(ge=0, le=86_400)] | None = None
    tracked: list[Tracked] = []
    schedules: list[Schedule] = []
    severities: dict[str, str] = {}
    approx_tolerance: float | None = None
    dask_address: str | None = None
    _source: Path | None = PrivateAttr(default=None)

    @field_validator("data_dir", mode="before")
    @classmethod
    def _data_dir_writable(cls, value, info: ValidationInfo) -> Path:
        if not isinstance(value, str):
            got = _TOML_TYPES.get(type(value).__name__, type(value).__name__)
            raise ValueError(f"expected a path (a string), got {got} {value!r}")
        path = _resolve(value, info)
        try:
            path.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=path):
                pass
        except OSError as exc:
            raise ValueError(f"{value!r} cannot be created or written "
                             f"({exc.strerror or type(exc).__name__}: {path})") from None
        return path

    @field_validator("user_agent")
    @classmethod
    def _user_agent(cls, value: str) -> str:
        if "(" not in value:
            raise ValueError("say who you are and how to reach you, e.g. "
                             "'mali-study/1.0 (me@example.org)'")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> PipelineConfig:
        # These name their own key and are raised as ConfigError (pydantic lets them through).
        names: set[str] = set()
        for i, schedule in enumerate(self.schedules):
            if schedule.name in names:
                raise ConfigError(f"schedules[{i}].name: {schedule.name!r} is used twice")
            names.add(schedule.name)
            if schedule.wiki and not schedule.titles and not any(
                    t.wiki == schedule.wiki for t in self.tracked):
                raise ConfigError(f"schedules[{i}].titles: empty, and no [[tracked]] entry for "
                                  f"wiki {schedule.wiki!r}")
        from expectations.runner import load_settings

        load_settings(self.severities, self.approx_tolerance)  # names the bad key, if any
        return self

    @property
    def source(self) -> Path | None:
        return self._source

    @property
    def db(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    def titles_for(self, wiki: str) -> list[str]:
        """Tracked titles of a wiki (discovered pages are listed at run time, not here)."""
        return [t for entry in self.tracked if entry.wiki == wiki for t in entry.titles]

    def discoveries_for(self, wiki: str) -> list[dict]:
        """The templates whose embedding pages a run of ``wiki`` also follows: plain JSON for
        deployment parameters, {"template": …, "limit": …} each."""
        return [{"template": entry.discover, "limit": entry.discover_limit or DEFAULT_DISCOVER_LIMIT}
                for entry in self.tracked if entry.wiki == wiki and entry.discover]


def _resolve(value: str, info: ValidationInfo) -> Path:
    path = Path(value)
    base = (info.context or {}).get("base")
    return path if path.is_absolute() or base is None else Path(base) / path


# How a pydantic error type reads in TOML terms.
_EXPECTED = {"int_type": "an integer", "int_from_float": "an integer", "int_parsing": "an integer",
             "float_type": "a number", "float_parsing": "a number", "string_type": "a string",
             "bool_type": "true or false", "list_type": "a list", "dict_type": "a table",
             "model_type": "a table", "model_attributes_type": "a table"}
_RANGE = {"greater_than": ">", "greater_than_equal": "≥", "less_than": "<", "less_than_equal": "≤"}
_TOML_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
               "list": "list", "dict": "table"}


def _key(loc: tuple) -> str:
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key


def _allowed(loc: tuple) -> list[str]:
    model: type[BaseModel] = PipelineConfig
    if len(loc) >= 3 and loc[0] == "tracked":
        model = Tracked
    elif len(loc) >= 3 and loc[0] == "schedules":
        model = Schedule
    return sorted(model.model_fields)


def _describe(error: dict) -> str:
    loc, kind, value = tuple(error["loc"]), error["type"], error.get("input")
    if kind == "missing":
        problem = "missing"
    elif kind == "extra_forbidden":
        problem = f"unknown key (allowed: {', '.join(_allowed(loc))})"
    elif kind in _EXPECTED:
        got = _TOML_TYPES.get(type(value).__name__, type(value).__name__)
        problem = f"expected {_EXPECTED[kind]}, got {got} {value!r}"
    elif kind in _RANGE:
        bound = next(iter(error.get("ctx", {}).values()), "?")
        problem = f"{value!r} is out of range: must be {_RANGE[kind]} {bound:g}"
    elif kind in ("string_too_short", "too_short"):
        problem = f"{value!r} is empty"
    elif kind == "value_error":
        problem = str(error["ctx"]["error"])
    else:
        problem = error["msg"]
    key = _key(loc)
    return f"{key}: {problem}" if key else problem


def parse_config(data: dict, source: Path | None = None) -> PipelineConfig:
    """Validate a decoded TOML document; relative paths are relative to ``source``'s folder."""
    base = source.parent if source else Path(".")
    where = f"{source}: " if source else ""
    try:
        config = PipelineConfig.model_validate(data, context={"base": base})
    except ValidationError as exc:
        errors = exc.errors()
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise ConfigError(where + _describe(errors[0]) + more) from None
    except ConfigError as exc:
        raise ConfigError(where + str(exc)) from None
    config._source = source
    return config


def load_config(path: str | Path) -> PipelineConfig:
    """Read and validate a config file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"no config file at {path}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}): "
                          "save the file as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return parse_config(data, path.resolve())
