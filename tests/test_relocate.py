"""An edit inside an infobox's values finds the infoboxes without scanning the revision
(tasks.parse.fast.relocate): on real wikitext, random edits of figures, prose and markup inside the
infoboxes, each answer checked against a full scan (locate_infoboxes) and the reading against a
fresh fast-path parse."""

from __future__ import annotations

import random

import pytest

from benchmarks.accuracy import corpus_files, read_corpus_text
from tasks.parse import ParseCache
from tasks.parse.fast import FieldMemo, GiveUp, locate_infoboxes, parse_revision_fast, relocate
from tasks.parse.skip import changed_stretch

FILES = [(lang, path) for lang, paths in corpus_files().items() for path in paths]
PLAIN = ["5", "1,200", "", "约", " 人", "和", "（2013年）", "x"]
MARKUP = ["{{", "}}", "|", "=", "[[", "]]", "<ref name=x/>", "<!--", "-->", "-", "/", "<", ">",
          "{{Infobox person", "{{flagicon|Chad}}", "</ref>"]
ANCHORS = ["}}", "{{", "|", "=", "<ref", "-->", "/>", "[[", "]]", "{{flag", "\n"]


def _located(text: str, lang: str):
    try:
        return locate_infoboxes(text, lang)
    except GiveUp:
        return None


def _edit_inside(text: str, spans, rng: random.Random) -> str:
    a, b = rng.choice(spans)
    pos = rng.randrange(a, b)
    roll = rng.random()
    if roll < 0.5:  # next to markup: where a wrong answer would show
        anchor = rng.choice(ANCHORS)
        found = text.find(anchor, pos, b)
        if found >= 0:
            pos = found + rng.choice((0, len(anchor), len(anchor) + 1, -1))
    if roll < 0.3:  # change a digit, as a figure edit does
        digit = next((i for i in range(pos, min(b, pos + 200)) if text[i].isdigit()), None)
        if digit is not None:
            return text[:digit] + rng.choice("0123456789") + text[digit + 1:]
    if rng.random() < 0.25:
        return text[:pos] + text[pos + rng.randrange(1, 6):]
    return text[:pos] + rng.choice(PLAIN if rng.random() < 0.6 else MARKUP) + text[pos:]


USABLE = [(lang, path) for lang, path in FILES if _located(read_corpus_text(path), lang)]


def test_enough_corpus_files_are_located_by_the_scanner():
    assert len(USABLE) >= 40, len(USABLE)


@pytest.mark.parametrize("lang, path", USABLE[::2], ids=[f"{lang}/{p.stem}" for lang, p in USABLE[::2]])
def test_a_relocated_infobox_is_where_a_full_scan_finds_it(lang, path):
    text = read_corpus_text(path)
    located = _located(text, lang)
    spans = [(a, b) for _name, _params, a, b in located]
    rng = random.Random(path.name)
    relocated = 0
    for _ in range(60):
        edited = _edit_inside(text, spans, rng)
        moved = relocate(text, edited, located, changed_stretch(text, edited))
        if moved is None:
            continue
        relocated += 1
        assert moved == _located(edited, lang)
    assert relocated > 0


def test_markup_edits_are_never_relocated():
    for lang, path in USABLE[::4]:
        text = read_corpus_text(path)
        located = _located(text, lang)
        a, b = located[0][2], located[0][3]
        middle = (a + b) // 2
        for inserted in ("{{", "}}", "|", "=", "[[", "]]", "<ref>", "{{Infobox person|x=1}}"):
            edited = text[:middle] + inserted + text[middle:]
            assert relocate(text, edited, located, changed_stretch(text, edited)) is None


def test_chains_of_edits_read_like_fresh_parses():
    """The cache relocates from the previous revision's infoboxes, edit after edit: every reading
    equals a fresh fast-path parse of the same text (state and value ids included)."""
    relocated = 0
    for lang, path in USABLE[1::5]:
        text = read_corpus_text(path)
        cache = ParseCache()
        cache.parse(text, lang)
        rng = random.Random(path.name + "chain")
        for _ in range(25):
            spans = [(a, b) for _n, _p, a, b in _located(text, lang) or []]
            if not spans:
                break
            text = _edit_inside(text, spans, rng)
            reading = cache.parse(text, lang)
            fresh = parse_revision_fast(text, lang, FieldMemo())
            if fresh is None:
                continue
            assert reading == fresh and reading.state_id == fresh.state_id, path.name
            assert (reading.spans, reading.definition_spans) == (fresh.spans, fresh.definition_spans)
        relocated += cache.relocated
    assert relocated >= 20, relocated
