"""Run the checks with Great Expectations, store the outcomes in DuckDB, build the reports.

GX objects are real and persistent: a file context under ``<data dir>/gx`` holding one pandas data
source, one DataFrame asset, expectation suite, validation definition and checkpoint per suite
(expectations/gxproject.py); a run writes them when they change (no duplicates) and builds its
pages of the Data Docs site.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import tomllib
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from expectations.checks import CHECKS, Check
from expectations.gxproject import GxProject
from expectations.model import ExpectationOutcome, ValidationSummary
from warehouse.db import memory_limit
from warehouse.errors import ConfigError, ValidationError

SEVERITIES_FILE = Path(__file__).with_name("severities.toml")
SAMPLE_ROWS = 20
LEVELS = ("critical", "warning")
log = logging.getLogger(__name__)


def load_settings(severities: dict[str, str] | None = None,
                  approx_tolerance: float | None = None) -> tuple[dict[str, str], dict]:
    """Default severities and settings from severities.toml, with overrides applied and checked."""
    with SEVERITIES_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    levels = dict(data["severities"])
    for key, level in (severities or {}).items():
        if key not in levels:
            raise ConfigError(f"severities.{key}: no such expectation (known: {', '.join(levels)})")
        if level not in LEVELS:
            raise ConfigError(f"severities.{key}: {level!r} is not one of {', '.join(LEVELS)}")
        levels[key] = level
    settings = dict(data["settings"])
    keep = settings.get("data_docs_runs")
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
        raise ConfigError(f"{SEVERITIES_FILE.name}: data_docs_runs must be a whole number ≥ 1, "
                          f"not {keep!r}")
    if approx_tolerance is not None:
        if not 0 <= approx_tolerance < 1:
            raise ConfigError(f"approx_tolerance: {approx_tolerance} is not in [0, 1)")
        settings["approx_tolerance"] = approx_tolerance
    return levels, settings


def _exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    found = con.execute(
        "SELECT count(*) FROM (SELECT table_name AS n FROM information_schema.tables "
        "UNION ALL SELECT function_name FROM duckdb_functions() WHERE function_type = 'table_macro') "
        "WHERE n = ?", [name]).fetchall()
    return found[0][0] > 0


# A check query that runs out of DuckDB memory under a tight cap (the ingest validates under 96 MB)
# is run once more with this much, spilling to disk rather than failing the run.
RETRY_MEMORY = "1GB"


def _frame(con: duckdb.DuckDBPyConnection, check: Check, run_id: str, settings: dict):
    try:
        return _query_frame(con, check, run_id, settings)
    except duckdb.OutOfMemoryException as exc:
        (limit,) = con.execute("SELECT current_setting('memory_limit')").fetchone()
        log.warning("expectation %s needs more than %s of DuckDB memory (%s); running it again "
                    "with %s", check.id, limit, str(exc).splitlines()[0], RETRY_MEMORY)
        with memory_limit(con, RETRY_MEMORY):
            return _query_frame(con, check, run_id, settings)


# The latest stored revision of each page (by time; rev_id breaks ties).
LATEST_REVS = "SELECT wiki, page_id, max_by(rev_id, (ts, rev_id)) AS latest_rev FROM revisions GROUP BY ALL"
# Columns the runner adds to every check's rows: the revision's page, whether this run loaded the
# revision (new), whether it is the latest revision of its page (current). first_rev_ is where a
# grouped finding first appeared.
MARKERS = ("page_id_", "is_new_", "at_latest_", "first_rev_", "n_rows", "still_standing")


# Each field value's revisions, per page: how many rows of the per-revision views it gives, where
# it first and last appears, whether this run loaded one of them, whether the latest has it.
VALUE_USES = (
    f"WITH latest_ AS ({LATEST_REVS}) "
    "SELECT sf.value_id, r.wiki, r.page_id AS page_id_, min(r.rev_id) AS first_rev, "
    "max(r.rev_id) AS last_rev, count(*) AS n_uses, "
    "bool_or(coalesce(r.run_id = $run_id, false)) AS is_new_, "
    "bool_or(coalesce(r.rev_id = l.latest_rev, false)) AS at_latest_ "
    "FROM revisions r JOIN state_fields sf ON sf.state_id = r.state_id "
    "LEFT JOIN latest_ l ON l.wiki = r.wiki AND l.page_id = r.page_id GROUP BY ALL")


def _value_frame_sql(check: Check) -> str:
    """A grouped check read per distinct field value (check.value_sql), joined to each value's
    revisions: the same columns and rows as the per-revision grouping in _query_frame."""
    keys = ", ".join(check.group_by)
    latest = check.keep == "latest"
    rev = "u.last_rev" if latest else "u.first_rev"
    return (
        f"WITH uses AS ({VALUE_USES}), rows AS (SELECT c.*, u.wiki, u.page_id_, u.first_rev, "
        f"u.last_rev, u.n_uses, u.is_new_, u.at_latest_, c.desc_before || {rev}::VARCHAR || "
        f"c.desc_after AS description, {rev} AS shown_rev FROM ({check.value_sql}) c "
        f"JOIN uses u ON u.value_id = c.value_id) "
        f"SELECT {keys}, wiki, page_id_, {'max' if latest else 'min'}(shown_rev) AS rev_id, "
        f"{'arg_max' if latest else 'arg_min'}(description, (shown_rev, description)) AS description, "
        f"min(first_rev) AS first_rev_, bool_or(is_new_) AS is_new_, bool_or(at_latest_) AS at_latest_, "
        f"sum(n_uses)::BIGINT AS n_rows FROM rows GROUP BY {keys}, wiki, page_id_ "
        f"ORDER BY {'max(shown_rev) DESC' if latest else 'min(shown_rev)'}, {keys}")


def _query_frame(con: duckdb.DuckDBPyConnection, check: Check, run_id: str, settings: dict,
                 per_value: bool = True):
    params = {"run_id": run_id, "tolerance": settings["approx_tolerance"],
              "freshness_days": settings["freshness_days"]}
    if per_value and check.value_sql and check.group_by:
        sql = _value_frame_sql(check)
        return con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql}).df()
    sql = (f"WITH latest_ AS ({LATEST_REVS}) "
           f"SELECT c.*, r.page_id AS page_id_, coalesce(r.run_id = $run_id, false) AS is_new_, "
           f"coalesce(c.rev_id = l.latest_rev, false) AS at_latest_ FROM ({check.sql}) c "
           f"LEFT JOIN revisions r ON r.wiki = c.wiki AND r.rev_id = c.rev_id "
           f"LEFT JOIN latest_ l ON l.wiki = r.wiki AND l.page_id = r.page_id")
    if check.group_by:
        keys = ", ".join(check.group_by)
        pick, order = ("arg_max", "max(rev_id) DESC") if check.keep == "latest" else ("arg_min", "min(rev_id)")
        sql = (f"SELECT {keys}, wiki, page_id_, {pick.removeprefix('arg_')}(rev_id) AS rev_id, "
               f"{pick}(description, (rev_id, description)) AS description, min(rev_id) AS first_rev_, "
               f"bool_or(is_new_) AS is_new_, bool_or(at_latest_) AS at_latest_, count(*) AS n_rows "
               f"FROM ({sql}) GROUP BY {keys}, wiki, page_id_ ORDER BY {order}, {keys}")
    else:
        sql += " ORDER BY c.wiki, c.rev_id"
    used = {k: v for k, v in params.items() if f"${k}" in sql}
    return con.execute(sql, used).df()


def _plain(value):
    """JSON-safe value for samples (numpy scalars, NaN, timestamps)."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _escaped(frame):
    """A copy whose text columns are HTML-escaped: GX's Data Docs render unexpected values and
    index columns without escaping (a <script> in a wiki field would run in the report)."""
    import html

    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("string", "str"):
            out[column] = out[column].map(
                lambda v: html.escape(v, quote=True) if isinstance(v, str) else v)
    return out


def _offenders(check: Check, frame, gx_result) -> list[dict]:
    """Every offending row as a dict (from the frame, so every column and the description are there)."""
    if frame.empty or gx_result.success:
        return []
    if check.offenders_are_rows:
        rows = frame
    else:
        import html

        indexes = gx_result.result.get("unexpected_index_list") or []
        # GX saw escaped text (see _escaped): map back to the rows as stored.
        descriptions = {html.unescape(i.get("description")) for i in indexes
                        if isinstance(i, dict) and isinstance(i.get("description"), str)}
        rows = frame[frame["description"].isin(descriptions)] if descriptions else frame.head(0)
    return [{k: _plain(v) for k, v in row.items()} for row in rows.to_dict(orient="records")]


def problem_id(check: Check, row: dict) -> str:
    """Stable id of a finding: the check, the page and the offending values (never the revision of a
    grouped finding, which moves on as the same wrong value is kept by later revisions)."""
    if check.group_by:
        key = [row.get(c) for c in (*check.group_by, "wiki", "page_id_")]
    else:
        key = [[c, row[c]] for c in sorted(row) if c not in MARKERS and c != "description"]
    digest = hashlib.sha1(json.dumps([check.id, _integral(key)], ensure_ascii=False, default=str).encode())
    return digest.hexdigest()[:12]


def _integral(value):
    """1.0 → 1 (a page id read beside NULLs comes back as a float), recursively."""
    if isinstance(value, list):
        return [_integral(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _problems(check: Check, severity: str, run_id: str, offenders: list[dict]) -> list[dict]:
    found: dict[str, dict] = {}
    for row in offenders:
        pid = problem_id(check, row)
        if pid in found:  # the very same values twice (a duplicated row): one problem
            found[pid]["n_rows"] += int(row.get("n_rows") or 1)
            continue
        current = row["still_standing"] if "still_standing" in row else row.get("at_latest_")
        found[pid] = {
            "problem_id": pid, "run_id": run_id, "expectation": check.id, "severity": severity,
            "wiki": row.get("wiki"), "page_id": _integral(row.get("page_id_")),
            "rev_id": _integral(row.get("rev_id")),
            "field": row.get("field"), "is_current": bool(current), "is_new": bool(row.get("is_new_")),
            "n_rows": int(row.get("n_rows") or 1), "description": str(row.get("description") or ""),
            "detail": {k: v for k, v in row.items() if k not in ("description",)},
        }
    return list(found.values())


def validate(con: duckdb.DuckDBPyConnection, run_id: str, data_dir: Path,
             severities: dict[str, str] | None = None, approx_tolerance: float | None = None,
             scheduled: bool = False) -> ValidationSummary:
    """Run every check over the warehouse; store the outcomes (expectation_results) and the problem
    register (problems); build the Data Docs, the run's report and the article pages."""
    from expectations.datadocs import make_offline
    from expectations.report import write_report
    from expectations.review import write_article_pages

    levels, settings = load_settings(severities, approx_tolerance)
    data_dir = Path(data_dir)
    try:
        gx_env = GxProject(data_dir)  # GX keeps its project in data_dir/gx
    except Exception as exc:  # GX raises many unrelated types when its project is damaged
        raise ValidationError(f"cannot open the Great Expectations project in {data_dir / 'gx'}: "
                              f"{type(exc).__name__}: {exc}") from exc
    outcomes: list[ExpectationOutcome] = []
    for check in CHECKS:
        if check.scheduled_only and not scheduled:
            continue
        if check.requires and not _exists(con, check.requires):
            continue
        # One frame at a time: a long history's figures are hundreds of thousands of rows.
        frame = _frame(con, check, run_id, settings)
        try:
            results = gx_env.run_suite(f"{check.suite}.{check.id}", [(check, check.expectation(settings))],
                                       _escaped(frame), SAMPLE_ROWS)
        except Exception as exc:  # GX wraps failures in many types; say which check broke
            raise ValidationError(f"expectation {check.id} could not run: "
                                  f"{type(exc).__name__}: {exc}") from exc
        gx_result = results[0]
        offenders = _offenders(check, frame, gx_result)
        # The counts are GX's own (what its Data Docs page shows): offending values of the rows
        # checked. A grouped check validates distinct values, so both count values, not rows.
        unexpected = gx_result.result.get("unexpected_count")
        checked = gx_result.result.get("element_count")
        if check.offenders_are_rows:
            unexpected = len(frame)
            checked = _count(con, check.checked_sql) if check.checked_sql else len(frame)
        observed = gx_result.result.get("observed_value")
        outcomes.append(ExpectationOutcome(
            suite=check.suite, expectation=check.id, severity=levels[check.id],
            success=bool(gx_result.success),
            observed_value=None if observed is None else str(_plain(observed)),
            unexpected_count=int(unexpected or 0),
            unexpected_sample=offenders[:SAMPLE_ROWS], description=check.summary,
            rows_checked=int(checked if checked is not None else len(frame)),
            problems=_problems(check, levels[check.id], run_id, offenders)))
        del frame, results, gx_result, offenders
    gx_env.prune_results(settings["data_docs_runs"])
    docs_index = gx_env.build_docs()
    make_offline(docs_index.parent)
    _store(con, run_id, outcomes)
    report_path = write_report(con, run_id, data_dir / "reports", docs_index)
    write_article_pages(con, data_dir / "reports")
    return ValidationSummary(run_id=run_id, outcomes=outcomes, report_path=report_path,
                             docs_index=docs_index, reviews=load_reviews(con))


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchone()[0])


def load_reviews(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """Problems marked as checked: problem_id → {note, reviewer, checked_at…}."""
    cursor = con.execute("SELECT * FROM problem_reviews")
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def _store(con: duckdb.DuckDBPyConnection, run_id: str, outcomes: list[ExpectationOutcome]) -> None:
    from warehouse.db import insert_rows, transaction

    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [{
        "run_id": run_id, "suite": o.suite, "expectation": o.expectation, "severity": o.severity,
        "success": o.success, "observed_value": o.observed_value,
        "unexpected_count": o.unexpected_count,
        "unexpected_sample": json.dumps(o.unexpected_sample, ensure_ascii=False, default=str),
        "details": json.dumps({"summary": o.description, "rows_checked": o.rows_checked,
                               "problems": len(o.problems),
                               "rows_affected": sum(p["n_rows"] for p in o.problems)},
                              ensure_ascii=False),
        "evaluated_at": now,
    } for o in outcomes]
    problems = [{**p, "detail": json.dumps(p["detail"], ensure_ascii=False, default=str)}
                for o in outcomes for p in o.problems]
    with transaction(con):
        con.execute("DELETE FROM expectation_results WHERE run_id = ?", [run_id])
        insert_rows(con, "expectation_results", rows)
        # The register holds the warehouse's problems as this validation found them.
        con.execute("DELETE FROM problems")
        if problems:
            insert_rows(con, "problems", problems)
