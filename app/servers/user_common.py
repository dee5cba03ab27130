"""Helpers shared by the user-management halves of the adapters (``plex_users``, ``jellyfin_users``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from app.core.errors import ValidationError, ZondarrError
from app.servers.translate import translate


@contextmanager
def calling(service: str, what: str, secrets: tuple[str | None, ...] = ()) -> Iterator[None]:
    """Like ``translate.translating``, but lets the adapter's own ``core.errors`` (NotFoundError,
    ValidationError: the admin's input) through unchanged."""
    try:
        yield
    except ZondarrError:
        raise
    except Exception as exc:
        raise translate(exc, service, what, secrets) from None


def not_supported(service: str, kind: str, what: str, why: str) -> ValidationError:
    """The refusal for an action a server kind cannot do, with the reason the UI and CLI show."""
    return ValidationError(
        f"{service}: {kind} cannot {what}. {why}", remedy="", detail=f"capability missing: {what}"
    )
