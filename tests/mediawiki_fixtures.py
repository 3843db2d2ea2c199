"""pytest fixtures around a real MediaWiki (tests/mwserver.py)."""

from __future__ import annotations

import os

import pytest

from tests.history import seed_history
from tests.mwserver import INSTALL_HINT, MediaWikiServer

TITLE = "马利北部冲突"


@pytest.fixture(scope="session")
def mediawiki(tmp_path_factory, seed_text):
    """A MediaWiki on 127.0.0.1 holding the seed article with six revisions made by real edits,
    and a redirect to it. Skipped only off CI when Debian's package is absent."""
    if not MediaWikiServer.is_available():
        if os.environ.get("CI"):
            pytest.fail(f"Debian's mediawiki package is required in CI: {INSTALL_HINT}")
        pytest.skip(f"needs Debian's mediawiki package: {INSTALL_HINT}")
    server = MediaWikiServer(tmp_path_factory.mktemp("mediawiki"))
    with server:
        server.rev_ids = [server.edit(TITLE, text, summary=f"edit {i}", user="Admin")
                          for i, text in enumerate(seed_history(seed_text))]
        server.edit("Northern Mali conflict", f"#REDIRECT [[{TITLE}]]", summary="redirect")
        yield server
