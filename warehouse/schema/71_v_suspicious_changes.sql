-- v_suspicious_changes: a figure that changes between a revision and its parent by a factor of
-- 10 or more, or gains or loses a digit, while the references attached to it stay the same —
-- the signature of vandalism or a typo rather than a sourced update.
-- A figure is matched across the two revisions by (box_idx, field, block, entity, category,
-- is_total); annotations and figures without a number are left out.
--   wiki, page_id, title, rev_id, parent_id, field, block, entity, category,
--   old_low, new_low, ref_names, factor (new/old, > 1 for growth), description
CREATE OR REPLACE VIEW v_suspicious_changes AS
WITH keyed AS (
    SELECT f.wiki, f.rev_id, f.box_idx, f.field, f.block, coalesce(f.entity, '') AS entity,
           f.category, f.is_total, min(f.low) AS low, min(f.ref_names) AS ref_names
    FROM figures f
    WHERE NOT f.is_annotation AND f.low IS NOT NULL
    GROUP BY ALL
)
SELECT r.wiki, r.page_id, pg.title, r.rev_id, r.parent_id, n.field, n.block, n.entity, n.category,
       o.low AS old_low, n.low AS new_low, n.ref_names,
       CASE WHEN o.low = 0 THEN NULL ELSE n.low::DOUBLE / o.low END AS factor,
       pg.title || ' rev ' || r.rev_id::VARCHAR || ' ' || n.field || ' ' || n.entity || ' ' || n.category
           || ': ' || o.low::VARCHAR || ' → ' || n.low::VARCHAR || ' with the same references'
           AS description
FROM revisions r
JOIN keyed n ON n.wiki = r.wiki AND n.rev_id = r.rev_id
JOIN keyed o ON o.wiki = r.wiki AND o.rev_id = r.parent_id AND o.box_idx = n.box_idx
    AND o.field = n.field AND o.block = n.block AND o.entity = n.entity
    AND o.category = n.category AND o.is_total = n.is_total
LEFT JOIN pages pg ON pg.wiki = r.wiki AND pg.page_id = r.page_id
WHERE o.low <> n.low
  AND coalesce(o.ref_names, []) = coalesce(n.ref_names, [])
  AND (n.low >= 10 * o.low OR o.low >= 10 * n.low
       OR length(o.low::VARCHAR) <> length(n.low::VARCHAR));
