"""Parsing infoboxes: wikitext of one revision → infoboxes, their fields, figures and issues.

One package, imports one way (a module imports only those above it):

    model.py         ParsedRevision, ParsedInfobox, PARSER_VERSION, make_issue
    names.py         which templates are infoboxes / conflict infoboxes; parameter meanings
    citations.py     <ref>s and cite templates          countries.py  flags → ISO codes
    render.py        the one wikitext renderer (data/inline_templates.toml): lines + plain text
    conflict/        military-conflict semantics: numbers, categories, figures, belligerents
    slow.py          whole revision with mwparserfromhell (the readable reference)
    fast.py          brace scanner + per-parameter memo (must equal slow.py; tested on the corpus)
    cache.py         ParseCache: whole-text memo that picks fast, else slow

Pure functions, no I/O. Never raises on bad wikitext: problems become ``parse_issues`` rows.
"""

from tasks.parse.cache import ParseCache
from tasks.parse.model import PARSER_VERSION, ParsedInfobox, ParsedRevision, make_issue
from tasks.parse.names import is_conflict_template, is_infobox_name, normalize_template_name
from tasks.parse.render import plain_text
from tasks.parse.slow import parse_revision

__all__ = ["PARSER_VERSION", "ParseCache", "ParsedInfobox", "ParsedRevision", "is_conflict_template",
           "is_infobox_name", "make_issue", "normalize_template_name", "parse_revision", "plain_text"]
