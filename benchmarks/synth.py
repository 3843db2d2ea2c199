"""Deterministic synthetic full-history dumps made from the seed article.

An edit mix like a busy conflict article's: about 15 % reverts to an earlier revision (its exact
text), 60 % edits outside the infobox (body text), 25 % edits inside it (a changed figure, an
added country line in strength1, an edited reference). Every edit changes the text (no null
edits), and the article does not balloon: added body sentences and country lines are bounded, so
revisions stay about the seed's size (44 KB of wikitext) as real ones do.

Written as a real MediaWiki export (tasks.sources.export_xml) and streamed to disk, so memory
does not grow with the number of revisions. The manifest beside the dump (same name, .json)
records the edit kind of every revision, so tests can check the mix against the dump itself.

    python -m benchmarks.synth benchmarks/out/h.xml --revisions 5000 [--pages 20] [--scale 4]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
from datetime import datetime, timedelta
from pathlib import Path

from tasks.sources.export_xml import write_footer, write_header, write_page
from tasks.sources.model import Revision

SEED = Path(__file__).resolve().parent.parent / "tests" / "data" / "seed_northern_mali_conflict.zh.wikitext"
# Bump when the bytes written for a given (pages, revisions, seed) change: cached dumps are redone.
GENERATOR_VERSION = 2
COUNTRIES = ["Kenya", "Egypt", "Jordan", "Mexico", "Brazil", "Norway", "Denmark", "Austria", "Peru",
             "Chile", "Ethiopia", "Indonesia", "Pakistan", "Bhutan", "Mongolia", "Fiji"]
MAX_ADDED_SENTENCES = 40  # beyond this an outside edit rewords an added sentence instead
KIND_LETTERS = {"first": "f", "revert": "r", "outside": "o", "inside": "i"}

_FIGURE_RE = re.compile(r"(?<=\}\} )(\d{1,3}(?:,\d{3})?)(?=人)")
_ACCESSDATE_RE = re.compile(r"\|accessdate=([^|}]*)")
_ADDED_RE = re.compile(r"（编辑(\d+)：补充了背景资料。）")


def infobox_end(text: str) -> int:
    """Offset just after the seed's {{Infobox military conflict}} (it ends after |notes)."""
    return text.index("\n}}\n", text.index("|notes")) + 4


class EditMix:
    """Produces the next text of a page from its recent history, deterministically for a seed."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def next_text(self, history: list[str]) -> tuple[str, str]:
        """(new text, kind) with kind revert | outside | inside; the text always differs."""
        current = history[-1]
        roll = self.rng.random()
        if roll < 0.15:
            targets = [t for t in history[-6:-1] if t != current]
            if targets:
                return self.rng.choice(targets), "revert"
            roll = 0.15 + self.rng.random() * 0.85  # nothing to revert to yet: another edit
        if roll < 0.75:
            return self._outside(current), "outside"
        return self._inside(current), "inside"

    def _outside(self, text: str) -> str:
        end = infobox_end(text)
        body = text[end:]
        n = self.rng.randrange(10**6)
        added = list(_ADDED_RE.finditer(body))
        if len(added) >= MAX_ADDED_SENTENCES or (added and self.rng.random() < 0.3):
            # Reword an earlier addition (a new number: never an earlier text again).
            target = self.rng.choice(added)
            body = body[:target.start(1)] + str(10**6 + n) + body[target.end(1):]
        else:
            paragraphs = [m.start() for m in re.finditer("\n\n", body)] or [len(body)]
            cut = self.rng.choice(paragraphs)
            body = body[:cut] + f"\n\n（编辑{n}：补充了背景资料。）" + body[cut:]
        return text[:end] + body

    def _inside(self, text: str) -> str:
        end = infobox_end(text)
        box, body = text[:end], text[end:]
        while True:  # until the infobox really changed
            kind = self.rng.random()
            absent = [c for c in COUNTRIES if f"{{{{flagicon|{c}}}}}" not in box]
            if kind < 0.5 or (kind < 0.8 and not absent):  # a changed figure
                target = self.rng.choice(list(_FIGURE_RE.finditer(box)))
                value = int(target.group(1).replace(",", ""))
                new = max(1, value + self.rng.choice([-50, -10, -1, 1, 10, 50, 100]))
                edited = box[:target.start()] + f"{new:,}" + box[target.end():]
            elif kind < 0.8:  # an added country line in strength1
                line = f"<br/>{{{{flagicon|{self.rng.choice(absent)}}}}} {self.rng.randrange(5, 900)}人\n"
                anchor = box.index("<br/>'''总计：'''")
                edited = box[:anchor] + line + box[anchor:]
            else:  # an edited reference
                target = self.rng.choice(list(_ACCESSDATE_RE.finditer(box)))
                date = f"{self.rng.randrange(1, 29)} {self.rng.choice(['March', 'April'])} 2014"
                edited = box[:target.start(1)] + date + box[target.end(1):]
            if edited != box:
                return edited + body


def _page_revisions(base: str, mix: EditMix, revisions: int, page: int, first_rev_id: int,
                    kinds: list[str]):
    """The page's revisions, generated lazily; appends each one's kind letter to ``kinds``."""
    start = datetime(2012, 1, 16)
    history = [base]
    parent = None
    for i in range(revisions):
        if i:
            text, kind = mix.next_text(history)
            history.append(text)
            del history[:-8]  # only recent texts are revert targets: memory stays flat
        else:
            text, kind = base, "first"
        kinds.append(KIND_LETTERS[kind])
        rev_id = first_rev_id + i
        yield Revision(rev_id, parent, start + timedelta(hours=i, minutes=page), f"User{i % 37}",
                       f"{kind} edit {i}", None, None, text)
        parent = rev_id


def generate(out: Path, *, pages: int = 1, revisions: int = 5000, seed: int = 2026) -> dict:
    """Write a dump of ``pages`` pages × ``revisions`` revisions; return its manifest.

    The manifest (also written to ``out`` with suffix .json) holds the edit counts and, per page,
    one letter per revision: f(irst), r(evert), o(utside the infobox), i(nside it).
    """
    if pages < 1 or revisions < 1:
        raise ValueError(f"need at least one page and one revision, not {pages} × {revisions}")
    base = SEED.read_text(encoding="utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    page_kinds: list[str] = []
    # Written aside and renamed: a reader of the previous dump keeps its file, a killed run
    # leaves no half dump behind.
    partial = out.with_name(out.name + ".partial")
    with partial.open("w", encoding="utf-8") as fh:
        write_header(fh, dbname="zhwiki", lang="zh", base="http://127.0.0.1:9/index.php/Main_Page")
        for page in range(pages):
            kinds: list[str] = []
            title = f"马利北部冲突 {page}" if pages > 1 else "马利北部冲突"
            revs = _page_revisions(base, EditMix(seed * 1000 + page), revisions, page,
                                   1_000_001 + page * revisions, kinds)
            write_page(fh, 10_000 + page, title, revs)
            page_kinds.append("".join(kinds))
        write_footer(fh)
    os.replace(partial, out)
    letters = "".join(page_kinds)
    counts = {kind: letters.count(letter) for kind, letter in KIND_LETTERS.items()}
    manifest = {"generator_version": GENERATOR_VERSION, "pages": pages, "revisions": revisions,
                "seed": seed, "edits": counts, "bytes": out.stat().st_size, "kinds": page_kinds}
    out.with_suffix(".json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def cached(out: Path, *, pages: int = 1, revisions: int = 5000, seed: int = 2026) -> tuple[Path, dict]:
    """``out`` and its manifest, generating the dump only if absent or made by other settings."""
    manifest_path = out.with_suffix(".json")
    if out.exists() and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        wanted = {"generator_version": GENERATOR_VERSION, "pages": pages, "revisions": revisions,
                  "seed": seed, "bytes": out.stat().st_size}
        if all(manifest.get(k) == v for k, v in wanted.items()):
            return out, manifest
    return out, generate(out, pages=pages, revisions=revisions, seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic full-history dump of the seed.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=1)
    parser.add_argument("--revisions", type=int, default=5000, help="per page, before --scale")
    parser.add_argument("--scale", type=int, default=1, help="multiply the revisions per page (4 = a 4× dump)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    manifest = generate(args.out, pages=args.pages, revisions=args.revisions * args.scale, seed=args.seed)
    print(json.dumps({k: v for k, v in manifest.items() if k != "kinds"}))


if __name__ == "__main__":
    main()
