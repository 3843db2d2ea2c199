"""Results of a validation run (plain data, no GX import).

One vocabulary everywhere (terminal, report, Prefect artifact): an expectation's **result** is
``passed``, or, when it failed, its severity — ``critical`` or ``warning``. Its **problems** are
the offending values GX counted (the Data Docs page shows the same number); each problem is
**open** or **checked** (a reviewer marked it, ``problem_reviews``), **current** (in the latest
revision of its page) or history, and **new** when this run loaded a revision that shows it.
"""

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
    unexpected_count: int | None  # problems: GX's unexpected count
    unexpected_sample: list[dict] = field(default_factory=list)
    description: str = ""
    rows_checked: int = 0  # GX's element count (distinct values for a grouped check)
    problems: list[dict] = field(default_factory=list)  # every problem (rows of the problems table)

    @property
    def result(self) -> str:
        """passed | critical | warning."""
        return "passed" if self.success else self.severity


def result_order(outcome: ExpectationOutcome) -> tuple:
    """Problems first: critical, then warning, then passed; most problems first."""
    rank = {"critical": 0, "warning": 1, "passed": 2}[outcome.result]
    return (rank, -(outcome.unexpected_count or 0), outcome.expectation)


def problem_order(problem: dict) -> tuple:
    """Open current problems first, then new, then the most recent revision."""
    return (not problem.get("is_current"), not problem.get("is_new"), -(problem.get("rev_id") or 0),
            problem.get("description") or "")


@dataclass
class ValidationSummary:
    """Every outcome of a run, and where its reports are."""

    run_id: str
    outcomes: list[ExpectationOutcome]
    report_path: Path
    docs_index: Path
    reviews: dict[str, dict] = field(default_factory=dict)  # problem_id → review of a checked one

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

    def counts(self) -> dict[str, int]:
        """The numbers every surface shows: expectations by result, problems open/checked/new."""
        problems = [p for o in self.outcomes for p in o.problems]
        checked = sum(1 for p in problems if p["problem_id"] in self.reviews)
        return {"passed": self.passed, "critical": self.critical_failed,
                "warning": self.warnings_failed, "problems": len(problems),
                "open": len(problems) - checked, "checked": checked,
                "current": sum(1 for p in problems if p["is_current"]),
                "new": sum(1 for p in problems if p["is_new"])}

    def headline(self) -> str:
        """One line: '12 passed · 0 critical · 3 warning — 14 problems (13 open, 1 checked), 2 new'."""
        c = self.counts()
        return (f"{c['passed']} passed · {c['critical']} critical · {c['warning']} warning — "
                f"{c['problems']} problems ({c['open']} open, {c['checked']} checked), "
                f"{c['current']} in latest revisions, {c['new']} new in this run")
