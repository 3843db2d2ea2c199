"""The memo that picks a path: whole texts by SHA-1, an edit of prose recognised without parsing
(tasks.parse.skip), else the fast path, else the slow path."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import replace

from tasks.parse.fast import FieldMemo, GiveUp, Located, locate_infoboxes, parse_located, relocate
from tasks.parse.model import ParsedRevision
from tasks.parse.skip import changed_stretch, unchanged_reading
from tasks.parse.slow import parse_revision


class ParseCache:
    """Memo of parse results: whole texts by (language, SHA-1), parameters by their exact text.

    Histories revert often (about one edit in seven on busy articles), so a revert's reading is
    copied; most other edits change only prose, and the text just parsed is compared with the
    previous one to see that (the previous reading is reused); an edit inside the infobox changes
    one or two parameters, so only changed parameters are parsed (tasks.parse.fast). The readable
    slow path runs when the fast path cannot mirror the text exactly; all give the same rows
    (tests/test_fastparse.py, tests/test_skip.py). Results are shared between revisions: read
    them, never change them.
    """

    def __init__(self, max_entries: int = 16, fast: bool = True):
        self.max_entries = max_entries
        self.fast = fast
        self.fields = FieldMemo()
        # (language, SHA-1) → the reading and where its infoboxes are (None: the slow path's).
        self._entries: OrderedDict[tuple[str | None, str],
                                   tuple[ParsedRevision, Located | None]] = OrderedDict()
        self._last: tuple[str | None, str, ParsedRevision, Located | None] | None = None
        self.hits = 0
        self.misses = 0
        self.slow = 0
        self.unchanged = 0  # edits recognised as leaving the infoboxes alone
        self.relocated = 0  # edits inside an infobox's values, found without scanning the revision

    def clear(self) -> None:
        """Forget every memo (the counters stay)."""
        self._entries.clear()
        self.fields.clear()
        self._last = None

    def parse(self, text: str | None, lang: str | None, sha1: str | None = None) -> ParsedRevision:
        if text is None:
            return parse_revision(None, lang)
        key = (lang, sha1 or hashlib.sha1(text.encode("utf-8")).hexdigest())
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            self.hits += 1
            self._last = (lang, text, *found)
            return found[0]
        self.misses += 1
        parsed, located = self._same_as_last(text, lang) if self.fast else (None, None)
        if parsed is None and self.fast:
            located = self._relocated(text, lang)
            if located is None:
                try:
                    located = locate_infoboxes(text, lang)
                except GiveUp:
                    located = None
            if located is not None:
                parsed = parse_located(text, lang, self.fields, located)
        if parsed is None:
            self.slow += 1
            parsed = parse_revision(text, lang)
        self._entries[key] = (parsed, located)
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        self._last = (lang, text, parsed, located)
        return parsed

    def _same_as_last(self, text: str, lang: str | None) -> tuple[ParsedRevision | None, Located | None]:
        if self._last is None:
            return None, None
        last_lang, last_text, last, located = self._last
        if last_lang != lang or last.spans is None or last.definition_spans is None:
            return None, None
        moved = unchanged_reading(last_text, text, last.spans, last.definition_spans)
        if moved is None:
            return None, None
        self.unchanged += 1
        if located is not None:  # same parameters, moved with the infoboxes
            located = [(name, params, a, b) for (name, params, _a, _b), (a, b)
                       in zip(located, moved[0], strict=True)]
        return (replace(last, spans=moved[0], definition_spans=moved[1], _state_id=last._state_id),
                located)

    def _relocated(self, text: str, lang: str | None) -> Located | None:
        """The previous revision's infoboxes found in ``text`` without a scan (fast.relocate)."""
        if self._last is None or self._last[3] is None or self._last[0] != lang:
            return None
        last_text, located = self._last[1], self._last[3]
        found = relocate(last_text, text, located, changed_stretch(last_text, text))
        if found is not None:
            self.relocated += 1
        return found
