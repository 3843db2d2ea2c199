"""Property tests (hypothesis) of the number normaliser, tasks.parse.conflict.numbers.find_quantities."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tasks.parse.conflict.numbers import find_quantities

# Text made of the characters the normaliser reacts to, mixed with anything at all.
_INTERESTING = st.sampled_from(list("0123456789,，.-–—－~～至到 约約逾余多万萬千百亿億人名以上左右以下+<>≥≤()（）年月")
                               + ["about ", "at least ", "up to ", " to ", " thousand", " million",
                                  "c. ", " killed", " troops", "三", "两", "十", "零", "〇"])
TEXTS = st.one_of(st.text(), st.lists(_INTERESTING, max_size=30).map("".join))
UNITS = st.sampled_from(["", " troops", "人", " killed", "名士兵"])


@settings(max_examples=400, deadline=None)
@given(TEXTS)
@example("9" * 400 + " troops")
@example("65–6人")
@example("十十十万万人")
def test_never_raises_and_intervals_are_well_formed(text):
    for q in find_quantities(text):
        assert q.low >= 0
        assert q.high is None or q.low <= q.high
        assert q.qualifier in {"exact", "approx", "at_least", "at_most"}
        # open-ended only under "at least"; a range under it keeps its written upper end
        assert q.high is not None or q.qualifier == "at_least"
        assert 0 <= q.start < q.end <= len(text)
        assert q.text == text[q.start:q.end].strip()


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**12), UNITS, st.booleans())
def test_formatted_numbers_round_trip(n, unit, grouped):
    text = (f"{n:,}" if grouped else str(n)) + unit
    found = [(q.low, q.high, q.qualifier) for q in find_quantities(text)]
    if 1800 <= n <= 2100 and not grouped and not unit:
        assert found in ([], [(n, n, "exact")])  # a bare year-like number may be a date
    else:
        assert found == [(n, n, "exact")]


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**9), UNITS)
def test_ranges_keep_both_ends(a, b, unit):
    found = [(q.low, q.high) for q in find_quantities(f"{a:,}–{b:,}{unit or ' troops'}")]
    assert found == [(min(a, b), max(a, b))]


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=9999), st.sampled_from([("万", 10_000), ("千", 1_000),
                                                                    (" thousand", 1_000),
                                                                    (" million", 1_000_000)]))
def test_multipliers_scale(n, multiplier):
    word, factor = multiplier
    assert [(q.low, q.high) for q in find_quantities(f"{n}{word} troops")] == [(n * factor, n * factor)]
