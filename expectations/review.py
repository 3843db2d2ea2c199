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
import hashlib
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import duckdb

from expectations.model import problem_order
from expectations.report import environment, page_file
from warehouse.db import cursor
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


class _PageData:
    """What the problems of one page read, fetched once for the page and shared between problems.

    A long history repeats the same reading thousands of times: histories are read at the
    revisions where the page's state (its infobox reading) changes, since nothing a history shows
    can change elsewhere, and one history is kept per figure (hundreds of problems about one total
    share it); field texts and sources are read once per state.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, wiki: str, page_id: int | None):
        self.con, self.wiki, self.page_id = con, wiki, page_id
        self._points: list[dict] | None = None
        self.histories: dict[tuple, dict] = {}
        self._history_changes: dict[tuple, list[dict]] = {}  # read ahead by prefetch_histories
        self._point_ids: list | None = None
        self.diffs: dict[tuple, list] = {}
        self._raw: dict[tuple, str | None] = {}
        self._citations: dict[tuple, list[dict]] = {}
        self._states: dict = {}
        self._tol: float | None = None

    def points(self) -> list[dict]:
        """The page's revisions where its state differs from the revision before (by time), in order."""
        if self._points is None:
            self._points = _rows(
                self.con, "SELECT rev_id, ts, user_name, comment, has_infobox FROM ("
                "SELECT *, lag(state_id) OVER w AS prev_state, row_number() OVER w AS n FROM revisions "
                "WHERE wiki = $wiki AND page_id = $page WINDOW w AS (ORDER BY ts, rev_id)) "
                "WHERE n = 1 OR state_id IS NULL OR prev_state IS DISTINCT FROM state_id "
                "ORDER BY ts, rev_id", {"wiki": self.wiki, "page": self.page_id})
        return self._points

    def state(self, rev_id) -> object:
        """The revision's state id (None when it has none)."""
        if rev_id not in self._states:
            found = self.con.execute("SELECT state_id FROM revisions WHERE wiki = ? AND rev_id = ?",
                                     [self.wiki, rev_id]).fetchall()
            self._states[rev_id] = found[0][0] if found else None
        return self._states[rev_id]

    def prefetch(self, problems: list[dict], revisions: dict) -> None:
        """Read, in a few queries, the field texts (shown revision and its parent) and the sources
        of every problem of the page: one query per problem made a 476-problem page take 10 s."""
        con, wiki = self.con, self.wiki
        wanted = [(_shown(p), p["field"], p["detail"].get("block")) for p in problems]
        texts = {(rev, field) for rev, field, _block in wanted if field is not None and rev in revisions}
        texts |= {(revisions[rev]["parent_id"], field) for rev, field in list(texts)
                  if revisions[rev]["parent_id"] is not None}
        revs = sorted({rev for rev, _field in texts} | {rev for rev, field, _b in wanted
                                                        if rev is not None and field is not None})
        fields = sorted({field for _rev, field, _b in wanted if field is not None})
        if not revs or not fields:
            return
        self._states.update(con.execute(
            f"SELECT rev_id, state_id FROM revisions WHERE wiki = ? AND {_IN_LIST}",
            [wiki, revs]).fetchall())
        states = sorted({self._states.get(rev) for rev, _field in texts} - {None})
        found: dict[tuple, str] = {}
        for state, field, raw in con.execute(
                "SELECT s.state_id, v.field, v.raw FROM state_fields s JOIN field_values v "
                "ON v.value_id = s.value_id WHERE s.state_id IN (SELECT unnest(?::BIGINT[])) "
                "AND v.field IN (SELECT unnest(?::VARCHAR[])) ORDER BY s.state_id, s.box_idx, s.seq",
                [states, fields]).fetchall():
            found.setdefault((state, field), raw)  # the first parameter of that name
        for rev, field in texts:
            state = self._states.get(rev)
            if state is not None:
                self._raw[(state, field)] = found.get((state, field), "")
        # Sources: the refs each (revision, field, block) cites, then those refs' citations.
        refs: dict[tuple, set] = {}
        for rev, field, block, names in con.execute(
                f"SELECT rev_id, field, block, list(DISTINCT ref) FROM (SELECT rev_id, field, block, "
                f"unnest(ref_names) AS ref FROM figures WHERE wiki = ? AND {_IN_LIST} "
                f"AND field IN (SELECT unnest(?::VARCHAR[]))) GROUP BY ALL", [wiki, revs, fields]).fetchall():
            refs.setdefault((rev, field, None), set()).update(names)
            refs.setdefault((rev, field, block), set()).update(names)
        cited: dict = {}
        pairs = sorted({(self._states[rev], name) for rev, field, block in wanted
                        if field is not None and self._states.get(rev) is not None
                        for name in refs.get((rev, field, block), ())})
        for row in _rows(con, "SELECT state_id, ref_name, template, url, title, publisher, date, "
                              "archive_url FROM state_citations(?::BIGINT[], ?::VARCHAR[]) "
                              "ORDER BY state_id, ref_name",
                         [[state for state, _name in pairs], [name for _state, name in pairs]]):
            cited.setdefault(row.pop("state_id"), []).append(row)
        for rev, field, block in wanted:
            if rev is None or field is None:
                continue
            state = self.state(rev)
            if state is None:  # not yet re-derived: nothing to prefetch, read when asked
                continue
            names = refs.get((rev, field, block), set())
            self._citations[(state, field, block)] = [
                row for row in cited.get(state, []) if row["ref_name"] in names]

    def field_raw(self, rev_id, field: str | None) -> str | None:
        """The field's wikitext in a revision; with no field, the whole infobox as |name = value lines."""
        if rev_id is None:
            return None
        state = self.state(rev_id)
        key = (state if state is not None else ("rev", rev_id), field)
        if key not in self._raw:
            self._raw[key] = _field_raw(self.con, self.wiki, rev_id, field)
        return self._raw[key]

    def diff(self, parent, rev_id, field: str | None) -> list[tuple[str, str]]:
        """readable_diff of the field from ``parent`` to ``rev_id``, once per pair of texts (the
        problems of one edit, and edits that make the same change again, share it)."""
        before, after = self.field_raw(parent, field), self.field_raw(rev_id, field)
        key = (before, after)
        if key not in self.diffs:
            self.diffs[key] = readable_diff(before, after)
        return self.diffs[key]

    def citations(self, rev_id, field: str | None, block) -> list[dict]:
        """The sources cited by the figures of the field (of its block, when the problem names one)."""
        if rev_id is None or field is None:
            return []
        state = self.state(rev_id)
        key = (state if state is not None else ("rev", rev_id), field, block)
        if key not in self._citations:
            self._citations[key] = _citations(self.con, self.wiki, rev_id, field, block)
        return self._citations[key]

    def history(self, problem: dict) -> dict | None:
        """{id, title, columns, rows} of the figure's history on the page, shared by every problem
        about the same figure; None for a problem of no page."""
        if self.page_id is None:
            return None
        kind, columns, sql, params = _history_query(problem, self._tolerance())
        key = (kind, *sorted(params.items()))
        if key not in self.histories:
            changes = self._history_changes.pop(key, None)
            if changes is None:
                changes = _read_changes(self.con, sql, self._history_params(params), self.points(),
                                        columns)
            self._keep_history(key, kind, columns, params, changes)
        return self.histories[key]

    def _history_params(self, params: dict) -> dict:
        if self._point_ids is None:
            self._point_ids = [p["rev_id"] for p in self.points()]
        return {**params, "wiki": self.wiki, "revs": self._point_ids}

    def prefetch_histories(self, problems: list[dict]) -> None:
        """Read the distinct histories of ``problems`` (42 for the 476 problems of the 5,000-revision
        benchmark, ≈ 15 ms each) on a few threads, each with a cursor of its own: DuckDB holds no
        GIL while it runs a query, so they run side by side on the machine's cores."""
        if self.page_id is None:
            return
        queries: dict[tuple, tuple[str, dict, list[str]]] = {}
        for problem in problems:
            kind, columns, sql, params = _history_query(problem, self._tolerance())
            key = (kind, *sorted(params.items()))
            if key not in queries:
                queries[key] = (sql, self._history_params(params), columns)
        workers = min(len(queries), max(2, os.cpu_count() or 1), 4)
        if workers < 2:
            return  # one history: read when asked
        items = list(queries.items())
        cursors = [cursor(self.con) for _ in range(workers)]  # made here: con serves one call at a time

        points = self.points()

        def read(n: int) -> list[tuple[tuple, list[dict]]]:
            # Reduced to the change rows at once: all histories' raw rows together would be
            # hundreds of MB on a long history.
            return [(key, _read_changes(cursors[n], sql, params, points, columns))
                    for key, (sql, params, columns) in items[n::workers]]

        try:
            with ThreadPoolExecutor(workers, thread_name_prefix="article-history") as pool:
                for done in pool.map(read, range(workers)):
                    self._history_changes.update(done)
        finally:
            for mine in cursors:
                mine.close()

    def _keep_history(self, key: tuple, kind: str, columns: list[str], params: dict,
                      rows: list[dict]) -> None:
        self.histories[key] = {
            "id": "h-" + hashlib.sha1(json.dumps(key, default=str, ensure_ascii=False)
                                      .encode()).hexdigest()[:12],
            "title": _history_title(kind, params), "columns": columns, "rows": rows}

    def _tolerance(self) -> float:
        if self._tol is None:
            from expectations.runner import load_settings

            self._tol = load_settings()[1]["approx_tolerance"]
        return self._tol


def _field_raw(con, wiki: str, rev_id, field: str | None) -> str | None:
    """The field's wikitext in a revision; with no field, the whole infobox as |name = value lines."""
    if field is not None:
        found = con.execute("SELECT raw FROM infobox_fields WHERE wiki = ? AND rev_id = ? AND field = ? "
                            "ORDER BY box_idx, seq LIMIT 1", [wiki, rev_id, field]).fetchall()
        return found[0][0] if found else ""
    rows = con.execute("SELECT field, raw FROM infobox_fields WHERE wiki = ? AND rev_id = ? "
                       "ORDER BY box_idx, seq", [wiki, rev_id]).fetchall()
    return "\n".join(f"|{name} = {raw}" for name, raw in rows)


def _citations(con, wiki: str, rev_id, field: str, block) -> list[dict]:
    """The sources cited by the figures of the field (of its block, when the problem names one)."""
    return _rows(con, "SELECT c.ref_name, c.template, c.url, c.title, c.publisher, c.date, c.archive_url "
                      "FROM citations c WHERE c.wiki = $wiki AND c.rev_id = $rev AND c.ref_name IN ("
                      "SELECT unnest(ref_names) FROM figures WHERE wiki = $wiki AND rev_id = $rev "
                      "AND field = $field AND ($block IS NULL OR block = $block)) ORDER BY c.ref_name",
                 {"wiki": wiki, "rev": rev_id, "field": field, "block": block})


def _read_changes(con: duckdb.DuckDBPyConnection, sql: str, params: dict, points: list[dict],
                  columns: list[str]) -> list[dict]:
    """_changes of the rows ``sql`` reads (rev_id, ord and ``columns``)."""
    cursor = con.execute(sql, params)
    return _changes(points, [d[0] for d in cursor.description], cursor.fetchall(), columns)


def _changes(points: list[dict], names: list[str], rows: list[tuple], columns: list[str]) -> list[dict]:
    """The history rows of the revisions where the figure's values change: ``rows`` (tuples of the
    columns ``names``: rev_id, ord and ``columns``) are grouped per revision and a revision is kept
    when its group differs from the last one kept; revisions with no row (the figure absent) are
    passed over. Each kept row, as a dict, gets its revision's time, user and summary. Rows stay
    tuples until kept: a 20,000-revision page reads ≈ 360,000 of them for its 54 figure histories,
    and making each a dict first was a third of the time its histories took."""
    rev = names.index("rev_id")
    value = itemgetter(*(names.index(c) for c in columns))
    grouped: dict = {}
    for row in rows:
        grouped.setdefault(row[rev], []).append(row)
    out, last = [], object()
    for point in points:
        group = grouped.get(point["rev_id"])
        if not group:
            continue
        current = tuple(map(value, group))
        if current != last:
            out.extend({**point, **dict(zip(names, row, strict=True))} for row in group)
            last = current
    return out


_IN_LIST = "rev_id IN (SELECT unnest(?::BIGINT[]))"
_AT_POINTS = "rev_id IN (SELECT unnest($revs::BIGINT[]))"


def _history_query(problem: dict, tolerance: float) -> tuple[str, list[str], str, dict]:
    """(kind, columns, SQL, parameters) of the history a problem shows; the SQL reads the page's
    change points ($revs) and returns rev_id, ord (the order within a revision) and the columns."""
    detail = problem["detail"]
    if problem["expectation"] == "totals_reconcile":
        return ("total", ["declared_low", "declared_high", "sum_low", "sum_high", "status"],
                "SELECT rev_id, seq AS ord, declared_low, declared_high, sum_low, sum_high, status "
                f"FROM reconcile_totals($tol) WHERE wiki = $wiki AND {_AT_POINTS} AND field = $field "
                "AND block = $block AND entity IS NOT DISTINCT FROM $entity ORDER BY rev_id, seq",
                {"tol": tolerance, "field": detail.get("field"),
                 "block": detail.get("block"), "entity": detail.get("entity")})
    if problem["expectation"] == "suspicious_change":
        return ("figure", ["low", "high", "qualifier", "raw"],
                f"SELECT rev_id, seq AS ord, low, high, qualifier, raw FROM figures WHERE wiki = $wiki "
                f"AND {_AT_POINTS} "
                "AND field = $field AND block = $block AND coalesce(entity, '') = $entity "
                "AND category = $category AND NOT is_annotation ORDER BY rev_id, seq",
                {"field": detail.get("field"), "block": detail.get("block"),
                 "entity": detail.get("entity") or "", "category": detail.get("category")})
    if problem["field"] is not None:
        # Every change point has a row (NULL text when the field is absent), as a LEFT JOIN gives.
        return ("field", ["text"],
                "SELECT r.rev_id, f.box_idx * 1000000 + f.seq AS ord, f.text "
                "FROM (SELECT unnest($revs::BIGINT[]) AS rev_id) r "
                "LEFT JOIN infobox_fields f ON f.wiki = $wiki AND f.rev_id = r.rev_id "
                "AND f.field = $field ORDER BY r.rev_id, f.box_idx, f.seq",
                {"field": problem["field"]})
    return ("infobox", ["has_infobox"],
            f"SELECT rev_id, 0 AS ord, has_infobox FROM revisions WHERE wiki = $wiki AND {_AT_POINTS}",
            {})


def _history_title(kind: str, params: dict) -> str:
    if kind == "total":
        return (f"{params['field']} block {params['block']}"
                f"{' ' + params['entity'] if params['entity'] else ''}: declared total and itemised sum")
    if kind == "figure":
        return (f"{params['field']} block {params['block']}"
                f"{' ' + params['entity'] if params['entity'] else ''}: {params['category']}")
    if kind == "field":
        return f"{params['field']}: plain text"
    return "infobox present"


def _revisions(con, wiki: str, rev_ids: list) -> dict:
    found = _rows(con, "SELECT rev_id, parent_id, ts, user_name, comment, source FROM revisions "
                       "WHERE wiki = ? AND rev_id IN (SELECT unnest(?::BIGINT[]))",
                  [wiki, [r for r in rev_ids if r is not None]])
    return {row["rev_id"]: row for row in found}


def _problem_view(data: _PageData, problem: dict, page: dict, review: dict | None,
                  revisions: dict) -> dict:
    detail = problem["detail"]
    shown = _shown(problem)
    revision = revisions.get(shown) if shown is not None else None
    parent = revision["parent_id"] if revision else None
    field = problem["field"]
    return {
        **problem, "review": review, "revision": revision,
        "diff": data.diff(parent, shown, field) if revision else [],
        "has_parent": parent is not None,
        "citations": data.citations(shown, field, detail.get("block")),
        "diff_link": diff_link(page["base_url"], shown, parent) if revision else None,
        "history": data.history(problem),
    }


def _shown(problem: dict):
    """The revision a problem is shown at: where a grouped finding appeared, else its own."""
    return problem["detail"].get("first_rev_") or problem["rev_id"]


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
    problems = page_problems(con, wiki, page_id)
    data = _PageData(con, wiki, page_id)
    revisions = _revisions(con, wiki, [_shown(p) for p in problems])
    data.prefetch(problems, revisions)
    data.prefetch_histories(problems)
    views = [_problem_view(data, p, page, reviews.get(p["problem_id"]), revisions) for p in problems]
    linkable = urlsplit(page["base_url"] or "").scheme in ("http", "https")
    path = Path(reports_dir) / page_file(wiki, page_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(environment().get_template("article.html.j2").render(
        page=page, linkable=linkable, open=[v for v in views if not v["review"]],
        checked=[v for v in views if v["review"]], histories=list(data.histories.values()),
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
