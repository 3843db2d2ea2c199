"""Crafted revision histories built from the real seed, written as real XML exports."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from tasks.sources.export_xml import write_footer, write_header, write_page
from tasks.sources.model import Revision

NO_INFOBOX_TEXT = "'''马利北部冲突'''是2012年起发生在马利北部的武装冲突。\n\n== 背景 ==\n（信息框被移除）\n"


def seed_history(seed_text: str) -> list[str]:
    """Six texts: an older state, the seed, a vandal blanking of the infobox, its revert,
    a 10× vandalised figure, and its revert (the seed again)."""
    older = seed_text.replace("'''总计：''' 23,564人以上", "'''总计：''' 20,000人以上")
    vandal = seed_text.replace("{{flagicon|Chad}} 2,000人", "{{flagicon|Chad}} 20,000人")
    return [older, seed_text, NO_INFOBOX_TEXT, seed_text, vandal, seed_text]


def write_history(path: Path, texts: list[str], *, page_id: int = 5000, title: str = "马利北部冲突",
                  first_rev: int = 1000, dbname: str = "zhwiki") -> list[Revision]:
    """Write one page with ``texts`` as consecutive revisions; return the revisions written."""
    start = datetime(2020, 1, 1, 8, 0, 0)
    revisions = [
        Revision(rev_id=first_rev + i, parent_id=(first_rev + i - 1) if i else None,
                 timestamp=start + timedelta(hours=i), user=f"Editor{i % 3}", comment=f"edit {i}",
                 sha1=Revision.sha1_of(text), size=len(text.encode("utf-8")), text=text)
        for i, text in enumerate(texts)
    ]
    with path.open("w", encoding="utf-8") as fh:
        write_header(fh, dbname=dbname, lang="zh", base="http://127.0.0.1:9/index.php/Main_Page")
        write_page(fh, page_id, title, revisions)
        write_footer(fh)
    return revisions
