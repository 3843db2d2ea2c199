"""The memo that picks a path: whole texts by SHA-1, else the fast path, else the slow path."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from tasks.parse.fast import FieldMemo, parse_revision_fast
from tasks.parse.model import ParsedRevision
from tasks.parse.slow import parse_revision


class ParseCache:
    """Memo of parse results: whole texts by (language, SHA-1), parameters by their exact text.

    Histories revert often (about one edit in seven on busy articles), so a revert's rows are
    copied; most other edits leave the infobox alone or change one parameter, so only changed
    parameters are parsed (tasks.parse.fast). The readable slow path runs when the fast path
    cannot mirror the text exactly; both give the same rows (tests/test_fastparse.py).
    """

    def __init__(self, max_entries: int = 16, fast: bool = True):
        self.max_entries = max_entries
        self.fast = fast
        self.fields = FieldMemo()
        self._entries: OrderedDict[tuple[str | None, str], ParsedRevision] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self.slow = 0

    def clear(self) -> None:
        """Forget every memo (the counters stay)."""
        self._entries.clear()
        self.fields.clear()

    def parse(self, text: str | None, lang: str | None, sha1: str | None = None) -> ParsedRevision:
        if text is None:
            return parse_revision(None, lang)
        key = (lang, sha1 or hashlib.sha1(text.encode("utf-8")).hexdigest())
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            self.hits += 1
            return found
        self.misses += 1
        parsed = parse_revision_fast(text, lang, self.fields) if self.fast else None
        if parsed is None:
            self.slow += 1
            parsed = parse_revision(text, lang)
        self._entries[key] = parsed
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return parsed
