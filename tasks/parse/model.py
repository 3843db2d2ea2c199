"""What parsing gives: plain data, no parsing here (the bottom of the parsing package).

Every other module of :mod:`tasks.parse` may import this one; it imports nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Bump when the derived rows would change: stored revisions with an older version are re-derived.
PARSER_VERSION = 3  # 3: typed categories (before/after the number, equipment, combined), one renderer
# 2: reversed ranges ordered, over-long digit runs are not quantities


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


@dataclass
class ParsedRevision:
    """Everything derived from one revision's text."""

    infoboxes: list[ParsedInfobox]
    issues: list[dict]  # keys: box_idx, field, severity, code, message, raw

    @property
    def has_infobox(self) -> bool:
        return bool(self.infoboxes)


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
