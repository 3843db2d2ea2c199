"""Generic infobox parsing: wikitext of one revision → infoboxes, their fields, and issues.

Pure functions, no I/O. Stages:

1. parse the wikitext with mwparserfromhell (any exception → a ``parser_error`` issue, never raised);
2. locate infobox templates (names kept as data in ``tasks/data/infobox_names.toml``);
3. split each template into parameters: raw value exactly as written + plain text;
4. for military-conflict infoboxes, hand the parameters to :mod:`tasks.conflict` for
   belligerents, figures and citations.

Identical texts parse identically, so :func:`parse_revision_cached` memoises on the text's SHA-1:
reverts and null edits cost a dictionary lookup.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import mwparserfromhell
from mwparserfromhell.nodes import Tag, Template

# Bump when the derived rows would change: stored revisions with an older version are re-derived.
PARSER_VERSION = 2  # 2: reversed ranges ordered, over-long digit runs are not quantities

_NAMES_FILE = Path(__file__).with_name("data") / "infobox_names.toml"
_BR_RE = re.compile(r"<br\s*/?\s*>", re.IGNORECASE)
_SPACES_RE = re.compile(r"[ \t\u3000]+")
_BLANK_LINES_RE = re.compile(r"\n\s*\n+")


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


@lru_cache(maxsize=1)
def _infobox_names() -> dict:
    with _NAMES_FILE.open("rb") as fh:
        return tomllib.load(fh)


@lru_cache(maxsize=16384)
def normalize_template_name(name: str) -> str:
    """Lower case, '_' → ' ', spaces collapsed, comments and namespace prefix removed."""
    name = re.sub(r"<!--.*?-->", "", name, flags=re.DOTALL)
    name = _SPACES_RE.sub(" ", name.replace("_", " ")).strip().lower()
    for prefix in _infobox_names()["namespaces"]["names"]:
        if name.startswith(prefix):
            name = name[len(prefix):].strip()
            break
    return name


@lru_cache(maxsize=16384)
def is_infobox_name(name: str, lang: str | None) -> bool:
    """True when a template name denotes an infobox on a wiki of language ``lang``."""
    norm = normalize_template_name(name)
    names = _infobox_names()
    for key in ("any", lang or ""):
        entry = names.get(key)
        if not entry:
            continue
        if any(norm.startswith(p) for p in entry["prefixes"]):
            return True
        if any(norm.endswith(s) for s in entry["suffixes"]):
            return True
    return _conflict_recogniser()(name, lang)


@lru_cache(maxsize=1)
def _conflict_recogniser():
    """tasks.conflict.is_conflict_template, or a recogniser of nothing if that stage is absent."""
    try:
        from tasks.conflict import is_conflict_template
    except ImportError:
        return lambda name, lang: False
    return is_conflict_template


_FLAG_TEMPLATES = {"flag", "flagicon", "flagcountry", "flagu", "flagdeco", "flag icon", "flagcountry2"}
_LABEL_LAST_TEMPLATES = {"tsl", "ill", "interlanguage link", "link-en", "link-fr", "link-de", "link-it",
                         "link-ja", "link-es", "link-ru", "lang"}
_INVISIBLE_TAGS = {"ref", "references", "gallery", "math", "timeline", "score", "templatedata"}


def _template_text(template) -> str:
    """What a reader sees of a few common inline templates; other templates show nothing."""
    name = normalize_template_name(str(template.name))
    positional = [p for p in template.params if not p.showkey]
    if "image" in name:  # {{flagicon image|File.svg}}: a picture, no words
        return ""
    if name in _FLAG_TEMPLATES or name.startswith("flag"):
        return plain_text(positional[0].value) if positional else ""
    if name in _LABEL_LAST_TEMPLATES or name.startswith("link-"):
        return plain_text(positional[-1].value) if len(positional) >= 2 else ""
    if name in {"collapsible list", "plainlist", "flatlist", "ubl", "unbulleted list", "hlist"}:
        items = [plain_text(p.value) for p in positional]
        titles = [plain_text(p.value) for p in template.params
                  if p.showkey and str(p.name).strip() == "title"]
        return "\n".join(t for t in titles + items if t)
    if name in {"nowrap", "small", "big", "nobr"}:
        return plain_text(positional[0].value) if positional else ""
    return ""


def _node_text(node) -> str:
    if isinstance(node, Template):
        return _template_text(node)
    if isinstance(node, Tag):
        tag = str(node.tag).strip().lower()
        if tag in _INVISIBLE_TAGS:
            return ""
        if tag == "br":
            return "\n"
        if tag in {"li", "dd", "dt"}:
            return "\n" + (plain_text(node.contents) if node.contents is not None else "")
        if node.contents is not None:
            return plain_text(node.contents)
        return ""
    return node.__strip__(normalize=True, collapse=False, keep_template_params=False) or ""


def plain_text(value) -> str:
    """Readable text of a parameter value: markup, refs and comments stripped.

    Flag templates show their country, interlanguage-link templates their label, list
    templates their items; other templates show nothing. Line breaks (<br />, newlines,
    list items) are kept as single newlines; runs of spaces collapse.
    """
    text = "".join(str(_node_text(node)) for node in value.nodes)
    text = _BR_RE.sub("\n", text)
    lines = [_SPACES_RE.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def _issue(code: str, message: str, *, severity: str = "warning", box_idx: int | None = None,
           field_name: str | None = None, raw: str | None = None) -> dict:
    return {
        "box_idx": box_idx,
        "field": field_name,
        "severity": severity,
        "code": code,
        "message": message,
        "raw": raw[:500] if raw else raw,
    }


def parse_revision(text: str | None, lang: str | None) -> ParsedRevision:
    """Parse one revision's wikitext. Never raises on bad wikitext: problems become issues."""
    if text is None:
        return ParsedRevision([], [_issue("no_text", "revision text is hidden or missing",
                                          severity="warning")])
    try:
        code = mwparserfromhell.parse(text)
        templates = code.filter_templates(recursive=True)
    except (RecursionError, ValueError, TypeError, IndexError, MemoryError) as exc:
        # mwparserfromhell's builder recurses per nesting level: 20,000 "{{" exhaust the stack.
        return ParsedRevision([], [_issue("parser_error", f"wikitext parser failed: "
                                          f"{type(exc).__name__}: {str(exc)[:200]}",
                                          severity="error", raw=text[:500])])
    boxes: list[ParsedInfobox] = []
    issues: list[dict] = []
    for template in templates:
        name = str(template.name).strip()
        if not is_infobox_name(name, lang):
            continue
        box_idx = len(boxes)
        params = [
            (str(p.name).strip(), str(p.value), plain_text(p.value)) for p in template.params
        ]
        kind = "military_conflict" if _conflict_recogniser()(name, lang) else "generic"
        box = ParsedInfobox(box_idx=box_idx, template=name, kind=kind, params=params)
        if kind == "military_conflict":
            # Hand over the parsed values: the conflict stage does not parse them again.
            values = [(str(p.name).strip(), p.value) for p in template.params]
            _add_conflict_semantics(box, values, lang, text, issues)
        boxes.append(box)
    if not boxes:
        issues.append(_issue("no_infobox", "no infobox template found in this revision",
                             severity="info"))
    return ParsedRevision(boxes, issues)


def _add_conflict_semantics(box: ParsedInfobox, values: list, lang: str | None,
                            article_text: str, issues: list[dict]) -> None:
    from tasks.conflict import extract_conflict

    result = extract_conflict(box.template, values, lang, article_text)
    box.belligerents = result.get("belligerents", [])
    box.figures = result.get("figures", [])
    box.citations = result.get("citations", [])
    for item in result.get("issues", []):
        issues.append({**item, "box_idx": box.box_idx})


class ParseCache:
    """Memo of parse results: whole texts by (language, SHA-1), parameters by their exact text.

    Histories revert often (about one edit in seven on busy articles), so a revert's rows are
    copied; most other edits leave the infobox alone or change one parameter, so only changed
    parameters are parsed (tasks.fastparse). The readable slow path runs when the fast path
    cannot mirror the text exactly; both give the same rows (tests/test_fastparse.py).
    """

    def __init__(self, max_entries: int = 16, fast: bool = True):
        from tasks.fastparse import FieldMemo

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
        parsed = None
        if self.fast:
            from tasks.fastparse import parse_revision_fast

            parsed = parse_revision_fast(text, lang, self.fields)
        if parsed is None:
            self.slow += 1
            parsed = parse_revision(text, lang)
        self._entries[key] = parsed
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return parsed
