"""Split a parameter value into blocks and lines, keeping what each line says and cites.

Blocks are separated by ``----``; lines by ``<br />``, newlines, list bullets and the items of
{{Collapsible list}} (and similar list templates, whose title is kept). Each :class:`Line` knows
its flag (entity and ISO code), first wikilink, bold text, and the refs it carries: a ref is
replaced in ``text`` by a marker (``REF_OPEN index REF_CLOSE``) so that later stages can attach it to
the number it follows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mwparserfromhell.nodes import Comment, ExternalLink, Tag, Template, Text, Wikilink

from tasks.conflict.citations import CitationIndex
from tasks.conflict.countries import country_code, country_name
from tasks.parse import normalize_template_name

# Markers hold no digits (numbers are read from the same text): index i is chr(_INDEX_BASE + i).
REF_OPEN, REF_CLOSE = "\ue000", "\ue001"
_INDEX_BASE = 0xE100
MARKER_RE = re.compile(f"{REF_OPEN}(.){REF_CLOSE}", re.DOTALL)


def marker(index: int) -> str:
    return f"{REF_OPEN}{chr(_INDEX_BASE + index)}{REF_CLOSE}"


def marker_index(char: str) -> int:
    return ord(char) - _INDEX_BASE
_LIST_TEMPLATES = {"collapsible list", "plainlist", "flatlist", "ubl", "unbulleted list", "hlist",
                   "bulleted list", "plain list", "flat list", "cslist"}
_TEXT_TEMPLATES = {"nowrap", "small", "big", "nobr", "lang", "nowrap begin"}
_FLAG_SKIP = ("flagicon image", "flag icon image", "flagdeco image")


@dataclass
class Line:
    block: int
    text: str = ""
    raw: str = ""
    entity: str | None = None
    country_code: str | None = None
    flag_image: bool = False
    link: str | None = None
    link_label: str | None = None
    bullet: bool = False
    in_list: bool = False
    list_title: str | None = None
    bold: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)

    @property
    def plain(self) -> str:
        """Text without ref markers."""
        return MARKER_RE.sub("", self.text).strip()


class _Splitter:
    def __init__(self, citations: CitationIndex):
        self.citations = citations
        self.lines: list[Line] = []
        self.block = 0
        self.current = Line(block=0)
        self.list_stack: list[str | None] = []

    # -- line management ---------------------------------------------------------------
    def finish(self) -> None:
        line = self.current
        stripped = line.plain
        if stripped.startswith("----"):
            self.block += 1
        elif stripped or line.refs or line.entity:
            self.lines.append(line)
        self.current = Line(block=self.block, in_list=bool(self.list_stack),
                            list_title=self.list_stack[-1] if self.list_stack else None)

    def add_text(self, text: str, raw: str | None = None) -> None:
        line = self.current
        if not line.text.strip() and text.lstrip().startswith(("*", "#")) and not line.entity:
            text = text.lstrip().lstrip("*#:")
            line.bullet = True
        line.text += text
        line.raw += text if raw is None else raw

    # -- node walking ------------------------------------------------------------------
    def walk(self, code) -> None:
        for node in code.nodes:
            self.node(node)

    def node(self, node) -> None:
        if isinstance(node, Text):
            parts = str(node.value).split("\n")
            for i, part in enumerate(parts):
                if i:
                    self.finish()
                if part:
                    self.add_text(part)
        elif isinstance(node, Comment):
            return
        elif isinstance(node, Tag):
            self.tag(node)
        elif isinstance(node, Wikilink):
            title = str(node.title).strip()
            label = node.text.strip_code().strip() if node.text is not None else title
            if title.lower().startswith(("file:", "image:", "文件:", "檔案:", "图像:", "category:")):
                return
            if self.current.link is None:
                self.current.link, self.current.link_label = title, label
            self.add_text(label, str(node))
        elif isinstance(node, ExternalLink):
            label = node.title.strip_code() if node.title is not None else ""
            self.add_text(label, str(node))
        elif isinstance(node, Template):
            self.template(node)
        else:  # HTML entities, headings, arguments: their visible text
            self.add_text(node.__strip__(normalize=True, collapse=False) or "", str(node))

    def tag(self, node: Tag) -> None:
        name = str(node.tag).strip().lower()
        if name == "br":
            self.current.raw += str(node)
            self.finish()
        elif name == "hr":  # "----" at the start of a line: a new block
            self.finish()
            self.block += 1
            self.current = Line(block=self.block)
        elif name == "ref":
            ref_name = self.citations.add(node)
            self.current.text += marker(len(self.current.refs))
            self.current.refs.append(ref_name)
            self.current.raw += str(node)
        elif name in ("references", "gallery", "math", "nowiki", "templatedata"):
            self.current.raw += str(node)
        elif name in ("li", "dd", "dt"):
            self.finish()
            self.current.bullet = True
            if node.contents is not None:
                self.walk(node.contents)
        elif node.contents is not None:
            if name == "b":
                self.current.bold.append(node.contents.strip_code().strip())
            markup = node.wiki_markup or f"<{name}>"
            self.current.raw += markup
            self.walk(node.contents)
            self.current.raw += node.wiki_markup or f"</{name}>"

    def template(self, node: Template) -> None:
        name = normalize_template_name(str(node.name))
        positional = [p for p in node.params if not p.showkey]
        if name.startswith(_FLAG_SKIP):
            if self.current.entity is None:
                self.current.flag_image = True
            self.current.raw += str(node)
        elif name.startswith("flag"):
            if positional and self.current.entity is None:
                value = positional[0].value.strip_code().strip()
                self.current.entity = country_name(value)
                self.current.country_code = country_code(value)
            self.current.raw += str(node)
        elif name in _LIST_TEMPLATES:
            titles = [p.value.strip_code().strip() for p in node.params
                      if p.showkey and str(p.name).strip() == "title"]
            self.finish()
            self.list_stack.append(titles[0] if titles else None)
            for param in positional:
                self.current = Line(block=self.block, in_list=True, list_title=self.list_stack[-1])
                self.walk(param.value)
                self.finish()
            self.list_stack.pop()
            self.current = Line(block=self.block, in_list=bool(self.list_stack),
                                list_title=self.list_stack[-1] if self.list_stack else None)
        elif name == "tsl" or name == "ill" or name.startswith("link-"):
            values = [p.value.strip_code().strip() for p in positional]
            if name == "tsl":
                label = values[2] if len(values) > 2 else (values[1] if len(values) > 1 else "")
            elif name.startswith("link-"):
                label = values[0] if values else ""
            else:
                label = values[0] if values else ""
            self.add_text(label, str(node))
        elif name in _TEXT_TEMPLATES and positional:
            self.walk(positional[-1].value if name == "lang" else positional[0].value)
        else:
            self.current.raw += str(node)


def split_lines(value, citations: CitationIndex) -> list[Line]:
    """The lines of a parameter value (a Wikicode), in order, with their block numbers."""
    splitter = _Splitter(citations)
    splitter.walk(value)
    splitter.finish()
    return splitter.lines
