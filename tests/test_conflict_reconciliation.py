"""The v_total_reconciliation view and reconcile_totals macro on the seed and on crafted cases."""

from __future__ import annotations

import pytest

from tasks.load import batch_rows, load_batch
from tasks.parse import parse_revision
from tasks.sources.textfile import read_file
from warehouse.db import connect


@pytest.fixture()
def con(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    yield con
    con.close()


def load_text(con, path, lang="zh"):
    page = read_file(path, lang=lang)
    revisions = list(page.revisions)
    load_batch(con, batch_rows(page, revisions, [parse_revision(r.text, lang) for r in revisions], "t"))


def statuses(con, sql="SELECT field, block, declared_low, declared_high, sum_low, sum_high, n_parts, "
                      "difference, status FROM v_total_reconciliation ORDER BY field, block"):
    return con.execute(sql).fetchall()


def test_seed_reconciliation(con, seed_path):
    load_text(con, seed_path)
    assert statuses(con) == [
        ("casualties1", 0, 1000, None, 564, None, 2, -436, "consistent"),
        ("notes", 0, 374000, 374000, 374000, 374000, 2, 0, "consistent"),
        ("strength1", 0, 23564, None, 18292, 19292, 18, -5272, "inconsistent"),
        ("strength1", 1, 545, 545, 546, 546, 22, 1, "inconsistent"),
        ("strength3", 0, 1200, 3000, 400, 400, 2, -800, "partial_ok"),
    ]
    eu = con.execute("SELECT description FROM v_total_reconciliation WHERE block = 1").fetchall()
    assert eu[0][0].startswith("strength1 block 1 European Union: declared 545, itemised 546")


def _box(field_value: str) -> str:
    return "{{Infobox military conflict\n|conflict = X\n|strength1 = " + field_value + "\n}}\n"


@pytest.mark.parametrize("value, status", [
    ("A 100<br/>B 200<br/>'''Total:''' 300", "consistent"),
    ("A 100<br/>B 200<br/>'''Total:''' 301", "inconsistent"),
    ("A about 100<br/>B 200<br/>'''Total:''' 305", "consistent"),      # approx widens by 10 %
    ("A 100<br/>B 200<br/>'''Total:''' at least 250", "consistent"),  # [250, ∞) meets 300
    ("A 100–200<br/>B 200<br/>'''Total:''' 350", "consistent"),      # [300, 400] meets 350
    ("A many<br/>B 200<br/>'''Total:''' 300", "not_comparable"),
    ("A 500\n* x: 100\n* y: 100", "partial_ok"),
    ("A 150\n* x: 100\n* y: 100", "inconsistent"),
])
def test_interval_semantics(con, tmp_path, value, status):
    path = tmp_path / "case.wikitext"
    path.write_text(_box(value), encoding="utf-8")
    load_text(con, path, lang="en")
    assert [r[-1] for r in statuses(con)] == [status]


def test_tolerance_is_a_parameter(con, tmp_path):
    path = tmp_path / "case.wikitext"
    path.write_text(_box("A about 100<br/>B 200<br/>'''Total:''' 305"), encoding="utf-8")
    load_text(con, path, lang="en")
    strict = con.execute("SELECT status FROM reconcile_totals(0.0)").fetchall()
    loose = con.execute("SELECT status FROM reconcile_totals(0.1)").fetchall()
    assert (strict, loose) == ([("inconsistent",)], [("consistent",)])
