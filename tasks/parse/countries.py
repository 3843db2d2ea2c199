"""Country names and codes from flag templates → ISO 3166-1 alpha-3 (pycountry + an alias table)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

import pycountry

_ALIASES = Path(__file__).with_name("data") / "country_aliases.toml"


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    with _ALIASES.open("rb") as fh:
        return tomllib.load(fh)["aliases"]


@lru_cache(maxsize=4096)
def country_code(name: str | None) -> str | None:
    """ISO alpha-3 code of a flag template's country, or None for non-states and unknown names."""
    if not name:
        return None
    key = " ".join(name.replace("_", " ").split()).lower()
    aliases = _aliases()
    if key in aliases:
        return aliases[key] or None
    try:
        return pycountry.countries.lookup(key).alpha_3
    except LookupError:
        return None


@lru_cache(maxsize=4096)
def country_name(name: str) -> str:
    """A readable country name for a flag parameter that may be a code (FRA → France)."""
    stripped = name.strip()
    if len(stripped) in (2, 3) and stripped.isupper():
        try:
            country = pycountry.countries.lookup(stripped)
            return getattr(country, "common_name", None) or country.name
        except LookupError:
            return stripped
    return stripped
