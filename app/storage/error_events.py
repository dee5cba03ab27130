"""Error events (``core.ports.ErrorEventStore``): what the admin saw, the operator detail and the correlation
id. Callers store redacted text only; ``add`` redacts once more (known secrets) as a last line of defence.
Writes: db-writer thread. Reads: any thread. Raises CacheError."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.core.errors import redact
from app.core.health import ErrorEvent
from app.storage.db import Database

_SELECT = "SELECT id, correlation_id, error_type, user_message, detail, server, created_at FROM error_events"


def _event(r: Any) -> ErrorEvent:
    return ErrorEvent(r[0], r[1], r[2], r[3], r[4], r[5], r[6])


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqliteErrorEventStore:
    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    def add(
        self,
        correlation_id: str,
        error_type: str,
        user_message: str,
        detail: str,
        server: str | None,
        at: float,
    ) -> ErrorEvent:
        message, detail = redact(user_message), redact(detail)
        with self._db.write("recording an error") as conn:
            cur = conn.execute(
                "INSERT INTO error_events(correlation_id, error_type, user_message, detail, server, created_at) "
                "VALUES (?,?,?,?,?,?)",
                (correlation_id, error_type, message, detail, server, at),
            )
            return ErrorEvent(
                int(cur.lastrowid or 0), correlation_id, error_type, message, detail, server, at
            )

    def by_correlation(self, correlation_id: str) -> list[ErrorEvent]:
        """Exact match, case-insensitive (ids are shown in lower case but may be typed in upper case)."""
        with self._db.read("reading errors") as conn:
            rows = conn.execute(
                _SELECT + " WHERE correlation_id = ? ORDER BY created_at DESC, id DESC",
                (correlation_id.strip().lower(),),
            ).fetchall()
        return [_event(r) for r in rows]

    def list(self, limit: int = 100, search: str | None = None) -> list[ErrorEvent]:
        """Newest first; ``search`` matches a correlation id prefix or text in message, detail or server."""
        with self._db.read("listing errors") as conn:
            if not search:
                rows = conn.execute(
                    _SELECT + " ORDER BY created_at DESC, id DESC LIMIT ?", (limit,)
                ).fetchall()
            else:
                text = _like(search.strip())
                rows = conn.execute(
                    _SELECT + " WHERE correlation_id LIKE ?1 ESCAPE '\\' OR user_message LIKE ?2 ESCAPE '\\' "
                    "OR detail LIKE ?2 ESCAPE '\\' OR server LIKE ?2 ESCAPE '\\' "
                    "ORDER BY created_at DESC, id DESC LIMIT ?3",
                    (text.lower() + "%", "%" + text + "%", limit),
                ).fetchall()
        return [_event(r) for r in rows]
