"""Read a dump in a process of its own, ahead of the ingest that consumes it.

Walking the XML (mwxml, the SHA-1 and size of each text) costs about 1 ms a revision, all of it
Python: in the ingest's own process it adds to parsing and loading; in a child process it runs on
another core while the ingest parses and loads what was read before. The child sends the pages and
revisions it reads as pickled frames on a pipe; a thread of the ingest drains the pipe into a
bounded queue (≈ 16 MB), so the child reads ahead by a few hundred revisions and then waits.

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
import queue
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from tasks.sources.dump import read_dump
from tasks.sources.model import PageHistory
from warehouse import errors

# Dumps smaller than this are read in the ingest's process (a child costs ≈ 0.3 s to start).
MIN_BYTES = 16 * 2**20
# A frame holds up to FRAME_REVISIONS revisions or FRAME_BYTES of text (pickling stays cheap);
# up to QUEUE_FRAMES frames wait in the ingest's process (≈ 16 MB, a few hundred revisions).
FRAME_REVISIONS = 16
FRAME_BYTES = 512 * 1024
QUEUE_FRAMES = 32
_PAGE, _REVISIONS, _END_PAGE, _ERROR, _DONE, _EOF = "page", "revisions", "end_page", "error", "done", "eof"


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
    stop = threading.Event()
    try:
        yield from _pages(proc, Path(path), stop)
    finally:
        stop.set()
        _stop(proc)


def _pages(proc: subprocess.Popen, path: Path, stop: threading.Event) -> Iterator[PageHistory]:
    frames = _frames(proc, path, stop)
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


def _frames(proc: subprocess.Popen, path: Path, stop: threading.Event) -> Iterator[tuple[str, object]]:
    """The child's frames; an error frame is raised as the error the child met.

    A thread of this process drains the pipe into a queue of up to QUEUE_FRAMES frames: a pipe
    holds 64 KB, about one revision, so without it the child would wait for every read of the
    ingest instead of reading the next batch while the ingest parses and loads this one."""
    frames: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)

    def put(item) -> bool:
        while not stop.is_set():
            try:
                frames.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def pump() -> None:
        while True:
            try:
                item = pickle.load(proc.stdout)
            except EOFError:
                item = (_EOF, None)
            except (OSError, ValueError, pickle.UnpicklingError) as exc:  # closed, or garbled
                item = (_EOF, f"{type(exc).__name__}: {exc}")
            if not put(item) or item[0] in (_DONE, _ERROR, _EOF):
                return

    threading.Thread(target=pump, name="dump-read-ahead", daemon=True).start()
    while True:
        kind, payload = frames.get()
        if kind == _EOF:
            code = proc.wait()
            detail = proc.stderr.read().decode("utf-8", "replace").strip().splitlines()
            detail = detail[-1] if detail else payload
            raise errors.DumpError(
                f"{path}: the dump reader process ended unexpectedly (exit {code}"
                + (f": {detail}" if detail else "") + ")")
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
    size = 0
    try:
        for page in read_dump(request["path"], titles=request["titles"],
                              namespaces=request["namespaces"]):
            revisions, page.revisions = page.revisions, iter(())
            send(_PAGE, page)
            for revision in revisions:
                frame.append(revision)
                size += revision.size or 0
                if len(frame) >= FRAME_REVISIONS or size >= FRAME_BYTES:
                    send(_REVISIONS, frame)
                    frame, size = [], 0
            if frame:
                send(_REVISIONS, frame)
                frame, size = [], 0
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
