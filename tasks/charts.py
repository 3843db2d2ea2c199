"""Charts of an article's declared totals against their itemised sums, revision by revision.

``chart_frame`` reads, for every declared total of a page (one *series* per field, block and
entity), its declared interval, the sum of its itemised parts, the difference and the
reconciliation status in each revision of the page, with the revision's user and comment.
``entity_frame`` reads the itemised parts themselves (one line per entity, on demand).
``state_runs`` folds consecutive revisions with the same state into one run: the charts mark only
where the state changes, and the tables list runs, not revisions, so a 5,000-revision history
stays readable.

``render_png`` draws a static PNG with matplotlib (Agg); the CJK font is registered with
matplotlib's font manager from its file, so Chinese titles render even when matplotlib's font
cache was built before the font was installed. The interactive HTML page is in
``tasks.chart_html`` (which also writes both files: render_history_chart). Nothing here writes to the warehouse.
"""

from __future__ import annotations

import glob
import logging
import math
import os
import re
from pathlib import Path

import duckdb
import pandas as pd

from warehouse.errors import ConfigError

# Font files tried, in order, for Chinese/Japanese text (Debian paths; INFOBOX_CJK_FONT first).
CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
CJK_FONT_GLOBS = ("/usr/share/fonts/**/*CJK*", "/usr/share/fonts/**/wqy*", "/usr/local/share/fonts/**/*CJK*")

# Problems first in every table and legend.
STATUS_ORDER = {"inconsistent": 0, "not_comparable": 1, "partial_ok": 2, "consistent": 3}
STATUS_COLOURS = {"inconsistent": "#d62728", "not_comparable": "#7f7f7f", "partial_ok": "#2ca02c",
                  "consistent": "#2ca02c"}
DECLARED_COLOUR, ITEMISED_COLOUR = "#1f77b4", "#ff7f0e"

_STATE = ["declared_low", "declared_high", "sum_low", "sum_high", "status"]
_log = logging.getLogger(__name__)


def _page(con: duckdb.DuckDBPyConnection, title: str) -> tuple[str, int]:
    pages = con.execute("SELECT wiki, page_id FROM pages WHERE title = ? ORDER BY wiki LIMIT 1",
                        [title]).fetchall()
    if not pages:
        raise ConfigError(f"no page titled {title!r} in the warehouse "
                          "(titles are exact: `infobox sql \"select title from pages\"` lists them)")
    return pages[0]


def chart_frame(con: duckdb.DuckDBPyConnection, title: str, field: str | None = None) -> pd.DataFrame:
    """One row per (declared total, revision of page ``title``), oldest revision first.

    Columns: series (label), field, block, entity, category, rev_id, ts, user_name, comment,
    declared_low/high, sum_low/high (the itemised parts' sum as written), difference
    (sum_low − declared_low), n_parts, status. In revisions where the total is absent (no
    infobox, block removed) the numbers and status are missing, so lines show a gap there.
    """
    wiki, page_id = _page(con, title)
    frame = con.execute(
        """
        WITH revs AS (
            SELECT rev_id, ts, user_name, comment FROM revisions WHERE wiki = $wiki AND page_id = $page_id
        ), totals AS (
            SELECT t.*, row_number() OVER (PARTITION BY t.rev_id, t.field, t.block, t.entity, t.category
                                           ORDER BY t.seq) AS nth
            FROM v_total_reconciliation t JOIN revs r USING (rev_id)
            WHERE t.wiki = $wiki AND ($field IS NULL OR t.field = $field)
        ), series AS (
            SELECT DISTINCT field, block, entity, category FROM totals WHERE nth = 1
        )
        SELECT s.field, s.block, s.entity, s.category, r.rev_id, r.ts, r.user_name, r.comment,
               t.declared_low::DOUBLE AS declared_low, t.declared_high::DOUBLE AS declared_high,
               t.sum_low::DOUBLE AS sum_low, t.sum_high::DOUBLE AS sum_high,
               t.difference::DOUBLE AS difference, t.n_parts, t.status
        FROM series s CROSS JOIN revs r
        LEFT JOIN totals t ON t.nth = 1 AND t.rev_id = r.rev_id AND t.field = s.field
            AND t.block IS NOT DISTINCT FROM s.block AND t.entity IS NOT DISTINCT FROM s.entity
            AND t.category IS NOT DISTINCT FROM s.category
        ORDER BY s.field, s.block NULLS FIRST, s.entity NULLS FIRST, s.category, r.ts, r.rev_id
        """, {"wiki": wiki, "page_id": page_id, "field": field}).df()
    if frame.empty:
        where = f" in field {field!r}" if field else ""
        raise ConfigError(f"page {title!r} has no declared totals{where}: nothing to chart "
                          "(`infobox sql \"select distinct field from v_total_reconciliation\"` lists "
                          "the fields that have some)")
    frame.insert(0, "series", _labels(frame))
    return frame


def _labels(frame: pd.DataFrame) -> pd.Series:
    keys = frame[["field", "block", "entity", "category"]].drop_duplicates()
    plain = {}
    for key in keys.itertuples(index=False):
        label = f"{key.field} · block {int(key.block) if pd.notna(key.block) else '-'}"
        plain[tuple(key)] = label + (f" · {key.entity}" if isinstance(key.entity, str) else "")
    counts = pd.Series(list(plain.values())).value_counts()
    # Two totals of one block for the same entity differ by category: say which.
    names = {k: (v + f" · {k[3]}" if counts[v] > 1 else v) for k, v in plain.items()}
    return pd.Series([names[tuple(r)] for r in frame[["field", "block", "entity", "category"]]
                      .itertuples(index=False)], index=frame.index)


def entity_frame(con: duckdb.DuckDBPyConnection, title: str, field: str | None = None) -> pd.DataFrame:
    """The itemised parts of each declared total: one row per (series, entity, revision).

    ``series`` matches chart_frame's labels; ``entity`` is the part's entity (or its category
    when it names none); low/high are summed when one entity has several parts in a revision.
    """
    wiki, page_id = _page(con, title)
    totals = chart_frame(con, title, field)[["series", "field", "block", "entity", "category"]]
    totals = totals.drop_duplicates()
    parts = con.execute(
        """
        WITH revs AS (
            SELECT rev_id, ts FROM revisions WHERE wiki = $wiki AND page_id = $page_id
        ), parts AS (
            SELECT t.field, t.block, t.entity AS total_entity, t.category AS total_category,
                   coalesce(p.entity, p.category) AS part, p.rev_id,
                   sum(p.low)::DOUBLE AS low, sum(p.high)::DOUBLE AS high
            FROM figures p JOIN revs r USING (rev_id)
            JOIN figures t ON t.is_total AND t.wiki = p.wiki AND t.rev_id = p.rev_id
                AND t.box_idx = p.box_idx AND t.field = p.field AND t.seq = p.parent_seq
            WHERE p.wiki = $wiki AND NOT p.is_annotation AND ($field IS NULL OR p.field = $field)
            GROUP BY ALL
        ), lines AS (
            SELECT DISTINCT field, block, total_entity, total_category, part FROM parts
        )
        SELECT l.field, l.block, l.total_entity AS entity, l.total_category AS category,
               l.part, r.rev_id, r.ts, p.low, p.high
        FROM lines l CROSS JOIN revs r
        LEFT JOIN parts p ON p.rev_id = r.rev_id AND p.field = l.field AND p.block = l.block
            AND p.total_entity IS NOT DISTINCT FROM l.total_entity
            AND p.total_category IS NOT DISTINCT FROM l.total_category AND p.part = l.part
        ORDER BY l.field, l.block, l.total_entity NULLS FIRST, l.part, r.ts, r.rev_id
        """, {"wiki": wiki, "page_id": page_id, "field": field}).df()
    return parts.merge(totals, on=["field", "block", "entity", "category"], how="inner")


def state_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """Consecutive revisions of a series with the same state (declared, itemised, status), one
    row per run: first and last revision, how many revisions, the state. Runs where the total is
    absent are left out (the line has a gap there)."""
    rows = []
    for series, group in frame.groupby("series", sort=False):
        group = group.sort_values(["ts", "rev_id"])
        state = group[_STATE].astype(object).where(group[_STATE].notna(), None)
        key = state.apply(tuple, axis=1)
        run_id = (key != key.shift()).cumsum()
        for _n, run in group.groupby(run_id.values, sort=False):
            first, last = run.iloc[0], run.iloc[-1]
            if first["status"] is None or (isinstance(first["status"], float)
                                            and math.isnan(first["status"])):
                continue
            rows.append({"series": series, "first_rev": int(first.rev_id), "first_ts": first.ts,
                         "user_name": first.user_name, "comment": first.comment,
                         "last_rev": int(last.rev_id), "last_ts": last.ts, "n_revisions": len(run),
                         **{c: first[c] for c in _STATE}, "difference": first.difference})
    return pd.DataFrame(rows, columns=["series", "first_rev", "first_ts", "user_name", "comment",
                                       "last_rev", "last_ts", "n_revisions", *_STATE, "difference"])


def latest_states(frame: pd.DataFrame) -> pd.DataFrame:
    """The state of each series in the page's newest revision (absent → status 'absent'),
    problems first."""
    newest = frame.sort_values(["ts", "rev_id"]).groupby("series", sort=False).tail(1).copy()
    newest["status"] = newest["status"].where(newest["status"].notna(), "absent")
    return sort_problems_first(newest)


def sort_problems_first(table: pd.DataFrame) -> pd.DataFrame:
    rank = table["status"].map(lambda s: STATUS_ORDER.get(s, len(STATUS_ORDER)))
    by = ["series", "first_ts"] if "first_ts" in table else ["series"]
    return table.assign(_rank=rank).sort_values(["_rank", *by], kind="stable").drop(columns="_rank")


def fmt_number(value) -> str:
    """12345.0 → '12,345' (figures are whole numbers; never '545.0')."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def fmt_interval(low, high, status=None) -> str:
    """'545', '6,000–7,000', '23,564+' (open upper end), '—' when absent."""
    if low is None or (isinstance(low, float) and math.isnan(low)):
        return "—"
    if high is None or (isinstance(high, float) and math.isnan(high)):
        return fmt_number(low) + "+"
    return fmt_number(low) if high == low else f"{fmt_number(low)}–{fmt_number(high)}"


def fmt_difference(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return ("+" if value > 0 else "−" if value < 0 else "") + fmt_number(abs(value))


def slug(title: str, field: str | None = None) -> str:
    return (re.sub(r"[^\w]+", "_", title).strip("_") or "page") + (f"-{field}" if field else "")


def register_cjk_font() -> str | None:
    """Add a CJK font file to matplotlib's font manager and return its family name.

    Registered from the file itself (``fontManager.addfont``), so it does not depend on
    matplotlib's font cache, which may predate the font's installation. INFOBOX_CJK_FONT may name
    a font file to use instead. None when no CJK font is installed.
    """
    from matplotlib import font_manager

    candidates = [os.environ.get("INFOBOX_CJK_FONT", ""), *CJK_FONT_FILES]
    for pattern in CJK_FONT_GLOBS:
        candidates += sorted(glob.glob(pattern, recursive=True))
    for path in candidates:
        if not path or not os.path.isfile(path):
            continue
        try:
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
        except (OSError, RuntimeError, ValueError) as exc:  # unreadable font file: try the next
            _log.debug("font %s not usable: %s", path, exc)
    return None


def font_families() -> list[str]:
    """Font list for matplotlib: DejaVu Sans for Latin, then the CJK font (per-glyph fallback)."""
    cjk = register_cjk_font()
    if cjk is None:
        _log.warning("no CJK font found (apt-get install fonts-wqy-microhei, or set "
                     "INFOBOX_CJK_FONT to a font file): Chinese text will show as boxes")
        logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
        return ["DejaVu Sans"]
    return ["DejaVu Sans", cjk]


def _palette(n: int) -> list:
    import matplotlib

    colours = list(matplotlib.colormaps["tab20"].colors) + list(matplotlib.colormaps["tab20b"].colors)
    return [colours[i % len(colours)] for i in range(n)]


def render_png(frame: pd.DataFrame, title: str, path: Path, field: str | None = None,
               entities: pd.DataFrame | None = None) -> Path:
    """One panel per declared total (its own y scale): declared and itemised sum as step lines
    (a band where a figure is a range), a marker where the state changes (✕ red: inconsistent),
    inconsistent stretches shaded. With ``entities``, a panel of its parts under each total."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    series_names = list(dict.fromkeys(frame["series"]))
    panels: list[tuple[str, str]] = []
    for name in series_names:
        panels.append(("total", name))
        if entities is not None and (entities["series"] == name).any():
            panels.append(("parts", name))
    runs = state_runs(frame)
    with matplotlib.rc_context({"font.family": font_families(), "axes.titlesize": 9}), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fig, axes = plt.subplots(len(panels), 1, sharex=True, squeeze=False,
                                 figsize=(12, 1.0 + 2.4 * len(panels)), dpi=100)
        for ax, (kind, name) in zip(axes[:, 0], panels, strict=True):
            if kind == "total":
                _draw_total(ax, frame[frame["series"] == name], runs[runs["series"] == name], name)
            else:
                _draw_parts(ax, entities[entities["series"] == name], name)
            ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt_number(v)))
            ax.grid(axis="y", color="#e5e5e5")
        axes[-1, 0].set_xlabel("revision time (UTC)")
        fig.suptitle(f"{title}{' · ' + field if field else ''}: declared totals and itemised sums",
                     fontsize=12)
        fig.autofmt_xdate()
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    plt.close(fig)
    return path


def _draw_total(ax, rows: pd.DataFrame, runs: pd.DataFrame, name: str) -> None:
    rows = rows.sort_values(["ts", "rev_id"])
    for low, high, colour, label, style in (
            ("declared_low", "declared_high", DECLARED_COLOUR, "declared", "-"),
            ("sum_low", "sum_high", ITEMISED_COLOUR, "itemised sum", "--")):
        ax.step(rows["ts"], rows[low], where="post", color=colour, linestyle=style, linewidth=1.6,
                label=label)
        band = rows[high].notna() & (rows[high] != rows[low])
        if band.any():
            ax.fill_between(rows["ts"], rows[low], rows[high].where(band), step="post",
                            color=colour, alpha=0.15, linewidth=0)
    for run in runs.itertuples():
        colour = STATUS_COLOURS.get(run.status, "#7f7f7f")
        marker = "x" if run.status == "inconsistent" else "o"
        ax.scatter([run.first_ts] * 2, [run.declared_low, run.sum_low], marker=marker,
                   color=colour, s=40, zorder=5)
        if run.status == "inconsistent":
            ax.axvspan(run.first_ts, run.last_ts, color=STATUS_COLOURS["inconsistent"], alpha=0.07,
                       linewidth=0)
    latest = rows.iloc[-1]
    state = (f"declared {fmt_interval(latest.declared_low, latest.declared_high)}, itemised "
             f"{fmt_interval(latest.sum_low, latest.sum_high)} ({fmt_difference(latest.difference)}),"
             f" {latest.status}") if isinstance(latest.status, str) else "absent"
    ax.set_title(f"{name} — latest: {state}", loc="left")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.005, 1.0))


def _draw_parts(ax, rows: pd.DataFrame, name: str) -> None:
    parts = list(dict.fromkeys(rows["part"]))
    styles = ["-", "--", ":", "-."]
    for i, (part, colour) in enumerate(zip(parts, _palette(len(parts)), strict=True)):
        line = rows[rows["part"] == part].sort_values(["ts", "rev_id"])
        ax.step(line["ts"], line["low"], where="post", color=colour, linewidth=1.1,
                linestyle=styles[(i // 20) % len(styles)], label=str(part))
    ax.set_title(f"{name} — itemised parts ({len(parts)})", loc="left")
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.005, 1.0),
              ncol=2 if len(parts) > 12 else 1)
