"""Grouped figure checks read each distinct field value once (Check.value_sql) and count its
revisions from revisions × state_fields: their frames must equal the per-revision grouping of
Check.sql, row for row, on a real multi-page history loaded in two runs."""

from __future__ import annotations

import pytest

from benchmarks.synth import generate
from expectations.checks import CHECKS
from expectations.runner import _query_frame, load_settings
from tasks.load import batch_rows, load_batch
from tasks.parse import ParseCache
from tasks.sources.dump import read_dump
from warehouse.db import connect


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two pages × 150 revisions (the pages share most field values); the first 100 revisions of
    each page loaded by run-a, the rest by run-b."""
    path = tmp_path_factory.mktemp("values") / "h.xml"
    generate(path, pages=2, revisions=150, seed=3)
    con = connect(path.with_suffix(".duckdb"))
    cache = ParseCache()
    for page in read_dump(path):
        revisions = list(page.revisions)
        parsed = [cache.parse(r.text, page.site.lang, r.sha1) for r in revisions]
        for run_id, part in (("run-a", slice(0, 100)), ("run-b", slice(100, None))):
            load_batch(con, batch_rows(page, revisions[part], parsed[part], run_id))
    yield con
    con.close()


@pytest.mark.parametrize("check", [c for c in CHECKS if c.value_sql], ids=lambda c: c.id)
def test_per_value_frame_equals_the_per_revision_frame(two_runs, check):
    _levels, settings = load_settings()
    per_revision = _query_frame(two_runs, check, "run-b", settings, per_value=False)
    per_value = _query_frame(two_runs, check, "run-b", settings)
    assert list(per_value.columns) == list(per_revision.columns)
    assert per_value.astype(str).values.tolist() == per_revision.astype(str).values.tolist()
    assert len(per_value) > 0
    # The history is really shared: values on both pages, counted over many revisions.
    assert per_value["page_id_"].nunique() == 2 and (per_value["n_rows"] > 1).any()


def test_the_history_mixes_old_and_new_values(two_runs):
    """(So that the frames above compare is_new_ / at_latest_ both ways.)"""
    check = next(c for c in CHECKS if c.id == "figures_non_negative")
    frame = _query_frame(two_runs, check, "run-b", load_settings()[1])
    assert frame["is_new_"].any() and not frame["is_new_"].all()
    assert frame["at_latest_"].any() and not frame["at_latest_"].all()
