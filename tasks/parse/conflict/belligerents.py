"""Belligerents: who fought on which side, from the combatant fields. Pure.

A party is a line with a flag, a link or words; a bold line is a heading: a support heading
('''支持：''', Supported by:) switches the role to support, any other bold heading names the
coalition of the lines below it in the block, as does the title of a {{Collapsible list}}.
A parenthetical period ("（2012–17）", "2017年至今", "(2013–present)") is kept apart from the name.
"""

from __future__ import annotations

import re

from tasks.parse.render import MARKER_RE, Line

_SUPPORT_RE = re.compile(r"^(支持|支援|援助|supported by|support|backed by|soutien|unterstützt)", re.I)
_GENERIC_TITLES = {"列表", "完整列表", "列表：", "list", "full list", "展开", "展開", "more", "others",
                   "其他"}
_PERIOD_RE = re.compile(
    r"[（(]\s*((?:\d{4}(?:年)?\s*(?:[-–—－~至到]\s*(?:\d{2,4}(?:年)?|至今|present|今))?|\d{4}年?至今)"
    r"(?:\s*(?:年)?至今|\s*–\s*present)?)\s*[)）]|"
    r"(\d{4}年至今|\d{4}年?\s*[-–—]\s*(?:\d{2,4}年?|present|至今))", re.I)


def _period(text: str) -> tuple[str | None, str]:
    """(period as written, text without it)."""
    match = _PERIOD_RE.search(text)
    if not match:
        return None, text
    return match.group(0).strip(), (text[:match.start()] + text[match.end():]).strip()


def field_belligerents(field: str, side: int | None, lines: list[Line]) -> list[dict]:
    rows: list[dict] = []
    role, heading, block = "combatant", None, None
    for line in lines:
        if line.block != block:
            role, heading, block = "combatant", None, line.block
        text = MARKER_RE.sub("", line.text).strip()
        bold_only = line.bold and text.strip("：: ") == " ".join(line.bold).strip("：: ")
        if bold_only or (_SUPPORT_RE.match(text) and not line.entity and not line.link):
            if _SUPPORT_RE.match(text):
                role = "support"
            else:
                heading = text.strip("：: ")
            continue
        if not line.entity and re.fullmatch(r"[（(][^（()）]*[)）]", text):
            continue  # a description of the party above: （MNLA）
        period, rest = _period(text)
        name = rest.strip(" ：:*-–,，、") or line.entity or ""
        if line.link_label and line.link_label in rest and len(rest) <= len(line.link_label) + 2:
            name = line.link_label
        if not name:
            continue
        coalition = line.list_title if line.list_title and line.list_title.strip("：: ").lower() \
            not in _GENERIC_TITLES else heading
        rows.append({
            "field": field, "side": side if side is not None else 0, "seq": len(rows),
            "name": name, "country_code": None if line.flag_image else line.country_code,
            "coalition": coalition, "role": role, "period": period, "link": line.link,
            "raw": line.raw.strip(),
        })
    return rows
