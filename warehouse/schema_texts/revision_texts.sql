-- Revision texts, in the text store beside the warehouse (data/warehouse.texts.duckdb, attached as
-- `texts`): a file of its own because it is stored in small row groups (warehouse/db.py::_open).
CREATE TABLE IF NOT EXISTS texts.revision_texts (
    wiki    VARCHAR NOT NULL,
    rev_id  BIGINT  NOT NULL,
    text    VARCHAR NOT NULL,
    PRIMARY KEY (wiki, rev_id)
);
COMMENT ON TABLE texts.revision_texts IS 'Raw wikitext of each stored revision''s main slot, as served (no variant conversion); join to revisions on (wiki, rev_id). No row when the text is hidden or missing.';
COMMENT ON COLUMN texts.revision_texts.wiki IS 'Wiki id (revisions.wiki).';
COMMENT ON COLUMN texts.revision_texts.rev_id IS 'Revision (revisions.rev_id).';
COMMENT ON COLUMN texts.revision_texts.text IS 'The wikitext; its length in bytes is revisions.size and its SHA-1 revisions.sha1.';
