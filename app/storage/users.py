"""The user store (``core.ports.UserStore``): accounts as seen on each server."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from app.core.models import MergeCounts, RemoteUser, User
from app.storage.db import Database


def _fields(u: RemoteUser) -> tuple[object, ...]:
    keys = None if u.library_keys is None else json.dumps(list(u.library_keys))
    return (u.username, u.email, int(u.is_admin), int(u.is_disabled), keys, u.last_active_at, u.pending_since)


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
                    "SELECT remote_id, username, email, is_admin, is_disabled, library_keys, last_active_at, pending_since "
                    "FROM users "
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
                        "library_keys, last_active_at, pending_since, seen_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (server_id, u.remote_id, *fields, now),
                    )
                    added += 1
                elif cached[u.remote_id] != fields:
                    conn.execute(
                        "UPDATE users SET username = ?, email = ?, is_admin = ?, is_disabled = ?, library_keys = ?, "
                        "last_active_at = ?, pending_since = ?, seen_at = ? WHERE server_id = ? AND remote_id = ?",
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
                USER_SELECT + "WHERE (?1 IS NULL OR s.name = ?1) "
                "AND (?2 IS NULL OR u.username LIKE ?2 ESCAPE '\\' OR u.email LIKE ?2 ESCAPE '\\') "
                "ORDER BY s.name COLLATE NOCASE, s.name, u.username COLLATE NOCASE, u.id",
                (server, pattern),
            ).fetchall()
        return [user_row(tuple(r)) for r in rows]


# The cached account with its expiry (``account_expiry``): one SELECT shared by the user and account stores.
USER_SELECT = (
    "SELECT u.id, u.server_id, s.name, u.remote_id, u.username, u.email, u.is_admin, u.is_disabled, "
    "u.identity_id, u.seen_at, u.last_active_at, x.expires_at, u.pending_since FROM users u JOIN servers s ON s.id = u.server_id "
    "LEFT JOIN account_expiry x ON x.server_id = u.server_id AND x.remote_id = u.remote_id "
)


def user_row(r: tuple[object, ...]) -> User:
    return User(
        id=int(r[0]),  # type: ignore[call-overload]
        server_id=int(r[1]),  # type: ignore[call-overload]
        server=str(r[2]),
        remote_id=str(r[3]),
        username=str(r[4]),
        email=None if r[5] is None else str(r[5]),
        is_admin=bool(r[6]),
        is_disabled=bool(r[7]),
        identity_id=None if r[8] is None else int(r[8]),  # type: ignore[call-overload]
        seen_at=None if r[9] is None else float(r[9]),  # type: ignore[arg-type]
        last_active_at=None if r[10] is None else float(r[10]),  # type: ignore[arg-type]
        expires_at=None if r[11] is None else float(r[11]),  # type: ignore[arg-type]
        pending_since=None if r[12] is None else float(r[12]),  # type: ignore[arg-type]
    )
