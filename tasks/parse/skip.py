"""Recognise, without parsing, an edit that cannot change what the infoboxes say.

Most revisions of a history edit the article's prose. The fast path's reading of a revision
depends only on (a) its infobox templates — where they are, their text —, (b) the definitions of
the named refs those infoboxes re-use, and (c) whether the text holds a construct the brace
scanner does not mirror (tasks/parse/fast.py). So when a new text differs from the previous one
only in a stretch of plain prose, its reading is the previous one: that is decided here with a
few C-level string operations (common prefix and suffix by binary search on slices, ``find``,
one character-class search), instead of scanning every template of a 40-100 KB text.

The changed stretch is safe when, in both texts, it and the ``MARGIN`` characters on each side
hold none of ``{ } < > |``, it touches no infobox and no re-used definition, it is not inside a
template's name (an edit there could make a template an infobox), and not inside a tag or an
open comment (the last ``<`` before it is closed by a ``>``). Why that is enough: every token
the scanner reads (``{{``, ``}}``, ``{|``, ``{{{``, ``|``, comments, ``<ref``, ``<nowiki``, the
unsafe tags) holds one of those characters, and those that also hold letters begin with ``<``
(caught by the tag test, however long the tag name) or end with ``-->`` (caught by the margin),
so no token can appear, vanish or be joined across the stretch's ends. Anything else returns
None and the caller parses. tests/test_skip.py checks the verdicts against full parses.
"""

from __future__ import annotations

import re

MARGIN = 3  # "-->": the longest token whose markup character is not at its start
_MARKUP_RE = re.compile(r"[{}<>|]")

Spans = list[tuple[int, int]]


def changed_stretch(old: str, new: str) -> tuple[int, int, int]:
    """(start, end in old, end in new) of the part that differs: old[:start] == new[:start] and
    old[end_old:] == new[end_new:], with the common prefix and suffix as long as possible."""
    n = min(len(old), len(new))
    lo, hi = 0, n
    while lo < hi:  # longest common prefix; invariant old[:lo] == new[:lo]
        mid = (lo + hi + 1) // 2
        if old[lo:mid] == new[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    start = lo
    lo, hi = 0, n - start
    len_old, len_new = len(old), len(new)
    while lo < hi:  # longest common suffix not overlapping the prefix
        mid = (lo + hi + 1) // 2
        if old[len_old - mid:len_old - lo] == new[len_new - mid:len_new - lo]:
            lo = mid
        else:
            hi = mid - 1
    return start, len_old - lo, len_new - lo


def _clear(text: str, start: int, end: int) -> bool:
    return _MARKUP_RE.search(text, max(0, start - MARGIN), end + MARGIN) is None


def _shift(spans: Spans, start: int, end_old: int, delta: int) -> Spans | None:
    """Spans moved by the edit, or None when the edit (with the margin) touches one."""
    moved = []
    for a, b in spans:
        if b + MARGIN <= start:
            moved.append((a, b))
        elif a >= end_old + MARGIN:
            moved.append((a + delta, b + delta))
        else:
            return None
    return moved


def unchanged_reading(old: str, new: str, spans: Spans, definition_spans: Spans
                      ) -> tuple[Spans, Spans] | None:
    """When ``new`` must read exactly like ``old`` (whose infobox and re-used definition spans
    are given), their spans in ``new``; else None."""
    if old == new:
        return list(spans), list(definition_spans)
    start, end_old, end_new = changed_stretch(old, new)
    if not (_clear(old, start, end_old) and _clear(new, start, end_new)):
        return None
    delta = end_new - end_old
    moved = _shift(spans, start, end_old, delta)
    moved_definitions = _shift(definition_spans, start, end_old, delta)
    if moved is None or moved_definitions is None:
        return None
    # Inside a template's name: the last "{{" before the edit is not yet followed by "|" or "}".
    opening = new.rfind("{{", 0, start)
    if opening >= 0 and new.find("|", opening, start) < 0 and new.find("}", opening, start) < 0:
        return None
    # Inside a tag: the last "<" before the edit is not closed by a ">".
    if new.rfind("<", 0, start) > new.rfind(">", 0, start):
        return None
    return moved, moved_definitions
