"""Military-conflict semantics of an infobox: belligerents, figures, citations. Pure functions.

Stages (each a module, each with golden tests on real wikitext):

| stage | module | gives |
|---|---|---|
| what a parameter means | ../names.py (data/templates.toml) | field, role, side |
| blocks and lines, what a reader sees | ../render.py (data/inline_templates.toml) | Line |
| read quantities | numbers.py | low, high, qualifier |
| what a quantity counts | categories.py (data/categories.toml) | category |
| figures, totals and their parts | figures.py | figures rows |
| parties on each side | belligerents.py | belligerents rows |
| refs and cite templates | ../citations.py | citations rows |
| flags → ISO 3166-1 alpha-3 | ../countries.py (data/country_aliases.toml) | codes |

:func:`read_value` never raises on bad wikitext: problems become issues.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tasks.parse.citations import CitationIndex
from tasks.parse.conflict.belligerents import field_belligerents
from tasks.parse.conflict.figures import field_figures
from tasks.parse.names import canonical_field
from tasks.parse.render import render_text, split_lines

__all__ = ["FieldReading", "read_value"]

# What a broken value can raise inside the renderer or the semantics; anything else is a bug.
READ_ERRORS = (RecursionError, ValueError, TypeError, IndexError, KeyError, AttributeError)


@dataclass
class FieldReading:
    """One parameter read: its plain text and, in a conflict infobox, what it says."""

    text: str
    belligerents: list[dict] = field(default_factory=list)
    figures: list[dict] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)


def read_value(name: str, code, lang: str | None, conflict_box: bool,
               citations: CitationIndex | None, lines_of=None) -> FieldReading:
    """Read one parameter value (a parsed Wikicode) of an infobox.

    In a military-conflict infobox, a parameter that carries belligerents or figures is also read
    for them, and its refs are recorded in ``citations``; every other parameter only gives text.
    ``lines_of(citations)``, when given, stands for ``split_lines(code, citations)`` (the fast
    path renders a value piece by piece, tasks.parse.segments; ``code`` may then be its raw text).
    """
    mapped = canonical_field(name, lang) if conflict_box else None
    if mapped is not None and mapped[1] == "commander":
        mapped = None
    try:
        used = citations if mapped is not None else None
        lines = lines_of(used) if lines_of is not None else split_lines(code, used)
        reading = FieldReading(render_text(lines))
        if mapped is None:
            return reading
        english, role, side = mapped
        if role == "combatant":
            reading.belligerents = field_belligerents(english, side, lines)
        else:
            reading.figures, reading.issues = field_figures(english, role, side, lines, lang)
        return reading
    except READ_ERRORS as exc:
        label = mapped[0] if mapped is not None else name
        return FieldReading("", issues=[{
            "field": label, "severity": "error", "code": "conflict_parse_error",
            "message": f"{label}: could not be read: {type(exc).__name__}: {str(exc)[:200]}",
            "raw": str(code)[:500]}])
