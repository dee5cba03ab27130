"""The identity store (``core.ports.IdentityStore``): people, and which accounts (server, remote id) are theirs.

Links live in ``identity_links`` (primary data) and are mirrored into ``users.identity_id`` for the views; a
trigger (schema v5) re-applies a link when a sync inserts the account row again. Writes: db-writer thread, one
transaction each. Reads: any thread. Raises only CacheError.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from app.core.models import AccountRef, Identity
from app.storage.db import Database


class SqliteIdentityStore:
    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    def create(self, display_name: str, email: str | None, note: str = "") -> Identity:
        now = self._clock()
        with self._db.write("saving an identity") as conn:
            cur = conn.execute(
                "INSERT INTO identities(display_name, email, note, created_at) VALUES (?, ?, ?, ?)",
                (display_name, email, note, now),
            )
            return Identity(int(cur.lastrowid or 0), display_name, email, note, now)

    def get(self, identity_id: int) -> Identity | None:
        with self._db.read("reading an identity") as conn:
            r = conn.execute(
                "SELECT id, display_name, email, note, created_at FROM identities WHERE id = ?",
                (identity_id,),
            ).fetchone()
        return None if r is None else Identity(r[0], r[1], r[2], r[3], r[4])

    def list(self) -> list[Identity]:
        """Ordered by display name."""
        with self._db.read("listing identities") as conn:
            rows = conn.execute(
                "SELECT id, display_name, email, note, created_at FROM identities "
                "ORDER BY display_name COLLATE NOCASE, id"
            ).fetchall()
        return [Identity(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def delete(self, identity_id: int) -> None:
        """Deletes the person record; links go with it and cached rows fall back to unlinked."""
        with self._db.write("deleting an identity") as conn:
            conn.execute("DELETE FROM identities WHERE id = ?", (identity_id,))

    def link(self, identity_id: int, accounts: Sequence[AccountRef]) -> None:
        now = self._clock()
        with self._db.write("linking accounts") as conn:
            for a in accounts:
                conn.execute(
                    "INSERT INTO identity_links(server_id, remote_id, identity_id, linked_at) VALUES (?,?,?,?) "
                    "ON CONFLICT(server_id, remote_id) DO UPDATE SET identity_id = excluded.identity_id, "
                    "linked_at = excluded.linked_at",
                    (a.server_id, a.remote_id, identity_id, now),
                )
                conn.execute(
                    "UPDATE users SET identity_id = ? WHERE server_id = ? AND remote_id = ?",
                    (identity_id, a.server_id, a.remote_id),
                )

    def unlink(self, accounts: Sequence[AccountRef]) -> None:
        with self._db.write("unlinking accounts") as conn:
            for a in accounts:
                conn.execute(
                    "DELETE FROM identity_links WHERE server_id = ? AND remote_id = ?",
                    (a.server_id, a.remote_id),
                )
                conn.execute(
                    "UPDATE users SET identity_id = NULL WHERE server_id = ? AND remote_id = ?",
                    (a.server_id, a.remote_id),
                )

    def accounts(self, identity_id: int | None = None) -> dict[AccountRef, int]:
        with self._db.read("reading identity links") as conn:
            rows = conn.execute(
                "SELECT server_id, remote_id, identity_id FROM identity_links WHERE ?1 IS NULL OR identity_id = ?1 "
                "ORDER BY server_id, remote_id",
                (identity_id,),
            ).fetchall()
        return {AccountRef(r[0], r[1]): r[2] for r in rows}
