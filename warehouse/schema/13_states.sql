-- The content-addressed store. A revision points to its state (revisions.state_id): what its
-- infoboxes say, stored once however many revisions read the same. A state is a list of
-- infoboxes, each a list of field values (state_fields); a field value is stored once with
-- everything read from it (value_figures, value_belligerents, value_citations, value_issues).
-- Ids are BLAKE2b-64 hashes of the parser's output (tasks/parse/model.py::content_id): equal rows,
-- equal id. Users query the per-revision views (infoboxes, infobox_fields, figures, …), which
-- join these to revisions and keep the columns of the per-revision tables they replace.
-- Only states and field_values have a primary key. The rows of a state or a value (state_boxes …
-- value_issues) are written once, with their state or value, when its id is new (tasks/load.py),
-- so a key over them would only check the loader again: as DuckDB keeps every key's index in
-- memory, those indexes were most of a long history's index memory (docs/BENCHMARKS.md). The
-- uniqueness of (state_id, box_idx, seq), (value_id, seq) … is tested instead (tests/test_content_store.py).
CREATE TABLE IF NOT EXISTS states (
    state_id  BIGINT  NOT NULL PRIMARY KEY,
    n_boxes   INTEGER NOT NULL
);
COMMENT ON TABLE states IS 'One row per distinct reading of a revision (its infoboxes and their field values, or the lack of an infobox), stored once.';
COMMENT ON COLUMN states.state_id IS 'Content address: hash of the templates, kinds, field value ids and own issues of the reading.';
COMMENT ON COLUMN states.n_boxes IS 'Number of infoboxes in the state (0: no infobox).';

CREATE TABLE IF NOT EXISTS state_boxes (
    state_id  BIGINT  NOT NULL,
    box_idx   INTEGER NOT NULL,
    template  VARCHAR NOT NULL,
    kind      VARCHAR NOT NULL,
    n_fields  INTEGER NOT NULL
);
COMMENT ON TABLE state_boxes IS 'The infoboxes of each state, in document order (the view infoboxes gives them per revision).';
COMMENT ON COLUMN state_boxes.state_id IS 'State (states.state_id).';
COMMENT ON COLUMN state_boxes.box_idx IS '0-based position of the infobox among the infoboxes of the state.';
COMMENT ON COLUMN state_boxes.template IS 'Template name as written in the wikitext (trimmed).';
COMMENT ON COLUMN state_boxes.kind IS 'Recognised kind: military_conflict, or generic for any other infobox.';
COMMENT ON COLUMN state_boxes.n_fields IS 'Number of parameters of the template.';

CREATE TABLE IF NOT EXISTS state_fields (
    state_id  BIGINT  NOT NULL,
    box_idx   INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    value_id  BIGINT  NOT NULL
);
COMMENT ON TABLE state_fields IS 'Which field value fills each parameter position of each infobox of a state.';
COMMENT ON COLUMN state_fields.state_id IS 'State (states.state_id).';
COMMENT ON COLUMN state_fields.box_idx IS 'Infobox within the state (state_boxes.box_idx).';
COMMENT ON COLUMN state_fields.seq IS '0-based position of the parameter in the template call.';
COMMENT ON COLUMN state_fields.value_id IS 'The parameter''s value (field_values.value_id).';

CREATE TABLE IF NOT EXISTS state_issues (
    state_id  BIGINT  NOT NULL,
    idx       INTEGER NOT NULL,
    box_idx   INTEGER,
    field     VARCHAR,
    severity  VARCHAR NOT NULL,
    code      VARCHAR NOT NULL,
    message   VARCHAR NOT NULL,
    raw       VARCHAR
);
COMMENT ON TABLE state_issues IS 'Issues of a reading not tied to one parameter: no_infobox, no_text, parser_error.';
COMMENT ON COLUMN state_issues.state_id IS 'State (states.state_id).';
COMMENT ON COLUMN state_issues.idx IS '0-based order of the issue within the state.';
COMMENT ON COLUMN state_issues.box_idx IS 'Infobox concerned; NULL for the whole revision.';
COMMENT ON COLUMN state_issues.field IS 'Parameter concerned; NULL for the whole infobox or revision.';
COMMENT ON COLUMN state_issues.severity IS 'info, warning or error.';
COMMENT ON COLUMN state_issues.code IS 'Stable machine code of the problem (parse_issues.code).';
COMMENT ON COLUMN state_issues.message IS 'Human-readable explanation.';
COMMENT ON COLUMN state_issues.raw IS 'The text that caused it (truncated to 500 characters).';

CREATE TABLE IF NOT EXISTS field_values (
    value_id  BIGINT  NOT NULL PRIMARY KEY,
    field     VARCHAR NOT NULL,
    raw       VARCHAR NOT NULL,
    text      VARCHAR NOT NULL
);
COMMENT ON TABLE field_values IS 'One row per distinct infobox parameter (name, value and everything read from it), stored once.';
COMMENT ON COLUMN field_values.value_id IS 'Content address: hash of the name, raw value, plain text and the rows read from it.';
COMMENT ON COLUMN field_values.field IS 'Parameter name, trimmed (positional parameters get their number).';
COMMENT ON COLUMN field_values.raw IS 'Parameter value exactly as written in the wikitext.';
COMMENT ON COLUMN field_values.text IS 'Plain text of the value (infobox_fields.text).';

CREATE TABLE IF NOT EXISTS value_belligerents (
    value_id      BIGINT  NOT NULL,
    field         VARCHAR NOT NULL,
    side          INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    name          VARCHAR NOT NULL,
    country_code  VARCHAR,
    coalition     VARCHAR,
    role          VARCHAR NOT NULL,
    period        VARCHAR,
    link          VARCHAR,
    raw           VARCHAR
);
COMMENT ON TABLE value_belligerents IS 'Parties read from a combatant field value (the view belligerents gives them per revision; columns as there).';
COMMENT ON COLUMN value_belligerents.value_id IS 'Field value (field_values.value_id).';
COMMENT ON COLUMN value_belligerents.field IS 'As belligerents.field.';
COMMENT ON COLUMN value_belligerents.side IS 'As belligerents.side.';
COMMENT ON COLUMN value_belligerents.seq IS 'As belligerents.seq.';
COMMENT ON COLUMN value_belligerents.name IS 'As belligerents.name.';
COMMENT ON COLUMN value_belligerents.country_code IS 'As belligerents.country_code.';
COMMENT ON COLUMN value_belligerents.coalition IS 'As belligerents.coalition.';
COMMENT ON COLUMN value_belligerents.role IS 'As belligerents.role.';
COMMENT ON COLUMN value_belligerents.period IS 'As belligerents.period.';
COMMENT ON COLUMN value_belligerents.link IS 'As belligerents.link.';
COMMENT ON COLUMN value_belligerents.raw IS 'As belligerents.raw.';

CREATE TABLE IF NOT EXISTS value_figures (
    value_id      BIGINT  NOT NULL,
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
    ref_names     VARCHAR[]
);
COMMENT ON TABLE value_figures IS 'Figures read from a field value (the view figures gives them per revision; columns as there).';
COMMENT ON COLUMN value_figures.value_id IS 'Field value (field_values.value_id).';
COMMENT ON COLUMN value_figures.field IS 'As figures.field.';
COMMENT ON COLUMN value_figures.side IS 'As figures.side.';
COMMENT ON COLUMN value_figures.block IS 'As figures.block.';
COMMENT ON COLUMN value_figures.seq IS 'As figures.seq.';
COMMENT ON COLUMN value_figures.entity IS 'As figures.entity.';
COMMENT ON COLUMN value_figures.country_code IS 'As figures.country_code.';
COMMENT ON COLUMN value_figures.category IS 'As figures.category (docs/CATEGORIES.md).';
COMMENT ON COLUMN value_figures.low IS 'As figures.low.';
COMMENT ON COLUMN value_figures.high IS 'As figures.high.';
COMMENT ON COLUMN value_figures.qualifier IS 'As figures.qualifier.';
COMMENT ON COLUMN value_figures.as_of IS 'As figures.as_of.';
COMMENT ON COLUMN value_figures.is_total IS 'As figures.is_total.';
COMMENT ON COLUMN value_figures.parent_seq IS 'As figures.parent_seq.';
COMMENT ON COLUMN value_figures.is_annotation IS 'As figures.is_annotation.';
COMMENT ON COLUMN value_figures.breakdown IS 'As figures.breakdown.';
COMMENT ON COLUMN value_figures.raw IS 'As figures.raw.';
COMMENT ON COLUMN value_figures.ref_names IS 'As figures.ref_names.';

CREATE TABLE IF NOT EXISTS value_citations (
    value_id     BIGINT  NOT NULL,
    ref_name     VARCHAR NOT NULL,
    is_named     BOOLEAN NOT NULL,
    template     VARCHAR,
    url          VARCHAR,
    title        VARCHAR,
    publisher    VARCHAR,
    date         VARCHAR,
    archive_url  VARCHAR,
    raw          VARCHAR
);
COMMENT ON TABLE value_citations IS 'The <ref>s of a field value (the view citations merges them per revision; columns as there).';
COMMENT ON COLUMN value_citations.value_id IS 'Field value (field_values.value_id).';
COMMENT ON COLUMN value_citations.ref_name IS 'As citations.ref_name.';
COMMENT ON COLUMN value_citations.is_named IS 'As citations.is_named.';
COMMENT ON COLUMN value_citations.template IS 'As citations.template.';
COMMENT ON COLUMN value_citations.url IS 'As citations.url.';
COMMENT ON COLUMN value_citations.title IS 'As citations.title.';
COMMENT ON COLUMN value_citations.publisher IS 'As citations.publisher.';
COMMENT ON COLUMN value_citations.date IS 'As citations.date.';
COMMENT ON COLUMN value_citations.archive_url IS 'As citations.archive_url.';
COMMENT ON COLUMN value_citations.raw IS 'As citations.raw: the definition''s content; NULL when a named re-use has none in the article.';

CREATE TABLE IF NOT EXISTS value_issues (
    value_id  BIGINT  NOT NULL,
    idx       INTEGER NOT NULL,
    field     VARCHAR,
    severity  VARCHAR NOT NULL,
    code      VARCHAR NOT NULL,
    message   VARCHAR NOT NULL,
    raw       VARCHAR
);
COMMENT ON TABLE value_issues IS 'Issues met reading a field value (vague or unreadable numbers…); the view parse_issues gives them per revision.';
COMMENT ON COLUMN value_issues.value_id IS 'Field value (field_values.value_id).';
COMMENT ON COLUMN value_issues.idx IS '0-based order of the issue within the value.';
COMMENT ON COLUMN value_issues.field IS 'As parse_issues.field.';
COMMENT ON COLUMN value_issues.severity IS 'As parse_issues.severity.';
COMMENT ON COLUMN value_issues.code IS 'As parse_issues.code.';
COMMENT ON COLUMN value_issues.message IS 'As parse_issues.message.';
COMMENT ON COLUMN value_issues.raw IS 'As parse_issues.raw.';

CREATE TABLE IF NOT EXISTS revision_issues (
    wiki      VARCHAR NOT NULL,
    rev_id    BIGINT  NOT NULL,
    box_idx   INTEGER,
    field     VARCHAR,
    severity  VARCHAR NOT NULL,
    code      VARCHAR NOT NULL,
    message   VARCHAR NOT NULL,
    raw       VARCHAR
);
COMMENT ON TABLE revision_issues IS 'Issues about a revision as delivered rather than its reading: a repeated revision id, a different text under a stored id.';
COMMENT ON COLUMN revision_issues.wiki IS 'Wiki id (revisions.wiki).';
COMMENT ON COLUMN revision_issues.rev_id IS 'Revision (revisions.rev_id).';
COMMENT ON COLUMN revision_issues.box_idx IS 'As parse_issues.box_idx (NULL).';
COMMENT ON COLUMN revision_issues.field IS 'As parse_issues.field (NULL).';
COMMENT ON COLUMN revision_issues.severity IS 'As parse_issues.severity.';
COMMENT ON COLUMN revision_issues.code IS 'As parse_issues.code: duplicate_revision or conflicting_revision.';
COMMENT ON COLUMN revision_issues.message IS 'As parse_issues.message.';
COMMENT ON COLUMN revision_issues.raw IS 'As parse_issues.raw.';
