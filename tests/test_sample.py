"""The bundled sample is a real export of real edits, ending with the seed text."""

from __future__ import annotations

from tasks.sources.dump import read_dump
from tests.conftest import SAMPLE_DUMP


def test_sample_is_one_page_with_seven_chained_revisions(seed_text):
    pages = read_dump(SAMPLE_DUMP)
    page = next(pages)
    revisions = list(page.revisions)
    assert (page.site.wiki, page.site.lang, page.title, page.namespace) == ("zhwiki", "zh", "马利北部冲突", 0)
    assert len(revisions) == 7
    assert revisions[0].parent_id is None
    for before, after in zip(revisions, revisions[1:], strict=False):
        assert after.parent_id == before.rev_id
        assert after.timestamp > before.timestamp
    assert revisions[-1].text == seed_text
    assert next(pages, None) is None


def test_sample_history_has_a_revert_a_vandal_edit_and_a_blanked_infobox(seed_text):
    texts = [r.text for p in read_dump(SAMPLE_DUMP) for r in p.revisions]
    assert texts[3] == texts[1] == texts[5]  # two reverts to rev 3
    assert "{{flagicon|Chad}} 20,000人" in texts[2] and "{{flagicon|Chad}} 2,000人" in texts[1]
    assert "{{Infobox military conflict" not in texts[4]
    assert "{{flagicon|Sierra Leone}}" not in texts[0] and "{{flagicon|Sierra Leone}}" in texts[1]
    assert texts[6] == seed_text and texts[6] != texts[5]
