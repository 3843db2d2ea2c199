-- References used by the infoboxes of a revision.
-- A ref named in several parameters of one infobox keeps the first row that has its content,
-- else the last one (tasks/parse/citations.py::merge_citations); across infoboxes the first.
-- The merge depends only on the state a revision reads: state_citations(ids, refs) does it once
-- per state — of every state when ids is NULL, of the states in the list ids when refs is NULL,
-- else only the pairs (ids[i], refs[i]) — and the view gives it per revision.
CREATE OR REPLACE MACRO state_citations(ids, refs) AS TABLE
WITH per_box AS (
    SELECT s.state_id, s.box_idx, c.ref_name,
           coalesce(arg_min(c, s.seq) FILTER (WHERE c.raw IS NOT NULL), arg_max(c, s.seq)) AS c
    FROM state_fields s JOIN value_citations c ON c.value_id = s.value_id
    WHERE (ids IS NULL OR s.state_id IN (SELECT unnest(ids)))
      AND (refs IS NULL OR (s.state_id, c.ref_name) IN (SELECT unnest(ids), unnest(refs)))
    GROUP BY s.state_id, s.box_idx, c.ref_name
), first_box AS (
    SELECT state_id, ref_name, arg_min(c, box_idx) AS c FROM per_box GROUP BY ALL
)
SELECT state_id, ref_name, c.is_named, c.template, c.url, c.title, c.publisher, c.date,
       c.archive_url, c.raw
FROM first_box;

CREATE OR REPLACE VIEW citations AS
SELECT r.wiki, r.rev_id, x.ref_name, x.is_named, x.template, x.url, x.title, x.publisher, x.date,
       x.archive_url, x.raw
FROM revisions r JOIN state_citations(NULL, NULL) x ON x.state_id = r.state_id;
COMMENT ON VIEW citations IS 'One row per distinct <ref> used in a revision''s infoboxes; named re-uses (<ref name=x/>) resolve to their definition anywhere in the article.';
COMMENT ON COLUMN citations.wiki IS 'Wiki id (revisions.wiki).';
COMMENT ON COLUMN citations.rev_id IS 'Revision (revisions.rev_id).';
COMMENT ON COLUMN citations.ref_name IS 'The ref''s name attribute, or a generated id (anon-<first 10 hex of sha1 of its content>) for unnamed refs.';
COMMENT ON COLUMN citations.is_named IS 'True when the ref has a name attribute.';
COMMENT ON COLUMN citations.template IS 'Citation template used (cite web, cite news, cite book…), NULL for free text.';
COMMENT ON COLUMN citations.url IS 'url parameter (or the first external link of a free-text ref).';
COMMENT ON COLUMN citations.title IS 'title parameter (or link label).';
COMMENT ON COLUMN citations.publisher IS 'publisher, work, newspaper, website or agency parameter, first found.';
COMMENT ON COLUMN citations.date IS 'date parameter as written.';
COMMENT ON COLUMN citations.archive_url IS 'archive-url / archiveurl parameter.';
COMMENT ON COLUMN citations.raw IS 'Content of the ref definition as written; NULL when a named re-use has no definition in the article.';
