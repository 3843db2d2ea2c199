"""`make accuracy`: how right the parser is on real wikitext (tests/corpus/).

On the gold set (tests/corpus/gold/<lang>/<name>.tsv, conventions in tests/corpus/GOLD.md), per
language and overall:
- interval recall: gold numbers found in the same field with the same low and high;
- typed recall: … and the same category;
- entity recall: of the gold numbers that name an entity and were found, those with that entity;
- qualifier agreement: of the numbers found, those with the same qualifier;
- precision: parser numbers in strength/casualties/units fields that match a gold number.
On the whole corpus (gold or not): files, military-conflict infoboxes parsed, crashes (must be 0),
parse issues per infobox, and the share of figures with a specific category (not casualties/other).

    python -m benchmarks.accuracy                 # print the tables
    python -m benchmarks.accuracy --details zh    # … and every miss of the zh gold files
    python -m benchmarks.accuracy --write docs/ACCURACY.md
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import unescape

from tasks.parse import parse_revision
from tasks.parse.countries import country_code

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "corpus"
GOLD_FIELD_RE = re.compile(r"^(strength|casualties|units)\d+[a-z]?$")
UNSPECIFIC = {"casualties", "other"}
# A gold file counts once it has been read a second time against its wikitext (GOLD.md).
REVIEWED = "# second reading: done"


@dataclass(frozen=True)
class GoldFigure:
    field: str
    low: int
    high: int | None
    qualifier: str
    category: str
    entity: str


@dataclass
class Score:
    gold: int = 0
    interval: int = 0
    typed: int = 0
    qualifier: int = 0
    entity_gold: int = 0
    entity: int = 0
    predicted: int = 0
    matched_predicted: int = 0
    files: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name in ("gold", "interval", "typed", "qualifier", "entity_gold", "entity", "predicted",
                     "matched_predicted", "files"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @staticmethod
    def ratio(num: int, den: int) -> float | None:
        return num / den if den else None

    def figures(self) -> dict[str, float | None]:
        return {"interval_recall": self.ratio(self.interval, self.gold),
                "typed_recall": self.ratio(self.typed, self.gold),
                "entity_recall": self.ratio(self.entity, self.entity_gold),
                "qualifier_agreement": self.ratio(self.qualifier, self.interval),
                "precision": self.ratio(self.matched_predicted, self.predicted)}


def read_gold(path: Path) -> list[GoldFigure]:
    """Rows of a gold TSV (comment lines start with #)."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    rows = []
    for number, record in enumerate(csv.DictReader(lines, delimiter="\t"), start=2):
        try:
            rows.append(GoldFigure(record["field"].strip(), int(record["low"]),
                                   int(record["high"]) if (record.get("high") or "").strip() else None,
                                   record["qualifier"].strip(), record["category"].strip(),
                                   (record.get("entity") or "").strip()))
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise SystemExit(f"{path}: line {number}: {exc}: {record}") from exc
    return rows


def _norm(name: str | None) -> str:
    return re.sub(r"[\W_]+", "", (name or "").lower())


def same_entity(gold: str, got: str | None, got_code: str | None) -> bool:
    if not got:
        return False
    g, p = _norm(gold), _norm(got)
    if g and (g == p or g in p or p in g):
        return True
    code = country_code(gold)
    return code is not None and code == got_code


def score_file(lang: str, text: str, gold: list[GoldFigure], label: str) -> Score:
    parsed = parse_revision(text, lang)
    predicted = [f for box in parsed.infoboxes if box.kind == "military_conflict"
                 for f in box.figures if GOLD_FIELD_RE.match(f["field"]) and f["low"] is not None]
    score = Score(gold=len(gold), predicted=len(predicted), files=1)
    free = list(predicted)
    for want in gold:
        candidates = [f for f in free if f["field"] == want.field and f["low"] == want.low
                      and f["high"] == want.high]
        if not candidates:
            score.misses.append(f"{label}: MISSING {want.field} {want.low}–{want.high} "
                                f"{want.qualifier} {want.category} [{want.entity}]")
            continue
        best = max(candidates, key=lambda f: (f["category"] == want.category,
                                              same_entity(want.entity, f["entity"], f["country_code"])))
        free.remove(best)
        score.interval += 1
        score.matched_predicted += 1
        score.typed += best["category"] == want.category
        score.qualifier += best["qualifier"] == want.qualifier
        if want.entity:
            score.entity_gold += 1
            score.entity += same_entity(want.entity, best["entity"], best["country_code"])
        if want.entity and not same_entity(want.entity, best["entity"], best["country_code"]):
            score.misses.append(f"{label}: ENTITY {want.field} {want.low}: gold {want.entity!r}, "
                                f"got {best['entity']!r}")
        if best["category"] != want.category:
            score.misses.append(f"{label}: CATEGORY {want.field} {want.low}: gold {want.category}, "
                                f"got {best['category']}  | {best['raw'][:90]!r}")
    for extra in free:
        score.misses.append(f"{label}: EXTRA {extra['field']} {extra['low']}–{extra['high']} "
                            f"{extra['category']}  | {extra['raw'][:90]!r}")
    return score


def read_corpus_text(path: Path) -> str:
    """A corpus file's wikitext. A few sources stored it XML-escaped (``&lt;ref&gt;``, noted in
    PROVENANCE.md): such a file, with no real tag in it, is unescaped once, as a dump reader would."""
    text = path.read_text(encoding="utf-8")
    if "&lt;" in text and not re.search(r"<(ref|br|!--)", text, re.IGNORECASE):
        text = unescape(text, {"&quot;": '"', "&apos;": "'"})
    return text


def corpus_files() -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(CORPUS.glob("*/*.wikitext")):
        found[path.parent.name].append(path)
    return dict(found)


def measure() -> dict:
    """Every figure of the report, by language."""
    gold_scores: dict[str, Score] = {}
    corpus: dict[str, dict] = {}
    for lang, paths in corpus_files().items():
        stats = {"files": 0, "boxes": 0, "crashes": 0, "issues": 0, "figures": 0, "specific": 0,
                 "crashed": []}
        score = Score()
        for path in paths:
            text = read_corpus_text(path)
            stats["files"] += 1
            try:
                parsed = parse_revision(text, lang)
            except Exception:  # noqa: BLE001 - a crash is what this counts; it is reported in full
                stats["crashes"] += 1
                stats["crashed"].append(f"{path.name}: {traceback.format_exc(limit=3)}")
                continue
            boxes = [b for b in parsed.infoboxes if b.kind == "military_conflict"]
            stats["boxes"] += len(boxes)
            stats["issues"] += sum(1 for i in parsed.issues if i["code"] != "no_infobox")
            figures = [f for b in boxes for f in b.figures if f["low"] is not None]
            stats["figures"] += len(figures)
            stats["specific"] += sum(f["category"] not in UNSPECIFIC for f in figures)
            gold_path = CORPUS / "gold" / lang / (path.stem + ".tsv")
            if gold_path.exists() and REVIEWED in gold_path.read_text(encoding="utf-8"):
                file_score = score_file(lang, text, read_gold(gold_path), f"{lang}/{path.stem}")
                score.add(file_score)
                score.misses += file_score.misses
        corpus[lang] = stats
        if score.files:
            gold_scores[lang] = score
    overall = Score()
    for score in gold_scores.values():
        overall.add(score)
    return {"gold": gold_scores, "overall": overall, "corpus": corpus}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def render(result: dict, commit: str) -> str:
    out = [f"Measured at commit `{commit}` on {time.strftime('%Y-%m-%d')} by `make accuracy`.", "",
           "## Gold set (hand-annotated numbers, tests/corpus/gold/)", "",
           "| language | files | gold numbers | interval recall | typed recall | entity recall "
           "| qualifier agreement | precision |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    rows = sorted(result["gold"].items()) + [("all", result["overall"])]
    for lang, score in rows:
        f = score.figures()
        out.append(f"| {lang} | {score.files} | {score.gold} | {_pct(f['interval_recall'])} | "
                   f"{_pct(f['typed_recall'])} | {_pct(f['entity_recall'])} | "
                   f"{_pct(f['qualifier_agreement'])} | {_pct(f['precision'])} |")
    out += ["", "## Whole corpus (tests/corpus/<lang>/, gold or not)", "",
            "| language | files | conflict infoboxes | crashes | parse issues per infobox "
            "| figures | with a specific category |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    totals = defaultdict(int)
    for lang, stats in sorted(result["corpus"].items()):
        for key in ("files", "boxes", "crashes", "issues", "figures", "specific"):
            totals[key] += stats[key]
        out.append(_corpus_row(lang, stats))
    out.append(_corpus_row("all", totals))
    return "\n".join(out) + "\n"


def _corpus_row(lang: str, stats) -> str:
    per_box = stats["issues"] / stats["boxes"] if stats["boxes"] else 0.0
    share = stats["specific"] / stats["figures"] if stats["figures"] else 0.0
    return (f"| {lang} | {stats['files']} | {stats['boxes']} | {stats['crashes']} | {per_box:.2f} | "
            f"{stats['figures']} | {share:.3f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--details", nargs="*", metavar="LANG",
                        help="print every miss (of these languages; all when none is given)")
    parser.add_argument("--write", type=Path, help="write the tables into this Markdown file")
    args = parser.parse_args(argv)
    result = measure()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    report = render(result, commit)
    print(report)
    for lang, stats in result["corpus"].items():
        for crash in stats["crashed"]:
            print(f"CRASH {lang}/{crash}", file=sys.stderr)
    if args.details is not None:
        for lang, score in sorted(result["gold"].items()):
            if not args.details or lang in args.details:
                print("\n".join(score.misses))
    if args.write:
        text = args.write.read_text(encoding="utf-8") if args.write.exists() else ""
        head = text.split("<!-- accuracy:begin -->")[0] if text else "# Accuracy on real wikitext\n\n"
        tail = text.split("<!-- accuracy:end -->")[1] if "<!-- accuracy:end -->" in text else ""
        args.write.write_text(f"{head}<!-- accuracy:begin -->\n{report}<!-- accuracy:end -->{tail}",
                              encoding="utf-8")
    return 1 if any(s["crashes"] for s in result["corpus"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
