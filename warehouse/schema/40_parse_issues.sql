-- Whatever the parser could not read is kept here, never dropped silently.
CREATE OR REPLACE VIEW parse_issues AS
SELECT r.wiki, r.rev_id, i.box_idx, i.field, i.severity, i.code, i.message, i.raw
FROM revisions r JOIN state_issues i ON i.state_id = r.state_id
UNION ALL
SELECT r.wiki, r.rev_id, s.box_idx, i.field, i.severity, i.code, i.message, i.raw
FROM revisions r JOIN state_fields s ON s.state_id = r.state_id
JOIN value_issues i ON i.value_id = s.value_id
UNION ALL
SELECT wiki, rev_id, box_idx, field, severity, code, message, raw FROM revision_issues;
COMMENT ON VIEW parse_issues IS 'Problems met while parsing a revision: no infobox, unreadable numbers, parser errors on hostile text.';
COMMENT ON COLUMN parse_issues.wiki IS 'Wiki id (revisions.wiki).';
COMMENT ON COLUMN parse_issues.rev_id IS 'Revision (revisions.rev_id).';
COMMENT ON COLUMN parse_issues.box_idx IS 'Infobox concerned; NULL for the whole revision.';
COMMENT ON COLUMN parse_issues.field IS 'Parameter concerned; NULL for the whole infobox or revision.';
COMMENT ON COLUMN parse_issues.severity IS 'info, warning or error.';
COMMENT ON COLUMN parse_issues.code IS 'Stable machine code of the problem, e.g. no_infobox, parser_error, vague_number.';
COMMENT ON COLUMN parse_issues.message IS 'Human-readable explanation.';
COMMENT ON COLUMN parse_issues.raw IS 'The text that caused it (truncated to 500 characters).';
