-- Infobox templates found in each revision.
CREATE TABLE IF NOT EXISTS infoboxes (
    wiki      VARCHAR NOT NULL,
    rev_id    BIGINT  NOT NULL,
    box_idx   INTEGER NOT NULL,
    template  VARCHAR NOT NULL,
    kind      VARCHAR NOT NULL,
    n_fields  INTEGER NOT NULL,
    PRIMARY KEY (wiki, rev_id, box_idx)
);
COMMENT ON TABLE infoboxes IS 'One row per infobox template found in a revision, in document order.';
COMMENT ON COLUMN infoboxes.wiki IS 'Wiki id (revisions.wiki).';
COMMENT ON COLUMN infoboxes.rev_id IS 'Revision (revisions.rev_id).';
COMMENT ON COLUMN infoboxes.box_idx IS '0-based position of the infobox among the infoboxes of the revision.';
COMMENT ON COLUMN infoboxes.template IS 'Template name as written in the wikitext (trimmed).';
COMMENT ON COLUMN infoboxes.kind IS 'Recognised kind: military_conflict, or generic for any other infobox.';
COMMENT ON COLUMN infoboxes.n_fields IS 'Number of parameters of the template.';
