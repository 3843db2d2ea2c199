-- References used by the infoboxes of a revision.
CREATE TABLE IF NOT EXISTS citations (
    wiki         VARCHAR NOT NULL,
    rev_id       BIGINT  NOT NULL,
    ref_name     VARCHAR NOT NULL,
    is_named     BOOLEAN NOT NULL,
    template     VARCHAR,
    url          VARCHAR,
    title        VARCHAR,
    publisher    VARCHAR,
    date         VARCHAR,
    archive_url  VARCHAR,
    raw          VARCHAR,
    PRIMARY KEY (wiki, rev_id, ref_name)
);
COMMENT ON TABLE citations IS 'One row per distinct <ref> used in a revision''s infoboxes; named re-uses (<ref name=x/>) resolve to their definition anywhere in the article.';
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
