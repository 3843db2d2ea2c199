"""A tiny hook through which a flow reports progress to whoever displays it (the CLI's rich bar).

Flows call :func:`report`; with no listener (scheduled runs, tests) it does nothing. Keeping this
out of the flow's parameters keeps deployments' parameters plain JSON.
"""

from __future__ import annotations

from collections.abc import Callable

Listener = Callable[[str, dict], None]
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> None:
    _listeners.append(listener)


def unsubscribe(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def report(event: str, **data) -> None:
    """event: page (a page starts: title), batch (n revisions done), stage (name)."""
    for listener in list(_listeners):
        listener(event, data)
