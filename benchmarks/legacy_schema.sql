-- The per-revision layout of the warehouse as of issue 17 (warehouse/schema 11, 20, 21, 30, 31, 32,
-- 40 and schema_texts/revision_texts.sql at f130b72), kept here for the benchmark's baselines so
-- that they do not follow the warehouse's own layout. Everything in one DuckDB file, default
-- settings (no text store, no row-group tuning). Comments dropped; the columns, types, defaults
-- and primary keys are unchanged.
CREATE TABLE revisions (
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
    PRIMARY KEY (wiki, rev_id)
);

CREATE TABLE revision_texts (
    wiki    VARCHAR NOT NULL,
    rev_id  BIGINT  NOT NULL,
    text    VARCHAR NOT NULL,
    PRIMARY KEY (wiki, rev_id)
);

CREATE TABLE infoboxes (
    wiki      VARCHAR NOT NULL,
    rev_id    BIGINT  NOT NULL,
    box_idx   INTEGER NOT NULL,
    template  VARCHAR NOT NULL,
    kind      VARCHAR NOT NULL,
    n_fields  INTEGER NOT NULL,
    PRIMARY KEY (wiki, rev_id, box_idx)
);

CREATE TABLE infobox_fields (
    wiki      VARCHAR NOT NULL,
    rev_id    BIGINT  NOT NULL,
    box_idx   INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    field     VARCHAR NOT NULL,
    raw       VARCHAR NOT NULL,
    text      VARCHAR NOT NULL,
    PRIMARY KEY (wiki, rev_id, box_idx, seq)
);

CREATE TABLE belligerents (
    wiki          VARCHAR NOT NULL,
    rev_id        BIGINT  NOT NULL,
    box_idx       INTEGER NOT NULL,
    field         VARCHAR NOT NULL,
    side          INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    name          VARCHAR NOT NULL,
    country_code  VARCHAR,
    coalition     VARCHAR,
    role          VARCHAR NOT NULL,
    period        VARCHAR,
    link          VARCHAR,
    raw           VARCHAR,
    PRIMARY KEY (wiki, rev_id, box_idx, field, seq)
);

CREATE TABLE figures (
    wiki          VARCHAR NOT NULL,
    rev_id        BIGINT  NOT NULL,
    box_idx       INTEGER NOT NULL,
    field         VARCHAR NOT NULL,
    side          INTEGER,
    block         INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    entity        VARCHAR,
    country_code  VARCHAR,
    category      VARCHAR NOT NULL,
    low           BIGINT,
    high          BIGINT,
    qualifier     VARCHAR NOT NULL,
    as_of         VARCHAR,
    is_total      BOOLEAN NOT NULL,
    parent_seq    INTEGER,
    is_annotation BOOLEAN NOT NULL DEFAULT FALSE,
    breakdown     VARCHAR,
    raw           VARCHAR NOT NULL,
    ref_names     VARCHAR[],
    PRIMARY KEY (wiki, rev_id, box_idx, field, seq)
);

CREATE TABLE citations (
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

CREATE TABLE parse_issues (
    wiki      VARCHAR NOT NULL,
    rev_id    BIGINT  NOT NULL,
    box_idx   INTEGER,
    field     VARCHAR,
    severity  VARCHAR NOT NULL,
    code      VARCHAR NOT NULL,
    message   VARCHAR NOT NULL,
    raw       VARCHAR
);
