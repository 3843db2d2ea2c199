-- Every parameter of every infobox, raw and as plain text.
CREATE TABLE IF NOT EXISTS infobox_fields (
    wiki      VARCHAR NOT NULL,
    rev_id    BIGINT  NOT NULL,
    box_idx   INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    field     VARCHAR NOT NULL,
    raw       VARCHAR NOT NULL,
    text      VARCHAR NOT NULL,
    PRIMARY KEY (wiki, rev_id, box_idx, seq)
);
COMMENT ON TABLE infobox_fields IS 'One row per parameter of every infobox, whatever the infobox kind.';
COMMENT ON COLUMN infobox_fields.wiki IS 'Wiki id (revisions.wiki).';
COMMENT ON COLUMN infobox_fields.rev_id IS 'Revision (revisions.rev_id).';
COMMENT ON COLUMN infobox_fields.box_idx IS 'Infobox within the revision (infoboxes.box_idx).';
COMMENT ON COLUMN infobox_fields.seq IS '0-based position of the parameter in the template call (keeps duplicates apart).';
COMMENT ON COLUMN infobox_fields.field IS 'Parameter name, trimmed (positional parameters get their number).';
COMMENT ON COLUMN infobox_fields.raw IS 'Parameter value exactly as written in the wikitext (round-trips byte for byte).';
COMMENT ON COLUMN infobox_fields.text IS 'Plain text of the value: markup, refs, comments and templates stripped, link labels kept, whitespace collapsed.';
