"""Single cached accounts (``core.ports.AccountStore``) and the exclusion list (``core.ports.ExclusionStore``).

The users cache is refreshed as a whole by a sync (``users.py``); these methods change one row right after an
action on the server succeeded, so the views agree with the server before the next sync. Writes: db-writer thread.
Reads: any thread. Raises only CacheError.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from app.core.models import RemoteUser, User
from app.storage.db import Database
from app.storage.users import USER_SELECT, user_row

_USER = USER_SELECT
_user = user_row


class SqliteAccountStore:
    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    def find(self, server_id: int, name_or_id: str) -> User | None:
        """The account with this remote id, else the one with this username (case-insensitive), else None."""
        with self._db.read("reading a user") as conn:
            r = conn.execute(
                _USER + "WHERE u.server_id = ? AND u.remote_id = ?", (server_id, name_or_id)
            ).fetchone()
            if r is None:
                r = conn.execute(
                    _USER + "WHERE u.server_id = ? AND lower(u.username) = lower(?) ORDER BY u.id LIMIT 1",
                    (server_id, name_or_id),
                ).fetchone()
        return None if r is None else _user(tuple(r))

    def library_access(self, server_id: int) -> dict[str, tuple[str, ...] | None]:
        with self._db.read("reading library access") as conn:
            rows = conn.execute(
                "SELECT remote_id, library_keys FROM users WHERE server_id = ?", (server_id,)
            ).fetchall()
        return {r[0]: None if r[1] is None else tuple(json.loads(r[1])) for r in rows}

    def upsert(self, server_id: int, user: RemoteUser) -> User:
        keys = None if user.library_keys is None else json.dumps(list(user.library_keys))
        with self._db.write("saving a user") as conn:
            conn.execute(
                "INSERT INTO users(server_id, remote_id, username, email, is_admin, is_disabled, library_keys, "
                "seen_at, last_active_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(server_id, remote_id) DO UPDATE SET "
                "username = excluded.username, email = excluded.email, is_admin = excluded.is_admin, "
                "is_disabled = excluded.is_disabled, library_keys = excluded.library_keys, "
                "last_active_at = COALESCE(excluded.last_active_at, users.last_active_at)",
                (
                    server_id, user.remote_id, user.username, user.email, int(user.is_admin),
                    int(user.is_disabled), keys, self._clock(), user.last_active_at,
                ),
            )  # fmt: skip
            r = conn.execute(_USER + "WHERE u.server_id = ? AND u.remote_id = ?", (server_id, user.remote_id))
            return _user(tuple(r.fetchone()))

    def set_disabled(self, server_id: int, remote_id: str, disabled: bool) -> None:
        with self._db.write("saving a user") as conn:
            conn.execute(
                "UPDATE users SET is_disabled = ? WHERE server_id = ? AND remote_id = ?",
                (int(disabled), server_id, remote_id),
            )

    def set_library_access(
        self, server_id: int, remote_id: str, library_keys: tuple[str, ...] | None
    ) -> None:
        keys = None if library_keys is None else json.dumps(list(library_keys))
        with self._db.write("saving a user") as conn:
            conn.execute(
                "UPDATE users SET library_keys = ? WHERE server_id = ? AND remote_id = ?",
                (keys, server_id, remote_id),
            )

    def remove(self, server_id: int, remote_id: str) -> None:
        with self._db.write("removing a user") as conn:
            conn.execute("DELETE FROM users WHERE server_id = ? AND remote_id = ?", (server_id, remote_id))


class SqliteExclusionStore:
    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    def add(self, server_id: int, remote_id: str, reason: str) -> None:
        with self._db.write("excluding a user") as conn:
            conn.execute(
                "INSERT INTO user_exclusions(server_id, remote_id, reason, created_at) VALUES (?,?,?,?) "
                "ON CONFLICT(server_id, remote_id) DO UPDATE SET reason = excluded.reason",
                (server_id, remote_id, reason, self._clock()),
            )

    def remove(self, server_id: int, remote_id: str) -> None:
        with self._db.write("removing an exclusion") as conn:
            conn.execute(
                "DELETE FROM user_exclusions WHERE server_id = ? AND remote_id = ?", (server_id, remote_id)
            )

    def excluded(self, server_id: int) -> set[str]:
        with self._db.read("reading exclusions") as conn:
            rows = conn.execute("SELECT remote_id FROM user_exclusions WHERE server_id = ?", (server_id,))
            return {r[0] for r in rows}
