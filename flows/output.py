"""Formatting of CLI output: query results, parse results, run summaries."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime
from decimal import Decimal

from rich.console import Console
from rich.table import Table

from tasks.parse import ParsedRevision


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def print_rows(columns: list[str], rows: list[tuple], fmt: str) -> None:
    """Print query rows as a table, CSV (header + one line per row) or a JSON array of objects."""
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    elif fmt == "json":
        json.dump([dict(zip(columns, row, strict=True)) for row in rows], sys.stdout, ensure_ascii=False,
                  default=_json_default, indent=1)
        sys.stdout.write("\n")
    else:
        table = Table(*columns, show_lines=False)
        for row in rows:
            table.add_row(*("NULL" if v is None else str(v) for v in row))
        Console().print(table)
        Console(stderr=True).print(f"[dim]{len(rows)} row(s)[/dim]")


def parse_to_dict(parsed: ParsedRevision) -> dict:
    """The JSON shape of ``infobox parse``."""
    return {
        "infoboxes": [
            {
                "template": box.template,
                "kind": box.kind,
                "fields": {name: {"raw": raw, "text": text} for name, raw, text in box.params},
                "belligerents": box.belligerents,
                "figures": box.figures,
                "citations": box.citations,
            }
            for box in parsed.infoboxes
        ],
        "issues": parsed.issues,
    }


def print_parse(parsed: ParsedRevision, fmt: str) -> None:
    if fmt == "json":
        json.dump(parse_to_dict(parsed), sys.stdout, ensure_ascii=False, indent=1,
                  default=_json_default)
        sys.stdout.write("\n")
        return
    console = Console()
    for box in parsed.infoboxes:
        table = Table("field", "text", title=f"{box.template} ({box.kind})", show_lines=True)
        for name, _raw, text in box.params:
            table.add_row(name, text)
        console.print(table)
        if box.figures:
            figures = Table("field", "block", "entity", "category", "low", "high", "qualifier",
                            "total", title="figures")
            for f in box.figures:
                figures.add_row(f["field"], str(f["block"]), str(f.get("entity") or ""),
                                f["category"], str(f["low"]), str(f["high"]), f["qualifier"],
                                "yes" if f["is_total"] else "")
            console.print(figures)
    for issue in parsed.issues:
        console.print(f"[yellow]{issue['severity']}[/yellow] {issue['code']}: {issue['message']}")


# At most this many problems are printed after a run; the rest are named with where to read them
# (the report lists every one).
TERMINAL_PROBLEMS = 40


def print_expectations(summary, console: Console) -> None:
    """The validation in the terminal: the counts every surface shows, problems first."""
    from expectations.model import problem_order, result_order

    style = {"passed": "green", "critical": "bold red", "warning": "yellow"}
    checks = Table("expectation", "result", "problems", "open", "checked", "new",
                   title=f"expectations · {summary.headline()}")
    lines: list[str] = []
    for o in sorted(summary.outcomes, key=result_order):
        checked = sum(1 for p in o.problems if p["problem_id"] in summary.reviews)
        new = sum(1 for p in o.problems if p["is_new"])
        checks.add_row(o.expectation, f"[{style[o.result]}]{o.result}[/]", str(o.unexpected_count or 0),
                       str(len(o.problems) - checked), str(checked), str(new))
        for p in sorted(o.problems, key=problem_order):
            if p["problem_id"] not in summary.reviews:
                state = "current" if p["is_current"] else "history"
                lines.append(f"{o.result} {o.expectation} [{state}{', new' if p['is_new'] else ''}] "
                             f"{p['problem_id']}: {p['description']}")
    console.print(checks)
    for line in lines[:TERMINAL_PROBLEMS]:
        console.print(line, soft_wrap=True, markup=False, highlight=False)
    if len(lines) > TERMINAL_PROBLEMS:
        console.print(f"… and {len(lines) - TERMINAL_PROBLEMS} more open problems: the report lists "
                      f"all {len(lines)}", markup=False, highlight=False)


def print_problems(problems: list[dict], reviews: dict[str, dict]) -> None:
    """One page's problems (infobox review): id, state, expectation, description."""
    table = Table("id", "state", "expectation", "problem", show_lines=False)
    for p in problems:
        review = reviews.get(p["problem_id"])
        state = ("checked" if review else "open") + (" current" if p["is_current"] else " history")
        table.add_row(p["problem_id"], state, f"{p['expectation']} ({p['severity']})", p["description"])
    Console().print(table)
