"""The server store (``core.ports.ServerStore``). No secret is ever stored here (see ``secrets``)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

from app.core.errors import CacheError, NotFoundError, ValidationError
from app.core.models import AuthMethod, ConnectResult, NewServer, Server, ServerIdentity, ServerKind
from app.storage.db import Database

_COLS = (
    "id, name, kind, url, auth_method, enabled, status, machine_id, remote_user_id, version, created_at, "
    "last_synced_at, last_verified_at"
)
_SELECT = f"SELECT {_COLS} FROM servers"  # noqa: S608 - fixed column list


def _server(row: Any) -> Server:
    return Server(
        id=row[0],
        name=row[1],
        kind=ServerKind(row[2]),
        url=row[3],
        auth_method=AuthMethod(row[4]),
        enabled=bool(row[5]),
        status=row[6],
        machine_id=row[7],
        remote_user_id=row[8],
        version=row[9],
        created_at=row[10],
        last_synced_at=row[11],
        last_verified_at=row[12],
    )


@contextlib.contextmanager
def _unique_name(name: str) -> Iterator[None]:
    """Turns the cache's refusal of a second server called ``name`` into a ValidationError for the admin."""
    try:
        yield
    except CacheError as exc:
        if isinstance(exc.__cause__, sqlite3.IntegrityError):
            raise ValidationError(
                f"A server named {name!r} already exists.",
                remedy="Choose another name, or remove the existing server first.",
            ) from None
        raise


class SqliteServerStore:
    """Configured servers. Writes: db-writer thread, one transaction each. Reads: any thread.
    Raises CacheError for cache failures, plus the errors named per method."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    def add(self, new: NewServer, result: ConnectResult) -> Server:
        """Stores a verified server. Raises ValidationError when the name is taken."""
        now = self._clock()
        with _unique_name(new.name), self._db.write("adding a server") as conn:
            cur = conn.execute(
                "INSERT INTO servers(name, kind, url, auth_method, enabled, status, machine_id, remote_user_id, "
                "version, created_at, last_verified_at) VALUES (?,?,?,?,1,'verified',?,?,?,?,?)",
                (
                    new.name,
                    str(new.kind),
                    new.url,
                    str(new.auth_method),
                    result.identity.machine_id,
                    result.remote_user_id,
                    result.identity.version,
                    now,
                    now,
                ),
            )
            server_id = int(cur.lastrowid or 0)
        return self.get(server_id)

    def list(self) -> list[Server]:
        with self._db.read("listing servers") as conn:
            rows = conn.execute(_SELECT + " ORDER BY name COLLATE NOCASE, name").fetchall()
        return [_server(r) for r in rows]

    def get_by_name(self, name: str) -> Server:
        """Raises NotFoundError naming the server."""
        with self._db.read("reading a server") as conn:
            row = conn.execute(_SELECT + " WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFoundError(
                f"No server named {name}.", remedy="Run `zondarr server list` to see the configured servers."
            )
        return _server(row)

    def get(self, server_id: int) -> Server:
        """Raises NotFoundError when no server has this id."""
        with self._db.read("reading a server") as conn:
            row = conn.execute(_SELECT + " WHERE id = ?", (server_id,)).fetchone()
        if row is None:
            raise NotFoundError(
                "That server no longer exists.",
                remedy="Run `zondarr server list` to see the configured servers.",
            )
        return _server(row)

    def remove(self, server_id: int) -> None:
        """Deletes the server and its cached rows (libraries, albums, tracks, users, staged rows)."""
        with self._db.write("removing a server") as conn:
            conn.execute("DELETE FROM stage_tracks WHERE server_id = ?", (server_id,))
            conn.execute("DELETE FROM stage_albums WHERE server_id = ?", (server_id,))
            # Deleting tracks first keeps the cascade simple: each track row fires its FTS trigger once.
            conn.execute("DELETE FROM tracks WHERE server_id = ?", (server_id,))
            conn.execute("DELETE FROM servers WHERE id = ?", (server_id,))

    def set_identity(self, server_id: int, identity: ServerIdentity) -> None:
        with self._db.write("saving a server's identity") as conn:
            conn.execute(
                "UPDATE servers SET machine_id = ?, version = ?, last_verified_at = ? WHERE id = ?",
                (identity.machine_id, identity.version, self._clock(), server_id),
            )

    def mark_synced(self, server_id: int, when: float) -> None:
        with self._db.write("marking a server synced") as conn:
            conn.execute("UPDATE servers SET last_synced_at = ? WHERE id = ?", (when, server_id))

    def set_url(self, server_id: int, url: str) -> Server:
        """Stores a new base URL (already normalised and tested by the caller) in one transaction and returns the
        server. Only the URL changes: ``machine_id`` stays the identity of the cached rows, so the next sync still
        sees an identity change and replaces them. Raises NotFoundError when no server has this id."""
        with self._db.write("changing a server's address") as conn:
            changed = conn.execute("UPDATE servers SET url = ? WHERE id = ?", (url, server_id)).rowcount
        if not changed:
            raise NotFoundError(
                "That server no longer exists.",
                remedy="Run `zondarr server list` to see the configured servers.",
            )
        return self.get(server_id)

    # -- connection profiles: draft until a Test connection succeeds (only verified servers are synced) -------

    def add_draft(self, new: NewServer) -> Server:
        """Stores an untested server (status ``draft``, disabled: it cannot be synced until verified).
        Raises ValidationError when the name is taken."""
        with _unique_name(new.name), self._db.write("adding a draft server") as conn:
            cur = conn.execute(
                "INSERT INTO servers(name, kind, url, auth_method, enabled, status, created_at) "
                "VALUES (?,?,?,?,0,'draft',?)",
                (new.name, str(new.kind), new.url, str(new.auth_method), self._clock()),
            )
            server_id = int(cur.lastrowid or 0)
        return self.get(server_id)

    def mark_verified(self, server_id: int, identity: ServerIdentity, when: float) -> Server:
        """A Test connection succeeded: status ``verified``, ``last_verified_at``, identity and version."""
        with self._db.write("marking a server verified") as conn:
            conn.execute(
                "UPDATE servers SET status = 'verified', last_verified_at = ?, version = ?, "
                "machine_id = COALESCE(machine_id, ?) WHERE id = ?",
                (when, identity.version, identity.machine_id, server_id),
            )
        return self.get(server_id)

    def set_status(self, server_id: int, status: str) -> None:
        """``draft`` or ``verified`` (a draft is also disabled). Raises ValidationError for another value."""
        if status not in ("draft", "verified"):
            raise ValidationError(f"Unknown server status {status!r}.", remedy="Use draft or verified.")
        with self._db.write("changing a server's status") as conn:
            conn.execute(
                "UPDATE servers SET status = ?, enabled = CASE WHEN ? = 'draft' THEN 0 ELSE enabled END "
                "WHERE id = ?",
                (status, status, server_id),
            )

    def set_enabled(self, server_id: int, enabled: bool) -> None:
        """Activates or deactivates a server. Raises ValidationError when activating a draft."""
        with self._db.write("activating a server") as conn:
            row = conn.execute("SELECT status FROM servers WHERE id = ?", (server_id,)).fetchone()
            if row is None:
                raise NotFoundError(
                    "That server no longer exists.",
                    remedy="Run `zondarr server list` to see the configured servers.",
                )
            if enabled and row[0] != "verified":
                raise ValidationError(
                    "Only a verified server can be activated.",
                    remedy="Run Test connection on it first; it is activated once the test succeeds.",
                )
            conn.execute("UPDATE servers SET enabled = ? WHERE id = ?", (int(enabled), server_id))
