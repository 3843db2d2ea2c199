"""A single plain wikitext file as a one-revision page (``infobox run --file``)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from tasks.sources.model import PageHistory, Revision, SiteInfo
from warehouse.errors import InputFormatError

LOCAL_WIKI = "local"


def _stable_id(text: str) -> int:
    # 48 bits of a SHA-1: stable across runs (idempotent reloads), far below BIGINT's range.
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:12], 16)


def read_wikitext(path: Path) -> str:
    """Read a file that must be UTF-8 text (not binary, not an XML export)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFormatError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if b"\x00" in data[:65536]:
        raise InputFormatError(f"{path} is a binary file, neither wikitext nor a MediaWiki XML export")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFormatError(
            f"{path} is not UTF-8 text (byte {exc.start}), neither wikitext nor a MediaWiki XML export"
        ) from exc
    head = text.lstrip()[:200]
    if head.startswith("<?xml") or head.startswith("<mediawiki"):
        raise InputFormatError(f"{path} is an XML file: use --dump for MediaWiki XML exports")
    if not text.strip():
        raise InputFormatError(f"{path} is empty")
    return text


def guess_lang(text: str) -> str | None:
    """zh when the text is mostly CJK, else None (the generic 'any' names still apply)."""
    # Chinese articles keep long stretches of Latin text (URLs in refs): 2% CJK is already zh.
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return "zh" if cjk > len(text) * 0.02 else None


def read_file(path: str | Path, lang: str | None = None) -> PageHistory:
    """The file as page ``local:<file name>`` with one revision whose id derives from its text."""
    path = Path(path)
    text = read_wikitext(path)
    mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).replace(tzinfo=None)
    revision = Revision(
        rev_id=_stable_id(text),
        parent_id=None,
        timestamp=mtime.replace(microsecond=0),
        user=None,
        comment=f"loaded from {path.name}",
        sha1=Revision.sha1_of(text),
        size=len(text.encode("utf-8")),
        text=text,
    )
    return PageHistory(
        site=SiteInfo(wiki=LOCAL_WIKI, lang=lang or guess_lang(text), base_url=None),
        page_id=_stable_id("page:" + path.name),
        title=path.stem,
        namespace=0,
        revisions=iter([revision]),
        source="file",
    )
