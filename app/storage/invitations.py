"""The invitation store (``core.ports.InvitationStore``): invitations, their target servers and libraries, and
redemptions. Primary data: never dropped to rebuild the cache.

Writes run on the db-writer thread, one transaction each; reads on any thread. Raises only CacheError (and
ValidationError for a duplicate code). Uses are counted with one conditional UPDATE, so two redemptions racing
for the last use (in threads or processes) can never both win.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from app.core.errors import ValidationError
from app.core.models import Invitation, InvitationTarget, NewInvitation, Redemption, Restrictions
from app.storage.db import Database

_INV = "id, code, enabled, created_at, expires_at, max_uses, use_count, duration_days, note, restrictions"
_RED = "id, invitation_id, server_id, username, email, redeemed_at, expires_at, status, error, remote_id"


def _restrictions(raw: object) -> Restrictions:
    try:
        return Restrictions.from_json(json.loads(raw) if isinstance(raw, str) else None)
    except ValueError:
        return Restrictions()


def _redemption(r: Any) -> Redemption:
    return Redemption(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9])


class SqliteInvitationStore:
    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    # -- invitations ---------------------------------------------------------------------------------------

    def create(self, new: NewInvitation) -> Invitation:
        """Stores the invitation with its targets. Raises ValidationError when the code is taken."""
        now = self._clock()
        with self._db.write("saving an invitation") as conn:
            try:
                cur = conn.execute(
                    "INSERT INTO invitations(code, enabled, created_at, expires_at, max_uses, duration_days, note, "
                    "restrictions) VALUES (?, 1, ?, ?, ?, ?, ?, ?)",
                    (
                        new.code,
                        now,
                        new.expires_at,
                        new.max_uses,
                        new.duration_days,
                        new.note,
                        None if new.restrictions.empty else json.dumps(new.restrictions.to_json()),
                    ),
                )
            except sqlite3.IntegrityError:
                raise ValidationError(
                    f"An invitation with the code {new.code} exists already.", remedy="Create it again."
                ) from None
            inv_id = int(cur.lastrowid or 0)
            for t in new.targets:
                conn.execute(
                    "INSERT OR IGNORE INTO invitation_servers(invitation_id, server_id) VALUES (?, ?)",
                    (inv_id, t.server_id),
                )
                conn.executemany(
                    "INSERT OR IGNORE INTO invitation_libraries(invitation_id, server_id, library_key) "
                    "VALUES (?, ?, ?)",
                    [(inv_id, t.server_id, k) for k in t.library_keys],
                )
            return self._load(conn, "WHERE i.id = ?", (inv_id,))[0]

    def _load(self, conn: sqlite3.Connection, where: str, args: tuple[object, ...]) -> list[Invitation]:
        rows = conn.execute(
            f"SELECT {_INV} FROM invitations i {where} ORDER BY created_at DESC, id DESC",  # noqa: S608
            args,
        ).fetchall()
        if not rows:
            return []
        ids = [r[0] for r in rows]
        marks = ",".join("?" * len(ids))
        targets: dict[int, dict[int, tuple[str, list[str]]]] = {i: {} for i in ids}
        for inv_id, server_id, name in conn.execute(
            "SELECT x.invitation_id, x.server_id, s.name FROM invitation_servers x "  # noqa: S608
            f"JOIN servers s ON s.id = x.server_id WHERE x.invitation_id IN ({marks}) ORDER BY s.name",
            ids,
        ):
            targets[inv_id][server_id] = (name, [])
        for inv_id, server_id, key in conn.execute(
            "SELECT invitation_id, server_id, library_key FROM invitation_libraries "  # noqa: S608
            f"WHERE invitation_id IN ({marks}) ORDER BY library_key",
            ids,
        ):
            if server_id in targets[inv_id]:
                targets[inv_id][server_id][1].append(key)
        removed: dict[int, list[str]] = {i: [] for i in ids}
        for inv_id, name in conn.execute(
            "SELECT invitation_id, server_name FROM invitation_removed_servers "  # noqa: S608
            f"WHERE invitation_id IN ({marks}) ORDER BY server_name",
            ids,
        ):
            removed[inv_id].append(name)
        return [
            Invitation(
                id=r[0],
                code=r[1],
                enabled=bool(r[2]),
                created_at=r[3],
                expires_at=r[4],
                max_uses=r[5],
                use_count=r[6],
                duration_days=r[7],
                note=r[8],
                targets=tuple(
                    InvitationTarget(sid, name, tuple(keys)) for sid, (name, keys) in targets[r[0]].items()
                ),
                restrictions=_restrictions(r[9]),
                removed_servers=tuple(removed[r[0]]),
            )
            for r in rows
        ]

    def get_by_code(self, code: str) -> Invitation | None:
        with self._db.read("reading an invitation") as conn:
            found = self._load(conn, "WHERE i.code = ?", (code,))
        return found[0] if found else None

    def get(self, invitation_id: int) -> Invitation | None:
        with self._db.read("reading an invitation") as conn:
            found = self._load(conn, "WHERE i.id = ?", (invitation_id,))
        return found[0] if found else None

    def set_enabled(self, invitation_id: int, enabled: bool) -> bool:
        """True when a row changed."""
        with self._db.write("changing an invitation") as conn:
            cur = conn.execute(
                "UPDATE invitations SET enabled = ? WHERE id = ? AND enabled <> ?",
                (int(enabled), invitation_id, int(enabled)),
            )
            return cur.rowcount == 1

    def delete(self, invitation_id: int) -> bool:
        """Deletes the invitation, its targets and its redemption history."""
        with self._db.write("deleting an invitation") as conn:
            return conn.execute("DELETE FROM invitations WHERE id = ?", (invitation_id,)).rowcount == 1

    def claim_use(self, invitation_id: int, now: float) -> bool:
        """Counts one use, atomically, when the invitation is enabled, not expired at ``now`` and not used up.
        False when another redemption took the last use (or the invitation changed) in the meantime."""
        with self._db.write("counting an invitation use") as conn:
            cur = conn.execute(
                "UPDATE invitations SET use_count = use_count + 1 WHERE id = ? AND enabled = 1 "
                "AND (expires_at IS NULL OR expires_at > ?) AND (max_uses IS NULL OR use_count < max_uses)",
                (invitation_id, now),
            )
            return cur.rowcount == 1

    def release_use(self, invitation_id: int) -> None:
        with self._db.write("giving back an invitation use") as conn:
            conn.execute(
                "UPDATE invitations SET use_count = use_count - 1 WHERE id = ? AND use_count > 0",
                (invitation_id,),
            )

    def expired_enabled(self, now: float) -> list[Invitation]:
        """Enabled invitations whose expiry is at or before ``now``."""
        with self._db.read("finding expired invitations") as conn:
            return self._load(
                conn, "WHERE i.enabled = 1 AND i.expires_at IS NOT NULL AND i.expires_at <= ?", (now,)
            )

    # -- redemptions ---------------------------------------------------------------------------------------

    def add_redemption(
        self,
        invitation_id: int,
        server_id: int,
        username: str,
        email: str | None,
        remote_id: str | None,
        expires_at: float | None,
        status: str,
        error: str | None = None,
    ) -> Redemption:
        now = self._clock()
        with self._db.write("recording a redemption") as conn:
            cur = conn.execute(
                "INSERT INTO redemptions(invitation_id, server_id, username, email, redeemed_at, expires_at, "
                "status, error, remote_id) VALUES (?,?,?,?,?,?,?,?,?)",
                (invitation_id, server_id, username, email, now, expires_at, status, error, remote_id),
            )
            rid = int(cur.lastrowid or 0)
        return Redemption(
            rid, invitation_id, server_id, username, email, now, expires_at, status, error, remote_id
        )

    def redemptions(self, invitation_id: int | None = None) -> list[Redemption]:
        """Oldest first."""
        with self._db.read("listing redemptions") as conn:
            rows = conn.execute(
                f"SELECT {_RED} FROM redemptions WHERE ?1 IS NULL OR invitation_id = ?1 "  # noqa: S608
                "ORDER BY redeemed_at, id",
                (invitation_id,),
            ).fetchall()
        return [_redemption(r) for r in rows]

    def due_account_expiries(self, now: float) -> list[Redemption]:
        with self._db.read("finding expired accounts") as conn:
            rows = conn.execute(
                f"SELECT {_RED} FROM redemptions WHERE status = 'ok' AND expires_at IS NOT NULL "  # noqa: S608
                "AND expires_at <= ? AND server_id IS NOT NULL AND remote_id IS NOT NULL ORDER BY expires_at, id",
                (now,),
            ).fetchall()
        return [_redemption(r) for r in rows]

    def set_redemption_status(self, redemption_id: int, status: str, error: str | None = None) -> None:
        with self._db.write("updating a redemption") as conn:
            conn.execute(
                "UPDATE redemptions SET status = ?, error = ? WHERE id = ?", (status, error, redemption_id)
            )

    def list(self) -> list[Invitation]:
        """Newest first."""
        with self._db.read("listing invitations") as conn:
            return self._load(conn, "", ())
