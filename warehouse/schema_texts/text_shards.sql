-- The revision-text store beside the warehouse (data/warehouse.texts.duckdb, attached as `texts`):
-- a file of its own because it is stored in small row groups (warehouse/db.py::_open). Its texts
-- live in shard tables texts.text_shard_000001, … of at most 16 M characters each, read through
-- the view texts.revision_texts; warehouse/textstore.py creates both (why: its docstring).
CREATE TABLE IF NOT EXISTS texts.text_shards (
    shard   INTEGER NOT NULL PRIMARY KEY,
    n_texts BIGINT  NOT NULL,
    n_chars BIGINT  NOT NULL
);
COMMENT ON TABLE texts.text_shards IS 'The shards of the revision texts (tables text_shard_NNNNNN, read through the view revision_texts); a writer appends to the newest and begins a new one past 16 M characters.';
COMMENT ON COLUMN texts.text_shards.shard IS 'Shard number: table text_shard_ followed by it in six digits.';
COMMENT ON COLUMN texts.text_shards.n_texts IS 'Texts appended to the shard (deletes are not subtracted).';
COMMENT ON COLUMN texts.text_shards.n_chars IS 'Characters of text appended to the shard (deletes are not subtracted).';
CREATE TABLE IF NOT EXISTS texts.text_locations (
    wiki    VARCHAR NOT NULL,
    rev_id  BIGINT  NOT NULL,
    shard   INTEGER NOT NULL,
    PRIMARY KEY (wiki, rev_id)
);
COMMENT ON TABLE texts.text_locations IS 'Which shard holds the text of each stored revision (one row per text in revision_texts): keeps each revision once across the shards and lets a writer find a text without reading every shard.';
COMMENT ON COLUMN texts.text_locations.wiki IS 'Wiki id (revisions.wiki).';
COMMENT ON COLUMN texts.text_locations.rev_id IS 'Revision (revisions.rev_id).';
COMMENT ON COLUMN texts.text_locations.shard IS 'Shard number (text_shards.shard).';
