"""Readable reports of a validation run: an HTML page per run and a Markdown summary.

Every string that came from a wiki (titles, entities, raw wikitext, edit summaries) is untrusted:
it is HTML-escaped here, and the page carries a Content-Security-Policy that forbids scripts.
"""

from __future__ import annotations

import html
import shutil
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

import duckdb

from expectations.model import ExpectationOutcome, ValidationSummary

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.3em .6em;
text-align:left;vertical-align:top}th{background:#f3f3f3}.ok{color:#176917}.critical{color:#b00020;
font-weight:bold}.warning{color:#a15c00;font-weight:bold}code{white-space:pre-wrap}
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def revision_link(base_url: str | None, rev_id) -> str | None:
    """index.php?oldid=REV on the revision's wiki; only http(s) bases are linked."""
    if not base_url or rev_id is None:
        return None
    if urlsplit(base_url).scheme not in ("http", "https"):
        return None
    return f"{base_url}?oldid={quote(str(rev_id))}"


def _bases(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute("SELECT wiki, any_value(base_url) FROM pages GROUP BY wiki").fetchall()
    return {wiki: base for wiki, base in rows if base}


def _status(o: ExpectationOutcome) -> str:
    if o.success:
        return '<span class="ok">passed</span>'
    return f'<span class="{_e(o.severity)}">{"FAILED" if o.severity == "critical" else "warning"}</span>'


def render_html(run_id: str, outcomes: list[ExpectationOutcome], bases: dict[str, str],
                docs_index: Path | None) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    failed = [o for o in outcomes if not o.success]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src 'self' data:\">",
        f"<title>Expectations · run {_e(run_id[:8])}</title><style>{_CSS}</style></head><body>",
        f"<h1>Expectation report</h1><p>Run <code>{_e(run_id)}</code> · {now} · "
        f"{len(outcomes) - len(failed)} passed, {len(failed)} failed</p>",
    ]
    if docs_index is not None:
        parts.append(f"<p>Great Expectations Data Docs: <a href='{_e(docs_index.as_uri())}'>"
                     f"{_e(docs_index)}</a></p>")
    parts.append("<table><tr><th>expectation</th><th>suite</th><th>severity</th><th>result</th>"
                 "<th>rows checked</th><th>unexpected</th><th>what it asserts</th></tr>")
    for o in outcomes:
        parts.append(f"<tr><td>{_e(o.expectation)}</td><td>{_e(o.suite)}</td><td>{_e(o.severity)}</td>"
                     f"<td>{_status(o)}</td><td>{o.rows_checked}</td><td>{_e(o.unexpected_count)}</td>"
                     f"<td>{_e(o.description)}</td></tr>")
    parts.append("</table>")
    for o in failed:
        parts.append(f"<h2>{_status(o)} {_e(o.expectation)}</h2><p>{_e(o.description)}. "
                     f"{_e(o.unexpected_count)} row(s) broke it; the first ones:</p>")
        parts.append("<table><tr><th>problem</th><th>revision</th></tr>")
        for row in o.unexpected_sample:
            link = revision_link(bases.get(row.get("wiki")), row.get("rev_id"))
            rev = _e(row.get("rev_id"))
            rev_cell = f"<a href='{_e(link)}' rel='noopener noreferrer'>{rev}</a>" if link else rev
            parts.append(f"<tr><td>{_e(row.get('description'))}</td><td>{_e(row.get('wiki'))} "
                         f"{rev_cell}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(con: duckdb.DuckDBPyConnection, run_id: str, outcomes: list[ExpectationOutcome],
                 out_dir: Path, docs_index: Path | None) -> Path:
    """Write reports/run-<run_id>.html and reports/latest.html; return the run's page."""
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / f"run-{run_id}.html"
    page.write_text(render_html(run_id, outcomes, _bases(con), docs_index), encoding="utf-8")
    shutil.copyfile(page, out_dir / "latest.html")
    return page


def summary_markdown(summary: ValidationSummary) -> str:
    """The run's outcome as Markdown (the Prefect artifact); wiki text is escaped for Markdown."""
    def md(text) -> str:
        text = html.escape("" if text is None else str(text))
        for ch in "\\`*_{}[]|<>#":
            text = text.replace(ch, "\\" + ch)
        return text

    lines = [f"# Expectations: {summary.passed} passed, {summary.failed} failed "
             f"({summary.critical_failed} critical)", "",
             "| expectation | severity | result | unexpected | first problem |",
             "|---|---|---|---|---|"]
    for o in summary.outcomes:
        first = o.unexpected_sample[0].get("description") if o.unexpected_sample else ""
        result = "passed" if o.success else ("**FAILED**" if o.severity == "critical" else "warning")
        lines.append(f"| {md(o.expectation)} | {o.severity} | {result} | {o.unexpected_count or 0} | "
                     f"{md(first)} |")
    failed = [o for o in summary.outcomes if not o.success]
    if failed:
        lines += ["", "## Problems"]
        for o in failed:
            for row in o.unexpected_sample[:5]:
                lines.append(f"- **{md(o.expectation)}**: {md(row.get('description'))}")
            if (o.unexpected_count or 0) > 5:
                lines.append(f"- **{md(o.expectation)}**: … {o.unexpected_count - 5} more")
    lines += ["", f"Report: `{summary.report_path}`"]
    return "\n".join(lines)


def summary_rows(summary: ValidationSummary) -> list[tuple]:
    """(suite, expectation, severity, status, unexpected) for a terminal table."""
    return [(o.suite, o.expectation, o.severity,
             "passed" if o.success else "failed", o.unexpected_count or 0) for o in summary.outcomes]


def latest_report(data_dir: Path) -> Path | None:
    path = Path(data_dir) / "reports" / "latest.html"
    return path if path.exists() else None
