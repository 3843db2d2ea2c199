"""Plain data records shared by every source (no I/O here)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SiteInfo:
    """What we know of the wiki a page lives on."""

    wiki: str  # dbname (zhwiki) or short name; "local" for --file input
    lang: str | None  # content language (zh, en, …)
    base_url: str | None  # link base, e.g. https://zh.wikipedia.org/w/index.php


@dataclass(frozen=True)
class Revision:
    """One revision of a page, as the source served it."""

    rev_id: int
    parent_id: int | None
    timestamp: datetime | None  # UTC, naive
    user: str | None
    comment: str | None
    sha1: str | None  # 40 hex digits
    size: int | None
    text: str | None

    @staticmethod
    def sha1_of(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()


@dataclass
class PageHistory:
    """A page and an iterator over (some of) its revisions, oldest first."""

    site: SiteInfo
    page_id: int
    title: str
    namespace: int
    revisions: Iterator[Revision]
    redirect_from: str | None = None
    source: str = "dump"  # dump | file | api
    extra: dict = field(default_factory=dict)
