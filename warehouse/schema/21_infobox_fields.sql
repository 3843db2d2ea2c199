-- Every parameter of every infobox, raw and as plain text.
CREATE OR REPLACE VIEW infobox_fields AS
SELECT r.wiki, r.rev_id, s.box_idx, s.seq, v.field, v.raw, v.text
FROM revisions r JOIN state_fields s ON s.state_id = r.state_id
JOIN field_values v ON v.value_id = s.value_id;
COMMENT ON VIEW infobox_fields IS 'One row per parameter of every infobox, whatever the infobox kind.';
COMMENT ON COLUMN infobox_fields.wiki IS 'Wiki id (revisions.wiki).';
COMMENT ON COLUMN infobox_fields.rev_id IS 'Revision (revisions.rev_id).';
COMMENT ON COLUMN infobox_fields.box_idx IS 'Infobox within the revision (infoboxes.box_idx).';
COMMENT ON COLUMN infobox_fields.seq IS '0-based position of the parameter in the template call (keeps duplicates apart).';
COMMENT ON COLUMN infobox_fields.field IS 'Parameter name, trimmed (positional parameters get their number).';
COMMENT ON COLUMN infobox_fields.raw IS 'Parameter value exactly as written in the wikitext (round-trips byte for byte).';
COMMENT ON COLUMN infobox_fields.text IS 'Plain text of the value: markup, refs, comments and templates stripped, link labels kept, whitespace collapsed.';
