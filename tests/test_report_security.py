"""Reports show wiki text escaped and run no script: checked in a real headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from expectations import validate
from tasks.load import batch_rows, load_batch
from tasks.parse import parse_revision
from tasks.sources.model import PageHistory, Revision, SiteInfo
from warehouse.db import connect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MARK = "pwned"
SCRIPT = f"<script>document.title='{MARK}';document.body.insertAdjacentHTML('beforeend','<div id={MARK}></div>')</script>"
IMG = f"<img src=x onerror=\"document.title='{MARK}';this.id='{MARK}'\">"
JS_LINK = f"javascript:document.title='{MARK}'"

pytestmark = pytest.mark.browser
if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("chromium is required in CI: apt-get install -y --no-install-recommends chromium")
    pytestmark = [pytest.mark.browser, pytest.mark.skip(
        reason="needs Debian's chromium: apt-get install -y --no-install-recommends chromium")]

HOSTILE_TEXT = (
    "{{Infobox military conflict\n|conflict = " + SCRIPT + "\n"
    "|strength1 = {{flagicon|France}} 100<br/>" + IMG + " 200<br/>'''Total:''' 999 " + SCRIPT + "\n"
    "|casualties1 = [" + JS_LINK + " 5 killed]\n}}\n"
)


def dump_dom(path: Path, profile: Path) -> str:
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         f"--user-data-dir={profile}", "--virtual-time-budget=2000", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: list[str] = []
        self.scripts: list[str] = []
        self.title = ""
        self._in = None

    def handle_starttag(self, tag, attrs):
        self.ids += [v for k, v in attrs if k == "id" and v]
        self._in = tag

    def handle_data(self, data):
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "title":
            self.title += data

    def handle_endtag(self, tag):
        self._in = None


def elements(dom: str) -> _Elements:
    parser = _Elements()
    parser.feed(dom)
    return parser


@pytest.fixture(scope="module")
def hostile_reports(tmp_path_factory):
    """The hostile warehouse validated once; both tests only read its report and Data Docs."""
    tmp_path = tmp_path_factory.mktemp("hostile")
    con = connect(tmp_path / "w.duckdb")
    page = PageHistory(
        site=SiteInfo(wiki="evilwiki", lang="en", base_url=JS_LINK), page_id=1,
        title="Battle " + SCRIPT, namespace=0, source="file",
        revisions=iter([]))
    revisions = [
        Revision(10, None, None, IMG, SCRIPT, None, None, HOSTILE_TEXT),
        Revision(11, 10, None, "Vandal" + SCRIPT, "blanked " + IMG, None, None, "no box " + SCRIPT),
    ]
    parsed = [parse_revision(r.text, "en") for r in revisions]
    load_batch(con, batch_rows(page, revisions, parsed, "run-evil"))
    summary = validate(con, "run-evil", tmp_path)
    con.close()
    failed = {o.expectation for o in summary.outcomes if not o.success}
    assert {"totals_reconcile", "revision_has_infobox"} <= failed  # the payloads reach the reports
    return summary


def test_run_report_escapes_wiki_text_and_runs_nothing(hostile_reports, tmp_path):
    source = hostile_reports.report_path.read_text(encoding="utf-8")
    assert "&lt;script&gt;" in source and "<script>" not in source
    assert "href='javascript:" not in source and 'href="javascript:' not in source
    dom = dump_dom(hostile_reports.report_path, tmp_path / "profile")
    seen = elements(dom)
    assert MARK not in seen.ids and seen.title != MARK and not seen.scripts
    assert "declared 999" in dom  # the problem itself is shown, in words


def test_data_docs_pages_run_nothing(hostile_reports, tmp_path):
    site = hostile_reports.docs_index.parent
    pages = [hostile_reports.docs_index] + [
        p for p in site.rglob("*.html") if MARK in p.read_text(encoding="utf-8", errors="replace")]
    assert len(pages) >= 2, "the hostile rows should appear on some Data Docs page"
    for number, page in enumerate(pages[:6]):
        dom = dump_dom(page, tmp_path / f"profile{number}")
        seen = elements(dom)
        assert MARK not in seen.ids, page
        assert seen.title.strip() != MARK, page
        assert not any(MARK in script for script in seen.scripts), page
