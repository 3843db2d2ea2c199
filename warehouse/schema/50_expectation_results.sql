-- Data-quality history: every expectation evaluated by every run.
CREATE TABLE IF NOT EXISTS expectation_results (
    run_id            VARCHAR NOT NULL,
    suite             VARCHAR NOT NULL,
    expectation       VARCHAR NOT NULL,
    severity          VARCHAR NOT NULL,
    success           BOOLEAN NOT NULL,
    observed_value    VARCHAR,
    unexpected_count  BIGINT,
    unexpected_sample VARCHAR,
    details           VARCHAR,
    evaluated_at      TIMESTAMP NOT NULL
);
COMMENT ON TABLE expectation_results IS 'One row per expectation evaluated in a run: the data-quality history, queryable in SQL.';
COMMENT ON COLUMN expectation_results.run_id IS 'Run (runs.run_id).';
COMMENT ON COLUMN expectation_results.suite IS 'Great Expectations suite name.';
COMMENT ON COLUMN expectation_results.expectation IS 'Expectation name as configured in the suite (our id, stable across runs).';
COMMENT ON COLUMN expectation_results.severity IS 'critical (fails the run) or warning.';
COMMENT ON COLUMN expectation_results.success IS 'True when the expectation held.';
COMMENT ON COLUMN expectation_results.observed_value IS 'Observed value reported by GX, as text.';
COMMENT ON COLUMN expectation_results.unexpected_count IS 'Number of rows that broke the expectation.';
COMMENT ON COLUMN expectation_results.unexpected_sample IS 'JSON array of up to 20 offending rows (wiki, rev_id, field, block… and a readable description).';
COMMENT ON COLUMN expectation_results.details IS 'Extra JSON from GX (kwargs, exception text).';
COMMENT ON COLUMN expectation_results.evaluated_at IS 'UTC time of evaluation.';
