"""Split a template's wikitext into its name and parameters, as mwparserfromhell does, with one
C-level regular expression instead of a parse (top-level ``|`` and ``=``; comments, ``<nowiki>``
and whole ``<ref>`` tags skipped). Used by the fast path to find infobox parameters
(tasks/parse/fast.py) and by the segment memo to read list templates item by item
(tasks/parse/segments.py); both check or test their use against mwparserfromhell.
"""

from __future__ import annotations

import re

_TOKEN_RE = re.compile(r"<!--.*?(?:-->|\Z)|<nowiki\b[^>]*>.*?</nowiki\s*>|<ref\b[^>/]*/>|"
                       r"<ref\b[^>]*>.*?</ref\s*>|\{\{|\}\}|\[\[|\]\]|\||=",
                       re.DOTALL | re.IGNORECASE)


class GiveUp(Exception):
    """The text has a construct the scanner does not mirror exactly."""


def split_template(text: str, start: int) -> tuple[int, str, list[tuple[str, str, str]]]:
    """Scan the template opening at ``start``: (end, name, [(name_raw, value_raw, kind)])."""
    depth_braces, depth_links = 0, 0
    segments: list[tuple[int, int, int | None]] = []  # (start, end, first '=' offset)
    seg_start = None
    eq = None
    for match in _TOKEN_RE.finditer(text, start):
        token = match.group(0)
        if token == "{{":
            depth_braces += 1
            if depth_braces == 1 and match.start() == start:
                seg_start = match.end()
                continue
        elif token == "}}":
            depth_braces -= 1
            if depth_braces == 0:
                segments.append((seg_start, match.start(), eq))
                return match.end(), text[segments[0][0]:segments[0][1]], _params(text, segments)
        elif token == "[[":
            depth_links += 1
        elif token == "]]":
            depth_links = max(0, depth_links - 1)
        elif token == "|" and depth_braces == 1 and depth_links == 0:
            segments.append((seg_start, match.start(), eq))
            seg_start, eq = match.end(), None
        elif token == "=" and depth_braces == 1 and depth_links == 0 and eq is None and len(segments) > 0:
            eq = match.start()
        if depth_braces < 0:
            raise GiveUp("unbalanced braces")
    raise GiveUp("template not closed")


def _params(text: str, segments: list[tuple[int, int, int | None]]) -> list[tuple[str, str, str]]:
    params = []
    position = 0
    for seg_start, seg_end, eq in segments[1:]:
        if eq is None:
            position += 1
            params.append((str(position), text[seg_start:seg_end], "positional"))
        else:
            params.append((text[seg_start:eq], text[eq + 1:seg_end], "named"))
    return params
