"""`infobox chart` on real warehouses: declared vs itemised per block, state changes, readable
tables, CJK glyphs in the PNG on a stale font cache, and a long history."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta

import pandas as pd
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tasks.chart_html import build_figure, render_history_chart, render_html
from tasks.charts import (
    chart_frame,
    entity_frame,
    latest_states,
    register_cjk_font,
    render_png,
    state_runs,
)
from tests.conftest import REPO
from tests.test_expectations import RUN
from warehouse.db import connect
from warehouse.errors import ConfigError

TITLE = "马利北部冲突"
EU = "strength1 · block 1 · European Union"


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory, sample_warehouse):
    return sample_warehouse(RUN, tmp_path_factory.mktemp("charts"))  # load_dump(con, SAMPLE_DUMP)


@pytest.fixture(scope="module")
def strength1(sample_db):
    con = connect(sample_db, read_only=True)
    try:
        return chart_frame(con, TITLE, "strength1"), entity_frame(con, TITLE, "strength1")
    finally:
        con.close()


def test_eu_block_declared_545_and_itemised_546_are_both_series(strength1):
    frame, _parts = strength1
    eu = frame[frame["series"] == EU].set_index("rev_id")
    present = eu[eu["status"].notna()]
    assert list(present.index) == [2, 3, 4, 5, 7, 8]  # revision 6 blanked the infobox: a gap
    assert set(present["declared_low"]) == {545} and set(present["sum_low"]) == {546}
    assert set(present["difference"]) == {1} and set(present["status"]) == {"inconsistent"}
    assert pd.isna(eu.loc[6, "declared_low"]) and pd.isna(eu.loc[6, "sum_low"])
    assert eu.loc[4, "user_name"] == "Vandal-2026"


def test_markers_only_where_the_state_changes(strength1):
    frame, _parts = strength1
    runs = state_runs(frame)
    eu = runs[runs["series"] == EU]
    # Six revisions with the EU total, one state, broken by the blanked revision 6: two runs.
    assert list(zip(eu["first_rev"], eu["last_rev"], eu["n_revisions"], strict=True)) == [(2, 5, 4),
                                                                                          (7, 8, 2)]
    block0 = runs[runs["series"] == "strength1 · block 0"]
    assert list(block0["first_rev"]) == [2, 3, 4, 5, 7]  # rev 4: the vandal's 2,000 → 20,000
    assert block0.set_index("first_rev").loc[4, "sum_low"] - \
        block0.set_index("first_rev").loc[3, "sum_low"] == 18000


def test_one_line_per_entity_on_demand(strength1):
    _frame, parts = strength1
    eu_parts = parts[parts["series"] == EU]
    assert eu_parts["part"].nunique() == 22
    newest = eu_parts[eu_parts["rev_id"] == 8]
    assert newest["low"].sum() == 546


def test_png_and_interactive_html_of_the_sample(strength1, tmp_path):
    frame, parts = strength1
    png, page = render_history_chart(frame, TITLE, tmp_path / "charts", "strength1", parts)
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 20_000
    html = page.read_text(encoding="utf-8")
    assert re.search(r"<script src=", html) is None and "<link" not in html
    assert "Plotly.newPlot('chart'" in html and "default-src 'none'" in html
    latest = html[html.index("<table id='latest'>"):html.index("</table>")]
    visible = re.sub(r"<script>.*?</script>", "", html, flags=re.S)
    assert "545.0" not in visible and "546.0" not in visible
    # Declared, itemised sum and difference, problems first.
    assert re.search(r"European Union</td><td class=n>545</td><td class=n>546</td>"
                     r"<td class=n>\+1</td><td class=inconsistent>inconsistent", latest)
    changes = html[html.index("<table id='changes'>"):]
    changes = changes[:changes.index("</table>")]
    assert changes.count("<tr>") - 1 == len(state_runs(frame))  # runs, not revisions
    statuses = re.findall(r"<td class=(inconsistent|consistent|partial_ok|not_comparable)>", changes)
    assert statuses == sorted(statuses, key=lambda s: s != "inconsistent")
    # Hover data: revision, user and edit summary of each point.
    assert "Vandal-2026" in html and "回退Vandal-2026的编辑" in html


def test_hover_text_and_tables_escape_wiki_text(strength1, tmp_path):
    frame, _parts = strength1
    hostile = frame.copy()
    hostile["comment"] = "</script><script>document.title='pwned'</script><b>x</b>"
    page = render_html(hostile, TITLE + "<i>", tmp_path / "h.html", "strength1")
    html = page.read_text(encoding="utf-8")
    assert "<script>document.title" not in html and "<b>x</b>" not in html and "<i>" not in html
    prefix = "displaylogo:false})})("
    start = html.index(prefix) + len(prefix)
    payload = html[start:html.index(");</script>", start)]
    data = json.loads(payload)  # \u003c escapes decode back to the escaped wiki text
    assert data["data"][0]["customdata"][0][2].startswith("&lt;/script&gt;")


def test_latest_states_are_sorted_problems_first(sample_db):
    con = connect(sample_db, read_only=True)
    frame = chart_frame(con, TITLE)
    con.close()
    latest = latest_states(frame)
    assert list(latest["status"]) == ["inconsistent", "inconsistent", "partial_ok", "consistent",
                                      "consistent"]


def test_unknown_page_and_field_are_clear_errors(sample_db):
    con = connect(sample_db, read_only=True)
    with pytest.raises(ConfigError, match="no page titled 'Foo'"):
        chart_frame(con, "Foo")
    with pytest.raises(ConfigError, match="no declared totals in field 'strength9'"):
        chart_frame(con, TITLE, "strength9")
    con.close()


def test_cli_chart_writes_png_and_html(sample_db):
    result = CliRunner().invoke(app, ["chart", "--title", TITLE, "--field", "strength1",
                                      "--entities", "--db", str(sample_db)])
    assert result.exit_code == 0, result.output
    png, page = result.output.strip().splitlines()[-2:]
    assert png.endswith("马利北部冲突-strength1-entities.png") and page.endswith(".html")
    assert os.path.exists(png) and "itemised parts" in open(page, encoding="utf-8").read()
    bad = CliRunner().invoke(app, ["chart", "--title", "Foo", "--db", str(sample_db)])
    assert bad.exit_code == 1 and "error: no page titled 'Foo'" in bad.output


def long_history(n: int = 5000) -> pd.DataFrame:
    """chart_frame's shape for a 5,000-revision history: the EU total flips between 545 and its
    correction 546 four times, the infobox is blanked once for 10 revisions."""
    start = datetime(2013, 1, 1)
    rows = []
    for i in range(n):
        declared = 546.0 if 1000 <= i < 2000 or 3000 <= i < 3500 else 545.0
        blank = 4200 <= i < 4210
        rows.append({"series": EU, "field": "strength1", "block": 1, "entity": "European Union",
                     "category": "troops", "rev_id": 10_000 + i, "ts": start + timedelta(hours=i),
                     "user_name": f"Editor{i % 7}", "comment": f"edit {i}",
                     "declared_low": None if blank else declared,
                     "declared_high": None if blank else declared,
                     "sum_low": None if blank else 546.0, "sum_high": None if blank else 546.0,
                     "difference": None if blank else 546.0 - declared, "n_parts": 22,
                     "status": None if blank else ("consistent" if declared == 546 else "inconsistent")})
    return pd.DataFrame(rows)


def test_a_5000_revision_history_has_a_handful_of_markers(tmp_path):
    frame = long_history()
    runs = state_runs(frame)
    assert len(runs) == 6  # 545 | 546 | 545 | 546 | 545 | (blank) 545
    figure = build_figure(frame, TITLE)
    markers = [t for t in figure.data if t.mode == "markers"]
    assert sum(len(t.x) for t in markers) == 2 * len(runs)  # one per series and change, not 5,000
    png = render_png(frame, TITLE, tmp_path / "long.png")
    assert png.stat().st_size > 20_000


STALE_CACHE = r"""
import json, os, sys
from matplotlib import font_manager
# A font cache built before the CJK font was installed: drop every CJK font from it.
manager = font_manager.fontManager
manager.ttflist = [f for f in manager.ttflist
                   if not any(k in f.fname.lower() for k in ("wqy", "cjk", "droid", "uming"))]
import matplotlib
font_manager.json_dump(manager, os.path.join(matplotlib.get_cachedir(), f"fontlist-v{font_manager.FontManager.__version__}.json"))
"""

RENDER_WITH_STALE_CACHE = r"""
import sys
import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font
assert not any("wqy" in f.fname.lower() for f in font_manager.fontManager.ttflist), "cache not stale"
from tasks.charts import font_families
families = font_families()
path = findfont(FontProperties(family=families[-1]), fallback_to_default=False)
font = FT2Font(path)
title = "马利北部冲突"
assert all(font.get_char_index(ord(ch)) for ch in title), path
images = []
with matplotlib.rc_context({"font.family": families}):
    for ch in title:
        fig = plt.figure(figsize=(0.6, 0.6), dpi=60)
        fig.text(0.1, 0.2, ch, fontsize=24)
        fig.canvas.draw()
        images.append(np.asarray(fig.canvas.buffer_rgba())[..., 0].copy())
        plt.close(fig)
# Tofu is one box for every character: six distinct glyph images mean six real glyphs.
distinct = {img.tobytes() for img in images}
print(families[-1], path, len(distinct), sep="|")
"""


def test_png_cjk_glyphs_render_with_a_stale_font_cache(tmp_path):
    """The font is registered from its file: a matplotlib cache made before the font was
    installed (the □□□□ title of issue 18) does not matter."""
    if register_cjk_font() is None:
        if os.environ.get("CI"):
            raise RuntimeError("a CJK font is required in CI: apt-get install fonts-wqy-microhei")
        pytest.skip("needs a CJK font: apt-get install -y --no-install-recommends fonts-wqy-microhei")
    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path / "mpl")}
    subprocess.run([sys.executable, "-c", STALE_CACHE], env=env, check=True, cwd=REPO, timeout=300)
    proc = subprocess.run([sys.executable, "-c", RENDER_WITH_STALE_CACHE], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    family, path, distinct = proc.stdout.strip().split("|")
    assert family == "WenQuanYi Micro Hei" or "CJK" in family, family
    assert int(distinct) == 6
