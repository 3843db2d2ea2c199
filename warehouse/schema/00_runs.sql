-- One row per `ingest` run: what was read, what was loaded, how the checks went.
CREATE TABLE IF NOT EXISTS runs (
    run_id              VARCHAR PRIMARY KEY,
    flow_run_id         VARCHAR,
    started_at          TIMESTAMP NOT NULL,
    finished_at         TIMESTAMP,
    source              VARCHAR NOT NULL,
    status              VARCHAR NOT NULL,
    n_pages             BIGINT DEFAULT 0,
    n_revisions_read    BIGINT DEFAULT 0,
    n_revisions_loaded  BIGINT DEFAULT 0,
    n_revisions_skipped BIGINT DEFAULT 0,
    n_without_infobox   BIGINT DEFAULT 0,
    n_infoboxes         BIGINT DEFAULT 0,
    n_fields            BIGINT DEFAULT 0,
    n_figures           BIGINT DEFAULT 0,
    n_issues            BIGINT DEFAULT 0,
    expectations_passed BIGINT,
    expectations_failed BIGINT,
    report_path         VARCHAR,
    message             VARCHAR
);
COMMENT ON TABLE runs IS 'One row per ingest run (manual, scheduled or from tests): source, counts, status and expectation outcome.';
COMMENT ON COLUMN runs.run_id IS 'Our id of the run (UUID4 text); revisions.run_id points here.';
COMMENT ON COLUMN runs.flow_run_id IS 'Prefect flow-run id, to find the run in the Prefect UI; NULL when run outside Prefect.';
COMMENT ON COLUMN runs.started_at IS 'UTC time the run started.';
COMMENT ON COLUMN runs.finished_at IS 'UTC time the run finished; NULL while running or if it was killed.';
COMMENT ON COLUMN runs.source IS 'What was read: dump:PATH, file:PATH or api:WIKI:TITLES.';
COMMENT ON COLUMN runs.status IS 'running, completed, failed (critical expectation failed or error; see message), cancelled (stopped by Ctrl-C or SIGTERM), crashed, or interrupted (found still running by a later run: killed).';
COMMENT ON COLUMN runs.n_pages IS 'Pages seen in the source.';
COMMENT ON COLUMN runs.n_revisions_read IS 'Revisions read from the source.';
COMMENT ON COLUMN runs.n_revisions_loaded IS 'Revisions parsed and loaded by this run (new or re-derived).';
COMMENT ON COLUMN runs.n_revisions_skipped IS 'Revisions already stored with the current parser version, left untouched.';
COMMENT ON COLUMN runs.n_without_infobox IS 'Loaded revisions in which no infobox was found (they are stored all the same).';
COMMENT ON COLUMN runs.n_infoboxes IS 'infoboxes rows written by this run.';
COMMENT ON COLUMN runs.n_fields IS 'infobox_fields rows written by this run.';
COMMENT ON COLUMN runs.n_figures IS 'figures rows written by this run.';
COMMENT ON COLUMN runs.n_issues IS 'parse_issues rows written by this run.';
COMMENT ON COLUMN runs.expectations_passed IS 'Expectations that passed in this run''s validation.';
COMMENT ON COLUMN runs.expectations_failed IS 'Expectations that failed in this run''s validation (any severity).';
COMMENT ON COLUMN runs.report_path IS 'Path of the expectation report (HTML) written by this run.';
COMMENT ON COLUMN runs.message IS 'Error or summary message, for failed runs.';
