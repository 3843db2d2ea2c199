"""Readable reports of a validation: an HTML page per run and a Markdown summary.

The report shows the warehouse's state, read back from DuckDB (expectation_results of the run, the
problem register ``problems``, the reviewers' ``problem_reviews``), so it can be rendered again
after a reviewer marks a problem checked. Every problem is listed (collapsible per expectation,
never cut), problems first.

Every string that came from a wiki (titles, entities, raw wikitext, edit summaries) is untrusted:
pages come from Jinja2 templates with autoescape, and carry a Content-Security-Policy that forbids
scripts and any request off the page.
"""

from __future__ import annotations

import html
import json
import shutil
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from urllib.parse import quote, urlsplit

import duckdb

from expectations.model import ExpectationOutcome, ValidationSummary, problem_order, result_order

TEMPLATES = Path(__file__).with_name("templates")


@cache
def environment():
    """The reports' Jinja environment, one per process: it keeps the templates it compiled."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda n: f"{n:,}" if isinstance(n, int) else ("" if n is None else str(n))
    return env


def revision_link(base_url: str | None, rev_id) -> str | None:
    """index.php?oldid=REV on the revision's wiki; only http(s) bases are linked."""
    if not base_url or rev_id is None:
        return None
    if urlsplit(base_url).scheme not in ("http", "https"):
        return None
    return f"{base_url}?oldid={quote(str(rev_id))}"


def page_file(wiki: str, page_id) -> str:
    """Article page of a page, relative to the reports folder."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(wiki))
    return f"pages/{safe}-{int(page_id)}.html"


def _pages(con: duckdb.DuckDBPyConnection) -> dict[tuple, dict]:
    rows = con.execute("SELECT wiki, page_id, title, base_url FROM pages").fetchall()
    return {(w, p): {"title": t, "base_url": b} for w, p, t, b in rows}


def docs_index_for(data_dir: Path) -> Path:
    return Path(data_dir) / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def load_summary(con: duckdb.DuckDBPyConnection, run_id: str, data_dir: Path) -> ValidationSummary:
    """The run's outcomes and the current problem register, as stored."""
    from expectations.runner import load_reviews

    results = con.execute(
        "SELECT suite, expectation, severity, success, observed_value, unexpected_count, "
        "unexpected_sample, details FROM expectation_results WHERE run_id = ?", [run_id]).fetchall()
    cursor = con.execute("SELECT * FROM problems")
    names = [d[0] for d in cursor.description]
    by_check: dict[str, list[dict]] = {}
    for row in cursor.fetchall():
        problem = dict(zip(names, row, strict=True))
        problem["detail"] = json.loads(problem["detail"] or "{}")
        by_check.setdefault(problem["expectation"], []).append(problem)
    outcomes = []
    for suite, name, severity, success, observed, unexpected, sample, details in results:
        info = json.loads(details or "{}")
        outcomes.append(ExpectationOutcome(
            suite=suite, expectation=name, severity=severity, success=success,
            observed_value=observed, unexpected_count=unexpected,
            unexpected_sample=json.loads(sample or "[]"), description=info.get("summary", ""),
            rows_checked=info.get("rows_checked", 0),
            problems=sorted(by_check.get(name, []), key=problem_order)))
    outcomes.sort(key=result_order)
    reports = Path(data_dir) / "reports"
    return ValidationSummary(run_id=run_id, outcomes=outcomes, report_path=reports / f"run-{run_id}.html",
                             docs_index=docs_index_for(data_dir), reviews=load_reviews(con))


def _view(summary: ValidationSummary, pages: dict[tuple, dict]) -> dict:
    """What the template shows: outcomes problems-first, each problem with its page and links."""
    def decorate(problem: dict) -> dict:
        page = pages.get((problem["wiki"], problem["page_id"])) or {}
        review = summary.reviews.get(problem["problem_id"])
        return {**problem, "title": page.get("title"), "review": review,
                "rev_link": revision_link(page.get("base_url"), problem["rev_id"]),
                "page_file": page_file(problem["wiki"], problem["page_id"])
                if problem["page_id"] is not None else None}

    rows = []
    for o in sorted(summary.outcomes, key=result_order):
        problems = [decorate(p) for p in sorted(o.problems, key=problem_order)]
        rows.append({"o": o, "open": [p for p in problems if not p["review"]],
                     "checked": [p for p in problems if p["review"]],
                     "new": sum(1 for p in problems if p["is_new"])})
    articles = sorted({(p["title"] or "?", p["page_file"]) for r in rows for p in r["open"] + r["checked"]
                       if p["page_file"]})
    return {"rows": rows, "articles": articles}


def render_html(summary: ValidationSummary, pages: dict[tuple, dict]) -> str:
    docs = summary.docs_index if summary.docs_index and summary.docs_index.exists() else None
    return environment().get_template("report.html.j2").render(
        summary=summary, counts=summary.counts(), generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        docs_uri=docs.as_uri() if docs else None, **_view(summary, pages))


def write_report(con: duckdb.DuckDBPyConnection, run_id: str, out_dir: Path,
                 docs_index: Path | None = None) -> Path:
    """Write reports/run-<run_id>.html and reports/latest.html from what is stored; return the run's page."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = load_summary(con, run_id, out_dir.parent)
    if docs_index is not None:
        summary.docs_index = docs_index
    page = out_dir / f"run-{run_id}.html"
    page.write_text(render_html(summary, _pages(con)), encoding="utf-8")
    shutil.copyfile(page, out_dir / "latest.html")
    return page


def latest_validated_run(con: duckdb.DuckDBPyConnection) -> str | None:
    found = con.execute("SELECT run_id FROM problems LIMIT 1").fetchall() or con.execute(
        "SELECT run_id FROM expectation_results ORDER BY evaluated_at DESC LIMIT 1").fetchall()
    return found[0][0] if found else None


def summary_markdown(summary: ValidationSummary) -> str:
    """The run's outcome as Markdown (the Prefect artifact); wiki text is escaped for Markdown."""
    def md(text) -> str:
        text = html.escape("" if text is None else str(text))
        for ch in "\\`*_{}[]|<>#":
            text = text.replace(ch, "\\" + ch)
        return text

    lines = [f"# Expectations: {md(summary.headline())}", "",
             "| expectation | result | problems | open | checked | checked rows/values |",
             "|---|---|---|---|---|---|"]
    ordered = sorted(summary.outcomes, key=result_order)
    for o in ordered:
        checked = sum(1 for p in o.problems if p["problem_id"] in summary.reviews)
        result = "passed" if o.success else f"**{o.result}**"
        lines.append(f"| {md(o.expectation)} | {result} | {o.unexpected_count or 0} | "
                     f"{len(o.problems) - checked} | {checked} | {o.rows_checked} |")
    opened = [(o, p) for o in ordered for p in sorted(o.problems, key=problem_order)
              if p["problem_id"] not in summary.reviews]
    if opened:
        lines += ["", "## Open problems (every one; current = in the latest revision of its page)"]
        for o, p in opened:
            state = "current" if p["is_current"] else "history"
            new = ", new" if p["is_new"] else ""
            lines.append(f"- **{md(o.expectation)}** ({o.result}, {state}{new}) `{p['problem_id']}`: "
                         f"{md(p['description'])}")
    lines += ["", f"Report: `{summary.report_path}`"]
    return "\n".join(lines)


def summary_rows(summary: ValidationSummary) -> list[tuple]:
    """(suite, expectation, result, problems, open, checked) for a terminal table, problems first."""
    rows = []
    for o in sorted(summary.outcomes, key=result_order):
        checked = sum(1 for p in o.problems if p["problem_id"] in summary.reviews)
        rows.append((o.suite, o.expectation, o.result, o.unexpected_count or 0,
                     len(o.problems) - checked, checked))
    return rows


def latest_report(data_dir: Path) -> Path | None:
    path = Path(data_dir) / "reports" / "latest.html"
    return path if path.exists() else None
