-- Revisions: ids, metadata and how they were derived. Their wikitext is in texts.revision_texts
-- (the text store beside the warehouse), so everything can be re-derived without refetching.
CREATE TABLE IF NOT EXISTS revisions (
    wiki            VARCHAR NOT NULL,
    rev_id          BIGINT  NOT NULL,
    page_id         BIGINT  NOT NULL,
    parent_id       BIGINT,
    ts              TIMESTAMP,
    user_name       VARCHAR,
    comment         VARCHAR,
    sha1            VARCHAR,
    size            BIGINT,
    has_infobox     BOOLEAN NOT NULL,
    parser_version  INTEGER NOT NULL,
    source          VARCHAR NOT NULL,
    run_id          VARCHAR NOT NULL,
    state_id        BIGINT,
    PRIMARY KEY (wiki, rev_id)
);
COMMENT ON TABLE revisions IS 'One row per stored revision: ids, metadata and how its rows were derived; its wikitext is in texts.revision_texts.';
COMMENT ON COLUMN revisions.wiki IS 'Wiki id, as in pages.wiki.';
COMMENT ON COLUMN revisions.rev_id IS 'MediaWiki revision id (for --file input: a stable id derived from the text''s sha1).';
COMMENT ON COLUMN revisions.page_id IS 'Page the revision belongs to (pages.page_id).';
COMMENT ON COLUMN revisions.parent_id IS 'Previous revision of the page (rev_id); NULL for a page''s first revision.';
COMMENT ON COLUMN revisions.ts IS 'Revision timestamp, UTC.';
COMMENT ON COLUMN revisions.user_name IS 'Editor''s user name or IP; NULL when hidden.';
COMMENT ON COLUMN revisions.comment IS 'Edit summary; NULL when hidden.';
COMMENT ON COLUMN revisions.sha1 IS 'SHA-1 of the text as 40 hex digits (computed by us when the source gives none or gives base 36).';
COMMENT ON COLUMN revisions.size IS 'Text length in bytes (UTF-8).';
COMMENT ON COLUMN revisions.has_infobox IS 'True when at least one infobox template was found in the text.';
COMMENT ON COLUMN revisions.parser_version IS 'Version of the parser that derived this revision''s rows; a newer parser re-derives them.';
COMMENT ON COLUMN revisions.source IS 'Where the revision came from: dump, file or api.';
COMMENT ON COLUMN revisions.state_id IS 'What its infoboxes say (states.state_id): revisions that read the same share one state, stored once. NULL only in a warehouse not yet migrated.';
COMMENT ON COLUMN revisions.run_id IS 'Run that last (re)loaded this revision (runs.run_id).';
