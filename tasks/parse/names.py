"""Template and parameter names: which templates are infoboxes, which are military-conflict
infoboxes, and what their parameters mean. Data-driven (``data/infobox_names.toml``,
``data/templates.toml``); imports nothing of ours.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

_DATA_DIR = Path(__file__).with_name("data")
_SPACES_RE = re.compile(r"[ \t\u3000]+")
_COMMENT_RE = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_SUFFIX = re.compile(r"^(?P<stem>.*?)(?P<side>\d+)(?P<sub>[a-z]?)$")
ROLES = ("combatant", "commander", "units", "strength", "casualties", "notes")


@lru_cache(maxsize=1)
def _infobox_names() -> dict:
    with (_DATA_DIR / "infobox_names.toml").open("rb") as fh:
        return tomllib.load(fh)


@lru_cache(maxsize=1)
def _conflict_data() -> dict:
    with (_DATA_DIR / "templates.toml").open("rb") as fh:
        return tomllib.load(fh)


@lru_cache(maxsize=16384)
def normalize_template_name(name: str) -> str:
    """Lower case, '_' → ' ', spaces collapsed, comments and namespace prefix removed."""
    name = _COMMENT_RE.sub("", name)
    name = _SPACES_RE.sub(" ", name.replace("_", " ")).strip().lower()
    for prefix in _infobox_names()["namespaces"]["names"]:
        if name.startswith(prefix):
            name = name[len(prefix):].strip()
            break
    return name


@lru_cache(maxsize=4096)
def is_conflict_template(name: str, lang: str | None) -> bool:
    """True for {{Infobox military conflict}}, its redirects and spelling variants, and the
    localized equivalents of ``lang`` (any case, spaces or underscores, with a namespace prefix)."""
    norm = normalize_template_name(name)
    data = _conflict_data()
    if norm in data["en"]["names"]:
        return True
    entry = data.get(lang or "")
    return bool(entry) and norm in entry["names"]


@lru_cache(maxsize=16384)
def is_infobox_name(name: str, lang: str | None) -> bool:
    """True when a template name denotes an infobox on a wiki of language ``lang``."""
    norm = normalize_template_name(name)
    names = _infobox_names()
    for key in ("any", lang or ""):
        entry = names.get(key)
        if not entry:
            continue
        if any(norm.startswith(p) for p in entry["prefixes"]):
            return True
        if any(norm.endswith(s) for s in entry["suffixes"]):
            return True
    return is_conflict_template(name, lang)


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
    data = _conflict_data()
    maps = [data["en"]["params"]]
    if lang in data and lang != "en":
        maps.append({k.lower(): v for k, v in data[lang]["params"].items()})
    for mapping in maps:
        role = mapping.get(stem)
        if role:
            english = role + (f"{side}{sub}" if side is not None else "")
            return english, role, side
    return None
