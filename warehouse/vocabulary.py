"""The closed vocabularies of the figures table, defined once: the parser writes them
(tasks/parse/conflict/categories.py) and the expectations check them (expectations/checks.py).
Meaning of each word: docs/CATEGORIES.md."""

from __future__ import annotations

from itertools import combinations

# People categories that combine ("killed+wounded"), in the order a combination is written.
CORE_PEOPLE = ("killed", "dead", "wounded", "captured", "missing")
OTHER_PEOPLE = ("casualties", "troops", "displaced", "refugees", "formations")
EQUIPMENT = ("ships", "aircraft", "vehicles", "artillery", "equipment")
COMBINED = tuple("+".join(combo) for size in range(2, len(CORE_PEOPLE) + 1)
                 for combo in combinations(CORE_PEOPLE, size))
CATEGORIES: tuple[str, ...] = (CORE_PEOPLE + OTHER_PEOPLE + EQUIPMENT
                               + tuple(f"{kind}_lost" for kind in EQUIPMENT) + ("other",) + COMBINED)
QUALIFIERS = ("exact", "approx", "at_least", "at_most")
