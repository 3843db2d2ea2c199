-- Reviewers' marks: a problem someone checked, with a note. Kept across runs; since a problem's id
-- hashes the offending values, a figure that changes again is a new, open problem.
CREATE TABLE IF NOT EXISTS problem_reviews (
    problem_id   VARCHAR NOT NULL PRIMARY KEY,
    expectation  VARCHAR NOT NULL,
    wiki         VARCHAR,
    page_id      BIGINT,
    rev_id       BIGINT,
    description  VARCHAR NOT NULL,
    note         VARCHAR NOT NULL,
    reviewer     VARCHAR,
    checked_at   TIMESTAMP NOT NULL
);
COMMENT ON TABLE problem_reviews IS 'One row per problem a reviewer marked as checked (infobox review --check); survives every run.';
COMMENT ON COLUMN problem_reviews.problem_id IS 'The problem checked (problems.problem_id).';
COMMENT ON COLUMN problem_reviews.expectation IS 'Expectation of the problem, kept for when it leaves the register.';
COMMENT ON COLUMN problem_reviews.wiki IS 'Wiki of the problem.';
COMMENT ON COLUMN problem_reviews.page_id IS 'Page of the problem.';
COMMENT ON COLUMN problem_reviews.rev_id IS 'Revision shown for the problem when it was checked.';
COMMENT ON COLUMN problem_reviews.description IS 'The problem in words when it was checked.';
COMMENT ON COLUMN problem_reviews.note IS 'What the reviewer found (free text).';
COMMENT ON COLUMN problem_reviews.reviewer IS 'Who checked it ($USER unless given).';
COMMENT ON COLUMN problem_reviews.checked_at IS 'UTC time of the check.';
