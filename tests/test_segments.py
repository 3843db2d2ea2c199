"""A value rendered piece by piece (tasks.parse.segments) gives exactly the lines, blocks and refs
of the whole value: on every parameter of every template of the real corpus, and on random
one-line edits of them."""

from __future__ import annotations

import random

import mwparserfromhell
import pytest

from benchmarks.accuracy import corpus_files, read_corpus_text
from tasks.parse.citations import NO_DEFINITIONS, CitationIndex
from tasks.parse.render import split_lines
from tasks.parse.segments import SegmentMemo, segmented_lines, split_segments

FILES = [(lang, path) for lang, paths in corpus_files().items() for path in paths]
INSERTS = ["，并补充了背景资料", " 1,200 troops", "{{", "}}", "[[", "]]", "[", "]", "<ref>", "</ref>",
           "<ref name=x/>", "<!--", "-->", "<nowiki>", "''", "'''", "<small>", "</small>", "<br />",
           "----", "\n", "\n*", "\n----\n", "{{flag|Chad}}", "<ref name=\"a\">{{cite web|url=u}}</ref>",
           "'''支持：'''", "{{Collapsible list|title=x|a\n|b}}", "\n;", ":", "=", "|"]


def _values(text: str) -> list[str]:
    """Every parameter value of every template in the text (nested ones too)."""
    code = mwparserfromhell.parse(text)
    return [str(param.value) for template in code.filter_templates() for param in template.params]


def _whole(raw: str, with_refs: bool, article: str):
    citations = CitationIndex(article, shared=NO_DEFINITIONS) if with_refs else None
    try:
        lines = split_lines(mwparserfromhell.parse(raw), citations)
    except RecursionError:
        return None
    return lines, citations


def _assert_same(raw: str, memo: SegmentMemo, article: str = "") -> bool:
    """Segmented == whole for one value (with and without refs recorded); True if it split."""
    split = False
    for with_refs in (True, False):
        citations = CitationIndex(article, shared=NO_DEFINITIONS) if with_refs else None
        lines = segmented_lines(raw, citations, memo)
        if lines is None:
            assert citations is None or (not citations.rows and not citations.resolved)
            continue
        split = True
        whole = _whole(raw, with_refs, article)
        assert whole is not None, raw[:200]
        whole_lines, whole_citations = whole
        assert lines == whole_lines, raw[:300]
        if with_refs:
            assert list(citations.rows.items()) == list(whole_citations.rows.items())
            assert citations.resolved == whole_citations.resolved
    return split


def test_split_keeps_every_character_but_the_cut_newlines():
    raw = "{{flag|Chad}} 2,000<ref>a\nb</ref>\n'''EU:'''\n{{Collapsible list|\n* x\n}}\ny"
    pieces = split_segments(raw)
    assert pieces == ["{{flag|Chad}} 2,000<ref>a\nb</ref>", "'''EU:'''",
                      "{{Collapsible list|\n* x\n}}", "y"]
    assert "\n".join(pieces) == raw


def test_open_bold_or_comment_stops_the_cuts():
    assert split_segments("a\n'''b\nc'''\nd\ne") == ["a", "'''b\nc'''\nd\ne"]
    assert split_segments("a\n<!-- b\nc\nd") == ["a", "<!-- b\nc\nd"]


@pytest.mark.parametrize("lang, path", FILES, ids=[f"{lang}/{p.stem}" for lang, p in FILES])
def test_every_corpus_value_reads_the_same_piece_by_piece(lang, path):
    text = read_corpus_text(path)
    memo = SegmentMemo()
    for raw in _values(text):
        _assert_same(raw, memo, text)


def _multiline(text: str) -> list[str]:
    return [raw for raw in _values(text) if raw.count("\n") >= 3]


# The files that have a value of several lines to edit (the others write lists with <br />).
MULTILINE = [(lang, path) for lang, path in FILES if _multiline(read_corpus_text(path))]


def test_enough_corpus_files_have_multi_line_values():
    assert len(MULTILINE) >= 25, len(MULTILINE)  # 29 of the corpus when written


@pytest.mark.parametrize("lang, path", MULTILINE, ids=[f"{lang}/{p.stem}" for lang, p in MULTILINE])
def test_random_one_line_edits_read_the_same_piece_by_piece(lang, path):
    text = read_corpus_text(path)
    values = _multiline(text)
    rng = random.Random(path.name)
    memo = SegmentMemo()
    split = 0
    for _ in range(120):
        raw = rng.choice(values)
        lines = raw.split("\n")
        i = rng.randrange(len(lines))
        roll = rng.random()
        if roll < 0.5:
            pos = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:pos] + rng.choice(INSERTS) + lines[i][pos:]
        elif roll < 0.65:
            pos = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:pos] + lines[i][pos + rng.randrange(1, 20):]
        elif roll < 0.8:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif roll < 0.9:
            del lines[i]
        else:
            lines[i] = rng.choice(INSERTS)
        split += _assert_same("\n".join(lines), memo, text)
    assert split > 0


def test_line_quantities_memo_answers_like_a_fresh_reading():
    from tasks.parse.conflict import figures
    from tasks.parse.conflict.numbers import find_quantities

    rng = random.Random(3)
    lines = [line for lang, path in FILES[::4] for line in read_corpus_text(path).split("\n")
             if any(ch.isdigit() for ch in line)][:3000]
    assert len(lines) > 500
    for line in lines:
        for limit in (rng.randrange(1, 4), 5000, rng.randrange(1, 4)):
            assert figures._quantities(line, "zh", limit) == find_quantities(line, "zh", limit=limit)


def test_a_closer_inside_a_ref_or_a_link_label_closes_nothing():
    assert split_segments("{{a|<ref>}}</ref>\nb}}\nc\nd") == ["{{a|<ref>}}</ref>\nb}}", "c", "d"]
    assert split_segments("{{a|[[b|}}]]\nc}}\nd\ne") == ["{{a|[[b|}}]]\nc}}", "d", "e"]
    for raw in ("{{a|<ref>}}</ref>\nb}}\nc\nd", "{{a|[[b|}}]]\nc}}\nd\ne"):
        assert _assert_same(raw, SegmentMemo())


def test_the_memo_stays_within_its_character_budget():
    memo = SegmentMemo(max_chars=800)
    for i in range(50):
        memo.render(f"{{{{flag|Chad}}}} {i * 37:,} troops" + "x" * 60, True)
        assert memo._chars <= 800
    memo.render("y" * 5000, True)  # over an eighth of the budget: rendered, not kept
    assert memo._chars <= 800 and ("y" * 5000, True) not in memo._entries


LISTS = [
    # one list template, blank text around it, refs and flags in items
    "\n{{Collapsible list\n|bullets = yes\n|title = '''總計：''' 約 5,000<ref>t</ref>\n"
    "|{{flagicon|Chad}} 2,000<ref name=\"a\">{{cite web|url=u|title=x}}</ref>\n"
    "|{{flagicon|Niger}} 1,000<ref name=\"a\"/>\n|'''法國：''' 3,000\n}}\n",
    # an item with a nested list, a ---- and a <br />; no title; two title= (the first counts)
    "{{plainlist|\n* a 1\n* b 2<br />c 3\n----\nd 4|{{ubl|e 5|f 6}}}}",
    "{{ubl|title=x|title=y|1,000 troops|2,000 tanks}}",
    # a value of several pieces, one of them a list
    "'''EU:'''\n{{Collapsible list|title=EU|a 1|b 2}}\n{{flagicon|Mali}} 3\nx",
]


@pytest.mark.parametrize("raw", LISTS)
def test_a_list_template_is_read_item_by_item_like_the_whole(raw):
    memo = SegmentMemo()
    assert _assert_same(raw, memo)
    assert memo.items.misses > 0  # the items were rendered one by one
    before = memo.items.misses
    edited = raw.replace("2,000", "2,500", 1)
    assert _assert_same(edited, memo)
    assert memo.items.misses - before <= 2  # one item changed: one item read again (× refs on/off)


@pytest.mark.parametrize("raw", [
    "{{Collapsible list|title=x|[http://a.example b|c] 1,000|d 2}}",  # '|' inside an external link
    "{{Collapsible list|title=x|<span title=\"a|b\">1</span>|d 2}}",
    "{{Collapsible list|x {{{1|}}}|d 2}}",
])
def test_a_list_the_scanner_would_split_otherwise_is_read_whole(raw):
    memo = SegmentMemo()
    _assert_same(raw, memo)
    assert memo.items.misses == 0


def test_a_template_that_is_not_a_list_is_read_whole():
    memo = SegmentMemo()
    raw = "{{Infobox person\n|name = a\n|born = 1900\n}}"
    _assert_same(raw, memo)
    assert memo.items.misses == 0


@pytest.mark.parametrize("lang, path", MULTILINE, ids=[f"{lang}/{p.stem}" for lang, p in MULTILINE])
def test_line_rows_memo_reads_edited_values_like_a_fresh_reading(lang, path, monkeypatch):
    """The memo of a line's figures (tasks.parse.conflict.figures._line_reading) answers as a
    reading without it, for real values edited one line at a time and read in several roles —
    the same lines met again in other fields, blocks and contexts."""
    from tasks.parse.conflict import figures

    def fresh(*args):
        rows, issues, has_total = figures._read_line(*args)
        return tuple(rows), tuple(issues), has_total

    memoized = figures._line_reading
    rng = random.Random(path.name)
    values = _multiline(read_corpus_text(path))
    read = 0
    for _ in range(40):
        lines = rng.choice(values).split("\n")
        i = rng.randrange(len(lines))
        # (a total word alone on its line makes the next line's figures totals)
        lines[i] = lines[i][:rng.randrange(len(lines[i]) + 1)] + rng.choice(
            [*INSERTS, "\nTotal:\n", "\n'''总计'''\n", "\n* 1,500 killed\n"])
        if rng.random() < 0.3:
            lines.insert(i, lines[rng.randrange(len(lines))])  # a line again, elsewhere
        try:
            rendered = split_lines(mwparserfromhell.parse("\n".join(lines)), None)
        except RecursionError:
            continue
        for field, role, side in (("strength1", "strength", 1), ("casualties2", "casualties", 2),
                                  ("notes", "notes", None)):
            monkeypatch.setattr(figures, "_line_reading", memoized)
            warm = figures.field_figures(field, role, side, rendered, lang)
            again = figures.field_figures(field, role, side, rendered, lang)  # from the memo
            monkeypatch.setattr(figures, "_line_reading", fresh)
            cold = figures.field_figures(field, role, side, rendered, lang)
            assert warm == cold and again == cold, "\n".join(lines)[:300]
            read += len(cold[0])
    assert read > 0
