"""Golden tests of the military-conflict semantics on the real seed (zh.wikipedia 马利北部冲突).

Expected values are read from the seed text by hand (or with a regex written here, independent
of the parser), never copied from the parser's output.
"""

from __future__ import annotations

import re

import pytest

from tasks.parse import parse_revision


@pytest.fixture(scope="module")
def box(seed_text):
    parsed = parse_revision(seed_text, "zh")
    assert parsed.infoboxes[0].kind == "military_conflict"
    return parsed.infoboxes[0]


def figs(box, field, block=None):
    return [f for f in box.figures if f["field"] == field and (block is None or f["block"] == block)]


def by_entity(rows, entity):
    return [f for f in rows if f["entity"] == entity]


def test_eutm_block_itemised_sum_is_546(seed_text, box):
    # Independent reading: the 22 numbers of the {{Collapsible list}} titled 完整列表.
    start = seed_text.index("|title = 完整列表")
    listing = seed_text[start:seed_text.index("}}\n----", start)]
    numbers = [int(n) for n in re.findall(r"^\|\{\{flagicon\|[^}]+\}\} (\d+)", listing, re.M)]
    assert len(numbers) == 22 and sum(numbers) == 546
    block = figs(box, "strength1", 1)
    head = block[0]
    assert (head["entity"], head["low"], head["high"], head["is_total"], head["breakdown"]) == \
        ("European Union", 545, 545, True, "exhaustive")
    parts = [f for f in block if f["parent_seq"] == head["seq"]]
    assert [p["low"] for p in parts] == numbers
    assert {p["country_code"] for p in by_entity(parts, "UK")} == {"GBR"}
    assert {p["country_code"] for p in by_entity(parts, "Czech Republic")} == {"CZE"}


def test_strength1_first_block_countries_and_total(box):
    block = figs(box, "strength1", 0)
    mali = by_entity(block, "Mali")
    assert [(f["low"], f["high"], f["qualifier"], f["is_annotation"]) for f in mali] == [
        (6000, 7000, "exact", False), (12150, 12150, "approx", True)]  # （战前：约12,150人）
    liberia = by_entity(block, "Liberia")[0]
    assert (liberia["low"], liberia["qualifier"], liberia["country_code"]) == (50, "approx", "LBR")
    ivory = by_entity(block, "Ivory Coast")[0]
    assert ivory["country_code"] == "CIV"
    germany = by_entity(block, "Germany")[0]
    assert (germany["low"], germany["as_of"]) == (1000, "2017年")
    total = [f for f in block if f["is_total"]]
    assert [(t["low"], t["high"], t["qualifier"]) for t in total] == [(23564, None, "at_least")]
    parts = [f for f in block if f["parent_seq"] == total[0]["seq"]]
    assert len(parts) == 18 and not any(p["is_annotation"] for p in parts)
    assert all(f["category"] == "troops" and f["side"] == 1 for f in block)


def test_strength1_third_block_flna(box):
    flna = figs(box, "strength1", 2)
    assert [(f["low"], f["qualifier"], f["entity"], f["ref_names"]) for f in flna] == \
        [(500, "approx", "FLNA", ["FLNA"])]


def test_strength3_partial_breakdown(box):
    rows = figs(box, "strength3")
    head = rows[0]
    assert (head["low"], head["high"], head["is_total"], head["breakdown"], head["side"]) == \
        (1200, 3000, True, "partial", 3)
    assert [(f["entity"], f["low"], f["parent_seq"]) for f in rows[1:]] == [
        ("博科圣地", 100, head["seq"]), ("伊斯兰教法虔信者", 300, head["seq"])]


def test_casualties1_categories_qualifiers_and_as_of(box):
    block = figs(box, "casualties1", 0)
    assert [(f["category"], f["low"], f["high"], f["qualifier"], f["is_total"]) for f in block] == [
        ("killed", 164, None, "at_least", False),
        ("captured", 400, 400, "exact", False),
        ("killed+captured+missing", 1000, 1500, "at_least", True),
    ]
    assert block[2]["as_of"] == "2012年4月"
    assert [f["parent_seq"] for f in block[:2]] == [block[2]["seq"]] * 2


def test_chad_killed_and_wounded_are_two_figures(box):
    chad = by_entity(figs(box, "casualties1", 1), "Chad")
    assert [(f["category"], f["low"]) for f in chad] == [("killed", 38), ("wounded", 74)]
    assert chad[0]["country_code"] == "TCD" and len(chad[1]["ref_names"]) == 5


def test_vague_words_give_no_number_and_an_issue(seed_text, box):
    togo = by_entity(figs(box, "casualties1"), "Togo")
    assert [(f["category"], f["low"], f["high"]) for f in togo] == [("killed", 2, 2), ("wounded", None, None)]
    issues = parse_revision(seed_text, "zh").issues
    assert [(i["code"], i["field"]) for i in issues] == [("vague_number", "casualties1")]


def test_notes_refugees_and_displaced_add_up(box):
    notes = figs(box, "notes")
    assert [(f["category"], f["low"], f["qualifier"], f["is_total"]) for f in notes] == [
        ("refugees", 144000, "approx", False), ("displaced", 230000, "approx", False),
        ("other", 374000, "approx", True)]
    assert all(f["side"] is None for f in notes)


def test_named_refs_attach_to_their_figures_and_resolve(box):
    chad = by_entity(figs(box, "strength1", 0), "Chad")[0]
    assert chad["ref_names"] == ["Courier Mail-Chad"]
    citations = {c["ref_name"]: c for c in box.citations}
    # <ref name="Courier Mail-Chad"/> is defined elsewhere in the article.
    assert citations["Courier Mail-Chad"]["raw"] is not None
    gambia = citations["en.apa.az"]
    assert gambia["url"] == ("http://en.apa.az/news_int_l_support_mission_for_mali_to_begin__186169.html")
    assert gambia["publisher"] == "APA" and gambia["date"] == "18 January 2013"
    assert gambia["archive_url"].startswith("https://web.archive.org/web/20131004215546/")
    assert gambia["template"] == "cite web" and gambia["is_named"]
    unnamed = [c for c in box.citations if not c["is_named"]]
    assert unnamed and all(re.fullmatch(r"anon-[0-9a-f]{10}", c["ref_name"]) for c in unnamed)


def test_belligerents_sides_coalitions_roles_periods(box):
    rows = {(b["field"], b["name"]): b for b in box.belligerents}
    mali = rows[("combatant1", "马利政府")]
    assert (mali["country_code"], mali["side"], mali["role"], mali["link"]) == ("MLI", 1, "combatant", "马利政府")
    benin = rows[("combatant1", "Benin")]
    assert (benin["coalition"], benin["country_code"]) == ("西共體", "BEN")
    eu = rows[("combatant1", "European Union")]
    assert (eu["role"], eu["country_code"], eu["coalition"]) == ("support", None, None)
    assert rows[("combatant1", "United States")]["role"] == "support"
    assert rows[("combatant1", "Chad")]["role"] == "combatant"
    ganda = rows[("combatant1", "Ganda Iso")]
    assert (ganda["coalition"], ganda["country_code"]) == ("非国家的武装组织", None)
    assert rows[("combatant3", "穆拉比通組織")]["period"] == "（2013–17）"
    assert rows[("combatant3", "伊斯兰教法虔信者")]["period"] == "（2012年至今）"
    mnla = rows[("combatant2", "阿扎瓦德民族解放运动")]
    assert (mnla["side"], mnla["country_code"]) == (2, None)  # a flag image: a non-state group
    names = [b["name"] for b in box.belligerents if b["field"] == "combatant2"]
    assert "（MNLA）" not in names
