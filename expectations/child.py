"""The validator process: ``python -m expectations.child --parent PID``.

``ingest`` starts this process at the start of its flow so that Great Expectations (seconds of
import, 150–220 MB) is imported on another core while the ingest reads, parses and loads, and so
that none of GX's memory counts in the ingest's process. The conversation, one JSON object per
line:

    child → parent   {"event": "ready", "import_seconds": …}        GX is imported
    parent → child   {"db": …, "run_id": …, "data_dir": …, "severities": …, "scheduled": …,
                      "approx_tolerance": …, "memory_limit": … | null, "wait_seconds": …}
                     (sent once the ingest has CLOSED its DuckDB connection: one writer per file)
    child → parent   {"event": "log", "level": …, "logger": …, "message": …}   any number
    child → parent   {"event": "result", "summary": {…}, "max_rss_kb": …, "seconds": …}
                  or {"event": "error", "type": …, "pipeline": bool, "duckdb": bool, "message": …}

The answers go on a pipe of their own (file descriptor 1 is pointed at stderr, so a stray print
of a library cannot break the conversation). An end of input before the request means the ingest
gave up: exit quietly. The process ignores SIGINT (a Ctrl-C reaches the whole process group; the
parent decides when to stop it) and exits when its parent dies.

Must not import Prefect; imports only ``expectations`` and ``warehouse``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import asdict
from pathlib import Path

from expectations.model import ExpectationOutcome, ValidationSummary

PARENT_POLL_SECONDS = 1.0


def summary_to_json(summary: ValidationSummary) -> dict:
    return {"run_id": summary.run_id, "outcomes": [asdict(o) for o in summary.outcomes],
            "report_path": str(summary.report_path), "docs_index": str(summary.docs_index),
            "reviews": summary.reviews}


def summary_from_json(data: dict) -> ValidationSummary:
    return ValidationSummary(run_id=data["run_id"],
                             outcomes=[ExpectationOutcome(**o) for o in data["outcomes"]],
                             report_path=Path(data["report_path"]),
                             docs_index=Path(data["docs_index"]), reviews=data["reviews"])


class _Answers:
    """Writes one JSON object per line on the answer pipe (thread-safe: logs come from any thread)."""

    def __init__(self, fd: int):
        self._out = os.fdopen(fd, "w", encoding="utf-8", buffering=1)
        self._lock = threading.Lock()

    def send(self, **message) -> None:
        line = json.dumps(message, ensure_ascii=False, default=str)
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()


class _ForwardLogs(logging.Handler):
    """Log records → the parent, which writes them to the flow run's logs."""

    def __init__(self, answers: _Answers):
        super().__init__(logging.INFO)
        self.answers = answers

    def emit(self, record: logging.LogRecord) -> None:
        ours = record.name.split(".")[0] in ("expectations", "warehouse")
        if record.levelno < logging.WARNING and not ours:
            return
        try:
            self.answers.send(event="log", level=record.levelno, logger=record.name,
                              message=record.getMessage())
        except Exception:  # noqa: BLE001 - the parent is gone; the exit watch ends us
            pass


def _exit_with_parent(parent: int) -> None:
    """Exit as soon as ``parent`` is gone (killed with -9 included): never an orphan."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _error(exc: BaseException) -> dict:
    import duckdb

    from warehouse.errors import PipelineError

    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return {"event": "error", "type": type(exc).__name__, "message": message,
            "pipeline": isinstance(exc, PipelineError), "duckdb": isinstance(exc, duckdb.Error)}


def _validate(request: dict) -> ValidationSummary:
    from expectations.runner import validate
    from warehouse.db import connect, memory_limit

    con = connect(Path(request["db"]), wait_seconds=float(request["wait_seconds"]),
                  init_schema=False)
    try:
        limit = request.get("memory_limit")
        if limit:
            with memory_limit(con, limit):
                return _run(validate, con, request)
        return _run(validate, con, request)
    finally:
        con.close()


def _run(validate, con, request: dict) -> ValidationSummary:
    return validate(con, request["run_id"], Path(request["data_dir"]),
                    severities=request.get("severities"),
                    approx_tolerance=request.get("approx_tolerance"),
                    scheduled=bool(request.get("scheduled")))


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m expectations.child")
    parser.add_argument("--parent", type=int, required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent(args.parent)
    answers = _Answers(os.dup(1))
    os.dup2(2, 1)  # stray prints go to the log, not into the conversation
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.addHandler(_ForwardLogs(answers))
    for name in ("expectations", "warehouse"):
        logging.getLogger(name).setLevel(logging.INFO)
    started = time.perf_counter()
    try:
        import great_expectations  # noqa: F401 - the slow part, done while the ingest loads

        import expectations.runner  # noqa: F401
    except BaseException as exc:  # noqa: BLE001 - reported when the parent asks
        failure = exc
        traceback.print_exc()
    else:
        failure = None
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        answers.send(event="ready", import_seconds=round(time.perf_counter() - started, 3))
    line = sys.stdin.readline()
    if not line.strip():
        return 0  # the ingest stopped before validating
    if failure is not None:
        answers.send(**_error(failure))
        return 1
    started = time.perf_counter()
    try:
        summary = _validate(json.loads(line))
    except BaseException as exc:  # noqa: BLE001 - every failure becomes one answer
        traceback.print_exc()
        answers.send(**_error(exc))
        return 1
    answers.send(event="result", summary=summary_to_json(summary),
                 seconds=round(time.perf_counter() - started, 3), max_rss_kb=_peak_rss_kb())
    return 0


def _peak_rss_kb() -> int:
    """This process's own high-water mark: VmHWM (ru_maxrss would start from the parent's mark,
    see benchmarks/peak.py)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stderr.flush()
    os._exit(code)  # everything is sent and the database closed: skip GX's slow teardown
