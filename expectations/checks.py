"""The expectations: which rows each one reads, and which GX expectation it applies.

Every check reads a DataFrame from DuckDB (GX's SQL datasource over duckdb-engine fails here, so the
pandas datasource validates what SQL selected) with a ``description`` column: one readable sentence
per row, which the reports show for the rows that broke the expectation.
Every check reads the whole warehouse, so a report shows the warehouse's state — a problem loaded
by an earlier run is still reported after a run that loads nothing — and the runner marks which
offending rows come from the run's revisions (new) and which are in the latest revision of their
page (current). A check whose SQL selects only offenders says, in ``checked_sql``, how many rows it
looked at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from warehouse.vocabulary import CATEGORIES, QUALIFIERS


@dataclass(frozen=True)
class Check:
    """One expectation: its id (stable, used for severities), GX suite, rows, and GX expectation."""

    id: str
    suite: str
    summary: str  # what it asserts, in words
    sql: str  # selects wiki, rev_id, description…; parameters: $tolerance, $freshness_days
    expectation: Callable[[dict], object]  # settings → the GX expectation (GX imported lazily)
    scheduled_only: bool = False
    requires: str | None = None  # table or view that must exist
    offenders_are_rows: bool = False  # the SQL selects only offending rows (row-count checks)
    # Validate distinct values of these columns instead of every row (a long history repeats the
    # same figure thousands of times); each group keeps one row's description and a count.
    group_by: tuple[str, ...] = ()
    # Which revision of a group describes it: "first" (where the value appeared) or "latest".
    keep: str = "first"
    # For offenders_are_rows checks: how many rows were looked at (one number).
    checked_sql: str | None = None
    # The same rows read once per distinct field value (grouped checks): selects value_id, the
    # group_by columns, and desc_before / desc_after, the description around the revision id
    # (description = desc_before || rev_id || desc_after). The runner counts each value's
    # revisions from revisions × state_fields, so the frame equals the one ``sql`` gives
    # (tests/test_value_checks.py) and costs what the distinct values cost, not the history.
    value_sql: str | None = None


def _gxe():
    from expectations.gximport import defer_unused

    defer_unused()
    import great_expectations.expectations as gxe

    return gxe


def _iso3() -> list[str]:
    import pycountry

    return sorted(c.alpha_3 for c in pycountry.countries)


# A figure's description around its revision id: "strength1 Mali (rev 1004, #3)".
_FIGURE_DESC = ("f.field || ' ' || coalesce(f.entity, '') || ' (rev ' AS desc_before, "
                "', #' || f.seq::VARCHAR || ')' AS desc_after")

CHECKS: list[Check] = [
    Check("revisions_rev_id_not_null", "revisions", "every revision has a revision id",
          "SELECT wiki, rev_id, 'revision of page ' || page_id::VARCHAR || ' without id' AS description "
          "FROM revisions",
          lambda s: _gxe().ExpectColumnValuesToNotBeNull(column="rev_id")),
    Check("revisions_rev_id_unique", "revisions", "no revision id is stored twice on a wiki",
          "SELECT r.wiki, r.rev_id, r.wiki || ' rev ' || r.rev_id::VARCHAR AS description "
          "FROM revisions r",
          lambda s: _gxe().ExpectCompoundColumnsToBeUnique(column_list=["wiki", "rev_id"])),
    Check("history_parent_present", "v_revision_history",
          "every parent revision is stored, unless it is the first stored revision of its page",
          "SELECT h.wiki, h.rev_id, h.parent_id, h.parent_present, h.description "
          "FROM v_revision_history h",
          lambda s: _gxe().ExpectColumnValuesToBeInSet(column="parent_present", value_set=[True])),
    Check("history_timestamps_increasing", "v_revision_history",
          "timestamps increase along parent links",
          "SELECT h.wiki, h.rev_id, h.ts_increasing, h.description "
          "FROM v_revision_history h",
          lambda s: _gxe().ExpectColumnValuesToBeInSet(column="ts_increasing", value_set=[True])),
    Check("revision_has_infobox", "revisions",
          "every revision of a tracked article (one that has had an infobox) has its infobox",
          "SELECT r.wiki, r.rev_id, r.has_infobox, "
          "pg.title || ' rev ' || r.rev_id::VARCHAR || ' by ' || coalesce(r.user_name, '?') || "
          "' has no infobox (' || coalesce(nullif(r.comment, ''), 'no summary') || ')' AS description "
          "FROM revisions r JOIN pages pg USING (wiki, page_id) "
          "WHERE EXISTS (SELECT 1 FROM revisions o WHERE o.wiki = r.wiki "
          "AND o.page_id = r.page_id AND o.has_infobox)",
          lambda s: _gxe().ExpectColumnValuesToBeInSet(column="has_infobox", value_set=[True])),
    Check("infobox_fields_field_not_null", "infobox_fields", "every infobox parameter has a name",
          "SELECT f.wiki, f.rev_id, f.field, 'rev ' || f.rev_id::VARCHAR || ' box ' || f.box_idx::VARCHAR "
          "|| ' parameter ' || f.seq::VARCHAR AS description "
          "FROM infobox_fields f",
          lambda s: _gxe().ExpectColumnValuesToNotBeNull(column="field"), group_by=("field",)),
    Check("referential_integrity", "referential_integrity",
          "every revision reads a stored state whose field values are stored, and belongs to a "
          "stored page; issues point to stored revisions",
          "SELECT 'revisions' AS table_name, r.wiki, r.rev_id, 'revision ' || r.rev_id::VARCHAR || "
          "CASE WHEN r.state_id IS NULL THEN ' has no state (not yet re-derived)' ELSE ' reads state ' "
          "|| r.state_id::VARCHAR || ', which is not stored' END AS description FROM revisions r "
          "WHERE r.state_id IS NULL OR NOT EXISTS (SELECT 1 FROM states s WHERE s.state_id = r.state_id) "
          "UNION ALL SELECT 'state_fields', r.wiki, r.rev_id, 'revision ' || r.rev_id::VARCHAR || "
          "' box ' || f.box_idx::VARCHAR || ' parameter ' || f.seq::VARCHAR || ' reads field value ' "
          "|| f.value_id::VARCHAR || ', which is not stored' FROM revisions r "
          "JOIN state_fields f ON f.state_id = r.state_id WHERE NOT EXISTS "
          "(SELECT 1 FROM field_values v WHERE v.value_id = f.value_id) "
          "UNION ALL SELECT 'revision_issues', x.wiki, x.rev_id, 'revision_issues row of missing "
          "revision ' || x.wiki || ' ' || x.rev_id::VARCHAR FROM revision_issues x WHERE NOT EXISTS "
          "(SELECT 1 FROM revisions r WHERE r.wiki = x.wiki AND r.rev_id = x.rev_id) "
          "UNION ALL SELECT 'revisions', r.wiki, r.rev_id, 'revision ' || r.rev_id::VARCHAR || "
          "' of missing page ' || r.page_id::VARCHAR FROM revisions r WHERE NOT EXISTS "
          "(SELECT 1 FROM pages p WHERE p.wiki = r.wiki AND p.page_id = r.page_id) "
          "ORDER BY table_name, wiki, rev_id",
          lambda s: _gxe().ExpectTableRowCountToEqual(value=0), offenders_are_rows=True,
          checked_sql="SELECT (SELECT count(*) FROM revisions) + (SELECT count(*) FROM revisions r "
                      "JOIN state_fields f ON f.state_id = r.state_id) + "
                      "(SELECT count(*) FROM revision_issues)"),
    Check("figures_interval_well_formed", "figures", "every figure interval has low ≤ high",
          "SELECT f.wiki, f.rev_id, f.field, f.low, f.high, "
          "(f.low IS NULL OR f.high IS NULL OR f.low <= f.high) AS well_formed, "
          "f.field || ' ' || coalesce(f.entity, '') || ' (rev ' || f.rev_id::VARCHAR || ', #' || f.seq::VARCHAR || ')' AS description "
          "FROM figures f",
          lambda s: _gxe().ExpectColumnValuesToBeInSet(column="well_formed", value_set=[True]),
          group_by=("well_formed", "low", "high"),
          value_sql="SELECT f.value_id, f.low, f.high, "
                    "(f.low IS NULL OR f.high IS NULL OR f.low <= f.high) AS well_formed, "
                    f"{_FIGURE_DESC} FROM value_figures f"),
    Check("figures_non_negative", "figures", "no figure is negative",
          "SELECT f.wiki, f.rev_id, f.field, f.low, "
          "f.field || ' ' || coalesce(f.entity, '') || ' (rev ' || f.rev_id::VARCHAR || ', #' || f.seq::VARCHAR || ')' AS description "
          "FROM figures f",
          lambda s: _gxe().ExpectColumnValuesToBeBetween(column="low", min_value=0),
          group_by=("low",),
          value_sql=f"SELECT f.value_id, f.low, {_FIGURE_DESC} FROM value_figures f"),
    Check("figures_category_in_set", "figures", "every figure's category is a known one",
          "SELECT f.wiki, f.rev_id, f.category, "
          "f.field || ' ' || coalesce(f.entity, '') || ' (rev ' || f.rev_id::VARCHAR || ', #' || f.seq::VARCHAR || ')' AS description "
          "FROM figures f",
          lambda s: _gxe().ExpectColumnValuesToBeInSet(column="category", value_set=list(CATEGORIES)),
          group_by=("category",),
          value_sql=f"SELECT f.value_id, f.category, {_FIGURE_DESC} FROM value_figures f"),
    Check("figures_qualifier_in_set", "figures", "every figure's qualifier is a known one",
          "SELECT f.wiki, f.rev_id, f.qualifier, "
          "f.field || ' ' || coalesce(f.entity, '') || ' (rev ' || f.rev_id::VARCHAR || ', #' || f.seq::VARCHAR || ')' AS description "
          "FROM figures f",
          lambda s: _gxe().ExpectColumnValuesToBeInSet(column="qualifier", value_set=list(QUALIFIERS)),
          group_by=("qualifier",),
          value_sql=f"SELECT f.value_id, f.qualifier, {_FIGURE_DESC} FROM value_figures f"),
    Check("country_codes_valid", "country_codes",
          "country codes of figures and belligerents are ISO 3166-1 alpha-3 or NULL",
          "SELECT x.wiki, x.rev_id, x.country_code, x.description FROM ("
          "SELECT wiki, rev_id, country_code, field || ' ' || coalesce(entity, '') || ' (rev ' || "
          "rev_id::VARCHAR || ', #' || seq::VARCHAR || ')' AS description "
          "FROM figures UNION ALL SELECT wiki, rev_id, country_code, field || ' ' || name || ' (rev ' || "
          "rev_id::VARCHAR || ', party #' || seq::VARCHAR || ')' "
          "FROM belligerents) x",
          lambda s: _gxe().ExpectColumnValuesToBeInSet(column="country_code", value_set=_iso3()),
          group_by=("country_code",),
          value_sql=f"SELECT value_id, country_code, {_FIGURE_DESC.replace('f.', '')} FROM value_figures "
                    "UNION ALL SELECT value_id, country_code, field || ' ' || name || ' (rev ' AS desc_before, "
                    "', party #' || seq::VARCHAR || ')' AS desc_after FROM value_belligerents"),
    Check("totals_reconcile", "v_total_reconciliation",
          "every declared total agrees with the sum of its itemised contributions",
          "SELECT t.wiki, t.rev_id, t.field, t.block, t.entity, t.declared_low, t.declared_high, "
          "t.sum_low, t.sum_high, t.status, t.description "
          "FROM reconcile_totals($tolerance) t",
          lambda s: _gxe().ExpectColumnValuesToNotBeInSet(column="status", value_set=["inconsistent"]),
          requires="reconcile_totals",
          # A total that stays wrong for 3,000 revisions is one finding, shown at its latest revision.
          group_by=("field", "block", "entity", "declared_low", "declared_high", "sum_low", "sum_high",
                    "status"), keep="latest"),
    Check("suspicious_change", "v_suspicious_changes",
          "no figure jumps by 10× (or gains/loses a digit) between revisions with the same references",
          # still_standing: the latest revision of the page still carries the new value.
          "WITH latest AS (SELECT r.wiki, r.page_id, max_by(r.state_id, r.ts) AS state_id "
          "FROM revisions r GROUP BY ALL), "
          "standing AS (SELECT DISTINCT l.wiki, l.page_id, f.field, f.block, "
          "coalesce(f.entity, '') AS entity, f.category, f.low FROM latest l "
          "JOIN state_fields sf ON sf.state_id = l.state_id "
          "JOIN value_figures f ON f.value_id = sf.value_id WHERE NOT f.is_annotation) "
          "SELECT s.wiki, s.rev_id, s.field, s.block, s.entity, s.category, s.old_low, s.new_low, "
          "t.low IS NOT NULL AS still_standing, s.description "
          "FROM v_suspicious_changes s LEFT JOIN standing t ON t.wiki = s.wiki "
          "AND t.page_id = s.page_id AND t.field = s.field AND t.block = s.block "
          "AND t.entity = s.entity AND t.category = s.category AND t.low = s.new_low "
          "ORDER BY s.rev_id, s.field, s.entity",
          lambda s: _gxe().ExpectTableRowCountToEqual(value=0), offenders_are_rows=True,
          checked_sql="SELECT count(*) FROM figures WHERE NOT is_annotation AND low IS NOT NULL"),
    Check("freshness", "pages",
          "the newest stored revision of each page is recent (scheduled runs)",
          "SELECT r.wiki, max(r.rev_id) AS rev_id, date_diff('day', max(r.ts), now()::TIMESTAMP) AS age_days, "
          "any_value(pg.title) || ': newest stored revision is ' || "
          "date_diff('day', max(r.ts), now()::TIMESTAMP)::VARCHAR || ' days old' AS description "
          "FROM revisions r JOIN pages pg USING (wiki, page_id) GROUP BY r.wiki, r.page_id",
          lambda s: _gxe().ExpectColumnValuesToBeBetween(column="age_days",
                                                          max_value=s["freshness_days"]),
          scheduled_only=True),
]
