"""Account expiry and sent reminders (``core.ports.ExpiryStore``): primary data, never dropped to rebuild the cache.

Writes run on the db-writer thread, one transaction per call (a batch of accounts is one transaction). Reads on
any thread. Raises only CacheError.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from app.core.models import AccountExpiry, AccountRef
from app.storage.db import Database

_COLS = "server_id, remote_id, expires_at, disabled_at"


def _expiry(r: tuple[object, ...]) -> AccountExpiry:
    return AccountExpiry(int(r[0]), str(r[1]), float(r[2]), None if r[3] is None else float(r[3]))  # type: ignore[call-overload,arg-type]


class SqliteExpiryStore:
    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    def set_expiry(self, changes: Sequence[tuple[AccountRef, float | None]]) -> None:
        """Sets (or with None clears) each account's expiry in ONE transaction. A new date re-arms the account:
        ``disabled_at`` is cleared, so the expiry task acts on the new date."""
        now = self._clock()
        with self._db.write("saving account expiry") as conn:
            for ref, when in changes:
                if when is None:
                    conn.execute(
                        "DELETE FROM account_expiry WHERE server_id = ? AND remote_id = ?",
                        (ref.server_id, ref.remote_id),
                    )
                else:
                    conn.execute(
                        "INSERT INTO account_expiry(server_id, remote_id, expires_at, disabled_at, set_at) "
                        "VALUES (?, ?, ?, NULL, ?) ON CONFLICT(server_id, remote_id) DO UPDATE SET "
                        "expires_at = excluded.expires_at, disabled_at = NULL, set_at = excluded.set_at",
                        (ref.server_id, ref.remote_id, when, now),
                    )

    def expiries(self, server_id: int | None = None) -> dict[AccountRef, AccountExpiry]:
        with self._db.read("reading account expiry") as conn:
            rows = conn.execute(
                f"SELECT {_COLS} FROM account_expiry WHERE ?1 IS NULL OR server_id = ?1",  # noqa: S608
                (server_id,),
            ).fetchall()
        return {AccountRef(r[0], r[1]): _expiry(tuple(r)) for r in rows}

    def due(self, now: float) -> list[AccountExpiry]:
        """Accounts whose expiry is at or before ``now`` and that the expiry task has not disabled yet."""
        with self._db.read("finding expired accounts") as conn:
            rows = conn.execute(
                f"SELECT {_COLS} FROM account_expiry WHERE expires_at <= ? AND disabled_at IS NULL "  # noqa: S608
                "ORDER BY expires_at, server_id, remote_id",
                (now,),
            ).fetchall()
        return [_expiry(tuple(r)) for r in rows]

    def disabled_before(self, when: float) -> list[AccountExpiry]:
        """Accounts the expiry task disabled at or before ``when`` (candidates for deletion)."""
        with self._db.read("finding expired accounts") as conn:
            rows = conn.execute(
                f"SELECT {_COLS} FROM account_expiry WHERE disabled_at IS NOT NULL AND disabled_at <= ? "  # noqa: S608
                "ORDER BY disabled_at, server_id, remote_id",
                (when,),
            ).fetchall()
        return [_expiry(tuple(r)) for r in rows]

    def mark_disabled(self, ref: AccountRef, when: float) -> None:
        with self._db.write("saving account expiry") as conn:
            conn.execute(
                "UPDATE account_expiry SET disabled_at = ? WHERE server_id = ? AND remote_id = ?",
                (when, ref.server_id, ref.remote_id),
            )

    def forget(self, ref: AccountRef) -> None:
        """After the account was deleted: its expiry and reminder rows go."""
        with self._db.write("removing account expiry") as conn:
            conn.execute(
                "DELETE FROM account_expiry WHERE server_id = ? AND remote_id = ?",
                (ref.server_id, ref.remote_id),
            )
            conn.execute(
                "DELETE FROM reminders_sent WHERE server_id = ? AND remote_id = ?",
                (ref.server_id, ref.remote_id),
            )

    # -- reminders ----------------------------------------------------------------------------------------

    def reminders_sent(self) -> set[tuple[AccountRef, float, int]]:
        """(account, expiry date, threshold days) of every reminder already sent."""
        with self._db.read("reading sent reminders") as conn:
            rows = conn.execute(
                "SELECT server_id, remote_id, expires_at, days FROM reminders_sent"
            ).fetchall()
        return {(AccountRef(r[0], r[1]), float(r[2]), int(r[3])) for r in rows}

    def record_reminder(self, ref: AccountRef, expires_at: float, days: int, mailed: bool) -> bool:
        """Records one reminder; False when it was recorded already (then nothing changes)."""
        with self._db.write("recording a reminder") as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO reminders_sent(server_id, remote_id, expires_at, days, sent_at, mailed) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (ref.server_id, ref.remote_id, expires_at, days, self._clock(), int(mailed)),
            )
            return cur.rowcount == 1
