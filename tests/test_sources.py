"""XML export and plain-file sources: real reading, real bad input."""

from __future__ import annotations

import bz2
import gzip
from datetime import datetime

import pytest

from tasks.sources.dump import index_url, read_dump
from tasks.sources.export_xml import write_footer, write_header, write_page
from tasks.sources.model import Revision
from tasks.sources.textfile import read_file
from warehouse.errors import DumpError, InputFormatError


def _revisions(seed_text: str) -> list[Revision]:
    texts = [seed_text.replace("23,564", "20,000"), seed_text, seed_text + "\n[[Category:x]]"]
    return [Revision(rev_id=100 + i, parent_id=(99 + i) if i else None,
                     timestamp=datetime(2020, 1, 1 + i, 12, 0, 0), user=f"U{i}", comment=f"edit {i}",
                     sha1=None, size=None, text=t) for i, t in enumerate(texts)]


@pytest.fixture()
def export_path(tmp_path, seed_text):
    path = tmp_path / "export.xml"
    with path.open("w", encoding="utf-8") as fh:
        write_header(fh, dbname="zhwiki", lang="zh",
                     base="https://zh.wikipedia.org/wiki/Wikipedia:%E9%A6%96%E9%A1%B5")
        write_page(fh, 42, "马利北部冲突", _revisions(seed_text))
        write_page(fh, 43, "Template:Infobox military conflict",
                   [Revision(7, None, datetime(2019, 1, 1), "T", "tpl", None, None, "x")], namespace=10)
        write_footer(fh)
    return path


def test_dump_yields_pages_with_revisions_in_order(export_path, seed_text):
    pages = []
    for page in read_dump(export_path):
        pages.append((page.site.wiki, page.site.lang, page.page_id, page.title, page.namespace,
                      [r.rev_id for r in page.revisions]))
    assert pages == [("zhwiki", "zh", 42, "马利北部冲突", 0, [100, 101, 102]),
                     ("zhwiki", "zh", 43, "Template:Infobox military conflict", 10, [7])]


def test_dump_revision_fields_and_hex_sha1(export_path, seed_text):
    pages = read_dump(export_path, namespaces=[0])  # keep the generator: it owns the open file
    page = next(pages)
    revs = list(page.revisions)
    assert revs[1].text == seed_text
    assert revs[1].sha1 == Revision.sha1_of(seed_text) and len(revs[1].sha1) == 40
    assert revs[1].parent_id == 100 and revs[0].parent_id is None
    assert revs[2].timestamp == datetime(2020, 1, 3, 12, 0, 0)
    assert revs[0].user == "U0" and revs[0].comment == "edit 0"
    assert page.site.base_url == "https://zh.wikipedia.org/w/index.php"


def test_dump_title_filter(export_path):
    titles = [p.title for p in read_dump(export_path, titles=["Template:Infobox_military_conflict"])]
    assert titles == ["Template:Infobox military conflict"]


@pytest.mark.parametrize("opener, suffix", [(bz2.open, ".bz2"), (gzip.open, ".gz")])
def test_compressed_dumps_read_the_same(export_path, tmp_path, opener, suffix):
    packed = tmp_path / ("export.xml" + suffix)
    with opener(packed, "wb") as out:
        out.write(export_path.read_bytes())
    assert [r.rev_id for p in read_dump(packed) for r in p.revisions] == [100, 101, 102, 7]


def test_truncated_export_raises_dump_error_after_yielding_complete_pages(export_path, tmp_path):
    data = export_path.read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[: data.index(b"<page>", data.index(b"<page>") + 1) + 40])
    seen = []
    with pytest.raises(DumpError, match="malformed or truncated"):
        for page in read_dump(cut):
            seen.extend(r.rev_id for r in page.revisions)
    assert seen == [100, 101, 102]


def test_file_that_is_not_xml_is_a_dump_error(tmp_path):
    path = tmp_path / "notes.xml"
    path.write_text("just some words", encoding="utf-8")
    with pytest.raises(DumpError, match="not a MediaWiki XML export"):
        list(read_dump(path))


def test_missing_dump_is_a_dump_error(tmp_path):
    with pytest.raises(DumpError, match="no such dump file"):
        list(read_dump(tmp_path / "nope.xml"))


def test_plain_file_is_one_revision_with_stable_ids(seed_path):
    first, second = read_file(seed_path), read_file(seed_path)
    rev1, rev2 = next(first.revisions), next(second.revisions)
    assert rev1.rev_id == rev2.rev_id and first.page_id == second.page_id
    assert first.site.wiki == "local" and first.site.lang == "zh"
    assert rev1.text == seed_path.read_text(encoding="utf-8")


def test_binary_file_is_rejected(tmp_path):
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(InputFormatError, match="binary file"):
        read_file(path)


def test_non_utf8_file_is_rejected(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\xe9 {{Infobox x}}".encode("latin-1"))
    with pytest.raises(InputFormatError, match="not UTF-8"):
        read_file(path)


def test_xml_given_as_file_points_to_dump(export_path):
    with pytest.raises(InputFormatError, match="use --dump"):
        read_file(export_path)


@pytest.mark.parametrize("base, expected", [
    ("https://zh.wikipedia.org/wiki/Wikipedia:首页", "https://zh.wikipedia.org/w/index.php"),
    ("http://127.0.0.1:8080/index.php/Main_Page", "http://127.0.0.1:8080/index.php"),
    (None, None),
])
def test_index_url(base, expected):
    assert index_url(base) == expected
