"""Golden test on English infobox text written for this project (an invented conflict): the same
template and parameter names as en.wikipedia, with flags, a support section, a period, ranges,
qualifiers, a total, an as-of date, categories, a vague word and a named ref used twice."""

from __future__ import annotations

import pytest

from tasks.parse import parse_revision

TEXT = """'''Lakeside campaign''' is a conflict invented for the tests of this project.
{{Infobox military conflict
| conflict    = Lakeside campaign
| partof      = the [[Example wars]]
| date        = 3 March 2014 – 9 May 2016
| place       = Lakeside
| result      = Ceasefire
| combatant1  = {{flag|United Kingdom}}<br/>{{flagicon|France}} [[France]]<br/>'''Support:'''<br/>{{flag|Ivory Coast}}
| combatant2  = [[Northern Front (Lakeside)|Northern Front]] (2014–2015)
| commander1  = {{flagicon|UK}} Jane Doe
| commander2  = John Roe
| strength1   = {{flagicon|UK}} 1,200–1,500 troops<br/>{{flagicon|France}} about 3,000<ref name="wire">{{cite web |url=http://example.org/wire |title=Troops arrive |publisher=Example Wire |date=2015-01-02}}</ref><br/>'''Total:''' 4,200–4,500
| strength2   = at least 2,000 fighters (as of 2015)
| casualties1 = 12 killed<br/>40 wounded<ref name="wire"/>
| casualties2 = 300+ killed<br/>85 captured<br/>many wounded
| casualties3 = c. 2.5 million displaced
}}
The campaign began in March.
"""


@pytest.fixture(scope="module")
def parsed():
    return parse_revision(TEXT, "en")


@pytest.fixture(scope="module")
def box(parsed):
    assert [b.kind for b in parsed.infoboxes] == ["military_conflict"]
    return parsed.infoboxes[0]


def test_belligerents(box):
    got = [(b["side"], b["name"], b["country_code"], b["role"], b["period"], b["link"])
           for b in box.belligerents]
    assert got == [
        (1, "United Kingdom", "GBR", "combatant", None, None),
        (1, "France", "FRA", "combatant", None, "France"),
        (1, "Ivory Coast", "CIV", "support", None, None),          # alias: CIV
        (2, "Northern Front", None, "combatant", "(2014–2015)", "Northern Front (Lakeside)"),
    ]


def test_figures(box):
    got = [(f["field"], f["entity"], f["country_code"], f["category"], f["low"], f["high"],
            f["qualifier"], f["as_of"], f["is_total"]) for f in box.figures]
    assert got == [
        ("strength1", "UK", "GBR", "troops", 1200, 1500, "exact", None, False),
        ("strength1", "France", "FRA", "troops", 3000, 3000, "approx", None, False),
        ("strength1", None, None, "troops", 4200, 4500, "exact", None, True),
        ("strength2", None, None, "troops", 2000, None, "at_least", "2015", False),
        ("casualties1", None, None, "killed", 12, 12, "exact", None, False),
        ("casualties1", None, None, "wounded", 40, 40, "exact", None, False),
        ("casualties2", None, None, "killed", 300, None, "at_least", None, False),
        ("casualties2", None, None, "captured", 85, 85, "exact", None, False),
        ("casualties2", None, None, "wounded", None, None, "approx", None, False),
        ("casualties3", None, None, "displaced", 2_500_000, 2_500_000, "approx", None, False),
    ]


def test_refs_attach_to_their_figures_and_resolve(box):
    refs = {(f["field"], f["low"]): f["ref_names"] for f in box.figures}
    assert refs[("strength1", 3000)] == ["wire"]
    assert refs[("casualties1", 40)] == ["wire"]   # the re-use <ref name="wire"/>
    assert refs[("strength1", 1200)] == []
    [citation] = box.citations
    assert {k: citation[k] for k in ("ref_name", "template", "url", "title", "publisher", "date")} == {
        "ref_name": "wire", "template": "cite web", "url": "http://example.org/wire",
        "title": "Troops arrive", "publisher": "Example Wire", "date": "2015-01-02"}


def test_vague_word_is_an_issue_not_a_number(parsed):
    assert [(i["field"], i["code"], i["raw"]) for i in parsed.issues] == [
        ("casualties2", "vague_number", "many wounded")]
