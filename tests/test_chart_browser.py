"""The interactive chart in a real headless Chromium: it renders offline (every request that
tries to leave the machine would reach a recording proxy on 127.0.0.1: none does), the EU
block's declared 545 and itemised 546 are two lines, and Chinese text is rendered."""

from __future__ import annotations

import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.conftest import SAMPLE_DUMP
from tests.test_expectations import load_dump
from tests.test_report_security import CHROMIUM, pytestmark  # noqa: F401  (browser mark, CI rule)
from warehouse.db import connect

TITLE = "马利北部冲突"
# Chromium's own services, which it contacts whatever the page (component updater, clock, sign-in,
# optimisation hints) despite --disable-component-update. Exact hosts: a CDN or web-font host
# asked for by the page is still caught.
BROWSER_HOSTS = {"update.googleapis.com", "clients2.google.com", "accounts.google.com",
                 "optimizationguide-pa.googleapis.com", "clientservices.googleapis.com",
                 "safebrowsingohttpgateway.googleapis.com", "edgedl.me.gvt1.com"}


def page_requests(recorder) -> list[str]:
    def host(request: str) -> str:
        target = request.split(" ", 1)[1]
        return re.sub(r"^\w+://", "", target).split("/", 1)[0].split(":", 1)[0]

    return [r for r in recorder.requests if host(r) not in BROWSER_HOSTS]


class Recorder:
    """An HTTP proxy on 127.0.0.1 that answers 404 and records every request it is sent."""

    def __init__(self):
        self.requests: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _record(self):
                recorder.requests.append(f"{self.command} {self.path}")
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_HEAD = do_CONNECT = do_OPTIONS = _record

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def recorder():
    proxy = Recorder()
    yield proxy
    proxy.close()


def chromium(url: str, profile, proxy: Recorder, *extra: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         f"--user-data-dir={profile}", f"--proxy-server=http://127.0.0.1:{proxy.port}",
         "--proxy-bypass-list=<-loopback>", "--virtual-time-budget=8000", *extra, url],
        capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def test_the_recorder_sees_a_page_that_reaches_out(tmp_path, recorder):
    """Control: without it, 'no request recorded' could mean the proxy is not used at all."""
    page = tmp_path / "out.html"
    page.write_text("<!DOCTYPE html><img src='http://cdn.example.org/plotly.min.js'>", encoding="utf-8")
    chromium(page.as_uri(), tmp_path / "profile", recorder, "--dump-dom")
    assert any("cdn.example.org" in r for r in recorder.requests), recorder.requests


def test_chart_renders_offline_with_both_eu_series_and_chinese_text(tmp_path, recorder):
    db = tmp_path / "w.duckdb"
    con = connect(db)
    load_dump(con, SAMPLE_DUMP)
    con.close()
    result = CliRunner().invoke(app, ["chart", "--title", TITLE, "--field", "strength1",
                                      "--db", str(db)])
    assert result.exit_code == 0, result.output
    page = result.stdout.strip().splitlines()[-1]
    dom = chromium(f"file://{page}", tmp_path / "profile", recorder, "--dump-dom").stdout
    assert page_requests(recorder) == []  # nothing the page asked for left the machine
    assert 'class="main-svg"' in dom  # plotly.js ran (embedded, allowed by the page's CSP)
    # Chinese text rendered as SVG text by plotly (the chart title), and in the page heading.
    title = re.search(r'<text class="gtitle"[^>]*>([^<]*)</text>', dom)
    assert title and title.group(1).startswith(f"{TITLE} · strength1"), title
    assert "European Union — latest: declared 545, itemised 546 (+1), inconsistent" in dom
    # The EU panel (second subplot) draws two lines at two heights: 545 and 546.
    panel = dom[dom.rindex('<g class="x2y2"'):]  # the plot layer (the first is the background)
    panel = panel[:panel.index('class="infolayer"')]  # the legend's sample lines come after
    heights = {
        frozenset(re.findall(r"[HV]?(?:[\d.]+),([\d.]+)", d))
        for d in re.findall(r'<path class="js-line" d="([^"]+)"', panel)}
    assert len({h for hs in heights for h in hs}) == 2, heights
    ticks = re.findall(r'<g class="y2tick"><text[^>]*>([^<]+)</text>', dom)
    assert "545" in ticks and "546" in ticks, ticks
    # Fontconfig (which Chromium uses) has a font for Chinese, so those are glyphs, not boxes.
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    assert fonts.stdout.strip(), "no Chinese font installed: apt-get install fonts-wqy-microhei"
    shot = tmp_path / "chart.png"
    chromium(f"file://{page}", tmp_path / "profile2", recorder, f"--screenshot={shot}",
             "--window-size=1200,1400")
    assert shot.read_bytes().startswith(b"\x89PNG") and page_requests(recorder) == []
