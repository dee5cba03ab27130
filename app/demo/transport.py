"""HTTP plumbing shared by the demo Plex and Jellyfin servers: request parsing, keep-alive serving on a
``ThreadingHTTPServer``, auth refusal and fault injection (latency, status codes, timeout, drip, truncate,
malformed, drop). The protocol apps (``plex.py``, ``jellyfin.py``) only route and render.

Threads: one daemon thread per connection (``ThreadingHTTPServer``); apps must be thread-safe.
"""

from __future__ import annotations

import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from app.demo import hostile
from app.demo.faults import Decision, FaultState

TIMEOUT_FAULT_MAX_S = 300.0


@dataclass(slots=True)
class Request:
    method: str
    path: str  # percent-decoded, without the query string
    query: dict[str, str]  # keys as sent; the last value wins
    headers: dict[str, str]  # keys lower-cased
    body: bytes
    client: str = ""  # the caller's IP address


@dataclass(slots=True)
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/xml;charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Routed:
    """What an app decided about a request before rendering: which fault endpoint it belongs to, its page
    index (None = not paged, -1 = a count request), whether it carries the server identity, whether the
    caller is authorised, and how to render it (``render(empty, identity_change)``)."""

    render: Callable[[bool, bool], Reply]
    endpoint: str | None = None
    page: int | None = None
    carries_identity: bool = False
    authorized: bool = True
    first_page: Callable[[], Reply] | None = None  # the same listing at start 0 (the repeat-page fault)


class DemoApp(Protocol):
    def route(self, request: Request) -> Routed: ...

    def error_reply(self, status: int) -> Reply: ...

    def malformed_body(self) -> bytes: ...


def page_index(start: int, size: int | None) -> int:
    """``start // size``; -1 for count requests (size 0); 0 for unpaged listings."""
    if size is None:
        return 0
    return -1 if size <= 0 else start // size


class DemoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: DemoApp, faults: FaultState) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.faults = faults
        self.stopping = threading.Event()
        self.served = 0
        self.other_url: str | None = None  # where the redirect-post fault points (app.demo.hostile.OtherHost)
        # The headers of the most recent requests (keys lower-cased), so tests can check what clients send.
        self.recent_headers: deque[dict[str, str]] = deque(maxlen=2000)
        self.clock: Callable[[], float] = time.time  # the server's clock (its Date header)
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()

    def count_request(self) -> None:
        with self._lock:
            self.served += 1

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that hang up (timeouts, faults, tests) are normal here; only real bugs are printed."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    def close_connections(self) -> None:
        """Wakes every handler blocked on a keep-alive or faulted connection (called by stop())."""
        self.stopping.set()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every reply carries Content-Length
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are closed after this
    server: DemoHTTPServer
    server_version = "ZondarrDemo/1.0"
    sys_version = ""

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header from the server's clock (tests move it with the library's edit clock)."""
        return super().date_time_string(self.server.clock() if timestamp is None else timestamp)

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: demo servers must not print request lines (they could hold tokens in query strings)."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _read_request(self) -> Request:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        return Request(
            self.command,
            unquote(parts.path),
            dict(parse_qsl(parts.query, keep_blank_values=True)),
            {k.lower(): v for k, v in self.headers.items()},
            body,
            str(self.client_address[0]),
        )

    def _handle(self) -> None:
        srv = self.server
        srv.count_request()
        app = srv.app
        try:
            request = self._read_request()
        except ValueError:
            self._send(app.error_reply(400))
            return
        srv.recent_headers.append(request.headers)
        routed = app.route(request)
        if not routed.authorized:
            self._send(app.error_reply(401))
            return
        decision: Decision = srv.faults.decide(
            routed.endpoint, routed.page, carries_identity=routed.carries_identity
        )
        if decision.latency_s > 0 and srv.stopping.wait(decision.latency_s):
            self._abort()
            return
        fault = decision.fault.fault if decision.fault else None
        if fault in ("500", "502", "401", "403", "404"):
            self._send(app.error_reply(int(fault)))
            return
        if fault == "timeout":
            srv.stopping.wait(TIMEOUT_FAULT_MAX_S)
            self._abort()
            return
        if fault == "redirect-post" and request.method != "GET" and srv.other_url:
            self._send(Reply(307, b"", "text/plain", {"Location": srv.other_url + self.path}))
            return
        if fault == "repeat-page" and routed.first_page is not None:
            reply = routed.first_page()
        else:
            reply = routed.render(fault == "empty", decision.identity_change)
        if fault == "malformed":
            reply = Reply(200, app.malformed_body(), reply.content_type)
        amount = decision.fault.amount if decision.fault else None
        if fault is not None and reply.status == 200:
            reply.body = hostile.rewrite(fault, amount, reply.body, routed.page)
            pieces = hostile.streamed(fault, amount, reply.body)
            if pieces is not None:
                self._send_stream(reply, pieces, gzipped=fault == "gzip-bomb")
                return
        if fault in ("drip", "truncate", "drop"):
            self._send_broken(reply, fault)
        else:
            self._send(reply)

    def _head(self, reply: Reply, length: int | None) -> None:
        """Status and headers; ``length`` None sends the body chunked."""
        self.send_response(reply.status)  # adds the Date header every Jellyfin client needs
        self.send_header("Content-Type", reply.content_type)
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        for name, value in {**getattr(self.server.app, "reply_headers", {}), **reply.headers}.items():
            self.send_header(name, value)
        self.end_headers()

    def _send(self, reply: Reply) -> None:
        self._head(reply, len(reply.body))
        if self.command != "HEAD" and reply.body:
            self.wfile.write(reply.body)

    def _send_stream(self, reply: Reply, pieces: Iterator[bytes], *, gzipped: bool) -> None:
        """Sends ``pieces`` chunked, each made only when the client has taken the one before (a huge body is
        never held in memory); stops quietly when the client hangs up."""
        if gzipped:
            reply.headers["Content-Encoding"] = "gzip"
        self._head(reply, None)
        self.close_connection = True
        try:
            for piece in pieces:
                if self.server.stopping.is_set():
                    return
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            return  # the client stopped reading (what a bounded client does)

    def _send_broken(self, reply: Reply, fault: str) -> None:
        body = reply.body or b" "
        self._head(reply, len(body))
        self.wfile.flush()
        if fault == "drip":
            for n in range(len(body)):
                if self.server.stopping.wait(1.0):
                    break
                self.wfile.write(body[n : n + 1])
            self.close_connection = True
            return
        if fault == "truncate":
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        self.wfile.write(body[: min(len(body) // 4, 4096)])
        self._abort(reset=True)

    def _abort(self, reset: bool = False) -> None:
        """Closes the connection without (the rest of) a reply; ``reset`` sends a TCP RST."""
        self.close_connection = True
        try:
            if reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
