"""What parsing gives: plain data, no parsing here (the bottom of the parsing package).

Every other module of :mod:`tasks.parse` may import this one; it imports nothing of ours.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

# Bump when the derived rows would change: stored revisions with an older version are re-derived.
PARSER_VERSION = 4  # 4: rows stored once per distinct field value (content-addressed warehouse)
# 3: typed categories (before/after the number, equipment, combined), one renderer
# 2: reversed ranges ordered, over-long digit runs are not quantities


def content_id(value) -> int:
    """A signed 64-bit id of ``value``'s ``repr`` (BLAKE2b): the warehouse's content address."""
    digest = hashlib.blake2b(repr(value).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _canonical(rows: list[dict]) -> tuple:
    return tuple(tuple(sorted(row.items())) for row in rows)


@dataclass
class ParsedField:
    """One parameter of an infobox and everything read from it (the unit stored once)."""

    name: str
    raw: str
    text: str
    belligerents: list[dict] = field(default_factory=list)
    figures: list[dict] = field(default_factory=list)
    citations: list[dict] = field(default_factory=list)  # this parameter's own refs
    issues: list[dict] = field(default_factory=list)  # without box_idx
    _value_id: int | None = field(default=None, repr=False, compare=False)

    @property
    def value_id(self) -> int:
        """Content address of everything this parameter gives: equal rows, equal id."""
        if self._value_id is None:
            self._value_id = content_id((self.name, self.raw, self.text, _canonical(self.belligerents),
                                         _canonical(self.figures), _canonical(self.citations),
                                         _canonical(self.issues)))
        return self._value_id


@dataclass
class ParsedInfobox:
    """One infobox of a revision."""

    box_idx: int
    template: str
    kind: str  # military_conflict | generic
    params: list[tuple[str, str, str]]  # (name, raw, text) in template order
    belligerents: list[dict] = field(default_factory=list)
    figures: list[dict] = field(default_factory=list)
    citations: list[dict] = field(default_factory=list)
    fields: list[ParsedField] = field(default_factory=list)  # one per param, same order


@dataclass
class ParsedRevision:
    """Everything derived from one revision's text.

    ``issues`` holds every issue; ``own_issues`` those not read from a parameter (no_infobox,
    no_text, parser_error), which belong to the revision's state rather than to a field value.
    ``spans`` are the infoboxes' (start, end) offsets in the text and ``definition_spans`` those
    of the ref definitions the infoboxes re-use, when the fast path found them (else None): what
    lets an edit elsewhere be recognised without parsing (tasks.parse.skip).
    """

    infoboxes: list[ParsedInfobox]
    issues: list[dict]  # keys: box_idx, field, severity, code, message, raw
    own_issues: list[dict] = field(default_factory=list)
    spans: list[tuple[int, int]] | None = field(default=None, compare=False)
    definition_spans: list[tuple[int, int]] | None = field(default=None, compare=False)
    _state_id: int | None = field(default=None, repr=False, compare=False)

    @property
    def has_infobox(self) -> bool:
        return bool(self.infoboxes)

    @property
    def state_id(self) -> int:
        """Content address of the revision's whole reading: its infoboxes (template, kind and the
        value id of each parameter, in order) and its own issues."""
        if self._state_id is None:
            self._state_id = content_id((
                tuple((box.template, box.kind, tuple(f.value_id for f in box.fields))
                      for box in self.infoboxes),
                _canonical(self.own_issues)))
        return self._state_id


def make_issue(code: str, message: str, *, severity: str = "warning", box_idx: int | None = None,
               field_name: str | None = None, raw: str | None = None) -> dict:
    """A row of ``parse_issues`` (without wiki/rev_id): nothing unread is dropped silently."""
    return {
        "box_idx": box_idx,
        "field": field_name,
        "severity": severity,
        "code": code,
        "message": message,
        "raw": raw[:500] if raw else raw,
    }
