-- The problem register: every row that breaks an expectation, across the whole warehouse, as the
-- latest validation found it (each validation replaces it). Reports and article pages read it.
CREATE TABLE IF NOT EXISTS problems (
    problem_id   VARCHAR NOT NULL PRIMARY KEY,
    run_id       VARCHAR NOT NULL,
    expectation  VARCHAR NOT NULL,
    severity     VARCHAR NOT NULL,
    wiki         VARCHAR,
    page_id      BIGINT,
    rev_id       BIGINT,
    field        VARCHAR,
    is_current   BOOLEAN NOT NULL,
    is_new       BOOLEAN NOT NULL,
    n_rows       BIGINT NOT NULL,
    description  VARCHAR NOT NULL,
    detail       VARCHAR
);
COMMENT ON TABLE problems IS 'One row per open finding (an offending row or group of rows of an expectation) in the whole warehouse, as the latest validation found it.';
COMMENT ON COLUMN problems.problem_id IS 'Stable id: 12 hex digits of a hash of the expectation, page and offending values; a changed figure is a new problem.';
COMMENT ON COLUMN problems.run_id IS 'Validation (runs.run_id) that found it last.';
COMMENT ON COLUMN problems.expectation IS 'Expectation broken (expectation_results.expectation).';
COMMENT ON COLUMN problems.severity IS 'critical or warning, as configured for that run.';
COMMENT ON COLUMN problems.wiki IS 'Wiki of the offending revision.';
COMMENT ON COLUMN problems.page_id IS 'Page of the offending revision; NULL for rows of no stored revision.';
COMMENT ON COLUMN problems.rev_id IS 'Revision that shows the problem (for a finding repeated over many revisions: the one chosen by the check, usually the latest).';
COMMENT ON COLUMN problems.field IS 'Infobox parameter concerned, when the check names one.';
COMMENT ON COLUMN problems.is_current IS 'True when the problem is in the latest stored revision of its page (still standing); false when only in its history.';
COMMENT ON COLUMN problems.is_new IS 'True when a revision loaded by run_id shows it.';
COMMENT ON COLUMN problems.n_rows IS 'Offending rows (revisions) behind this finding.';
COMMENT ON COLUMN problems.description IS 'The problem in words (untrusted wiki text inside).';
COMMENT ON COLUMN problems.detail IS 'JSON of the offending row as the check selected it.';
