"""The memo that picks a path: whole texts by SHA-1, an edit of prose recognised without parsing
(tasks.parse.skip), else the fast path, else the slow path."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import replace

from tasks.parse.fast import FieldMemo, parse_revision_fast
from tasks.parse.model import ParsedRevision
from tasks.parse.skip import unchanged_reading
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
        self._entries: OrderedDict[tuple[str | None, str], ParsedRevision] = OrderedDict()
        self._last: tuple[str | None, str, ParsedRevision] | None = None
        self.hits = 0
        self.misses = 0
        self.slow = 0
        self.unchanged = 0  # edits recognised as leaving the infoboxes alone

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
            self._last = (lang, text, found)
            return found
        self.misses += 1
        parsed = self._same_as_last(text, lang) if self.fast else None
        if parsed is None:
            parsed = parse_revision_fast(text, lang, self.fields) if self.fast else None
            if parsed is None:
                self.slow += 1
                parsed = parse_revision(text, lang)
        self._entries[key] = parsed
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        self._last = (lang, text, parsed)
        return parsed

    def _same_as_last(self, text: str, lang: str | None) -> ParsedRevision | None:
        if self._last is None:
            return None
        last_lang, last_text, last = self._last
        if last_lang != lang or last.spans is None or last.definition_spans is None:
            return None
        moved = unchanged_reading(last_text, text, last.spans, last.definition_spans)
        if moved is None:
            return None
        self.unchanged += 1
        return replace(last, spans=moved[0], definition_spans=moved[1], _state_id=last._state_id)
