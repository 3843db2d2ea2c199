"""The GX project's stored objects: written when they change, left alone when they do not."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest

from expectations import runner, validate
from warehouse.db import connect

RUN = "run-sample"
TOTALS = "v_total_reconciliation.totals_reconcile"


@pytest.fixture()
def sample_con(tmp_path, sample_warehouse):
    con = connect(sample_warehouse(RUN, tmp_path))
    yield con
    con.close()


def stored_objects(root: Path) -> dict[str, tuple[int, str]]:
    """Every suite, validation definition and checkpoint file: (mtime in ns, content)."""
    gx = root / "gx"
    files = [p for d in ("expectations", "validation_definitions", "checkpoints")
             for p in (gx / d).rglob("*.json")]
    return {str(p.relative_to(gx)): (p.stat().st_mtime_ns, p.read_text()) for p in files}


def outcome(summary, name):
    return next(o for o in summary.outcomes if o.expectation == name)


def test_a_second_validation_writes_no_suite_definition_or_checkpoint(sample_con, tmp_path):
    first = validate(sample_con, RUN, tmp_path)
    before = stored_objects(tmp_path)
    assert len(before) == 3 * len(first.outcomes)
    # Each suite holds its one expectation (GX's add_expectation wrote a second copy into the
    # stored suite before it was overwritten).
    for name, (_, text) in before.items():
        if name.startswith("expectations/"):
            assert len(json.loads(text)["expectations"]) == 1, name
    second = validate(sample_con, RUN, tmp_path)
    assert stored_objects(tmp_path) == before
    assert [(o.expectation, o.success, o.unexpected_count) for o in second.outcomes] == \
        [(o.expectation, o.success, o.unexpected_count) for o in first.outcomes]


def test_a_changed_expectation_and_result_format_are_written_and_used(sample_con, tmp_path,
                                                                       monkeypatch):
    import great_expectations.expectations as gxe

    before = outcome(validate(sample_con, RUN, tmp_path), "totals_reconcile")
    stricter = [dataclasses.replace(c, expectation=lambda s: gxe.ExpectColumnValuesToNotBeInSet(
                    column="status", value_set=["inconsistent", "consistent"]))
                if c.id == "totals_reconcile" else c for c in runner.CHECKS]
    monkeypatch.setattr(runner, "CHECKS", stricter)
    monkeypatch.setattr(runner, "SAMPLE_ROWS", 5)
    after = outcome(validate(sample_con, RUN, tmp_path), "totals_reconcile")
    assert after.unexpected_count > before.unexpected_count
    gx = tmp_path / "gx"
    suite = json.loads((gx / "expectations" / "v_total_reconciliation" / "totals_reconcile.json")
                       .read_text())
    assert [e["kwargs"]["value_set"] for e in suite["expectations"]] == [["inconsistent", "consistent"]]
    checkpoint = json.loads((gx / "checkpoints" / f"{TOTALS}.json").read_text())
    assert checkpoint["result_format"]["partial_unexpected_count"] == 5
    # GX ran with it: its stored result lists 5 unexpected values, not 20.
    results = sorted((gx / "uncommitted" / "validations" / "v_total_reconciliation"
                      / "totals_reconcile").rglob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    latest = json.loads(results[-1].read_text())["results"][0]["result"]
    assert len(latest["partial_unexpected_list"]) == 5
    monkeypatch.undo()
    assert outcome(validate(sample_con, RUN, tmp_path), "totals_reconcile").unexpected_count == \
        before.unexpected_count


@pytest.mark.parametrize("damage", ["suite", "definition", "checkpoint", "empty definition",
                                    "missing checkpoint"])
def test_a_damaged_or_missing_gx_object_is_written_anew(sample_con, tmp_path, damage, caplog):
    first = outcome(validate(sample_con, RUN, tmp_path), "totals_reconcile")
    gx = tmp_path / "gx"
    path = {"suite": gx / "expectations" / "v_total_reconciliation" / "totals_reconcile.json",
            "definition": gx / "validation_definitions" / f"{TOTALS}.json",
            "empty definition": gx / "validation_definitions" / f"{TOTALS}.json",
            "checkpoint": gx / "checkpoints" / f"{TOTALS}.json",
            "missing checkpoint": gx / "checkpoints" / f"{TOTALS}.json"}[damage]
    good = path.read_text()
    if damage.startswith("missing"):
        path.unlink()
    else:
        path.write_text("" if damage.startswith("empty") else good[: len(good) // 2])
    with caplog.at_level("WARNING", logger="expectations.gxproject"):
        again = outcome(validate(sample_con, RUN, tmp_path), "totals_reconcile")
    assert (again.success, again.unexpected_count) == (first.success, first.unexpected_count)
    stored = json.loads(path.read_text())
    assert stored["name"] == TOTALS
    assert ("unreadable" in caplog.text) == (not damage.startswith("missing"))


# What GX puts in a page that differs from one build to the next: element ids (uuid4), the build
# time in links (?d=20261127T015630.123456Z) and the footer's date.
_VOLATILE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                       r"|\d{8}T\d{6}\.\d+Z|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?")


def build_site(project: Path, shared: bool) -> dict[str, str]:
    """A full Data Docs build of ``project`` with our views (shared=True) or GX's own: every page,
    its volatile parts masked."""
    import great_expectations as gx

    from expectations.docviews import SECTIONS

    context = gx.get_context(mode="file", project_root_dir=str(project))
    for name, site in context.list_data_docs_sites().items():
        assert site["site_index_builder"]["view"]["module_name"] == "expectations.docviews"
        if not shared:  # back to the views GX names by default
            site = copy.deepcopy(dict(site))
            for section in SECTIONS:
                del site["site_section_builders"][section]["view"]
            del site["site_index_builder"]["view"]
            context.update_data_docs_site(name, site)
    shutil.rmtree(project / "gx" / "uncommitted" / "data_docs", ignore_errors=True)
    context.build_data_docs()
    site = project / "gx" / "uncommitted" / "data_docs" / "local_site"
    return {str(p.relative_to(site)): _VOLATILE.sub("~", p.read_text()) for p in site.rglob("*.html")}


def test_data_docs_pages_are_the_same_with_shared_templates(sample_con, tmp_path):
    from expectations import docviews

    validate(sample_con, RUN, tmp_path / "data")
    validate(sample_con, RUN, tmp_path / "data")  # a second validation result of every suite
    for copy_name in ("gx-own", "shared"):
        shutil.copytree(tmp_path / "data" / "gx", tmp_path / copy_name / "gx")
    docviews.BYTECODE.clear()
    own = build_site(tmp_path / "gx-own", shared=False)
    assert len(docviews.BYTECODE) == 0  # GX's views compile without it
    compiled = build_site(tmp_path / "shared", shared=True)  # compiled into the cache
    assert len(docviews.BYTECODE) > 10
    cached = build_site(tmp_path / "shared", shared=True)  # read from it
    assert len(own) == 1 + 2 * 14 + 14  # the index, 14 suites, 2 validations of each
    assert compiled == own
    assert cached == own


def test_the_project_names_the_shared_template_views_once(sample_con, tmp_path):
    validate(sample_con, RUN, tmp_path)
    config = tmp_path / "gx" / "great_expectations.yml"
    text, written = config.read_text(), config.stat().st_mtime_ns
    assert text.count("expectations.docviews") == 4  # three site sections and the index
    validate(sample_con, RUN, tmp_path)
    assert config.stat().st_mtime_ns == written


def test_warming_compiles_every_gx_template_a_validation_renders(sample_con, tmp_path):
    # What the validator process does while it waits: afterwards the Data Docs build compiles
    # only the project's own (custom) stylesheet.
    from expectations import docviews

    docviews.BYTECODE.clear()
    assert docviews.warm() == len(docviews.BYTECODE) > 20
    warmed = len(docviews.BYTECODE)
    validate(sample_con, RUN, tmp_path)
    validate(sample_con, RUN, tmp_path)
    assert len(docviews.BYTECODE) == warmed + 1


def _stored_results(root: Path) -> dict[str, list[str]]:
    """suite folder → run times of its stored validation results (oldest first)."""
    base = root / "gx" / "uncommitted" / "validations"
    found: dict[str, list[str]] = {}
    for path in base.rglob("*.json"):
        parts = path.relative_to(base).parts  # suite parts…, run name, run time, batch.json
        found.setdefault("/".join(parts[:-3]), []).append(parts[-2])
    return {suite: sorted(times) for suite, times in found.items()}


def _site_pages(root: Path) -> set[str]:
    base = root / "gx" / "uncommitted" / "data_docs" / "local_site" / "validations"
    return {str(p.relative_to(base).with_suffix("")) for p in base.rglob("*.html")}


def test_old_validation_results_and_their_pages_are_pruned_to_the_newest_of_each_suite(
        sample_con, tmp_path, monkeypatch):
    real = runner.load_settings

    def keep_two(*args, **kwargs):
        levels, settings = real(*args, **kwargs)
        return levels, {**settings, "data_docs_runs": 2}

    monkeypatch.setattr(runner, "load_settings", keep_two)
    history: list[dict[str, list[str]]] = []
    for _ in range(4):
        summary = validate(sample_con, RUN, tmp_path)
        history.append(_stored_results(tmp_path))
    suites = {f"{o.suite}/{o.expectation}" for o in summary.outcomes}
    assert set(history[-1]) == suites
    # Each suite: the results of the last two validations, the newest always among them.
    for suite in suites:
        runs = [h[suite] for h in history]
        assert [len(r) for r in runs] == [1, 2, 2, 2], suite
        assert runs[-1] == sorted({*runs[2], *runs[3]})[-2:], suite
        assert runs[3][0] == runs[2][1], suite  # the older kept one is the previous run's
    # The site holds the pages of exactly the stored results; the index links no pruned one.
    stored = {f"{suite}/__none__/{t}" for suite, times in history[-1].items() for t in times}
    assert {page.rsplit("/", 1)[0] for page in _site_pages(tmp_path)} == stored
    index = summary.docs_index.read_text(encoding="utf-8")
    linked = set(re.findall(r"validations/([^\"']+?)/[^/\"']+\.html", index))
    assert linked == stored
    # No empty folder is left behind in the store or the site.
    for base in (tmp_path / "gx" / "uncommitted" / "validations",
                 tmp_path / "gx" / "uncommitted" / "data_docs" / "local_site" / "validations"):
        assert [d for d in base.rglob("*") if d.is_dir() and not any(d.iterdir())] == []


def test_data_docs_runs_below_one_is_a_config_error(monkeypatch, tmp_path):
    from warehouse.errors import ConfigError

    bad = tmp_path / "severities.toml"
    bad.write_text(runner.SEVERITIES_FILE.read_text().replace("data_docs_runs = 10",
                                                             "data_docs_runs = 0"))
    monkeypatch.setattr(runner, "SEVERITIES_FILE", bad)
    with pytest.raises(ConfigError, match="data_docs_runs must be a whole number ≥ 1, not 0"):
        runner.load_settings()
