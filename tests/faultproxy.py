"""A fault-injecting HTTP proxy on 127.0.0.1 in front of a real MediaWiki.

For a seeded share of requests it answers, instead of forwarding: 429 with Retry-After, 503 with
a maxlag error, a response slower than the client's timeout, a reset connection, or a JSON body
cut in half. ``script`` replies come first, in order: (status, headers) answered without
forwarding (e.g. a 429 whose Retry-After is an HTTP-date). Everything else is forwarded unchanged.
Bounded: it serves until stopped.
"""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

FAULTS = ("429", "maxlag", "slow", "reset", "truncated")


class FaultProxy:
    def __init__(self, upstream: str, *, share: float = 0.4, seed: int = 7, slow_seconds: float = 3.0,
                 script: list[tuple[int, dict]] | None = None):
        self.upstream = upstream.rstrip("/")
        self.script = list(script or [])
        self.scripted: list[float] = []  # monotonic time of each scripted reply
        self.share = share
        self.rng = random.Random(seed)
        self.slow_seconds = slow_seconds
        self.injected: dict[str, int] = {f: 0 for f in FAULTS}
        self.forwarded = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                proxy.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _choose(self) -> str | None:
        with self._lock:
            if self.rng.random() >= self.share:
                return None
            fault = self.rng.choice(FAULTS)
            self.injected[fault] += 1
            return fault

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        with self._lock:
            scripted = self.script.pop(0) if self.script else None
            if scripted:
                self.scripted.append(time.monotonic())
        if scripted:
            status, headers = scripted
            self._reply(request, status, b"scripted fault", headers)
            return
        fault = self._choose()
        if fault == "429":
            self._reply(request, 429, b"Too Many Requests", {"Retry-After": "1"})
            return
        if fault == "maxlag":
            body = json.dumps({"error": {"code": "maxlag", "info": "Waiting for a database server: 7 seconds lagged."}})
            self._reply(request, 503, body.encode(), {"Retry-After": "1", "Content-Type": "application/json"})
            return
        if fault == "reset":
            # SO_LINGER 0: close() sends RST instead of FIN.
            request.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            request.connection.close()
            request.close_connection = True
            return
        if fault == "slow":
            time.sleep(self.slow_seconds)
        upstream = httpx.get(self.upstream + request.path, timeout=60,
                             headers={"User-Agent": request.headers.get("User-Agent", "")})
        with self._lock:
            self.forwarded += 1
        body = upstream.content
        if fault == "truncated":
            body = body[: len(body) // 2]
        self._reply(request, upstream.status_code, body,
                    {"Content-Type": upstream.headers.get("Content-Type", "application/json")})

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict) -> None:
        try:
            request.send_response(status)
            for key, value in headers.items():
                request.send_header(key, value)
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout) before the slow reply: that is the point of it
