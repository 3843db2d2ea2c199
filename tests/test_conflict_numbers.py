"""Reading quantities: ranges, qualifiers, multipliers, numerals; dates are not quantities."""

from __future__ import annotations

import pytest

from tasks.parse.conflict.numbers import find_quantities


@pytest.mark.parametrize("text, expected", [
    ("6,000－7,000人", [(6000, 7000, "exact")]),
    ("1,200–3,000人", [(1200, 3000, "exact")]),
    ("6–65人阵亡", [(6, 65, "exact")]),
    ("约50人", [(50, 50, "approx")]),
    ("約144,000名难民", [(144000, 144000, "approx")]),
    ("23,564人以上", [(23564, None, "at_least")]),
    ("至少164人阵亡", [(164, None, "at_least")]),
    ("至少1,000–1,500人阵亡", [(1000, 1500, "at_least")]),
    ("逾3000人", [(3000, None, "at_least")]),
    ("500余人", [(500, None, "at_least")]),
    ("5,000+ troops", [(5000, None, "at_least")]),
    ("more than 200 killed", [(200, None, "at_least")]),
    ("up to 300 fighters", [(0, 300, "at_most")]),
    ("1.2万人", [(12000, 12000, "exact")]),
    ("3千人", [(3000, 3000, "exact")]),
    ("1–2万人", [(10000, 20000, "exact")]),
    ("三千人", [(3000, 3000, "exact")]),
    ("两万五千人", [(25000, 25000, "exact")]),
    ("c. 2.5 million displaced", [(2500000, 2500000, "approx")]),
    ("about 4,000 to 5,000 troops", [(4000, 5000, "approx")]),
    ("~600", [(600, 600, "approx")]),
    ("38人阵亡、74人受伤", [(38, 38, "exact"), (74, 74, "exact")]),
    ("2000 killed", [(2000, 2000, "exact")]),
])
def test_quantities(text, expected):
    assert [(q.low, q.high, q.qualifier) for q in find_quantities(text)] == expected


@pytest.mark.parametrize("text", [
    "（2012年4月）", "（2017年）", "(2013–present)", "（2012–17）", "2 killed (17–19 January)",
    "一些人", "as of 2015", "16 February",
])
def test_dates_and_words_are_not_quantities(text):
    found = [(q.low, q.high) for q in find_quantities(text)]
    assert found in ([], [(2, 2)])  # only the "2 killed" of the dated line counts
    if text.startswith("2 killed"):
        assert found == [(2, 2)]
