"""Faults that make a demo server act like a hostile one, to test the client's bounds (DESIGN §4, §8):

- ``redirect-post``: a request with a body (anything but GET) is answered ``307`` to the *other host*, a second
  loopback listener (:class:`OtherHost`) that records what reaches it and answers like a willing server (a
  sign-in result with its own token, a created user). GETs are served normally.
- ``huge[=MB]``: the real answer padded with whitespace to MB megabytes (default 200), sent chunked with no
  Content-Length and generated while it is sent (never held in memory). Read to the end it is a valid answer.
- ``gzip-bomb[=MB]``: the same padded answer, gzip-compressed: MB megabytes (default 1024) from about MB KB on
  the wire, as concatenated gzip members of one precomputed 1 MB block.
- ``growing-total``: every page claims 1,000 more items per page index than there are.
- ``repeat-page[=N]``: every page is page 0, claiming N items in total (default: the real total).
- ``huge-year``: the first item of the answer says year 10^20.
- ``huge-total``: the answer's total says 10^23.

Pure functions of the rendered reply, plus the OtherHost listener; any thread. Stdlib only.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MB = 1024 * 1024
HUGE_YEAR = 10**20
HUGE_TOTAL = 10**23
GROWTH_PER_PAGE = 1000
DEFAULTS = {"huge": 200, "gzip-bomb": 1024, "repeat-page": None}
_TOTAL = re.compile(rb'(totalSize="|"TotalRecordCount":)(\d+)')
_JSON_YEAR = re.compile(rb'"ProductionYear":-?\d+')


def retotal(body: bytes, new_total: Callable[[int], int]) -> bytes:
    """The body with its listing total (Plex ``totalSize``, Jellyfin ``TotalRecordCount``) replaced."""
    return _TOTAL.sub(lambda m: m.group(1) + str(new_total(int(m.group(2)))).encode(), body, count=1)


def huge_year(body: bytes) -> bytes:
    """The body with its first item's year set to 10^20 (Plex ``year`` attribute, Jellyfin ``ProductionYear``)."""
    big = str(HUGE_YEAR).encode()
    if b"<Track " in body or b"<Directory " in body:
        tag = b"<Track " if b"<Track " in body else b"<Directory "
        return body.replace(tag, tag + b'year="' + big + b'" ', 1)
    if _JSON_YEAR.search(body):
        return _JSON_YEAR.sub(b'"ProductionYear":' + big, body, count=1)
    return body.replace(b'"Items":[{', b'"Items":[{"ProductionYear":' + big + b",", 1)


def _split_for_padding(body: bytes) -> tuple[bytes, bytes]:
    """Where whitespace may go without changing the answer: before the closing tag (XML) or brace (JSON)."""
    if body.lstrip()[:1] == b"<":
        cut = body.rfind(b"</")
    else:
        cut = max(body.rfind(b"}"), body.rfind(b"]"))
    cut = len(body) if cut < 0 else cut
    return body[:cut], body[cut:]


def padded(body: bytes, megabytes: int) -> Iterator[bytes]:
    """``body`` padded with whitespace to ``megabytes``, in 1 MB pieces made as they are asked for."""
    head, tail = _split_for_padding(body)
    yield head
    block = b" " * MB
    for _ in range(megabytes):
        yield block
    yield tail


@cache
def _gzip_block() -> bytes:
    return gzip.compress(b" " * MB, compresslevel=9)  # about 1 KB


def gzip_bomb(body: bytes, megabytes: int) -> Iterator[bytes]:
    """``body`` padded to ``megabytes`` of whitespace, gzip-compressed as concatenated members (valid gzip)."""
    head, tail = _split_for_padding(body)
    yield gzip.compress(head)
    block = _gzip_block()
    for _ in range(megabytes):
        yield block
    yield gzip.compress(tail)


@dataclass(frozen=True, slots=True)
class Received:
    """One request the other host received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class OtherHost:
    """A second loopback listener standing in for "another host" a redirect points to. It answers every
    request with a willing JSON body (a sign-in result with its own token, a created user) and keeps what it
    received in ``received``. Thread-safe; ``stop()`` closes it."""

    def __init__(self, host: str, server_id: Callable[[], str]) -> None:
        self.received: list[Received] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                """Silent (requests may hold secrets)."""

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length > 0 else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.received.append(Received(self.command, self.path, headers, body))
                answer = {
                    "AccessToken": "other-host-token",
                    "ServerId": server_id(),
                    "User": {"Id": "other-host-user", "Name": "admin"},
                    "Id": "other-host-user",
                    "Name": "other",
                }
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._httpd = ThreadingHTTPServer((host, 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://{host}:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="demo-other-host",
            daemon=True,
        )
        self._thread.start()

    def got(self, secret: str) -> bool:
        """Whether ``secret`` reached this host in any request line, header or body."""
        needle = secret.encode()
        return any(
            needle in r.body or secret in r.path or any(secret in v for v in r.headers.values())
            for r in self.received
        )

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def rewrite(fault: str, amount: int | None, body: bytes, page: int | None) -> bytes:
    """The body as the hostile ``fault`` answers it (unchanged for faults that are not about the body)."""
    if fault == "growing-total" and page is not None and page >= 0:
        return retotal(body, lambda total: total + GROWTH_PER_PAGE * (page + 1))
    if fault == "repeat-page" and amount is not None:
        return retotal(body, lambda total: amount)
    if fault == "huge-total":
        return retotal(body, lambda total: HUGE_TOTAL)
    if fault == "huge-year":
        return huge_year(body)
    return body


def streamed(fault: str, amount: int | None, body: bytes) -> Iterator[bytes] | None:
    """The pieces of a streamed hostile answer (``huge``, ``gzip-bomb``), or None for other faults."""
    if fault == "huge":
        return padded(body, amount or int(DEFAULTS["huge"] or 0))
    if fault == "gzip-bomb":
        return gzip_bomb(body, amount or int(DEFAULTS["gzip-bomb"] or 0))
    return None
