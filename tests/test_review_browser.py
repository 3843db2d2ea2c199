"""The review pages in a real headless Chromium, offline: the report after a rerun shows the EU
block's 545 vs 546, the article page renders Chinese, and no page asks for anything off the machine."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from expectations import validate
from expectations.review import article_page
from tests.test_report_security import CHROMIUM, pytestmark  # noqa: F401  (skip/fail rules)
from tests.test_review import EU, TITLE
from warehouse.db import connect

# Every host name resolves to nothing: a page that needs a CDN shows it (unstyled), and nothing
# can leave the machine even by mistake.
OFFLINE = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


def chromium(profile: Path, *args) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         f"--user-data-dir={profile}", "--virtual-time-budget=2000", *OFFLINE, *map(str, args)],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def dom(page: Path, profile: Path) -> str:
    return chromium(profile, "--dump-dom", page.as_uri()).stdout


def screenshot(page: Path, out: Path, profile: Path, size="1200,900"):
    import matplotlib.image

    chromium(profile, f"--screenshot={out}", f"--window-size={size}", page.as_uri())
    return (matplotlib.image.imread(out)[..., :3] * 255).round().astype(int)


def has_colour(pixels, rgb) -> bool:
    return bool(((pixels == rgb).all(axis=-1)).any())


def remote_assets(html: str) -> list[str]:
    """src/href of scripts, styles and images that point off the machine."""
    found = []
    for tag in re.findall(r"<(?:script|link|img|iframe|source)\b[^>]*>", html, re.I):
        for url in re.findall(r"\b(?:src|href)\s*=\s*[\"']([^\"']+)", tag, re.I):
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") and parts.hostname not in ("127.0.0.1", "localhost"):
                found.append(url)
    found += re.findall(r"url\(\s*['\"]?(https?://[^)'\"]+)", html)
    return found


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory, sample_warehouse):
    """The sample loaded and validated, then validated again by a run that loads nothing."""
    data_dir = tmp_path_factory.mktemp("browser")
    con = connect(sample_warehouse("run-1", data_dir))  # load_pages(con, read_dump(SAMPLE_DUMP), "run-1")
    validate(con, "run-1", data_dir)
    rerun = validate(con, "run-2", data_dir)
    article = article_page(con, data_dir / "reports", TITLE)
    con.close()
    return rerun, article


def test_report_after_a_rerun_shows_the_eu_total_styled_offline(reviewed, tmp_path):
    summary, _ = reviewed
    page = summary.report_path
    text = dom(page, tmp_path / "p1")
    assert EU in text and 'id="open-totals_reconcile"' in text
    assert remote_assets(text) == []
    pixels = screenshot(page, tmp_path / "report.png", tmp_path / "p2")
    assert has_colour(pixels, (255, 196, 107))  # the warning badge: the page's own CSS applied


def test_article_page_renders_chinese(reviewed, tmp_path):
    _, article = reviewed
    text = dom(article, tmp_path / "p1")
    assert f'<h1 id="title">{TITLE}</h1>' in text and "回退Vandal-2026的编辑" in text
    assert remote_assets(text) == []
    # Rendered glyphs, not boxes: two different Chinese titles must not draw the same pixels
    # (missing glyphs would all be the same tofu box).
    other = article.with_name("other.html")
    other.write_text(article.read_text(encoding="utf-8").replace(
        f'<h1 id="title">{TITLE}</h1>', '<h1 id="title">一二三四五六</h1>'), encoding="utf-8")
    first = screenshot(article, tmp_path / "a.png", tmp_path / "p2", "900,200")
    second = screenshot(other, tmp_path / "b.png", tmp_path / "p3", "900,200")
    title_band = slice(60, 130)
    assert (first[title_band] != second[title_band]).any()
    assert (first[title_band] < 100).all(axis=-1).sum() > 200  # dark title pixels are drawn


def test_data_docs_render_styled_offline_and_list_the_validations(reviewed, tmp_path):
    summary, _ = reviewed
    index = summary.docs_index
    site = index.parent
    pages = [index, next((site / "validations").rglob("*totals_reconcile*.html")),
             next((site / "expectations").rglob("*.html"))]
    for number, page in enumerate(pages):
        text = dom(page, tmp_path / f"p{number}")
        assert remote_assets(text) == [], page
        assert "offline.css" in text and "<script" not in text, page
    listed = dom(index, tmp_path / "pi")
    assert 'id="infobox-validations"' in listed and "v_total_reconciliation.totals_reconcile" in listed
    totals = next(o for o in summary.outcomes if o.expectation == "totals_reconcile")
    assert f"{totals.unexpected_count} of {totals.rows_checked}" in listed
    pixels = screenshot(index, tmp_path / "docs.png", tmp_path / "ps")
    assert has_colour(pixels, (243, 243, 243))  # table headers styled by the local stylesheet
