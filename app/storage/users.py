"""The user store (``core.ports.UserStore``): accounts as seen on each server."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from app.core.models import MergeCounts, RemoteUser, User
from app.storage.db import Database


def _fields(u: RemoteUser) -> tuple[object, ...]:
    keys = None if u.library_keys is None else json.dumps(list(u.library_keys))
    return (u.username, u.email, int(u.is_admin), int(u.is_disabled), keys)


class SqliteUserStore:
    """Writes: db-writer thread, one transaction each. Reads: any thread. Raises only CacheError."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    def replace_server_users(self, server_id: int, users: Sequence[RemoteUser]) -> MergeCounts:
        """Makes the server's cached accounts equal ``users``: upserts by remote id (``seen_at`` is refreshed for
        every listed account; other columns are written only when they changed) and deletes accounts no longer
        listed, EXCEPT when ``users`` is empty while accounts were cached: then nothing is deleted (``removed``
        is 0) and the caller decides what to tell the admin."""
        now = self._clock()
        with self._db.write("saving a server's users") as conn:
            cached = {
                r[0]: tuple(r[1:])
                for r in conn.execute(
                    "SELECT remote_id, username, email, is_admin, is_disabled, library_keys FROM users "
                    "WHERE server_id = ?",
                    (server_id,),
                )
            }
            added = updated = unchanged = 0
            listed: set[str] = set()
            for u in users:
                if u.remote_id in listed:
                    continue
                listed.add(u.remote_id)
                fields = _fields(u)
                if u.remote_id not in cached:
                    conn.execute(
                        "INSERT INTO users(server_id, remote_id, username, email, is_admin, is_disabled, "
                        "library_keys, seen_at) VALUES (?,?,?,?,?,?,?,?)",
                        (server_id, u.remote_id, *fields, now),
                    )
                    added += 1
                elif cached[u.remote_id] != fields:
                    conn.execute(
                        "UPDATE users SET username = ?, email = ?, is_admin = ?, is_disabled = ?, library_keys = ?, "
                        "seen_at = ? WHERE server_id = ? AND remote_id = ?",
                        (*fields, now, server_id, u.remote_id),
                    )
                    updated += 1
                else:
                    conn.execute(
                        "UPDATE users SET seen_at = ? WHERE server_id = ? AND remote_id = ?",
                        (now, server_id, u.remote_id),
                    )
                    unchanged += 1
            removed = 0
            if listed:  # an empty answer never wipes known accounts
                gone = [rid for rid in cached if rid not in listed]
                conn.executemany(
                    "DELETE FROM users WHERE server_id = ? AND remote_id = ?",
                    [(server_id, rid) for rid in gone],
                )
                removed = len(gone)
        return MergeCounts(added=added, updated=updated, removed=removed, unchanged=unchanged)

    def list(self, server: str | None = None, search: str | None = None) -> list[User]:
        """Accounts, optionally of one server (by exact name) and/or whose username or email contains ``search``
        (case-insensitive for ASCII letters). Ordered by server name, then username."""
        pattern = None
        if search:
            escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
        with self._db.read("listing users") as conn:
            rows = conn.execute(
                "SELECT u.id, u.server_id, s.name, u.remote_id, u.username, u.email, u.is_admin, u.is_disabled, "
                "u.identity_id, u.seen_at FROM users u JOIN servers s ON s.id = u.server_id "
                "WHERE (?1 IS NULL OR s.name = ?1) "
                "AND (?2 IS NULL OR u.username LIKE ?2 ESCAPE '\\' OR u.email LIKE ?2 ESCAPE '\\') "
                "ORDER BY s.name COLLATE NOCASE, s.name, u.username COLLATE NOCASE, u.id",
                (server, pattern),
            ).fetchall()
        return [
            User(
                id=r[0],
                server_id=r[1],
                server=r[2],
                remote_id=r[3],
                username=r[4],
                email=r[5],
                is_admin=bool(r[6]),
                is_disabled=bool(r[7]),
                identity_id=r[8],
                seen_at=r[9],
            )
            for r in rows
        ]
