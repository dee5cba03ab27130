"""Heartbeats and incidents (``core.ports.HealthStore``). Writes: db-writer thread, one transaction each.
Reads: any thread. Raises CacheError, and NotFoundError where named."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.core.errors import NotFoundError
from app.core.health import HealthCheck, Incident
from app.storage.db import Database

_CHECK = "SELECT id, server_id, checked_at, ok, latency_ms, status, detail FROM health_checks"
_INCIDENT = "SELECT id, server_id, kind, opened_at, closed_at, acknowledged_at, acknowledged_note, detail FROM incidents"


def _check(r: Any) -> HealthCheck:
    return HealthCheck(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6])


def _incident(r: Any) -> Incident:
    return Incident(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7])


class SqliteHealthStore:
    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    def record_check(
        self, server_id: int, checked_at: float, ok: bool, latency_ms: float | None, status: str, detail: str
    ) -> HealthCheck:
        with self._db.write("recording a heartbeat") as conn:
            cur = conn.execute(
                "INSERT INTO health_checks(server_id, checked_at, ok, latency_ms, status, detail) "
                "VALUES (?,?,?,?,?,?)",
                (server_id, checked_at, int(ok), latency_ms, status, detail),
            )
            return HealthCheck(int(cur.lastrowid or 0), server_id, checked_at, ok, latency_ms, status, detail)

    def checks(self, server_id: int, since: float, until: float | None = None) -> list[HealthCheck]:
        """Oldest first."""
        with self._db.read("reading heartbeats") as conn:
            rows = conn.execute(
                _CHECK + " WHERE server_id = ? AND checked_at >= ? AND (? IS NULL OR checked_at <= ?) "
                "ORDER BY checked_at, id",
                (server_id, since, until, until),
            ).fetchall()
        return [_check(r) for r in rows]

    def last_checks(self, server_id: int, n: int) -> list[HealthCheck]:
        """Newest first."""
        with self._db.read("reading heartbeats") as conn:
            rows = conn.execute(
                _CHECK + " WHERE server_id = ? ORDER BY checked_at DESC, id DESC LIMIT ?", (server_id, n)
            ).fetchall()
        return [_check(r) for r in rows]

    def uptime_counts(self, server_id: int, since: float) -> tuple[int, int]:
        """(successful checks, all checks) since ``since`` (index range scan on (server_id, checked_at))."""
        with self._db.read("computing uptime") as conn:
            ok, total = conn.execute(
                "SELECT COALESCE(SUM(ok), 0), COUNT(*) FROM health_checks WHERE server_id = ? AND checked_at >= ?",
                (server_id, since),
            ).fetchone()
        return int(ok), int(total)

    def open_incident(self, server_id: int) -> Incident | None:
        with self._db.read("reading incidents") as conn:
            row = conn.execute(
                _INCIDENT
                + " WHERE server_id = ? AND closed_at IS NULL ORDER BY opened_at DESC, id DESC LIMIT 1",
                (server_id,),
            ).fetchone()
        return None if row is None else _incident(row)

    def open(self, server_id: int, kind: str, opened_at: float, detail: str) -> Incident:
        with self._db.write("opening an incident") as conn:
            cur = conn.execute(
                "INSERT INTO incidents(server_id, kind, opened_at, detail) VALUES (?,?,?,?)",
                (server_id, kind, opened_at, detail),
            )
            return Incident(int(cur.lastrowid or 0), server_id, kind, opened_at, detail=detail)

    def close(self, incident_id: int, closed_at: float) -> Incident:
        with self._db.write("closing an incident") as conn:
            conn.execute(
                "UPDATE incidents SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                (closed_at, incident_id),
            )
            row = conn.execute(_INCIDENT + " WHERE id = ?", (incident_id,)).fetchone()
        if row is None:
            raise NotFoundError("That incident no longer exists.", remedy="Refresh the Health page.")
        return _incident(row)

    def acknowledge(self, incident_id: int, note: str, at: float) -> Incident:
        """Raises NotFoundError for an unknown id."""
        with self._db.write("acknowledging an incident") as conn:
            conn.execute(
                "UPDATE incidents SET acknowledged_at = ?, acknowledged_note = ? WHERE id = ?",
                (at, note, incident_id),
            )
            row = conn.execute(_INCIDENT + " WHERE id = ?", (incident_id,)).fetchone()
        if row is None:
            raise NotFoundError(
                f"There is no incident {incident_id}.", remedy="Run `zondarr health --json` to see incidents."
            )
        return _incident(row)

    def incidents(
        self, server_id: int | None = None, *, open_only: bool = False, limit: int = 100
    ) -> list[Incident]:
        """Newest first."""
        with self._db.read("listing incidents") as conn:
            rows = conn.execute(
                _INCIDENT + " WHERE (?1 IS NULL OR server_id = ?1) AND (?2 = 0 OR closed_at IS NULL) "
                "ORDER BY opened_at DESC, id DESC LIMIT ?3",
                (server_id, int(open_only), limit),
            ).fetchall()
        return [_incident(r) for r in rows]
