"""The one wikitext renderer: a parameter value → blocks and lines, and what a reader sees.

Blocks are separated by ``----``; lines by ``<br />``, newlines, list bullets and the items of
{{Collapsible list}} (and the other list templates, whose title is kept). Inline templates are
rendered by one data table (``data/inline_templates.toml``): flags give a line its entity and ISO
code, link templates their label, wrappers their content; other templates show nothing.

Each :class:`Line` holds two views of the same text:
- ``display``: what a reader sees (the flag's country name included) — ``infobox_fields.text``
  is these lines joined (:func:`render_text`);
- ``text``: what the conflict semantics read: the same words without the flag's name, and each
  ``<ref>`` replaced by a marker (``REF_OPEN index REF_CLOSE``) so a ref attaches to the number it
  follows.

Pure; imports only the model-level modules (names, citations, countries).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from mwparserfromhell.nodes import Comment, ExternalLink, Tag, Template, Text, Wikilink

from tasks.parse.citations import CitationIndex
from tasks.parse.countries import country_code, country_name
from tasks.parse.names import normalize_template_name

# Markers hold no digits (numbers are read from the same text): index i is chr(_INDEX_BASE + i).
REF_OPEN, REF_CLOSE = "\ue000", "\ue001"
_INDEX_BASE = 0xE100
MARKER_RE = re.compile(f"{REF_OPEN}(.){REF_CLOSE}", re.DOTALL)
_SPACES_RE = re.compile(r"[ \t\u3000]+")
_HIDDEN_TAGS = {"references", "gallery", "math", "nowiki", "templatedata", "timeline", "score"}
_FILE_PREFIXES = ("file:", "image:", "文件:", "檔案:", "图像:", "圖像:", "category:", "fichier:",
                  "datei:", "файл:", "ファイル:", "archivo:", "immagine:", "bild:")


def marker(index: int) -> str:
    return f"{REF_OPEN}{chr(_INDEX_BASE + index)}{REF_CLOSE}"


def marker_index(char: str) -> int:
    return ord(char) - _INDEX_BASE


@lru_cache(maxsize=1)
def _rules() -> list[dict]:
    with (Path(__file__).with_name("data") / "inline_templates.toml").open("rb") as fh:
        return tomllib.load(fh)["rule"]


@lru_cache(maxsize=16384)
def template_rule(normalized_name: str) -> dict | None:
    """The first rule of the data table that matches a normalised template name, or None."""
    for rule in _rules():
        if rule["match"] == "exact" and normalized_name in rule["names"]:
            return rule
        if rule["match"] == "prefix" and normalized_name.startswith(tuple(rule["names"])):
            return rule
    return None


@dataclass
class Line:
    block: int
    text: str = ""
    display: str = ""
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


class _Renderer:
    """Walks a Wikicode once. Strings are accumulated in lists (joined when a line ends), so a
    line of any length costs time linear in its size."""

    def __init__(self, citations: CitationIndex | None):
        self.citations = citations
        self.lines: list[Line] = []
        self.block = 0
        self.list_stack: list[str | None] = []
        self._new_line()

    # -- line management ---------------------------------------------------------------
    def _new_line(self, **kwargs) -> None:
        in_list = kwargs.pop("in_list", bool(self.list_stack))
        title = kwargs.pop("list_title", self.list_stack[-1] if self.list_stack else None)
        self.current = Line(block=self.block, in_list=in_list, list_title=title, **kwargs)
        self._text: list[str] = []
        self._display: list[str] = []
        self._raw: list[str] = []

    def _flush(self) -> Line:
        line = self.current
        line.text, line.display, line.raw = "".join(self._text), "".join(self._display), "".join(self._raw)
        return line

    def finish(self) -> None:
        line = self._flush()
        stripped = line.plain
        if stripped.startswith("----"):
            self.block += 1
        elif stripped or line.refs or line.entity:
            self.lines.append(line)
        self._new_line()

    def _is_empty(self) -> bool:
        return not "".join(self._text).strip()

    def add_text(self, text: str, raw: str | None = None, display: str | None = None) -> None:
        # The cheap test first: _is_empty joins the line so far.
        if text.lstrip().startswith(("*", "#")) and not self.current.entity and self._is_empty():
            text = text.lstrip().lstrip("*#:")
            display = text if display is None else display.lstrip().lstrip("*#:")
            self.current.bullet = True
        self._text.append(text)
        self._display.append(text if display is None else display)
        self._raw.append(text if raw is None else raw)

    def add_raw(self, raw: str) -> None:
        self._raw.append(raw)

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
            if title.lower().startswith(_FILE_PREFIXES):
                self.add_raw(str(node))
                return
            label = node.text.strip_code().strip() if node.text is not None else title
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
            self.add_raw(str(node))
            self.finish()
        elif name == "hr":  # "----" at the start of a line: a new block
            self.finish()
            self.block += 1
            self._new_line()
        elif name == "ref":
            ref_name = self.citations.add(node) if self.citations is not None else ""
            self._text.append(marker(len(self.current.refs)))
            self.current.refs.append(ref_name)
            self.add_raw(str(node))
        elif name in _HIDDEN_TAGS:
            self.add_raw(str(node))
        elif name in ("li", "dd", "dt"):
            self.finish()
            self.current.bullet = True
            if node.contents is not None:
                self.walk(node.contents)
        elif node.contents is not None:
            if name == "b":
                self.current.bold.append(node.contents.strip_code().strip())
            self.add_raw(node.wiki_markup or f"<{name}>")
            self.walk(node.contents)
            self.add_raw(node.wiki_markup or f"</{name}>")

    def template(self, node: Template) -> None:
        rule = template_rule(normalize_template_name(str(node.name)))
        kind = rule["kind"] if rule else None
        positional = [p for p in node.params if not p.showkey]
        if kind == "flag_image":
            if self.current.entity is None:
                self.current.flag_image = True
            self.add_raw(str(node))
        elif kind == "flag":
            shown = ""
            if positional:
                value = positional[0].value.strip_code().strip()
                shown = country_name(value)
                if self.current.entity is None:
                    self.current.entity = shown
                    self.current.country_code = country_code(value)
            self.add_text("", str(node), display=shown)
        elif kind == "list":
            titles = [p.value.strip_code().strip() for p in node.params
                      if p.showkey and str(p.name).strip() == "title"]
            self.finish()
            self.list_stack.append(titles[0] if titles else None)
            for param in positional:
                self._new_line(in_list=True, list_title=self.list_stack[-1])
                self.walk(param.value)
                self.finish()
            self.list_stack.pop()
            self._new_line()
        elif kind == "label":
            values = [p.value.strip_code().strip() for p in positional]
            show = rule["show"]
            label = values[show - 1] if len(values) >= show else (values[-1] if values else "")
            self.add_text(label, str(node))
        elif kind == "text" and positional:
            chosen = positional[rule["show"] - 1] if rule["show"] > 0 and len(positional) >= rule["show"] \
                else positional[-1]
            self.walk(chosen.value)
        else:
            self.add_raw(str(node))


def split_lines(value, citations: CitationIndex | None = None, with_blocks: bool = False):
    """The lines of a parameter value (a Wikicode), in order, with their block numbers.

    With ``citations``, each ``<ref>`` is recorded there (and resolved against the article);
    without, refs are only marked. With ``with_blocks``: (lines, number of ``----`` met), so
    that pieces of one value can be joined (tasks.parse.segments).
    """
    renderer = _Renderer(citations)
    renderer.walk(value)
    renderer.finish()
    return (renderer.lines, renderer.block) if with_blocks else renderer.lines


def list_lines(value, title: str | None, citations: CitationIndex | None = None) -> tuple[list[Line], int]:
    """(lines, blocks advanced) of one positional parameter (a Wikicode) of a list template whose
    title is ``title``, as :meth:`_Renderer.template` reads it inside the whole template (so that
    tasks.parse.segments can read a long list item by item)."""
    renderer = _Renderer(citations)
    renderer.list_stack.append(title)
    renderer._new_line(in_list=True, list_title=title)
    renderer.walk(value)
    renderer.finish()
    return renderer.lines, renderer.block


def render_text(lines: list[Line]) -> str:
    """What a reader sees of a value: its lines, runs of spaces collapsed, blocks apart by ``----``."""
    out: list[str] = []
    block = lines[0].block if lines else 0
    title = None
    for line in lines:
        if line.block != block:
            out.append("----")
            block = line.block
        if line.list_title is not None and line.list_title != title:
            out.append(line.list_title)
        title = line.list_title
        shown = _SPACES_RE.sub(" ", MARKER_RE.sub("", line.display)).strip()
        if shown:
            out.append(shown)
    return "\n".join(out)


def plain_text(value) -> str:
    """Readable text of a parameter value (a Wikicode): markup, refs and comments stripped."""
    return render_text(split_lines(value))
