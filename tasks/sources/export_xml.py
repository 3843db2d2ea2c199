"""Write MediaWiki XML exports (schema 0.11), streaming: for crafted histories in tests and the
synthetic dumps of the benchmark. The output reads back with :mod:`tasks.sources.dump`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import IO
from xml.sax.saxutils import escape, quoteattr

from tasks.sources.model import Revision

_HEADER = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
xsi:schemaLocation="http://www.mediawiki.org/xml/export-0.11/ http://www.mediawiki.org/xml/export-0.11.xsd" \
version="0.11" xml:lang={lang}>
  <siteinfo>
    <sitename>{sitename}</sitename>
    <dbname>{dbname}</dbname>
    <base>{base}</base>
    <generator>infobox-pipeline</generator>
    <case>first-letter</case>
    <namespaces>
      <namespace key="0" case="first-letter" />
      <namespace key="10" case="first-letter">Template</namespace>
    </namespaces>
  </siteinfo>
"""


def _sha1_base36(text: str) -> str:
    number = int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16)
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out.rjust(31, "0")


def write_header(fh: IO[str], *, dbname: str = "zhwiki", lang: str = "zh",
                 base: str = "http://127.0.0.1/index.php/Main_Page", sitename: str = "Wikipedia") -> None:
    fh.write(_HEADER.format(lang=quoteattr(lang), sitename=escape(sitename), dbname=escape(dbname),
                            base=escape(base)))


def write_page(fh: IO[str], page_id: int, title: str, revisions: Iterable[Revision],
               namespace: int = 0) -> None:
    fh.write(f"  <page>\n    <title>{escape(title)}</title>\n    <ns>{namespace}</ns>\n"
             f"    <id>{page_id}</id>\n")
    for rev in revisions:
        text = rev.text or ""
        ts = rev.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ") if rev.timestamp else "2001-01-01T00:00:00Z"
        fh.write(f"    <revision>\n      <id>{rev.rev_id}</id>\n")
        if rev.parent_id:
            fh.write(f"      <parentid>{rev.parent_id}</parentid>\n")
        fh.write(f"      <timestamp>{ts}</timestamp>\n"
                 f"      <contributor>\n        <username>{escape(rev.user or 'Anonymous')}</username>\n"
                 f"        <id>1</id>\n      </contributor>\n")
        if rev.comment:
            fh.write(f"      <comment>{escape(rev.comment)}</comment>\n")
        fh.write(f"      <origin>{rev.rev_id}</origin>\n      <model>wikitext</model>\n"
                 "      <format>text/x-wiki</format>\n")
        size = len(text.encode("utf-8"))
        fh.write(f'      <text bytes="{size}" sha1="{_sha1_base36(text)}" xml:space="preserve">'
                 f"{escape(text)}</text>\n      <sha1>{_sha1_base36(text)}</sha1>\n"
                 "    </revision>\n")
    fh.write("  </page>\n")


def write_footer(fh: IO[str]) -> None:
    fh.write("</mediawiki>\n")

