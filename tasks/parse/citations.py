"""<ref>s: names, definitions (resolved across the article) and cite-template fields."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

import mwparserfromhell
from mwparserfromhell.nodes import ExternalLink, Tag, Template

# <ref name="x">…</ref> definitions anywhere in the article (names quoted or not).
_DEFINITION_RE = re.compile(
    r"<ref\s+[^>]*?name\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>/]+))[^>/]*>(.*?)</ref\s*>",
    re.DOTALL | re.IGNORECASE)
_PUBLISHER_KEYS = ("publisher", "work", "newspaper", "website", "agency", "journal", "magazine")


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


@lru_cache(maxsize=8192)
def _cite_fields(content: str) -> dict:
    """Memoised: the same reference text recurs in every revision (callers copy the dict)."""
    return _read_cite_fields(content)


def _read_cite_fields(content: str) -> dict:
    """template, url, title, publisher, date, archive_url of a ref's content."""
    out = {"template": None, "url": None, "title": None, "publisher": None, "date": None,
           "archive_url": None}
    code = mwparserfromhell.parse(content)
    for template in code.filter_templates(recursive=False):
        name = " ".join(str(template.name).replace("_", " ").split()).lower()
        if not name.startswith(("cite", "citation", "引用")):
            continue
        params = {str(p.name).strip().lower(): p.value.strip_code().strip() for p in template.params}
        out["template"] = name
        out["url"] = _clean(params.get("url"))
        out["title"] = _clean(params.get("title"))
        out["publisher"] = next((_clean(params[k]) for k in _PUBLISHER_KEYS if params.get(k)), None)
        out["date"] = _clean(params.get("date"))
        out["archive_url"] = _clean(params.get("archive-url") or params.get("archiveurl"))
        return out
    links = code.filter(forcetype=ExternalLink, recursive=True)
    if links:
        out["url"] = str(links[0].url).strip()
        out["title"] = _clean(links[0].title.strip_code()) if links[0].title is not None else None
    elif isinstance(code, Template):  # pragma: no cover - parse() never returns a bare node
        pass
    return out


def article_definitions(article_text: str) -> dict[str, str]:
    """name → content of every named <ref> definition in the article (first one wins)."""
    return {name: content for name, (content, _span) in definition_spans(article_text).items()}


def definition_spans(article_text: str) -> dict[str, tuple[str, tuple[int, int]]]:
    """name → (content, (start, end) of the whole <ref …>…</ref>) of each name's first definition."""
    found: dict[str, tuple[str, tuple[int, int]]] = {}
    for match in _DEFINITION_RE.finditer(article_text):
        name = (match.group(1) or match.group(2) or match.group(3) or "").strip()
        if name and name not in found:
            found[name] = (match.group(4), match.span())
    return found


def merge_citations(rows_per_field: list[list[dict]]) -> list[dict]:
    """One infobox's citations from its parameters' own, in parameter order: a ref named in
    several parameters keeps the first row that has its content, else the last one."""
    merged: dict[str, dict] = {}
    for rows in rows_per_field:
        for row in rows:
            held = merged.get(row["ref_name"])
            if held is None or held["raw"] is None:
                merged[row["ref_name"]] = dict(row)
    return list(merged.values())


def citation_row(name: str, content: str | None) -> dict:
    """The citations row of ref ``name`` whose content is ``content`` (None: no definition)."""
    fields = dict(_cite_fields(content)) if content is not None else {
        "template": None, "url": None, "title": None, "publisher": None, "date": None,
        "archive_url": None}
    return {"ref_name": name, "is_named": not name.startswith("anon-"), **fields, "raw": content}


def resolve_citations(rows: list[dict], resolved: list[str], definitions: dict[str, str]) -> list[dict]:
    """``rows`` read with no article definitions at hand, as they read with ``definitions``: a
    name looked up there takes its definition when there is one (an inline definition met later
    in the parameter does not replace it), else keeps what the parameter gave."""
    found = {name: definitions[name] for name in resolved if definitions.get(name) is not None}
    if not found:
        return rows
    return [citation_row(row["ref_name"], found[row["ref_name"]]) if row["ref_name"] in found
            else row for row in rows]


class _NoDefinitions:
    """Stands for an article whose definitions are not looked at (see resolve_citations)."""

    @staticmethod
    def definitions() -> dict[str, str]:
        return {}


NO_DEFINITIONS = _NoDefinitions()


class CitationIndex:
    """Collects the refs met in a parameter and resolves named re-uses against the article.

    Indexes of one article may share ``shared`` so that its definitions are found once."""

    def __init__(self, article_text: str, shared: CitationIndex | _NoDefinitions | None = None):
        self.article_text = article_text
        self._shared = shared
        self._definitions: dict[str, str] | None = None
        self.rows: dict[str, dict] = {}
        self.resolved: list[str] = []  # names looked up among the article's definitions

    def definitions(self) -> dict[str, str]:
        if self._shared is not None:
            return self._shared.definitions()
        if self._definitions is None:
            self._definitions = article_definitions(self.article_text)
        return self._definitions

    def add(self, node: Tag) -> str:
        """Record a <ref> tag; return its name (or a generated id for an unnamed ref)."""
        return self.add_entry(*ref_entry(node))

    def add_entry(self, name: str, content: str | None, recorded: bool = True) -> str:
        """Record a ref already read by :func:`ref_entry` (the segment memo replays these)."""
        if not recorded:
            return name
        if name in self.rows and self.rows[name]["raw"] is not None:
            return name
        if content is None:
            self.resolved.append(name)
            content = self.definitions().get(name)
        self.rows[name] = citation_row(name, content)
        return name


def ref_entry(node: Tag) -> tuple[str, str | None, bool]:
    """(name, content, recorded) of a <ref> tag, whatever the index holds: an unnamed ref gets a
    generated id; an empty unnamed ref is "anon-empty" and is not recorded."""
    name = None
    for attr in node.attributes:
        if str(attr.name).strip().lower() == "name":
            name = str(attr.value).strip() if attr.value is not None else None
    content = str(node.contents) if node.contents is not None and not node.self_closing else None
    if content is not None and not content.strip():
        content = None
    if name is None:
        if content is None:
            return "anon-empty", None, False
        name = "anon-" + hashlib.sha1(content.encode("utf-8")).hexdigest()[:10]
    return name, content, True
