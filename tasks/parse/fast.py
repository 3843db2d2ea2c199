"""The fast path of infobox parsing: never parse the same parameter text twice.

Most revisions of a long history leave the infobox alone, and an edit inside it changes one or two
parameters. So instead of parsing a 40-100 KB revision with mwparserfromhell, this module

1. finds the infobox templates with a small brace scanner (no full parse),
2. splits each into parameters the way mwparserfromhell does (top-level ``|`` and ``=``),
3. looks each parameter up in a memo keyed by its exact text (plus, for named refs it re-uses,
   the definitions found elsewhere in the article), and parses only the parameters it has not
   seen, one small value at a time.

It gives up (returns None) on anything it cannot mirror exactly — triple braces, an infobox nested
in another template, unbalanced braces — and the caller then takes the readable slow path
(:func:`tasks.parse.slow.parse_revision`). Tests assert both paths agree on every corpus file.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import replace

import mwparserfromhell

from tasks.parse.citations import (
    NO_DEFINITIONS,
    CitationIndex,
    definition_spans,
    merge_citations,
    resolve_citations,
)
from tasks.parse.conflict import read_value
from tasks.parse.model import ParsedField, ParsedInfobox, ParsedRevision, make_issue
from tasks.parse.names import is_conflict_template, is_infobox_name
from tasks.parse.render import split_lines
from tasks.parse.scan import GiveUp, split_template
from tasks.parse.segments import SegmentMemo, segmented_lines
from tasks.parse.skip import MARGIN

_OPEN_RE = re.compile(r"\{\{")
_NAME_RE = re.compile(r"\{\{\s*([^|{}]*)")
_LEVEL_RE = re.compile(r"\{\{|\}\}|<!--.*?(?:-->|\Z)|<nowiki\b[^>]*>.*?</nowiki\s*>",
                       re.DOTALL | re.IGNORECASE)
_UNSAFE = ("{{{", "<pre", "<source", "<syntaxhighlight", "<math", "<includeonly", "<onlyinclude",
           "<noinclude", "{|")


# [(template name, [(name_raw, value_raw, kind)], start, end)] of a revision's infoboxes.
Located = list[tuple[str, list[tuple[str, str, str]], int, int]]
# Characters an edit must not touch (with MARGIN around it) to leave the infoboxes' parameters
# where they are: every token of locate_infoboxes and split_template holds one of them.
_STRUCTURE_RE = re.compile(r"[{}<>|\[\]=]")
# How far from the edit they must be: a doubled token (``{{ }} [[ ]]``) needs one of its characters
# next to the edit to be made or unmade, and a token ending in ``>`` can be completed by editing the
# two characters before it (``-->``, ``/>``); tokens opened by ``<`` are handled by the tag test.
_BEFORE, _AFTER = 1, 2
_NAME_END_RE = re.compile(r"[|{}]")


def relocate(old: str, new: str, located: Located, stretch: tuple[int, int, int]) -> Located | None:
    """``located`` (the infoboxes of ``old``) as they are in ``new``, when the two differ only by
    an edit (``stretch``: tasks.parse.skip.changed_stretch) inside one infobox's parameter values
    that touches no markup: that value is patched (or, if it cannot be found by the parameters'
    lengths, the infobox split again), the others only move — no scan of the whole revision.
    None when unsure: then locate_infoboxes.

    Why that is enough: without ``{ } < > | [ ] =`` in the edit or just around it,
    no brace, link, tag, comment, ``<nowiki>``, separator or equals sign appears or vanishes, so
    the templates, their nesting and their parameters stay; outside a template's name and a tag
    (checked as in tasks.parse.skip) no name changes, so no template becomes or stops being an
    infobox."""
    start, end_old, end_new = stretch
    if (_STRUCTURE_RE.search(old, max(0, start - _BEFORE), end_old + _AFTER) is not None
            or _STRUCTURE_RE.search(new, max(0, start - _BEFORE), end_new + _AFTER) is not None):
        return None
    opening = new.rfind("{{", 0, start)
    if opening >= 0 and _NAME_END_RE.search(new, opening + 2, start) is None:
        return None  # inside a template's name
    if new.rfind("<", 0, start) > new.rfind(">", 0, start):
        return None  # inside a tag
    delta = end_new - end_old
    moved: Located = []
    for name, params, a, b in located:
        if b + MARGIN <= start:
            moved.append((name, params, a, b))
        elif a >= end_old + MARGIN:
            moved.append((name, params, a + delta, b + delta))
        elif a + MARGIN <= start and end_old + MARGIN <= b:
            edited = _edited_params(old, new, params, b, stretch)
            if edited is None:  # not inside one value, as far as the lengths tell: split again
                try:
                    end, raw_name, edited = split_template(new, a)
                except GiveUp:
                    return None
                if end != b + delta or raw_name.strip() != name:
                    return None
            moved.append((name, edited, a, b + delta))
        else:
            return None
    return moved


def _edited_params(old: str, new: str, params: list[tuple[str, str, str]], end: int,
                   stretch: tuple[int, int, int]) -> list[tuple[str, str, str]] | None:
    """``params`` (of the template of ``old`` ending at ``end``) with the edit applied to the one
    value that holds it, found from the end by their lengths (split_template cuts the template's
    text at one ``|`` per parameter and one ``=`` per name, so they tile it exactly); None when
    the value is not found there or its text is not what ``old`` holds."""
    start, end_old, end_new = stretch
    position = end - 2  # the closing braces
    for i in range(len(params) - 1, -1, -1):
        key, value, kind = params[i]
        value_start = position - len(value)
        if value_start <= start:
            if end_old > position or old[value_start:position] != value:
                return None
            changed = value[:start - value_start] + new[start:end_new] + value[end_old - value_start:]
            return [*params[:i], (key, changed, kind), *params[i + 1:]]
        position = value_start - (len(key) + 2 if kind == "named" else 1)  # "|name=" or "|"
    return None


def locate_infoboxes(text: str, lang: str | None) -> Located:
    """Top-level infobox templates: [(name, params, start, end)]. Raises GiveUp when unsure."""
    if any(marker in text for marker in _UNSAFE):
        raise GiveUp("construct not mirrored")
    found = []
    depth = 0
    position = 0
    all_infobox_names = 0
    for match in _OPEN_RE.finditer(text):
        name = _NAME_RE.match(text, match.start(), match.start() + 300)
        if name and is_infobox_name(name.group(1).strip(), lang):
            all_infobox_names += 1
    while True:
        match = _LEVEL_RE.search(text, position)
        if match is None:
            break
        token = match.group(0)
        if token == "{{" and depth == 0:
            end, name, params = split_template(text, match.start())
            if is_infobox_name(name.strip(), lang):
                found.append((name.strip(), params, match.start(), end))
            position = end
            continue
        position = match.end()
        if token == "{{":
            depth += 1
        elif token == "}}":
            depth = max(0, depth - 1)
    if len(found) != all_infobox_names:
        raise GiveUp("an infobox inside another template")
    return found


class FieldMemo:
    """Parsed parameters by exact text: (raw, text, conflict rows, issues). Bounded LRU.

    Small on purpose: unchanged parameters stay at the recent end and keep hitting, while the
    superseded versions of a changing parameter (a strength list can hold 300 rows) fall out, so
    memory stays flat however long the history (20,000 entries: 1.8 GB on a 20,000-revision
    history; 1,024 or 256: flat; 256 keeps ~6 versions of each of ~40 parameters, enough for
    reverts, and holds ~15 MB instead of ~60 MB; measured in docs/BENCHMARKS.md).
    """

    def __init__(self, max_entries: int = 256, segments: bool = True):
        self.max_entries = max_entries
        self._entries: OrderedDict = OrderedDict()
        self.hits = 0
        self.misses = 0
        # Lines of long values by exact text (tasks.parse.segments): an edit re-reads one line.
        self.segments = SegmentMemo() if segments else None

    def clear(self) -> None:
        self._entries.clear()
        if self.segments is not None:
            self.segments.clear()

    def get(self, key):
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            self.hits += 1
        return found

    def put(self, key, value) -> None:
        self.misses += 1
        self._entries[key] = value
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


def _lines(value_raw: str, citations: CitationIndex | None, segments: SegmentMemo | None) -> list:
    """The value's lines, piece by piece when it splits (tasks.parse.segments), else whole
    (always whole with ``segments`` None: the comparison in benchmarks/parse_equality.py)."""
    lines = segmented_lines(value_raw, citations, segments) if segments is not None else None
    if lines is None:
        lines = split_lines(mwparserfromhell.parse(value_raw), citations)
    return lines


class _Article:
    """The article's named ref definitions, found once and only when a parameter needs them."""

    def __init__(self, text: str):
        self.text = text
        self._spans: dict | None = None
        self.definitions: dict[str, str] = {}
        self.used: set[str] = set()

    def resolve(self, names: tuple[str, ...]) -> tuple[str | None, ...]:
        if self._spans is None:
            self._spans = definition_spans(self.text)
            self.definitions = {name: content for name, (content, _span) in self._spans.items()}
        self.used.update(names)
        return tuple(self.definitions.get(name) for name in names)

    def used_spans(self) -> list[tuple[int, int]]:
        return sorted(self._spans[name][1] for name in self.used if name in (self._spans or {}))


def _field(memo: FieldMemo, template: str, kind: str, name_raw: str, value_raw: str,
           lang: str | None, article: _Article) -> ParsedField:
    """A parameter read once per exact text; the refs it names but does not define are looked up
    in the article afterwards (tasks.parse.citations.resolve_citations), so an edited reference
    elsewhere re-reads no figure."""
    name = name_raw.strip()
    conflict = kind == "military_conflict"
    key = (lang, kind, template if conflict else "", name, value_raw)
    entry = memo.get(key)
    if entry is None:
        citations = CitationIndex(article.text, shared=NO_DEFINITIONS) if conflict else None
        reading = read_value(name, value_raw, lang, conflict, citations,
                             lines_of=lambda used: _lines(value_raw, used, memo.segments))
        base = ParsedField(name, value_raw, reading.text, reading.belligerents, reading.figures,
                           list(citations.rows.values()) if citations is not None else [],
                           reading.issues)
        entry = (base, tuple(dict.fromkeys(citations.resolved)) if citations is not None else (), {})
        memo.put(key, entry)
    base, resolved, variants = entry
    if not resolved:
        return base
    contents = article.resolve(resolved)
    found = variants.get(contents)
    if found is None:
        rows = resolve_citations(base.citations, list(resolved), dict(zip(resolved, contents, strict=True)))
        found = base if rows is base.citations else replace(base, citations=rows, _value_id=None)
        if len(variants) < 16:
            variants[contents] = found
    return found


def parse_revision_fast(text: str, lang: str | None, memo: FieldMemo) -> ParsedRevision | None:
    """Same result as tasks.parse.slow.parse_revision, or None when the fast path cannot be sure.

    The parameters come from the memo as shared :class:`ParsedField` objects: read, never change.
    """
    try:
        located = locate_infoboxes(text, lang)
    except GiveUp:
        return None
    return parse_located(text, lang, memo, located)


def parse_located(text: str, lang: str | None, memo: FieldMemo, located: Located) -> ParsedRevision:
    """:func:`parse_revision_fast` once the infoboxes are located (by :func:`locate_infoboxes`,
    or by :func:`relocate` from the previous revision's)."""
    boxes: list[ParsedInfobox] = []
    issues: list[dict] = []
    article = _Article(text)
    for box_idx, (template, params, _start, _end) in enumerate(located):
        kind = "military_conflict" if is_conflict_template(template, lang) else "generic"
        box = ParsedInfobox(box_idx=box_idx, template=template, kind=kind, params=[])
        for name_raw, value_raw, _positional in params:
            result = _field(memo, template, kind, name_raw, value_raw, lang, article)
            box.fields.append(result)
            box.params.append((result.name, result.raw, result.text))
            # The parameter's own rows (shared with the memo, like all of a reading: read only).
            box.belligerents.extend(result.belligerents)
            box.figures.extend(result.figures)
            issues.extend({**i, "box_idx": box_idx} for i in result.issues)
        if kind == "military_conflict":
            box.citations = merge_citations([f.citations for f in box.fields])
        boxes.append(box)
    own = []
    if not boxes:
        own.append(make_issue("no_infobox", "no infobox template found in this revision",
                              severity="info"))
    return ParsedRevision(boxes, issues + own, own, spans=[(a, b) for _n, _p, a, b in located],
                          definition_spans=article.used_spans())
