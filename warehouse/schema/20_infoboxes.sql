-- Infobox templates found in each revision.
CREATE OR REPLACE VIEW infoboxes AS
SELECT r.wiki, r.rev_id, b.box_idx, b.template, b.kind, b.n_fields
FROM revisions r JOIN state_boxes b ON b.state_id = r.state_id;
COMMENT ON VIEW infoboxes IS 'One row per infobox template found in a revision, in document order.';
COMMENT ON COLUMN infoboxes.wiki IS 'Wiki id (revisions.wiki).';
COMMENT ON COLUMN infoboxes.rev_id IS 'Revision (revisions.rev_id).';
COMMENT ON COLUMN infoboxes.box_idx IS '0-based position of the infobox among the infoboxes of the revision.';
COMMENT ON COLUMN infoboxes.template IS 'Template name as written in the wikitext (trimmed).';
COMMENT ON COLUMN infoboxes.kind IS 'Recognised kind: military_conflict, or generic for any other infobox.';
COMMENT ON COLUMN infoboxes.n_fields IS 'Number of parameters of the template.';
