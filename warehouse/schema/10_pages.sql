-- Pages (articles) whose revisions are stored.
CREATE TABLE IF NOT EXISTS pages (
    wiki       VARCHAR NOT NULL,
    page_id    BIGINT  NOT NULL,
    title      VARCHAR NOT NULL,
    namespace  INTEGER NOT NULL DEFAULT 0,
    lang       VARCHAR,
    base_url   VARCHAR,
    redirect_from VARCHAR,
    PRIMARY KEY (wiki, page_id)
);
COMMENT ON TABLE pages IS 'One row per page (article) of a wiki whose revisions are stored.';
COMMENT ON COLUMN pages.wiki IS 'Wiki id: the dump''s dbname (zhwiki, enwiki…), the API short name, or "local" for --file input.';
COMMENT ON COLUMN pages.page_id IS 'MediaWiki page id on that wiki (for --file input: a stable id derived from the file name).';
COMMENT ON COLUMN pages.title IS 'Page title as the wiki shows it, with namespace prefix if any.';
COMMENT ON COLUMN pages.namespace IS 'MediaWiki namespace number (0 = articles).';
COMMENT ON COLUMN pages.lang IS 'Content language code (zh, en, fr…), used to pick localized template names.';
COMMENT ON COLUMN pages.base_url IS 'URL of the wiki''s index.php (or article path) used to link to a revision; NULL when unknown.';
COMMENT ON COLUMN pages.redirect_from IS 'Title that was requested and redirected to this page, if any.';
