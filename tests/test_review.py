"""Reports show the warehouse's state; article pages and reviewers' marks (infobox review).

Real parts: the bundled sample and the seed loaded by the real loader into real DuckDB files,
validated by real GX; the `infobox` command run as a user runs it (twice: the second run loads
nothing new and must still report the EU block's 545 vs 546).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta

import pytest

from expectations import validate
from expectations.report import load_summary, summary_markdown
from expectations.review import article_page, mark_checked
from tasks.load import batch_rows, load_batch
from tasks.parse import parse_revision
from tasks.sources.dump import read_dump
from tasks.sources.textfile import read_file
from tests.conftest import SAMPLE_DUMP
from tests.history import NO_INFOBOX_TEXT, write_history
from warehouse.db import connect

EU = "strength1 block 1 European Union: declared 545, itemised 546"
TITLE = "马利北部冲突"


def infobox(*args, timeout=600, env=None):
    env = {**(env or os.environ), "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS":
           os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "240"), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "flows.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env)


def load_pages(con, pages, run_id):
    for page in pages:
        revisions = list(page.revisions)
        load_batch(con, batch_rows(page, revisions, [parse_revision(r.text, page.site.lang)
                                                     for r in revisions], run_id))


def eu_problem(summary):
    totals = next(o for o in summary.outcomes if o.expectation == "totals_reconcile")
    return next(p for p in totals.problems if p["description"].startswith(EU))


@pytest.fixture(scope="module")
def rerun(tmp_path_factory, prefect_api_env):
    """The bundled sample through `infobox run` twice (on the session's Prefect API); the second
    run loads nothing new."""
    db = tmp_path_factory.mktemp("rerun") / "w.duckdb"
    first = infobox("run", "--db", db, "--quiet", env=prefect_api_env)
    assert first.returncode == 0, first.stderr[-3000:]
    second = infobox("run", "--db", db, "--quiet", env=prefect_api_env)
    assert second.returncode == 0, second.stderr[-3000:]
    return db, second


@pytest.mark.slow
def test_a_rerun_that_loads_nothing_still_reports_the_eu_total(rerun):
    db, second = rerun
    con = connect(db, read_only=True)
    (run_id, loaded, report), = con.execute(
        "SELECT run_id, n_revisions_loaded, report_path FROM runs ORDER BY started_at DESC LIMIT 1").fetchall()
    summary = load_summary(con, run_id, db.parent)
    con.close()
    assert loaded == 0
    eu = eu_problem(summary)
    assert eu["is_current"] and not eu["is_new"]  # still in the latest revision; loaded before
    page = open(report, encoding="utf-8").read()
    assert EU in page and "new</span> in this run" in page
    # The terminal names every open problem (the sample has 6) and the same counts as the report.
    assert EU in second.stdout and "more in the report" not in second.stdout
    counts = summary.counts()
    assert summary.headline() in second.stdout.replace("\n", " ") or \
        f"{counts['problems']} problems ({counts['open']} open" in second.stdout
    assert re.search(rf'id="n-problems">{counts["problems"]}<', page)
    assert re.search(rf'id="n-open">{counts["open"]}<', page)
    # The Prefect artifact says the same.
    assert summary.headline() in summary_markdown(summary).replace("\\", "")


@pytest.mark.slow
def test_data_docs_count_what_the_report_counts_and_list_the_validations(rerun):
    db, _ = rerun
    con = connect(db, read_only=True)
    (run_id,) = con.execute("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
    summary = load_summary(con, run_id, db.parent)
    con.close()
    store = db.parent / "gx" / "uncommitted" / "validations" / "v_total_reconciliation" / "totals_reconcile"
    latest = max(store.rglob("*.json"), key=lambda p: p.parent.name)
    result = json.loads(latest.read_text())["results"][0]["result"]
    totals = next(o for o in summary.outcomes if o.expectation == "totals_reconcile")
    assert (result["unexpected_count"], result["element_count"]) == (totals.unexpected_count,
                                                                     totals.rows_checked)
    index = summary.docs_index.read_text(encoding="utf-8")
    listed = re.search(r'<section id="infobox-validations">.*?</section>', index, re.S).group(0)
    assert f"{totals.unexpected_count} of {totals.rows_checked}" in listed
    assert listed.count("<tr>") >= 2 * len(summary.outcomes)  # latest of each suite, and all
    assert not re.search(r"<(link|script)\b[^>]*(href|src)=[\"']https?://", index)


@pytest.fixture()
def sample_db(tmp_path, sample_warehouse):
    con = connect(sample_warehouse("run-1", tmp_path))  # load_pages(con, read_dump(SAMPLE_DUMP), "run-1")
    validate(con, "run-1", tmp_path)
    yield con, tmp_path
    con.close()


def test_a_checked_problem_stays_checked_across_runs_until_the_figure_changes(sample_db):
    con, data_dir = sample_db
    eu = eu_problem(load_summary(con, "run-1", data_dir))
    mark_checked(con, eu["problem_id"], "BBC lists 22 members summing to 546", reviewer="ana")
    again = validate(con, "run-2", data_dir)  # what a run that loads nothing validates
    assert eu_problem(again)["problem_id"] == eu["problem_id"]
    assert eu["problem_id"] in again.reviews and again.counts()["checked"] == 1
    report = again.report_path.read_text(encoding="utf-8")
    checked = report[report.index('id="checked"'):]
    assert EU in checked and "BBC lists 22 members summing to 546" in checked
    assert EU not in report[report.index('id="open"'):report.index('id="checked"')]
    # A new revision changes the EU figure: a new problem, open again.
    for page in read_dump(SAMPLE_DUMP):
        last = list(page.revisions)[-1]
        break
    text = last.text.replace("{{flagicon|European Union}} 545人", "{{flagicon|European Union}} 547人")
    assert text != last.text
    edit = replace(last, rev_id=last.rev_id + 1, parent_id=last.rev_id, text=text,
                   timestamp=last.timestamp + timedelta(hours=1), sha1=None)
    load_batch(con, batch_rows(page, [edit], [parse_revision(text, "zh")], "run-3"))
    third = validate(con, "run-3", data_dir)
    totals = next(o for o in third.outcomes if o.expectation == "totals_reconcile")
    eu547 = next(p for p in totals.problems if "European Union: declared 547" in p["description"])
    assert eu547["is_current"] and eu547["is_new"] and eu547["problem_id"] not in third.reviews
    old = next(p for p in totals.problems if p["problem_id"] == eu["problem_id"])
    assert not old["is_current"]  # 545 vs 546 is history now


def test_article_page_shows_revision_diff_sources_link_and_history(sample_db):
    con, data_dir = sample_db
    path = article_page(con, data_dir / "reports", TITLE)
    page = path.read_text(encoding="utf-8")
    block0 = page[page.index("declared 23,564+"):]
    block0 = block0[:block0.index("</section>")]
    # Where the wrong total appeared: rev 3 by Sahel-editor, with its summary and the diff.
    assert "Sahel-editor" in block0 and "参战方兵力：补充塞拉利昂、贝宁，更新总计" in block0
    assert '<span class="del">-&#39;&#39;&#39;总计：&#39;&#39;&#39; 22,614人以上</span>' in block0
    assert '<span class="add">+&#39;&#39;&#39;总计：&#39;&#39;&#39; 23,564人以上</span>' in block0
    assert 'href="http://127.0.0.1:8080/index.php?diff=3&amp;oldid=2"' in block0
    assert "Graphic.com.gh" in block0  # a cited source of the field's block
    # The figure's history (shared by every problem about the same total) is linked from the
    # problem and lists the revisions where the total changed, the vandal's revert included.
    history_id = re.search(r'History of the figure: <a href="#(h-[0-9a-f]+)">', block0).group(1)
    history = page[page.index(f'<details class="history" id="{history_id}">'):]
    history = history[:history.index("</details>")]
    assert "回退Vandal-2026的编辑" in history and "<td>23564</td>" in history
    assert page.count(f'id="{history_id}"') == 1
    # The report links to the page.
    report = (data_dir / "reports" / "latest.html").read_text(encoding="utf-8")
    assert f'href="pages/{path.name}#p-' in report


def test_a_file_without_a_wiki_url_says_there_is_no_link(tmp_path, seed_path):
    text = seed_path.read_text(encoding="utf-8").replace("'''总计：''' 23,564人以上", "'''总计：''' 9人")
    source = tmp_path / "article.wikitext"
    source.write_text(text, encoding="utf-8")
    con = connect(tmp_path / "w.duckdb")
    load_pages(con, [read_file(source)], "run-f")
    summary = validate(con, "run-f", tmp_path)
    assert any(o.problems for o in summary.outcomes)
    (title,) = con.execute("SELECT title FROM pages").fetchone()
    page = article_page(con, tmp_path / "reports", title).read_text(encoding="utf-8")
    con.close()
    assert 'id="no-wiki-link"' in page and "loaded from file" in page and "?diff=" not in page


def test_every_problem_is_listed_open_problems_first(tmp_path, seed_text):
    # 25 revisions without infobox: more than any sample, all listed in the report.
    history = tmp_path / "h.xml"
    write_history(history, [seed_text] + [NO_INFOBOX_TEXT + f"\n{i}" for i in range(25)])
    con = connect(tmp_path / "w.duckdb")
    load_pages(con, read_dump(history), "run-h")
    summary = validate(con, "run-h", tmp_path)
    con.close()
    missing = next(o for o in summary.outcomes if o.expectation == "revision_has_infobox")
    assert missing.unexpected_count == len(missing.problems) == 25
    report = summary.report_path.read_text(encoding="utf-8")
    section = report[report.index('id="open-revision_has_infobox"'):]
    section = section[:section.index("</details>")]
    assert section.count('<tr class="problem">') == 25
    # Problems first: failed expectations head the table, passed ones follow.
    table = report[report.index('id="expectations"'):report.index("</table>", report.index('id="expectations"'))]
    results = re.findall(r'<span class="(passed|warning|critical)">', table)
    assert results == sorted(results, key=["critical", "warning", "passed"].index)
    assert results[0] == "warning" and "failed" not in table


def test_review_command_errors_are_one_line(sample_db):
    con, data_dir = sample_db
    con.close()
    db = data_dir / "w.duckdb"
    for args, fragment in [
        (["--title", "Nope"], "no stored page is titled 'Nope'"),
        (["--title", TITLE, "--check", "0000", "--note", "x"], "no open problem has the id '0000'"),
        (["--title", TITLE, "--check", "0000"], "--check needs --note"),
    ]:
        proc = infobox("review", "--db", db, *args, timeout=120)
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
        assert proc.stderr.startswith("error: ") and fragment in proc.stderr, proc.stderr


def test_review_command_marks_and_lists(sample_db):
    con, data_dir = sample_db
    eu = eu_problem(load_summary(con, "run-1", data_dir))
    con.close()
    db = data_dir / "w.duckdb"
    proc = infobox("review", "--db", db, "--title", TITLE, "--check", eu["problem_id"],
                   "--note", "sums to 546", "--reviewer", "ana", timeout=120)
    assert proc.returncode == 0, proc.stderr
    path = proc.stdout.strip().splitlines()[-1]
    assert path.endswith(".html") and "sums to 546" in open(path, encoding="utf-8").read()
    assert re.search(rf"{eu['problem_id']}\s*│\s*checked current", proc.stdout)


def test_article_page_reads_match_a_per_revision_reading_on_a_long_history(tmp_path):
    """The article page reads histories at the revisions where the state changes, and field texts
    and sources in a few batched queries; on a 400-revision synthetic history (reverts, prose and
    infobox edits) every problem's history (read ahead on threads), diff texts and sources equal a
    plain reading of every revision one query at a time."""
    from benchmarks.synth import generate
    from expectations.review import (
        _citations,
        _field_raw,
        _history_query,
        _PageData,
        _read_changes,
        _revisions,
        _rows,
        _shown,
        page_problems,
    )
    from expectations.runner import load_settings
    from tasks.parse import ParseCache

    path = tmp_path / "h.xml"
    manifest = generate(path, revisions=400, seed=7)
    assert manifest["edits"]["revert"] > 20 and manifest["edits"]["inside"] > 50
    con = connect(tmp_path / "w.duckdb")
    cache = ParseCache()
    for page in read_dump(path):
        revisions = list(page.revisions)
        load_batch(con, batch_rows(page, revisions, [cache.parse(r.text, page.site.lang, r.sha1)
                                                     for r in revisions], "run-l"))
    validate(con, "run-l", tmp_path)
    ((wiki, page_id),) = con.execute("SELECT wiki, page_id FROM pages").fetchall()
    problems = page_problems(con, wiki, page_id)
    assert len(problems) > 20
    every = _rows(con, "SELECT rev_id, ts, user_name, comment, has_infobox FROM revisions "
                       "WHERE wiki = ? AND page_id = ? ORDER BY ts, rev_id", [wiki, page_id])
    data = _PageData(con, wiki, page_id)
    assert len(data.points()) < len(every) / 2  # reverts and prose edits collapse
    revisions = _revisions(con, wiki, [_shown(p) for p in problems])
    data.prefetch(problems, revisions)
    data.prefetch_histories(problems)  # on threads, as write_article_page does
    assert len(data._history_changes) > 2
    tolerance = load_settings()[1]["approx_tolerance"]
    for problem in problems:
        _kind, columns, sql, params = _history_query(problem, tolerance)
        plain = _read_changes(con, sql, {**params, "wiki": wiki, "revs": [r["rev_id"] for r in every]},
                              every, columns)
        assert data.history(problem)["rows"] == plain, problem["description"]
        shown = _shown(problem)
        parent = revisions[shown]["parent_id"]
        for rev in (shown, parent):
            if rev is not None:
                assert data.field_raw(rev, problem["field"]) == _field_raw(con, wiki, rev, problem["field"])
        if problem["field"] is not None:
            block = problem["detail"].get("block")
            assert data.citations(shown, problem["field"], block) == _citations(
                con, wiki, shown, problem["field"], block)
    con.close()
