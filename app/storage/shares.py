"""Remembered Plex shares (``core.ports.ShareMemory``): the libraries removed to disable an account on a server
that has no disabled state, so enabling restores exactly them. Writes: db-writer thread. Reads: any thread."""

from __future__ import annotations

import json

from app.core.models import RememberedShare
from app.storage.db import Database


def _share(r: tuple[object, ...]) -> RememberedShare:
    keys = None if r[3] is None else tuple(json.loads(str(r[3])))
    return RememberedShare(int(r[0]), str(r[1]), str(r[2]), keys, float(r[4]))  # type: ignore[call-overload,arg-type]


class SqliteShareMemory:
    def __init__(self, db: Database) -> None:
        self._db = db

    def remember(self, share: RememberedShare) -> None:
        keys = None if share.library_keys is None else json.dumps(list(share.library_keys))
        with self._db.write("remembering library shares") as conn:
            conn.execute(
                "INSERT INTO remembered_shares(server_id, remote_id, username, library_keys, removed_at) "
                "VALUES (?,?,?,?,?) ON CONFLICT(server_id, remote_id) DO UPDATE SET username = excluded.username, "
                "library_keys = excluded.library_keys, removed_at = excluded.removed_at",
                (share.server_id, share.remote_id, share.username, keys, share.removed_at),
            )

    def recall(self, server_id: int, remote_id: str) -> RememberedShare | None:
        with self._db.read("reading remembered shares") as conn:
            r = conn.execute(
                "SELECT server_id, remote_id, username, library_keys, removed_at FROM remembered_shares "
                "WHERE server_id = ? AND remote_id = ?",
                (server_id, remote_id),
            ).fetchone()
        return None if r is None else _share(tuple(r))

    def forget(self, server_id: int, remote_id: str) -> None:
        with self._db.write("forgetting remembered shares") as conn:
            conn.execute(
                "DELETE FROM remembered_shares WHERE server_id = ? AND remote_id = ?", (server_id, remote_id)
            )

    def remembered(self, server_id: int) -> list[RememberedShare]:
        with self._db.read("reading remembered shares") as conn:
            rows = conn.execute(
                "SELECT server_id, remote_id, username, library_keys, removed_at FROM remembered_shares "
                "WHERE server_id = ? ORDER BY remote_id",
                (server_id,),
            ).fetchall()
        return [_share(tuple(r)) for r in rows]
