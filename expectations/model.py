"""Results of a validation run (plain data, no GX import)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ExpectationOutcome:
    """One expectation evaluated in one run."""

    suite: str
    expectation: str
    severity: str  # critical | warning
    success: bool
    observed_value: str | None
    unexpected_count: int | None
    unexpected_sample: list[dict] = field(default_factory=list)
    description: str = ""
    rows_checked: int = 0


@dataclass
class ValidationSummary:
    """Every outcome of a run, and where its reports are."""

    run_id: str
    outcomes: list[ExpectationOutcome]
    report_path: Path
    docs_index: Path

    @property
    def passed(self) -> int:
        return sum(1 for o in self.outcomes if o.success)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if not o.success)

    @property
    def critical_failed(self) -> int:
        return sum(1 for o in self.outcomes if not o.success and o.severity == "critical")

    @property
    def warnings_failed(self) -> int:
        return sum(1 for o in self.outcomes if not o.success and o.severity == "warning")
