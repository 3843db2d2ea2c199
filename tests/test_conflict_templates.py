"""Template recognition and localized parameters, kept as data."""

from __future__ import annotations

import pytest

from tasks.conflict import extract_conflict, is_conflict_template
from tasks.conflict.templates import canonical_field


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
    params = [("KONFLIKTPARTEI1", "{{DEU}} [[Deutschland]]"), ("TRUPPENSTÄRKE1", "ca. 1.000"),
              ("VERLUSTE1", "12 killed")]
    result = extract_conflict("Infobox Militärischer Konflikt", params, "de", "")
    assert [f["field"] for f in result["figures"]] == ["strength1", "casualties1"]
    assert result["figures"][1]["category"] == "killed"
    assert result["belligerents"][0]["field"] == "combatant1"


def test_hostile_value_becomes_an_issue():
    result = extract_conflict("Infobox military conflict", [("strength1", "{{" * 5000 + "12")],
                              "en", "")
    assert result["figures"] == [] or all(f["field"] == "strength1" for f in result["figures"])
    assert all(i["severity"] in ("warning", "error") for i in result["issues"])
