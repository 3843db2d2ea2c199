"""Military-conflict semantics of an infobox: belligerents, figures, citations. Pure functions.

Stages (each a module, each with golden tests on real wikitext):

| stage | module | gives |
|---|---|---|
| recognise the template and its parameters | templates.py (data/templates.toml) | field, role, side |
| split a value into blocks and lines | lines.py | Line: text, flag, link, bold, refs |
| read quantities | numbers.py | low, high, qualifier |
| figures, totals and their parts | figures.py | figures rows |
| parties on each side | belligerents.py | belligerents rows |
| refs and cite templates | citations.py | citations rows |
| flags → ISO 3166-1 alpha-3 | countries.py (data/country_aliases.toml) | codes |

``extract_conflict`` never raises on bad wikitext: problems become issues.
"""

from __future__ import annotations

import mwparserfromhell

from tasks.conflict.belligerents import field_belligerents
from tasks.conflict.citations import CitationIndex
from tasks.conflict.figures import field_figures
from tasks.conflict.lines import split_lines
from tasks.conflict.templates import canonical_field, is_conflict_template

__all__ = ["extract_conflict", "is_conflict_template"]


def extract_conflict(template_name: str, params: list[tuple[str, object]], lang: str | None,
                     article_text: str) -> dict:
    """Belligerents, figures, citations and issues of one military-conflict infobox.

    ``params``: (name, value) in template order; a value is raw wikitext or an already parsed
    mwparserfromhell Wikicode (the generic parser passes its nodes, so nothing is parsed twice).
    """
    citations = CitationIndex(article_text)
    out: dict[str, list] = {"belligerents": [], "figures": [], "citations": [], "issues": []}
    for name, value in params:
        mapped = canonical_field(name, lang)
        if mapped is None:
            continue
        field, role, side = mapped
        if role == "commander":
            continue
        try:
            code = mwparserfromhell.parse(value) if isinstance(value, str) else value
            lines = split_lines(code, citations)
            if role == "combatant":
                out["belligerents"] += field_belligerents(field, side, lines)
            else:
                figures, issues = field_figures(field, role, side, lines)
                out["figures"] += figures
                out["issues"] += issues
        except (RecursionError, ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
            out["issues"].append({"field": field, "severity": "error", "code": "conflict_parse_error",
                                  "message": f"{field}: could not be read: {type(exc).__name__}: {exc}",
                                  "raw": str(value)[:500]})
    # Row keys must be unique per (field, seq): renumber belligerents per field.
    out["citations"] = list(citations.rows.values())
    return out
