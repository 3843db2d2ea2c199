"""Charts of an article's figures over its revisions: a PNG and an HTML page embedding it.

``chart_frame`` reads the figures (declared totals, and each side's itemised troops and casualties)
with their reconciliation status; ``render_history_chart`` draws them with matplotlib (Agg, no
display) and marks inconsistent totals. Wiki text in the HTML page is escaped.
"""

from __future__ import annotations

import base64
import html
import logging
import re
from pathlib import Path

import duckdb
import pandas as pd

from warehouse.errors import ConfigError

_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
              "Droid Sans Fallback", "AR PL UMing CN", "Source Han Sans SC")


def chart_frame(con: duckdb.DuckDBPyConnection, title: str, field: str | None = None) -> pd.DataFrame:
    """Per revision of page ``title``: every declared total, and per side the itemised sums of
    troops and casualties; with the reconciliation status of totals."""
    pages = con.execute("SELECT wiki, page_id FROM pages WHERE title = ?", [title]).fetchall()
    if not pages:
        raise ConfigError(f"no page titled {title!r} in the warehouse")
    wiki, page_id = pages[0]
    frame = con.execute(
        """
        WITH revs AS (SELECT rev_id, ts FROM revisions WHERE wiki = $wiki AND page_id = $page_id),
        totals AS (
            SELECT f.rev_id, r.ts, f.field, f.side, f.block, f.entity, f.category, f.low, f.high,
                   true AS is_total, t.status,
                   f.field || ' block ' || f.block::VARCHAR || coalesce(' ' || f.entity, '') || ' (total)'
                       AS series
            FROM figures f JOIN revs r USING (rev_id)
            LEFT JOIN v_total_reconciliation t ON t.wiki = f.wiki AND t.rev_id = f.rev_id
                AND t.box_idx = f.box_idx AND t.field = f.field AND t.seq = f.seq
            WHERE f.wiki = $wiki AND f.is_total AND f.low IS NOT NULL
        ),
        sides AS (
            SELECT f.rev_id, any_value(r.ts) AS ts, f.field, f.side, NULL::INTEGER AS block,
                   NULL AS entity, f.category, sum(f.low) AS low, sum(f.high) AS high,
                   false AS is_total, NULL AS status,
                   f.field || ' side ' || coalesce(f.side::VARCHAR, '-') || ' ' || f.category
                       || ' (itemised)' AS series
            FROM figures f JOIN revs r USING (rev_id)
            WHERE f.wiki = $wiki AND NOT f.is_total AND NOT f.is_annotation
              AND f.low IS NOT NULL AND f.category IN ('troops', 'killed', 'dead', 'casualties')
            GROUP BY f.rev_id, f.field, f.side, f.category
        )
        SELECT * FROM totals UNION ALL SELECT * FROM sides ORDER BY series, ts, rev_id
        """, {"wiki": wiki, "page_id": page_id}).df()
    if field:
        frame = frame[frame["field"] == field]
        if frame.empty:
            raise ConfigError(f"page {title!r} has no figures in field {field!r}")
    return frame


def _font() -> None:
    import matplotlib
    from matplotlib import font_manager

    available = {f.name for f in font_manager.fontManager.ttflist}
    for name in _CJK_FONTS:
        if name in available:
            matplotlib.rcParams["font.family"] = [name, "DejaVu Sans"]
            return
    # Without a CJK font, Chinese labels show as boxes; say it once instead of per glyph.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)


def render_history_chart(df: pd.DataFrame, title: str, out_dir: Path,
                         field: str | None = None) -> tuple[Path, Path]:
    """Draw ``df`` (from chart_frame) to ``out_dir``; return (png, html) paths."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _font()
    out_dir.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^\w]+", "_", title).strip("_") or "page"
    suffix = f"-{field}" if field else ""
    png, page = out_dir / f"{slug}{suffix}.png", out_dir / f"{slug}{suffix}.html"
    fig, ax = plt.subplots(figsize=(11, 6), dpi=100)
    marked = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # missing-glyph warnings
        for series, rows in df.groupby("series", sort=True):
            rows = rows.sort_values("ts")
            ax.plot(rows["ts"], rows["low"], marker="o", markersize=3, label=str(series))
            bad = rows[rows["status"] == "inconsistent"]
            if not bad.empty:
                marked += len(bad)
                ax.scatter(bad["ts"], bad["low"], marker="x", s=80, color="red", zorder=5)
        if marked:
            ax.scatter([], [], marker="x", color="red", label="inconsistent total")
        ax.set_yscale("symlog")
        ax.set_xlabel("revision time (UTC)")
        ax.set_ylabel("figure (lower bound)")
        ax.set_title(f"{title}{' · ' + field if field else ''}")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(png)
    plt.close(fig)
    encoded = base64.b64encode(png.read_bytes()).decode("ascii")
    table = "".join(
        f"<tr><td>{html.escape(str(r.series))}</td><td>{html.escape(str(r.rev_id))}</td>"
        f"<td>{html.escape(str(r.low))}</td><td>{html.escape(str(r.status or ''))}</td></tr>"
        for r in df.itertuples() if r.status == "inconsistent")
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "td,th{border:1px solid #ccc;padding:.2em .5em}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{len(df)} points, {marked} inconsistent totals marked ✕.</p>"
        f"<img alt='figures over revisions' src='data:image/png;base64,{encoded}'>"
        f"<h2>Inconsistent totals</h2><table><tr><th>series</th><th>revision</th><th>declared</th>"
        f"<th>status</th></tr>{table}</table></body></html>", encoding="utf-8")
    return png, page
