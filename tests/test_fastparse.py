"""The fast path (changed parameters only) gives exactly the slow path's rows."""

from __future__ import annotations

import pytest

from benchmarks.synth import generate
from tasks.parse import ParseCache, parse_revision
from tasks.parse.fast import FieldMemo, parse_revision_fast
from tasks.sources.dump import read_dump
from tests.conftest import SAMPLE_DUMP


def texts_of(path):
    return [(page.site.lang, rev.text) for page in read_dump(path) for rev in page.revisions]


def test_fast_equals_slow_on_the_sample():
    memo = FieldMemo()
    for lang, text in texts_of(SAMPLE_DUMP):
        fast = parse_revision_fast(text, lang, memo)
        assert fast is not None
        assert fast == parse_revision(text, lang)


def test_fast_equals_slow_on_a_synthetic_history(tmp_path):
    path = tmp_path / "h.xml"
    manifest = generate(path, revisions=120, seed=11)
    assert manifest["edits"]["inside"] > 10 and manifest["edits"]["revert"] > 5
    memo = FieldMemo()
    for lang, text in texts_of(path):
        assert parse_revision_fast(text, lang, memo) == parse_revision(text, lang)
    assert memo.hits > 10 * memo.misses  # most parameters were seen before


@pytest.mark.parametrize("text", [
    "{{Infobox person|name = {{{1}}}}}",                      # triple braces: not mirrored
    "{{Some wrapper|content={{Infobox person|name=A}}}}",     # infobox inside another template
    "{{Infobox person|name = A",                               # never closed
    "{{" * 2000,
])
def test_fast_path_declines_what_it_cannot_mirror(text):
    assert parse_revision_fast(text, "en", FieldMemo()) is None


@pytest.mark.parametrize("text", [
    "{{Infobox person|name = [[A|B]]|born = 1 <!-- | not a param -->|x=<ref>a|b</ref>}}",
    "{{Infobox military conflict\n|conflict = X\n|strength1 = A 100<ref name=\"n\"/>\n}}\n"
    "body <ref name=\"n\">{{cite web|url=http://x|title=T}}</ref>",
    "{{Infobox settlement|positional|name=S|=empty}}",
    "no infobox at all",
])
def test_fast_equals_slow_on_tricky_markup(text):
    fast = parse_revision_fast(text, "en", FieldMemo())
    assert fast is None or fast == parse_revision(text, "en")


def test_cache_falls_back_to_the_slow_path():
    cache = ParseCache()
    text = "{{Some wrapper|content={{Infobox person|name=A}}}}"
    assert cache.parse(text, "en") == parse_revision(text, "en")
    assert cache.slow == 1
