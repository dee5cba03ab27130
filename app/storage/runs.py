"""Sync run history (``core.ports.SyncRunStore``) and settings (``core.ports.SettingsStore``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from app.core.errors import new_correlation_id
from app.core.models import SyncRun, SyncStage, SyncStatus
from app.storage.db import Database

_COLS = (
    "id, server_id, trigger, status, stage, started_at, finished_at, total, done, added, updated, removed, "
    "unchanged, failed_items, message, error, correlation_id, removed_server"
)
_SELECT = f"SELECT {_COLS} FROM sync_runs"  # noqa: S608 - fixed column list
ABANDONED_MESSAGE = (
    "Interrupted: Zondarr stopped before this sync finished. The cache kept its previous data."
)


def _run(r: Any) -> SyncRun:
    return SyncRun(
        id=r[0],
        server_id=r[1],
        trigger=r[2],
        status=SyncStatus(r[3]),
        stage=SyncStage(r[4]),
        started_at=r[5],
        finished_at=r[6],
        total=r[7],
        done=r[8],
        added=r[9],
        updated=r[10],
        removed=r[11],
        unchanged=r[12],
        failed_items=r[13],
        message=r[14],
        error=r[15],
        correlation_id=r[16],
        removed_server=r[17],
    )


class SqliteSyncRunStore:
    """Writes: db-writer thread, one transaction each. Reads: any thread. Raises only CacheError."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self._db = db
        self._clock = clock

    def start(self, server_id: int | None, trigger: str) -> SyncRun:
        """Records a new run: status running, stage connecting, a fresh correlation id."""
        run = SyncRun(
            id=0,
            server_id=server_id,
            trigger=trigger,
            status=SyncStatus.RUNNING,
            stage=SyncStage.CONNECTING,
            started_at=self._clock(),
            correlation_id=new_correlation_id(),
        )
        with self._db.write("recording a sync run") as conn:
            cur = conn.execute(
                "INSERT INTO sync_runs(server_id, trigger, status, stage, started_at, correlation_id) "
                "VALUES (?,?,?,?,?,?)",
                (server_id, trigger, str(run.status), str(run.stage), run.started_at, run.correlation_id),
            )
            run.id = int(cur.lastrowid or 0)
        return run

    def save(self, run: SyncRun) -> None:
        """Writes the run's current stage, counts, status, message and error. Counts are clamped to SQLite's
        64-bit INTEGER: a server announcing 10**23 tracks must not make recording that failure fail too."""
        with self._db.write("saving a sync run") as conn:
            conn.execute(
                "UPDATE sync_runs SET server_id = ?, trigger = ?, status = ?, stage = ?, started_at = ?, "
                "finished_at = ?, total = ?, done = ?, added = ?, updated = ?, removed = ?, unchanged = ?, "
                "failed_items = ?, message = ?, error = ?, correlation_id = ? WHERE id = ?",
                (
                    run.server_id, run.trigger, str(run.status), str(run.stage), run.started_at, run.finished_at,
                    _count(run.total), _count(run.done), _count(run.added), _count(run.updated),
                    _count(run.removed), _count(run.unchanged), _count(run.failed_items),
                    run.message, run.error, run.correlation_id, run.id,
                ),
            )  # fmt: skip

    def list(self, limit: int = 100) -> list[SyncRun]:
        """Newest first."""
        with self._db.read("listing sync runs") as conn:
            rows = conn.execute(_SELECT + " ORDER BY started_at DESC, id DESC LIMIT ?", (limit,)).fetchall()
        return [_run(r) for r in rows]

    def last_finished(self, server_id: int) -> SyncRun | None:
        """The newest run of the server that is no longer running (any outcome), or None."""
        with self._db.read("reading the last sync run") as conn:
            row = conn.execute(
                _SELECT
                + " WHERE server_id = ? AND status <> 'running' ORDER BY started_at DESC, id DESC LIMIT 1",
                (server_id,),
            ).fetchone()
        return None if row is None else _run(row)

    def abandon_running(self) -> int:
        """Marks runs left 'running' by a killed process as failed; returns how many."""
        with self._db.write("closing interrupted sync runs") as conn:
            return conn.execute(
                "UPDATE sync_runs SET status = 'failed', finished_at = ?, message = ? WHERE status = 'running'",
                (self._clock(), ABANDONED_MESSAGE),
            ).rowcount


class SqliteSettingsStore:
    """Key/value settings. ``save_raw`` (db-writer thread) upserts the given keys and leaves others alone."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def load_raw(self) -> dict[str, str]:
        with self._db.read("reading settings") as conn:
            return {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM settings")}

    def ensure(self, key: str, value: str) -> None:
        """Stores ``value`` under ``key`` unless the key has a value already (db-writer thread)."""
        with self._db.write("saving settings") as conn:
            conn.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING", (key, value)
            )

    def save_raw(self, values: Mapping[str, str]) -> None:
        with self._db.write("saving settings") as conn:
            conn.executemany(
                "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [(str(k), str(v)) for k, v in values.items()],
            )

    def remove_raw(self, keys: Sequence[str]) -> None:
        """Deletes the stored values of ``keys`` in one transaction (db-writer thread)."""
        with self._db.write("saving settings") as conn:
            conn.executemany("DELETE FROM settings WHERE key = ?", [(str(k),) for k in keys])


_INT64_MAX = 2**63 - 1


def _count(value: int) -> int:
    """A counter as SQLite can store it (0 .. 2**63-1)."""
    return min(max(int(value), 0), _INT64_MAX)
