"""Parse time and memory of one very large field (issue: parsing must stay linear in a field's size).

    python -m benchmarks.bigfield            # a strength1 of 300,000 numbers on one line (≈ 3.9 MB)
    python -m benchmarks.bigfield --numbers 150000

Prints the field's size, the parse time, the figures kept (at most MAX_FIGURES_PER_FIELD, the rest
reported as one `too_many_figures` issue) and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import time

from tasks.parse import parse_revision
from tasks.parse.conflict.figures import MAX_FIGURES_PER_FIELD


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--numbers", type=int, default=300_000)
    args = parser.parse_args(argv)
    parse_revision("{{Infobox military conflict|strength1=1 troops}}", "en")  # compile the patterns
    value = ", ".join(f"{i % 9000 + 1} troops" for i in range(args.numbers))
    text = "{{Infobox military conflict\n|conflict=X\n|strength1=" + value + "\n}}"
    start = time.perf_counter()
    parsed = parse_revision(text, "en")
    seconds = time.perf_counter() - start
    figures = len(parsed.infoboxes[0].figures)
    print(f"field_mb: {len(value) / 1e6:.2f}")
    print(f"parse_seconds: {seconds:.2f}")
    print(f"figures_kept: {figures} (cap {MAX_FIGURES_PER_FIELD})")
    print(f"issues: {sorted({i['code'] for i in parsed.issues})}")
    print(f"peak_rss_mb: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
