"""A parameter value read line by line: each top-level line parsed and rendered once per exact text.

An edit inside an infobox usually changes one line of one long parameter (a strength list of 22
itemised parts, each with refs and flags). :func:`segmented_lines` splits the raw value at the
newlines where nothing is open — no ``{…}``, ``[…]``, tag, comment, ``<nowiki>``, bold or italics
spans them — parses and renders each piece once per exact text (:class:`SegmentMemo`), and joins
the pieces' :class:`~tasks.parse.render.Line` lists as :func:`tasks.parse.render.split_lines`
gives them for the whole value: block numbers are offset by the ``----`` seen before, and the refs
each piece met are replayed in order onto the value's :class:`CitationIndex`. What reads across
lines (figures, totals, belligerent headings) still runs on the joined lines.

The scanner is conservative: where it is unsure whether something stays open it does not split,
and a piece that cannot be rendered makes the caller take the whole-value path. Tests assert both
give the same lines on every corpus parameter and on random one-line edits of them
(tests/test_segments.py).
"""

from __future__ import annotations

import re
from collections import OrderedDict

import mwparserfromhell
from mwparserfromhell.parser import tokens

from tasks.parse.citations import CitationIndex, ref_entry
from tasks.parse.names import normalize_template_name
from tasks.parse.render import Line, list_lines, split_lines, template_rule
from tasks.parse.scan import GiveUp, split_template

_TOKEN_RE = re.compile(r"<!--.*?(?:-->|\Z)|<nowiki\b[^>]*>.*?(?:</nowiki\s*>|\Z)|"
                       r"<(/?)([A-Za-z][\w-]*)\b[^<>]*?(/?)>|\{\{|\}\}|\[\[|\]\]|[\[\]]|'{2,}|\n",
                       re.DOTALL | re.IGNORECASE)
_CLOSERS = {"}}": "{{", "]]": "[[", "]": "["}
# Tags that never hold content (mwparserfromhell's "single only" tags).
_VOID_TAGS = {"br", "wbr", "hr", "meta", "link", "img"}
# Only worth splitting a value with at least this many newlines.
_MIN_NEWLINES = 2


def split_segments(raw: str) -> list[str] | None:
    """The value cut at its top-level newlines (the newlines dropped), or None if it has none.

    What is open is a stack, as in the parser: a closer ends only the innermost opener of its
    kind (``}}`` inside a ``<ref>`` or a link's label ends nothing); any other closer is text."""
    if raw.count("\n") < _MIN_NEWLINES:
        return None
    cuts: list[int] = []
    stack: list[str] = []  # "{{", "[[", "[" or a tag name, innermost last
    ticks: list[tuple[int, tuple[str, ...]]] = []  # apostrophe runs since the last cut
    for match in _TOKEN_RE.finditer(raw):
        token = match.group(0)
        first = token[0]
        if first == "\n":
            if stack:
                continue
            if not _ticks_paired(ticks):
                break  # bold or italics may run on: no more cuts
            cuts.append(match.start())
            ticks = []
        elif token in ("{{", "[[", "["):
            stack.append(token)
        elif token in _CLOSERS:
            if stack and stack[-1] == _CLOSERS[token]:
                stack.pop()
        elif first == "'":
            ticks.append((len(token), tuple(stack)))
        elif match.group(2) is not None:
            name = match.group(2).lower()
            if name in _VOID_TAGS or match.group(3):
                continue
            if not match.group(1):
                stack.append(name)
            elif stack and stack[-1] == name:
                stack.pop()
        elif token.startswith("<!--") and not token.endswith("-->"):
            break  # an unclosed comment hides the rest
        elif token.lower().startswith("<nowiki") and not re.search(r"</nowiki\s*>\Z", token, re.I):
            break
    if not cuts:
        return None
    pieces = []
    start = 0
    for cut in cuts:
        pieces.append(raw[start:cut])
        start = cut + 1
    pieces.append(raw[start:])
    return pieces


def _ticks_paired(ticks: list[tuple[int, tuple[str, ...]]]) -> bool:
    """Bold/italics open and closed on the piece: runs of '' ''' ''''' in equal pairs, each pair
    at one nesting level."""
    if not ticks:
        return True
    if len(ticks) % 2:
        return False
    for i in range(0, len(ticks), 2):
        (n1, level1), (n2, level2) = ticks[i], ticks[i + 1]
        if n1 != n2 or n1 not in (2, 3, 5) or level1 != level2:
            return False
    return True


class _Recorder:
    """Stands for a CitationIndex while a piece is rendered: notes each ref to replay later."""

    def __init__(self):
        self.entries: list[tuple[str, str | None, bool]] = []

    def add(self, node) -> str:
        entry = ref_entry(node)
        self.entries.append(entry)
        return entry[0]


_RENDER_ERRORS = (RecursionError, ValueError, TypeError, IndexError, KeyError, AttributeError)


class _Failed:
    """A piece whose rendering raised: the whole value must be read instead."""


_FAILED = _Failed()


class SegmentMemo:
    """Rendered pieces by (exact text, refs recorded or not): (lines, blocks, ref entries).

    An LRU bounded in entries and in the characters of the pieces it holds (a line holds about
    three times its piece), so a hostile history of huge values keeps memory flat. The lines are
    shared: read, never change."""

    def __init__(self, max_entries: int = 4096, max_chars: int = 4_000_000, _top: bool = True):
        self.max_entries = max_entries
        self.max_chars = max_chars
        self._entries: OrderedDict = OrderedDict()
        self._chars = 0
        self.hits = 0
        self.misses = 0
        # Items of list templates, read one by one (:func:`_render_list`): a quarter of the
        # characters (a list holds tens of short items; the superseded ones fall out).
        self.items = SegmentMemo(max_entries, max_chars // 4, _top=False) if _top else None

    def clear(self) -> None:
        self._entries.clear()
        self._chars = 0
        if self.items is not None:
            self.items.clear()

    def _kept(self, key: tuple):
        """The entry under ``key`` (now the most recent), or None; counts the hit or miss."""
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            self.hits += 1
        else:
            self.misses += 1
        return found

    def render(self, piece: str, with_refs: bool):
        key = (piece, with_refs)
        found = self._kept(key)
        if found is not None:
            return found
        found = _render_list(piece, with_refs, self.items) if self.items is not None else None
        if found is None:
            recorder = _Recorder() if with_refs else None
            try:
                lines, blocks = _render_piece(piece, recorder)
                found = (lines, blocks, tuple(recorder.entries) if recorder is not None else ())
            except _RENDER_ERRORS:
                found = _FAILED
        self._keep(key, found)
        return found

    def item(self, value: str, title: str | None, with_refs: bool):
        """(lines, blocks, ref entries) of one item of a list template titled ``title``."""
        key = (value, with_refs, title)
        found = self._kept(key)
        if found is not None:
            return found
        recorder = _Recorder() if with_refs else None
        try:
            lines, blocks = list_lines(mwparserfromhell.parse(value), title, recorder)
            found = (tuple(lines), blocks, tuple(recorder.entries) if recorder is not None else ())
        except _RENDER_ERRORS:
            found = _FAILED
        self._keep(key, found)
        return found

    def _keep(self, key: tuple, found) -> None:
        if len(key[0]) > self.max_chars // 8:
            return
        self._entries[key] = found
        self._chars += len(key[0])
        while len(self._entries) > self.max_entries or self._chars > self.max_chars:
            old_key, _found = self._entries.popitem(last=False)
            self._chars -= len(old_key[0])


def _render_piece(piece: str, recorder: _Recorder | None) -> tuple[tuple[Line, ...], int]:
    """Lines of one piece (blocks from 0) and how many blocks it advances."""
    lines, blocks = split_lines(mwparserfromhell.parse(piece), recorder, with_blocks=True)
    return tuple(lines), blocks


def _moved(line: Line, blocks: int) -> Line:
    """A copy of ``line`` (sharing its lists, as dataclasses.replace does) ``blocks`` blocks on;
    without replace's call of __init__, which was most of the cost of joining pieces."""
    moved = object.__new__(Line)
    moved.__dict__.update(line.__dict__)
    moved.block = line.block + blocks
    return moved


def _join(rendered) -> tuple[tuple[Line, ...], int, tuple] | None:
    """Rendered parts one after the other: (lines with block numbers offset, blocks, ref entries);
    None if a part failed."""
    out: list[Line] = []
    entries: list = []
    block = 0
    for found in rendered:
        if found is _FAILED:
            return None
        lines, blocks, part_entries = found
        out.extend(_moved(line, block) for line in lines) if block else out.extend(lines)
        block += blocks
        entries.extend(part_entries)
    return tuple(out), block, tuple(entries)


_PARAM_TOKENS = (tokens.TemplateParamSeparator, tokens.TemplateParamEquals)


def _top_level_params(piece: str) -> tuple[int, int] | None:
    """(separators, equals) of the outermost template of ``piece`` as mwparserfromhell's C
    tokenizer reads them (no tree is built: the builder is the slow part of a parse)."""
    tokenizer = mwparserfromhell.parser.Parser()._tokenizer
    depth = separators = equals = 0
    for token in tokenizer.tokenize(piece, 0, False):
        kind = type(token)
        if kind is tokens.TemplateOpen or kind is tokens.ArgumentOpen:
            depth += 1
        elif kind is tokens.TemplateClose or kind is tokens.ArgumentClose:
            depth -= 1
        elif depth == 1 and kind in _PARAM_TOKENS:
            if kind is tokens.TemplateParamSeparator:
                separators += 1
            else:
                equals += 1
    return separators, equals


def _render_list(piece: str, with_refs: bool, items: SegmentMemo):
    """A piece that is one list template ({{Collapsible list}}, {{plainlist}}, …: blank text
    around it at most) read item by item, each item once per exact text; None when the piece is
    not one, or when the scanner (tasks.parse.scan) and mwparserfromhell's tokenizer do not split
    it into the same parameters — then the caller renders it whole.

    Whole, the renderer drops the blank lines around the template and gives each positional
    parameter the lines :func:`tasks.parse.render.list_lines` gives it; the title is the first
    ``title=`` parameter's plain text."""
    body = piece.strip()
    if not (body.startswith("{{") and body.endswith("}}")) or "{{{" in body:
        return None
    try:
        end, name, params = split_template(body, 0)
    except GiveUp:
        return None
    rule = template_rule(normalize_template_name(name))
    if end != len(body) or rule is None or rule["kind"] != "list":
        return None
    named = sum(1 for _name, _value, kind in params if kind == "named")
    if _top_level_params(body) != (len(params), named):
        return None
    titles = [value for key, value, kind in params if kind == "named" and key.strip() == "title"]
    title = mwparserfromhell.parse(titles[0]).strip_code().strip() if titles else None
    return _join([items.item(value, title, with_refs)
                  for _key, value, kind in params if kind == "positional"])


def segmented_lines(raw: str, citations: CitationIndex | None, memo: SegmentMemo) -> list[Line] | None:
    """split_lines(mwparserfromhell.parse(raw), citations), piece by piece; None when the value
    does not split or a piece cannot be rendered (then ``citations`` is left untouched)."""
    pieces = split_segments(raw)
    if pieces is None:
        if not raw.lstrip().startswith("{{"):
            return None
        pieces = [raw]  # one template: read item by item if it is a list
    joined = _join([memo.render(piece, citations is not None) for piece in pieces])
    if joined is None:
        return None
    lines, _blocks, entries = joined
    if citations is not None:
        for entry in entries:
            citations.add_entry(*entry)
    return list(lines)
