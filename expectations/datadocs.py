"""Make GX's Data Docs site usable offline, and make its index list the validations.

GX 1.x writes pages that load Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega from CDNs,
and fills the index's validation table from JavaScript; offline the pages are unstyled and the
index lists nothing. After each build, every page of the site is rewritten:

- ``<link>``/``<script>`` to http(s) and every script are dropped (the pages are static HTML;
  their only scripts drew the index table and charts with those CDN libraries), GX's logo image
  and CSS ``url(https://…)`` point at the copy GX already puts in ``static/``;
- a local stylesheet, ``static/styles/offline.css`` (ours), lays out the pages' tables;
- the index gets a static table of the latest validation of every suite — status, the problems
  (GX's unexpected count) out of the rows or values checked, a link — and every earlier one.

Idempotent: rewriting a rewritten page changes nothing. No request leaves the machine.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

MARK = "<!-- infobox-offline -->"
_REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref=[\"']https?://[^>]*>", re.I)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.I | re.S)
_REMOTE_IMG = re.compile(r"(<img\b[^>]*\bsrc=[\"'])https?://[^\"']*(logo[^\"'?]*\.png)[^\"']*", re.I)
_REMOTE_URL = re.compile(r"url\(\s*['\"]?https?://[^)]*\)", re.I)
_INDEX_SECTION = re.compile(r"<section id=\"infobox-validations\">.*?</section>", re.S)

OFFLINE_CSS = """/* infobox-pipeline: local layout for GX Data Docs (no CDN). */
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:.3em .6em;
vertical-align:top;text-align:left}th{background:#f3f3f3}.container-fluid,.row{display:block}
.card{border:1px solid #ddd;margin:.6em 0;padding:.6em}.text-danger{color:#b00020}
.text-success{color:#176917}.d-none,.modal,.fade:not(.show){display:none}img{max-width:240px}
nav{border-bottom:1px solid #ddd;margin-bottom:1em}ul{padding-left:1.2em}
#infobox-validations .failed{color:#b00020;font-weight:bold}#infobox-validations .passed{color:#176917}
"""


def _relative(page: Path, site: Path, target: str) -> str:
    return Path(os.path.relpath(site / target, page.parent)).as_posix()


def offline_html(text: str, css_href: str, logo_href: str) -> str:
    """One page without remote assets or scripts, with the local stylesheet linked once."""
    text = _REMOTE_LINK.sub("", text)
    text = _SCRIPT.sub("", text)
    text = _REMOTE_IMG.sub(lambda m: m.group(1) + logo_href, text)
    text = _REMOTE_URL.sub("none", text)
    if MARK not in text:
        text = text.replace("</head>", f"{MARK}<link rel=\"stylesheet\" href=\"{css_href}\">\n</head>", 1)
    return text


def _validations(site: Path) -> list[dict]:
    """Every validation page of the site with its stored result (status, counts), newest first."""
    store = site.parent.parent / "validations"  # gx/uncommitted/validations, beside data_docs/
    found = []
    for page in (site / "validations").rglob("*.html"):
        rel = page.relative_to(site / "validations")
        suite = ".".join(rel.parts[:-3])
        stored = store / rel.with_suffix(".json")
        success, problems, checked = None, None, None
        if stored.exists():
            data = json.loads(stored.read_text(encoding="utf-8"))
            success = data.get("success")
            results = data.get("results") or [{}]
            result = results[0].get("result") or {}
            problems = result.get("unexpected_count", result.get("observed_value"))
            checked = result.get("element_count")
        found.append({"suite": suite, "run_time": rel.parts[-2], "href": "validations/" + rel.as_posix(),
                      "success": success, "problems": problems, "checked": checked})
    return sorted(found, key=lambda v: v["run_time"], reverse=True)


def _index_section(validations: list[dict]) -> str:
    def row(v: dict) -> str:
        status = {True: ("passed", "passed"), False: ("failed", "failed")}.get(v["success"], ("", "?"))
        checked = "" if v["checked"] is None else f" of {v['checked']:,}"
        problems = "" if v["problems"] is None else f"{v['problems']}{checked}"
        return (f"<tr><td class=\"{status[0]}\">{status[1]}</td><td><a href=\"{html.escape(v['href'])}\">"
                f"{html.escape(v['suite'])}</a></td><td>{html.escape(v['run_time'])}</td>"
                f"<td>{html.escape(problems)}</td></tr>")

    head = "<tr><th>status</th><th>suite</th><th>run time (UTC)</th><th>problems of checked</th></tr>"
    latest, seen = [], set()
    for v in validations:
        if v["suite"] not in seen:
            seen.add(v["suite"])
            latest.append(v)
    latest.sort(key=lambda v: (v["success"] is not False, v["suite"]))
    return ("<section id=\"infobox-validations\"><h2>Validations</h2>"
            f"<p>Latest validation of each suite ({len(latest)}), failed first:</p>"
            f"<table>{head}{''.join(row(v) for v in latest)}</table>"
            f"<details><summary>All {len(validations)} validations, newest first</summary>"
            f"<table>{head}{''.join(row(v) for v in validations)}</table></details></section>")


def make_offline(site: Path) -> None:
    """Rewrite the Data Docs site under ``site`` (the folder of its index.html) for offline use."""
    site = Path(site)
    css = site / "static" / "styles" / "offline.css"
    css.parent.mkdir(parents=True, exist_ok=True)
    css.write_text(OFFLINE_CSS, encoding="utf-8")
    for sheet in (site / "static" / "styles").glob("*.css"):
        text = sheet.read_text(encoding="utf-8")
        if _REMOTE_URL.search(text):
            sheet.write_text(_REMOTE_URL.sub("none", text), encoding="utf-8")
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = offline_html(text, _relative(page, site, "static/styles/offline.css"),
                           _relative(page, site, "static/images/logo-long.png"))
        if new != text:
            page.write_text(new, encoding="utf-8")
    index = site / "index.html"
    if index.exists():
        text = _INDEX_SECTION.sub("", index.read_text(encoding="utf-8"))
        text = re.sub(r"(<body\b[^>]*>)", lambda m: m.group(1) + _index_section(_validations(site)),
                      text, count=1)
        index.write_text(text, encoding="utf-8")
