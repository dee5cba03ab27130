"""What the people services share: per-server outcomes and capability checks.

Coroutines run on the event loop; blocking calls go through the runner.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from app.core.errors import (
    ExternalServiceError,
    ValidationError,
    ZondarrError,
)
from app.core.models import AccountEvent, Capability, Server
from app.core.ports import (
    HistoryStore,
    MediaServerClient,
    Runner,
    TrackReader,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one action on one account (or one pre-flight check) on one server."""

    server: str
    ok: bool
    message: str
    user: str = ""
    reason: str | None = None  # a RefusalReason value, or "failed"
    remote_id: str | None = None
    error: dict[str, str] | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "server": self.server,
            "user": self.user,
            "ok": self.ok,
            "message": self.message,
            "reason": self.reason,
            "id": self.remote_id,
            "error": self.error,
        }


def describe(err: ZondarrError) -> str:
    return err.user_message + (f" {err.remedy}" if err.remedy else "")


def reason_of(err: ZondarrError) -> str:
    """A short reason word for an error raised while acting on a server."""
    if isinstance(err, ExternalServiceError):
        return "server unavailable"
    if isinstance(err, ValidationError) and "taken" in err.user_message:
        return "username taken"
    if isinstance(err, ValidationError) and "cannot" in err.user_message:
        return "not supported"
    return "failed"


def require(client: MediaServerClient, server: Server, capability: Capability, what: str) -> None:
    """Raises ValidationError (with the reason) when the server kind cannot do ``what``."""
    if capability not in client.capabilities:
        raise ValidationError(
            f"{server.name}: a {server.kind.value} server cannot {what} from Zondarr.",
            remedy="",
            detail=f"capability missing: {capability.value}",
        )


def events_of(
    outcomes: Sequence[Outcome], server_id: int | None, action: str, trigger: str, now: float
) -> list[AccountEvent]:
    """History rows for per-account outcomes (pre-flight outcomes without an account are left out)."""
    return [
        AccountEvent(now, o.server, o.remote_id, o.user, action, trigger, o.ok, o.message, server_id)
        for o in outcomes
        if o.remote_id
    ]


async def record(runner: Runner, history: HistoryStore | None, events: Sequence[AccountEvent]) -> None:
    """Appends history rows (one transaction); a history that cannot be written never undoes the change."""
    if history is None or not events:
        return
    try:
        await runner.db(history.record, list(events))
    except ZondarrError as err:
        log.warning("could not record %d history rows: %s", len(events), err.detail)


async def resolve_libraries(
    runner: Runner, tracks: TrackReader, server: Server, wanted: Sequence[str]
) -> tuple[str, ...]:
    """Library keys or titles (as cached by the last sync; titles case-insensitive) → keys, in order, without
    repeats. Raises ValidationError naming the libraries the server has."""
    if not wanted:
        return ()
    libs = await runner.read(tracks.libraries, server.id)
    keys = []
    for w in wanted:
        match = [lib for lib in libs if w in (lib.key, lib.title)] or [
            lib for lib in libs if lib.title.casefold() == w.casefold()
        ]
        if len(match) != 1:
            known = ", ".join(sorted(lib.title for lib in libs)) or "none cached: sync the server first"
            raise ValidationError(
                f"{server.name} has {'no' if not match else 'more than one'} library {w!r}.",
                remedy=f"Pick one of: {known}.",
            )
        keys.append(match[0].key)
    return tuple(dict.fromkeys(keys))
