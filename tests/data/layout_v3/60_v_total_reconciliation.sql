-- Totals reconciliation: does each declared total agree with its itemised parts?
--
-- Every figure is an interval: exact n → [n, n]; a range a–b → [a, b]; at_least n → [n, +∞);
-- at_most n → [0, n]; approx widens [low, high] by the tolerance t → [low·(1−t), high·(1+t)].
-- The parts of a total are the figures whose parent_seq is its seq (same revision, infobox, field);
-- annotations and nested parts are not parts. Their sum is [Σ low, Σ high] (+∞ if any part is open).
--   exhaustive breakdown → consistent when the declared and summed intervals overlap, else inconsistent;
--   partial breakdown    → partial_ok when the parts' lower sum does not exceed the declared upper
--                          bound, else inconsistent;
--   not_comparable       → no parts, or a part or the total has no number (多人, unknown).
-- difference = sum_low − declared_low (itemised minus declared, on the lower ends).
--
-- reconcile_totals(t) is a table macro so that the tolerance is a parameter (the expectations use
-- the configured one); v_total_reconciliation applies the default tolerance of 10 %.
CREATE OR REPLACE MACRO reconcile_totals(tolerance) AS TABLE
WITH totals AS (
    SELECT * FROM figures WHERE is_total
), parts AS (
    SELECT p.wiki, p.rev_id, p.box_idx, p.field, p.parent_seq,
           count(*) AS n_parts,
           count(*) FILTER (WHERE p.low IS NULL) AS n_unknown,
           sum(CASE WHEN p.qualifier = 'approx' THEN floor(p.low * (1 - tolerance)) ELSE p.low END)
               AS sum_low,
           CASE WHEN bool_or((p.high IS NULL OR p.qualifier = 'at_least') AND p.low IS NOT NULL) THEN NULL
                ELSE sum(CASE WHEN p.qualifier = 'approx' THEN ceil(p.high * (1 + tolerance))
                              ELSE p.high END) END AS sum_high,
           sum(p.low) AS sum_low_as_written,
           CASE WHEN bool_or((p.high IS NULL OR p.qualifier = 'at_least') AND p.low IS NOT NULL) THEN NULL ELSE sum(p.high) END
               AS sum_high_as_written
    FROM figures p
    WHERE p.parent_seq IS NOT NULL AND NOT p.is_annotation
    GROUP BY ALL
), joined AS (
    SELECT t.wiki, t.rev_id, t.box_idx, t.field, t.side, t.block, t.seq, t.entity, t.category,
           t.breakdown, t.qualifier AS declared_qualifier,
           t.low AS declared_low, CASE WHEN t.qualifier = 'at_least' THEN NULL ELSE t.high END AS declared_high,
           CASE WHEN t.qualifier = 'approx' THEN floor(t.low * (1 - tolerance)) ELSE t.low END
               AS declared_low_tol,
           CASE WHEN t.qualifier = 'at_least' THEN NULL
                WHEN t.qualifier = 'approx' THEN ceil(t.high * (1 + tolerance)) ELSE t.high END
               AS declared_high_tol,
           coalesce(p.n_parts, 0) AS n_parts, coalesce(p.n_unknown, 0) AS n_unknown,
           p.sum_low AS sum_low_tol, p.sum_high AS sum_high_tol,
           p.sum_low_as_written AS sum_low, p.sum_high_as_written AS sum_high
    FROM totals t
    LEFT JOIN parts p ON p.wiki = t.wiki AND p.rev_id = t.rev_id AND p.box_idx = t.box_idx
        AND p.field = t.field AND p.parent_seq = t.seq
), judged AS (
    SELECT *,
        CASE
            WHEN n_parts = 0 OR n_unknown > 0 OR declared_low IS NULL THEN 'not_comparable'
            WHEN breakdown = 'partial' THEN
                CASE WHEN declared_high_tol IS NULL OR sum_low_tol <= declared_high_tol
                     THEN 'partial_ok' ELSE 'inconsistent' END
            WHEN (declared_high_tol IS NULL OR sum_low_tol <= declared_high_tol)
                 AND (sum_high_tol IS NULL OR declared_low_tol <= sum_high_tol) THEN 'consistent'
            ELSE 'inconsistent'
        END AS status
    FROM joined
)
SELECT wiki, rev_id, box_idx, field, side, block, seq, entity, category, breakdown,
       declared_low, declared_high, declared_qualifier, sum_low, sum_high, n_parts,
       sum_low - declared_low AS difference, status, tolerance AS approx_tolerance,
       field || ' block ' || block::VARCHAR || coalesce(' ' || entity, '') || ': declared '
           || CASE WHEN declared_low IS NULL THEN '?'
                   WHEN declared_high IS NULL THEN format('{:,}', declared_low) || '+'
                   WHEN declared_high = declared_low THEN format('{:,}', declared_low)
                   ELSE format('{:,}', declared_low) || '–' || format('{:,}', declared_high) END
           || ', itemised '
           || CASE WHEN sum_low IS NULL THEN '?'
                   WHEN sum_high IS NULL THEN format('{:,}', sum_low) || '+'
                   WHEN sum_high = sum_low THEN format('{:,}', sum_low)
                   ELSE format('{:,}', sum_low) || '–' || format('{:,}', sum_high) END
           || ' (' || n_parts::VARCHAR || ' parts, ' || coalesce(breakdown, '?') || ', rev '
           || rev_id::VARCHAR || ')' AS description
FROM judged;

CREATE OR REPLACE VIEW v_total_reconciliation AS SELECT * FROM reconcile_totals(0.10);
