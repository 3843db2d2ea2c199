-- Whatever the parser could not read is kept here, never dropped silently.
CREATE TABLE IF NOT EXISTS parse_issues (
    wiki      VARCHAR NOT NULL,
    rev_id    BIGINT  NOT NULL,
    box_idx   INTEGER,
    field     VARCHAR,
    severity  VARCHAR NOT NULL,
    code      VARCHAR NOT NULL,
    message   VARCHAR NOT NULL,
    raw       VARCHAR
);
COMMENT ON TABLE parse_issues IS 'Problems met while parsing a revision: no infobox, unreadable numbers, parser errors on hostile text.';
COMMENT ON COLUMN parse_issues.wiki IS 'Wiki id (revisions.wiki).';
COMMENT ON COLUMN parse_issues.rev_id IS 'Revision (revisions.rev_id).';
COMMENT ON COLUMN parse_issues.box_idx IS 'Infobox concerned; NULL for the whole revision.';
COMMENT ON COLUMN parse_issues.field IS 'Parameter concerned; NULL for the whole infobox or revision.';
COMMENT ON COLUMN parse_issues.severity IS 'info, warning or error.';
COMMENT ON COLUMN parse_issues.code IS 'Stable machine code of the problem, e.g. no_infobox, parser_error, vague_number.';
COMMENT ON COLUMN parse_issues.message IS 'Human-readable explanation.';
COMMENT ON COLUMN parse_issues.raw IS 'The text that caused it (truncated to 500 characters).';
