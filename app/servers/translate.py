"""Translation of library and transport exceptions into ``app.core.errors``, naming the server.

Every public adapter method runs inside :func:`translating`, so nothing but ``ExternalServiceError`` subclasses
leaves ``app.servers``. Messages are plain words with a remedy; the operator detail is redacted with the
client's secrets (plexapi and requests put URLs, and sometimes tokens, into their messages).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from xml.etree.ElementTree import ParseError

import requests
from plexapi import exceptions as plex_exc

from app.core.errors import (
    AuthFailed,
    BadServerResponse,
    ExternalServiceError,
    ServerError,
    ServerUnreachable,
    redact,
)
from app.core.health import REMEDIES, FailureClass
from app.servers.diagnose import network_class, network_message
from app.servers.transport import DeadlineExceeded, RedirectRefused, ResponseTooLarge, TransportFailure

_STATUS = re.compile(r"^\((\d{3})\)")
MAX_DETAIL = 2000  # characters of operator detail kept (logs, error events, bundles)


class HttpStatus(Exception):
    """An HTTP error status seen by our own code (Jellyfin path); mapped like any other."""

    def __init__(self, status: int, what: str = "") -> None:
        super().__init__(f"HTTP {status} {what}".strip())
        self.status = status


class BadBody(Exception):
    """A body that is not what the server kind sends (not JSON, not XML, wrong shape)."""


def error_for_status(service: str, status: int, *, what: str, detail: str) -> ExternalServiceError:
    """The error for an HTTP status: 401/403 → AuthFailed, anything else → ServerError.

    ``original`` is deliberately not kept on the errors: library exception texts may hold URLs with secrets;
    the redacted ``detail`` carries what an operator needs."""
    if status in (401, 403):
        return AuthFailed(
            service,
            f"{service}: the server refused the credentials while {what} (HTTP {status}).",
            remedy=REMEDIES[FailureClass.AUTH_FAILED],
            detail=detail,
        )
    return ServerError(
        service,
        f"{service}: the server answered with an error while {what} (HTTP {status}).",
        detail=detail,
    )


def translate(
    exc: BaseException, service: str, what: str, secrets: tuple[str | None, ...] = ()
) -> ExternalServiceError:
    """The ``core.errors`` equivalent of ``exc`` (raised while doing ``what``, e.g. "listing tracks")."""
    if isinstance(exc, ExternalServiceError):
        return exc
    detail = redact(f"{what}: {type(exc).__name__}: {exc}", *secrets)
    if len(detail) > MAX_DETAIL:  # a server's text quoted in an exception can be megabytes long
        detail = detail[:MAX_DETAIL] + "…"
    if isinstance(exc, DeadlineExceeded):
        return ServerUnreachable(
            service,
            f"{service}: the server did not answer within {exc.seconds:g} seconds while {what}.",
            remedy="Check that the server is running and not overloaded, or raise the request timeout setting.",
            detail=detail,
            failure_class=FailureClass.TIMEOUT.value,
        )
    if isinstance(exc, RedirectRefused):
        return ServerError(
            service,
            f"{service}: the server redirected {_redirected(what, exc.method)} to another address "
            f"({exc.target}); it was not followed.",
            remedy=REMEDIES[FailureClass.REDIRECT_REFUSED],
            detail=detail,
            failure_class=FailureClass.REDIRECT_REFUSED.value,
        )
    if isinstance(exc, ResponseTooLarge):
        return BadServerResponse(
            service,
            f"{service}: the server sent an answer too large to read ({exc.what}) while {what}.",
            remedy=REMEDIES[FailureClass.RESPONSE_TOO_LARGE],
            detail=detail,
            failure_class=FailureClass.RESPONSE_TOO_LARGE.value,
        )
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return ServerError(service, f"{service}: the server redirects in a loop.", detail=detail)
    if isinstance(exc, requests.exceptions.RequestException | TransportFailure | ConnectionError):
        fc = network_class(exc)
        remedy = (
            "Check the server's HTTPS certificate, or use its http:// address on a trusted network."
            if fc is FailureClass.TLS_ERROR
            else None
            if fc is FailureClass.UNREACHABLE
            else REMEDIES[fc]
        )
        return ServerUnreachable(
            service,
            f"{service}: {network_message(fc)} while {what}.",
            remedy=remedy,
            detail=detail,
            failure_class=fc.value,
        )
    if isinstance(exc, HttpStatus):
        return error_for_status(service, exc.status, what=what, detail=detail)
    if isinstance(exc, plex_exc.Unauthorized | plex_exc.TwoFactorRequired):
        return error_for_status(service, 401, what=what, detail=detail)
    if isinstance(exc, plex_exc.NotFound):
        return error_for_status(service, 404, what=what, detail=detail)
    if isinstance(exc, plex_exc.BadRequest):
        match = _STATUS.match(str(exc))
        return error_for_status(service, int(match.group(1)) if match else 400, what=what, detail=detail)
    if isinstance(
        exc, ParseError | BadBody | ValueError | KeyError | TypeError | AttributeError | IndexError
    ):
        return BadServerResponse(
            service,
            f"{service}: the server sent an answer Zondarr could not read while {what}.",
            detail=detail,
        )
    return BadServerResponse(service, f"{service}: unexpected failure while {what}.", detail=detail)


def _redirected(what: str, method: str) -> str:
    """What the refused redirect carried, in the admin's words."""
    if "signing in" in what or "connecting" in what:
        return "a sign-in"
    if "creating" in what:
        return "an account creation"
    return f"a {method} request (while {what})"


@contextmanager
def translating(service: str, what: str, secrets: tuple[str | None, ...] = ()) -> Iterator[None]:
    """Re-raises any exception of the block as its ``core.errors`` equivalent (see :func:`translate`)."""
    try:
        yield
    except Exception as exc:
        raise translate(exc, service, what, secrets) from None


def wrong_kind(service: str, expected: str, other: str, detail: str = "") -> BadServerResponse:
    """The server answered, but not like a ``expected`` server: suggest adding it as ``other``."""
    return BadServerResponse(
        service,
        f"{service}: this address does not answer like a {expected} server.",
        remedy=f"Check the URL; if it is a {other} server, add it as {other} instead.",
        detail=detail,
        failure_class=FailureClass.NOT_A_MEDIA_SERVER.value,
    )
