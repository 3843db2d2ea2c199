"""Expectations on real data: the bundled sample, loaded by the library, validated by GX."""

from __future__ import annotations

import json

import pytest

from expectations import validate
from expectations.runner import load_settings
from tasks.load import batch_rows, load_batch
from tasks.parse import parse_revision
from tasks.sources.dump import read_dump
from warehouse.db import connect
from warehouse.errors import ConfigError

RUN = "run-sample"


def load_dump(con, path, run_id=RUN):
    for page in read_dump(path):
        revisions = list(page.revisions)
        parsed = [parse_revision(r.text, page.site.lang) for r in revisions]
        load_batch(con, batch_rows(page, revisions, parsed, run_id))


@pytest.fixture()
def sample_con(tmp_path, sample_warehouse):
    con = connect(sample_warehouse(RUN, tmp_path))  # what load_dump(con, SAMPLE_DUMP) writes
    yield con
    con.close()


def outcome(summary, name):
    return next(o for o in summary.outcomes if o.expectation == name)


def test_sample_blanked_infobox_is_a_warning_with_the_revision_in_words(sample_con, tmp_path):
    summary = validate(sample_con, RUN, tmp_path)
    missing = outcome(summary, "revision_has_infobox")
    assert not missing.success and missing.severity == "warning"
    assert missing.unexpected_count == 1
    assert missing.unexpected_sample[0]["rev_id"] == 6
    assert missing.unexpected_sample[0]["description"] == \
        "马利北部冲突 rev 6 by Vandal-2026 has no infobox (删除信息框)"
    assert summary.critical_failed == 0
    for name in ("revisions_rev_id_unique", "history_parent_present", "referential_integrity",
                 "history_timestamps_increasing"):
        assert outcome(summary, name).success, name


def test_results_are_stored_in_sql_both_passed_and_failed(sample_con, tmp_path):
    summary = validate(sample_con, RUN, tmp_path)
    rows = sample_con.execute(
        "SELECT expectation, severity, success, unexpected_count, unexpected_sample "
        "FROM expectation_results WHERE run_id = ? ORDER BY expectation", [RUN]).fetchall()
    assert len(rows) == len(summary.outcomes) >= 10
    assert {r[2] for r in rows} == {True, False}
    stored = {r[0]: r for r in rows}
    sample = json.loads(stored["revision_has_infobox"][4])
    assert sample[0]["rev_id"] == 6
    # Validating the same run again replaces its rows instead of duplicating them.
    validate(sample_con, RUN, tmp_path)
    again = sample_con.execute("SELECT count(*) FROM expectation_results WHERE run_id = ?",
                               [RUN]).fetchall()
    assert again == [(len(rows),)]


def test_severity_override_makes_a_failure_critical(sample_con, tmp_path):
    summary = validate(sample_con, RUN, tmp_path, severities={"revision_has_infobox": "critical"})
    assert summary.critical_failed == 1


@pytest.mark.parametrize("overrides, message", [
    ({"no_such_check": "warning"}, "severities.no_such_check: no such expectation"),
    ({"totals_reconcile": "fatal"}, "severities.totals_reconcile: 'fatal' is not one of"),
])
def test_bad_severities_are_named(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(overrides)


def test_reports_exist_and_show_the_problem(sample_con, tmp_path):
    summary = validate(sample_con, RUN, tmp_path)
    page = summary.report_path.read_text(encoding="utf-8")
    assert "马利北部冲突 rev 6 by Vandal-2026 has no infobox" in page
    assert "http://127.0.0.1:8080/index.php?oldid=6" in page
    assert (tmp_path / "reports" / "latest.html").read_text(encoding="utf-8") == page
    assert summary.docs_index.exists() and summary.docs_index.name == "index.html"
    assert summary.docs_index.is_relative_to(tmp_path / "gx")


def test_a_missing_field_value_breaks_referential_integrity(sample_con, tmp_path):
    (value_id, n_readers) = sample_con.execute(
        "SELECT s.value_id, count(DISTINCT r.rev_id) FROM state_fields s JOIN revisions r "
        "USING (state_id) WHERE s.box_idx = 0 AND s.seq = 0 GROUP BY ALL ORDER BY 2 LIMIT 1").fetchone()
    sample_con.execute("DELETE FROM field_values WHERE value_id = ?", [value_id])
    summary = validate(sample_con, RUN, tmp_path)
    broken = outcome(summary, "referential_integrity")
    assert not broken.success and broken.severity == "critical"
    assert len(broken.unexpected_sample) == n_readers
    assert broken.unexpected_sample[0]["description"].endswith(
        f"box 0 parameter 0 reads field value {value_id}, which is not stored")
    assert summary.critical_failed == 1


def test_a_hole_in_the_history_is_found(sample_con, tmp_path):
    sample_con.execute("DELETE FROM revisions WHERE rev_id = 4")
    summary = validate(sample_con, RUN, tmp_path)
    hole = outcome(summary, "history_parent_present")
    assert not hole.success
    assert [row["rev_id"] for row in hole.unexpected_sample] == [5]
    assert "parent 4 is missing" in hole.unexpected_sample[0]["description"]


def test_freshness_only_for_scheduled_runs(sample_con, tmp_path):
    manual = validate(sample_con, RUN, tmp_path)
    assert "freshness" not in {o.expectation for o in manual.outcomes}
    sample_con.execute("UPDATE revisions SET ts = ts - INTERVAL 400 DAY")
    scheduled = validate(sample_con, RUN, tmp_path, scheduled=True)
    stale = outcome(scheduled, "freshness")
    assert not stale.success and stale.severity == "warning"


def test_sample_eu_block_fails_totals_and_notes_pass(sample_con, tmp_path):
    summary = validate(sample_con, RUN, tmp_path)
    totals = outcome(summary, "totals_reconcile")
    assert not totals.success and totals.severity == "warning"
    descriptions = [row["description"] for row in totals.unexpected_sample]
    assert "strength1 block 1 European Union: declared 545, itemised 546 (22 parts, exhaustive, rev 8)" \
        in descriptions
    assert not any(d.startswith("notes") for d in descriptions)
    # Validated and counted as distinct findings (one per wrong total, shown at its latest
    # revision) — GX's own count, which its Data Docs show —; each problem keeps its rows.
    tolerance = load_settings()[1]["approx_tolerance"]
    rows, findings = sample_con.execute(
        "SELECT count(*), count(DISTINCT (field, block, entity, declared_low, declared_high, sum_low, "
        "sum_high)) FROM reconcile_totals(?) WHERE status = 'inconsistent'", [tolerance]).fetchall()[0]
    assert totals.unexpected_count == findings == len(totals.problems) and findings < rows
    assert sum(p["n_rows"] for p in totals.problems) == rows
    assert len(descriptions) == min(findings, 20)
    notes = sample_con.execute("SELECT DISTINCT status FROM v_total_reconciliation "
                               "WHERE field = 'notes'").fetchall()
    assert notes == [("consistent",)]


def test_sample_vandal_jump_is_a_suspicious_change_warning(sample_con, tmp_path):
    summary = validate(sample_con, RUN, tmp_path)
    jump = outcome(summary, "suspicious_change")
    assert not jump.success and jump.severity == "warning"
    assert [(r["rev_id"], r["old_low"], r["new_low"]) for r in jump.unexpected_sample] == \
        [(4, 2000, 20000), (5, 20000, 2000)]


def test_a_sourced_update_is_not_suspicious(tmp_path, seed_text):
    from tests.history import write_history

    # The same 10× change, but with a different reference: a sourced update, not vandalism.
    sourced = seed_text.replace('{{flagicon|Chad}} 2,000人<ref name="Courier Mail-Chad"/>',
                                '{{flagicon|Chad}} 20,000人<ref name="new-source">x</ref>')
    assert sourced != seed_text
    path = tmp_path / "h.xml"
    write_history(path, [seed_text, sourced])
    con = connect(tmp_path / "w.duckdb")
    load_dump(con, path)
    summary = validate(con, RUN, tmp_path)
    assert outcome(summary, "suspicious_change").success
    con.close()


def test_severity_table_in_docs_matches_the_config():
    import re
    import tomllib
    from pathlib import Path

    from expectations.checks import CHECKS

    config = tomllib.loads((Path("expectations") / "severities.toml").read_text())["severities"]
    docs = Path("docs/EXPECTATIONS.md").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^\| `(\w+)` \| \w+ \| (critical|warning) \|", docs, re.M))
    assert documented == config
    assert {c.id for c in CHECKS} == set(config)


def _add_figure_to(con, rev_ids: list[int], figure_sql: str) -> None:
    """Give each revision a state of its own: its state plus one field value holding the figure
    (states are shared between revisions; changing one in place would change them all)."""
    value_id = 4242
    con.execute("INSERT INTO field_values VALUES (?, 'strength1', 'x', 'x')", [value_id])
    con.execute(f"INSERT INTO value_figures (value_id, field, side, block, seq, category, low, high, "
                f"qualifier, is_total, raw) VALUES ({value_id}, {figure_sql})")
    for n, rev_id in enumerate(rev_ids, start=1):
        (old,) = con.execute("SELECT state_id FROM revisions WHERE rev_id = ?", [rev_id]).fetchone()
        new = 7000 + n
        con.execute("INSERT INTO states SELECT ?, n_boxes FROM states WHERE state_id = ?", [new, old])
        for table in ("state_boxes", "state_fields", "state_issues"):
            con.execute(f"INSERT INTO {table} SELECT * REPLACE (? AS state_id) FROM {table} "
                        "WHERE state_id = ?", [new, old])
        con.execute("INSERT INTO state_fields VALUES (?, 0, 10000, ?)", [new, value_id])
        con.execute("UPDATE revisions SET state_id = ? WHERE rev_id = ?", [new, rev_id])


def test_grouped_checks_count_values_and_keep_their_rows(sample_con, tmp_path):
    # Three bad rows with one bad value on one page: validated once as a group, one problem of
    # three rows; the counts are GX's (problems of distinct values checked).
    _add_figure_to(sample_con, [3, 5, 7], "'strength1', 1, 9, 999, 'bogus', 1, 1, 'exact', false, 'x'")
    bad = outcome(validate(sample_con, RUN, tmp_path), "figures_category_in_set")
    assert not bad.success and bad.unexpected_count == 1
    assert [p["n_rows"] for p in bad.problems] == [3]
    assert bad.unexpected_sample[0]["description"] == "strength1  (rev 3, #999)"
    assert bad.rows_checked == sample_con.execute(
        "SELECT count(DISTINCT (category, wiki, r.page_id)) FROM figures "
        "JOIN revisions r USING (wiki, rev_id)").fetchall()[0][0]


def test_a_check_out_of_duckdb_memory_runs_again_with_more(tmp_path, caplog):
    # The ingest validates under a tight cap; a check query that needs more must not fail the run.
    import duckdb

    from expectations.checks import Check
    from expectations.runner import RETRY_MEMORY, _frame

    con = connect(tmp_path / "w.duckdb")
    con.execute("SET memory_limit = '4MB'")
    check = Check("big_groups", "figures", "a query that needs more than 4 MB",
                  "SELECT 'w' AS wiki, i % 50000 AS rev_id, list(i) AS l FROM range(2000000) t(i) "
                  "GROUP BY rev_id",
                  lambda s: None)
    with pytest.raises(duckdb.OutOfMemoryException):  # it does need more than 4 MB
        con.execute(check.sql).fetchall()
    with caplog.at_level("WARNING", logger="expectations.runner"):
        frame = _frame(con, check, "run", {"approx_tolerance": 0.1, "freshness_days": 30})
    assert len(frame) == 50000 and frame["l"].map(len).sum() == 2000000
    assert "big_groups needs more than" in caplog.text and RETRY_MEMORY in caplog.text
    # The cap is back where it was (DuckDB shows it rounded to 0.1 MiB, so it comes back as such).
    limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit.endswith(" MiB") and 3.6 <= float(limit.split()[0]) <= 3.8
    con.close()
