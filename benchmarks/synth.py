"""Deterministic synthetic full-history dumps made from the seed article.

An edit mix like a busy conflict article's: about 15 % reverts to an earlier revision (its exact
text), 60 % edits outside the infobox (body text), 25 % edits inside it (a changed figure, an
added country line in strength1, an edited reference). Written as a real MediaWiki export and
streamed to disk, so memory does not grow with the number of revisions.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from datetime import datetime, timedelta
from pathlib import Path

from tasks.sources.export_xml import write_footer, write_header, write_page
from tasks.sources.model import Revision

SEED = Path(__file__).resolve().parent.parent / "tests" / "data" / "seed_northern_mali_conflict.zh.wikitext"
COUNTRIES = ["Kenya", "Egypt", "Jordan", "Mexico", "Brazil", "Norway", "Denmark", "Austria", "Peru",
             "Chile", "Ethiopia", "Indonesia", "Pakistan", "Bhutan", "Mongolia", "Fiji"]


def _infobox_end(text: str) -> int:
    return text.index("\n}}\n", text.index("|notes")) + 4


class EditMix:
    """Produces the next text of a page from its history, deterministically for a seed."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def next_text(self, history: list[str]) -> tuple[str, str]:
        current = history[-1]
        roll = self.rng.random()
        if roll < 0.15 and len(history) > 2:
            return self.rng.choice(history[-6:-1]), "revert"
        if roll < 0.75:
            return self._outside(current), "outside"
        return self._inside(current), "inside"

    def _outside(self, text: str) -> str:
        end = _infobox_end(text)
        body = text[end:]
        n = self.rng.randrange(100000)
        if self.rng.random() < 0.5:
            body = body.replace("\n== 背景 ==", f"\n据报道第{n}号补充说明。\n== 背景 ==", 1)
        else:
            paragraphs = [m.start() for m in re.finditer("\n\n", body)] or [0]
            cut = self.rng.choice(paragraphs)
            body = body[:cut] + f"\n\n（编辑{n}：补充了背景资料。）" + body[cut:]
        return text[:end] + body

    def _inside(self, text: str) -> str:
        end = _infobox_end(text)
        box, body = text[:end], text[end:]
        kind = self.rng.random()
        if kind < 0.5:  # a changed figure
            numbers = list(re.finditer(r"(?<=\}\} )(\d{1,3}(?:,\d{3})?)(?=人)", box))
            target = self.rng.choice(numbers)
            value = int(target.group(1).replace(",", ""))
            new = max(1, value + self.rng.choice([-50, -10, -1, 1, 10, 50, 100]))
            box = box[:target.start()] + f"{new:,}" + box[target.end():]
        elif kind < 0.8:  # an added country line in strength1
            country = self.rng.choice(COUNTRIES)
            line = f"<br/>{{{{flagicon|{country}}}}} {self.rng.randrange(5, 900)}人\n"
            anchor = box.index("<br/>'''总计：'''")
            box = box[:anchor] + line + box[anchor:]
        else:  # an edited reference
            refs = list(re.finditer(r"\|accessdate=([^|}]*)", box))
            target = self.rng.choice(refs)
            box = box[:target.start(1)] + f"{self.rng.randrange(1, 28)} March 2014" + box[target.end(1):]
        return box + body


def generate(out: Path, *, pages: int = 1, revisions: int = 5000, seed: int = 2026) -> dict:
    """Write a dump of `pages` pages × `revisions` revisions; return its manifest (edit counts)."""
    base = SEED.read_text(encoding="utf-8")
    counts = {"revert": 0, "outside": 0, "inside": 0, "first": 0}
    out.parent.mkdir(parents=True, exist_ok=True)
    start = datetime(2012, 1, 16)
    rev_id = 1_000_000
    with out.open("w", encoding="utf-8") as fh:
        write_header(fh, dbname="zhwiki", lang="zh", base="http://127.0.0.1:9/index.php/Main_Page")
        for page in range(pages):
            mix = EditMix(seed * 1000 + page)
            history = [base]

            def revs():
                nonlocal rev_id
                parent = None
                for i in range(revisions):
                    if i:
                        text, kind = mix.next_text(history)
                        history.append(text)
                        del history[:-8]  # only the recent texts are revert targets
                    else:
                        text, kind = history[0], "first"
                    counts[kind] += 1
                    rev_id += 1
                    yield Revision(rev_id, parent, start + timedelta(hours=i, minutes=page),
                                   f"User{i % 37}", f"{kind} edit {i}", None, None, text)
                    parent = rev_id

            write_page(fh, 10_000 + page, f"马利北部冲突 {page}" if pages > 1 else "马利北部冲突", revs())
        write_footer(fh)
    manifest = {"pages": pages, "revisions": revisions, "seed": seed, "edits": counts,
                "bytes": out.stat().st_size}
    out.with_suffix(".json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Write a synthetic full-history dump of the seed.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=1)
    parser.add_argument("--revisions", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    print(json.dumps(generate(args.out, pages=args.pages, revisions=args.revisions, seed=args.seed)))
