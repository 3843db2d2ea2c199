-- v_revision_history: each stored revision beside its parent, for history-completeness checks.
--   wiki, rev_id, page_id, parent_id, ts, parent_ts
--   is_first_stored   true for the page's earliest stored revision (its parent may predate our history)
--   parent_present    the parent revision is stored (or there is none, or this is the first stored one)
--   ts_increasing     the revision is newer than its parent (NULL when either time is unknown)
--   description       one readable sentence about the revision's link to its parent
CREATE OR REPLACE VIEW v_revision_history AS
WITH firsts AS (
    SELECT wiki, page_id, min(rev_id) AS first_rev_id FROM revisions GROUP BY wiki, page_id
)
SELECT r.wiki, r.rev_id, r.page_id, r.parent_id, r.ts, p.ts AS parent_ts, r.run_id,
       r.rev_id = f.first_rev_id AS is_first_stored,
       (r.parent_id IS NULL OR r.parent_id = 0 OR p.rev_id IS NOT NULL OR r.rev_id = f.first_rev_id)
           AS parent_present,
       CASE WHEN p.ts IS NULL OR r.ts IS NULL THEN NULL ELSE r.ts > p.ts END AS ts_increasing,
       pg.title || ' rev ' || r.rev_id::VARCHAR || ' (' || coalesce(strftime(r.ts, '%Y-%m-%d %H:%M:%S'), '?')
           || '): parent ' || coalesce(r.parent_id::VARCHAR, 'none')
           || CASE WHEN r.parent_id IS NOT NULL AND p.rev_id IS NULL THEN ' is missing' ELSE '' END
           || CASE WHEN p.ts IS NOT NULL AND r.ts IS NOT NULL AND r.ts <= p.ts
                   THEN ' is not older (' || strftime(p.ts, '%Y-%m-%d %H:%M:%S') || ')' ELSE '' END
           AS description
FROM revisions r
JOIN firsts f USING (wiki, page_id)
LEFT JOIN revisions p ON p.wiki = r.wiki AND p.rev_id = r.parent_id
LEFT JOIN pages pg ON pg.wiki = r.wiki AND pg.page_id = r.page_id;
