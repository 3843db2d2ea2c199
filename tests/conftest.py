"""Shared fixtures: the real seed article, a Prefect test harness, temporary warehouses."""

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
