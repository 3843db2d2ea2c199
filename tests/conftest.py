"""Shared fixtures: the real seed article, a Prefect test harness, temporary warehouses."""

from __future__ import annotations

import os
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
