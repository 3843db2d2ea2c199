"""Article pages and reviewers' marks: what a person needs to judge each problem of one page.

    article_page(con, reports_dir, title=…, wiki=None) → Path   reports/pages/<wiki>-<page_id>.html
    mark_checked(con, problem_id, note, reviewer=None, title=None) → dict
    reopen(con, problem_id) → None

For every problem of the page (from the register ``problems``): the revision where it appeared —
user, time, edit summary —, the field's wikitext before and after that revision as a diff
(difflib), the sources the field cites (``citations``), a link to the diff on the wiki (or a
sentence saying why there is none), and the figure's history, compressed to its changes.

A mark (``problem_reviews``) stays across runs; a problem's id hashes the offending values, so a
figure that changes again is a new, open problem. Reads and writes DuckDB only; no GX import.
"""

from __future__ import annotations

import difflib
import getpass
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import duckdb

from expectations.model import problem_order
from expectations.report import environment, page_file
from warehouse.errors import ConfigError

DIFF_CONTEXT = 2


def reports_dir_for(db: Path) -> Path:
    """Reports live beside the database file (as the ingest writes them)."""
    return Path(db).resolve().parent / "reports"


def find_page(con: duckdb.DuckDBPyConnection, title: str, wiki: str | None = None) -> tuple[str, int]:
    """(wiki, page_id) of a stored page title; a clear error when none or several match."""
    rows = con.execute("SELECT wiki, page_id FROM pages WHERE title = ? AND (? IS NULL OR wiki = ?) "
                       "ORDER BY wiki", [title, wiki, wiki]).fetchall()
    if not rows:
        known = [t for (t,) in con.execute("SELECT title FROM pages ORDER BY title LIMIT 5").fetchall()]
        raise ConfigError(f"no stored page is titled {title!r}"
                          + (f" (stored: {', '.join(known)})" if known else " (the warehouse has no pages)"))
    if len(rows) > 1:
        raise ConfigError(f"{title!r} is stored on several wikis ({', '.join(w for w, _ in rows)}): "
                          "choose one with --wiki")
    return rows[0]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def diff_link(base_url: str | None, rev_id, parent_id) -> str | None:
    """index.php?diff=REV&oldid=PARENT on an http(s) wiki; None otherwise."""
    if not base_url or rev_id is None or urlsplit(base_url).scheme not in ("http", "https"):
        return None
    query = {"diff": rev_id, "oldid": parent_id} if parent_id is not None else {"oldid": rev_id}
    return f"{base_url}?{urlencode(query)}"


def _lines(raw: str | None) -> list[str]:
    """Wikitext as lines to diff: an item per line (after each <br />) as it reads in the infobox."""
    if raw is None:
        return []
    return re.sub(r"(<br\s*/?>)", r"\1\n", raw, flags=re.I).splitlines()


def readable_diff(before: str | None, after: str | None) -> list[tuple[str, str]]:
    """(kind, line) with kind add | del | hunk | same; empty when nothing changed."""
    out = []
    for line in difflib.unified_diff(_lines(before), _lines(after), "before", "after",
                                     n=DIFF_CONTEXT, lineterm=""):
        if line.startswith(("---", "+++")):
            continue
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "same")
        out.append((kind, line))
    return out


def _field_raw(con, wiki: str, rev_id, field: str | None) -> str | None:
    """The field's wikitext in a revision; with no field, the whole infobox as |name = value lines."""
    if rev_id is None:
        return None
    if field is not None:
        found = con.execute("SELECT raw FROM infobox_fields WHERE wiki = ? AND rev_id = ? AND field = ? "
                            "ORDER BY box_idx, seq LIMIT 1", [wiki, rev_id, field]).fetchall()
        return found[0][0] if found else ""
    rows = con.execute("SELECT field, raw FROM infobox_fields WHERE wiki = ? AND rev_id = ? "
                       "ORDER BY box_idx, seq", [wiki, rev_id]).fetchall()
    return "\n".join(f"|{name} = {raw}" for name, raw in rows)


def _citations(con, wiki: str, rev_id, field: str | None, block) -> list[dict]:
    """The sources cited by the figures of the field (of its block, when the problem names one)."""
    if rev_id is None or field is None:
        return []
    return _rows(con, "SELECT c.ref_name, c.template, c.url, c.title, c.publisher, c.date, c.archive_url "
                      "FROM citations c WHERE c.wiki = $wiki AND c.rev_id = $rev AND c.ref_name IN ("
                      "SELECT unnest(ref_names) FROM figures WHERE wiki = $wiki AND rev_id = $rev "
                      "AND field = $field AND ($block IS NULL OR block = $block)) ORDER BY c.ref_name",
                 {"wiki": wiki, "rev": rev_id, "field": field, "block": block})


def _changes(rows: list[dict], keys: tuple[str, ...]) -> list[dict]:
    """Only the revisions where the value changes (a 4,000-revision history shows its few changes)."""
    out, last = [], object()
    for row in rows:
        value = tuple(row.get(k) for k in keys)
        if value != last:
            out.append(row)
            last = value
    return out


def _history(con, problem: dict) -> tuple[list[str], list[dict]]:
    """(columns, rows) of the figure's history on its page, compressed to its changes."""
    from expectations.runner import load_settings

    detail, wiki, page_id = problem["detail"], problem["wiki"], problem["page_id"]
    revs = ("SELECT rev_id, ts, user_name, comment FROM revisions WHERE wiki = $wiki AND page_id = $page")
    params = {"wiki": wiki, "page": page_id}
    if problem["expectation"] == "totals_reconcile":
        params |= {"tol": load_settings()[1]["approx_tolerance"], "field": detail.get("field"),
                   "block": detail.get("block"), "entity": detail.get("entity")}
        columns = ["declared_low", "declared_high", "sum_low", "sum_high", "status"]
        rows = _rows(con, f"SELECT r.rev_id, r.ts, r.user_name, r.comment, t.declared_low, t.declared_high, "
                          f"t.sum_low, t.sum_high, t.status FROM ({revs}) r JOIN reconcile_totals($tol) t "
                          f"ON t.wiki = $wiki AND t.rev_id = r.rev_id AND t.field = $field AND t.block = $block "
                          f"AND t.entity IS NOT DISTINCT FROM $entity ORDER BY r.ts, r.rev_id", params)
    elif problem["expectation"] == "suspicious_change":
        params |= {"field": detail.get("field"), "block": detail.get("block"),
                   "entity": detail.get("entity") or "", "category": detail.get("category")}
        columns = ["low", "high", "qualifier", "raw"]
        rows = _rows(con, f"SELECT r.rev_id, r.ts, r.user_name, r.comment, f.low, f.high, f.qualifier, f.raw "
                          f"FROM ({revs}) r JOIN figures f ON f.wiki = $wiki AND f.rev_id = r.rev_id "
                          f"AND f.field = $field AND f.block = $block AND coalesce(f.entity, '') = $entity "
                          f"AND f.category = $category AND NOT f.is_annotation ORDER BY r.ts, r.rev_id, f.seq",
                     params)
    elif problem["field"] is not None:
        params |= {"field": problem["field"]}
        columns = ["text"]
        rows = _rows(con, f"SELECT r.rev_id, r.ts, r.user_name, r.comment, f.text FROM ({revs}) r "
                          f"LEFT JOIN infobox_fields f ON f.wiki = $wiki AND f.rev_id = r.rev_id "
                          f"AND f.field = $field ORDER BY r.ts, r.rev_id", params)
    else:
        columns = ["has_infobox"]
        rows = _rows(con, "SELECT rev_id, ts, user_name, comment, has_infobox FROM revisions "
                          "WHERE wiki = $wiki AND page_id = $page ORDER BY ts, rev_id", params)
    return columns, _changes(rows, tuple(columns))


def _revision(con, wiki: str, rev_id) -> dict | None:
    found = _rows(con, "SELECT rev_id, parent_id, ts, user_name, comment, source FROM revisions "
                       "WHERE wiki = ? AND rev_id = ?", [wiki, rev_id])
    return found[0] if found else None


def _problem_view(con, problem: dict, page: dict, review: dict | None) -> dict:
    detail = problem["detail"]
    shown = detail.get("first_rev_") or problem["rev_id"]  # where a grouped finding appeared
    revision = _revision(con, problem["wiki"], shown) if shown is not None else None
    parent = revision["parent_id"] if revision else None
    field = problem["field"]
    columns, history = _history(con, problem) if problem["page_id"] is not None else ([], [])
    return {
        **problem, "review": review, "revision": revision,
        "diff": readable_diff(_field_raw(con, problem["wiki"], parent, field),
                              _field_raw(con, problem["wiki"], shown, field)) if revision else [],
        "has_parent": parent is not None,
        "citations": _citations(con, problem["wiki"], shown, field, detail.get("block")),
        "diff_link": diff_link(page["base_url"], shown, parent) if revision else None,
        "history_columns": columns, "history": history,
    }


def page_problems(con: duckdb.DuckDBPyConnection, wiki: str, page_id: int) -> list[dict]:
    problems = _rows(con, "SELECT * FROM problems WHERE wiki = ? AND page_id = ?", [wiki, page_id])
    for problem in problems:
        problem["detail"] = json.loads(problem["detail"] or "{}")
    return sorted(problems, key=problem_order)


def write_article_page(con: duckdb.DuckDBPyConnection, reports_dir: Path, wiki: str, page_id: int) -> Path:
    """Write the page's article page (every problem, open and checked); return its path."""
    from expectations.runner import load_reviews

    page = _rows(con, "SELECT p.wiki, p.page_id, p.title, p.lang, p.base_url, "
                      "(SELECT any_value(source) FROM revisions r WHERE r.wiki = p.wiki "
                      "AND r.page_id = p.page_id) AS source FROM pages p WHERE wiki = ? AND page_id = ?",
                 [wiki, page_id])[0]
    reviews = load_reviews(con)
    views = [_problem_view(con, p, page, reviews.get(p["problem_id"])) for p in page_problems(con, wiki, page_id)]
    linkable = urlsplit(page["base_url"] or "").scheme in ("http", "https")
    path = Path(reports_dir) / page_file(wiki, page_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(environment().get_template("article.html.j2").render(
        page=page, linkable=linkable, open=[v for v in views if not v["review"]],
        checked=[v for v in views if v["review"]],
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")), encoding="utf-8")
    return path


def write_article_pages(con: duckdb.DuckDBPyConnection, reports_dir: Path) -> list[Path]:
    """Article pages of every stored page that has a problem (the report links to them; a problem
    of a revision whose page is missing is listed in the report under referential_integrity)."""
    pages = con.execute("SELECT DISTINCT x.wiki, x.page_id FROM problems x JOIN pages p "
                        "ON p.wiki = x.wiki AND p.page_id = x.page_id ORDER BY ALL").fetchall()
    return [write_article_page(con, reports_dir, wiki, page_id) for wiki, page_id in pages]


def article_page(con: duckdb.DuckDBPyConnection, reports_dir: Path, title: str,
                 wiki: str | None = None) -> Path:
    wiki, page_id = find_page(con, title, wiki)
    return write_article_page(con, reports_dir, wiki, page_id)


def _problem(con, problem_id: str, title: str | None, wiki: str | None) -> dict:
    found = _rows(con, "SELECT * FROM problems WHERE problem_id = ?", [problem_id])
    if not found:
        raise ConfigError(f"no open problem has the id {problem_id!r} (ids are in the report and on "
                          "the article page; a problem fixed or changed since has left the register)")
    problem = found[0]
    if title is not None and (problem["wiki"], problem["page_id"]) != find_page(con, title, wiki):
        raise ConfigError(f"problem {problem_id} is not about {title!r}")
    return problem


def mark_checked(con: duckdb.DuckDBPyConnection, problem_id: str, note: str, reviewer: str | None = None,
                 title: str | None = None, wiki: str | None = None) -> dict:
    """Mark a problem as checked by a reviewer, with a note; returns the stored mark."""
    from warehouse.db import insert_rows, transaction

    if not note.strip():
        raise ConfigError("--note must say what you checked")
    problem = _problem(con, problem_id, title, wiki)
    mark = {"problem_id": problem_id, "expectation": problem["expectation"], "wiki": problem["wiki"],
            "page_id": problem["page_id"], "rev_id": problem["rev_id"],
            "description": problem["description"], "note": note.strip(),
            "reviewer": reviewer or _user(), "checked_at": datetime.now(UTC).replace(tzinfo=None)}
    with transaction(con):
        insert_rows(con, "problem_reviews", [mark], replace=True)
    return mark


def reopen(con: duckdb.DuckDBPyConnection, problem_id: str) -> None:
    """Remove a reviewer's mark: the problem is open again."""
    found = con.execute("DELETE FROM problem_reviews WHERE problem_id = ? RETURNING problem_id",
                        [problem_id]).fetchall()
    if not found:
        raise ConfigError(f"problem {problem_id!r} is not marked checked")


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a container
        return None


def refresh_pages(con: duckdb.DuckDBPyConnection, reports_dir: Path, wiki: str, page_id: int) -> Path:
    """After a mark: the page's article page and the latest report, rendered again from the tables."""
    from expectations.report import latest_validated_run, write_report

    run_id = latest_validated_run(con)
    if run_id is not None:
        write_report(con, run_id, reports_dir)
    return write_article_page(con, reports_dir, wiki, page_id)
