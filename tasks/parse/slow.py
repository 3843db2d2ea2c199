"""The slow path: a whole revision parsed with mwparserfromhell — the readable reference.

Stages: parse the wikitext (any exception → a ``parser_error`` issue, never raised) → find the
infobox templates → read each parameter once (:func:`tasks.parse.conflict.read_value`: text and,
in a military-conflict infobox, belligerents, figures and citations).
The fast path (:mod:`tasks.parse.fast`) must give exactly the same result.
"""

from __future__ import annotations

import mwparserfromhell

from tasks.parse.citations import CitationIndex, merge_citations
from tasks.parse.conflict import read_value
from tasks.parse.model import ParsedField, ParsedInfobox, ParsedRevision, make_issue
from tasks.parse.names import is_conflict_template, is_infobox_name


def parse_revision(text: str | None, lang: str | None) -> ParsedRevision:
    """Parse one revision's wikitext. Never raises on bad wikitext: problems become issues."""
    if text is None:
        missing = [make_issue("no_text", "revision text is hidden or missing", severity="warning")]
        return ParsedRevision([], missing, missing)
    try:
        code = mwparserfromhell.parse(text)
        templates = code.filter_templates(recursive=True)
    except (RecursionError, ValueError, TypeError, IndexError, MemoryError) as exc:
        # mwparserfromhell's builder recurses per nesting level: 20,000 "{{" exhaust the stack.
        failed = [make_issue("parser_error", f"wikitext parser failed: "
                             f"{type(exc).__name__}: {str(exc)[:200]}", severity="error",
                             raw=text[:500])]
        return ParsedRevision([], failed, failed)
    boxes: list[ParsedInfobox] = []
    issues: list[dict] = []
    own: list[dict] = []
    for template in templates:
        name = str(template.name).strip()
        if not is_infobox_name(name, lang):
            continue
        box_idx = len(boxes)
        conflict = is_conflict_template(name, lang)
        box = ParsedInfobox(box_idx=box_idx, template=name,
                            kind="military_conflict" if conflict else "generic", params=[])
        article = CitationIndex(text) if conflict else None  # finds the definitions once
        for param in template.params:
            param_name = str(param.name).strip()
            citations = CitationIndex(text, shared=article) if conflict else None
            reading = read_value(param_name, param.value, lang, conflict, citations)
            box.fields.append(ParsedField(
                param_name, str(param.value), reading.text, reading.belligerents, reading.figures,
                list(citations.rows.values()) if citations is not None else [], reading.issues))
            box.params.append((param_name, str(param.value), reading.text))
            box.belligerents += reading.belligerents
            box.figures += reading.figures
            issues += [{**item, "box_idx": box_idx} for item in reading.issues]
        if conflict:
            box.citations = merge_citations([f.citations for f in box.fields])
        boxes.append(box)
    if not boxes:
        own.append(make_issue("no_infobox", "no infobox template found in this revision",
                              severity="info"))
    return ParsedRevision(boxes, issues + own, own)
