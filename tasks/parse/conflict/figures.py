"""Figures: every number in strength, casualties, units and notes, with its meaning. Pure.

Per field: lines (tasks.parse.render) → quantities (numbers.py) → categories (categories.py) → rows with entity,
category, qualifier, as-of date, refs; then totals and their parts:
- a line with a total word (总计, Total…) declares a total; the figures above it in the block are
  its parts (an exhaustive breakdown). A total word alone on its line labels the next line.
- a figure followed by list items with figures (a {{Collapsible list}} — exhaustive — or bullets
  — partial) is a block head: a total whose parts are those items.
- a quantity inside parentheses (（战前：约12,150人）) annotates its entity and is not a part.
Words instead of numbers (多人, many, unknown) give a figure with NULL low/high and an issue.
"""

from __future__ import annotations

import re
from collections import OrderedDict

from tasks.parse.conflict.categories import number_category, read_words, split_between
from tasks.parse.conflict.numbers import Quantity, find_quantities
from tasks.parse.render import MARKER_RE, Line, marker_index

_TOTAL_RE = re.compile(r"总计|總計|合计|合計|共计|共計|总共|總共|总数|總數|\btotal\b|\boverall\b", re.I)
_VAGUE_RE = re.compile(r"多人|数人|數人|数百|數百|数千|數千|大量|不详|不詳|未知|"
                       r"\bmany\b|\bseveral\b|\bunknown\b|\bdozens\b|\bhundreds\b|\bthousands\b", re.I)
_AS_OF_RE = re.compile(
    r"[（(]\s*(?:as of\s+|截至|截止)?((?:\d{4}年(?:\d{1,2}月)?(?:\d{1,2}日)?)|"
    r"(?:(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+)?\d{4})\s*[)）]", re.I)
_PAREN_RE = re.compile(r"[（(][^（()）]*[)）]")
# A figure keeps a copy of its wikitext line; on a line with more numbers than this, only its own
# text (so parse time and memory stay linear in the size of a field).
_MAX_LINE_COPIES = 20
# A field holds at most this many figures (the rest is reported as one issue): no real infobox comes
# near it (the corpus's largest field holds 130), and it bounds the time and memory of hostile text.
MAX_FIGURES_PER_FIELD = 5000
# The words that say what a number counts stand beside it: at most this many characters are read.
_WORDS_WINDOW = 300


# Quantities of a line by (text, lang): (found, complete). The same lines recur in every revision
# of a history; a bounded memo (oldest out first).
_QUANTITIES: OrderedDict[tuple[str, str | None], tuple[list[Quantity], bool]] = OrderedDict()
_QUANTITIES_MAX = 8192
_QUANTITIES_MAX_LINE = 1000


def _quantities(text: str, lang: str | None, limit: int) -> list[Quantity]:
    """find_quantities(text, lang, limit=limit), read once per line text. A reading that stopped
    before its limit found them all, so it answers any limit; one cut at its limit answers
    limits up to it."""
    key = (text, lang)
    held = _QUANTITIES.get(key)
    if held is not None and (held[1] or limit <= len(held[0])):
        try:
            _QUANTITIES.move_to_end(key)
        except KeyError:  # dropped meanwhile by another thread: the reading still stands
            pass
        return held[0][:limit]
    found = find_quantities(text, lang, limit=limit)
    if len(text) > _QUANTITIES_MAX_LINE:
        return found  # a huge line is not kept: the memo's memory stays bounded
    _QUANTITIES[key] = (found, len(found) < limit)
    if len(_QUANTITIES) > _QUANTITIES_MAX:
        _QUANTITIES.popitem(last=False)
    return found[:limit]


def _paren_flags(text: str, positions: list[int]) -> list[bool]:
    """For each position (ascending), whether it stands inside parentheses. One pass: linear."""
    flags: list[bool] = []
    depth = 0
    cursor = 0
    for pos in positions:
        for ch in text[cursor:pos]:
            if ch in "(（":
                depth += 1
            elif ch in ")）" and depth:
                depth -= 1
        cursor = max(cursor, pos)
        flags.append(depth > 0)
    return flags


def _label_before(text: str, start: int) -> str | None:
    """Entity named in words before the first number: "博科圣地：100人" → 博科圣地."""
    label = MARKER_RE.sub("", text[:start])
    label = _PAREN_RE.sub("", label)
    label = _TOTAL_RE.sub("", label)
    label = re.sub(r"[：:，,、*\s]+$", "", label).strip(" ：:*-–")
    if not label or re.fullmatch(r"[\W\d_]+", label) or len(label) > 60:
        return None
    return label


def _label_after(text: str, end: int) -> str | None:
    """A trailing parenthetical naming the group: "约500人（FLNA）" → FLNA."""
    match = re.match(r"\s*(?:人|名)?\s*[（(]([^（()）\d]{1,40})[)）]", MARKER_RE.sub("", text[end:end + 200]))
    return match.group(1).strip() if match else None


_ARMY_AFTER_RE = re.compile(r"\s*(?:人|名)?\s*([\u4e00-\u9fff]{1,6}?(?:軍|军))(?![\u4e00-\u9fff])")
_NAME_AFTER_RE = re.compile(r"\s*([A-Z][a-z]{2,}(?:\s[A-Z][a-z]{2,})?)(?![\w-])")


def _name_after(text: str, end: int) -> str | None:
    """A party named right after its number: "5萬 楚軍" → 楚軍, "9,000 Athenians" → Athenians
    (not a category word: "300 Killed" names nobody)."""
    rest = MARKER_RE.sub("", text[end:end + 40])
    match = _ARMY_AFTER_RE.match(rest) or _NAME_AFTER_RE.match(rest)
    if match is None or read_words(match.group(1)).people or read_words(match.group(1)).specific():
        return None
    return match.group(1)


def _refs_between(line: Line, start: int, end: int) -> list[str]:
    return [line.refs[marker_index(c)] for c in MARKER_RE.findall(line.text[start:end])]


# Rows of one line by everything they depend on (its text, the field, and what the lines above it
# in its block left: the entity, the label, a pending total). In a history the same lines come
# back revision after revision, in the same places: a bounded memo, oldest out first.
_LINE_ROWS: OrderedDict[tuple, tuple[tuple[dict, ...], tuple[dict, ...], bool]] = OrderedDict()
_LINE_ROWS_MAX = 8192


def _line_reading(field: str, role: str, side: int | None, line: Line, lang: str | None, room: int,
                  block_entity: tuple[str | None, str | None], label: str | None,
                  pending_total: bool) -> tuple[tuple[dict, ...], tuple[dict, ...], bool]:
    """_read_line, once per line and context: (rows, issues, has a total word). The rows and
    issues are the memo's: copy them before changing them."""
    # A line cannot hold more figures than characters: any larger room reads it the same way.
    key = (field, role, side, lang, min(room, len(line.text) + 1), block_entity, label,
           pending_total, line.text, line.raw, line.entity, line.country_code, tuple(line.refs),
           line.list_title)
    found = _LINE_ROWS.get(key)
    if found is not None:
        try:
            _LINE_ROWS.move_to_end(key)
        except KeyError:  # dropped meanwhile by another thread: the reading still stands
            pass
        return found
    rows, issues, has_total_word = _read_line(field, role, side, line, lang, room, block_entity,
                                              label, pending_total)
    found = (tuple(rows), tuple(issues), has_total_word)
    if len(line.text) + len(line.raw) <= 2 * _QUANTITIES_MAX_LINE:
        _LINE_ROWS[key] = found
        if len(_LINE_ROWS) > _LINE_ROWS_MAX:
            _LINE_ROWS.popitem(last=False)
    return found


def _read_line(field: str, role: str, side: int | None, line: Line, lang: str | None, room: int,
               block_entity: tuple[str | None, str | None], label: str | None,
               pending_total: bool) -> tuple[list[dict], list[dict], bool]:
    """The rows and issues of one line of a field, and whether it holds a total word. Pure."""
    issues: list[dict] = []
    text = line.text
    quantities = _quantities(text, lang, room)
    vague = [m for m in _VAGUE_RE.finditer(text)
             if not any(q.start <= m.start() < q.end for q in quantities)]
    has_total_word = bool(_TOTAL_RE.search(line.plain))
    as_of_match = _AS_OF_RE.search(MARKER_RE.sub("", text))
    as_of = as_of_match.group(1) if as_of_match else None
    # Every quantity or vague word, in order: the words between two of them are shared.
    spots = sorted([(q.start, q.end, q) for q in quantities]
                   + [(m.start(), m.end(), m) for m in vague], key=lambda spot: spot[0])
    in_parens = _paren_flags(text, [spot[0] for spot in spots])
    lead = MARKER_RE.sub("", text[max(0, spots[0][0] - _WORDS_WINDOW):spots[0][0]]) if spots else ""
    context = " ".join(x for x in (line.list_title, label) if x)
    own_line = len(spots) <= _MAX_LINE_COPIES
    current: list[dict] = []
    before = lead
    for i, (start, end, spot) in enumerate(spots):
        next_start = spots[i + 1][0] if i + 1 < len(spots) else len(text)
        between = MARKER_RE.sub("", text[end:min(next_start, end + _WORDS_WINDOW)])
        after, next_before = split_between(between) if i + 1 < len(spots) else (between, "")
        annotation = in_parens[i]
        inherit = current[-1]["category"] if annotation and current else None
        category = number_category(role, after, before, lead, context, inherit)
        before = next_before
        is_total = (has_total_word or pending_total) and not annotation
        entity, code = line.entity, line.country_code
        if entity is None and not annotation:
            entity = _label_before(text, spots[0][0]) or (
                (_label_after(text, end) or _name_after(text, end)) if isinstance(spot, Quantity)
                else None)
        if entity is None and not is_total:
            entity, code = block_entity  # "400人被俘" goes on about the flag above it
        refs = _refs_between(line, end, next_start)
        raw = line.raw.strip() if own_line else MARKER_RE.sub("", text[start:min(next_start, end + _WORDS_WINDOW)]).strip()
        if isinstance(spot, Quantity):
            current.append(_row(field, side, line, spot.low, spot.high, spot.qualifier,
                                category, annotation, entity, code, as_of, refs, is_total, raw))
        else:
            current.append(_row(field, side, line, None, None, "approx", category, False,
                                entity, code, as_of, refs, False, raw))
            issues.append({"field": field, "severity": "warning", "code": "vague_number",
                           "message": f"{field}: '{spot.group(0)}' is not a number; "
                                      "stored with no value",
                           "raw": raw[:500]})
    return current, issues, has_total_word


def field_figures(field: str, role: str, side: int | None, lines: list[Line],
                  lang: str | None = None) -> tuple[list[dict], list[dict]]:
    """Rows of the figures table (without wiki/rev_id/box_idx) and parse issues for one field."""
    rows: list[dict] = []
    issues: list[dict] = []
    line_rows: list[list[dict]] = []  # rows of each line, parallel to lines
    counted = 0  # figures read so far
    pending_total = False
    last_entity: dict[int, tuple[str | None, str | None]] = {}
    label: dict[int, str] = {}  # per block: the last line without numbers (a label for the next)
    for line in lines:
        room = MAX_FIGURES_PER_FIELD - counted
        if room <= 0:
            break
        held, held_issues, has_total_word = _line_reading(
            field, role, side, line, lang, room, last_entity.get(line.block, (None, None)),
            label.get(line.block), pending_total)
        # Copies: the totals below change them. The memo's rows were read at another block number.
        current = [{**row, "block": line.block} for row in held]
        issues.extend(dict(issue) for issue in held_issues)
        if not current:  # (every number or vague word gives a row)
            plain = line.plain
            if plain and not line.refs:
                label[line.block] = plain[:80]
        if current:
            pending_total = False
            if line.entity is not None:
                last_entity[line.block] = (line.entity, line.country_code)
        elif has_total_word:
            pending_total = True  # a total label alone on its line: the number is on the next
        elif line.refs and line_rows and line_rows[-1] \
                and lines[len(line_rows) - 1].block == line.block:
            # Refs after a <br/> (…人阵亡<br/><small>（…）</small><ref/>) cite the figure above.
            line_rows[-1][-1]["ref_names"] = line_rows[-1][-1]["ref_names"] + list(line.refs)
        line_rows.append(current)
        counted += len(current)
    if counted >= MAX_FIGURES_PER_FIELD:
        issues.append({"field": field, "severity": "warning", "code": "too_many_figures",
                       "message": f"{field}: {MAX_FIGURES_PER_FIELD:,} numbers or more; only the first "
                                  f"{MAX_FIGURES_PER_FIELD:,} are stored",
                       "raw": None})
    _link_totals(lines, line_rows)
    for row in (r for group in line_rows for r in group):
        row["seq"] = len(rows)
        rows.append(row)
    _resolve_parents(rows)
    return rows, issues


def _row(field, side, line: Line, low, high, qualifier, category, annotation, entity, code,
         as_of, refs, is_total, raw) -> dict:
    return {"field": field, "side": side, "block": line.block, "entity": entity,
            "country_code": code, "category": category, "low": low, "high": high,
            "qualifier": qualifier, "as_of": as_of, "is_total": is_total,
            "is_annotation": annotation, "raw": raw, "ref_names": refs,
            "breakdown": None}


def _link_totals(lines: list[Line], line_rows: list[list[dict]]) -> None:
    """Mark block heads and attach parts to totals (by object identity; seq comes later)."""
    n = len(lines)
    # Block heads: one top-level figure followed by list/bullet items with figures.
    for i in range(n):
        head_rows = [r for r in line_rows[i] if not r["is_annotation"]]
        if len(head_rows) != 1 or head_rows[0]["is_total"] or lines[i].in_list or lines[i].bullet:
            continue
        parts: list[dict] = []
        exhaustive = False
        j = i + 1
        while j < n and lines[j].block == lines[i].block and (lines[j].in_list or lines[j].bullet):
            parts += [r for r in line_rows[j] if not r["is_annotation"]]
            exhaustive = exhaustive or lines[j].in_list
            j += 1
        if j == i + 1 or not parts:
            continue
        head = head_rows[0]
        head["is_total"] = True
        head["breakdown"] = "exhaustive" if exhaustive else "partial"
        for part in parts:
            part["_parent"] = head
    # Labelled totals: the figures above them in the block are their parts.
    for i in range(n):
        for total in (r for r in line_rows[i] if r["is_total"] and r["breakdown"] is None):
            total["breakdown"] = "exhaustive"
            for k in range(i - 1, -1, -1):
                if lines[k].block != lines[i].block:
                    break
                for row in line_rows[k]:
                    if not row["is_annotation"] and "_parent" not in row and not row["is_total"]:
                        row["_parent"] = total
                    elif row["is_total"]:
                        row.setdefault("_parent", total)


def _resolve_parents(rows: list[dict]) -> None:
    for row in rows:
        parent = row.pop("_parent", None)
        row["parent_seq"] = parent["seq"] if parent is not None else None
