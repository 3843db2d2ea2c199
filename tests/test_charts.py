"""`infobox chart` on the bundled sample: a real PNG, an HTML page embedding it, marks."""

from __future__ import annotations

import base64

from tasks.charts import chart_frame, render_history_chart
from tests.conftest import SAMPLE_DUMP
from tests.test_expectations import load_dump
from warehouse.db import connect


def test_chart_of_the_sample(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    load_dump(con, SAMPLE_DUMP)
    frame = chart_frame(con, "马利北部冲突", "strength1")
    con.close()
    eu = frame[frame["series"] == "strength1 block 1 European Union (total)"]
    assert list(eu["low"]) == [545] * 6  # six revisions have the infobox
    assert set(eu["status"]) == {"inconsistent"}
    itemised = frame[frame["series"] == "strength1 side 1 troops (itemised)"].set_index("rev_id")
    assert itemised.loc[4, "low"] - itemised.loc[3, "low"] == 18000  # the vandal's 2,000 → 20,000
    png, page = render_history_chart(frame, "马利北部冲突", tmp_path / "charts", "strength1")
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000
    html = page.read_text(encoding="utf-8")
    assert base64.b64encode(data).decode("ascii") in html
    marked = int((frame["status"] == "inconsistent").sum())
    assert f"{marked} inconsistent totals marked" in html and marked == 11
