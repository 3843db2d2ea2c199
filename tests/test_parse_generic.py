"""Golden tests of the generic infobox parser on the real seed article (zh.wikipedia)."""

from __future__ import annotations

import re

import pytest

from tasks.parse import ParseCache, is_infobox_name, normalize_template_name, parse_revision

SEED_FIELDS = [
    "conflict", "partof", "image", "image_size", "caption", "date", "place", "result",
    "combatant1", "combatant2", "combatant3", "commander1", "commander2", "commander3",
    "strength1", "strength2", "strength3", "casualties1", "casualties2", "casualties3", "notes",
]


@pytest.fixture(scope="module")
def seed_box(seed_text):
    parsed = parse_revision(seed_text, "zh")
    assert len(parsed.infoboxes) == 1
    return parsed.infoboxes[0]


def _raw_between(text: str, start: str, end: str) -> str:
    """Slice the seed by hand: the value after `start` up to the next `end` marker."""
    i = text.index(start) + len(start)
    return text[i:text.index(end, i)]


def test_seed_infobox_is_the_military_conflict_template(seed_box):
    assert seed_box.template == "Infobox military conflict"
    assert seed_box.box_idx == 0


def test_seed_infobox_has_every_conflict_parameter_in_order(seed_box):
    assert [name for name, _raw, _text in seed_box.params] == SEED_FIELDS


def test_raw_values_round_trip_exactly(seed_text, seed_box):
    # Rebuild the template call from the parsed parameters: it must be the seed's own text.
    start = seed_text.index("{{Infobox military conflict")
    rebuilt_parts = []
    cursor = start + len("{{Infobox military conflict\n")
    for name, raw, _text in seed_box.params:
        bar = seed_text.index("|", cursor)
        equals = seed_text.index("=", bar)
        assert seed_text[bar + 1:equals].strip() == name
        assert seed_text[equals + 1:equals + 1 + len(raw)] == raw
        rebuilt_parts.append(seed_text[bar:equals + 1] + raw)
        cursor = equals + 1 + len(raw)
    assert seed_text[cursor:cursor + 2] == "}}"
    rebuilt = "{{Infobox military conflict\n" + "".join(rebuilt_parts) + "}}"
    assert rebuilt == seed_text[start:cursor + 2]


def test_strength2_raw_equals_the_hand_sliced_seed(seed_text, seed_box):
    fields = {name: raw for name, raw, _ in seed_box.params}
    assert fields["strength2"] == _raw_between(seed_text, "|strength2 =", "|strength3 =")


def test_plain_text_keeps_words_and_numbers_and_drops_refs(seed_box):
    text = {name: t for name, _raw, t in seed_box.params}
    assert text["conflict"] == "马利北部冲突"
    assert text["place"] == "马利北部"
    assert text["partof"] == "阿拉伯之冬和马格里布叛乱"  # link label + {{tsl}} label
    assert text["strength2"] == "Azawad 3,000人"  # flag template shows its country; ref dropped
    assert text["strength3"].splitlines() == ["1,200–3,000人", "博科圣地：100人", "伊斯兰教法虔信者：300人"]
    assert text["notes"].splitlines()[-1] == "总计：约374,000人"
    assert "cite" not in text["strength1"] and "<ref" not in text["strength1"]
    assert "Liberia 约50人" in text["strength1"].splitlines()


def test_commander_fields_present_even_when_empty(seed_box):
    raw = {name: r for name, r, _ in seed_box.params}
    for name in ("commander1", "commander2", "commander3"):
        assert name in raw


@pytest.mark.parametrize("name, lang, expected", [
    ("Infobox military conflict", "zh", True),
    ("infobox_Military_Conflict", "en", True),
    ("Template:Infobox settlement", "en", True),
    ("模板:军事冲突信息框", "zh", True),
    ("Ficha de conflicto", "es", True),
    ("Карточка военного конфликта", "ru", True),
    ("Citation needed", "en", False),
    ("flagicon", "zh", False),
])
def test_infobox_names_are_recognised_from_data(name, lang, expected):
    assert is_infobox_name(name, lang) is expected


def test_normalize_template_name():
    assert normalize_template_name("  Template:Infobox_military   conflict <!-- x -->") == \
        "infobox military conflict"


def test_revision_without_infobox_is_an_info_issue():
    parsed = parse_revision("'''马利''' is a country.\n== History ==\nNo box here.", "zh")
    assert parsed.infoboxes == []
    assert [i["code"] for i in parsed.issues] == ["no_infobox"]


def test_hostile_text_becomes_a_parser_error_issue_not_an_exception():
    parsed = parse_revision("{{" * 20000, "en")
    codes = [i["code"] for i in parsed.issues]
    # mwparserfromhell either gives up with an error (recorded) or sees no template at all.
    assert codes in (["parser_error"], ["no_infobox"])
    if codes == ["parser_error"]:
        assert parsed.issues[0]["severity"] == "error"


def test_two_infoboxes_get_consecutive_indexes():
    text = "{{Infobox person|name=A}}\n{{Infobox settlement|name=B|population=3}}"
    parsed = parse_revision(text, "en")
    assert [(b.box_idx, b.template, b.kind) for b in parsed.infoboxes] == [
        (0, "Infobox person", "generic"), (1, "Infobox settlement", "generic")]
    assert parsed.infoboxes[1].params[1] == ("population", "3", "3")


def test_parse_cache_reuses_identical_texts(seed_text):
    cache = ParseCache(max_entries=2)
    first = cache.parse(seed_text, "zh")
    again = cache.parse(seed_text, "zh")
    assert again is first and cache.hits == 1 and cache.misses == 1
    cache.parse(seed_text + "\n", "zh")
    cache.parse(seed_text + "\n\n", "zh")  # evicts the oldest entry
    cache.parse(seed_text, "zh")
    assert cache.misses == 4


def test_parameter_text_collapses_markup():
    parsed = parse_revision("{{Infobox x|a = '''bold''' [[Target|label]]<br/>line2 <!-- c -->}}", "en")
    assert parsed.infoboxes[0].params[0][2] == "bold label\nline2"
    assert re.fullmatch(r" '''bold''' \[\[Target\|label\]\]<br/>line2 <!-- c -->",
                        parsed.infoboxes[0].params[0][1])
