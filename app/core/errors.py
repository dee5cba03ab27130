"""The error vocabulary of Zondarr (DESIGN §5).

Every error carries three things:

* ``user_message``: plain words saying what happened *and what to do* (the remedy). It is what the admin sees,
  so it never holds a stack trace, a URL with a token, a secret or an internal path.
* ``detail``: operator detail for the Errors view and the log (already redacted by whoever raises it).
* ``correlation_id``: a short id shown next to the message and stored with the error event, so the admin can
  find the operator detail that belongs to what they saw.

Adapters translate library exceptions into these; nothing above ``app.servers`` sees a ``requests`` or
``plexapi`` exception.
"""

from __future__ import annotations

import re
import secrets
import threading

_CID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford-ish: no i, l, o, u


def new_correlation_id() -> str:
    """A short random id (10 characters) that is easy to read aloud and to search for."""
    return "".join(secrets.choice(_CID_ALPHABET) for _ in range(10))


# Query parameters and headers whose values are secrets. Matched case-insensitively.
_SECRET_KEYS = r"(?:x-plex-token|token|api[_-]?key|apikey|access[_-]?token|password|pw|authtoken|auth_token)"
_SECRET_QUERY = re.compile(rf"(?i)([?&;]{_SECRET_KEYS}=)[^&#\s\"']*")
# The key may be quoted (JSON bodies, the repr of a headers dict: ``'X-Plex-Token': 'abc'``).
_SECRET_HEADER = re.compile(rf"(?i)(\b{_SECRET_KEYS}\b[\"']?\s*[:=]\s*[\"']?)[^\"'\s,;&}}]+")
_MEDIABROWSER = re.compile(r'(?i)(Token=")[^"]*(")')
_BEARER = re.compile(r"(?i)(\bBearer\s+)[A-Za-z0-9._~+/=-]+")


class SecretRegistry:
    """The secret values this process handles, so ``redact`` removes them wherever they appear. Thread-safe
    (a lock around the set). One process-wide instance, ``KNOWN_SECRETS``; tests reset it between tests."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def register(self, value: str | None) -> None:
        if value and len(value) >= 4:
            with self._lock:
                self._values.add(value)

    def values(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._values)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


KNOWN_SECRETS = SecretRegistry()


def register_secret(value: str | None) -> None:
    """Remember a secret value this process handles, so ``redact`` removes it wherever it appears.

    Called by whoever reads a secret (stdin, the secret store, a login result). Any thread.
    """
    KNOWN_SECRETS.register(value)


def redact(text: str, *secret_values: str | None) -> str:
    """Remove secrets from ``text``: every registered secret and value in ``secret_values`` (exact match), and
    anything that looks like a token, API key or password in a URL query string, header or ``key=value`` pair.

    Safe to call on any string before it is logged, stored or shown.
    """
    out = text
    for value in (*secret_values, *KNOWN_SECRETS.values()):
        if value and len(value) >= 4:
            out = out.replace(value, "***")
    out = _MEDIABROWSER.sub(r"\1***\2", out)
    out = _SECRET_QUERY.sub(r"\1***", out)
    out = _SECRET_HEADER.sub(r"\1***", out)
    out = _BEARER.sub(r"\1***", out)
    return out


class ZondarrError(Exception):
    """Base of every error Zondarr raises on purpose.

    ``str(err)`` is the user message followed by the correlation id, so an error that escapes into a log line
    or a CLI message is still safe and traceable.
    """

    default_message = "Something went wrong."
    default_remedy = ""
    # Why a server could not be used (a ``core.health.FailureClass`` value), set by ``app.servers`` so that the
    # admin sees a remedy for the cause, not only for the symptom.
    failure_class: str | None = None

    def __init__(
        self,
        user_message: str | None = None,
        *,
        remedy: str | None = None,
        detail: str = "",
        correlation_id: str | None = None,
    ) -> None:
        self.user_message = user_message or self.default_message
        self.remedy = self.default_remedy if remedy is None else remedy
        self.detail = redact(detail)
        self.correlation_id = correlation_id or new_correlation_id()
        super().__init__(self.display())

    def display(self) -> str:
        """The full text for the admin: message, remedy and correlation id."""
        parts = [self.user_message]
        if self.remedy:
            parts.append(self.remedy)
        return f"{' '.join(parts)} (ref {self.correlation_id})"

    def to_dict(self) -> dict[str, str]:
        """Stable JSON shape used by ``--json`` output and error events."""
        return {
            "error": type(self).__name__,
            "message": self.user_message,
            "remedy": self.remedy,
            "correlation_id": self.correlation_id,
        } | ({"failure_class": str(self.failure_class)} if self.failure_class else {})


class ConfigurationError(ZondarrError):
    """A setting, credential or server definition is missing or invalid."""

    default_message = "The configuration is not valid."


def no_credentials(server_name: str) -> ConfigurationError:
    """The error for a server whose token, API key or password is missing from the secret store (every service
    that connects reads it first)."""
    err = ConfigurationError(
        f"{server_name}: no credentials are stored for this server.",
        remedy="Enter its token, API key or password again (Servers page → Edit…).",
    )
    err.failure_class = "no_credentials"
    return err


class ValidationError(ZondarrError):
    """Input from the admin (CLI argument, form field, filter) is not acceptable."""

    default_message = "That input is not valid."


class NotFoundError(ZondarrError):
    """A named thing (server, invitation, user) does not exist."""

    default_message = "Not found."


class AlreadyRunning(ZondarrError):
    """A single-flight job (sync of a server) is already running; nothing new was started."""

    default_message = "Already syncing."
    default_remedy = "Wait for the running sync to finish."


class RemovalsHeld(ZondarrError):
    """A merge would remove more of a library's tracks than the floor allows; the transaction was rolled back.
    ``removals``: (library key, tracks it would remove, tracks cached) of each library over the floor."""

    default_message = "The sync would remove too many tracks; nothing was changed."

    def __init__(self, removals: tuple[tuple[str, int, int], ...]) -> None:
        super().__init__(self.default_message)
        self.removals = removals


class CacheError(ZondarrError):
    """The local cache could not be read or written."""

    default_message = "The local cache could not be used."
    default_remedy = "Check free disk space and permissions of the data folder, then try again."


class FileWriteError(ZondarrError):
    """A file Zondarr writes (secrets file, log, backup, export, diagnostics bundle) could not be written: a full
    disk, a read-only or missing folder. Nothing half-written is left behind. Build it with
    ``core.files.write_failed`` so the remedy fits the cause."""

    default_message = "A file could not be written."
    default_remedy = "Check free disk space and that the folder is writable, then try again."


class JobCancelled(ZondarrError):
    """A job stopped because the admin (or shutdown) cancelled it. Nothing was committed."""

    default_message = "Cancelled. Nothing was changed."


class ExternalServiceError(ZondarrError):
    """A media server (or plex.tv) failed. ``service_name`` is the server's display name."""

    default_message = "The server failed."

    def __init__(
        self,
        service_name: str,
        user_message: str | None = None,
        *,
        original: BaseException | None = None,
        remedy: str | None = None,
        detail: str = "",
        correlation_id: str | None = None,
        failure_class: str | None = None,
    ) -> None:
        self.service_name = service_name
        if failure_class is not None:
            self.failure_class = failure_class
        self.original = original
        if not detail and original is not None:
            detail = f"{type(original).__name__}: {original}"
        msg = user_message or f"{service_name}: {self.default_message}"
        super().__init__(msg, remedy=remedy, detail=detail, correlation_id=correlation_id)

    def to_dict(self) -> dict[str, str]:
        out = super().to_dict()
        out["server"] = self.service_name
        return out


class ServerUnreachable(ExternalServiceError):
    """No answer: DNS, connection refused or dropped, TLS failure, or the overall deadline passed."""

    default_message = "the server could not be reached."
    default_remedy = "Check that the server is running and the URL is right, then try again."
    failure_class = "unreachable"


class AuthFailed(ExternalServiceError):
    """The server refused the credentials (401/403)."""

    default_message = "the server refused the credentials."
    default_remedy = "Update the token, API key or password for this server and try again."
    failure_class = "auth_failed"


class ServerError(ExternalServiceError):
    """The server answered with an error status (5xx or an unexpected 4xx)."""

    default_message = "the server answered with an error."
    default_remedy = "Try again later; if it persists, check the server's own logs."
    failure_class = "server_error"


class BadServerResponse(ExternalServiceError):
    """The server answered, but the body is not what a Plex/Jellyfin server sends (malformed, truncated)."""

    default_message = "the server sent a response Zondarr could not read."
    default_remedy = "Check that the URL points at the right kind of server, then try again."
    failure_class = "bad_response"
