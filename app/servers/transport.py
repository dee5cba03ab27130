"""The HTTP transport every adapter uses: a ``requests.Session`` with an overall deadline per request,
TLS verification from the settings, secret-stripping on cross-origin redirects and optional URL rewriting.

Why a session subclass: plexapi (``PlexServer(session=...)``, ``MyPlexAccount(session=...)``) and
jellyfin-apiclient-python (``HTTP.session``, ``ConnectionManager.session``) all accept a session, so one
object enforces the same rules for every request the libraries make, whatever timeouts they pass themselves.

Deadline: ``requests`` timeouts apply per socket read, so a server dripping one byte a second never trips them.
Each request therefore arms a watchdog timer; when it fires it shuts down the sockets the request uses, which
unblocks the reading thread, and the request fails with :class:`DeadlineExceeded`. The body is read eagerly
(chunk by chunk, checking the deadline), so callers never touch the socket after ``request()`` returns.

Bounds: a redirect of a request that carries a body or is not a GET is never followed to another scheme, host
or port (:class:`RedirectRefused`: a sign-in must not send its password elsewhere, nor accept a token from
elsewhere); GET redirects are followed with their secrets stripped. A body is read up to ``max_response_mb``,
counted after decompression while it streams (a gzip bomb stops at the cap), and its markup is counted before
anyone parses it: a body of millions of tiny elements or JSON values would cost gigabytes once parsed
(:class:`ResponseTooLarge` for both).

Thread model: a session is used by one thread at a time (the client serialises its calls); the watchdog timer
runs on its own short-lived thread and only calls ``socket.shutdown``.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from app.core.settings import Settings

# Headers and query parameters that carry a secret; never sent to another origin on a redirect.
SECRET_HEADERS = (
    "x-plex-token",
    "authorization",
    "x-emby-token",
    "x-mediabrowser-token",
    "x-emby-authorization",
)
# ``secret``: a Quick Connect request's secret signs in whoever holds it once approved
SECRET_PARAMS = ("x-plex-token", "apikey", "api_key", "token", "access_token", "secret")
_CHUNK = 64 * 1024


class TransportFailure(Exception):
    """Base of the transport's own failures (not ``requests`` exceptions, so no library retries them)."""


class DeadlineExceeded(TransportFailure):
    """The request (connect, headers and body) did not finish within the overall deadline."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no complete answer within {seconds:g} s")
        self.seconds = seconds


@dataclass(frozen=True, slots=True)
class Budget:
    """A request's overall deadline carried on to the work that reads its answer (parsing): the whole of
    request, body and parse fits in ``request_timeout_s``."""

    at: float  # time.monotonic() when the time is up
    seconds: float

    @classmethod
    def start(cls, seconds: float) -> Budget:
        return cls(time.monotonic() + seconds, seconds)

    def check(self) -> None:
        """Raises DeadlineExceeded once the time is up."""
        if time.monotonic() > self.at:
            raise DeadlineExceeded(self.seconds)


class UnsupportedUrl(TransportFailure):
    """A URL whose scheme is not http/https (never requested)."""


class RedirectRefused(TransportFailure):
    """A request with a body, or not a GET, was redirected to another origin; the redirect was not followed."""

    def __init__(self, method: str, source: str, target: str) -> None:
        super().__init__(f"{method} redirected from {source} to {target}: not followed")
        self.method = method
        self.target = target


class ResponseTooLarge(TransportFailure):
    """A body over the size cap (bytes after decompression, or parsed items); reading stopped at the cap."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


# Parsed size bounds (see the module docstring). A real listing page of 5,000 tracks holds about 25,000 XML
# elements with 190,000 attributes, or up to 400,000 JSON values; each parsed element, attribute or value costs
# 80-200 bytes, so at these bounds a parsed page stays under about 100 MB.
MAX_XML_TAGS = 200_000
MAX_XML_ATTRIBUTES = 500_000
MAX_JSON_VALUES = 600_000
_FIRST_BYTE = re.compile(rb"[^ \t\r\n\xef\xbb\xbf]")
_ASTRAL_LEAD = re.compile(
    rb"[\xf0-\xf4]"
)  # UTF-8 lead bytes of characters beyond U+FFFF: 4 bytes each in a str
_WIDE_LEAD = re.compile(rb"[\xc4-\xef]")  # lead bytes of characters beyond U+00FF: 2 bytes each in a str


class _Deadline:
    """One request's deadline and the sockets it currently reads from."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def attach(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shutdown(sock)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: nothing left to unblock


_current = threading.local()


def _watch(conn: HTTPConnection) -> None:
    deadline: _Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.attach(conn.sock)


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None:  # a kept-alive connection: connect() is not called again
            _watch(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None:
            _watch(self)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    """An adapter whose pools register their sockets with the current request's deadline. No retries."""

    def __init__(self) -> None:
        super().__init__(max_retries=0, pool_connections=2, pool_maxsize=4)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **kw: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **kw)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with default ports filled in; two URLs with the same origin share secrets."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def _origin_text(url: str) -> str:
    scheme, host, port = origin(url)
    return f"{scheme}://{host}:{port}"


def check_markup(body: bytes | bytearray, max_bytes: int) -> None:
    """Raises ResponseTooLarge when ``body`` would cost far more memory parsed than its bytes: an XML or JSON body
    (told by its first byte that is not blank) with more elements, attributes or values than any real answer, or
    a body whose decoded text (1, 2 or 4 bytes a character, by its widest character; libraries decode answers
    to ``str``) is over ``max_bytes``. A count of ``<`` bounds the XML elements, of ``=`` the attributes; of
    ``,``, ``{`` and ``[`` the JSON values (strings may hold some: an over-estimate, never an under-estimate).
    Linear, in C."""
    first = _FIRST_BYTE.search(body)
    kind = body[first.start() : first.start() + 1] if first else b""
    if kind == b"<":
        tags, attributes = body.count(b"<"), body.count(b"=")
        if tags > MAX_XML_TAGS:
            raise ResponseTooLarge(f"{tags:,} XML tags (at most {MAX_XML_TAGS:,})")
        if attributes > MAX_XML_ATTRIBUTES:
            raise ResponseTooLarge(f"{attributes:,} XML attributes (at most {MAX_XML_ATTRIBUTES:,})")
    elif kind in (b"{", b"["):
        values = body.count(b",") + body.count(b"{") + body.count(b"[")
        if values > MAX_JSON_VALUES:
            raise ResponseTooLarge(f"{values:,} JSON values (at most {MAX_JSON_VALUES:,})")
    if len(body) * 4 > max_bytes and not body.isascii():
        width = 4 if _ASTRAL_LEAD.search(body) else 2 if _WIDE_LEAD.search(body) else 1
        if len(body) * width > max_bytes:
            decoded = len(body) * width // 1048576
            raise ResponseTooLarge(f"about {decoded:,} MB once decoded (at most {max_bytes // 1048576} MB)")


def strip_secret_params(url: str) -> str:
    """The URL without query parameters that carry a token or key."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    kept = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in SECRET_PARAMS
    ]
    return urlunsplit(parts._replace(query=urlencode(kept)))


class GuardedSession(requests.Session):
    """A session that enforces the app's transport rules on every request (see module docstring).

    ``rewrite`` maps URL prefixes to replacements (plexapi hard-codes ``https://plex.tv``; the setting
    ``plex_tv_url`` may point elsewhere). ``headers`` are set on every request, over whatever the library passes
    (plexapi sends its own product name and a MAC-derived client id). ``last_response`` / ``last_error`` describe the most recent request:
    jellyfin-apiclient-python swallows the exceptions of its connect path, and the adapter reads them here to
    tell the admin what really happened.
    """

    def __init__(
        self,
        settings: Settings,
        rewrite: Iterable[tuple[str, str]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.forced_headers = dict(headers or {})
        self.connect_timeout = settings.connect_timeout_s
        self.request_timeout = settings.request_timeout_s
        self.verify = settings.verify_tls
        self.trust_env = False  # no .netrc credentials or environment proxies: tokens go only where asked
        self.max_redirects = 10
        self.max_bytes = settings.max_response_mb * 1024 * 1024
        self.max_mb = settings.max_response_mb
        self.rewrite = [(src.rstrip("/"), dst.rstrip("/")) for src, dst in rewrite if src != dst]
        adapter = _WatchedAdapter()
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self.last_response: requests.Response | None = None
        self.last_error: BaseException | None = None

    def server_date(self) -> float | None:
        """The ``Date`` header of the last response as epoch seconds (the server's clock), or None."""
        response = self.last_response
        raw = response.headers.get("Date") if response is not None else None
        if not raw:
            return None
        try:
            return parsedate_to_datetime(raw).timestamp()
        except (TypeError, ValueError, IndexError):
            return None

    def _rewrite(self, url: str) -> str:
        for src, dst in self.rewrite:
            if url == src or url.startswith(src + "/") or url.startswith(src + "?"):
                return dst + url[len(src) :]
        return url

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """Sends one request and reads its whole body within the deadline.

        Raises DeadlineExceeded, UnsupportedUrl or a ``requests`` exception; returns the response (any status).
        """
        url = self._rewrite(url.decode() if isinstance(url, bytes) else url)
        self.last_response = None
        self.last_error = None
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            self.last_error = UnsupportedUrl(f"unsupported URL scheme in {strip_secret_params(url)}")
            raise self.last_error
        remaining = self.request_timeout
        kwargs["timeout"] = (min(self.connect_timeout, remaining), remaining)
        kwargs["verify"] = self.verify  # libraries may pass verify=False; the setting wins
        kwargs["stream"] = True
        if self.forced_headers:
            merged = CaseInsensitiveDict(kwargs.get("headers") or {})
            merged.update(self.forced_headers)
            kwargs["headers"] = merged
        deadline = _Deadline(self.request_timeout)
        timer = threading.Timer(self.request_timeout, deadline.expire)
        timer.daemon = True
        _current.deadline = deadline
        timer.start()
        try:
            response = super().request(method, url, *args, **kwargs)
            response._content = self._read_body(response, deadline)
            response._content_consumed = True  # type: ignore[attr-defined]
            response.close()
            if "charset" not in response.headers.get("Content-Type", "").lower():
                response.encoding = "utf-8"  # XML and JSON default to UTF-8; avoids charset guessing
        except DeadlineExceeded as exc:
            self.last_error = exc
            raise
        except Exception as exc:
            if deadline.expired or deadline.remaining() <= 0:
                self.last_error = DeadlineExceeded(self.request_timeout)
                raise self.last_error from exc
            self.last_error = exc
            raise
        finally:
            timer.cancel()
            _current.deadline = None
        self.last_response = response
        return response

    def _read_body(self, response: requests.Response, deadline: _Deadline) -> bytes:
        """The whole body, decompressed, read in chunks against the deadline and the size cap.

        Raises DeadlineExceeded or ResponseTooLarge (the connection is closed, the rest is never read)."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response.close()
            raise ResponseTooLarge(f"{int(declared) / 1048576:,.0f} MB announced (at most {self.max_mb} MB)")
        body = bytearray()
        for chunk in response.iter_content(_CHUNK):  # urllib3 decompresses at most _CHUNK bytes at a time
            body += chunk
            if len(body) > self.max_bytes:
                response.close()
                raise ResponseTooLarge(f"over {self.max_mb} MB (after decompression)")
            if deadline.remaining() <= 0:
                raise DeadlineExceeded(self.request_timeout)
        check_markup(body, self.max_bytes)
        return bytes(body)

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        """The redirect's target; raises RedirectRefused for a request with a body or a method other than GET
        going to another origin (``requests`` would re-send the body, a password included, or accept the
        other host's answer as the server's)."""
        target = super().get_redirect_target(resp)
        if target is None:
            return None
        request = resp.request
        source = request.url or ""
        absolute = urljoin(resp.url or source, target)
        method = (request.method or "GET").upper()
        if (method != "GET" or request.body is not None) and origin(absolute) != origin(source):
            resp.close()
            raise RedirectRefused(method, _origin_text(source), _origin_text(absolute))
        return target

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        """On a redirect to another scheme, host or port, drop every secret header and query parameter."""
        super().rebuild_auth(prepared_request, response)
        if origin(prepared_request.url or "") != origin(response.request.url or ""):
            for name in list(prepared_request.headers):
                if name.lower() in SECRET_HEADERS:
                    del prepared_request.headers[name]
            prepared_request.url = strip_secret_params(prepared_request.url or "")
