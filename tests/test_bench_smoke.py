"""Smoke test of the benchmark (issues 7, 17): the synthetic dump is deterministic and has the
intended edit mix, the two baselines write the same legacy rows, the equality check reads the
pipeline's side by the legacy columns (views and extra columns allowed) and catches a difference,
and `python -m benchmarks.run` prints every figure on a small history of the seed."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from benchmarks import legacy
from benchmarks.competent import run_competent
from benchmarks.naive import run_naive
from benchmarks.run import assert_equal_outputs
from benchmarks.synth import KIND_LETTERS, generate, infobox_end
from tasks.sources.dump import read_dump
from warehouse.db import texts_path

ROOT = Path(__file__).resolve().parent.parent


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


def as_pipeline_warehouse(legacy_file: Path, db: Path, *, views: bool = False) -> None:
    """A warehouse shaped like the pipeline's from a baseline's legacy file: the texts in the text
    store beside it, an extra column in revisions and, with ``views``, the derived tables as views
    of other tables (as the content-addressed layout of issue 17 will have them)."""
    con = duckdb.connect(str(db))  # default catalog `warehouse`, as the pipeline's writer names it
    try:
        con.execute(f"ATTACH '{legacy_file}' AS src (READ_ONLY)")
        con.execute(f"ATTACH '{texts_path(db)}' AS texts")
        con.execute("CREATE TABLE texts.revision_texts AS SELECT * FROM src.revision_texts")
        con.execute("CREATE TABLE revisions AS SELECT 'h' || rev_id AS content_hash, * FROM src.revisions")
        for table in legacy.DERIVED_TABLES:
            if views:
                con.execute(f"CREATE TABLE {table}_base AS SELECT * FROM src.{table}")
                con.execute(f"CREATE VIEW {table} AS SELECT * FROM {table}_base")
            else:
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM src.{table}")
    finally:
        con.close()


def test_baselines_write_equal_rows_and_a_difference_is_caught(tmp_path):
    dump = tmp_path / "h.xml"
    manifest = generate(dump, revisions=12, seed=2026)
    assert manifest["edits"]["revert"] >= 1 and manifest["edits"]["inside"] >= 1
    naive = run_naive(dump, tmp_path / "naive.duckdb", limit=8)
    assert naive["revisions"] == 8
    competent = run_competent(dump, tmp_path / "competent.duckdb", batch=5)
    assert competent["revisions"] == 12 and competent["batches"] == 3
    (tmp_path / "p").mkdir()
    (tmp_path / "v").mkdir()
    as_pipeline_warehouse(tmp_path / "competent.duckdb", tmp_path / "p" / "warehouse.duckdb")
    as_pipeline_warehouse(tmp_path / "competent.duckdb", tmp_path / "v" / "warehouse.duckdb", views=True)
    for pipeline in (tmp_path / "p" / "warehouse.duckdb", tmp_path / "v" / "warehouse.duckdb"):
        counts = assert_equal_outputs(tmp_path / "naive.duckdb", pipeline, "naive")
        assert counts["revisions"] == 8 and counts["figures"] > 8 * 50
        assert sum(counts.values()) == naive["rows"]  # restricted to the naive sample
        assert sum(assert_equal_outputs(tmp_path / "competent.duckdb", pipeline).values()) == competent["rows"]

    # The comparison can fail: one figure changed in the pipeline's warehouse is caught.
    con = duckdb.connect(str(tmp_path / "p" / "warehouse.duckdb"))
    # (the "p" copy holds the legacy layout as plain tables: see as_pipeline_warehouse)
    con.execute("UPDATE figures SET low = low + 1 WHERE rev_id = 1000001 AND seq = (SELECT min(seq) "
                "FROM figures WHERE low IS NOT NULL AND rev_id = 1000001) AND low IS NOT NULL")
    con.close()
    with pytest.raises(SystemExit, match="OUTPUTS DIFFER in figures"):
        assert_equal_outputs(tmp_path / "naive.duckdb", tmp_path / "p" / "warehouse.duckdb", "naive")
    # So is a text missing from the pipeline's text store.
    con = duckdb.connect(str(texts_path(tmp_path / "v" / "warehouse.duckdb")))
    con.execute("DELETE FROM revision_texts WHERE rev_id = 1000002")
    con.close()
    with pytest.raises(SystemExit, match="OUTPUTS DIFFER in revision_texts"):
        assert_equal_outputs(tmp_path / "naive.duckdb", tmp_path / "v" / "warehouse.duckdb", "naive")


FIGURES = ("read_alone_rev_s", "pipeline_rev_s", "pipeline_cpu_s", "pipeline_vs_read", "competent_rev_s",
           "speedup_vs_competent", "naive_rev_s", "speedup_vs_naive", "warehouse_mb", "legacy_mb",
           "peak_rss_mb", "one_revision_cold_s", "one_revision_warm_s")


def test_bench_prints_every_figure_and_compares_outputs():
    """`python -m benchmarks.run` on 30 revisions (naive on 10, competent on all 30): every figure
    as `name: number`, in order, and both baselines' outputs equal the pipeline's."""
    env = {**os.environ, "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS":
           os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "240")}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--revisions", "30",
                           "--naive-sample", "10"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    found = {m.group(1): float(m.group(2))
             for m in re.finditer(r"^(\w+): (-?\d+(?:\.\d+)?)$", out, re.MULTILINE)}
    assert [name for name in found if name in FIGURES] == list(FIGURES), out[-3000:]
    assert all(found[name] > 0 for name in FIGURES)
    assert found["pipeline_vs_read"] == pytest.approx(found["pipeline_rev_s"] / found["read_alone_rev_s"],
                                                      rel=0.05, abs=1e-3)
    assert "naive: sampled first 10 of 30 revisions" in out
    assert "competent: sampled" not in out
    assert re.search(r"^outputs equal \(naive vs pipeline\): \d+ rows of 10 revisions", out, re.MULTILINE)
    assert re.search(r"^outputs equal \(competent vs pipeline\): \d+ rows of 30 revisions", out, re.MULTILINE)
