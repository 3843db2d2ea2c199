-- v_suspicious_changes: a figure that changes between a revision and its parent by a factor of
-- 10 or more, or gains or loses a digit, while the references attached to it stay the same —
-- the signature of vandalism or a typo rather than a sourced update.
-- A figure is matched across the two revisions by (box_idx, field, block, entity, category,
-- is_total); annotations and figures without a number are left out.
--   wiki, page_id, title, rev_id, parent_id, field, block, entity, category,
--   old_low, new_low, ref_names ('|'-joined), factor (new/old, > 1 for growth), description
-- (Written as two materialised steps so that the join of a revision's figures with its parent's
-- is one hash join on (wiki, parent rev_id, key): a million figures take a fraction of a second.)
CREATE OR REPLACE VIEW v_suspicious_changes AS
WITH keyed AS MATERIALIZED (
    SELECT f.wiki, f.rev_id,
           hash(f.box_idx, f.field, f.block, coalesce(f.entity, ''), f.category, f.is_total) AS k,
           any_value(f.field) AS field, any_value(f.block) AS block,
           any_value(coalesce(f.entity, '')) AS entity, any_value(f.category) AS category,
           min(f.low) AS low, min(array_to_string(f.ref_names, '|')) AS refs
    FROM figures f
    WHERE NOT f.is_annotation AND f.low IS NOT NULL
    GROUP BY f.wiki, f.rev_id, k
), with_parent AS MATERIALIZED (
    SELECT n.*, r.parent_id, r.page_id
    FROM keyed n JOIN revisions r ON r.wiki = n.wiki AND r.rev_id = n.rev_id
    WHERE r.parent_id IS NOT NULL
), changes AS MATERIALIZED (
    SELECT n.wiki, n.page_id, n.rev_id, n.parent_id, n.field, n.block, n.entity, n.category,
           o.low AS old_low, n.low AS new_low, n.refs AS ref_names
    FROM with_parent n
    JOIN keyed o ON o.wiki = n.wiki AND o.rev_id = n.parent_id AND o.k = n.k
    WHERE o.low <> n.low
      AND coalesce(o.refs, '') = coalesce(n.refs, '')
      AND (n.low >= 10 * o.low OR o.low >= 10 * n.low
           OR length(o.low::VARCHAR) <> length(n.low::VARCHAR))
)
SELECT c.wiki, c.page_id, pg.title, c.rev_id, c.parent_id, c.field, c.block, c.entity, c.category,
       c.old_low, c.new_low, c.ref_names,
       CASE WHEN c.old_low = 0 THEN NULL ELSE c.new_low::DOUBLE / c.old_low END AS factor,
       pg.title || ' rev ' || c.rev_id::VARCHAR || ' ' || c.field || ' ' || c.entity || ' '
           || c.category || ': ' || c.old_low::VARCHAR || ' → ' || c.new_low::VARCHAR
           || ' with the same references' AS description
FROM changes c
LEFT JOIN pages pg ON pg.wiki = c.wiki AND pg.page_id = c.page_id;
