"""Check that the ParseCache reads a real history exactly like a plain parse.

    python -m benchmarks.parse_equality /tmp/b17/h5000.xml --full 400 --every 10

Every revision is read by the ParseCache as the pipeline uses it (segment memo on) and by a
ParseCache without the segment memo (every value parsed whole); of the revisions the cache really
computes (misses), every ``--every``-th, up to ``--full`` of them, is also compared with
tasks.parse.slow.parse_revision (about a second each on a 40 KB revision).
The full parse runs with the line memos of tasks.parse.conflict.figures switched off (quantities
and categories read afresh), so it is the plain reading. A reading is compared by value (dataclass equality), by its content ids (state id, value ids)
and by the repr of its rows (key order included). Prints the mismatch counts; exit 1 if any.
"""

from __future__ import annotations

import argparse
import sys
import time

from tasks.parse import ParseCache
from tasks.parse.conflict import figures
from tasks.parse.conflict.numbers import find_quantities
from tasks.parse.slow import parse_revision
from tasks.sources.dump import read_dump


def _same(a, b) -> bool:
    return (a == b and a.state_id == b.state_id
            and [f.value_id for box in a.infoboxes for f in box.fields]
            == [f.value_id for box in b.infoboxes for f in box.fields]
            and repr(a.infoboxes) == repr(b.infoboxes) and repr(a.issues) == repr(b.issues)
            and repr(a.own_issues) == repr(b.own_issues))


def _plain_parse(text: str, lang: str | None):
    """tasks.parse.slow.parse_revision without any memo of figures.py."""
    memo_quantities, memo_category = figures._quantities, figures.number_category
    figures._quantities = lambda line, line_lang, limit: find_quantities(line, line_lang, limit=limit)
    figures.number_category = memo_category.__wrapped__
    try:
        return parse_revision(text, lang)
    finally:
        figures._quantities, figures.number_category = memo_quantities, memo_category


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dump")
    parser.add_argument("--full", type=int, default=1500,
                        help="how many computed revisions to compare with a plain full parse")
    parser.add_argument("--every", type=int, default=1,
                        help="compare every n-th computed revision with a full parse")
    args = parser.parse_args(argv)
    cache = ParseCache()
    whole = ParseCache()
    whole.fields.segments = None
    revisions = vs_whole = vs_full = full_checked = computed = 0
    started = time.perf_counter()
    for page in read_dump(args.dump):
        for rev in page.revisions:
            revisions += 1
            misses = cache.misses
            parsed = cache.parse(rev.text, page.site.lang, rev.sha1)
            if not _same(parsed, whole.parse(rev.text, page.site.lang, rev.sha1)):
                vs_whole += 1
                print(f"mismatch (whole values) rev {rev.rev_id}", file=sys.stderr)
            computed += cache.misses > misses
            if cache.misses > misses and computed % args.every == 0 and full_checked < args.full:
                full_checked += 1
                if not _same(parsed, _plain_parse(rev.text, page.site.lang)):
                    vs_full += 1
                    print(f"mismatch (full parse) rev {rev.rev_id}", file=sys.stderr)
    print(f"revisions: {revisions}")
    print(f"mismatches_vs_cache_without_segments: {vs_whole} (of {revisions})")
    print(f"mismatches_vs_full_parse: {vs_full} (of {full_checked} computed revisions, every "
          f"{args.every}th of {computed})")
    print(f"segment_memo: {cache.fields.segments.hits} hits, {cache.fields.segments.misses} misses")
    print(f"seconds: {time.perf_counter() - started:.1f}")
    return 1 if vs_whole or vs_full else 0


if __name__ == "__main__":
    sys.exit(main())
