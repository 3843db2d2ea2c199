"""Shared fixtures: the real seed article, a Prefect test harness, temporary warehouses.

`make test` runs the suite on two pytest-xdist workers (``-n 2 --dist loadgroup
--no-loadscope-reorder``): :func:`pytest_collection_modifyitems` keeps each test file on one
worker and every test of the real MediaWiki on one worker, heaviest groups first.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest_plugins = ["tests.mediawiki_fixtures"]

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "tests" / "data" / "seed_northern_mali_conflict.zh.wikitext"
SAMPLE_DUMP = REPO / "data" / "sample" / "northern_mali_conflict.xml"


# Test files that use the session's MediaWiki: one xdist group (one MediaWiki install). A file
# missing here still passes; it only costs a second install on the other worker.
MEDIAWIKI_FILES = {"tests/test_api_ingest.py", "tests/test_api_options.py", "tests/test_api_source.py"}
HEAVY_FIXTURES = {"prefect_harness", "prefect_api_env", "mediawiki"}
HEAVY_MARKS = ("slow", "prefect_server", "browser")


def xdist_group_of(nodeid: str) -> str:
    """One group per test file (its module fixtures are made once), and one for the MediaWiki."""
    path = nodeid.split("::", 1)[0]
    return "mediawiki" if path in MEDIAWIKI_FILES else path


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup``, grouped by :func:`xdist_group_of`. (xdist's own loadgroup reads
    ``xdist_group`` marks into node ids, which pytest 9.2 no longer lets it change.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_group_of(nodeid)

    return GroupScheduling(config, log)


def _weight(item) -> int:
    """A rough cost: 1 per test, 10 more for one that runs a flow, a server or a browser."""
    heavy = bool(HEAVY_FIXTURES & set(getattr(item, "fixturenames", ()))) or any(
        item.get_closest_marker(mark) for mark in HEAVY_MARKS)
    return 11 if heavy else 1


def pytest_collection_modifyitems(config, items):
    """Under xdist (``--no-loadscope-reorder`` hands the groups out in collection order) the
    groups run heaviest first, so that no long file starts last and runs alone. A plain
    ``pytest`` run keeps the usual order."""
    if not getattr(config.option, "loadgroup", False):  # set on the workers of --dist loadgroup
        return
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(xdist_group_of(item.nodeid), []).append(item)
    ordered = sorted(groups.values(), key=lambda group: -sum(_weight(i) for i in group))
    items[:] = [item for group in ordered for item in group]


@pytest.fixture(scope="session")
def seed_path() -> Path:
    return SEED


@pytest.fixture(scope="session")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect API (SQLite) for every flow test of the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def prefect_api_env(prefect_harness) -> dict[str, str]:
    """The environment for an `infobox` subprocess that uses the session's Prefect API instead of
    starting a temporary server of its own (for tests that are not about that start-up)."""
    from prefect.settings import get_current_settings

    return {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url)}


@pytest.fixture(scope="session")
def _sample_warehouses(tmp_path_factory):
    """Build the bundled sample's warehouse once per run id (the real parser and loader)."""
    built: dict[str, Path] = {}

    def build(run_id: str) -> Path:
        if run_id not in built:
            from tasks.load import batch_rows, load_batch
            from tasks.parse import parse_revision
            from tasks.sources.dump import read_dump
            from warehouse.db import connect

            folder = tmp_path_factory.mktemp(f"sample-{run_id}")
            con = connect(folder / "w.duckdb")
            try:
                for page in read_dump(SAMPLE_DUMP):
                    revisions = list(page.revisions)
                    parsed = [parse_revision(r.text, page.site.lang) for r in revisions]
                    load_batch(con, batch_rows(page, revisions, parsed, run_id))
            finally:
                con.close()
            built[run_id] = folder
        return built[run_id]

    return build


@pytest.fixture(scope="session")
def sample_warehouse(_sample_warehouses):
    """``sample_warehouse(run_id, folder)``: a private copy of the bundled sample loaded (not yet
    validated) under ``run_id``, as ``folder / "w.duckdb"`` with every file that belongs to it.

    Loading the sample takes seconds; copying its files takes milliseconds and gives the rows a
    fresh load writes, so each test still gets its own warehouse to change."""

    def copy(run_id: str, folder: Path) -> Path:
        source = _sample_warehouses(run_id)
        folder.mkdir(parents=True, exist_ok=True)
        for path in source.iterdir():  # the warehouse and its text store (warehouse.db.texts_path)
            if path.is_file():
                shutil.copy2(path, folder / path.name)
        return folder / "w.duckdb"

    return copy


@pytest.fixture(scope="session")
def long_dump(tmp_path_factory) -> Path:
    """600 distinct revisions of the seed: a run that lasts long enough to be interrupted."""
    from tests.history import write_history

    seed = SEED.read_text(encoding="utf-8")
    path = tmp_path_factory.mktemp("long") / "history.xml"
    write_history(path, [seed.replace("2,000人", f"{2000 + i:,}人") for i in range(600)])
    return path
