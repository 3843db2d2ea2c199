"""Which templates are military-conflict infoboxes, and what their parameters mean (data-driven)."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

from tasks.parse import normalize_template_name

_DATA = Path(__file__).with_name("data") / "templates.toml"
_SUFFIX = re.compile(r"^(?P<stem>.*?)(?P<side>\d+)(?P<sub>[a-z]?)$")
ROLES = ("combatant", "commander", "units", "strength", "casualties", "notes")


@lru_cache(maxsize=1)
def _data() -> dict:
    with _DATA.open("rb") as fh:
        return tomllib.load(fh)


@lru_cache(maxsize=4096)
def is_conflict_template(name: str, lang: str | None) -> bool:
    """True for {{Infobox military conflict}}, its redirects and spelling variants, and the
    localized equivalents of ``lang`` (any case, spaces or underscores, with a namespace prefix)."""
    norm = normalize_template_name(name)
    data = _data()
    if norm in data["en"]["names"]:
        return True
    entry = data.get(lang or "")
    return bool(entry) and norm in entry["names"]


@lru_cache(maxsize=4096)
def canonical_field(name: str, lang: str | None) -> tuple[str, str, int | None] | None:
    """(english field name, role, side) for a parameter that carries belligerents or figures.

    "strength1" → ("strength1", "strength", 1); "Konfliktpartei2" (de) → ("combatant2", "combatant", 2);
    "combatant1a" → ("combatant1a", "combatant", 1); "notes" → ("notes", "notes", None).
    Other parameters (date, place…) → None.
    """
    key = name.strip().lower().replace("_", " ")
    match = _SUFFIX.match(key)
    stem, side, sub = (match["stem"].strip(), int(match["side"]), match["sub"]) if match \
        else (key, None, "")
    data = _data()
    maps = [data["en"]["params"]]
    if lang in data and lang != "en":
        maps.append({k.lower(): v for k, v in data[lang]["params"].items()})
    for mapping in maps:
        role = mapping.get(stem)
        if role:
            english = role + (f"{side}{sub}" if side is not None else "")
            return english, role, side
    return None
