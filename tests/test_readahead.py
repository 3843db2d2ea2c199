"""A dump read by a child process (tasks/sources/readahead.py) gives exactly what read_dump gives:
the same pages and revisions, the same errors at the same point, and no process left behind."""

from __future__ import annotations

import time

import psutil
import pytest

from benchmarks.synth import generate
from tasks.sources import readahead
from tasks.sources.dump import read_dump
from tasks.sources.readahead import read_dump_ahead
from tests.conftest import SAMPLE_DUMP
from tests.history import seed_history, write_history
from warehouse.errors import DumpError, PageNotFound

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _read(pages) -> list[tuple]:
    return [(p.site, p.page_id, p.title, p.namespace, p.source, rev) for p in pages for rev in p.revisions]


def _readers() -> set[int]:
    return {c.pid for c in psutil.Process().children(recursive=True)
            if "tasks.sources.readahead" in " ".join(c.cmdline())}


@pytest.fixture(scope="module")
def two_page_history(tmp_path_factory):
    path = tmp_path_factory.mktemp("ahead") / "h.xml"
    generate(path, pages=2, revisions=60, seed=5)
    return path


def test_same_pages_and_revisions_as_in_process(two_page_history):
    for path in (SAMPLE_DUMP, two_page_history):
        expected = _read(read_dump(path))
        assert len(expected) > 5
        assert _read(read_dump_ahead(path)) == expected
    titles = [p.title for p in read_dump(two_page_history)]
    assert _read(read_dump_ahead(two_page_history, titles=titles[1:])) == \
        _read(read_dump(two_page_history, titles=titles[1:]))
    assert not _readers()


def test_a_truncated_dump_gives_the_same_revisions_then_the_same_error(tmp_path, seed_text):
    whole = tmp_path / "whole.xml"
    write_history(whole, seed_history(seed_text))
    data = whole.read_bytes()
    cut = tmp_path / "cut.xml"
    fourth = data.index(b"<revision>")
    for _ in range(3):
        fourth = data.index(b"<revision>", fourth + 1)
    cut.write_bytes(data[:fourth + 300])
    got, errors = {}, {}
    for name, reader in (("in process", read_dump), ("ahead", read_dump_ahead)):
        got[name] = []
        with pytest.raises(DumpError) as caught:
            for page in reader(cut):
                for revision in page.revisions:
                    got[name].append(revision)
        errors[name] = str(caught.value)
    assert got["ahead"] == got["in process"] and len(got["ahead"]) == 3
    assert errors["ahead"] == errors["in process"] and "malformed or truncated" in errors["ahead"]


def test_a_missing_title_gives_the_same_page_not_found(two_page_history):
    with pytest.raises(PageNotFound) as here:
        _read(read_dump(two_page_history, titles=["No such page"]))
    with pytest.raises(PageNotFound) as ahead:
        _read(read_dump_ahead(two_page_history, titles=["No such page"]))
    assert str(ahead.value) == str(here.value)


def test_closing_early_stops_the_reader(two_page_history):
    pages = read_dump_ahead(two_page_history)
    first = next(pages)
    next(first.revisions)
    assert len(_readers()) == 1
    pages.close()
    deadline = time.monotonic() + 30
    while _readers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _readers()


def test_the_ingest_reads_a_big_dump_ahead_with_the_same_result(two_page_history, tmp_path,
                                                                  monkeypatch):
    from flows.ingest import ingest
    from warehouse.db import connect

    used = []
    original = readahead.read_dump_ahead

    def spy(*args, **kwargs):
        used.append(args)
        return original(*args, **kwargs)

    results = {}
    for name, min_bytes in (("in process", 10**12), ("ahead", 0)):
        monkeypatch.setattr(readahead, "MIN_BYTES", min_bytes)
        monkeypatch.setattr(readahead, "read_dump_ahead", spy)
        monkeypatch.setattr(readahead, "_cores", lambda: 2)
        db = tmp_path / name / "w.duckdb"
        db.parent.mkdir()
        ingest(dump=str(two_page_history), db=str(db), return_state=True)
        con = connect(db, read_only=True)
        results[name] = con.execute(
            "SELECT wiki, page_id, rev_id, parent_id, ts, user_name, sha1, size, state_id "
            "FROM revisions ORDER BY ALL").fetchall()
        con.close()
    assert len(used) == 1  # only the second run read ahead
    assert results["ahead"] == results["in process"] and len(results["ahead"]) == 120


def test_the_reader_ends_when_the_ingest_is_killed(two_page_history, tmp_path):
    """kill -9 of the process reading ahead (no cleanup code runs): the reader meets a closed pipe
    and ends by itself."""
    import signal
    import subprocess
    import sys

    script = tmp_path / "consume.py"
    script.write_text(
        "import os, sys, time\n"
        "from tasks.sources import readahead\n"
        "readahead.QUEUE_FRAMES = 1  # the reader must be blocked on the pipe, not done\n"
        "pages = readahead.read_dump_ahead(sys.argv[1])\n"
        "next(next(pages).revisions)\n"
        "print('reading', flush=True)\n"
        "time.sleep(600)\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), str(two_page_history)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "reading"
        readers = [c for c in psutil.Process(proc.pid).children()
                   if "tasks.sources.readahead" in " ".join(c.cmdline())]
        assert len(readers) == 1
        time.sleep(2)
        assert readers[0].is_running() and readers[0].status() != psutil.STATUS_ZOMBIE
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    _gone, alive = psutil.wait_procs(readers, timeout=60)
    assert not alive, [p.cmdline() for p in alive]
