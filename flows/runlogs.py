"""Where flow and task run logs go: always to the Prefect API (the UI's Logs tab), to the terminal
only when ``PREFECT_LOGGING_LEVEL`` asks for INFO or more.

The CLI sets ``PREFECT_LOGGING_LEVEL=WARNING`` to keep its own output to a summary, and the run
loggers inherit their level from the ``prefect`` logger; left alone, the per-batch INFO records
would never reach the API and the UI would say "This run didn't generate logs".
"""

from __future__ import annotations

import logging

RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")


def send_run_logs_to_api() -> None:
    """Let INFO records of flow and task runs through (Prefect's API handler is on these loggers).

    Called at the start of a flow, in whichever process runs it (the CLI, or a subprocess of
    ``infobox serve``). A lower level the user chose (DEBUG) is kept.
    """
    for name in RUN_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)


def quiet_console_run_logs() -> None:
    """In the CLI: keep run logs off the terminal unless PREFECT_LOGGING_LEVEL is INFO or lower.

    The API handler sits on the run loggers themselves, so not propagating to the root logger's
    console handler keeps them flowing to the UI. A failed run is reported by the CLI in one
    ``error:`` line instead of Prefect's traceback.
    """
    to_console = logging.getLogger("prefect").getEffectiveLevel() <= logging.INFO
    for name in RUN_LOGGERS:
        logging.getLogger(name).propagate = to_console
