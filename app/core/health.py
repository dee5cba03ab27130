"""Vocabulary of connection profiles, health, diagnostics and error events. Stdlib only.

``FailureClass`` names *why* a server could not be used; every class has a title and a specific remedy, which
``app.servers`` puts on the ``ExternalServiceError`` it raises (``err.failure_class``) and front ends show.
The stores here are blocking (see ``core.ports``): writes on the db-writer thread, reads on any thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from app.core.errors import BadServerResponse, ValidationError
from app.core.models import ServerIdentity, ServerKind


class FailureClass(StrEnum):
    MALFORMED_URL = "malformed_url"
    DNS_FAILURE = "dns_failure"
    CONNECTION_REFUSED = "connection_refused"
    TLS_ERROR = "tls_error"
    TIMEOUT = "timeout"
    AUTH_FAILED = "auth_failed"
    NOT_A_MEDIA_SERVER = "not_a_media_server"
    WRONG_KIND = "wrong_kind"
    VERSION_UNSUPPORTED = "version_unsupported"
    UNREACHABLE = "unreachable"  # the connection dropped or reset without a more specific cause
    SERVER_ERROR = "server_error"  # 5xx or an unexpected 4xx
    BAD_RESPONSE = "bad_response"  # a body that could not be read
    NO_CREDENTIALS = "no_credentials"
    REDIRECT_REFUSED = (
        "redirect_refused"  # a sign-in or other request with a body redirected to another origin
    )
    RESPONSE_TOO_LARGE = "response_too_large"  # an answer over max_response_mb (after decompression)
    LISTING_INCONSISTENT = "listing_inconsistent"  # pages that break the total read first (grows, repeats)


TITLES: dict[FailureClass, str] = {
    FailureClass.MALFORMED_URL: "the URL is not valid",
    FailureClass.DNS_FAILURE: "the host name could not be found (DNS)",
    FailureClass.CONNECTION_REFUSED: "the connection was refused",
    FailureClass.TLS_ERROR: "the secure connection (TLS) failed",
    FailureClass.TIMEOUT: "the server did not answer in time",
    FailureClass.AUTH_FAILED: "the token, API key or password was refused (401/403)",
    FailureClass.NOT_A_MEDIA_SERVER: "the address answers, but not as a Plex or Jellyfin server",
    FailureClass.WRONG_KIND: "the server is of the other kind",
    FailureClass.VERSION_UNSUPPORTED: "the server version is too old",
    FailureClass.UNREACHABLE: "the connection broke",
    FailureClass.SERVER_ERROR: "the server answered with an error",
    FailureClass.BAD_RESPONSE: "the server's answer could not be read",
    FailureClass.NO_CREDENTIALS: "no credentials are stored",
    FailureClass.REDIRECT_REFUSED: "the server redirected a sign-in to another address",
    FailureClass.RESPONSE_TOO_LARGE: "the server's answer was larger than allowed",
    FailureClass.LISTING_INCONSISTENT: "the server's listing did not match the total it announced",
}

REMEDIES: dict[FailureClass, str] = {
    FailureClass.MALFORMED_URL: (
        "Enter the server's base address like http://192.168.1.10:32400 (Plex) or http://192.168.1.10:8096 "
        "(Jellyfin): scheme, host and port only."
    ),
    FailureClass.DNS_FAILURE: (
        "Check the spelling of the host name, or use the server's IP address; check that this computer's DNS "
        "works."
    ),
    FailureClass.CONNECTION_REFUSED: (
        "Check that the server is running and that the port is right (Plex 32400, Jellyfin 8096 by default): "
        "nothing listens on that port, or a firewall refuses it."
    ),
    FailureClass.TLS_ERROR: (
        "The server's HTTPS certificate could not be verified: install a valid certificate, use its http:// "
        "address on a trusted network, or turn off verify_tls if you accept the risk."
    ),
    FailureClass.TIMEOUT: (
        "Check that the server is running and not overloaded, or raise the request_timeout_s setting."
    ),
    FailureClass.AUTH_FAILED: (
        "The token or API key is wrong or has expired (or the account lost its rights): enter a fresh one "
        "for this server."
    ),
    FailureClass.NOT_A_MEDIA_SERVER: (
        "Check the URL and the port: it reaches a web server that is neither Plex nor Jellyfin."
    ),
    FailureClass.WRONG_KIND: "Add the server again with the other kind (Plex or Jellyfin) selected.",
    FailureClass.VERSION_UNSUPPORTED: "Update the media server to a supported version, then test again.",
    FailureClass.UNREACHABLE: "Check the network between this computer and the server, then try again.",
    FailureClass.SERVER_ERROR: "Try again later; if it persists, check the media server's own logs.",
    FailureClass.BAD_RESPONSE: (
        "Check that the URL points at the server itself (not a proxy error page), then try again."
    ),
    FailureClass.NO_CREDENTIALS: "Edit the server and enter its token, API key or password again.",
    FailureClass.REDIRECT_REFUSED: (
        "Nothing was sent to the other address. Check the server's URL (use the address it really lives at) "
        "and any reverse proxy in front of it; if the other address is the server, add it with that URL."
    ),
    FailureClass.RESPONSE_TOO_LARGE: (
        "Nothing was changed. If the server is yours and its pages are really this big, lower page_size or "
        "raise max_response_mb; otherwise check the server or the proxy in front of it."
    ),
    FailureClass.LISTING_INCONSISTENT: (
        "Nothing was changed. Sync again once the server has finished scanning; if it happens every time, "
        "the server (or a proxy in front of it) does not page correctly."
    ),
}

# The oldest versions whose APIs Zondarr's client libraries speak (plexapi 4.18, jellyfin-apiclient-python 1.20).
MIN_VERSIONS: dict[ServerKind, tuple[int, ...]] = {
    ServerKind.PLEX: (1, 20, 0),
    ServerKind.JELLYFIN: (10, 8, 0),
}


def version_tuple(version: str) -> tuple[int, ...] | None:
    """The leading numeric parts of a version string ("1.41.3.9314-a0b" -> (1, 41, 3, 9314)); None if none."""
    m = re.match(r"^\s*v?(\d+(?:\.\d+)*)", version or "")
    return None if m is None else tuple(int(p) for p in m.group(1).split("."))


def version_supported(kind: ServerKind, version: str) -> bool:
    """False only for a version that is readable and older than ``MIN_VERSIONS`` (unknown versions pass)."""
    parsed = version_tuple(version)
    return parsed is None or parsed >= MIN_VERSIONS[kind]


def min_version_text(kind: ServerKind) -> str:
    return ".".join(str(p) for p in MIN_VERSIONS[kind])


def check_version(name: str, identity: ServerIdentity) -> None:
    """Raises BadServerResponse (failure class VERSION_UNSUPPORTED) for a server older than ``MIN_VERSIONS``."""
    if not version_supported(identity.kind, identity.version):
        kind = identity.kind.value.capitalize()
        raise BadServerResponse(
            name,
            f"{name}: {kind} {identity.version} is older than the oldest supported version "
            f"({min_version_text(identity.kind)}).",
            remedy=f"Update {kind} to {min_version_text(identity.kind)} or newer, then test again.",
            detail=f"version {identity.version}",
            failure_class=FailureClass.VERSION_UNSUPPORTED.value,
        )


def failure_class_of(err: BaseException) -> FailureClass | None:
    """The failure class an error carries (``ZondarrError.failure_class``), or None."""
    value = getattr(err, "failure_class", None)
    return FailureClass(value) if value else None


# Paths of the servers' own web apps that admins often copy from the browser's address bar.
_WEB_UI_PATH = re.compile(r"(?i)^(?P<base>.*?)/web(?:/index\.html)?/?$")
_HOST_PORT = re.compile(r"^[A-Za-z0-9.\-\[\]:]+(?::\d+)?(?:/.*)?$")


def normalize_server_url(url: str, name: str) -> tuple[str, list[str]]:
    """The base URL Zondarr stores for a server and a note per change it made (plain words for the admin):
    the web-app path (``/web``, ``/web/index.html``, ``#!/home``), surrounding blanks and trailing slashes are
    removed; a missing scheme is refused with a suggestion (never guessed). Pure; any thread. Raises ValidationError (failure class ``malformed_url``) saying what is
    wrong and what was normalised so far."""
    notes: list[str] = []
    text = (url or "").strip()
    if text != (url or ""):
        notes.append("removed surrounding blanks")

    def bad(why: str, remedy: str = REMEDIES[FailureClass.MALFORMED_URL]) -> ValidationError:
        done = f" (Zondarr already {', '.join(notes)}.)" if notes else ""
        err = ValidationError(f"The URL of {name} is not valid: {why}.{done}", remedy=remedy)
        err.failure_class = FailureClass.MALFORMED_URL.value
        return err

    if not text:
        raise bad("it is empty")
    if "://" not in text and _HOST_PORT.match(text):
        # Not added silently: guessing http:// could send a token in clear text to a server that wants https.
        raise bad(f"it has no scheme; did you mean http://{text.rstrip('/')} or https://{text.rstrip('/')}")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise bad(str(exc)) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise bad(f"it must start with http:// or https:// (it has {parts.scheme or 'no scheme'}://)")
    if not parts.hostname:
        raise bad("it has no host name")
    if parts.username or parts.password:
        raise bad(
            "it must not contain a user name or password",
            remedy="Enter the address only; give the credentials in their own fields.",
        )
    if parts.fragment:
        parts = parts._replace(fragment="")
        notes.append("removed the '#...' part")
    if parts.query:
        raise bad("it must not contain a '?' part", remedy="Enter the server's base address only.")
    path = parts.path
    m = _WEB_UI_PATH.match(path)
    if m:
        path = m.group("base")
        notes.append(f"removed the web app path {parts.path}")
    if path.endswith("/"):
        path = path.rstrip("/")
        notes.append("removed the trailing slash")
    scheme = parts.scheme.lower()
    if scheme != parts.scheme:
        notes.append("wrote the scheme in lower case")
    return urlunsplit((scheme, parts.netloc, path, "", "")), notes


# ---------------------------------------------------------------- health


class IncidentKind(StrEnum):
    DOWN = "down"
    AUTH_FAILED = "auth failed"


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """One heartbeat of one server. ``status`` is "up" or the failure class value."""

    id: int
    server_id: int
    checked_at: float
    ok: bool
    latency_ms: float | None
    status: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    server_id: int
    kind: str  # IncidentKind value
    opened_at: float
    closed_at: float | None = None
    acknowledged_at: float | None = None
    acknowledged_note: str | None = None
    detail: str = ""

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def duration_s(self) -> float | None:
        return None if self.closed_at is None else self.closed_at - self.opened_at

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "opened_at": self.opened_at,
            "closed_at": self.closed_at,
            "duration_s": self.duration_s,
            "acknowledged_at": self.acknowledged_at,
            "note": self.acknowledged_note,
            "detail": self.detail,
        }


# ---------------------------------------------------------------- diagnostics


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class DiagnosticResult:
    check: str  # scenario name, e.g. "reachable", "library readable: Music"
    outcome: Outcome
    message: str
    duration_ms: float
    evidence: str = ""  # redacted request/response summary
    server_id: int | None = None
    server: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "server": self.server,
            "check": self.check,
            "outcome": self.outcome.value,
            "message": self.message,
            "duration_ms": round(self.duration_ms, 1),
            "evidence": self.evidence,
        }


@dataclass(frozen=True, slots=True)
class DiagnosticRun:
    id: int
    started_at: float
    finished_at: float | None
    status: str  # running | passed | failed
    summary: str
    results: tuple[DiagnosticResult, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "status": self.status,
            "summary": self.summary,
            "results": [r.to_json() for r in self.results],
        }


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """An unauthenticated GET of a server's public identity endpoint (Plex ``/identity``, Jellyfin
    ``/System/Info/Public``): what answered, how fast, and the headers diagnostics need."""

    url: str  # redacted
    ok: bool
    status: int | None
    latency_ms: float
    date_header: str | None = None
    content_type: str | None = None
    body_bytes: int = 0
    tls: bool = False
    failure_class: FailureClass | None = None
    error: str = ""  # redacted operator text

    def summary(self) -> str:
        if self.status is None:
            return f"GET {self.url} -> no answer ({self.error}) after {self.latency_ms:.0f} ms"
        return (
            f"GET {self.url} -> HTTP {self.status} {self.content_type or ''}, {self.body_bytes} bytes, "
            f"{self.latency_ms:.0f} ms, Date: {self.date_header or '-'}"
        )


# ---------------------------------------------------------------- error events


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    id: int
    correlation_id: str
    error_type: str
    user_message: str
    detail: str
    server: str | None
    created_at: float

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "correlation_id": self.correlation_id,
            "error": self.error_type,
            "message": self.user_message,
            "detail": self.detail,
            "server": self.server,
            "created_at": self.created_at,
        }
