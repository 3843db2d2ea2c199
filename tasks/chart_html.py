"""The interactive chart page: Plotly with plotly.js embedded, so it works offline.

Why Plotly: plotly.js ships inside the Python wheel (no CDN, no extra binary to fetch), step
lines, hover templates that carry the revision, user and edit summary, and shared-x subplots
give one panel per declared total with its own y scale. The page allows only its own two inline
scripts (Content-Security-Policy with their SHA-256 hashes): no request can leave the machine.
Wiki text (users, comments, titles) is HTML-escaped in the tables and in the hover text (which
Plotly renders as a subset of HTML), and the figure's JSON cannot close its <script> element.
"""

from __future__ import annotations

import base64
import hashlib
import html
from pathlib import Path

import pandas as pd

from tasks.charts import (
    DECLARED_COLOUR,
    ITEMISED_COLOUR,
    STATUS_COLOURS,
    fmt_difference,
    fmt_interval,
    fmt_number,
    latest_states,
    render_png,
    slug,
    sort_problems_first,
    state_runs,
)

FONT = "DejaVu Sans, WenQuanYi Micro Hei, Noto Sans CJK SC, sans-serif"
HOVER = ("rev %{customdata[0]} · %{x|%Y-%m-%d %H:%M}<br>%{customdata[1]}: %{customdata[2]}<br>"
         "declared %{customdata[3]} · itemised %{customdata[4]} (%{customdata[5]}) · "
         "%{customdata[6]}<extra>%{fullData.name}</extra>")
PART_HOVER = ("rev %{customdata[0]} · %{x|%Y-%m-%d %H:%M}<br>%{fullData.name}: "
              "%{customdata[1]}<extra></extra>")


def _text(value) -> str:
    """Wiki text for Plotly's HTML-subset labels: escaped, so it shows as written."""
    return html.escape(str(value)) if isinstance(value, str) else ""


def _plain(value) -> str:
    return value if isinstance(value, str) else ""


def _hover_data(rows: pd.DataFrame) -> list[list]:
    return [[int(r.rev_id), _text(r.user_name) or "(no user)", _text(r.comment) or "(no summary)",
             fmt_interval(r.declared_low, r.declared_high), fmt_interval(r.sum_low, r.sum_high),
             fmt_difference(r.difference), r.status if isinstance(r.status, str) else "absent"]
            for r in rows.itertuples()]


def build_figure(frame: pd.DataFrame, title: str, field: str | None = None,
                 entities: pd.DataFrame | None = None):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    names = list(dict.fromkeys(frame["series"]))
    panels = []
    for name in names:
        panels.append(("total", name))
        if entities is not None and (entities["series"] == name).any():
            panels.append(("parts", name))
    runs = state_runs(frame)
    titles = []
    for kind, name in panels:
        if kind == "parts":
            titles.append(html.escape(f"{name} — itemised parts"))
            continue
        latest = frame[frame["series"] == name].sort_values(["ts", "rev_id"]).iloc[-1]
        state = (f"declared {fmt_interval(latest.declared_low, latest.declared_high)}, itemised "
                 f"{fmt_interval(latest.sum_low, latest.sum_high)} "
                 f"({fmt_difference(latest.difference)}), {latest.status}"
                 if isinstance(latest.status, str) else "absent in the newest revision")
        titles.append(html.escape(f"{name} — latest: {state}"))
    fig = make_subplots(rows=len(panels), cols=1, shared_xaxes=True, subplot_titles=titles,
                        vertical_spacing=min(0.08, 0.3 / max(len(panels), 1)))
    for row, (kind, name) in enumerate(panels, start=1):
        first = row == 1
        if kind == "parts":
            _add_parts(fig, go, entities[entities["series"] == name], row)
            continue
        rows = frame[frame["series"] == name].sort_values(["ts", "rev_id"])
        hover = _hover_data(rows)
        for column, label, colour, dash in (("declared_low", "declared", DECLARED_COLOUR, "solid"),
                                            ("sum_low", "itemised sum", ITEMISED_COLOUR, "dash")):
            fig.add_trace(go.Scatter(
                x=rows["ts"], y=rows[column], name=label, legendgroup=label, showlegend=first,
                mode="lines", line={"shape": "hv", "color": colour, "dash": dash, "width": 2},
                connectgaps=False, customdata=hover, hovertemplate=HOVER), row=row, col=1)
        changes = runs[runs["series"] == name]
        if not changes.empty:
            status = list(changes["status"])
            fig.add_trace(go.Scatter(
                x=list(changes["first_ts"]) * 2,
                y=list(changes["declared_low"]) + list(changes["sum_low"]),
                mode="markers", name="state changes", legendgroup="changes", showlegend=first,
                marker={"color": [STATUS_COLOURS.get(s, "#7f7f7f") for s in status] * 2,
                        "symbol": ["x" if s == "inconsistent" else "circle" for s in status] * 2,
                        "size": 9},
                customdata=[[int(c.first_rev), _text(c.user_name) or "(no user)",
                             _text(c.comment) or "(no summary)",
                             fmt_interval(c.declared_low, c.declared_high),
                             fmt_interval(c.sum_low, c.sum_high), fmt_difference(c.difference),
                             c.status] for c in changes.itertuples()] * 2,
                hovertemplate=HOVER), row=row, col=1)
        fig.update_yaxes(tickformat=",~f", row=row, col=1)
    heading = f"{title}{' · ' + field if field else ''}: declared totals and itemised sums"
    fig.update_layout(
        title={"text": html.escape(heading)}, height=140 + 260 * len(panels),
        font={"family": FONT}, hovermode="closest", template="plotly_white",
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1.0, "xanchor": "right"},
        margin={"t": 110, "l": 70, "r": 30, "b": 50})
    for annotation in fig.layout.annotations:  # subplot titles: left-aligned, smaller
        annotation.update(x=0, xanchor="left", font={"size": 12})
    return fig


def _add_parts(fig, go, rows: pd.DataFrame, row: int) -> None:
    import plotly.express as px

    colours = px.colors.qualitative.Alphabet + px.colors.qualitative.Dark24
    parts = list(dict.fromkeys(rows["part"]))
    for i, part in enumerate(parts):
        line = rows[rows["part"] == part].sort_values(["ts", "rev_id"])
        fig.add_trace(go.Scatter(
            x=line["ts"], y=line["low"], name=_text(part), legendgroup=f"part{row}-{i}",
            mode="lines", line={"shape": "hv", "color": colours[i % len(colours)], "width": 1.3},
            connectgaps=False, showlegend=False,
            customdata=[[int(r.rev_id), fmt_interval(r.low, r.high)] for r in line.itertuples()],
            hovertemplate=PART_HOVER), row=row, col=1)


def _json_for_script(fig) -> str:
    import plotly.io as pio

    text = pio.to_json(fig, validate=False, pretty=False)
    # Inside <script>, "</script>" or "<!--" in wiki text would end the element: escape < > &.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"


def _cell(value: str, cls: str = "") -> str:
    return f"<td{' class=' + cls if cls else ''}>{html.escape(value)}</td>"


def _tables(frame: pd.DataFrame) -> str:
    latest = latest_states(frame)
    head = ("<tr><th>total</th><th>declared</th><th>itemised sum</th><th>difference</th>"
            "<th>status</th><th>revision</th></tr>")
    body = "".join(
        "<tr>" + _cell(r.series) + _cell(fmt_interval(r.declared_low, r.declared_high), "n")
        + _cell(fmt_interval(r.sum_low, r.sum_high), "n") + _cell(fmt_difference(r.difference), "n")
        + _cell(r.status, r.status) + _cell(str(int(r.rev_id)), "n") + "</tr>"
        for r in latest.itertuples())
    runs = sort_problems_first(state_runs(frame))
    run_head = ("<tr><th>total</th><th>declared</th><th>itemised sum</th><th>difference</th>"
                "<th>status</th><th>from revision</th><th>time (UTC)</th><th>user</th>"
                "<th>edit summary</th><th>revisions</th><th>until revision</th></tr>")
    run_body = "".join(
        "<tr>" + _cell(r.series) + _cell(fmt_interval(r.declared_low, r.declared_high), "n")
        + _cell(fmt_interval(r.sum_low, r.sum_high), "n") + _cell(fmt_difference(r.difference), "n")
        + _cell(r.status, r.status) + _cell(str(r.first_rev), "n")
        + _cell(f"{r.first_ts:%Y-%m-%d %H:%M}") + _cell(_plain(r.user_name))
        + _cell(_plain(r.comment)) + _cell(fmt_number(r.n_revisions), "n")
        + _cell(str(r.last_rev), "n") + "</tr>"
        for r in runs.itertuples())
    return (f"<h2>Newest revision, problems first</h2><table id='latest'>{head}{body}</table>"
            f"<h2>Every change of state ({len(runs)}), problems first</h2>"
            "<p>Consecutive revisions in which a total's declared value, itemised sum and status "
            "stay the same are one row.</p>"
            f"<table id='changes'>{run_head}{run_body}</table>")


def render_html(frame: pd.DataFrame, title: str, path: Path, field: str | None = None,
                entities: pd.DataFrame | None = None) -> Path:
    from plotly.offline import get_plotlyjs

    fig = build_figure(frame, title, field, entities)
    library = get_plotlyjs()
    plot = ("(function(f){Plotly.newPlot('chart',f.data,f.layout,{responsive:true,displaylogo:false})})("
            + _json_for_script(fig) + ");")
    n_revisions = frame["rev_id"].nunique()
    n_series = frame["series"].nunique()
    policy = (f"default-src 'none'; script-src {_sha256(library)} {_sha256(plot)}; "
              "style-src 'unsafe-inline'; img-src data:; font-src data:")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{policy}\">"
        f"<title>{html.escape(title)} — totals over revisions</title><style>"
        f"body{{font-family:{FONT};margin:1.5em}} table{{border-collapse:collapse;margin:.5em 0 1.5em}}"
        "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left} td.n{text-align:right}"
        "td.inconsistent{color:#b00;font-weight:bold} td.absent{color:#777}</style></head><body>"
        f"<h1>{html.escape(title)}{' · ' + html.escape(field) if field else ''}</h1>"
        f"<p>{n_series} declared total(s) over {fmt_number(n_revisions)} revisions. Solid: declared; "
        "dashed: sum of the itemised parts; a marker where the state changes (✕ inconsistent). "
        "Hover a line for the revision, user and edit summary; drag to zoom, double-click to reset.</p>"
        f"<div id='chart'></div><script>{library}</script><script>{plot}</script>"
        f"{_tables(frame)}</body></html>", encoding="utf-8")
    return path


def render_history_chart(frame: pd.DataFrame, title: str, out_dir: Path, field: str | None = None,
                         entities: pd.DataFrame | None = None) -> tuple[Path, Path]:
    """Write ``<slug>.png`` (static) and ``<slug>.html`` (interactive, offline) to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = slug(title, field) + ("-entities" if entities is not None else "")
    png = render_png(frame, title, out_dir / f"{name}.png", field, entities)
    page = render_html(frame, title, out_dir / f"{name}.html", field, entities)
    return png, page
