-- v_suspicious_changes: a figure that changes between a revision and its parent by a factor of
-- 10 or more, or gains or loses a digit, while the references attached to it stay the same —
-- the signature of vandalism or a typo rather than a sourced update.
-- A figure is matched across the two revisions by (box_idx, field, block, entity, category,
-- is_total); annotations and figures without a number are left out.
--   wiki, page_id, title, rev_id, parent_id, field, block, entity, category,
--   old_low, new_low, ref_names ('|'-joined), factor (new/old, > 1 for growth), description
-- Computed once per pair of distinct states (a revision and its parent that read the same have
-- no change), then shown for every revision with that pair: each step is a hash join.
CREATE OR REPLACE VIEW v_suspicious_changes AS
WITH pairs AS MATERIALIZED (
    SELECT r.wiki, r.page_id, r.rev_id, r.parent_id, r.state_id AS new_state, p.state_id AS old_state
    FROM revisions r JOIN revisions p ON p.wiki = r.wiki AND p.rev_id = r.parent_id
    WHERE r.state_id <> p.state_id
), distinct_pairs AS MATERIALIZED (
    SELECT DISTINCT new_state, old_state FROM pairs
), keyed AS MATERIALIZED (
    SELECT s.state_id,
           hash(s.box_idx, f.field, f.block, coalesce(f.entity, ''), f.category, f.is_total) AS k,
           any_value(f.field) AS field, any_value(f.block) AS block,
           any_value(coalesce(f.entity, '')) AS entity, any_value(f.category) AS category,
           min(f.low) AS low, min(array_to_string(f.ref_names, '|')) AS refs
    FROM state_fields s JOIN value_figures f ON f.value_id = s.value_id
    WHERE NOT f.is_annotation AND f.low IS NOT NULL
      AND s.state_id IN (SELECT new_state FROM distinct_pairs UNION SELECT old_state FROM distinct_pairs)
    GROUP BY s.state_id, k
), new_side AS MATERIALIZED (
    SELECT d.new_state, d.old_state, hash(d.old_state, n.k) AS old_key, n.*
    FROM distinct_pairs d JOIN keyed n ON n.state_id = d.new_state
), changes AS MATERIALIZED (
    -- one join key (the old state and the figure's key hashed together): joined on the figure
    -- key alone first, every state would meet every other
    SELECT n.new_state, n.old_state, n.field, n.block, n.entity, n.category,
           o.low AS old_low, n.low AS new_low, n.refs AS ref_names
    FROM new_side n
    JOIN (SELECT hash(state_id, k) AS key, low, refs FROM keyed) o ON o.key = n.old_key
    WHERE o.low <> n.low
      AND coalesce(o.refs, '') = coalesce(n.refs, '')
      AND (n.low >= 10 * o.low OR o.low >= 10 * n.low
           OR length(o.low::VARCHAR) <> length(n.low::VARCHAR))
)
SELECT p.wiki, p.page_id, pg.title, p.rev_id, p.parent_id, c.field, c.block, c.entity, c.category,
       c.old_low, c.new_low, c.ref_names,
       CASE WHEN c.old_low = 0 THEN NULL ELSE c.new_low::DOUBLE / c.old_low END AS factor,
       pg.title || ' rev ' || p.rev_id::VARCHAR || ' ' || c.field || ' ' || c.entity || ' '
           || c.category || ': ' || c.old_low::VARCHAR || ' → ' || c.new_low::VARCHAR
           || ' with the same references' AS description
FROM changes c
JOIN pairs p ON p.new_state = c.new_state AND p.old_state = c.old_state
LEFT JOIN pages pg ON pg.wiki = p.wiki AND pg.page_id = p.page_id;
