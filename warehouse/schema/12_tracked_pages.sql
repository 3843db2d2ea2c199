-- Pages to follow on each wiki (added by `infobox discover --track` or by hand).
CREATE TABLE IF NOT EXISTS tracked_pages (
    wiki      VARCHAR NOT NULL,
    title     VARCHAR NOT NULL,
    page_id   BIGINT,
    added_at  TIMESTAMP NOT NULL,
    source    VARCHAR NOT NULL,
    PRIMARY KEY (wiki, title)
);
COMMENT ON TABLE tracked_pages IS 'Pages followed on each wiki; `infobox run --wiki W --tracked` fetches all of them.';
COMMENT ON COLUMN tracked_pages.wiki IS 'The wiki as given to --wiki (short name such as zh, or api.php URL).';
COMMENT ON COLUMN tracked_pages.title IS 'Page title on that wiki.';
COMMENT ON COLUMN tracked_pages.page_id IS 'Page id when known (from discovery).';
COMMENT ON COLUMN tracked_pages.added_at IS 'UTC time the page was added.';
COMMENT ON COLUMN tracked_pages.source IS 'How it was added, e.g. discover:Infobox military conflict.';
