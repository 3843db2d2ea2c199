"""An edit recognised as leaving the infoboxes alone (tasks.parse.skip) really does: on real
wikitext, random edits of prose and of markup, each verdict checked against a full reading."""

from __future__ import annotations

import random

import pytest

from benchmarks.accuracy import corpus_files, read_corpus_text
from tasks.parse import ParseCache
from tasks.parse.fast import FieldMemo, parse_revision_fast
from tasks.parse.skip import changed_stretch, unchanged_reading

FILES = [(lang, path) for lang, paths in corpus_files().items() for path in paths]
PROSE = ["，并补充了背景资料", " and later reports said so", "x", "", "1,200 troops", "（2013年）"]
MARKUP = ["{{", "}}", "|", "<ref name=x/>", "<!--", "-->", "<nowiki>", "{|", "[[a|b]]", "=",
          "{{Infobox person", "</ref>", "<ref>", ">"]


def _edit(text: str, rng: random.Random) -> str:
    pos = rng.randrange(len(text) + 1)
    roll = rng.random()
    if roll < 0.4:
        return text[:pos] + rng.choice(PROSE) + text[pos:]
    if roll < 0.6:
        return text[:pos] + text[pos + rng.randrange(1, 40):]
    if roll < 0.8:
        return text[:pos] + rng.choice(MARKUP) + text[pos:]
    # near markup: right after a "}}" or before a "<ref"
    anchors = [i for i in (text.find("}}", pos), text.find("<ref", pos)) if i >= 0]
    at = min(anchors) if anchors else pos
    return text[:at] + rng.choice(PROSE + MARKUP) + text[at:]


def test_changed_stretch_is_exact():
    rng = random.Random(7)
    for _ in range(500):
        old = "".join(rng.choice("ab{") for _ in range(rng.randrange(0, 30)))
        new = "".join(rng.choice("ab{") for _ in range(rng.randrange(0, 30)))
        start, end_old, end_new = changed_stretch(old, new)
        assert old[:start] == new[:start] and old[end_old:] == new[end_new:]
        assert start <= min(end_old, end_new) or old == new
        assert (start == min(len(old), len(new)) or old[start] != new[start]
                or end_old - start == 0 or end_new - start == 0)


@pytest.mark.parametrize("lang, path", FILES[::3], ids=[f"{lang}/{p.stem}" for lang, p in FILES[::3]])
def test_a_recognised_edit_reads_exactly_like_the_text_before(lang, path):
    text = read_corpus_text(path)
    memo = FieldMemo(max_entries=4096)
    before = parse_revision_fast(text, lang, memo)
    rng = random.Random(path.name)
    if before is None:  # left to the slow path (a table, a nested infobox): never recognised
        cache = ParseCache()
        cache.parse(text, lang)
        for _ in range(5):
            cache.parse(text[:len(text) // 2] + rng.choice(PROSE) + text[len(text) // 2:], lang)
        assert cache.unchanged == 0 and cache.slow == cache.misses >= 2
        return
    recognised = 0
    for _ in range(25):
        edited = _edit(text, rng)
        moved = unchanged_reading(text, edited, before.spans, before.definition_spans)
        after = parse_revision_fast(edited, lang, memo)
        if moved is None:
            continue
        recognised += 1
        assert after is not None and after == before and after.state_id == before.state_id
        assert (after.spans, after.definition_spans) == moved


def test_most_prose_edits_are_recognised_and_markup_edits_are_not():
    """The verdicts are useful, not only safe: over the corpus, prose inserted away from markup is
    recognised, and an inserted template or ref never is."""
    prose = markup = prose_total = 0
    for lang, path in FILES[::3]:
        text = read_corpus_text(path)
        before = parse_revision_fast(text, lang, FieldMemo())
        if before is None:
            continue
        end = max(b for _a, b in before.spans) if before.spans else 0
        paragraphs = [i for i in range(end, len(text) - 1) if text.startswith("\n\n", i)][:10]
        for at in paragraphs:
            prose_total += 1
            prose += unchanged_reading(text, text[:at] + "\n\n补充了背景资料。" + text[at:],
                                       before.spans, before.definition_spans) is not None
            markup += unchanged_reading(text, text[:at] + "{{Infobox person}}" + text[at:],
                                        before.spans, before.definition_spans) is not None
    assert prose_total >= 50
    assert prose / prose_total >= 0.5
    assert markup == 0


def test_the_cache_reuses_the_previous_reading_only_when_recognised():
    lang, path = next((lang, p) for lang, p in FILES if lang == "zh"
                      and parse_revision_fast(read_corpus_text(p), lang, FieldMemo()) is not None)
    text = read_corpus_text(path)
    cache = ParseCache()
    first = cache.parse(text, lang)
    end = max(b for _a, b in first.spans)
    at = next(i for i in range(end, len(text)) if text.startswith("\n\n", i)
              and not any(c in text[i - 4:i + 6] for c in "{}<>|"))
    prose = cache.parse(text[:at] + "\n\n补充。" + text[at:], lang)
    assert cache.unchanged == 1 and prose.state_id == first.state_id
    boxed = text[:end] + "\n{{Infobox person|name=x}}" + text[end:]
    assert cache.parse(boxed, lang).state_id != first.state_id
    assert cache.unchanged == 1
