"""No silent no-ops (issue 18, item 5): a title that matches no page, --title with --file, a
source without any infobox — each says so; where nothing was loaded because of a user error, the
run exits 1 with one `error:` line. Real CLI (in-process), real Prefect, real DuckDB files."""

from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.conftest import SAMPLE_DUMP
from tests.history import NO_INFOBOX_TEXT, seed_history, write_history

pytestmark = pytest.mark.usefixtures("prefect_harness")


def infobox(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_error_line(result, fragment: str) -> str:
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: ") and fragment in errors[0], result.stderr
    assert "Traceback" not in result.output
    return errors[0]


def stored(db, sql: str):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_mistyped_title_loads_nothing_and_exits_1(tmp_path):
    db = tmp_path / "w.duckdb"
    # The bundled sample (no --dump) and an explicit --dump go through the same reader.
    line = one_error_line(infobox("run", "--title", "马利北部冲", "--db", db, "--quiet"),
                          "no page titled '马利北部冲'")
    assert "did you mean '马利北部冲突'?" in line and "1 page(s) read" in line
    line = one_error_line(infobox("run", "--dump", SAMPLE_DUMP, "--title", "Nonexistent", "--db", db,
                                  "--quiet"), "no page titled 'Nonexistent'")
    assert "did you mean" not in line
    assert stored(db, "select count(*) from revisions") == [(0,)]
    assert stored(db, "select status, message like 'no page titled%' from runs") == [
        ("failed", True), ("failed", True)]


def test_one_title_found_and_one_not_loads_the_found_one_and_warns(tmp_path, seed_text):
    dump = tmp_path / "h.xml"
    write_history(dump, seed_history(seed_text)[:2])
    db = tmp_path / "w.duckdb"
    result = infobox("run", "--dump", dump, "--title", "马利北部冲突", "--title", "Typo", "--db", db,
                     "--quiet")
    assert result.exit_code == 0, result.output
    assert "warning: no page titled 'Typo'" in result.stdout
    assert stored(db, "select count(*) from revisions") == [(2,)]


def test_title_with_file_is_refused_before_anything_runs(tmp_path, seed_path):
    db = tmp_path / "w.duckdb"
    line = one_error_line(infobox("run", "--file", seed_path, "--title", "Foo", "--db", db),
                          "--title does not apply to --file")
    assert repr(seed_path.stem) in line
    assert not db.exists() or stored(db, "select count(*) from runs") == [(0,)]


def test_a_file_without_infobox_loads_and_says_so(tmp_path):
    text = tmp_path / "article.wikitext"
    text.write_text(NO_INFOBOX_TEXT, encoding="utf-8")
    db = tmp_path / "w.duckdb"
    result = infobox("run", "--file", text, "--db", db, "--quiet")
    assert result.exit_code == 0, result.output
    assert "no infobox found: none of the 1 revision(s) loaded has an infobox template" in result.stdout
    assert stored(db, "select count(*) from revisions") == [(1,)]


def test_a_dump_with_no_page_in_the_namespace_exits_1(tmp_path):
    db = tmp_path / "w.duckdb"
    one_error_line(infobox("run", "--dump", SAMPLE_DUMP, "--namespace", "14", "--db", db, "--quiet"),
                   "no page in namespace(s) 14 to load")
