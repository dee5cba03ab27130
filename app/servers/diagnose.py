"""Failure classification and raw probes: why a server could not be used, and the diagnostics' probes.

* :func:`network_class` tells DNS failure, refused connection, TLS failure and timeout apart by walking the
  exception chain ``requests`` / ``urllib3`` build (``ConnectionError`` → ``MaxRetryError.reason`` →
  ``NewConnectionError`` → ``ConnectionRefusedError`` / ``socket.gaierror``).
* :func:`refine_wrong_kind` turns "does not answer like a Plex server" into WRONG_KIND (the other kind answers
  at that address) or NOT_A_MEDIA_SERVER.
* :class:`HttpProbe` implements ``core.ports.ServerProbe``: one unauthenticated GET of the public identity
  endpoint, with latency, the ``Date`` header (clock skew) and TLS use.

Everything blocks (run it on the ``net`` pool) and never leaks a ``requests`` exception.
"""

from __future__ import annotations

import re
import socket
import ssl
import time
from collections.abc import Iterator
from xml.etree import ElementTree

import requests

from app.core.errors import AuthFailed, BadServerResponse, ExternalServiceError, redact
from app.core.health import REMEDIES, FailureClass, ProbeResult
from app.core.models import ServerKind
from app.core.settings import Settings
from app.servers.transport import DeadlineExceeded, GuardedSession, strip_secret_params

PUBLIC_PATH = {ServerKind.PLEX: "/identity", ServerKind.JELLYFIN: "/System/Info/Public"}
_DNS_TEXT = (
    "name or service not known",
    "nodename nor servname",
    "getaddrinfo failed",
    "temporary failure in name resolution",
    "no address associated",
    "failed to resolve",
)
_REFUSED_STATUS = re.compile(r"\bHTTP (401|403)\b")
_REFUSED_TEXT = ("connection refused", "actively refused", "errno 111")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception nested in it (cause, context, ``reason``, exception ``args``)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        cur = todo.pop(0)
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        nested = [cur.__cause__, cur.__context__, getattr(cur, "reason", None), *cur.args]
        todo.extend(e for e in nested if isinstance(e, BaseException))


def network_class(exc: BaseException) -> FailureClass:
    """The failure class of a transport-level exception (never raises)."""
    chain = list(_chain(exc))
    for e in chain:
        if isinstance(e, DeadlineExceeded | requests.exceptions.Timeout | socket.timeout):
            return FailureClass.TIMEOUT
        if isinstance(e, ssl.SSLError | requests.exceptions.SSLError):
            return FailureClass.TLS_ERROR
        if isinstance(e, socket.gaierror):
            return FailureClass.DNS_FAILURE
        if isinstance(e, ConnectionRefusedError):
            return FailureClass.CONNECTION_REFUSED
    text = " ".join(str(e) for e in chain).lower()
    if any(t in text for t in _DNS_TEXT):
        return FailureClass.DNS_FAILURE
    if any(t in text for t in _REFUSED_TEXT):
        return FailureClass.CONNECTION_REFUSED
    if "certificate" in text or "ssl" in text:
        return FailureClass.TLS_ERROR
    if "timed out" in text:
        return FailureClass.TIMEOUT
    return FailureClass.UNREACHABLE


_NETWORK_MESSAGES = {
    FailureClass.DNS_FAILURE: "the server could not be reached: its host name could not be found (DNS)",
    FailureClass.CONNECTION_REFUSED: "the server could not be reached: the connection was refused",
    FailureClass.TLS_ERROR: "the secure connection failed (the certificate could not be verified)",
    FailureClass.TIMEOUT: "the server could not be reached: it did not answer in time",
    FailureClass.UNREACHABLE: "the server could not be reached",
}


def network_message(fc: FailureClass) -> str:
    return _NETWORK_MESSAGES.get(fc, _NETWORK_MESSAGES[FailureClass.UNREACHABLE])


def _kind_at(session: GuardedSession, url: str, kind: ServerKind, token: str | None) -> bool:
    """True when ``url`` answers like a ``kind`` server (public identity endpoint)."""
    headers = {"Accept": "application/json, application/xml"}
    if token and kind is ServerKind.PLEX:
        headers["X-Plex-Token"] = token  # real Plex answers /identity without it; some proxies do not
    try:
        response = session.get(url + PUBLIC_PATH[kind], headers=headers)
    except Exception:
        return False
    if kind is ServerKind.JELLYFIN:
        try:
            body = response.json()
        except ValueError:
            return False
        return isinstance(body, dict) and bool(body.get("Id")) and "Version" in body
    if "x-plex-protocol" in {h.lower() for h in response.headers}:
        return True
    try:
        root = ElementTree.fromstring(response.content)
    except ElementTree.ParseError:
        return False
    return root.tag == "MediaContainer" and bool(root.get("machineIdentifier"))


def refine_wrong_kind(
    err: ExternalServiceError, name: str, url: str, chosen: ServerKind, token: str | None, settings: Settings
) -> ExternalServiceError:
    """WRONG_KIND when the other kind answers at ``url``; otherwise NOT_A_MEDIA_SERVER for a "does not answer
    like ``chosen``" error, and ``err`` itself for an AuthFailed (a plain refusal by the right kind)."""
    if not isinstance(err, BadServerResponse | AuthFailed):
        return err
    other = ServerKind.JELLYFIN if chosen is ServerKind.PLEX else ServerKind.PLEX
    session = GuardedSession(settings)
    try:
        is_other = _kind_at(session, url, other, token)
    finally:
        session.close()
    if is_other:
        return BadServerResponse(
            name,
            f"{name}: this address is a {other.value.capitalize()} server, not {chosen.value.capitalize()}.",
            remedy=f"Add it again with the kind {other.value.capitalize()} selected.",
            detail=err.detail,
            correlation_id=err.correlation_id,
            failure_class=FailureClass.WRONG_KIND.value,
        )
    if isinstance(err, AuthFailed):
        return err
    if _REFUSED_STATUS.search(err.detail):
        # The public endpoint demanded a login: likely the other kind behind a token check, or a proxy. The
        # adapter's own message (which names the other kind) is the best guess; keep it.
        return err
    return BadServerResponse(
        name,
        f"{name}: this address answers, but not like a Plex or Jellyfin server.",
        remedy=REMEDIES[FailureClass.NOT_A_MEDIA_SERVER],
        detail=err.detail,
        correlation_id=err.correlation_id,
        failure_class=FailureClass.NOT_A_MEDIA_SERVER.value,
    )


class HttpProbe:
    """``core.ports.ServerProbe`` over a :class:`GuardedSession` (same deadline and TLS rules as the adapters).
    Thread-safe: one session per call."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def probe(self, url: str, kind: ServerKind) -> ProbeResult:
        target = url.rstrip("/") + PUBLIC_PATH[kind]
        shown = redact(strip_secret_params(target))
        tls = target.lower().startswith("https://")
        session = GuardedSession(self._settings)
        started = time.perf_counter()
        try:
            response = session.get(target, headers={"Accept": "application/json, application/xml"})
        except Exception as exc:
            fc = network_class(exc)
            return ProbeResult(
                shown,
                False,
                None,
                (time.perf_counter() - started) * 1000,
                tls=tls,
                failure_class=fc,
                error=redact(f"{network_message(fc)}: {type(exc).__name__}"),
            )
        finally:
            session.close()
        latency = (time.perf_counter() - started) * 1000
        status = response.status_code
        failure: FailureClass | None = None
        if status in (401, 403):
            failure = FailureClass.AUTH_FAILED
        elif status >= 400:
            failure = FailureClass.SERVER_ERROR
        return ProbeResult(
            shown,
            failure is None,
            status,
            latency,
            date_header=response.headers.get("Date"),
            content_type=response.headers.get("Content-Type"),
            body_bytes=len(response.content),
            tls=tls,
            failure_class=failure,
        )
