"""What a number counts: its category, read from the words beside it. Pure; vocabulary as data
(``data/categories.toml``; documented in docs/CATEGORIES.md).

A line with several numbers is cut into segments: the text between two numbers is shared at its
last separator (，、;, "and", "(" …), the part before it belonging to the number on the left
("20 soldiers killed, | 85 wounded and | 24 captured"), the rest to the number on the right
("戰死19164人，| 戰傷约80000人"). A number's category comes from, in order:

1. a measure word right after it (300架 → aircraft, 5艘 → ships, 3个师 → formations);
2. the words after it, then the words before it, then the line's lead-in (text before its first
   number: "'''受伤总数：''' 566,434人"), then the line's context (a list title or a label line);
3. the field's role: a strength number counts troops, a casualties number casualties.

Equipment (ships, aircraft, vehicles, artillery, equipment) is never troops; in a casualties field,
or next to a loss word (sunk, 击落…), it is a loss: ``ships_lost``. People words combine:
"captured/missing" → ``captured+missing``, 阵亡、被俘或失踪 → ``killed+captured+missing``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from warehouse.vocabulary import CORE_PEOPLE as CORE

_SEPARATOR_RE = re.compile(
    r"[，,;；、。/（(\[]|\s(?:and|et|und|и|y|e|or|ou|oder|или|o)\s|和|及|与|與|以及|另有|其中|包括")
_LEADING_UNIT_RE = re.compile(r"\s*(?:人|名|艘|架|辆|輛|门|門|匹|余|餘|多|個|个|隻|機|両)+")
_LATIN = "a-zà-öø-ÿœæß"


@lru_cache(maxsize=1)
def _vocabulary() -> dict:
    with (Path(__file__).parent.parent / "data" / "categories.toml").open("rb") as fh:
        return tomllib.load(fh)


def _pattern(word: str) -> str:
    escaped = re.escape(word)
    if re.search(f"[{_LATIN}]", word):
        return rf"(?<![{_LATIN}]){escaped}(?![{_LATIN}])"
    if re.search("[а-яё]", word):
        return rf"(?<![а-яё]){escaped}"
    return escaped


@lru_cache(maxsize=1)
def _matcher() -> tuple[re.Pattern, dict[str, tuple[str, str]], re.Pattern]:
    """One regular expression over every word (longest first), and what each word means."""
    vocab = _vocabulary()
    meaning: dict[str, tuple[str, str]] = {}
    for category, words in vocab["people"].items():
        meaning.update({w: ("people", category) for w in words})
    for kind, words in vocab["equipment"].items():
        meaning.update({w: ("equipment", kind) for w in words if w not in meaning})
    meaning.update({w: ("formations", "formations") for w in vocab["formations"]["words"]})
    for w in vocab["loss"]["words"]:
        meaning.setdefault(w, ("loss", "loss"))
    meaning.update({w: ("not_loss", "not_loss") for w in vocab["not_loss"]["words"]})
    loss_words = sorted(vocab["loss"]["words"], key=len, reverse=True)
    words = sorted(meaning, key=len, reverse=True)
    matcher = re.compile("|".join(f"(?:{_pattern(w)})" for w in words))
    losses = re.compile("|".join(f"(?:{_pattern(w)})" for w in loss_words))
    return matcher, meaning, losses


@lru_cache(maxsize=1)
def _measure_re() -> tuple[re.Pattern, dict[str, str]]:
    measures = _vocabulary()["measure"]
    alternatives = "|".join(re.escape(m) for m in sorted(measures, key=len, reverse=True))
    # 3个师, 300余架, 5艘; not 军人/军队 (people), not 团结 etc.
    # 六個突擊大隊, 一個高炮師, 6个半旅: a few words may stand between 个 and the unit.
    return re.compile(rf"\s*(?:余|餘|多)?\s*(?:(?:个|個)[\u4e00-\u9fff]{{0,6}}?)?\s*({alternatives})"
                      rf"(?!人|队|隊|官|士|事|民|机|機)"), measures


@dataclass
class Words:
    """The category words found in a piece of text."""

    people: list[str] = field(default_factory=list)   # in order of appearance, combinations kept
    equipment: list[str] = field(default_factory=list)
    formations: bool = False
    loss: bool = False
    not_loss: bool = False

    def specific(self) -> bool:
        return bool(self.equipment or self.formations
                    or [c for c in self.people if c != "troops"])


@lru_cache(maxsize=65536)
def read_words(text: str) -> Words:
    matcher, meaning, losses = _matcher()
    found = Words()
    lowered = text.lower()
    for match in matcher.finditer(lowered):
        group, value = meaning[match.group(0)]
        if group == "people":
            found.people.append(value)
        elif group == "equipment":
            found.equipment.append(value)
        elif group == "formations":
            found.formations = True
        elif group == "not_loss":
            found.not_loss = True
        else:
            found.loss = True
    # A loss word also read as a people word ("captured", 失踪) still marks equipment as lost.
    found.loss = found.loss or bool(losses.search(lowered))
    return found


def split_between(between: str) -> tuple[str, str]:
    """Share the text between two numbers: (words of the left number, words of the right one)."""
    separators = list(_SEPARATOR_RE.finditer(between))
    if separators:
        last = separators[-1]
        return between[:last.start()], between[last.end():]
    unit = _measure_re()[0].match(between) or _LEADING_UNIT_RE.match(between)
    if unit and between[unit.end():].strip():
        return between[:unit.end()], between[unit.end():]
    return between, ""


def _people(words: Words) -> str | None:
    core: set[str] = set()
    for category in words.people:
        core.update(part for part in category.split("+") if part in CORE)
    if core:
        return "+".join(c for c in CORE if c in core)
    others = [c for c in words.people if c != "troops"]
    return others[0] if others else None


def _decide(words: Words, role: str, lost: bool, people_only: bool = False) -> str | None:
    """A category from one piece of text, or None when it says nothing of the kind."""
    if people_only:  # 炮艇战队伤亡11人: the 人 says these are people, whatever the words name
        words = Words(people=words.people)
    if words.equipment:
        kind = words.equipment[0]
        return f"{kind}_lost" if lost else kind
    if words.formations:
        return "formations"
    people = _people(words)
    if people is not None:
        return people
    if "troops" in words.people and role != "casualties":
        return "troops"  # "20 soldiers killed" is killed; "20 soldiers" in a casualties field says nothing
    return None


_PEOPLE_MEASURE_RE = re.compile(r"\s*(?:余|餘|多)?\s*(?:人|名)")
_NEAR_END_RE = re.compile(r"[(（\[;；:：]")


def default_category(role: str) -> str:
    return {"strength": "troops", "units": "troops", "casualties": "casualties"}.get(role, "other")


@lru_cache(maxsize=65536)  # a pure function of its strings; the same words recur in every revision
def number_category(role: str, after: str, before: str, lead: str = "", context: str = "",
                    inherit: str | None = None) -> str:
    """The category of one number from, in order: a measure word right after it; its own words
    after it (up to a bracket or a colon first: "100,000+ sailors (… ships)" counts sailors), then
    all of them; its words before; the category of the number a parenthesis annotates
    (``inherit``: "202 captured (183 laborers, 19 soldiers)"); the line's lead-in; the line's
    context; else the role's default."""
    measure_re, measures = _measure_re()
    near = after[:m.start()] if (m := _NEAR_END_RE.search(after)) else after
    own = [read_words(near), read_words(after), read_words(before)]
    is_loss = any(s.loss for s in own) or (role == "casualties" and not own[1].not_loss)
    measure = measure_re.match(after)
    if measure:
        kind = measures[measure.group(1)]
        if kind in ("formations", "other"):
            return kind
        return f"{kind}_lost" if is_loss else kind
    people_only = bool(_PEOPLE_MEASURE_RE.match(after))
    for words in own:
        category = _decide(words, role, is_loss, people_only)
        if category is not None:
            return category
    if inherit is not None:
        return inherit
    for text in (lead, context):
        category = _decide(read_words(text), role, is_loss, people_only)
        if category is not None:
            return category
    return default_category(role)
