"""Validation runs in a process of its own (expectations/child.py, flows/validation.py).

The ingest never imports Great Expectations; the validator's results are the ones an in-process
validation stores; a validator that fails, is killed or hangs gives one clear error and a
``failed`` run; a stopped ingest leaves no validator behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from warehouse.db import connect

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _query(db, sql, params=()):
    con = connect(db, read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _child_env() -> dict[str, str]:
    from prefect.settings import get_current_settings

    # The child talks to this session's test API instead of starting a server of its own.
    return {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url),
            "PREFECT_LOGGING_LEVEL": "ERROR"}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose (its parent has not reaped it yet).
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_the_ingest_process_never_imports_great_expectations(seed_path, tmp_path):
    db = tmp_path / "w.duckdb"
    script = textwrap.dedent(f"""
        import json, sys
        from flows.ingest import ingest
        state = ingest(file={str(seed_path)!r}, db={str(db)!r}, return_state=True)
        print(json.dumps({{"completed": state.is_completed(),
                           "gx_imported": any(m.split(".")[0] == "great_expectations"
                                              for m in sys.modules)}}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], env=_child_env(), capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    assert outcome == {"completed": True, "gx_imported": False}
    # …yet the run was validated: results stored, report written, counts in the runs row.
    (status, passed, failed, report), = _query(
        db, "SELECT status, expectations_passed, expectations_failed, report_path FROM runs")
    assert status == "completed" and passed > 0 and failed == 1  # the EU block: 545 vs 546
    assert _query(db, "SELECT count(*) FROM expectation_results")[0][0] == passed + failed
    assert os.path.exists(report)


def test_the_validator_process_returns_what_an_in_process_validation_stores(seed_path, tmp_path):
    """Same rows in expectation_results and problems, and the same summary, either way."""
    import expectations
    from expectations.child import summary_to_json
    from flows.ingest import ingest
    from flows.validation import ValidatorProcess

    db = tmp_path / "w.duckdb"
    ingest(file=str(seed_path), db=str(db), return_state=True)
    run_id = _query(db, "SELECT run_id FROM runs")[0][0]
    columns = ("suite, expectation, severity, success, observed_value, unexpected_count, "
               "unexpected_sample, details")

    def stored():
        return (_query(db, f"SELECT {columns} FROM expectation_results ORDER BY expectation"),
                _query(db, "SELECT * EXCLUDE (detail) FROM problems ORDER BY problem_id"))

    validator = ValidatorProcess.start(tmp_path / "logs")
    child = validator.validate({"db": str(db), "run_id": run_id, "data_dir": str(tmp_path),
                                "severities": None, "scheduled": False, "approx_tolerance": None,
                                "memory_limit": "96MB", "wait_seconds": 30})
    assert validator.pid != os.getpid() and not _alive(validator.pid)
    from_child = stored()
    con = connect(db)
    try:
        local = expectations.validate(con, run_id, tmp_path)
    finally:
        con.close()
    assert stored() == from_child
    assert len(from_child[0]) == len(local.outcomes) and from_child[1]

    def plain(summary):
        return json.loads(json.dumps(summary_to_json(summary), default=str, sort_keys=True))

    assert plain(child) == plain(local)
    assert expectations.summary_markdown(child) == expectations.summary_markdown(local)


def _runs(db):
    return _query(db, "SELECT status, message, expectations_passed FROM runs")


def test_a_killed_validator_is_one_clear_error_and_a_failed_run(seed_path, tmp_path, monkeypatch):
    from flows.ingest import ingest
    from flows.validation import ValidatorProcess

    started: list[ValidatorProcess] = []
    original = ValidatorProcess.validate

    def killed_first(self, request, **kwargs):
        started.append(self)
        self.proc.kill()
        self.proc.wait()
        return original(self, request, **kwargs)

    monkeypatch.setattr(ValidatorProcess, "validate", killed_first)
    db = tmp_path / "w.duckdb"
    state = ingest(file=str(seed_path), db=str(db), return_state=True)
    assert state.is_failed()
    (status, message, passed), = _runs(db)
    assert status == "failed" and passed is None
    assert message == "the validation process ended without an answer (killed by SIGKILL)"
    assert not _alive(started[0].pid)


def test_a_hung_validator_times_out_and_is_stopped(seed_path, tmp_path, monkeypatch):
    from flows.ingest import ingest
    from flows.validation import ValidatorProcess

    started: list[ValidatorProcess] = []
    original = ValidatorProcess.validate

    def frozen_first(self, request, **kwargs):
        started.append(self)
        os.kill(self.proc.pid, signal.SIGSTOP)  # alive, silent, never answers
        return original(self, request, **kwargs)

    monkeypatch.setattr(ValidatorProcess, "validate", frozen_first)
    monkeypatch.setenv("INFOBOX_VALIDATION_TIMEOUT_SECONDS", "3")
    db = tmp_path / "w.duckdb"
    state = ingest(file=str(seed_path), db=str(db), return_state=True)
    assert state.is_failed()
    (status, message, _passed), = _runs(db)
    assert status == "failed"
    assert message.startswith("validation did not finish within 3 s (raise "
                              "INFOBOX_VALIDATION_TIMEOUT_SECONDS")
    assert not _alive(started[0].pid)


def test_an_error_in_the_validator_is_the_run_s_message(seed_path, tmp_path):
    """A damaged GX project: the validator's own PipelineError, as it said it, in one line."""
    from flows.ingest import ingest

    (tmp_path / "gx").mkdir()
    (tmp_path / "gx" / "great_expectations.yml").write_text("stores: [not, a, mapping\n")
    db = tmp_path / "w.duckdb"
    state = ingest(file=str(seed_path), db=str(db), return_state=True)
    assert state.is_failed()
    (status, message, _passed), = _runs(db)
    assert status == "failed"
    assert message.startswith(f"cannot open the Great Expectations project in {tmp_path / 'gx'}")
    assert _query(db, "SELECT count(*) FROM revisions")[0][0] == 1  # the load itself is kept


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_stopping_the_ingest_leaves_no_validator_behind(seed_path, tmp_path, signum):
    """The validator starts with the flow; stop the ingest when the load is done."""
    db = tmp_path / "w.duckdb"
    script = textwrap.dedent(f"""
        import time
        from flows import progress
        from flows.ingest import ingest
        from flows.validation import ValidatorProcess

        start = ValidatorProcess.start

        def announced(log_dir):
            validator = start(log_dir)
            print(validator.pid, flush=True)
            return validator

        def held_at_validation(event, data):
            if event == "stage" and data.get("name") == "validate":
                print("loaded", flush=True)
                time.sleep(600)  # the test stops this process here

        ValidatorProcess.start = announced
        progress.subscribe(held_at_validation)
        ingest(file={str(seed_path)!r}, db={str(db)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], env=_child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        validator_pid = int(proc.stdout.readline())
        assert proc.stdout.readline().strip() == "loaded"
        assert _alive(validator_pid)
        proc.send_signal(signum)
        proc.wait(timeout=120)
        deadline = time.monotonic() + 30
        while _alive(validator_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(validator_pid)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
