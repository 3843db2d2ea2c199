"""Template recognition and localized parameters, kept as data."""

from __future__ import annotations

import pytest

from tasks.parse import parse_revision
from tasks.parse.names import canonical_field, is_conflict_template


@pytest.mark.parametrize("name, lang", [
    ("Infobox military conflict", "en"), ("infobox_military_conflict", "en"),
    ("Infobox Military Conflict", "zh"), ("Template:Infobox war", "en"), ("Warbox", "en"),
    ("模板:军事冲突信息框", "zh"), ("Infobox Conflit militaire", "fr"),
    ("Infobox Militärischer Konflikt", "de"), ("Ficha de conflicto", "es"),
    ("Военный конфликт", "ru"), ("Infobox 軍事衝突", "ja"),
])
def test_conflict_templates_are_recognised(name, lang):
    assert is_conflict_template(name, lang)


def test_other_infoboxes_are_not_conflicts():
    assert not is_conflict_template("Infobox settlement", "en")
    assert not is_conflict_template("Infobox Militärischer Konflikt", "fr")  # de name on fr


@pytest.mark.parametrize("name, lang, expected", [
    ("strength1", "zh", ("strength1", "strength", 1)),
    ("combatant1a", "en", ("combatant1a", "combatant", 1)),
    ("notes", "en", ("notes", "notes", None)),
    ("TRUPPENSTÄRKE2", "de", ("strength2", "strength", 2)),
    ("Konfliktpartei1", "de", ("combatant1", "combatant", 1)),
    ("pertes2", "fr", ("casualties2", "casualties", 2)),
    ("bajas1", "es", ("casualties1", "casualties", 1)),
    ("силы1", "ru", ("strength1", "strength", 1)),
    ("place", "en", None),
])
def test_localized_parameters_map_to_english_fields(name, lang, expected):
    assert canonical_field(name, lang) == expected


def test_german_infobox_yields_english_fields():
    text = ("{{Infobox Militärischer Konflikt\n|KONFLIKTPARTEI1={{DEU}} [[Deutschland]]\n"
            "|TRUPPENSTÄRKE1=ca. 1.000\n|VERLUSTE1=12 killed\n}}")
    [box] = parse_revision(text, "de").infoboxes
    assert [f["field"] for f in box.figures] == ["strength1", "casualties1"]
    assert box.figures[1]["category"] == "killed"
    assert box.belligerents[0]["field"] == "combatant1"


def test_hostile_value_becomes_an_issue_not_a_crash():
    text = "{{Infobox military conflict|strength1=" + "[[" * 5000 + "12|casualties1=5 killed}}"
    parsed = parse_revision(text, "en")
    assert [b.kind for b in parsed.infoboxes] == ["military_conflict"]
    assert [(f["field"], f["low"], f["category"]) for f in parsed.infoboxes[0].figures
            if f["field"] == "casualties1"] == [("casualties1", 5, "killed")]


def test_a_huge_field_is_capped_with_an_issue_and_figures_keep_their_own_text():
    from tasks.parse.conflict.figures import MAX_FIGURES_PER_FIELD

    value = ", ".join(f"{i % 900 + 1} troops" for i in range(MAX_FIGURES_PER_FIELD + 500))
    parsed = parse_revision("{{Infobox military conflict|strength1=" + value + "}}", "en")
    figures = parsed.infoboxes[0].figures
    assert len(figures) == MAX_FIGURES_PER_FIELD
    assert [i["code"] for i in parsed.issues] == ["too_many_figures"]
    assert figures[0]["low"] == 1 and figures[1]["raw"] == "2 troops,"  # its own text, not the line
    assert max(len(f["raw"]) for f in figures) <= 310  # bounded by the words window
