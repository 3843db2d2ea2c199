"""Read a dump in a process of its own, ahead of the ingest that consumes it.

Walking the XML (mwxml, the SHA-1 and size of each text) costs about 1 ms a revision, all of it
Python: in the ingest's own process it adds to parsing and loading; in a child process it runs on
another core while the ingest parses and loads what was read before. The child sends the pages and
revisions it reads as pickled frames on a pipe; the pipe's buffer and a small frame size keep
memory bounded (the child waits when the ingest falls behind).

    read_dump_ahead(path, titles=…, namespaces=…) → Iterator[PageHistory]   same as read_dump

Errors stay the reader's own: a malformed dump raises the same DumpError (or PageNotFound) with the
same message, at the same point of the stream (pages already yielded stay valid). The child is
stopped when the iterator is closed or dropped, and it ends on its own when the ingest dies (a
write to a pipe nobody reads fails).
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from tasks.sources.dump import read_dump
from tasks.sources.model import PageHistory
from warehouse import errors

# Dumps smaller than this are read in the ingest's process (a child costs ≈ 0.3 s to start).
MIN_BYTES = 16 * 2**20
# Revisions per frame: enough to make pickling cheap, few enough to keep memory flat.
FRAME_REVISIONS = 16
_PAGE, _REVISIONS, _END_PAGE, _ERROR, _DONE = "page", "revisions", "end_page", "error", "done"


def worth_reading_ahead(path: str | Path) -> bool:
    """True for a dump big enough to pay for a reader process (and 2+ usable cores)."""
    try:
        size = Path(path).stat().st_size
    except OSError:
        return False  # read_dump says what is wrong with it
    return size >= MIN_BYTES and _cores() > 1


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def read_dump_ahead(path: str | Path, *, titles: Iterable[str] | None = None,
                    namespaces: Iterable[int] | None = None) -> Iterator[PageHistory]:
    """read_dump(path, titles=…, namespaces=…), read by a child process."""
    request = {"path": str(path), "titles": list(titles) if titles else None,
               "namespaces": list(namespaces) if namespaces is not None else None}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tasks.sources.readahead", json.dumps(request)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        # Its own session: a Ctrl-C meant for the ingest stops the ingest, which stops the reader.
        start_new_session=True)
    try:
        yield from _pages(proc, Path(path))
    finally:
        _stop(proc)


def _pages(proc: subprocess.Popen, path: Path) -> Iterator[PageHistory]:
    frames = _frames(proc, path)
    for kind, payload in frames:
        if kind == _DONE:
            return
        if kind != _PAGE:
            raise errors.DumpError(f"{path}: the dump reader process sent {kind!r} out of order")
        page = payload
        revisions = _revisions(frames, path)
        page.revisions = revisions
        yield page
        for _ in revisions:  # a caller that left revisions unread: skip to the next page
            pass


def _revisions(frames: Iterator, path: Path) -> Iterator:
    for kind, payload in frames:
        if kind == _END_PAGE:
            return
        if kind != _REVISIONS:
            raise errors.DumpError(f"{path}: the dump reader process sent {kind!r} inside a page")
        yield from payload


def _frames(proc: subprocess.Popen, path: Path) -> Iterator[tuple[str, object]]:
    """The child's frames; an error frame is raised as the error the child met."""
    while True:
        try:
            kind, payload = pickle.load(proc.stdout)
        except EOFError:
            code = proc.wait()
            detail = proc.stderr.read().decode("utf-8", "replace").strip().splitlines()
            raise errors.DumpError(
                f"{path}: the dump reader process ended unexpectedly (exit {code}"
                + (f": {detail[-1]}" if detail else "") + ")") from None
        if kind == _ERROR:
            name, message = payload
            cls = getattr(errors, name, None)
            if not (isinstance(cls, type) and issubclass(cls, errors.PipelineError)):
                cls = errors.DumpError
            raise cls(message)
        yield kind, payload


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _serve(request: dict, out) -> None:
    """The child: read the dump, send frames until done or until an error, which is sent too."""
    def send(kind: str, payload: object = None) -> None:
        pickle.dump((kind, payload), out, protocol=pickle.HIGHEST_PROTOCOL)

    frame: list = []
    try:
        for page in read_dump(request["path"], titles=request["titles"],
                              namespaces=request["namespaces"]):
            revisions, page.revisions = page.revisions, iter(())
            send(_PAGE, page)
            for revision in revisions:
                frame.append(revision)
                if len(frame) >= FRAME_REVISIONS:
                    send(_REVISIONS, frame)
                    frame = []
            if frame:
                send(_REVISIONS, frame)
                frame = []
            send(_END_PAGE)
    except errors.PipelineError as exc:
        if frame:  # the revisions read before the error reach the ingest, as they would in process
            send(_REVISIONS, frame)
        send(_ERROR, (type(exc).__name__, str(exc)))
    else:
        send(_DONE)
    out.flush()


def main(argv: list[str]) -> int:
    try:
        _serve(json.loads(argv[0]), sys.stdout.buffer)
    except BrokenPipeError:  # the ingest stopped reading: nothing left to do
        os._exit(0)  # (no flush of stdout at exit: it would fail the same way)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
