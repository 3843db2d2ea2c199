"""Great Expectations suites run by ``ingest`` after every load, and the reports people review.

    validate(con, run_id, data_dir, severities=None, approx_tolerance=None, scheduled=False)
        → ValidationSummary   (outcomes stored in expectation_results; Data Docs + HTML report built)
    summary_markdown(summary) → str      the Prefect artifact
    summary_rows(summary)     → rows     a terminal table
    latest_report(data_dir)   → Path | None

GX itself is imported only when validation runs (it takes about 5 s to import).
"""

from __future__ import annotations

from pathlib import Path

from expectations.model import ExpectationOutcome, ValidationSummary


def validate(con, run_id: str, data_dir: Path, severities: dict[str, str] | None = None,
             approx_tolerance: float | None = None, scheduled: bool = False) -> ValidationSummary:
    from expectations.runner import validate as _validate

    return _validate(con, run_id, data_dir, severities=severities,
                     approx_tolerance=approx_tolerance, scheduled=scheduled)


def summary_markdown(summary: ValidationSummary) -> str:
    from expectations.report import summary_markdown as _md

    return _md(summary)


def summary_rows(summary: ValidationSummary) -> list[tuple]:
    from expectations.report import summary_rows as _rows

    return _rows(summary)


def latest_report(data_dir: Path) -> Path | None:
    from expectations.report import latest_report as _latest

    return _latest(data_dir)


__all__ = ["ExpectationOutcome", "ValidationSummary", "latest_report", "summary_markdown",
           "summary_rows", "validate"]
