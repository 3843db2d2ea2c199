"""Smoke test of the benchmark (issue 7): the synthetic dump is deterministic and has the intended
edit mix, and the naive baseline's tables equal the pipeline's on a small history of the seed."""

from __future__ import annotations

import hashlib
import json

import duckdb
import pytest

from benchmarks.naive import run_naive
from benchmarks.run import assert_equal_outputs
from benchmarks.synth import KIND_LETTERS, generate, infobox_end
from tasks.load import batch_rows, load_batch
from tasks.parse import ParseCache
from tasks.sources.dump import read_dump
from warehouse.db import connect


def sha256_of(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def kinds_seen_in(path) -> str:
    """Each revision's edit kind as the dump shows it: r = same text as an earlier revision,
    i = the infobox changed, o = only the body changed, f = the first revision."""
    letters, seen, previous = [], set(), None
    for page in read_dump(path):
        for rev in page.revisions:
            if previous is None:
                letters.append("f")
            elif rev.sha1 in seen:
                letters.append("r")
            elif rev.text[:infobox_end(rev.text)] != previous[:infobox_end(previous)]:
                letters.append("i")
            else:
                letters.append("o")
            seen.add(rev.sha1)
            previous = rev.text
    return "".join(letters)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    first = generate(tmp_path / "a.xml", revisions=60, seed=7)
    again = generate(tmp_path / "b.xml", revisions=60, seed=7)
    other = generate(tmp_path / "c.xml", revisions=60, seed=8)
    assert sha256_of(tmp_path / "a.xml") == sha256_of(tmp_path / "b.xml")
    assert first == {**again, "bytes": first["bytes"]}
    assert sha256_of(tmp_path / "c.xml") != sha256_of(tmp_path / "a.xml")
    assert other["kinds"] != first["kinds"]


def test_edit_mix_is_about_15_60_25_and_the_manifest_tells_the_truth(tmp_path):
    path = tmp_path / "h.xml"
    manifest = generate(path, revisions=600, seed=2026)
    edits = manifest["edits"]
    assert sum(edits.values()) == 600 and edits["first"] == 1
    assert 0.11 <= edits["revert"] / 599 <= 0.19
    assert 0.53 <= edits["outside"] / 599 <= 0.67
    assert 0.19 <= edits["inside"] / 599 <= 0.31
    # The manifest's letters are what the dump really holds, revision by revision.
    assert kinds_seen_in(path) == manifest["kinds"][0]
    assert json.loads(path.with_suffix(".json").read_text())["kinds"] == manifest["kinds"]
    assert set(manifest["kinds"][0]) == set(KIND_LETTERS.values())


def test_pages_variant_has_distinct_page_ids_titles_and_rev_ids(tmp_path):
    path = tmp_path / "p.xml"
    manifest = generate(path, pages=3, revisions=5, seed=3)
    pages = [(p.page_id, p.title, [r.rev_id for r in p.revisions]) for p in read_dump(path)]
    assert len({p[0] for p in pages}) == len({p[1] for p in pages}) == 3
    rev_ids = [r for p in pages for r in p[2]]
    assert len(rev_ids) == len(set(rev_ids)) == 15 and len(manifest["kinds"]) == 3


def load_like_the_pipeline(dump, db, batch_size: int = 8) -> int:
    """The flow's pure pieces without Prefect: one ParseCache, batches of rows, one transaction each."""
    cache = ParseCache()
    con = connect(db)
    loaded = 0
    try:
        for page in read_dump(dump):
            revisions = list(page.revisions)
            for start in range(0, len(revisions), batch_size):
                chunk = revisions[start:start + batch_size]
                parsed = [cache.parse(rev.text, page.site.lang, rev.sha1) for rev in chunk]
                loaded += load_batch(con, batch_rows(page, chunk, parsed, "pipeline"))["revisions"]
    finally:
        con.close()
    assert cache.hits >= 1  # the reverts were served from the cache, not parsed again
    return loaded


def test_naive_tables_equal_the_pipeline_tables_on_30_revisions(tmp_path):
    dump = tmp_path / "h.xml"
    manifest = generate(dump, revisions=30, seed=2026)
    assert manifest["edits"]["revert"] >= 1 and manifest["edits"]["inside"] >= 1
    naive = run_naive(dump, tmp_path / "naive.duckdb")
    assert naive["revisions"] == 30
    assert load_like_the_pipeline(dump, tmp_path / "pipeline.duckdb") == 30
    counts = assert_equal_outputs(tmp_path / "naive.duckdb", tmp_path / "pipeline.duckdb")
    assert counts["revisions"] == 30 and counts["figures"] > 30 * 50
    assert sum(counts.values()) == naive["rows"]

    # The comparison can fail: one figure changed in the pipeline's warehouse is caught.
    con = duckdb.connect(str(tmp_path / "pipeline.duckdb"))
    con.execute("UPDATE figures SET low = low + 1 WHERE rev_id = (SELECT max(rev_id) FROM figures) "
                "AND low IS NOT NULL AND seq = (SELECT min(seq) FROM figures WHERE low IS NOT NULL "
                "AND rev_id = (SELECT max(rev_id) FROM figures))")
    con.close()
    with pytest.raises(SystemExit, match="OUTPUTS DIFFER in figures"):
        assert_equal_outputs(tmp_path / "naive.duckdb", tmp_path / "pipeline.duckdb")
