"""The history of what Zondarr did to people (``core.ports.HistoryStore``): one row per change to one account,
with time, trigger and outcome. Primary data. Writes: db-writer thread, one transaction per batch. Reads: any
thread. Raises only CacheError."""

from __future__ import annotations

from collections.abc import Sequence

from app.core.models import AccountEvent
from app.storage.db import Database

_COLS = "id, at, server_name, remote_id, username, action, trigger, ok, message, server_id, identity_id"
MAX_ROWS = 10_000


def _event(r: tuple[object, ...]) -> AccountEvent:
    return AccountEvent(
        at=float(r[1]),  # type: ignore[arg-type]
        server=str(r[2]),
        remote_id=str(r[3]),
        username=str(r[4]),
        action=str(r[5]),
        trigger=str(r[6]),
        ok=bool(r[7]),
        message=str(r[8]),
        server_id=None if r[9] is None else int(r[9]),  # type: ignore[call-overload]
        identity_id=None if r[10] is None else int(r[10]),  # type: ignore[call-overload]
        id=int(r[0]),  # type: ignore[call-overload]
    )


class SqliteHistoryStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, events: Sequence[AccountEvent]) -> None:
        """Appends the events in ONE transaction. An event without ``identity_id`` takes the account's current
        identity link, so the person's timeline finds it after the account is gone."""
        with self._db.write("recording account history") as conn:
            conn.executemany(
                "INSERT INTO account_events(at, server_id, server_name, remote_id, username, identity_id, action, "
                "trigger, ok, message) VALUES (?1, ?2, ?3, ?4, ?5, COALESCE(?6, (SELECT identity_id FROM "
                "identity_links WHERE server_id = ?2 AND remote_id = ?4)), ?7, ?8, ?9, ?10)",
                [
                    (
                        e.at, e.server_id, e.server, e.remote_id, e.username, e.identity_id, e.action,
                        e.trigger, int(e.ok), e.message,
                    )
                    for e in events
                ],
            )  # fmt: skip

    def list(
        self,
        *,
        server_id: int | None = None,
        remote_id: str | None = None,
        identity_id: int | None = None,
        limit: int = 500,
    ) -> list[AccountEvent]:
        """Newest first. With ``identity_id``: the person's events, including those of accounts linked to it now
        that were recorded before the link."""
        limit = max(1, min(limit, MAX_ROWS))
        with self._db.read("reading account history") as conn:
            if identity_id is not None:
                rows = conn.execute(
                    f"SELECT {_COLS} FROM account_events e WHERE e.identity_id = ?1 OR EXISTS ("  # noqa: S608
                    "SELECT 1 FROM identity_links l WHERE l.identity_id = ?1 AND l.server_id = e.server_id "
                    "AND l.remote_id = e.remote_id) ORDER BY e.at DESC, e.id DESC LIMIT ?2",
                    (identity_id, limit),
                ).fetchall()
            else:
                rows = conn.execute(
                    f"SELECT {_COLS} FROM account_events WHERE (?1 IS NULL OR server_id = ?1) "  # noqa: S608
                    "AND (?2 IS NULL OR remote_id = ?2) ORDER BY at DESC, id DESC LIMIT ?3",
                    (server_id, remote_id, limit),
                ).fetchall()
        return [_event(tuple(r)) for r in rows]
