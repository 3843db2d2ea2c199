"""Two real processes on one warehouse: the second waits (bounded) or stops with a clear message;
nothing is lost or corrupted."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import duckdb
import pytest

from tests.history import seed_history, write_history

pytestmark = pytest.mark.usefixtures("prefect_harness")


def infobox(*args, env=None, timeout=300):
    return subprocess.Popen([sys.executable, "-m", "flows.cli", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_second_writer_waits_or_stops_cleanly(tmp_path, seed_text):
    from prefect.settings import get_current_settings

    dump = tmp_path / "h.xml"
    write_history(dump, seed_history(seed_text))
    db = tmp_path / "w.duckdb"
    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url)}
    release = tmp_path / "release"
    # Writer A: a real ingest that holds the warehouse after its first batch until the test has
    # seen the other commands meet the lock (not a fixed time: on a busy machine their start-up
    # alone can outlast any sleep).
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from flows import progress
        from flows.ingest import ingest
        def slow(event, data):
            if event == "batch":
                print("batch", flush=True)
                deadline = time.monotonic() + 300
                while not Path({str(release)!r}).exists() and time.monotonic() < deadline:
                    time.sleep(0.1)
        progress.subscribe(slow)
        ingest(dump={str(dump)!r}, db={str(db)!r}, batch_size=1)
        print("done", flush=True)
    """)
    writer = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "batch"  # A now holds the write lock

    impatient = infobox("run", "--dump", dump, "--db", db, "--lock-wait", "1", "--quiet", env=env)
    reader = infobox("sql", "select count(*) from revisions", "--db", db, env=env)
    patient = infobox("run", "--dump", dump, "--db", db, "--lock-wait", "180", "--quiet", env=env)

    try:
        out, err = impatient.communicate(timeout=120)
        _, reader_err = reader.communicate(timeout=120)
    finally:
        release.touch()
    assert impatient.returncode == 1
    assert err.strip().splitlines() == [err.strip().splitlines()[0]]
    assert "is locked by another process" in err and "Traceback" not in err
    assert reader.returncode == 1 and "locked by another process" in reader_err

    assert writer.wait(timeout=300) == 0, writer.stderr.read()[-2000:]
    _, patient_err = patient.communicate(timeout=300)
    assert patient.returncode == 0, patient_err

    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*), count(DISTINCT rev_id) FROM revisions").fetchall() == [(6, 6)]
        runs = con.execute("SELECT status, n_revisions_loaded, n_revisions_skipped FROM runs "
                           "ORDER BY started_at").fetchall()
    finally:
        con.close()
    # A loaded everything; the patient run waited, then found it all stored.
    assert runs == [("completed", 6, 0), ("completed", 0, 6)]
